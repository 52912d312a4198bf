/*
 * The two forms of a probe result: the text summary `sigstep run` prints
 * and the JSON records of --json (one array of runs).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "probe.h"

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
		if (v->nested_at > 0)
			fprintf(out, "  %s at %s (0x%" PRIx64 ")  %s  [after a nested clock read at boundary %d]\n",
				verdict_name(v->verdict), v->symbol, v->pc, v->insn[0] ? v->insn : "?", v->nested_at - 1);
		else
			fprintf(out, "  %s at %s (0x%" PRIx64 ")  %s\n", verdict_name(v->verdict), v->symbol, v->pc,
				v->insn[0] ? v->insn : "?");
		print_stack(out, "expected", v->nexpected, v->expected, v->expected_sym);
		if (v->verdict != VERDICT_FAULT && v->verdict != VERDICT_HANG)
			print_stack(out, "got", v->ngot, v->got, v->got_sym);
		if (v->detail[0])
			fprintf(out, "      %s\n", v->detail);
	}
	/* timing on stderr: the report itself is the same for the same inputs */
	fflush(out);
	fprintf(stderr, "speed      %.0f boundaries/s (%.3f s)\n", res->boundaries_per_s, res->elapsed_s);
	if (res->boot_insns)
		fprintf(stderr, "boot       %" PRIu64 " instructions to the call (%.3f s)\n", res->boot_insns, res->boot_s);
	fprintf(out, "result %s\n", res->pass ? "pass" : "FAIL");
}

void probe_print_json(FILE *out, const struct probe_result *const *res, size_t n)
{
	fputs("[", out);
	for (size_t k = 0; k < n; k++) {
		const struct probe_result *r = res[k];
		fputs(k ? ",\n {" : "\n {", out);
		json_record_head(out, r);
		fputs(", \"inject\": ", out), json_str(out, r->inject[0] ? r->inject : "every");
		fputs(", \"engine\": \"unicorn\"", out);
		fprintf(out, ",\n  \"boundaries\": %" PRIu64 ", \"probed\": %" PRIu64 ", \"verdicts\": ",
			r->boundaries, r->probed);
		json_verdicts(out, r);
		json_record_tail(out, r);
	}
	fputs(n ? "\n]\n" : "]\n", out);
}
