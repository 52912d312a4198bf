/*
 * sigstep run --schedule FILE [--build-dir DIR] [--boundaries] [--json FILE|-] ...
 *
 * Replays one schedule (scenarios/README.md, "Schedules"): its probe
 * configuration, a signal at each of its events and nowhere else, with
 * the summary and the records of `sigstep run`.  A schedule naming a
 * trampoline file (`file X.S`) is built as `sigstep check` builds it.
 * Exit 0 every sample passed and the guest's checks held, 1 not, 2
 * unusable input ("FILE:LINE: message").
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "probe.h"
#include "report.h"
#include "schedule.h"

static const char usage[] =
	"usage: sigstep run --schedule FILE [--build-dir DIR] [--boundaries] " CLI_OUTPUTS_USAGE "\n";

int schedule_replay(const struct schedule *s, const char *build_dir, const char *image, FILE *boundary_log,
		    struct probe_result *res, char *err, size_t errlen)
{
	struct probe_config cfg;
	schedule_config(s, build_dir, image, &cfg);
	cfg.boundary_log = boundary_log;
	return probe_run(&cfg, res, err, errlen);
}

void schedule_print_events(FILE *out, const struct schedule *s, const struct probe_result *res)
{
	fprintf(out, "schedule %s: %d event%s, %u fired\n", s->row.source, s->events.n, s->events.n == 1 ? "" : "s",
		res ? res->events_fired : 0);
	for (int i = 0; i < s->events.n; i++) {
		char ev[160];
		schedule_event_text(&s->events.ev[i], ev, sizeof ev);
		fprintf(out, "  at %s\n", ev);
	}
}

int cmd_schedule_run(int argc, char **argv)
{
	const char *file = NULL, *build_dir = NULL;
	int list_boundaries = 0;
	struct cli_outputs out = { 0 };
	char dirbuf[PATH_MAX];
	const struct cli_option options[] = {
		CLI_VALUE("--schedule", &file), CLI_VALUE("--build-dir", &build_dir), CLI_OUTPUTS(&out),
		CLI_FLAG("--boundaries", &list_boundaries), CLI_END,
	};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (cli_help(a, usage))
			return 0;
		int used = cli_option("run --schedule", options, a, v);
		if (!used)
			return 2;
		i += used - 1;
	}
	if (!file)
		return cli_fail("run --schedule: no file given%s%s", "", "");
	if (!build_dir) {
		cli_default_build_dir(dirbuf, sizeof dirbuf);
		build_dir = dirbuf;
	}
	struct schedule s;
	if (schedule_read(file, &s))
		return 2;
	char dir[PATH_MAX], image[PATH_MAX + 96], err[512];
	int built = 0;
	if (s.row.mutant[0]) {
		fflush(NULL);
		if (check_build_file(build_dir, s.row.ops, s.row.mutant, dir, sizeof dir, image, sizeof image))
			return 2;
		built = 1;
	}
	if (cli_outputs_open("run --schedule", &out, ~(1u << CLI_OUT_PPROF))) {
		if (built)
			check_cleanup(dir, image);
		return 2;
	}
	FILE *text = cli_outputs_text(&out);
	struct probe_result res;
	int prc = schedule_replay(&s, build_dir, built ? image : NULL, list_boundaries ? text : NULL, &res, err,
				  sizeof err);
	if (built)
		check_cleanup(dir, image);
	if (prc) {
		cli_outputs_drop(&out);
		fprintf(stderr, "sigstep: %s: %s\n", file, err);
		return 2;
	}
	schedule_print_events(text, &s, &res);
	probe_print_summary(text, &res);
	int status = res.pass ? 0 : 1;
	char why[320];
	struct report_row row = { .res = &res, .source = file, .met = res.pass,
				  .why = report_why_not_pass(&res, why, sizeof why) };
	report_row_name(&row, NULL);
	if (cli_outputs_write("run --schedule", &out, &row, 1))
		status = 2;
	probe_result_free(&res);
	return status;
}
