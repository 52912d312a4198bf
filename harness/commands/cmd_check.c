/*
 * sigstep check --arch A FILE.S [--function F] [--context C] [--sigprof ERA]
 *                [--no-vdso | --vdso-base ADDR] [--handler-budget N] [--timeout SECONDS]
 *                [--build-dir DIR] [--json FILE|-]
 *
 * A user's own trampoline file, held to the contract of arch/README.md:
 * it is assembled and linked into a guest image exactly as the build makes
 * the project's arch/<arch>/trampoline_<variant>.S into
 * sigstep-guest-<variant> -- the very commands come from
 * DIR/guest/<arch>/toolchain.txt, which arch/CMakeLists.txt writes -- and
 * the image is then probed at every instruction boundary like a built
 * variant (probe.h).  Between the two, as the build does, the image's CFI
 * is held to Go's pcsp rule and its SPWRITE table filled from its code
 * (harness/image/spwrite.h; arch/README.md, "pcsp and SPWRITE").
 *
 * The tools run by exec, never through a shell, so a file name is never
 * interpreted, each in a process group of its own (with whatever it runs
 * in turn: cc runs as and ld), within a time limit, and in a private
 * mkdtemp directory removed afterwards -- also when sigstep is
 * interrupted (cleanup.h): the tools are stopped, the directory goes.
 * Their own messages reach stderr unchanged, followed by one line naming
 * the step that failed.  As for `sigstep run`, the summary goes to stdout
 * (to stderr when the JSON does).
 */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arch_ops.h"
#include "cleanup.h"
#include "cli.h"
#include "commands.h"
#include "probe.h"
#include "report.h"
#include "spwrite.h"

/* Seconds one tool (assembler or linker) may take: each takes well under
 * one.  `sigstep check --timeout` can make it shorter. */
#define TOOL_TIMEOUT_S 120
static double tool_deadline;	/* now_s() past which no tool may run; 0: none */

static const char usage[] =
	"usage: sigstep check --arch {386,amd64,arm} FILE.S [--function {walltime,nanotime}]\n"
	"                     [--context {curg,g0,gsignal}] [--sigprof {go1.10,go1.11,go1.19,modern}]\n"
	"                     [--no-vdso | --vdso-base ADDR] [--handler-budget N] [--timeout SECONDS]\n"
	"                     [--boundaries] [--keep-image DIR] [--build-dir DIR]\n"
	"                     " CLI_OUTPUTS_USAGE "\n"
	"--boundaries: one 'boundary PC WHERE VERDICT' line per probed boundary.\n"
	"--keep-image DIR: the image that was probed is kept as DIR/sigstep-guest-NAME.\n";

/* toolchain.txt, split by role; every string points into `text` or,
 * where @GUEST@ stood, into `expanded`. */
struct toolchain {
	char *text;
	char **expanded;
	size_t nexpanded;
	const char *cc;
	const char **compile, **link, **lib;
	size_t ncompile, nlink, nlib;
};

static void toolchain_free(struct toolchain *tc)
{
	for (size_t i = 0; i < tc->nexpanded; i++)
		free(tc->expanded[i]);
	free(tc->expanded);
	free(tc->text);
	free(tc->compile);
	free(tc->link);
	free(tc->lib);
}

/* 0, or -1 with `err` saying what is wrong with the file. */
static int toolchain_read(const char *path, struct toolchain *tc, char *err, size_t errlen)
{
	memset(tc, 0, sizeof *tc);
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s (build the project first)", path, strerror(errno));
		return -1;
	}
	size_t cap = 0, len = 0;
	char buf[4096];
	for (size_t got; (got = fread(buf, 1, sizeof buf, f)) > 0;) {
		if (len + got + 1 > cap) {
			cap = (len + got + 1) * 2;
			char *t = realloc(tc->text, cap);
			if (!t) {
				fclose(f);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			tc->text = t;
		}
		memcpy(tc->text + len, buf, got);
		len += got;
	}
	fclose(f);
	if (!tc->text) {
		snprintf(err, errlen, "%s: empty", path);
		return -1;
	}
	tc->text[len] = 0;

	/* One argument per line: at most as many as there are lines. */
	size_t lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += tc->text[i] == '\n';
	tc->compile = calloc(lines, sizeof *tc->compile);
	tc->link = calloc(lines, sizeof *tc->link);
	tc->lib = calloc(lines, sizeof *tc->lib);
	if (!tc->compile || !tc->link || !tc->lib) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int lineno = 0;
	for (char *line = tc->text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		if (!line[0] || line[0] == '#')
			continue;
		char *arg = strchr(line, ' ');
		if (!arg || !arg[1])
			goto bad;
		*arg++ = 0;
		/* An installed toolchain.txt names its own directory @GUEST@. */
		char *at = strstr(arg, "@GUEST@");
		if (at) {
			size_t dlen = strrchr(path, '/') ? (size_t)(strrchr(path, '/') - path) : 1;
			const char *dir = strrchr(path, '/') ? path : ".";
			size_t n = strlen(arg) + dlen + 1;
			char *e = malloc(n), **ne = realloc(tc->expanded, (tc->nexpanded + 1) * sizeof *ne);
			if (!e || !ne) {
				free(e);
				if (ne)
					tc->expanded = ne;
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			tc->expanded = ne;
			tc->expanded[tc->nexpanded++] = e;
			snprintf(e, n, "%.*s%.*s%s", (int)(at - arg), arg, (int)dlen, dir, at + 7);
			arg = e;
		}
		if (!strcmp(line, "cc"))
			tc->cc = arg;
		else if (!strcmp(line, "compile"))
			tc->compile[tc->ncompile++] = arg;
		else if (!strcmp(line, "link"))
			tc->link[tc->nlink++] = arg;
		else if (!strcmp(line, "lib"))
			tc->lib[tc->nlib++] = arg;
		else
			goto bad;
	}
	if (!tc->cc) {
		snprintf(err, errlen, "%s: no 'cc' line", path);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "%s:%d: expected 'cc|compile|link|lib ARGUMENT'", path, lineno);
	return -1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define SPAWN_TIMED_OUT (-2)

/* Runs argv[0] (found on PATH if it has no slash) with the caller's
 * stdout/stderr, in a process group of its own that dies with sigstep.
 * Its exit status; SPAWN_TIMED_OUT after it ran past the tool's time
 * limit (the group is stopped); -1 with errno if it could not start or did
 * not exit normally. */
static int spawn_wait(const char *const *argv)
{
	int gate[2];	/* closed on exec: the child is in its group by then */
	if (pipe2(gate, O_CLOEXEC))
		return -1;
	fflush(NULL);
	pid_t parent = getpid(), pid = fork();
	if (pid < 0) {
		close(gate[0]);
		close(gate[1]);
		return -1;
	}
	if (pid == 0) {
		close(gate[0]);
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		execvp(argv[0], (char *const *)argv);
		int e = errno;
		(void)!write(gate[1], &e, sizeof e);
		_exit(127);
	}
	close(gate[1]);
	setpgid(pid, pid);	/* either side may get there first */
	cleanup_add_child(pid, 1);
	int exec_errno = 0;
	ssize_t got;
	while ((got = read(gate[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
		;
	close(gate[0]);

	double deadline = now_s() + TOOL_TIMEOUT_S;
	if (tool_deadline && tool_deadline < deadline)
		deadline = tool_deadline;
	int status = 0, timed_out = 0;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			cleanup_forget_child(pid);
			return -1;
		}
		/* Past the limit: SIGTERM, so that cc removes its own temporary
		 * files, and SIGKILL two seconds later if anything is left. */
		if (timed_out < 2 && now_s() >= deadline) {
			kill(-pid, timed_out ? SIGKILL : SIGTERM);
			timed_out++;
			deadline += 2;
		}
		struct timespec ts = { 0, 5 * 1000000L };
		nanosleep(&ts, NULL);
	}
	kill(-pid, SIGKILL);	/* whatever the tool left running in its group */
	cleanup_forget_child(pid);
	if (got == sizeof exec_errno) {
		errno = exec_errno;
		return -1;
	}
	if (timed_out)
		return SPAWN_TIMED_OUT;
	if (!WIFEXITED(status)) {
		errno = EINTR;
		return -1;
	}
	return WEXITSTATUS(status);
}

/* A tool that did not finish in time: the one line, status 2. */
static int tool_timed_out(const char *src, const char *step)
{
	char what[120];
	if (tool_deadline && now_s() >= tool_deadline)
		snprintf(what, sizeof what, "%s stopped: the run reached its time limit (--timeout)", step);
	else
		snprintf(what, sizeof what, "%s stopped: it ran past the tool's time limit (%d s)", step, TOOL_TIMEOUT_S);
	return cli_fail("%s: %s", src, what);
}

/*
 * The image's file name: sigstep-guest-<stem>, <stem> being the source's
 * name without "trampoline_" and ".S", as the build names its images.  The
 * probe gives the guest its image's file name as argv[0], which lands on
 * the initial stack; the same name keeps every address the same as for
 * the built variant.
 */
static void image_name(const char *src, char *buf, size_t n)
{
	const char *base = strrchr(src, '/');
	base = base ? base + 1 : src;
	if (!strncmp(base, "trampoline_", 11))
		base += 11;
	size_t len = strcspn(base, ".");
	int ok = len > 0 && len < 48;
	for (size_t i = 0; ok && i < len; i++) {
		char c = base[i];
		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		     c == '_' || c == '-';
	}
	if (ok)
		snprintf(buf, n, "sigstep-guest-%.*s", (int)len, base);
	else
		snprintf(buf, n, "sigstep-guest-check");
}

/*
 * Assembles `src` into `obj` and links it into `image`.  0; else 2 after
 * the tool's messages and one line naming the step.
 */
static int build_image(const struct toolchain *tc, const char *src, const char *obj, const char *image)
{
	size_t n = tc->ncompile + tc->nlink + tc->nlib + 10;
	const char **argv = calloc(n, sizeof *argv);
	if (!argv)
		return cli_fail("out of memory%s%s", "", "");

	/* -pipe: the driver hands cpp's output to as through a pipe, so an
	 * interrupt that kills the tools' group mid-step leaves no cc*.s in
	 * TMPDIR (the object code is the same). */
	size_t k = 0;
	argv[k++] = tc->cc;
	argv[k++] = "-pipe";
	for (size_t i = 0; i < tc->ncompile; i++)
		argv[k++] = tc->compile[i];
	argv[k++] = "-c";
	argv[k++] = src;
	argv[k++] = "-o";
	argv[k++] = obj;
	argv[k] = NULL;
	int rc = spawn_wait(argv);
	if (rc == SPAWN_TIMED_OUT) {
		free(argv);
		return tool_timed_out(src, "assembly");
	}
	if (rc < 0) {
		free(argv);
		return cli_fail("cannot run %s: %s", tc->cc, strerror(errno));
	}
	if (rc) {
		free(argv);
		return cli_fail("%s: assembly failed%s", src, "");
	}

	k = 0;
	argv[k++] = tc->cc;
	argv[k++] = "-pipe";
	for (size_t i = 0; i < tc->nlink; i++)
		argv[k++] = tc->link[i];
	argv[k++] = obj;
	for (size_t i = 0; i < tc->nlib; i++)
		argv[k++] = tc->lib[i];
	argv[k++] = "-o";
	argv[k++] = image;
	argv[k] = NULL;
	rc = spawn_wait(argv);
	free(argv);
	if (rc == SPAWN_TIMED_OUT)
		return tool_timed_out(src, "link");
	if (rc < 0)
		return cli_fail("cannot run %s: %s", tc->cc, strerror(errno));
	if (rc)
		return cli_fail("%s: link failed%s", src, "");
	/* As the build does for every variant: the CFI held to Go's pcsp rule
	 * and Go's SPWRITE flags from the linked code into the image's table
	 * (harness/image/spwrite.h).  The message names the user's file. */
	char err[PATH_MAX + 600];
	if (spwrite_fill(image, NULL, err, sizeof err)) {
		size_t il = strlen(image);
		const char *msg = !strncmp(err, image, il) && err[il] == ':' ? err + il + 2 : err;
		return cli_fail("%s: %s", src, msg);
	}
	return 0;
}

/* The built image copied into dir (which must exist), under its own
 * name; 0, or 2 after one line. */
static int keep_image(const char *image, const char *dir)
{
	char dst[PATH_MAX + 128], buf[65536];
	const char *base = strrchr(image, '/') ? strrchr(image, '/') + 1 : image;
	snprintf(dst, sizeof dst, "%s/%s", dir, base);
	FILE *in = fopen(image, "rb");
	if (!in)
		return cli_fail("check: cannot read the built image %s: %s", image, strerror(errno));
	FILE *o = fopen(dst, "wbe");
	if (!o) {
		int e = errno;
		fclose(in);
		return cli_fail("check: --keep-image: cannot write %s: %s", dst, strerror(e));
	}
	size_t got;
	int bad = 0;
	while ((got = fread(buf, 1, sizeof buf, in)) > 0)
		bad |= fwrite(buf, 1, got, o) != got;
	bad |= ferror(in);
	fclose(in);
	if (fclose(o) || bad) {
		remove(dst);
		return cli_fail("check: --keep-image: cannot write %s: %s", dst, strerror(errno ? errno : EIO));
	}
	chmod(dst, 0755);
	fprintf(stderr, "sigstep: check: image kept as %s\n", dst);
	return 0;
}

int check_build_file(const char *build_dir, const struct arch_ops *ops, const char *file, char *dir, size_t dirlen,
		     char *image, size_t imagelen)
{
	char tcpath[PATH_MAX + 64], err[PATH_MAX + 256], obj[PATH_MAX + 32], name[80];
	struct toolchain tc;
	struct stat st;
	if (stat(file, &st))
		return cli_fail("%s: %s", file, strerror(errno));
	if (!S_ISREG(st.st_mode) || access(file, R_OK))
		return cli_fail("%s: %s", file, S_ISREG(st.st_mode) ? strerror(EACCES) : "not a regular file");
	/* The build assembles FILE as the compiler driver sees it: only an
	 * .S file goes through the preprocessor and the assembler alone. */
	size_t flen = strlen(file);
	if (flen < 3 || strcmp(file + flen - 2, ".S") || file[flen - 3] == '/')
		return cli_fail("%s: not a trampoline source: sigstep takes an assembly file named *.S%s", file, "");
	snprintf(tcpath, sizeof tcpath, "%s/guest/%s/toolchain.txt", build_dir, ops->name);
	if (toolchain_read(tcpath, &tc, err, sizeof err)) {
		toolchain_free(&tc);
		return cli_fail("%s%s", err, "");
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, dirlen, "%s/sigstep-check-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	cleanup_on_signals();
	if (!mkdtemp(dir)) {
		toolchain_free(&tc);
		return cli_fail("cannot create a temporary directory in %s: %s", tmp && tmp[0] ? tmp : "/tmp",
				strerror(errno));
	}
	image_name(file, name, sizeof name);
	snprintf(obj, sizeof obj, "%s/trampoline.o", dir);
	snprintf(image, imagelen, "%s/%s", dir, name);
	/* removed, newest first, if sigstep is interrupted */
	cleanup_add_path(dir);
	cleanup_add_path(image);
	cleanup_add_path(obj);
	int status = build_image(&tc, file, obj, image);
	toolchain_free(&tc);
	unlink(obj);
	cleanup_forget_path(obj);
	if (status)
		check_cleanup(dir, image);
	return status;
}

void check_cleanup(const char *dir, const char *image)
{
	unlink(image);
	rmdir(dir);
	cleanup_forget_path(image);
	cleanup_forget_path(dir);
}

int cmd_check(int argc, char **argv)
{
	const char *arch = NULL, *file = NULL, *function = "walltime", *context = "curg";
	const char *build_dir = NULL, *keep = NULL;
	struct cli_outputs out = { 0 };
	int era = -1, no_vdso = 0, list_boundaries = 0;
	uint64_t budget = 0, vdso_base = 0;
	const char *base_arg = NULL;
	char dirbuf[PATH_MAX];
	const struct cli_option options[] = {
		CLI_VALUE("--arch", &arch), CLI_VALUE("--function", &function), CLI_VALUE("--context", &context),
		CLI_VALUE("--sigprof", NULL), CLI_OUTPUTS(&out), CLI_VALUE("--build-dir", &build_dir),
		CLI_VALUE("--handler-budget", NULL), CLI_VALUE("--timeout", NULL), CLI_FLAG("--no-vdso", &no_vdso),
		CLI_VALUE("--vdso-base", &base_arg), CLI_FLAG("--boundaries", &list_boundaries),
		CLI_VALUE("--keep-image", &keep), CLI_END,
	};
	uint64_t timeout = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (cli_help(a, usage))
			return 0;
		if (a[0] != '-' || !strcmp(a, "-")) {
			if (file)
				return cli_fail("check: more than one file ('%s', '%s')", file, a);
			file = a;
			continue;
		}
		int used = cli_option("check", options, a, v);
		if (!used)
			return 2;
		i += used - 1;
		if (!strcmp(a, "--handler-budget") && (cli_parse_u64(v, 0, &budget) || budget == 0))
			return cli_fail("check: bad --handler-budget '%s'%s", v, "");
		if (!strcmp(a, "--timeout") && (cli_parse_u64(v, 10, &timeout) || timeout == 0 || timeout > 86400))
			return cli_fail("check: bad --timeout '%s' (seconds, 1 to 86400)%s", v, "");
		if (!strcmp(a, "--sigprof") && (era = cli_era_from_name(v)) < 0)
			return cli_fail("check: unknown sigprof era '%s' (known: go1.10, go1.11, go1.19, modern)%s", v, "");
	}
	if (!arch)
		return cli_fail("check: --arch is required (386, amd64 or arm)%s%s", "", "");
	if (!file)
		return cli_fail("check: no trampoline file given (sigstep check --arch A FILE.S)%s%s", "", "");
	if (cli_function_context("check", function, context))
		return 2;

	const struct arch_ops *ops = cli_arch(NULL, arch);
	if (!ops)
		return 2;
	if (base_arg && no_vdso)
		return cli_fail("check: --no-vdso and --vdso-base exclude each other%s%s", "", "");
	if (base_arg && cli_vdso_base("check", base_arg, ops, &vdso_base))
		return 2;
	if (keep) {
		struct stat kst;
		if (stat(keep, &kst) || !S_ISDIR(kst.st_mode) || access(keep, W_OK))
			return cli_fail("check: --keep-image %s: %s", keep,
					stat(keep, &kst) ? strerror(errno) : !S_ISDIR(kst.st_mode) ? "not a directory" : strerror(EACCES));
	}
	if (!build_dir) {
		cli_default_build_dir(dirbuf, sizeof dirbuf);
		build_dir = dirbuf;
	}
	if (cli_outputs_open("check", &out, ~0u))
		return 2;
	FILE *text = cli_outputs_text(&out);

	/* --timeout bounds the whole command: the tools, then the probe with
	 * what is left. */
	double t0 = now_s();
	if (timeout)
		tool_deadline = t0 + (double)timeout;
	char dir[PATH_MAX], image[PATH_MAX + 96], err[PATH_MAX + 256];
	int status = check_build_file(build_dir, ops, file, dir, sizeof dir, image, sizeof image);
	int built = !status;
	struct probe_result res;
	struct sample_log samples = { 0 };
	int ran = 0;
	if (built) {
		struct probe_config cfg = {
			.ops = ops,
			.build_dir = build_dir,
			.variant = NULL,
			.image_path = image,
			.function = function,
			.context = context,
			.era = era,
			.vdso = !no_vdso,
			.vdso_base = vdso_base,
			.handler_budget = budget,
			.progress = isatty(2),
			.boundary_log = list_boundaries ? text : NULL,
		};
		if (timeout) {	/* what is left of it */
			cfg.timeout_s = timeout;
			cfg.deadline = tool_deadline;
		}
		if (out.path[CLI_OUT_PPROF])
			cfg.on_sample = sample_log_add, cfg.sample_ctx = &samples;
		memset(&res, 0, sizeof res);
		if (probe_run(&cfg, &res, err, sizeof err)) {
			status = cli_fail("%s: %s", file, err);
		} else {
			ran = 1;
			status = res.pass ? 0 : 1;
			if (out.path[CLI_OUT_PPROF]) {
				char vdso[PATH_MAX + 64];
				snprintf(vdso, sizeof vdso, "%s/guest/%s/vdso.so", build_dir, ops->name);
				sample_log_locate(&samples, image, vdso, res.vdso_base);
			}
		}
	}
	if (built && keep && keep_image(image, keep))
		status = 2, ran = 0;
	if (built)
		check_cleanup(dir, image);
	if (!ran) {
		if (built)
			probe_result_free(&res);
		sample_log_free(&samples);
		cli_outputs_drop(&out);
		return status;
	}

	probe_print_summary(text, &res);
	char why[320];
	struct report_row row = { .res = &res, .source = "check", .met = res.pass, .why = report_why_not_pass(&res, why, sizeof why),
				  .samples = &samples };
	report_row_name(&row, NULL);
	if (cli_outputs_write("check", &out, &row, 1))
		status = 2;
	sample_log_free(&samples);
	fflush(stdout);
	probe_result_free(&res);
	return status;
}
