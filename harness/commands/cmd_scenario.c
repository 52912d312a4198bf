/*
 * sigstep run --scenario FILE [--arch A] [--build-dir DIR] [--handler-budget N] [--json FILE|-]
 *
 * Every row of one scenario file (scenarios/NAME.scn), or of one mutant
 * (scenarios/mutants/<arch>/NAME.S: its "// expect:" lines; the arch is
 * its folder's name unless --arch says), probed one after the other and
 * held to its expectation.  Per row: its settings, the summary of
 * `sigstep run` (the first violations), and whether the expectation was
 * met.  Exit 0 every row met its expectation, 1 one did not, 2 unusable
 * input (a malformed file: "FILE:LINE: message").  --handler-budget sets
 * every row's (as `sigstep run`'s does): a benchmark under valgrind needs
 * one no handler run reaches, or each is run again counted.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch_ops.h"
#include "cli.h"
#include "commands.h"
#include "probe.h"
#include "report.h"
#include "scenario.h"

#define SHOWN_VIOLATIONS 12

static const char usage[] =
	"usage: sigstep run --scenario FILE [--arch A] [--build-dir DIR] [--handler-budget N] " CLI_ROWS_OUTPUTS_USAGE "\n";

/* "FILE" of a row's "FILE:LINE": the report's suite. */
static void file_of(const char *source, char *buf, size_t n)
{
	snprintf(buf, n, "%s", source);
	char *colon = strrchr(buf, ':');
	if (colon && colon[1] >= '0' && colon[1] <= '9')
		*colon = 0;
}

/* The arch of a mutant: the name of the folder holding it. */
static const struct arch_ops *folder_arch(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	char *slash = strrchr(buf, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	const char *dir = strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
	return arch_ops_find(dir);
}

int cmd_scenario_run(int argc, char **argv)
{
	const char *file = NULL, *build_dir = NULL, *arch = NULL;
	uint64_t budget = 0;
	struct cli_outputs out = { 0 };
	char dirbuf[PATH_MAX];
	const struct cli_option options[] = {
		CLI_VALUE("--scenario", &file), CLI_VALUE("--build-dir", &build_dir), CLI_OUTPUTS(&out),
		CLI_VALUE("--arch", &arch), CLI_VALUE("--handler-budget", NULL), CLI_END,
	};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (cli_help(a, usage))
			return 0;
		int used = cli_option("run --scenario", options, a, v);
		if (!used)
			return 2;
		i += used - 1;
		if (!strcmp(a, "--handler-budget") && (cli_parse_u64(v, 0, &budget) || budget == 0))
			return cli_fail("run --scenario: bad --handler-budget '%s'%s", v, "");
	}
	if (!file)
		return cli_fail("run --scenario: no file given%s%s", "", "");
	if (!build_dir) {
		cli_default_build_dir(dirbuf, sizeof dirbuf);
		build_dir = dirbuf;
	}

	struct scn_rows rows = { 0 };
	size_t len = strlen(file);
	int rc;
	if (len > 2 && !strcmp(file + len - 2, ".S")) {
		const struct arch_ops *ops = arch ? arch_ops_find(arch) : folder_arch(file);
		if (!ops)
			return cli_fail("run --scenario: %s: name the mutant's arch with --arch%s", file, arch ? " (unknown)" : "");
		rc = scn_read_mutant(file, ops, &rows);
	} else {
		if (arch)
			return cli_fail("run --scenario: --arch is for a mutant file; a scenario file names its arches%s%s", "", "");
		rc = scn_read_file(file, build_dir, &rows);
	}
	if (rc) {
		scn_rows_free(&rows);
		return rc;
	}

	if (cli_outputs_open("run --scenario", &out, ~(1u << CLI_OUT_PPROF))) {
		scn_rows_free(&rows);
		return 2;
	}
	FILE *text = cli_outputs_text(&out);
	struct probe_result *res = calloc(rows.n ? rows.n : 1, sizeof *res);
	struct report_row *recs = calloc(rows.n ? rows.n : 1, sizeof *recs);
	char (*whys)[300] = calloc(rows.n ? rows.n : 1, sizeof *whys);
	char suite[PATH_MAX + 16];
	size_t nrecs = 0;
	int refused = 0, unmet = 0;
	if (!res || !recs || !whys) {
		free(res);
		free(recs);
		free(whys);
		cli_outputs_drop(&out);
		scn_rows_free(&rows);
		return cli_fail("out of memory%s%s", "", "");
	}
	file_of(file, suite, sizeof suite);
	for (size_t i = 0; i < rows.n; i++) {
		const struct scn_row *r = &rows.v[i];
		char dir[PATH_MAX], image[PATH_MAX + 96], err[512];
		char *why = whys[i];
		int built = 0;
		fprintf(text, "scenario %s [%s] %s %s %s context=%s sigprof=%s vdso=%s knobs=%s expect: %s\n",
			r->source, r->name, r->ops->name, r->variant, r->function, r->context,
			r->era < 0 ? "own" : cli_era_names[r->era], r->vdso ? "present" : "absent", r->knobs,
			r->expect.text);
		fflush(text);
		if (r->mutant[0]) {
			fflush(NULL);
			if (check_build_file(build_dir, r->ops, r->mutant, dir, sizeof dir, image, sizeof image)) {
				refused++;
				continue;
			}
			built = 1;
		}
		struct probe_config cfg;
		scn_row_config(r, build_dir, built ? image : NULL, &cfg);
		cfg.progress = 1;
		if (budget)
			cfg.handler_budget = budget;
		int prc = probe_run(&cfg, &res[i], err, sizeof err);
		if (built)
			check_cleanup(dir, image);
		if (prc) {
			cli_fail("%s: %s", r->source, err);
			refused++;
			continue;
		}
		struct probe_result shown = res[i];
		if (shown.nviolations > SHOWN_VIOLATIONS)
			shown.nviolations = SHOWN_VIOLATIONS;
		probe_print_summary(text, &shown);
		if (res[i].nviolations + res[i].violations_dropped > shown.nviolations)
			fprintf(text, "  ... %llu more violations (--json has the first %d)\n",
				(unsigned long long)(res[i].nviolations + res[i].violations_dropped - shown.nviolations),
				PROBE_MAX_VIOLATIONS);
		int met = scn_expect_met(&r->expect, &res[i], why, sizeof whys[i]);
		unmet += !met;
		fprintf(text, "expect %s: %s%s%s\n\n", r->expect.text, met ? "met" : "NOT MET", met ? "" : ": ",
			met ? "" : why);
		recs[nrecs] = (struct report_row){ .res = &res[i], .source = suite, .expect = r->expect.text,
						   .met = met, .why = met ? "" : why };
		report_row_name(&recs[nrecs++], r->name);
	}
	int status = refused ? 2 : unmet ? 1 : 0;
	fprintf(text, "%zu rows, %zu met, %d not met, %d not run\n", rows.n, nrecs - (size_t)unmet, unmet, refused);
	if (cli_outputs_write("run --scenario", &out, recs, nrecs))
		status = 2;
	for (size_t i = 0; i < rows.n; i++)
		probe_result_free(&res[i]);
	free(res);
	free(recs);
	free(whys);
	scn_rows_free(&rows);
	return status;
}
