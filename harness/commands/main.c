/*
 * sigstep: the command line.
 *
 *   sigstep exec --arch {386,amd64,arm} --variant NAME [--build-dir DIR]
 *                [--vdso-base ADDR | --no-vdso] [--timeout SECONDS]
 *                [-- GUEST-ARGS...]
 *
 * exec runs DIR/guest/<arch>/sigstep-guest-<variant> in Unicorn with the
 * synthetic vDSO DIR/guest/<arch>/vdso.so announced in AT_SYSINFO_EHDR,
 * prints what the guest wrote, and exits with the guest's exit status.
 * Exit 1 if the guest faulted, 2 on unusable input (bad option, unknown
 * arch or variant, corrupt ELF, a syscall the harness does not emulate).
 *
 *   sigstep run --arch {386,amd64,arm} --variant NAME [--function walltime|nanotime]
 *               [--context curg|g0|gsignal] [--sigprof go1.10|go1.11|go1.19|modern]
 *               [--no-vdso | --vdso-base ADDR] [--handler-budget N] [--iterations N]
 *               [--timeout SECONDS] [--json FILE|-] [--build-dir DIR]
 *
 * run probes one chain at every instruction boundary (harness/probe/probe.h):
 * the summary goes to stdout (to stderr when the JSON does), the JSON
 * record to FILE; --boundaries adds a "boundary PC WHERE VERDICT" line per
 * boundary, in execution order.  The run is bounded in time (--timeout,
 * default PROBE_DEFAULT_TIMEOUT_S: far beyond any correct run) and says so
 * when it stops there.  Exit 0 if every boundary passes and the invariants
 * hold, 1 otherwise, 2 on unusable input.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch_ops.h"
#include "cli.h"
#include "commands.h"
#include "probe.h"
#include "report.h"
#include "run.h"

#define DEFAULT_TIMEOUT_S 300

static const char usage[] =
	"usage: sigstep exec --arch {386,amd64,arm} --variant NAME [--build-dir DIR]\n"
	"                    [--vdso-base ADDR | --no-vdso] [--timeout SECONDS] [-- GUEST-ARGS...]\n"
	"       sigstep run --arch {386,amd64,arm} --variant NAME [--function walltime|nanotime]\n"
	"                   [--context curg|g0|gsignal] [--sigprof go1.10|go1.11|go1.19|modern]\n"
	"                   [--no-vdso | --vdso-base ADDR] [--handler-budget N] [--iterations N]\n"
	"                   [--timeout SECONDS] [--boundaries] [--build-dir DIR]\n"
	"                   " CLI_OUTPUTS_USAGE "\n"
	"       sigstep run --scenario FILE [--arch A] [--build-dir DIR] [--handler-budget N] " CLI_ROWS_OUTPUTS_USAGE "\n"
	"       sigstep run --schedule FILE [--build-dir DIR] [--boundaries] " CLI_ROWS_OUTPUTS_USAGE "\n"
	"       sigstep fuzz --arch A (--variant V | FILE.S) [--function F] [--context C] [--sigprof ERA]\n"
	"                    [--seed S] [--runs N | --max-time SECONDS] [--corpus DIR] [--json FILE|-]\n"
	"                    [--build-dir DIR]\n"
	"       sigstep check --arch A FILE.S [--function F] [--context C] [--sigprof ERA]\n"
	"                     [--no-vdso | --vdso-base ADDR] [--boundaries] [--keep-image DIR]\n"
	"                     [--build-dir DIR] " CLI_OUTPUTS_USAGE "\n"
	"       sigstep matrix [--build-dir DIR] [--jobs N] [--expectations FILE] [--vdso-base ADDR]\n"
	"                      [--no-scenarios] " CLI_ROWS_OUTPUTS_USAGE "\n"
	"       sigstep go PROGRAM [--engine unicorn|ptrace] [--function nanotime1|walltime|time.now|NAME] [--call N]\n"
	"                  [--no-vdso] [--knobs LIST] [--vdso-base ADDR] [--handler-budget N] [--boundaries]\n"
	"                  [--json FILE|-] [--build-dir DIR] [-- PROGRAM-ARGS...]\n"
	"       sigstep go --exec PROGRAM [--no-vdso] [--vdso-base ADDR] [--max-insns N] [-- ARGS...]\n"
	"       sigstep native --arch A (--variant V | FILE.S) --inject step|break|itimer\n"
	"                      [--emulator auto|qemu|host] [--vdso kernel|synthetic] [--function F]\n"
	"                      [--context C] [--budget-ms N] [--json FILE|-] [--junit FILE] [--sarif FILE]\n"
	"                      [--build-dir DIR]\n"
	"       sigstep native --compare --arch A (--variant V | FILE.S) [--function F] [--context C]\n"
	"                      [--budget-ms N]\n"
	"       sigstep native --host-check --arch A [--vdso kernel]\n"
	"       sigstep native --go PROGRAM [--function F] [--root R] [--call N] [--json FILE|-]\n"
	"       sigstep annotate --arch A (--variant V | FILE.S) [--function F] [--context C...]\n"
	"                        [--sigprof ERA...] [--stacks] [--no-vdso] [--build-dir DIR]\n"
	"       sigstep --version\n"
	"       sigstep CMD --help\n"
	"Exit status: 0 every expectation met, 1 a violation or an unmet expectation, 2 unusable input.\n";

static const char exec_usage[] =
	"usage: sigstep exec --arch {386,amd64,arm} --variant NAME [--build-dir DIR]\n"
	"                    [--vdso-base ADDR | --no-vdso] [--timeout SECONDS] [-- GUEST-ARGS...]\n";

static const char run_usage[] =
	"usage: sigstep run --arch {386,amd64,arm} --variant NAME [--function walltime|nanotime]\n"
	"                   [--context curg|g0|gsignal] [--sigprof go1.10|go1.11|go1.19|modern]\n"
	"                   [--no-vdso | --vdso-base ADDR] [--handler-budget N] [--iterations N]\n"
	"                   [--boundaries] [--build-dir DIR] " CLI_OUTPUTS_USAGE "\n"
	"       sigstep run --scenario FILE [--arch A] [--build-dir DIR] [--handler-budget N] " CLI_ROWS_OUTPUTS_USAGE "\n"
	"       sigstep run --schedule FILE [--build-dir DIR] [--boundaries] " CLI_ROWS_OUTPUTS_USAGE "\n";

/* Is `name` listed in the build's variants.txt (when there is one)? */
static int variant_known(const char *dir, const char *name, char *list, size_t n)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/variants.txt", dir);
	FILE *f = fopen(path, "r");
	list[0] = 0;
	if (!f)
		return -1;
	if (!fgets(list, (int)n, f))
		list[0] = 0;
	fclose(f);
	list[strcspn(list, "\n")] = 0;
	for (char *p = list; *p; p++)
		if (*p == ';')
			*p = ' ';
	size_t len = strlen(name);
	for (const char *p = list; (p = strstr(p, name)); p += len)
		if ((p == list || p[-1] == ' ') && (p[len] == 0 || p[len] == ' '))
			return 1;
	return 0;
}

/*
 * The arch and the variant a command names, held to the build: ops, the
 * build directory (the default one, in dirbuf, when none is named) and
 * DIR/guest/<arch> in guest_dir.  0; or 2 after one line naming cmd (NULL:
 * none).
 */
static int find_guest(const char *cmd, const char *arch, const char *variant, const struct arch_ops **ops,
		      const char **build_dir, char *dirbuf, size_t dirlen, char *guest_dir, size_t guestlen)
{
	char list[512];
	if (!(*ops = cli_arch(cmd, arch)))
		return 2;
	if (!*build_dir) {
		cli_default_build_dir(dirbuf, dirlen);
		*build_dir = dirbuf;
	}
	if (strchr(variant, '/') || !variant[0])
		return cli_fail_in(cmd, "unknown variant '%s'%s", variant, "");
	snprintf(guest_dir, guestlen, "%s/guest/%s", *build_dir, (*ops)->name);
	if (variant_known(guest_dir, variant, list, sizeof list) == 0)
		return cli_fail_in(cmd, "unknown variant '%s' (built for this arch: %s)", variant, list);
	return 0;
}

static int cmd_exec(int argc, char **argv)
{
	const char *arch = NULL, *variant = NULL, *build_dir = NULL;
	uint64_t vdso_base = 0, timeout = DEFAULT_TIMEOUT_S;
	const char *base_arg = NULL;
	int no_vdso = 0, i;
	char dirbuf[PATH_MAX];
	const struct cli_option options[] = {
		CLI_VALUE("--arch", &arch), CLI_VALUE("--variant", &variant), CLI_VALUE("--build-dir", &build_dir),
		CLI_VALUE("--vdso-base", NULL), CLI_VALUE("--timeout", NULL), CLI_FLAG("--no-vdso", &no_vdso), CLI_END,
	};

	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (cli_help(a, exec_usage))
			return 0;
		int used = cli_option("exec", options, a, v);
		if (!used)
			return 2;
		i += used - 1;
		if (!strcmp(a, "--vdso-base"))
			base_arg = v;
		if (!strcmp(a, "--timeout") && (cli_parse_u64(v, 0, &timeout) || timeout > 86400))
			return cli_fail("exec: bad --timeout '%s'%s", v, "");
	}
	if (!arch)
		return cli_fail("exec: --arch is required (386, amd64 or arm)%s%s", "", "");
	if (!variant)
		return cli_fail("exec: --variant is required%s%s", "", "");
	if (no_vdso && base_arg)
		return cli_fail("exec: --no-vdso and --vdso-base exclude each other%s%s", "", "");

	const struct arch_ops *ops;
	char guest_dir[PATH_MAX + 32], image[PATH_MAX + 96], vdso[PATH_MAX + 48];
	int bad = find_guest(NULL, arch, variant, &ops, &build_dir, dirbuf, sizeof dirbuf, guest_dir,
			     sizeof guest_dir);
	if (bad)
		return bad;
	if (base_arg && cli_vdso_base("exec", base_arg, ops, &vdso_base))
		return 2;
	snprintf(image, sizeof image, "%s/sigstep-guest-%s", guest_dir, variant);
	snprintf(vdso, sizeof vdso, "%s/vdso.so", guest_dir);
	if (access(image, R_OK))
		return cli_fail("unknown variant '%s': no image %s", variant, image);

	/* argv[0] is the image's file name, not its path, so that the
	 * initial stack (and every address below it) does not depend on
	 * where the build directory is. */
	int gargc = 1 + (argc - i);
	const char **gargv = calloc((size_t)gargc + 1, sizeof *gargv);
	if (!gargv)
		return cli_fail("out of memory%s%s", "", "");
	gargv[0] = strrchr(image, '/') + 1;
	for (int k = 1; k < gargc; k++)
		gargv[k] = argv[i + k - 1];

	struct guest_config cfg = {
		.ops = ops,
		.image_path = image,
		.vdso_path = no_vdso ? NULL : vdso,
		.vdso_base = vdso_base,
		.argc = gargc,
		.argv = gargv,
	};
	struct guest g;
	char err[LOADER_ERR_MAX];
	const char *bad_file;
	if (guest_load(&g, &cfg, err, &bad_file)) {
		free(gargv);
		if (bad_file)
			return cli_fail("%s: %s", bad_file, err);
		return cli_fail("%s%s", err, "");
	}
	int faulted = guest_run(&g, (unsigned)timeout);

	for (int fd = 1; fd <= 2; fd++) {
		const struct outbuf *o = &g.mc->out[fd];
		FILE *f = fd == 1 ? stdout : stderr;
		fwrite(o->data ? o->data : "", 1, o->len, f);
		if (o->dropped)
			fprintf(f, "\nsigstep: %zu more bytes of guest output to fd %d dropped\n", o->dropped, fd);
		fflush(f);
	}
	int status;
	if (faulted) {
		char line[512];
		status = guest_fault_line(&g, line, sizeof line);
		fprintf(stderr, "sigstep: %s\n", line);
	} else {
		status = g.mc->exit_status;
	}
	guest_free(&g);
	free(gargv);
	return status;
}

static int cmd_run(int argc, char **argv)
{
	const char *arch = NULL, *variant = NULL, *build_dir = NULL;
	const char *function = "walltime", *context = "curg", *sigprof = NULL;
	struct cli_outputs out = { 0 };
	uint64_t budget = 0, vdso_base = 0;
	int no_vdso = 0, list_boundaries = 0;
	uint64_t iterations = 1, timeout = 0;
	const char *base_arg = NULL;
	char dirbuf[PATH_MAX];
	const struct cli_option options[] = {
		CLI_VALUE("--arch", &arch), CLI_VALUE("--variant", &variant), CLI_VALUE("--function", &function),
		CLI_VALUE("--context", &context), CLI_VALUE("--sigprof", &sigprof), CLI_OUTPUTS(&out),
		CLI_VALUE("--build-dir", &build_dir), CLI_VALUE("--handler-budget", NULL),
		CLI_VALUE("--iterations", NULL), CLI_VALUE("--timeout", NULL), CLI_FLAG("--no-vdso", &no_vdso),
		CLI_VALUE("--vdso-base", &base_arg),
		CLI_FLAG("--boundaries", &list_boundaries), CLI_END,
	};

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (cli_help(a, run_usage))
			return 0;
		int used = cli_option("run", options, a, v);
		if (!used)
			return 2;
		i += used - 1;
		if (!strcmp(a, "--iterations") &&
		    (cli_parse_u64(v, 0, &iterations) || iterations == 0 || iterations > PROBE_MAX_ITERATIONS))
			return cli_fail("run: bad --iterations '%s' (1 to %s)", v, PROBE_MAX_ITERATIONS_TEXT);
		if (!strcmp(a, "--handler-budget") && (cli_parse_u64(v, 0, &budget) || budget == 0))
			return cli_fail("run: bad --handler-budget '%s'%s", v, "");
		if (!strcmp(a, "--timeout") && (cli_parse_u64(v, 10, &timeout) || timeout == 0 || timeout > 86400))
			return cli_fail("run: bad --timeout '%s' (seconds, 1 to 86400)%s", v, "");
	}
	if (!arch)
		return cli_fail("run: --arch is required (386, amd64 or arm)%s%s", "", "");
	if (!variant)
		return cli_fail("run: --variant is required%s%s", "", "");
	if (cli_function_context("run", function, context))
		return 2;
	int era = -1;
	if (sigprof && (era = cli_era_from_name(sigprof)) < 0)
		return cli_fail("run: unknown --sigprof '%s' (go1.10, go1.11, go1.19 or modern)%s", sigprof, "");
	const struct arch_ops *ops;
	char guest_dir[PATH_MAX + 32];
	int bad = find_guest("run", arch, variant, &ops, &build_dir, dirbuf, sizeof dirbuf, guest_dir,
			     sizeof guest_dir);
	if (bad)
		return bad;
	if (base_arg && no_vdso)
		return cli_fail("run: --no-vdso and --vdso-base exclude each other%s%s", "", "");
	if (base_arg && cli_vdso_base("run", base_arg, ops, &vdso_base))
		return 2;

	if (cli_outputs_open("run", &out, ~0u))
		return 2;
	FILE *text = cli_outputs_text(&out);
	struct probe_config cfg = {
		.ops = ops, .build_dir = build_dir, .variant = variant, .function = function,
		.context = context, .era = era, .vdso = !no_vdso, .vdso_base = vdso_base, .handler_budget = budget,
		.progress = 1,
		.iterations = iterations, .timeout_s = timeout,
		.boundary_log = list_boundaries ? text : NULL,
	};
	struct sample_log samples = { 0 };
	if (out.path[CLI_OUT_PPROF])
		cfg.on_sample = sample_log_add, cfg.sample_ctx = &samples;
	struct probe_result res;
	char err[256];
	if (probe_run(&cfg, &res, err, sizeof err)) {
		cli_outputs_drop(&out);
		sample_log_free(&samples);
		return cli_fail("run: %s%s", err, "");
	}
	if (out.path[CLI_OUT_PPROF]) {
		char image[PATH_MAX + 96], vdso[PATH_MAX + 48];
		snprintf(image, sizeof image, "%s/sigstep-guest-%s", guest_dir, variant);
		snprintf(vdso, sizeof vdso, "%s/vdso.so", guest_dir);
		sample_log_locate(&samples, image, vdso, res.vdso_base);
	}
	probe_print_summary(text, &res);
	int status = res.pass ? 0 : 1;
	char why[320];
	struct report_row row = { .res = &res, .source = "run", .met = res.pass, .why = report_why_not_pass(&res, why, sizeof why),
				  .samples = &samples };
	report_row_name(&row, NULL);
	if (cli_outputs_write("run", &out, &row, 1))
		status = 2;
	probe_result_free(&res);
	sample_log_free(&samples);
	return status;
}

/* Is `name` among argv[0..argc)?  (Options come in any order.) */
static int has_word(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return fputs(usage, stderr), 2;
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		return fputs(usage, stdout), 0;
	if (!strcmp(argv[1], "--version"))
		return puts("sigstep " SIGSTEP_VERSION), 0;
	if (!strcmp(argv[1], "exec"))
		return cmd_exec(argc - 2, argv + 2);
	if (!strcmp(argv[1], "run") && has_word(argc - 2, argv + 2, "--schedule"))
		return cmd_schedule_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "fuzz"))
		return cmd_fuzz(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run") && has_word(argc - 2, argv + 2, "--scenario"))
		return cmd_scenario_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "matrix"))
		return cmd_matrix(argc - 1, argv + 1);
	if (!strcmp(argv[1], "go"))
		return cmd_go(argc - 1, argv + 1);
	if (!strcmp(argv[1], "annotate"))
		return cmd_annotate(argc - 1, argv + 1);
	if (!strcmp(argv[1], "native"))
		return cmd_native(argc - 1, argv + 1);
	return cli_fail("unknown command '%s' (try: sigstep --help)%s", argv[1], "");
}
