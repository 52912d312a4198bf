/*
 * --html: one self-contained page (no scripts, no fonts, nothing fetched).
 * Rows are grouped by arch x variant x function x context (and scenario);
 * each group shows, per row (one per era), the chain as a strip of its
 * instructions -- one cell per pc in the order first reached, coloured by
 * the worst verdict there, the symbol, pc and verdict as its tooltip --
 * so where the stacks break shows at a glance; then the group's
 * violations with both stacks, the source line and the instruction.
 * Every row carries its numbers as data- attributes (tests read the page
 * back through a browser's DOM).  The verdicts and their colours come
 * from the verdict list, not a copy of it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"
#include "report.h"
#include "xml_text.h"

#define SHOWN_VIOLATIONS 40	/* per row; the JSON has them all */

/* A verdict's colour: the passing ones green, markers amber and purple,
 * a stack cut short orange, a wrong one red, a broken handler black; any
 * other failing one red. */
static const char *colour(enum verdict v)
{
	const char *n = verdict_name(v);
	if (!strcmp(n, "full"))
		return "#2ca02c";
	if (verdict_passes(v))
		return "#98df8a";
	if (!strcmp(n, "vdso"))
		return "#ffbb33";
	if (!strcmp(n, "external"))
		return "#9467bd";
	if (!strcmp(n, "system"))
		return "#c5b0d5";
	if (!strcmp(n, "truncated"))
		return "#ff7f0e";
	if (!strcmp(n, "fault") || !strcmp(n, "hang"))
		return "#222222";
	return "#d62728";
}

static void stack(FILE *out, int n, const char (*sym)[PROBE_SYM_MAX])
{
	if (!n)
		fputs("(no frames)", out);
	for (int i = 0; i < n; i++) {
		if (i)
			fputs(" &larr; ", out);
		xml_text(out, sym[i]);
	}
}

/* The group of a row: its name without the era. */
static void group_of(const struct report_row *r, char *buf, size_t n)
{
	const struct probe_result *p = r->res;
	const char *scn = strchr(r->name, '[');
	snprintf(buf, n, "%s %s %s %s%s%s", p->arch, p->variant, p->function, p->context, scn ? " " : "", scn ? scn : "");
}

void report_html(FILE *out, const struct report_row *rows, size_t n)
{
	size_t met = 0;
	for (size_t i = 0; i < n; i++)
		met += rows[i].met != 0;
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>sigstep</title>\n<style>\n"
	      "body { font: 13px/1.4 sans-serif; margin: 12px; color: #111; background: #fff; }\n"
	      "h1 { font-size: 18px; margin: 0 0 6px; } h2 { font-size: 14px; margin: 14px 0 4px; }\n"
	      ".row { display: flex; align-items: center; margin: 1px 0; }\n"
	      ".era { flex: none; width: 64px; font-family: monospace; }\n"
	      ".met { flex: none; width: 40px; font-weight: bold; } .met.no { color: #d62728; }\n"
	      ".strip { flex: none; display: flex; flex-wrap: nowrap; }\n"
	      ".cell { display: inline-block; width: 6px; height: 16px; margin-right: 1px; }\n"
	      ".expect { flex: none; margin-left: 8px; color: #555; font-family: monospace; white-space: nowrap; }\n"
	      "table { border-collapse: collapse; font-family: monospace; font-size: 12px; }\n"
	      "td, th { border: 1px solid #ddd; padding: 1px 4px; text-align: left; vertical-align: top; }\n"
	      ".legend span.cell { margin-left: 10px; margin-right: 3px; vertical-align: middle; }\n",
	      out);
	for (int v = 0; v < VERDICT_COUNT; v++)
		fprintf(out, ".v-%s { background: %s; }\n", verdict_name((enum verdict)v), colour((enum verdict)v));
	fprintf(out, "</style></head>\n<body>\n<h1>sigstep: %zu rows, %zu met, %zu not met</h1>\n<p class=\"legend\">", n,
		met, n - met);
	for (int v = 0; v < VERDICT_COUNT; v++)
		fprintf(out, "<span class=\"cell v-%s\"></span>%s", verdict_name((enum verdict)v),
			verdict_name((enum verdict)v));
	fputs("</p>\n<p>One cell per instruction of the chain, in the order it first runs; its colour is the verdict of a "
	      "SIGPROF there (the worst, for an instruction run more than once).</p>\n",
	      out);

	for (size_t i = 0; i < n;) {
		char group[256], other[256];
		group_of(&rows[i], group, sizeof group);
		size_t end = i + 1;
		for (; end < n; end++) {
			group_of(&rows[end], other, sizeof other);
			if (strcmp(group, other))
				break;
		}
		fputs("<section class=\"group\"><h2>", out);
		xml_text(out, group);
		fputs("</h2>\n", out);
		for (size_t k = i; k < end; k++) {
			const struct report_row *r = &rows[k];
			const struct probe_result *p = r->res;
			fputs("<div class=\"row\" data-name=\"", out);
			xml_text(out, r->name);
			fprintf(out, "\" data-met=\"%s\" data-boundaries=\"%" PRIu64 "\" data-cells=\"%u\" data-violations=\"%zu\"",
				r->met ? "yes" : "no", p->boundaries, p->nstrip, p->nviolations);
			for (int v = 0; v < VERDICT_COUNT; v++)
				fprintf(out, " data-%s=\"%" PRIu64 "\"", verdict_name((enum verdict)v), p->verdicts[v]);
			fputs("><span class=\"era\">", out);
			xml_text(out, p->era_name);
			fprintf(out, "</span><span class=\"met%s\">%s</span><span class=\"strip\">", r->met ? "" : " no",
				r->met ? "met" : "NOT");
			for (uint32_t c = 0; c < p->nstrip; c++) {
				const struct strip_cell *cell = &p->strip[c];
				fprintf(out, "<span class=\"cell v-%s\" title=\"0x%" PRIx64 " ", verdict_name((enum verdict)cell->verdict),
					cell->pc);
				xml_text(out, cell->at);
				fprintf(out, " %s\"></span>", verdict_name((enum verdict)cell->verdict));
			}
			fputs("</span><span class=\"expect\">", out);
			xml_text(out, r->expect ? r->expect : "pass");
			if (!r->met && r->why && r->why[0])
				fputs(": ", out), xml_text(out, r->why);
			fputs("</span></div>\n", out);
		}
		size_t nv = 0;
		for (size_t k = i; k < end; k++)
			nv += rows[k].res->nviolations;
		if (nv) {
			fprintf(out, "<details><summary>%zu violations</summary>\n<table><tr><th>era</th><th>verdict</th>"
				     "<th>at</th><th>source</th><th>instruction</th><th>expected</th><th>got</th></tr>\n",
				nv);
			for (size_t k = i; k < end; k++) {
				const struct probe_result *p = rows[k].res;
				size_t shown = p->nviolations < SHOWN_VIOLATIONS ? p->nviolations : SHOWN_VIOLATIONS;
				for (size_t j = 0; j < shown; j++) {
					const struct violation *v = &p->violations[j];
					fputs("<tr class=\"violation\"><td>", out);
					xml_text(out, p->era_name);
					fprintf(out, "</td><td class=\"v-%s\">%s</td><td>", verdict_name(v->verdict), verdict_name(v->verdict));
					xml_text(out, v->symbol);
					fputs("</td><td>", out);
					if (v->line) {
						xml_text(out, v->file);
						fprintf(out, ":%u", v->line);
					}
					fputs("</td><td>", out);
					xml_text(out, v->insn);
					fputs("</td><td>", out);
					stack(out, v->nexpected, v->expected_sym);
					fputs("</td><td>", out);
					if (v->verdict == VERDICT_FAULT || v->verdict == VERDICT_HANG)
						xml_text(out, v->detail);
					else
						stack(out, v->ngot, v->got_sym);
					fputs("</td></tr>\n", out);
				}
				if (p->nviolations > shown)
					fprintf(out, "<tr><td colspan=\"7\">... %zu more in this row (the --json record has them)</td></tr>\n",
						p->nviolations - shown);
			}
			fputs("</table></details>\n", out);
		}
		fputs("</section>\n", out);
		i = end;
	}
	fputs("</body></html>\n", out);
}
