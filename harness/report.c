/*
 * The two forms of a probe result: the text summary `sigstep run` prints
 * and the JSON records of --json (one array of runs).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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
	fprintf(out, "sigstep run: arch=%s variant=%s function=%s context=%s sigprof=%s vdso=%s\n",
		res->arch, res->variant, res->function, res->context, res->era_name,
		res->vdso ? "present" : "absent");
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
	fprintf(out, "speed      %.0f boundaries/s (%.3f s)\n", res->boundaries_per_s, res->elapsed_s);
	fprintf(out, "result %s\n", res->pass ? "pass" : "FAIL");
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_pcs(FILE *out, int n, const uint64_t *pcs)
{
	fputc('[', out);
	for (int i = 0; i < n; i++)
		fprintf(out, "%s\"0x%" PRIx64 "\"", i ? ", " : "", pcs[i]);
	fputc(']', out);
}

static void json_syms(FILE *out, int n, const char (*sym)[PROBE_SYM_MAX])
{
	fputc('[', out);
	for (int i = 0; i < n; i++) {
		if (i)
			fputs(", ", out);
		json_str(out, sym[i]);
	}
	fputc(']', out);
}

void probe_print_json(FILE *out, const struct probe_result *const *res, size_t n)
{
	fputs("[", out);
	for (size_t k = 0; k < n; k++) {
		const struct probe_result *r = res[k];
		fputs(k ? ",\n {" : "\n {", out);
		fputs("\"arch\": ", out), json_str(out, r->arch);
		fputs(", \"variant\": ", out), json_str(out, r->variant);
		fputs(", \"function\": ", out), json_str(out, r->function);
		fputs(", \"context\": ", out), json_str(out, r->context);
		fputs(", \"sigprof\": ", out), json_str(out, r->era_name);
		fprintf(out, ", \"vdso\": %s", r->vdso ? "true" : "false");
		fputs(", \"inject\": ", out), json_str(out, r->inject[0] ? r->inject : "every");
		fputs(", \"engine\": \"unicorn\"", out);
		fprintf(out, ",\n  \"boundaries\": %" PRIu64 ", \"probed\": %" PRIu64 ", \"verdicts\": {",
			r->boundaries, r->probed);
		for (int v = 0; v < VERDICT_COUNT; v++)
			fprintf(out, "%s\"%s\": %" PRIu64, v ? ", " : "", verdict_name((enum verdict)v), r->verdicts[v]);
		fprintf(out, "},\n  \"invariants_ok\": %s, \"invariants\": ", r->invariants_ok ? "true" : "false");
		json_str(out, r->invariants);
		fprintf(out, ", \"pass\": %s, \"elapsed_s\": %.6f, \"boundaries_per_s\": %.0f,\n  \"violations\": [",
			r->pass ? "true" : "false", r->elapsed_s, r->boundaries_per_s);
		for (size_t i = 0; i < r->nviolations; i++) {
			const struct violation *v = &r->violations[i];
			fprintf(out, "%s\n   {\"pc\": \"0x%" PRIx64 "\", \"symbol\": ", i ? "," : "", v->pc);
			json_str(out, v->symbol);
			fputs(", \"insn\": ", out), json_str(out, v->insn);
			fputs(", \"verdict\": ", out), json_str(out, verdict_name(v->verdict));
			fputs(", \"expected\": ", out), json_pcs(out, v->nexpected, v->expected);
			fputs(", \"got\": ", out), json_pcs(out, v->ngot, v->got);
			fputs(",\n    \"expected_symbols\": ", out), json_syms(out, v->nexpected, v->expected_sym);
			fputs(", \"got_symbols\": ", out), json_syms(out, v->ngot, v->got_sym);
			fputs(", \"detail\": ", out), json_str(out, v->detail);
			if (v->nested_at > 0)
				fprintf(out, ", \"nested_at\": %d", v->nested_at - 1);
			fputc('}', out);
		}
		fputs(r->nviolations ? "\n  ]}" : "]}", out);
	}
	fputs(n ? "\n]\n" : "]\n", out);
}
