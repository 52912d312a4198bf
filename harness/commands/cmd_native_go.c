/*
 * sigstep native --go PROGRAM [--function F] [--root R] [--call N]
 *                [--timeout S] [--list-boundaries] [--json FILE|-] [--junit FILE]
 *                [--sarif FILE] [--html FILE]
 *
 * A real Go program on the ptrace engine (harness/native/ptrace_go.h):
 * every boundary of the N-th call (default 200) of F (default
 * runtime.nanotime1; a bare name is the runtime's) made
 * within a call of R (default time.Since), a real SIGPROF at each, the
 * sample sigprof gives the profile buffer judged against the shadow
 * stack.  The summary is `sigstep run`'s, plus where the boundaries lay,
 * the vDSO's seqlock retries and the time limit; --json writes the record
 * with "engine": "ptrace"; --junit, --sarif and --html are sigstep run's
 * (harness/reports), the source lines the program's pclntab's (the
 * kernel's vDSO has none).  Exit 0 every boundary passed and the program
 * exited 0, 1 otherwise, 2 (one line) for what cannot run, ptrace refused
 * included.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "gobinary.h"
#include "json.h"
#include "probe.h"
#include "ptrace_go.h"
#include "report.h"

static const char usage[] =
	"usage: sigstep native --go PROGRAM [--function F] [--root R] [--call N] [--timeout SECONDS]\n"
	"                      [--list-boundaries|--boundaries] [--json FILE|-] [--junit FILE] [--sarif FILE]\n"
	"                      [--html FILE]\n";

static void print_stats(FILE *out, const struct ptrace_go_config *c, const struct ptrace_go_stats *st)
{
	fprintf(out, "call       %" PRIu64 " of %s within %s\n", c->call ? c->call : PTRACE_GO_DEFAULT_CALL,
		c->function ? c->function : "runtime.nanotime1", c->root ? c->root : "time.Since");
	fprintf(out, "where      %" PRIu64 " in the function, %" PRIu64 " in the kernel's vDSO, %" PRIu64
		" in what it called\n", st->in_function, st->in_vdso, st->elsewhere);
	fprintf(out, "vdso       %" PRIu64 " calls, %" PRIu64 " seqlock retries seen (%" PRIu64
		" instructions re-run, stepped without a signal)\n", st->vdso_calls, st->vdso_retries, st->retry_steps);
	fprintf(out, "handler    ran a boundary's own instruction %" PRIu64 " times (its own clock read)\n",
		st->handler_nested);
	fprintf(out, "limit      %u s%s\n", st->limit_s, st->limit_reached ? ": REACHED, the call was cut" : "");
}

static void json_record(FILE *out, const struct probe_result *r, const struct ptrace_go_stats *st)
{
	fputc('{', out);
	json_record_head(out, r);
	fputs(", \"inject\": \"ptrace\", \"engine\": \"ptrace\",\n  \"emulator\": \"host\", \"vdso_kind\": \"kernel\"", out);
	fprintf(out, ",\n  \"boundaries\": %" PRIu64 ", \"verdicts\": ", r->boundaries);
	json_verdicts(out, r);
	fprintf(out, ",\n  \"in_function\": %" PRIu64 ", \"in_vdso\": %" PRIu64 ", \"elsewhere\": %" PRIu64
		", \"vdso_calls\": %" PRIu64 ", \"vdso_retries\": %" PRIu64 ", \"retry_steps\": %" PRIu64
		", \"handler_nested\": %" PRIu64
		", \"limit_s\": %u, \"limit_reached\": %s, \"program_status\": %d",
		st->in_function, st->in_vdso, st->elsewhere, st->vdso_calls, st->vdso_retries, st->retry_steps, st->handler_nested,
		st->limit_s, st->limit_reached ? "true" : "false", st->program_status);
	json_record_tail(out, r);
}

int cmd_native_go(int argc, char **argv)
{
	struct ptrace_go_config c = { 0 };
	struct cli_outputs rep = { 0 };
	int list = 0;
	const struct cli_option options[] = {
		CLI_VALUE("--go", &c.program), CLI_VALUE("--function", &c.function), CLI_VALUE("--root", &c.root),
		CLI_VALUE("--call", NULL), CLI_VALUE("--timeout", NULL), CLI_VALUE("--json", &rep.path[CLI_OUT_JSON]),
		CLI_VALUE("--junit", &rep.path[CLI_OUT_JUNIT]), CLI_VALUE("--sarif", &rep.path[CLI_OUT_SARIF]),
		CLI_VALUE("--html", &rep.path[CLI_OUT_HTML]),
		CLI_FLAG("--list-boundaries", &list), CLI_FLAG("--boundaries", &list), CLI_END,
	};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (cli_help(a, usage))
			return 0;
		int used = cli_option("native", options, a, v);
		if (!used)
			return 2;
		i += used - 1;
		uint64_t x;
		if (!strcmp(a, "--call") || !strcmp(a, "--timeout")) {
			if (cli_parse_u64(v, 10, &x) || x == 0 || x > 1000000000ull)
				return cli_fail_in("native", "bad %s '%s'", a, v);
			if (a[2] == 'c')
				c.call = x;
			else
				c.timeout_s = (unsigned)(x > 86400 ? 86400 : x);
		}
	}
	if (!c.program || !c.program[0])
		return cli_fail_in("native", "--go needs a program%s%s", "", "");

	/* Every report file is opened before the run (a path that cannot be
	 * written costs nothing) and not truncated until there is a record. */
	if (cli_outputs_open("native", &rep, 1u << CLI_OUT_JSON | 1u << CLI_OUT_JUNIT | 1u << CLI_OUT_SARIF |
						     1u << CLI_OUT_HTML))
		return 2;
	FILE *out = cli_outputs_text(&rep);
	c.boundary_log = list ? out : NULL;
	struct probe_result r;
	struct ptrace_go_stats st;
	char err[512];
	if (ptrace_go_run(&c, &r, &st, err, sizeof err)) {
		cli_outputs_drop(&rep);
		return cli_fail_in("native", "%s%s", err, "");
	}

	fprintf(out, "sigstep native --go: arch=%s program=%s function=%s engine=ptrace (host) vdso=kernel\n", r.arch,
		r.variant, c.function ? c.function : "runtime.nanotime1");
	probe_print_summary(out, &r);
	print_stats(out, &c, &st);
	int status = r.pass ? 0 : 1;
	if (rep.path[CLI_OUT_JSON]) {
		FILE *jf = cli_outputs_begin("native", &rep, CLI_OUT_JSON);
		if (!jf)
			status = 2;
		else {
			fputs("[\n ", jf);
			json_record(jf, &r, &st);
			fputs("\n]\n", jf);
			if (cli_outputs_end("native", &rep, CLI_OUT_JSON))
				status = 2;
		}
	}
	/* the other reports from the one row, as sigstep go writes them */
	struct gobinary *gb;
	uint64_t text_lo = 0, text_hi = 0;
	if (!gobinary_open(c.program, &gb, err, sizeof err)) {
		text_lo = gobinary_text_start(gb);
		text_hi = gobinary_etext(gb);
		gobinary_close(gb);
	}
	report_locate_violations(&r, c.program, NULL);
	char why[320];
	struct report_row row = { .res = &r, .source = "native --go", .met = r.pass,
				  .why = report_why_not_pass(&r, why, sizeof why),
				  .text_base = "GOROOT_SRC", .text_lo = text_lo, .text_hi = text_hi };
	report_row_name(&row, NULL);
	if (cli_outputs_write("native", &rep, &row, 1) && status != 2)
		status = 2;
	probe_result_free(&r);
	return status;
}
