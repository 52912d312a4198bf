/*
 * sigstep native --go PROGRAM [--emulator auto|host|qemu] [--function F]
 *                [--root R] [--call N] [--timeout S] [--list-boundaries]
 *                [--json FILE|-] [--junit FILE] [--sarif FILE] [--html FILE]
 * sigstep native --compare --go PROGRAM [--emulator E] [--function F] ...
 *
 * A real Go program on the native Go engine (harness/native/go_engine.h):
 * on this machine's CPU under ptrace with the kernel's vDSO (`host`), or
 * under the arch's qemu-user through its gdbstub, where there is no vDSO
 * and the fallback path runs (`qemu`); `auto` (the default) the host where
 * its CPU runs the arch and ptrace is allowed, else qemu.  --compare: the
 * agreement with sigstep go (cmd_native_go_compare.c).
 * Every boundary of the N-th call (default 200) of F (default
 * runtime.nanotime1; a bare name is the runtime's) made
 * within a call of R (default time.Since), a real SIGPROF at each, the
 * sample sigprof gives the profile buffer judged against the shadow
 * stack.  The summary is `sigstep run`'s, plus where the boundaries lay,
 * the vDSO's seqlock retries and the time limit; --json writes the record
 * with "engine": "ptrace" or "qemu"; --junit, --sarif and --html are sigstep run's
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
#include "go_engine.h"
#include "report.h"

static const char usage[] =
	"usage: sigstep native --go PROGRAM [--emulator auto|host|qemu] [--function F] [--root R] [--call N]\n"
	"                      [--timeout SECONDS] [--list-boundaries|--boundaries] [--json FILE|-] [--junit FILE]\n"
	"                      [--sarif FILE] [--html FILE]\n"
	"       sigstep native --compare --go PROGRAM [--emulator auto|host|qemu] [--function F] [--root R]\n"
	"                      [--call N] [--timeout SECONDS]\n";

static void print_stats(FILE *out, const struct go_engine_config *c, const struct go_engine_stats *st)
{
	fprintf(out, "call       %" PRIu64 " of %s within %s\n", c->call ? c->call : GO_ENGINE_DEFAULT_CALL,
		c->function ? c->function : "runtime.nanotime1", c->root ? c->root : "time.Since");
	fprintf(out, "where      %" PRIu64 " in the function, %" PRIu64 " in the kernel's vDSO, %" PRIu64
		" in what it called\n", st->in_function, st->in_vdso, st->elsewhere);
	if (st->has_vdso)
		fprintf(out, "vdso       %" PRIu64 " calls, %" PRIu64 " seqlock retries seen (%" PRIu64
			" instructions re-run, stepped without a signal)\n", st->vdso_calls, st->vdso_retries,
			st->retry_steps);
	else
		fprintf(out, "vdso       none (%s gives the program none: the fallback path ran)\n", st->emulator);
	if (!strcmp(st->backend, "qemu"))
		fprintf(out, "threads    %" PRIu64 " other threads held under host ptrace%s (the gdbstub cannot stop"
			" them); %" PRIu64 " stops of threads not held\n", st->threads_held,
			st->threads_unheld ? ", the rest not (ptrace refused)" : "", st->foreign_stops);
	fprintf(out, "handler    ran a boundary's own instruction %" PRIu64 " times (its own clock read)\n",
		st->handler_nested);
	if (st->empty_steps)
		fprintf(out, "steps      %" PRIu64 " came back with nothing run, stepped again\n", st->empty_steps);
	fprintf(out, "limit      %u s%s\n", st->limit_s, st->limit_reached ? ": REACHED, the call was cut" : "");
}

static void json_record(FILE *out, const struct probe_result *r, const struct go_engine_stats *st)
{
	fputc('{', out);
	json_record_head(out, r);
	fprintf(out, ", \"inject\": \"%s\", \"engine\": \"%s\",\n  \"emulator\": \"%s\", \"vdso_kind\": \"%s\"",
		st->backend, st->backend, st->emulator, st->has_vdso ? "kernel" : "none");
	fprintf(out, ",\n  \"boundaries\": %" PRIu64 ", \"verdicts\": ", r->boundaries);
	json_verdicts(out, r);
	fprintf(out, ",\n  \"in_function\": %" PRIu64 ", \"in_vdso\": %" PRIu64 ", \"elsewhere\": %" PRIu64
		", \"vdso_calls\": %" PRIu64 ", \"vdso_retries\": %" PRIu64 ", \"retry_steps\": %" PRIu64
		", \"handler_nested\": %" PRIu64 ", \"foreign_stops\": %" PRIu64 ", \"threads_held\": %" PRIu64 ", \"empty_steps\": %" PRIu64
		", \"limit_s\": %u, \"limit_reached\": %s, \"program_status\": %d",
		st->in_function, st->in_vdso, st->elsewhere, st->vdso_calls, st->vdso_retries, st->retry_steps, st->handler_nested,
		st->foreign_stops, st->threads_held, st->empty_steps,
		st->limit_s, st->limit_reached ? "true" : "false", st->program_status);
	json_record_tail(out, r);
}

int cmd_native_go(int argc, char **argv)
{
	struct go_engine_config c = { 0 };
	struct cli_outputs rep = { 0 };
	const char *emulator = "auto";
	int list = 0, compare = 0;
	const struct cli_option options[] = {
		CLI_VALUE("--go", &c.program), CLI_VALUE("--function", &c.function), CLI_VALUE("--root", &c.root),
		CLI_VALUE("--call", NULL), CLI_VALUE("--timeout", NULL), CLI_VALUE("--json", &rep.path[CLI_OUT_JSON]),
		CLI_VALUE("--junit", &rep.path[CLI_OUT_JUNIT]), CLI_VALUE("--sarif", &rep.path[CLI_OUT_SARIF]),
		CLI_VALUE("--html", &rep.path[CLI_OUT_HTML]), CLI_VALUE("--emulator", &emulator),
		CLI_FLAG("--list-boundaries", &list), CLI_FLAG("--boundaries", &list), CLI_FLAG("--compare", &compare),
		CLI_END,
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
	enum go_emulator emu = GO_EMULATOR_AUTO;
	if (!strcmp(emulator, "host"))
		emu = GO_EMULATOR_HOST;
	else if (!strcmp(emulator, "qemu"))
		emu = GO_EMULATOR_QEMU;
	else if (strcmp(emulator, "auto"))
		return cli_fail_in("native", "unknown emulator '%s' (auto, host or qemu)%s", emulator, "");
	if (compare) {
		for (int k = 0; k < CLI_OUT_COUNT; k++)
			if (rep.path[k])
				return cli_fail_in("native", "--compare --go prints its table only (no report files)%s%s", "", "");
		if (list)
			return cli_fail_in("native", "--compare --go prints its table only (no --boundaries)%s%s", "", "");
		return native_go_compare(&c, emu);
	}

	/* Every report file is opened before the run (a path that cannot be
	 * written costs nothing) and not truncated until there is a record. */
	if (cli_outputs_open("native", &rep, 1u << CLI_OUT_JSON | 1u << CLI_OUT_JUNIT | 1u << CLI_OUT_SARIF |
						     1u << CLI_OUT_HTML))
		return 2;
	FILE *out = cli_outputs_text(&rep);
	c.boundary_log = list ? out : NULL;
	struct probe_result r;
	struct go_engine_stats st;
	char err[512];
	if (go_engine_run(&c, emu, &r, &st, err, sizeof err)) {
		cli_outputs_drop(&rep);
		return cli_fail_in("native", "%s%s", err, "");
	}

	fprintf(out, "sigstep native --go: arch=%s program=%s function=%s engine=%s (%s) vdso=%s\n", r.arch,
		r.variant, c.function ? c.function : "runtime.nanotime1", st.backend, st.emulator,
		st.has_vdso ? "kernel" : "none");
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
