/*
 * JUnit XML, the shape Jenkins and GitLab read (tests/schemas/junit.xsd):
 * <testsuites> holding one <testsuite> per source of rows (the matrix, a
 * scenario file, a mutant), one <testcase> per row named
 * arch/variant/function/era/context, and a <failure> for each unmet
 * expectation whose text lists the row's violations with their source
 * lines.  No time attributes: the same rows give the same bytes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"
#include "report.h"
#include "xml_text.h"

#define LISTED_VIOLATIONS 64

static void attr(FILE *out, const char *name, const char *value)
{
	fprintf(out, " %s=\"", name);
	xml_text(out, value);
	fputc('"', out);
}

static void counts(FILE *out, const struct probe_result *r)
{
	fprintf(out, "boundaries %" PRIu64 ", probed %" PRIu64 ":", r->boundaries, r->probed);
	for (int v = 0; v < VERDICT_COUNT; v++)
		fprintf(out, " %s %" PRIu64, verdict_name((enum verdict)v), r->verdicts[v]);
}

static void violations(FILE *out, const struct probe_result *r)
{
	char line[1024];
	size_t shown = r->nviolations < LISTED_VIOLATIONS ? r->nviolations : LISTED_VIOLATIONS;
	for (size_t i = 0; i < shown; i++) {
		const struct violation *v = &r->violations[i];
		int len = snprintf(line, sizeof line, "%s at %s (0x%" PRIx64 ")", verdict_name(v->verdict), v->symbol, v->pc);
		if (v->line && len >= 0 && (size_t)len < sizeof line)
			len += snprintf(line + len, sizeof line - (size_t)len, " %s:%u", v->file, v->line);
		if (len >= 0 && (size_t)len < sizeof line)
			snprintf(line + len, sizeof line - (size_t)len, "  %s\n", v->insn);
		xml_text(out, line);
		fputs("  expected:", out);
		for (int k = 0; k < v->nexpected; k++)
			fputs(k ? " &lt;- " : " ", out), xml_text(out, v->expected_sym[k]);
		if (v->verdict != VERDICT_FAULT && v->verdict != VERDICT_HANG) {
			fputs("\n  got:     ", out);
			for (int k = 0; k < v->ngot; k++)
				fputs(k ? " &lt;- " : " ", out), xml_text(out, v->got_sym[k]);
			if (!v->ngot)
				fputs(" (no frames)", out);
		}
		if (v->detail[0])
			fputs("\n  ", out), xml_text(out, v->detail);
		fputc('\n', out);
	}
	uint64_t more = r->nviolations - shown + r->violations_dropped;
	if (more)
		fprintf(out, "... %" PRIu64 " more violations (the --json record has them)\n", more);
}

void report_junit(FILE *out, const char *command, const struct report_row *rows, size_t n)
{
	size_t failures = 0;
	for (size_t i = 0; i < n; i++)
		failures += !rows[i].met;
	char name[64];
	snprintf(name, sizeof name, "sigstep %s", command ? command : "");
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", out);
	attr(out, "name", name);
	fprintf(out, " tests=\"%zu\" failures=\"%zu\" errors=\"0\">\n", n, failures);
	/* one suite per source, in the order sources first appear (the
	 * matrix interleaves its passes' rows) */
	for (size_t i = 0; i < n; i++) {
		const char *src = rows[i].source ? rows[i].source : "sigstep";
		size_t first = 0, tests = 0, fails = 0;
		while (strcmp(rows[first].source ? rows[first].source : "sigstep", src))
			first++;
		if (first < i)
			continue;	/* written with its first row */
		for (size_t k = i; k < n; k++)
			if (!strcmp(rows[k].source ? rows[k].source : "sigstep", src))
				tests++, fails += !rows[k].met;
		fputs("  <testsuite", out);
		attr(out, "name", src);
		fprintf(out, " tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\">\n", tests, fails);
		for (size_t k = i; k < n; k++) {
			const struct report_row *row = &rows[k];
			if (strcmp(row->source ? row->source : "sigstep", src))
				continue;
			const char *expect = row->expect ? row->expect : "pass";
			fputs("    <testcase", out);
			attr(out, "classname", src);
			attr(out, "name", row->name);
			fputs(">\n", out);
			if (!row->met) {
				char msg[512];
				snprintf(msg, sizeof msg, "expected '%s': %s", expect, row->why && row->why[0] ? row->why : "not met");
				fputs("      <failure", out);
				attr(out, "type", "unmet-expectation");
				attr(out, "message", msg);
				fputs(">", out);
				xml_text(out, msg);
				fputc('\n', out);
				counts(out, row->res);
				fputc('\n', out);
				if (!row->res->invariants_ok)
					fputs("invariants: ", out), xml_text(out, row->res->invariants), fputc('\n', out);
				violations(out, row->res);
				fputs("</failure>\n", out);
			}
			fputs("      <system-out>expect ", out);
			xml_text(out, expect);
			fputs(": ", out);
			counts(out, row->res);
			fputs("</system-out>\n    </testcase>\n", out);
		}
		fputs("  </testsuite>\n", out);
	}
	fputs("</testsuites>\n", out);
}
