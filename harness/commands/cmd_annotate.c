/*
 * sigstep annotate --arch A (--variant V | FILE.S) [--function F]
 *                  [--context C...] [--sigprof ERA...] [--stacks] [--no-vdso]
 *                  [--build-dir DIR]
 *
 * The chain's code as `perf annotate` shows code, one executed
 * instruction a line -- grouped by function in the order the chain first
 * reaches them, by address within one -- with its source line, its
 * address and disassembly, and one verdict column per requested
 * configuration (every context x every era; default: curg, the variant's
 * own era).  A pc the chain executes several times shows its worst
 * verdict; "-" is a pc that configuration never reached.  --stacks adds,
 * under each line, the stack each column's handler sampled there.
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

#include "arch_ops.h"
#include "cli.h"
#include "commands.h"
#include "probe.h"
#include "report.h"

static const char usage[] =
	"usage: sigstep annotate --arch {386,amd64,arm} (--variant NAME | FILE.S) [--function walltime|nanotime]\n"
	"                        [--context curg|g0|gsignal ...] [--sigprof go1.10|go1.11|go1.19|modern ...]\n"
	"                        [--stacks] [--no-vdso] [--build-dir DIR]\n"
	"--context and --sigprof take several names (or repeat them): one verdict column each.\n";

#define MAX_CONTEXTS 3
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
	const struct logged_sample *any;	/* one sample at pc (symbol, insn, source) */
	const struct sample_log *log;		/* whose files it indexes */
	int fn_order;				/* its function's place, first reached first */
};

static int cmp_line(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	if (x->fn_order != y->fn_order)
		return x->fn_order - y->fn_order;
	return x->pc < y->pc ? -1 : x->pc > y->pc;
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

	/* Every pc any column reached, once. */
	size_t nlines = 0, cap = 0;
	struct line *lines = NULL;
	char (*fns)[PROBE_SYM_MAX] = calloc(PROBE_STRIP_MAX, sizeof *fns);
	int nfns = 0;
	for (int c = 0; c < ncol && fns; c++)
		for (size_t i = 0; i < col[c].log.n; i++) {
			const struct logged_sample *s = &col[c].log.v[i];
			size_t k;
			for (k = 0; k < nlines && lines[k].pc != s->pc; k++)
				;
			if (k < nlines)
				continue;
			if (nlines == cap) {
				cap = cap ? cap * 2 : 256;
				struct line *nl = realloc(lines, cap * sizeof *nl);
				if (!nl)
					break;
				lines = nl;
			}
			int f;
			for (f = 0; f < nfns && (strlen(fns[f]) != fn_len(s->at) || strncmp(fns[f], s->at, fn_len(s->at))); f++)
				;
			if (f == nfns && nfns < PROBE_STRIP_MAX)
				snprintf(fns[nfns++], PROBE_SYM_MAX, "%.*s", (int)fn_len(s->at), s->at);
			lines[nlines++] = (struct line){ s->pc, s, &col[c].log, f };
		}
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
			const char *name = s ? verdict_name(s->verdict) : "-";
			if (tty && s)
				printf("%s%-9s\033[0m      ", colour(s->verdict), name);
			else
				printf("%-15s", name);
		}
		char src[160] = "";
		if (l->any->line)
			snprintf(src, sizeof src, "%s:%u", l->log->files[l->any->file], l->any->line);
		printf("%-40s 0x%-14llx %s\n", src, (unsigned long long)l->pc, l->any->insn);
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
