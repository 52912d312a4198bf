/*
 * SARIF 2.1.0 (report.h): one run of the tool "sigstep"; one rule per
 * failing verdict ("sigstep/wrong", ...: the list comes from the verdict
 * enum); one result per row and violating instruction and verdict, at the
 * instruction's physical location (file relative to the source root,
 * line), with its symbol+offset as the logical location.  A violation
 * the row expected (a known-bad variant doing what it must) is a "note";
 * one in a row whose expectation was not met is an "error".  A result
 * without a line (no line table) still names the row.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "probe.h"
#include "report.h"

static const char *const rule_text[VERDICT_COUNT] = {
	[VERDICT_VDSO] = "The sample is the _VDSO marker: the right direction, but no stack.",
	[VERDICT_EXTERNAL] = "The sample is the _ExternalCode marker: the profiler lost the goroutine.",
	[VERDICT_SYSTEM] = "The sample is an abstract marker (_System) after a failed traceback.",
	[VERDICT_WRONG] = "The sampled frames differ from the true stack (duplicated, garbage or misattributed).",
	[VERDICT_FAULT] = "The signal handler touched unmapped memory or trapped.",
	[VERDICT_HANG] = "The signal handler exceeded its instruction budget.",
};

static void rule_id(FILE *out, enum verdict v)
{
	char id[48];
	snprintf(id, sizeof id, "sigstep/%s", verdict_name(v));
	json_str(out, id);
}

/* Is this violation the first of its row with this pc and verdict? */
static int first_of_kind(const struct probe_result *r, size_t i, size_t *count)
{
	const struct violation *v = &r->violations[i];
	*count = 0;
	for (size_t k = 0; k < r->nviolations; k++) {
		const struct violation *w = &r->violations[k];
		if (w->pc == v->pc && w->verdict == v->verdict) {
			if (k < i)
				return 0;
			(*count)++;
		}
	}
	return 1;
}

void report_sarif(FILE *out, const struct report_row *rows, size_t n)
{
	int rule_index[VERDICT_COUNT], nrules = 0;
	fputs("{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \"version\": \"2.1.0\",\n"
	      "  \"runs\": [\n    {\n      \"tool\": {\n        \"driver\": {\n          \"name\": \"sigstep\",\n"
	      "          \"version\": " , out);
	json_str(out, SIGSTEP_VERSION);
	fputs(",\n          \"rules\": [", out);
	for (int v = 0; v < VERDICT_COUNT; v++) {
		rule_index[v] = -1;
		if (verdict_passes((enum verdict)v))
			continue;
		rule_index[v] = nrules;
		fputs(nrules++ ? ",\n            {\"id\": " : "\n            {\"id\": ", out);
		rule_id(out, (enum verdict)v);
		fputs(", \"name\": ", out);
		json_str(out, verdict_name((enum verdict)v));
		fputs(", \"shortDescription\": {\"text\": ", out);
		char s[96];
		snprintf(s, sizeof s, "profiling signal here gives a '%s' sample", verdict_name((enum verdict)v));
		json_str(out, s);
		fputs("}, \"fullDescription\": {\"text\": ", out);
		json_str(out, rule_text[v] ? rule_text[v] : "A sample that does not pass.");
		fputs("}, \"defaultConfiguration\": {\"level\": \"error\"}}", out);
	}
	fputs("\n          ]\n        }\n      },\n"
	      "      \"originalUriBaseIds\": {\"SRCROOT\": {\"description\": {\"text\": "
	      "\"The top of the source tree (the current directory for sigstep check).\"}}", out);
	/* each other base once, as the rows name them */
	for (size_t i = 0; i < n; i++) {
		size_t k;
		for (k = 0; k < i && !(rows[k].text_base && rows[i].text_base && !strcmp(rows[k].text_base, rows[i].text_base)); k++)
			;
		if (!rows[i].text_base || k < i)
			continue;
		fputs(", ", out);
		json_str(out, rows[i].text_base);
		fputs(": {\"description\": {\"text\": \"GOROOT/src of the Go toolchain that built the program: "
		      "its pclntab names the standard library relative to it (-trimpath).\"}}", out);
	}
	fputs("},\n      \"results\": [", out);
	size_t nres = 0;
	for (size_t i = 0; i < n; i++) {
		const struct probe_result *r = rows[i].res;
		for (size_t k = 0; k < r->nviolations; k++) {
			const struct violation *v = &r->violations[k];
			size_t count;
			if (!first_of_kind(r, k, &count) || rule_index[v->verdict] < 0)
				continue;
			fputs(nres++ ? ",\n        {" : "\n        {", out);
			fputs("\"ruleId\": ", out);
			rule_id(out, v->verdict);
			fprintf(out, ", \"ruleIndex\": %d, \"level\": \"%s\",\n         \"message\": {\"text\": ",
				rule_index[v->verdict], rows[i].met ? "note" : "error");
			char msg[1600];
			int len = snprintf(msg, sizeof msg, "%s: a SIGPROF at %s (%s) gives a '%s' sample%s; expected [",
					   rows[i].name, v->symbol, v->insn, verdict_name(v->verdict),
					   count > 1 ? " (more than once)" : "");
			for (int f = 0; f < v->nexpected && len >= 0 && (size_t)len < sizeof msg; f++)
				len += snprintf(msg + len, sizeof msg - (size_t)len, "%s%s", f ? " <- " : "", v->expected_sym[f]);
			if (len >= 0 && (size_t)len < sizeof msg)
				len += snprintf(msg + len, sizeof msg - (size_t)len, "] got [");
			for (int f = 0; f < v->ngot && len >= 0 && (size_t)len < sizeof msg; f++)
				len += snprintf(msg + len, sizeof msg - (size_t)len, "%s%s", f ? " <- " : "", v->got_sym[f]);
			if (len >= 0 && (size_t)len < sizeof msg)
				snprintf(msg + len, sizeof msg - (size_t)len, "]%s%s (expectation '%s' %s)",
					 v->detail[0] ? "; " : "", v->detail, rows[i].expect ? rows[i].expect : "pass",
					 rows[i].met ? "met" : "NOT met");
			json_str(out, msg);
			fputs("},\n         \"locations\": [{", out);
			if (v->line) {
				fputs("\"physicalLocation\": {\"artifactLocation\": {\"uri\": ", out);
				json_str(out, v->file);
				if (v->file[0] != '/') {
					const struct report_row *row = &rows[i];
					int in_text = row->text_base && v->pc >= row->text_lo && v->pc < row->text_hi;
					fputs(", \"uriBaseId\": ", out);
					json_str(out, in_text ? row->text_base : "SRCROOT");
				}
				fprintf(out, "}, \"region\": {\"startLine\": %u}}, ", v->line);
			}
			fputs("\"logicalLocations\": [{\"fullyQualifiedName\": ", out);
			json_str(out, v->symbol);
			fputs(", \"kind\": \"function\"}]}],\n         \"partialFingerprints\": {\"sigstepRow/v1\": ", out);
			char fp[320];
			snprintf(fp, sizeof fp, "%s|%s|%s", rows[i].name, v->symbol, verdict_name(v->verdict));
			json_str(out, fp);
			fputs("},\n         \"properties\": {\"row\": ", out);
			json_str(out, rows[i].name);
			fprintf(out, ", \"pc\": \"0x%" PRIx64 "\", \"expectationMet\": %s}}", v->pc,
				rows[i].met ? "true" : "false");
		}
	}
	fputs(nres ? "\n      ]\n    }\n  ]\n}\n" : "]\n    }\n  ]\n}\n", out);
}
