/*
 * sigstep native --compare --go PROGRAM [--emulator E] [--function F]
 *                [--root R] [--call N] [--timeout S]
 *
 * The native Go engine (harness/native/go_engine.h: the host under
 * ptrace with the kernel's vDSO, or qemu-user's gdbstub without one)
 * against the Unicorn engine (sigstep go, with its synthetic vDSO where
 * the native run had a vDSO, without one -- the fallback path -- where
 * it had none) on the same binary, boundary by boundary over the call
 * each steps.  Outside the vDSO the boundaries must be the same pcs in
 * the same order (occurrence by occurrence) with the same verdicts; the
 * two vDSOs are different code, so theirs are compared by the set of
 * verdicts seen.  Prints a table of both runs and the agreement; exit 0
 * when they agree, 1 when they do not, 2 (one line) when either cannot
 * run.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "go_engine.h"
#include "gobinary.h"
#include "probe.h"
#include "probe_internal.h"

struct boundary_line {
	uint64_t pc;
	char where[64], verdict[16];
};

struct boundary_list {
	struct boundary_line *v;
	size_t n;
};

/* "boundary PC WHERE VERDICT" lines; WHERE without an ABI suffix (the
 * ELF symbols of assembly carry ".abi0", the pclntab's names do not). */
static int parse(const char *text, struct boundary_list *bl)
{
	bl->v = NULL;
	bl->n = 0;
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		struct boundary_line b;
		if (sscanf(line, "boundary %" SCNx64 " %63s %15s", &b.pc, b.where, b.verdict) != 3)
			continue;
		char *abi = strstr(b.where, ".abi0+");
		if (abi)
			memmove(abi, abi + 5, strlen(abi + 5) + 1);
		struct boundary_line *nv = realloc(bl->v, (bl->n + 1) * sizeof *nv);
		if (!nv)
			return -1;
		bl->v = nv;
		bl->v[bl->n++] = b;
	}
	return 0;
}

static int in_vdso(const struct boundary_line *b)
{
	return !strncmp(b->where, "vdso+", 5);
}

/* The verdicts seen in the vDSO, in the verdicts' order: "caller", "-". */
static void vdso_verdicts(const struct boundary_list *bl, char *buf, size_t n)
{
	buf[0] = 0;
	for (int v = 0; v < VERDICT_COUNT; v++)
		for (size_t i = 0; i < bl->n; i++)
			if (in_vdso(&bl->v[i]) && !strcmp(bl->v[i].verdict, verdict_name((enum verdict)v))) {
				size_t l = strlen(buf);
				snprintf(buf + l, n - l, "%s%s", l ? " " : "", bl->v[i].verdict);
				break;
			}
	if (!buf[0])
		snprintf(buf, n, "-");
}

static void verdict_counts(const struct probe_result *r, char *buf, size_t n)
{
	buf[0] = 0;
	for (int v = 0; v < VERDICT_COUNT; v++)
		if (r->verdicts[v]) {
			size_t l = strlen(buf);
			snprintf(buf + l, n - l, "%s%s %" PRIu64, l ? ", " : "", verdict_name((enum verdict)v), r->verdicts[v]);
		}
}

static size_t count_vdso(const struct boundary_list *bl)
{
	size_t k = 0;
	for (size_t i = 0; i < bl->n; i++)
		k += in_vdso(&bl->v[i]);
	return k;
}

int native_go_compare(const struct go_engine_config *cfg0, int emulator)
{
	struct go_engine_config c = *cfg0;
	char *nlog = NULL, *ulog = NULL, err[512];
	size_t nlen = 0, ulen = 0;
	FILE *nf = open_memstream(&nlog, &nlen);
	if (!nf)
		return cli_fail_in("native", "out of memory%s%s", "", "");
	c.boundary_log = nf;
	struct probe_result nr, ur;
	struct go_engine_stats st;
	int rc = go_engine_run(&c, (enum go_emulator)emulator, &nr, &st, err, sizeof err);
	fclose(nf);
	if (rc) {
		free(nlog);
		return cli_fail_in("native", "%s%s", err, "");
	}

	/* Unicorn on the same binary, the same call, the vDSO as the native
	 * run had it (present: the synthetic one; absent: the fallback). */
	struct gobinary *gb;
	char gerr[GOBINARY_ERR_MAX], dir[PATH_MAX];
	if (gobinary_open(c.program, &gb, gerr, sizeof gerr)) {
		probe_result_free(&nr);
		free(nlog);
		return cli_fail_in("native", "%s%s", gerr, "");
	}
	cli_default_build_dir(dir, sizeof dir);
	FILE *uf = open_memstream(&ulog, &ulen);
	struct probe_config pc = {
		.ops = gobinary_arch(gb), .build_dir = dir, .program = c.program, .subject = &probe_subject_go,
		.function = c.function ? c.function : "nanotime1", .call = c.call ? c.call : GO_ENGINE_DEFAULT_CALL,
		.vdso = st.has_vdso, .era = -1, .boundary_log = uf,
	};
	gobinary_close(gb);
	rc = uf ? probe_run(&pc, &ur, err, sizeof err) : (snprintf(err, sizeof err, "out of memory"), 2);
	if (uf)
		fclose(uf);
	if (rc) {
		probe_result_free(&nr);
		free(nlog);
		free(ulog);
		return cli_fail_in("native", "sigstep go: %s%s", err, "");
	}

	struct boundary_list nb, ub;
	if (parse(nlog, &nb) || parse(ulog, &ub)) {
		probe_result_free(&nr);
		probe_result_free(&ur);
		free(nlog), free(ulog), free(nb.v), free(ub.v);
		return cli_fail_in("native", "out of memory%s%s", "", "");
	}
	/* Outside the vDSO, in order. */
	size_t i = 0, k = 0, same = 0, outside = 0;
	int differ = 0;
	char first[256] = "";
	for (;;) {
		while (i < ub.n && in_vdso(&ub.v[i]))
			i++;
		while (k < nb.n && in_vdso(&nb.v[k]))
			k++;
		if (i == ub.n || k == nb.n)
			break;
		outside++;
		if (ub.v[i].pc == nb.v[k].pc && !strcmp(ub.v[i].verdict, nb.v[k].verdict))
			same++;
		else if (!differ++)
			snprintf(first, sizeof first, "boundary %zu: unicorn %s %s, %s %s %s", outside, ub.v[i].where,
				 ub.v[i].verdict, st.backend, nb.v[k].where, nb.v[k].verdict);
		i++, k++;
	}
	size_t left_u = 0, left_n = 0;
	for (; i < ub.n; i++)
		left_u += !in_vdso(&ub.v[i]);
	for (; k < nb.n; k++)
		left_n += !in_vdso(&nb.v[k]);
	char uv[128], nv[128], uc[256], nc[256];
	vdso_verdicts(&ub, uv, sizeof uv);
	vdso_verdicts(&nb, nv, sizeof nv);
	verdict_counts(&ur, uc, sizeof uc);
	verdict_counts(&nr, nc, sizeof nc);
	int vdso_agree = !strcmp(uv, nv);
	int agree = !differ && !left_u && !left_n && vdso_agree && outside > 0;

	printf("sigstep native --compare --go: arch=%s program=%s function=%s call=%" PRIu64 "\n", nr.arch, nr.variant,
	       c.function ? c.function : "runtime.nanotime1", c.call ? c.call : GO_ENGINE_DEFAULT_CALL);
	printf("%-8s %-14s %-10s %10s %8s  %s\n", "engine", "runs on", "vdso", "boundaries", "in vdso", "verdicts");
	printf("%-8s %-14s %-10s %10zu %8zu  %s\n", "unicorn", "emulated", ur.vdso ? "synthetic" : "absent", ub.n,
	       count_vdso(&ub), uc);
	printf("%-8s %-14s %-10s %10zu %8zu  %s\n", st.backend, st.emulator, st.has_vdso ? "kernel" : "none", nb.n,
	       count_vdso(&nb), nc);
	printf("outside the vDSO: %zu of %zu boundaries the same pc and verdict", same, outside);
	if (left_u || left_n)
		printf(", %zu more in unicorn, %zu more in %s", left_u, left_n, st.backend);
	printf("\nin the vDSO (by verdict): unicorn {%s}, %s {%s}\n", uv, st.backend, nv);
	if (first[0])
		printf("first difference: %s\n", first);
	printf("agreement %s\n", agree ? "yes" : "NO");
	probe_result_free(&nr);
	probe_result_free(&ur);
	free(nlog), free(ulog), free(nb.v), free(ub.v);
	return agree ? 0 : 1;
}
