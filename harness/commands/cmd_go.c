/*
 * sigstep go: a real Go program (a static linux binary for 386, amd64 or
 * arm, arch from its ELF header) in the Unicorn machine, on the emulated
 * Linux of harness/engine (threads, futexes, signals, timers, the files
 * Go opens at start).
 *
 *   sigstep go PROGRAM [--engine unicorn|ptrace|qemu] [--function nanotime1|walltime|time.now|NAME] [--call N]
 *              [--no-vdso] [--knobs LIST] [--vdso-base ADDR] [--handler-budget N]
 *              [--boundaries] [--json FILE|-] [--junit FILE] [--sarif FILE] [--pprof FILE]
 *              [--html FILE] [--build-dir DIR] [-- PROGRAM-ARGS...]
 *
 * probes the N-th call (default 200) of the function (default nanotime1;
 * a bare name is the runtime's) at every instruction boundary with the
 * program's own SIGPROF handler (harness/probe/subject_go.c), and prints
 * the same summary and JSON record as sigstep run ("subject": "go", the
 * Go version), and the reports of sigstep run (harness/reports): a
 * violation's source line is the Go file:line of the program's own
 * pclntab (runtime/sys_linux_amd64.s:299), a vDSO pc's the synthetic
 * vDSO's; --pprof's samples are the stacks the handler gave the profile
 * buffer.  --engine ptrace runs it on this machine's CPU instead,
 * --engine qemu under qemu-user's gdbstub (sigstep native --go
 * --emulator host|qemu; --function, --call, --boundaries, --json, --junit,
 * --sarif, --html).  Exit 0 if every boundary passes and the program exits 0,
 * 1 otherwise, 2 on unusable input.
 *
 *   sigstep go --exec PROGRAM [--no-vdso] [--vdso-base ADDR] [--max-insns N]
 *              [--timeout SECONDS] [--build-dir DIR] [-- PROGRAM-ARGS...]
 *
 * --exec boots the runtime and runs the program to its exit: its output,
 * then one line on stderr with the instructions it ran, its threads and
 * the host time it took; the exit status is the program's.  A fault or a
 * hang (instruction or time limit, deadlock) is one line with the PC as
 * function+offset, exit 1; unusable input (not ELF, not static, an
 * unemulated syscall, named) exit 2.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arch_ops.h"
#include "cli.h"
#include "commands.h"
#include "gobinary.h"
#include "probe.h"
#include "probe_internal.h"
#include "report.h"
#include "run.h"
#include "syscalls.h"
#include "threads.h"

#define GO_TIMEOUT_S 120

#define GO_DEFAULT_CALL 200

static const char go_usage[] =
	"usage: sigstep go PROGRAM [--engine unicorn|ptrace|qemu] [--function nanotime1|walltime|time.now|NAME] [--call N]\n"
	"                  [--no-vdso] [--knobs LIST] [--vdso-base ADDR] [--handler-budget N]\n"
	"                  [--boundaries] " CLI_OUTPUTS_USAGE "\n"
	"                  [--build-dir DIR] [-- PROGRAM-ARGS...]\n"
	"       sigstep go --exec PROGRAM [--no-vdso] [--vdso-base ADDR] [--max-insns N]\n"
	"                  [--timeout SECONDS] [--build-dir DIR] [-- PROGRAM-ARGS...]\n";

/* --knobs clobber,callee_saved,stack=BYTES,sse_align (as scenario files
 * spell them).  0, or 2 after one line. */
static int parse_knobs(const char *list, struct probe_config *cfg)
{
	char buf[128];
	if (strlen(list) >= sizeof buf)
		return cli_fail("go: --knobs '%s' too long%s", list, "");
	snprintf(buf, sizeof buf, "%s", list);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		uint64_t n;
		if (!strcmp(t, "clobber"))
			cfg->knob_clobber = 1;
		else if (!strcmp(t, "callee_saved"))
			cfg->knob_callee_saved = 1;
		else if (!strcmp(t, "sse_align"))
			cfg->knob_sse_align = 1;
		else if (!strncmp(t, "stack=", 6) && !cli_parse_u64(t + 6, 0, &n) && n > 0 && n < (1u << 24))
			cfg->knob_stack_bytes = (uint32_t)n;
		else if (strcmp(t, "none"))
			return cli_fail("go: unknown knob '%s' (none, clobber, callee_saved, stack=BYTES, sse_align)%s",
					t, "");
	}
	return 0;
}

static int go_probe(const char *program, const char *build_dir, struct probe_config *cfg, struct cli_outputs *out,
		    int list_boundaries)
{
	struct gobinary *gb;
	char gerr[GOBINARY_ERR_MAX], dirbuf[PATH_MAX], vdso[PATH_MAX + 64];
	if (gobinary_open(program, &gb, gerr, sizeof gerr))
		return cli_fail("go: %s%s", gerr, "");
	cfg->ops = gobinary_arch(gb);
	/* the program's text: where its pclntab's file names are Go's */
	uint64_t text_lo = gobinary_text_start(gb), text_hi = gobinary_etext(gb);
	gobinary_close(gb);
	if (!build_dir) {
		cli_default_build_dir(dirbuf, sizeof dirbuf);
		build_dir = dirbuf;
	}
	snprintf(vdso, sizeof vdso, "%s/guest/%s/vdso.so", build_dir, cfg->ops->name);
	cfg->build_dir = build_dir;
	cfg->program = program;
	cfg->subject = &probe_subject_go;
	cfg->progress = 1;
	/* Every report file is opened before the run (a path that cannot be
	 * written costs nothing) and not truncated until there is a record. */
	if (cli_outputs_open("go", out, ~0u))
		return 2;
	FILE *text = cli_outputs_text(out);
	cfg->boundary_log = list_boundaries ? text : NULL;
	/* the samples as the program's own handler built them: Go's pcbuf */
	struct sample_log samples = { .pcs_past = 1 };
	if (out->path[CLI_OUT_PPROF])
		cfg->on_sample = sample_log_add, cfg->sample_ctx = &samples;
	struct probe_result res;
	char err[512];
	if (probe_run(cfg, &res, err, sizeof err)) {
		cli_outputs_drop(out);
		sample_log_free(&samples);
		return cli_fail("go: %s%s", err, "");
	}
	report_locate_violations(&res, program, cfg->vdso ? vdso : NULL);
	if (out->path[CLI_OUT_PPROF])
		sample_log_locate(&samples, program, cfg->vdso ? vdso : NULL, res.vdso_base);
	probe_print_summary(text, &res);
	int status = res.pass ? 0 : 1;
	char why[320];
	struct report_row row = { .res = &res, .source = "go", .met = res.pass,
				  .why = report_why_not_pass(&res, why, sizeof why), .samples = &samples,
				  .text_base = "GOROOT_SRC", .text_lo = text_lo, .text_hi = text_hi };
	report_row_name(&row, NULL);
	if (cli_outputs_write("go", out, &row, 1))
		status = 2;
	sample_log_free(&samples);
	probe_result_free(&res);
	return status;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The environment a Go program gets: none of the host's, so that a run
 * does not depend on who runs it. */
static const char *const go_env[] = { "PATH=/bin", NULL };

static int go_exec(const char *program, const char *build_dir, int no_vdso, uint64_t vdso_base,
		   uint64_t max_insns, uint64_t timeout, int pargc, char **pargv)
{
	const struct arch_ops *ops;
	char err[LOADER_ERR_MAX], dirbuf[PATH_MAX], vdso[PATH_MAX + 64];
	if (loader_program_arch(program, &ops, err))
		return cli_fail("go: %s: %s", program, err);
	if (!build_dir) {
		cli_default_build_dir(dirbuf, sizeof dirbuf);
		build_dir = dirbuf;
	}
	snprintf(vdso, sizeof vdso, "%s/guest/%s/vdso.so", build_dir, ops->name);
	if (!no_vdso && access(vdso, R_OK))
		return cli_fail("go: no synthetic vDSO %s (build it, or --no-vdso)%s", vdso, "");

	/* argv[0] is the file name only: the stack does not depend on where
	 * the program lies. */
	const char **argv = calloc((size_t)pargc + 2, sizeof *argv);
	if (!argv)
		return cli_fail("out of memory%s%s", "", "");
	const char *slash = strrchr(program, '/');
	argv[0] = slash ? slash + 1 : program;
	for (int i = 0; i < pargc; i++)
		argv[1 + i] = pargv[i];
	struct guest_config cfg = {
		.ops = ops, .image_path = program, .vdso_path = no_vdso ? NULL : vdso, .vdso_base = vdso_base,
		.argc = 1 + pargc, .argv = argv, .linux_process = 1, .envc = 1, .envp = go_env,
		.max_insns = max_insns,
	};
	struct guest g;
	const char *bad_file;
	double t0 = now_s();
	if (guest_load(&g, &cfg, err, &bad_file)) {
		free(argv);
		return cli_fail("go: %s: %s", bad_file ? bad_file : program, err);
	}
	int faulted = guest_run(&g, (unsigned)timeout);
	double dt = now_s() - t0;
	for (int fd = 1; fd <= 2; fd++) {
		const struct outbuf *o = &g.mc->out[fd];
		FILE *f = fd == 1 ? stdout : stderr;
		fwrite(o->data ? o->data : "", 1, o->len, f);
		fflush(f);
	}
	const struct thread_table *tt = g.mc->threads;
	fprintf(stderr, "sigstep: go: %s %s: %llu instructions, %u threads, %llu switches, %llu syscalls, %.3f s\n",
		ops->name, no_vdso ? "no-vdso" : "vdso", (unsigned long long)threads_insns(g.mc), tt->n,
		(unsigned long long)tt->switches, (unsigned long long)g.mc->sys->nsyscalls, dt);
	int status;
	if (faulted) {
		char line[512];
		status = guest_fault_line(&g, line, sizeof line);
		fprintf(stderr, "sigstep: go: %s\n", line);
	} else {
		status = g.mc->exit_status;
	}
	guest_free(&g);
	free(argv);
	return status;
}

/*
 * --engine ptrace|qemu: the same program on the native Go engine
 * (harness/native/go_engine.h): this machine's CPU with the kernel's
 * vDSO, or qemu-user's gdbstub, as `sigstep native --go --emulator
 * host|qemu` runs it; the options both engines have are passed on.
 */
static int go_ptrace(int argc, char **argv)
{
	const char **nargv = calloc((size_t)argc + 3, sizeof *nargv);
	int n = 0;
	if (!nargv)
		return cli_fail("out of memory%s%s", "", "");
	nargv[n++] = "native";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--engine")) {
			nargv[n++] = "--emulator";
			nargv[n++] = i + 1 < argc && !strcmp(argv[i + 1], "qemu") ? "qemu" : "host";
			i++;
			continue;
		}
		if (a[0] != '-') {
			nargv[n++] = "--go";
			nargv[n++] = a;
			continue;
		}
		if (!strcmp(a, "--function") || !strcmp(a, "--call") || !strcmp(a, "--json") ||
		    !strcmp(a, "--junit") || !strcmp(a, "--sarif") || !strcmp(a, "--html") || !strcmp(a, "--timeout")) {
			nargv[n++] = a;
			if (i + 1 < argc)
				nargv[n++] = argv[++i];
			continue;
		}
		if (!strcmp(a, "--boundaries")) {
			nargv[n++] = a;
			continue;
		}
		free(nargv);
		return cli_fail("go: %s is the Unicorn engine's (not --engine ptrace or qemu)%s", a, "");
	}
	nargv[n] = NULL;
	int r = cmd_native_go(n, (char **)nargv);
	free(nargv);
	return r;
}

int cmd_go(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--engine")) {
			if (!strcmp(argv[i + 1], "ptrace") || !strcmp(argv[i + 1], "qemu"))
				return go_ptrace(argc, argv);
			if (strcmp(argv[i + 1], "unicorn"))
				return cli_fail("go: unknown --engine '%s' (unicorn, ptrace or qemu)%s", argv[i + 1], "");
		}

	const char *program = NULL, *build_dir = NULL, *exec_program = NULL;
	struct cli_outputs out = { 0 };
	const char *function = "nanotime1", *knobs = NULL;
	uint64_t vdso_base = 0, max_insns = 0, timeout = GO_TIMEOUT_S, call = GO_DEFAULT_CALL, budget = 0;
	int no_vdso = 0, list_boundaries = 0, i;
	const struct cli_option options[] = {
		CLI_VALUE("--exec", &exec_program), CLI_VALUE("--build-dir", &build_dir),
		CLI_VALUE("--function", &function), CLI_OUTPUTS(&out), CLI_VALUE("--knobs", &knobs),
		CLI_VALUE("--call", NULL), CLI_VALUE("--handler-budget", NULL),
		CLI_VALUE("--vdso-base", NULL), CLI_VALUE("--max-insns", NULL), CLI_VALUE("--timeout", NULL),
		CLI_FLAG("--no-vdso", &no_vdso), CLI_FLAG("--boundaries", &list_boundaries),
		CLI_VALUE("--engine", NULL), CLI_END,
	};
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (cli_help(a, go_usage))
			return 0;
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-') {
			if (program)
				return cli_fail("go: one PROGRAM only ('%s' and '%s')", program, a);
			program = a;
			continue;
		}
		int used = cli_option("go", options, a, v);
		if (!used)
			return 2;
		i += used - 1;
		if (!strcmp(a, "--vdso-base") && (cli_parse_u64(v, 0, &vdso_base) || !vdso_base))
			return cli_fail("go: bad --vdso-base '%s'%s", v, "");
		if (!strcmp(a, "--max-insns") && (cli_parse_u64(v, 0, &max_insns) || !max_insns))
			return cli_fail("go: bad --max-insns '%s'%s", v, "");
		if (!strcmp(a, "--timeout") && (cli_parse_u64(v, 0, &timeout) || !timeout || timeout > 86400))
			return cli_fail("go: bad --timeout '%s'%s", v, "");
		if (!strcmp(a, "--call") && (cli_parse_u64(v, 0, &call) || !call || call > 100000000))
			return cli_fail("go: bad --call '%s' (1 or more)%s", v, "");
		if (!strcmp(a, "--handler-budget") && (cli_parse_u64(v, 0, &budget) || !budget))
			return cli_fail("go: bad --handler-budget '%s'%s", v, "");
	}
	if (no_vdso && vdso_base)
		return cli_fail("go: --no-vdso and --vdso-base exclude each other%s%s", "", "");
	if (exec_program) {
		if (program)
			return cli_fail("go: --exec takes the PROGRAM ('%s' and '%s')", exec_program, program);
		for (int k = 0; k < CLI_OUT_COUNT; k++)
			if (out.path[k])
				return cli_fail("go: --exec only runs the program: it writes no report ('%s')%s", out.path[k], "");
		return go_exec(exec_program, build_dir, no_vdso, vdso_base, max_insns, timeout, argc - i, argv + i);
	}
	if (!program)
		return cli_fail("go: PROGRAM is required (try: sigstep go --help)%s%s", "", "");
	struct probe_config cfg = {
		.function = function, .vdso = !no_vdso, .vdso_base = vdso_base, .handler_budget = budget,
		.call = call, .nprogram_args = argc - i, .program_args = (const char *const *)(argv + i),
		.era = -1,
	};
	if (knobs && parse_knobs(knobs, &cfg))
		return 2;
	return go_probe(program, build_dir, &cfg, &out, list_boundaries);
}
