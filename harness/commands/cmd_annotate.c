/*
 * sigstep annotate --arch A (--variant V | FILE.S) [--function F]
 *                  [--context C...] [--sigprof ERA...] [--stacks] [--no-vdso]
 *                  [--build-dir DIR]
 *
 * The chain's code as `perf annotate` shows code: every instruction of
 * each function the chain runs (the whole symbol, from the image or the
 * vDSO file: annotate_code.h), one a line -- grouped by function in the
 * order the chain first reaches them, by address within one -- with its
 * source line, its address and disassembly, and one verdict column per
 * requested configuration (every context x every era; default: curg, the
 * variant's own era).  A pc the chain executes several times shows its
 * worst verdict; "-" is a pc that configuration never reached but another
 * did, "not reached" (dim on a terminal) one no configuration reached: a
 * path not taken, such as the fallback with the vDSO present.  --stacks
 * adds, under each line, the stack each column's handler sampled there.
 *
 * Verdicts are coloured on a terminal (the passing ones green, the
 * markers yellow and magenta, wrong stacks and handler failures red);
 * plain when stdout is not a terminal or NO_COLOR is set.  Exit 0 every
 * column passed, 1 one did not, 2 unusable input.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <elf.h>

#include "annotate_code.h"
#include "arch_ops.h"
#include "cli.h"
#include "code_lines.h"
#include "commands.h"
#include "probe.h"
#include "report.h"

static const char usage[] =
	"usage: sigstep annotate --arch {386,amd64,arm} (--variant NAME | FILE.S) [--function walltime|nanotime]\n"
	"                        [--context curg|g0|gsignal ...] [--sigprof go1.10|go1.11|go1.19|modern ...]\n"
	"                        [--stacks] [--no-vdso] [--build-dir DIR]\n"
	"--context and --sigprof take several names (or repeat them): one verdict column each.\n";

#define MAX_CONTEXTS 3
#define NOT_REACHED "not reached"
#define MAX_COLUMNS (MAX_CONTEXTS * CLI_NERAS)

struct column {
	const char *context;
	int era;		/* -1: the variant's own */
	struct probe_result res;
	struct sample_log log;
	int ran;
};

/* The terminal colour of a verdict: by what it says, new verdicts red. */
static const char *colour(enum verdict v)
{
	const char *n = verdict_name(v);
	if (verdict_passes(v))
		return "\033[32m";
	if (!strcmp(n, "vdso"))
		return "\033[33m";
	if (!strcmp(n, "external") || !strcmp(n, "system"))
		return "\033[35m";
	if (!strcmp(n, "fault") || !strcmp(n, "hang"))
		return "\033[1;31m";
	return "\033[31m";
}

/* The function of "name+0x1c": its length. */
static size_t fn_len(const char *at)
{
	const char *plus = strchr(at, '+');
	return plus ? (size_t)(plus - at) : strlen(at);
}

struct line {
	uint64_t pc;
	int fn_order;			/* its function's place, first reached first */
	int reached;			/* some column's chain ran it */
	char text[64];			/* its instruction */
	char src[160];			/* its source line, "" none */
};

static int cmp_line(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	if (x->fn_order != y->fn_order)
		return x->fn_order - y->fn_order;
	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The first sample of col at pc with its worst verdict; NULL: not reached. */
static const struct logged_sample *at_pc(const struct column *col, uint64_t pc)
{
	const struct logged_sample *best = NULL;
	for (size_t i = 0; i < col->log.n; i++) {
		const struct logged_sample *s = &col->log.v[i];
		if (s->pc != pc)
			continue;
		if (!best || (verdict_passes(best->verdict) && !verdict_passes(s->verdict)))
			best = s;
	}
	return best;
}

/* A sample of any column at pc (its instruction and source as the run
 * saw them); NULL: no column ran it. */
static const struct logged_sample *any_at(const struct column *col, int ncol, uint64_t pc,
					  const struct sample_log **log)
{
	for (int c = 0; c < ncol; c++)
		for (size_t i = 0; i < col[c].log.n; i++)
			if (col[c].log.v[i].pc == pc) {
				*log = &col[c].log;
				return &col[c].log.v[i];
			}
	return NULL;
}

/*
 * The lines of function fn (the fn_order-th): every instruction of its
 * symbol in the image (files[0]) or, when it ran in the vDSO, the vDSO
 * (files[1]), plus any pc that ran and the sweep did not list, appended
 * to *lines.  0, or -1 out of memory.
 */
static int list_function(const char *fn, int fn_order, const struct column *col, int ncol,
			 const struct code_file *files, const struct code_lines *src_lines, uint64_t vdso_base,
			 const struct arch_ops *ops, struct line **lines, size_t *nlines)
{
	size_t nexec = 0, cap = 0;
	uint64_t *exec = NULL;
	for (int c = 0; c < ncol; c++)
		for (size_t i = 0; i < col[c].log.n; i++) {
			const struct logged_sample *s = &col[c].log.v[i];
			if (fn_len(s->at) != strlen(fn) || strncmp(s->at, fn, strlen(fn)))
				continue;
			if (nexec == cap) {
				cap = cap ? cap * 2 : 64;
				uint64_t *ne = realloc(exec, cap * sizeof *ne);
				if (!ne) {
					free(exec);
					return -1;
				}
				exec = ne;
			}
			exec[nexec++] = s->pc;
		}
	if (nexec)
		qsort(exec, nexec, sizeof *exec, cmp_u64);
	size_t u = 0;
	for (size_t i = 0; i < nexec; i++)
		if (!u || exec[u - 1] != exec[i])
			exec[u++] = exec[i];
	nexec = u;
	int in_vdso = nexec && files[1].ok && exec[0] >= files[1].img.lo && exec[0] < files[1].img.hi;
	struct code_insn *code = NULL;
	long ncode = code_function(&files[in_vdso], ops, fn, exec, nexec, &code);
	if (ncode < 0) {
		free(exec);
		return -1;
	}
	/* the listed instructions, then what ran outside them */
	size_t want = *nlines + (size_t)ncode + nexec;
	struct line *nl = realloc(*lines, (want ? want : 1) * sizeof *nl);
	if (!nl) {
		free(exec);
		free(code);
		return -1;
	}
	*lines = nl;
	for (size_t i = 0; i < (size_t)ncode + nexec; i++) {
		uint64_t pc = i < (size_t)ncode ? code[i].pc : exec[i - (size_t)ncode];
		if (i >= (size_t)ncode) {	/* listed already? */
			size_t k = 0;
			while (k < (size_t)ncode && code[k].pc != pc)
				k++;
			if (k < (size_t)ncode)
				continue;
		}
		struct line *l = &nl[(*nlines)++];
		const struct sample_log *log = NULL;
		const struct logged_sample *s = any_at(col, ncol, pc, &log);
		l->pc = pc;
		l->fn_order = fn_order;
		l->reached = s != NULL;
		l->src[0] = 0;
		snprintf(l->text, sizeof l->text, "%s", s ? s->insn : code[i].text);
		const char *file;
		uint32_t line;
		if (s && s->line)
			snprintf(l->src, sizeof l->src, "%s:%u", log->files[s->file], s->line);
		else if (!s && (in_vdso ? code_lines_find(&src_lines[1], pc - vdso_base, &file, &line)
				       : code_lines_find(&src_lines[0], pc, &file, &line)))
			snprintf(l->src, sizeof l->src, "%s:%u", file, line);
	}
	free(exec);
	free(code);
	return 0;
}

static int add_word(const char **v, int *n, int max, const char *w)
{
	if (*n == max)
		return -1;
	v[(*n)++] = w;
	return 0;
}

int cmd_annotate(int argc, char **argv)
{
	const char *arch = NULL, *variant = NULL, *file = NULL, *function = "walltime", *build_dir = NULL;
	const char *contexts[MAX_CONTEXTS], *eras[CLI_NERAS];
	int ncontexts = 0, neras = 0, stacks = 0, no_vdso = 0;
	char dirbuf[PATH_MAX];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (cli_help(a, usage))
			return 0;
		if (!strcmp(a, "--context") || !strcmp(a, "--sigprof")) {
			int ctx = !strcmp(a, "--context"), took = 0;
			/* the names after it, up to the next option or file */
			for (; i + 1 < argc && argv[i + 1][0] != '-' && !strstr(argv[i + 1], ".S"); i++, took++)
				for (char *save, *t = strtok_r(argv[i + 1], ",", &save); t; t = strtok_r(NULL, ",", &save)) {
					if (ctx ? cli_function_context("annotate", "walltime", t) : cli_era_from_name(t) < 0)
						return ctx ? 2 : cli_fail("annotate: unknown --sigprof '%s' (go1.10, go1.11, go1.19 or modern)%s", t, "");
					if (ctx ? add_word(contexts, &ncontexts, MAX_CONTEXTS, t) : add_word(eras, &neras, CLI_NERAS, t))
						return cli_fail("annotate: too many names after %s%s", a, "");
				}
			if (!took)
				return cli_fail("annotate: option '%s' needs a value%s", a, "");
			continue;
		}
		if (a[0] != '-') {
			if (file)
				return cli_fail("annotate: more than one file ('%s', '%s')", file, a);
			file = a;
			continue;
		}
		const struct cli_option options[] = {
			CLI_VALUE("--arch", &arch), CLI_VALUE("--variant", &variant), CLI_VALUE("--function", &function),
			CLI_VALUE("--build-dir", &build_dir), CLI_FLAG("--stacks", &stacks), CLI_FLAG("--no-vdso", &no_vdso),
			CLI_END,
		};
		int used = cli_option("annotate", options, a, v);
		if (!used)
			return 2;
		i += used - 1;
	}
	if (!arch)
		return cli_fail("annotate: --arch is required (386, amd64 or arm)%s%s", "", "");
	if (!variant == !file)
		return cli_fail("annotate: name the code with --variant V or a FILE.S (one of them)%s%s", "", "");
	if (cli_function_context("annotate", function, "curg"))
		return 2;
	const struct arch_ops *ops = cli_arch("annotate", arch);
	if (!ops)
		return 2;
	if (file) {
		size_t len = strlen(file);
		if (len < 3 || strcmp(file + len - 2, ".S"))
			return cli_fail("%s: not a trampoline source: annotate takes an assembly file named *.S%s", file, "");
		if (access(file, R_OK))
			return cli_fail("%s: cannot read it%s", file, "");
	} else if (strchr(variant, '/') || !variant[0]) {
		return cli_fail("annotate: unknown variant '%s'%s", variant, "");
	}
	if (!build_dir) {
		cli_default_build_dir(dirbuf, sizeof dirbuf);
		build_dir = dirbuf;
	}
	if (!ncontexts)
		contexts[ncontexts++] = "curg";

	char dir[PATH_MAX], image[PATH_MAX + 96], vdso[PATH_MAX + 64], err[512];
	if (file && check_build_file(build_dir, ops, file, dir, sizeof dir, image, sizeof image))
		return 2;
	if (!file)
		snprintf(image, sizeof image, "%s/guest/%s/sigstep-guest-%s", build_dir, ops->name, variant);
	snprintf(vdso, sizeof vdso, "%s/guest/%s/vdso.so", build_dir, ops->name);

	struct column col[MAX_COLUMNS];
	int ncol = 0, status = 0;
	memset(col, 0, sizeof col);
	for (int c = 0; c < ncontexts; c++)
		for (int e = 0; e < (neras ? neras : 1); e++) {
			struct column *k = &col[ncol++];
			k->context = contexts[c];
			k->era = neras ? cli_era_from_name(eras[e]) : -1;
			struct probe_config cfg = {
				.ops = ops, .build_dir = build_dir, .variant = file ? NULL : variant,
				.image_path = file ? image : NULL, .function = function, .context = k->context,
				.era = k->era, .vdso = !no_vdso, .on_sample = sample_log_add, .sample_ctx = &k->log,
			};
			if (probe_run(&cfg, &k->res, err, sizeof err)) {
				status = cli_fail("annotate: %s%s", err, "");
				goto out;
			}
			k->ran = 1;
			sample_log_locate(&k->log, image, no_vdso ? NULL : vdso, k->res.vdso_base);
			if (!k->res.pass)
				status = 1;
		}

	/* The chain's functions, in the order it first reaches them. */
	size_t nlines = 0;
	struct line *lines = NULL;
	char (*fns)[PROBE_SYM_MAX] = calloc(PROBE_STRIP_MAX, sizeof *fns);
	int nfns = 0;
	for (int c = 0; c < ncol && fns; c++)
		for (size_t i = 0; i < col[c].log.n; i++) {
			const char *at = col[c].log.v[i].at;
			int f;
			for (f = 0; f < nfns && (strlen(fns[f]) != fn_len(at) || strncmp(fns[f], at, fn_len(at))); f++)
				;
			if (f == nfns && nfns < PROBE_STRIP_MAX)
				snprintf(fns[nfns++], PROBE_SYM_MAX, "%.*s", (int)fn_len(at), at);
		}
	/* Every instruction of each: the whole symbol from its file, and
	 * whatever ran that the file does not list. */
	struct code_file files[2];
	struct code_lines src_lines[2];
	uint64_t vdso_base = ncol ? col[0].res.vdso_base : 0;
	code_file_open(&files[0], image, ops, ET_EXEC, 0);
	code_lines_load(image, &src_lines[0]);
	memset(&files[1], 0, sizeof files[1]);
	memset(&src_lines[1], 0, sizeof src_lines[1]);
	if (!no_vdso && vdso_base) {
		code_file_open(&files[1], vdso, ops, ET_DYN, vdso_base);
		code_lines_load(vdso, &src_lines[1]);
	}
	for (int f = 0; f < nfns && status != 2; f++)
		if (list_function(fns[f], f, col, ncol, files, src_lines, vdso_base, ops, &lines, &nlines))
			status = cli_fail("annotate: out of memory%s%s", "", "");
	for (int k = 0; k < 2; k++) {
		code_file_close(&files[k]);
		code_lines_free(&src_lines[k]);
	}
	if (status == 2)
		goto done;
	if (nlines)
		qsort(lines, nlines, sizeof *lines, cmp_line);

	const char *nc = getenv("NO_COLOR");
	int tty = isatty(1) && !(nc && nc[0]);
	printf("sigstep annotate: arch=%s %s=%s function=%s vdso=%s\n", ops->name, file ? "file" : "variant",
	       file ? file : variant, function, no_vdso ? "absent" : "present");
	char head[MAX_COLUMNS][24];
	for (int c = 0; c < ncol; c++)
		snprintf(head[c], sizeof head[c], "%s/%s", col[c].res.era_name, col[c].context);
	for (int c = 0; c < ncol; c++)
		printf("%-15s", head[c]);
	printf("%-40s %-16s %s\n", "source", "address", "instruction");
	int last_fn = -1;
	for (size_t i = 0; i < nlines; i++) {
		const struct line *l = &lines[i];
		if (l->fn_order != last_fn) {
			printf("%s%s:\n", i ? "\n" : "", fns[l->fn_order]);
			last_fn = l->fn_order;
		}
		for (int c = 0; c < ncol; c++) {
			const struct logged_sample *s = at_pc(&col[c], l->pc);
			/* "-": another column reached it; NOT_REACHED: none did */
			const char *name = s ? verdict_name(s->verdict) : l->reached ? "-" : NOT_REACHED;
			if (tty && s)
				printf("%s%-9s\033[0m      ", colour(s->verdict), name);
			else if (tty && !l->reached)
				printf("\033[2m%-11s\033[0m    ", name);
			else
				printf("%-15s", name);
		}
		printf("%-40s 0x%-14llx %s\n", l->src, (unsigned long long)l->pc, l->text);
		for (int c = 0; stacks && c < ncol; c++) {
			const struct logged_sample *s = at_pc(&col[c], l->pc);
			if (!s)
				continue;
			printf("%*s[%s] got:", ncol * 15 + 4, "", head[c]);
			for (int k = 0; k < s->n; k++)
				printf("%s%s", k ? " <- " : " ", s->frame[k].sym);
			printf("%s\n", s->n ? "" : " (no frames)");
		}
	}
	printf("\n");
	for (int c = 0; c < ncol; c++) {
		printf("%-15s", head[c]);
		for (int v = 0; v < VERDICT_COUNT; v++)
			if (col[c].res.verdicts[v])
				printf(" %s %llu", verdict_name((enum verdict)v), (unsigned long long)col[c].res.verdicts[v]);
		printf("  %s\n", col[c].res.pass ? "pass" : "FAIL");
	}
done:
	free(lines);
	free(fns);
out:
	for (int c = 0; c < ncol; c++) {
		if (col[c].ran)
			probe_result_free(&col[c].res);
		sample_log_free(&col[c].log);
	}
	if (file)
		check_cleanup(dir, image);
	return status;
}
