/* The command-line pieces every subcommand of sigstep uses (cli.h). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch_ops.h"
#include "loader.h"
#include "report.h"

void cli_put_line(FILE *out, const char *line)
{
	for (const unsigned char *p = (const unsigned char *)line; *p; p++)
		if (*p == '\\')
			fputs("\\\\", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	fputc('\n', out);
}

int cli_fail_in(const char *cmd, const char *fmt, const char *a, const char *b)
{
	char msg[2048];
	int n = snprintf(msg, sizeof msg, "sigstep: %s%s", cmd ? cmd : "", cmd ? ": " : "");
	snprintf(msg + n, sizeof msg - (size_t)n, fmt, a, b);
	cli_put_line(stderr, msg);
	return 2;
}

int cli_fail(const char *fmt, const char *a, const char *b)
{
	return cli_fail_in(NULL, fmt, a, b);
}

int cli_option(const char *cmd, const struct cli_option *opts, const char *a, const char *v)
{
	while (opts->name && strcmp(opts->name, a))
		opts++;
	if (!opts->name)
		return cli_fail_in(cmd, "unknown option '%s'%s", a, ""), 0;
	if (opts->flag) {
		*opts->flag = 1;
		return 1;
	}
	if (!v)
		return cli_fail_in(cmd, "option '%s' needs a value%s", a, ""), 0;
	if (opts->value)
		*opts->value = v;
	return 2;
}

int cli_help(const char *a, const char *usage)
{
	if (strcmp(a, "--help") && strcmp(a, "-h"))
		return 0;
	fputs(usage, stdout);
	return 1;
}

int cli_parse_u64(const char *s, int base, uint64_t *v)
{
	char *end;
	/* strtoull skips blanks and takes a sign (" -1" is ULLONG_MAX): the
	 * number must start with a digit. */
	if (!s || s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	unsigned long long x = strtoull(s, &end, base);
	if (errno || end == s || *end)
		return -1;
	*v = x;
	return 0;
}

FILE *cli_open_input(const char *path)
{
	FILE *f = fopen(path, "r");
	struct stat st;
	if (f && !fstat(fileno(f), &st) && S_ISDIR(st.st_mode)) {
		fclose(f);
		errno = EISDIR;
		return NULL;
	}
	return f;
}

int cli_vdso_base(const char *cmd, const char *v, const struct arch_ops *ops, uint64_t *base)
{
	char err[LOADER_ERR_MAX], on[48] = "";
	if (cli_parse_u64(v, 0, base))
		return cli_fail_in(cmd, "bad --vdso-base '%s' (an address, e.g. 0x%s)", v, "50000000");
	for (const struct arch_ops *const *o = arch_ops_all; *o; o++) {
		if (ops && *o != ops)
			continue;
		if (loader_vdso_base_usable(*o, *base, err)) {
			if (!ops)	/* the matrix: say which arch refuses it */
				snprintf(on, sizeof on, " (on %s)", (*o)->name);
			return cli_fail_in(cmd, "--vdso-base: %s%s", err, on);
		}
	}
	return 0;
}

int cli_function_context(const char *cmd, const char *function, const char *context)
{
	if (strcmp(function, "walltime") && strcmp(function, "nanotime"))
		return cli_fail_in(cmd, "unknown function '%s' (walltime or nanotime)%s", function, "");
	if (strcmp(context, "curg") && strcmp(context, "g0") && strcmp(context, "gsignal"))
		return cli_fail_in(cmd, "unknown context '%s' (curg, g0 or gsignal)%s", context, "");
	return 0;
}

const struct arch_ops *cli_arch(const char *cmd, const char *name)
{
	const struct arch_ops *ops = arch_ops_find(name);
	if (!ops) {
		char names[128] = "";
		for (const struct arch_ops *const *o = arch_ops_all; *o; o++)
			snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", names[0] ? ", " : "",
				 (*o)->name);
		cli_fail_in(cmd, "unknown arch '%s' (known: %s)", name, names);
	}
	return ops;
}

void cli_sort_arches(const struct arch_ops **v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && strcmp(v[k - 1]->name, v[k]->name) > 0; k--) {
			const struct arch_ops *t = v[k];
			v[k] = v[k - 1];
			v[k - 1] = t;
		}
}

const char *const cli_era_names[CLI_NERAS + 1] = { "go1.10", "go1.11", "go1.19", "modern", NULL };

int cli_era_from_name(const char *name)
{
	for (int i = 0; i < CLI_NERAS; i++)
		if (!strcmp(name, cli_era_names[i]))
			return i;
	return -1;
}

void cli_default_build_dir(char *buf, size_t n)
{
	ssize_t len = readlink("/proc/self/exe", buf, n - 1);
	if (len <= 0) {
		snprintf(buf, n, ".");
		return;
	}
	buf[len] = 0;
	char *slash = strrchr(buf, '/');
	if (slash && slash != buf)
		*slash = 0;
	/* An installed sigstep (P/bin/sigstep) keeps the build's products in
	 * P/lib/sigstep, laid out as the build directory has them. */
	char probe[PATH_MAX + 32];
	struct stat st;
	snprintf(probe, sizeof probe, "%s/guest", buf);
	if (stat(probe, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(probe, sizeof probe, "%s/../lib/sigstep/guest", buf);
		if (!stat(probe, &st) && S_ISDIR(st.st_mode) && strlen(buf) + 16 < n)
			strcat(buf, "/../lib/sigstep");
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cli_built_variants(const char *build_dir, const char *arch, char names[][64], int max)
{
	char path[PATH_MAX + 64], line[1024];
	snprintf(path, sizeof path, "%s/guest/%s/variants.txt", build_dir, arch);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(line, sizeof line, f))
		line[0] = 0;
	fclose(f);
	line[strcspn(line, "\r\n")] = 0;
	int n = 0;
	char *ptr[64];
	for (char *save, *t = strtok_r(line, "; ", &save); t && n < max && n < 64; t = strtok_r(NULL, "; ", &save))
		ptr[n++] = t;
	qsort(ptr, (size_t)n, sizeof *ptr, cmp_str);
	for (int i = 0; i < n; i++)
		snprintf(names[i], 64, "%s", ptr[i]);
	return n;
}

/* --- report files ---------------------------------------------------------- */

static const char *const output_option[CLI_OUT_COUNT] = { "--json", "--junit", "--sarif", "--pprof", "--html" };

/* path opened for writing, not truncated (the report truncates it once
 * there is a record: see truncate_for_record); *created says whether this
 * call made it.  NULL with errno. */
static FILE *open_kept(const char *path, unsigned char *created)
{
	*created = 0;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		*created = fd >= 0;
	}
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		int e = errno;
		close(fd);
		if (*created)
			unlink(path);
		errno = e;
	}
	return f;
}

/* The old contents of a regular file dropped, just before a record is
 * written; a pipe or a terminal has nothing to drop.  0, or -1 with errno. */
static int truncate_for_record(FILE *f)
{
	if (f == stdout)
		return 0;
	struct stat st;
	if (!fstat(fileno(f), &st) && !S_ISREG(st.st_mode))
		return 0;
	return ftruncate(fileno(f), 0);
}

void cli_outputs_drop(struct cli_outputs *o)
{
	for (int k = 0; k < CLI_OUT_COUNT; k++) {
		if (!o->f[k])
			continue;
		if (o->f[k] != stdout) {
			fclose(o->f[k]);
			if (o->created[k])
				unlink(o->path[k]);
		}
		o->f[k] = NULL;
		o->created[k] = 0;
	}
}

int cli_outputs_open(const char *cmd, struct cli_outputs *o, unsigned allowed)
{
	int to_stdout = -1;
	for (int k = 0; k < CLI_OUT_COUNT; k++) {
		if (!o->path[k])
			continue;
		if (!(allowed & (1u << k)))
			return cli_fail_in(cmd, "%s is not a report this command writes%s", output_option[k], "");
		if (!o->path[k][0])
			return cli_fail_in(cmd, "%s needs a file name%s", output_option[k], "");
		if (!strcmp(o->path[k], "-")) {
			if (to_stdout >= 0) {
				cli_fail_in(cmd, "%s and %s both go to stdout ('-'): one may", output_option[to_stdout],
					    output_option[k]);
				cli_outputs_drop(o);
				return 2;
			}
			to_stdout = k;
		}
	}
	for (int k = 0; k < CLI_OUT_COUNT; k++) {
		if (!o->path[k])
			continue;
		for (int j = 0; j < k; j++)
			if (o->path[j] && strcmp(o->path[k], "-") && !strcmp(o->path[j], o->path[k])) {
				cli_outputs_drop(o);
				return cli_fail_in(cmd, "%s and %s name the same file", output_option[j], output_option[k]);
			}
		o->created[k] = 0;
		o->f[k] = strcmp(o->path[k], "-") ? open_kept(o->path[k], &o->created[k]) : stdout;
		if (!o->f[k]) {
			int e = errno;
			cli_outputs_drop(o);
			char what[PATH_MAX + 64];
			snprintf(what, sizeof what, "%s %s", output_option[k], o->path[k]);
			return cli_fail_in(cmd, "cannot write %s: %s", what, strerror(e));
		}
	}
	return 0;
}

static int cannot_write(const char *cmd, const struct cli_outputs *o, int k, int e)
{
	char what[PATH_MAX + 64];
	snprintf(what, sizeof what, "%s %s", output_option[k], o->path[k]);
	return cli_fail_in(cmd, "cannot write %s: %s", what, strerror(e ? e : EIO));
}

FILE *cli_outputs_begin(const char *cmd, struct cli_outputs *o, enum cli_output k)
{
	FILE *f = o->f[k];
	if (f && truncate_for_record(f)) {
		int e = errno;
		if (f != stdout)
			fclose(f);
		o->f[k] = NULL;
		cannot_write(cmd, o, k, e);
		return NULL;
	}
	return f;
}

int cli_outputs_end(const char *cmd, struct cli_outputs *o, enum cli_output k)
{
	FILE *f = o->f[k];
	if (!f)
		return 0;
	o->f[k] = NULL;
	errno = 0;
	int bad = ferror(f);
	int e = errno;
	if (f != stdout ? fclose(f) : fflush(f))
		bad = 1, e = errno;
	return bad ? cannot_write(cmd, o, k, e) : 0;
}

FILE *cli_outputs_text(const struct cli_outputs *o)
{
	for (int k = 0; k < CLI_OUT_COUNT; k++)
		if (o->f[k] == stdout)
			return stderr;
	return stdout;
}

int cli_outputs_write(const char *cmd, struct cli_outputs *o, const struct report_row *rows, size_t n)
{
	int status = 0;
	for (int k = 0; k < CLI_OUT_COUNT; k++) {
		FILE *f = o->f[k];
		if (!f)
			continue;
		int rc = 0;
		if (truncate_for_record(f)) {
			int e = errno;
			if (f != stdout)
				fclose(f);
			o->f[k] = NULL;
			if (!status)
				status = cannot_write(cmd, o, k, e);
			continue;
		}
		switch ((enum cli_output)k) {
		case CLI_OUT_JSON: report_json(f, rows, n); break;
		case CLI_OUT_JUNIT: report_junit(f, cmd, rows, n); break;
		case CLI_OUT_SARIF: report_sarif(f, rows, n); break;
		case CLI_OUT_PPROF: rc = report_pprof(f, rows, n); break;
		case CLI_OUT_HTML: report_html(f, rows, n); break;
		case CLI_OUT_COUNT: break;
		}
		int e = errno;
		if (ferror(f))
			rc = -1;
		if (f != stdout ? fclose(f) : fflush(f))
			rc = -1, e = errno;
		o->f[k] = NULL;
		if (rc && !status)
			status = cannot_write(cmd, o, k, e);
	}
	return status;
}
