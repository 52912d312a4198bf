/*
 * The two forms of a probe result: the text summary `sigstep run` prints
 * and the JSON records of --json (one array of runs).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "code_lines.h"
#include "json.h"
#include "probe.h"
#include "report.h"

static void print_stack(FILE *out, const char *label, int n, const uint64_t *pcs,
			const char (*sym)[PROBE_SYM_MAX])
{
	fprintf(out, "      %-9s", label);
	if (!n)
		fputs(" (no frames)", out);
	for (int i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? " <- " : " ", sym[i][0] ? sym[i] : "?");
	fputc('\n', out);
	(void)pcs;
}

void probe_print_summary(FILE *out, const struct probe_result *res)
{
	if (!strcmp(res->subject, "go"))
		fprintf(out, "sigstep go: arch=%s program=%s go=%s function=%s vdso=%s", res->arch, res->variant,
			res->go_version, res->function, res->vdso ? "present" : "absent");
	else
		fprintf(out, "sigstep run: arch=%s variant=%s function=%s context=%s sigprof=%s vdso=%s",
			res->arch, res->variant, res->function, res->context, res->era_name,
			res->vdso ? "present" : "absent");
	if (res->vdso && res->vdso_base)
		fprintf(out, " vdso_base=0x%" PRIx64, res->vdso_base);
	fputc('\n', out);
	fprintf(out, "boundaries %" PRIu64 "\n", res->boundaries);
	if (res->inject[0] && strcmp(res->inject, "every"))
		fprintf(out, "inject     %s: %" PRIu64 " samples judged\n", res->inject, res->probed);
	fputs("verdicts  ", out);
	for (int v = 0; v < VERDICT_COUNT; v++)
		fprintf(out, " %s %" PRIu64, verdict_name((enum verdict)v), res->verdicts[v]);
	fputc('\n', out);
	fprintf(out, "invariants %s%s\n", res->invariants_ok ? "ok" : "FAIL: ", res->invariants);
	for (size_t i = 0; i < res->nviolations; i++) {
		const struct violation *v = &res->violations[i];
		char where[160] = "";
		if (v->line)
			snprintf(where, sizeof where, " %s:%u", v->file, v->line);
		if (v->nested_at > 0)
			fprintf(out, "  %s at %s (0x%" PRIx64 ")%s  %s  [after %s at boundary %d]\n",
				verdict_name(v->verdict), v->symbol, v->pc, where, v->insn[0] ? v->insn : "?",
				strcmp(res->inject, "schedule") ? "a nested clock read" : "the kept signal",
				v->nested_at - 1);
		else
			fprintf(out, "  %s at %s (0x%" PRIx64 ")%s  %s\n", verdict_name(v->verdict), v->symbol, v->pc,
				where, v->insn[0] ? v->insn : "?");
		print_stack(out, "expected", v->nexpected, v->expected, v->expected_sym);
		if (v->verdict != VERDICT_FAULT && v->verdict != VERDICT_HANG)
			print_stack(out, "got", v->ngot, v->got, v->got_sym);
		if (v->detail[0])
			fprintf(out, "      %s\n", v->detail);
	}
	/* timing on stderr: the report itself is the same for the same inputs */
	fflush(out);
	fprintf(stderr, "speed      %.0f boundaries/s (%.6f s)", res->boundaries_per_s, res->elapsed_s);
	if (res->cpu_s > 0)	/* the Unicorn engine's window; a native engine's is other processes' CPU */
		fprintf(stderr, "; %.0f per CPU second (%.6f s of CPU)", res->boundaries / res->cpu_s, res->cpu_s);
	fputc('\n', stderr);
	if (res->boot_insns)
		fprintf(stderr, "boot       %" PRIu64 " instructions to the call (%.3f s)\n", res->boot_insns, res->boot_s);
	fprintf(out, "result %s\n", res->pass ? "pass" : "FAIL");
}

/* Files whose lines report_lines_keep loaded: kept until
 * report_lines_forget (in forks too). */
static struct kept_lines {
	char path[4096];
	struct code_lines lines;
} kept[2];

void report_lines_keep(const char *image, const char *vdso)
{
	const char *paths[2] = { image, vdso };
	for (int i = 0; i < 2; i++)
		if (paths[i] && !kept[i].path[0] && strlen(paths[i]) < sizeof kept[i].path) {
			code_lines_load(paths[i], &kept[i].lines);
			snprintf(kept[i].path, sizeof kept[i].path, "%s", paths[i]);
		}
}

void report_lines_forget(void)
{
	for (int i = 0; i < 2; i++)
		if (kept[i].path[0]) {
			code_lines_free(&kept[i].lines);
			memset(&kept[i], 0, sizeof kept[i]);
		}
}

/* The lines of path: kept ones, or loaded into *own (free it after). */
static const struct code_lines *lines_of(const char *path, struct code_lines *own)
{
	for (int i = 0; i < 2; i++)
		if (kept[i].path[0] && !strcmp(kept[i].path, path))
			return &kept[i].lines;
	code_lines_load(path, own);
	return own;
}

void report_locate_violations(struct probe_result *res, const char *image, const char *vdso)
{
	struct code_lines own_img = { 0 }, own_vd = { 0 };
	if (!res->nviolations)
		return;
	const struct code_lines *img = lines_of(image, &own_img), *vd = &own_vd;
	if (vdso && res->vdso_base)
		vd = lines_of(vdso, &own_vd);
	for (size_t i = 0; i < res->nviolations; i++) {
		struct violation *v = &res->violations[i];
		const char *file;
		uint32_t line;
		if (code_lines_find(img, v->pc, &file, &line) ||
		    (vdso && res->vdso_base && v->pc >= res->vdso_base &&
		     code_lines_find(vd, v->pc - res->vdso_base, &file, &line))) {
			snprintf(v->file, sizeof v->file, "%.*s", (int)sizeof v->file - 1, file);
			v->line = line;
		}
	}
	code_lines_free(&own_img);
	code_lines_free(&own_vd);
}

const char *report_why_not_pass(const struct probe_result *res, char *buf, size_t n)
{
	uint64_t v = res->nviolations + res->violations_dropped;
	buf[0] = 0;
	if (res->pass)
		return buf;
	if (v && !res->invariants_ok)
		snprintf(buf, n, "%" PRIu64 " violations; invariants: %s", v, res->invariants);
	else if (v)
		snprintf(buf, n, "%" PRIu64 " violations", v);
	else
		snprintf(buf, n, "invariants: %s", res->invariants);
	return buf;
}

void report_row_name(struct report_row *row, const char *scenario)
{
	const struct probe_result *r = row->res;
	snprintf(row->name, sizeof row->name, "%s/%s/%s/%s/%s%s%s%s", r->arch, r->variant, r->function, r->era_name,
		 r->context, scenario ? " [" : "", scenario ? scenario : "", scenario ? "]" : "");
}

void report_json(FILE *out, const struct report_row *rows, size_t n)
{
	fputs("[", out);
	for (size_t k = 0; k < n; k++) {
		const struct probe_result *r = rows[k].res;
		fputs(k ? ",\n {" : "\n {", out);
		json_record_head(out, r);
		fputs(", \"inject\": ", out), json_str(out, r->inject[0] ? r->inject : "every");
		fputs(", \"engine\": \"unicorn\"", out);
		/* every setting of the row, whatever made it */
		fputs(",\n  \"knobs\": ", out), json_str(out, r->knobs);
		fprintf(out, ", \"vdso_base\": \"0x%" PRIx64 "\", \"handler_budget\": %" PRIu64
			", \"iterations\": %" PRIu64 ", \"sample_n\": %" PRIu64 ", \"sample_seed\": %" PRIu64,
			r->vdso_base, r->handler_budget, r->iterations, r->sample_n, r->sample_seed);
		fputs(",\n  \"source\": ", out), json_str(out, rows[k].source ? rows[k].source : "");
		fputs(", \"name\": ", out), json_str(out, rows[k].name);
		fputs(", \"expect\": ", out), json_str(out, rows[k].expect ? rows[k].expect : "pass");
		fprintf(out, ", \"met\": %s, \"why\": ", rows[k].met ? "true" : "false");
		json_str(out, rows[k].why ? rows[k].why : "");
		fprintf(out, ",\n  \"boundaries\": %" PRIu64 ", \"probed\": %" PRIu64 ", \"verdicts\": ",
			r->boundaries, r->probed);
		json_verdicts(out, r);
		json_record_tail(out, r);
	}
	fputs(n ? "\n]\n" : "]\n", out);
}

void probe_print_json(FILE *out, const struct probe_result *const *res, size_t n)
{
	struct report_row *rows = calloc(n ? n : 1, sizeof *rows);
	if (!rows) {
		fputs("sigstep: out of memory\n", stderr);
		return;
	}
	/* A record without an expectation is held to "pass", as run's exit
	 * status is. */
	for (size_t k = 0; k < n; k++) {
		rows[k].res = res[k];
		rows[k].met = res[k]->pass;
		rows[k].why = res[k]->pass ? "" : res[k]->invariants_ok ? "violations" : res[k]->invariants;
		report_row_name(&rows[k], NULL);
	}
	report_json(out, rows, n);
	free(rows);
}
