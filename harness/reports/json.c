/* The JSON of a probe record (json.h). */
#include <string.h>

#include "json.h"

#include <inttypes.h>

void json_str(FILE *out, const char *s)
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

void json_pcs(FILE *out, int n, const uint64_t *pcs)
{
	fputc('[', out);
	for (int i = 0; i < n; i++)
		fprintf(out, "%s\"0x%" PRIx64 "\"", i ? ", " : "", pcs[i]);
	fputc(']', out);
}

void json_syms(FILE *out, int n, const char (*sym)[PROBE_SYM_MAX])
{
	fputc('[', out);
	for (int i = 0; i < n; i++) {
		if (i)
			fputs(", ", out);
		json_str(out, sym[i]);
	}
	fputc(']', out);
}

void json_record_head(FILE *out, const struct probe_result *r)
{
	fputs("\"arch\": ", out), json_str(out, r->arch);
	fputs(", \"variant\": ", out), json_str(out, r->variant);
	fputs(", \"function\": ", out), json_str(out, r->function);
	fputs(", \"context\": ", out), json_str(out, r->context);
	fputs(", \"sigprof\": ", out), json_str(out, r->era_name);
	fprintf(out, ", \"vdso\": %s", r->vdso ? "true" : "false");
	if (r->vdso && r->vdso_base)	/* the native engines map it where their kernel does */
		fprintf(out, ", \"vdso_base\": \"0x%" PRIx64 "\"", r->vdso_base);
	if (!strcmp(r->subject, "go")) {
		fputs(", \"subject\": \"go\", \"go_version\": ", out);
		json_str(out, r->go_version);
	}
}

void json_verdicts(FILE *out, const struct probe_result *r)
{
	fputc('{', out);
	for (int v = 0; v < VERDICT_COUNT; v++)
		fprintf(out, "%s\"%s\": %" PRIu64, v ? ", " : "", verdict_name((enum verdict)v), r->verdicts[v]);
	fputc('}', out);
}

void json_record_tail(FILE *out, const struct probe_result *r)
{
	fprintf(out, ",\n  \"invariants_ok\": %s, \"invariants\": ", r->invariants_ok ? "true" : "false");
	json_str(out, r->invariants);
	fprintf(out, ", \"pass\": %s, \"elapsed_s\": %.6f, \"boundaries_per_s\": %.0f,\n  \"violations\": [",
		r->pass ? "true" : "false", r->elapsed_s, r->boundaries_per_s);
	for (size_t i = 0; i < r->nviolations; i++) {
		const struct violation *v = &r->violations[i];
		fprintf(out, "%s\n   {\"pc\": \"0x%" PRIx64 "\", \"symbol\": ", i ? "," : "", v->pc);
		json_str(out, v->symbol);
		if (v->line) {
			fputs(", \"file\": ", out), json_str(out, v->file);
			fprintf(out, ", \"line\": %u", v->line);
		} else {
			fputs(", \"file\": null, \"line\": null", out);
		}
		fputs(", \"insn\": ", out), json_str(out, v->insn);
		fputs(", \"verdict\": ", out), json_str(out, verdict_name(v->verdict));
		fputs(", \"expected\": ", out), json_pcs(out, v->nexpected, v->expected);
		fputs(", \"got\": ", out), json_pcs(out, v->ngot, v->got);
		fputs(",\n    \"expected_symbols\": ", out), json_syms(out, v->nexpected, v->expected_sym);
		fputs(", \"got_symbols\": ", out), json_syms(out, v->ngot, v->got_sym);
		fputs(", \"detail\": ", out), json_str(out, v->detail);
		/* Only a nested run (PROBE_NESTED) sets it. */
		if (v->nested_at > 0)
			fprintf(out, ", \"nested_at\": %d", v->nested_at - 1);
		fputc('}', out);
	}
	fputs(r->nviolations ? "\n  ]}" : "]}", out);
}
