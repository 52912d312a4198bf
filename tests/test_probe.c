/*
 * Probe mode on every architecture: the shadow stack and the verdicts
 * reproduce the history of the trampolines (DESIGN.md, "Expected
 * history"), the shadow stack is the chain that really runs, a handler
 * out of budget is a hang and not the end of the run, and a probe gives
 * the same verdicts every time.
 *
 * Guest images are read from $SIGSTEP_BUILD_DIR/guest/<arch>/.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch_ops.h"
#include "host_pages.h"
#include "oracle.h"
#include "probe.h"
#include "probe_internal.h"

static const char *const arches[] = { "amd64", "386", "arm" };
#define NARCHES 3

static const char *build_dir(void)
{
	const char *d = getenv("SIGSTEP_BUILD_DIR");
	return d ? d : "build";
}

/* One probe of arch's variant; fails the test on unusable input. */
static void probe(const char *arch, const char *variant, const char *function, const char *context,
		  uint64_t budget, struct probe_result *res)
{
	const struct arch_ops *ops = arch_ops_find(arch);
	ck_assert_msg(ops, "arch %s not compiled in", arch);
	struct probe_config cfg = {
		.ops = ops, .build_dir = build_dir(), .variant = variant, .function = function,
		.context = context, .era = -1, .vdso = 1, .handler_budget = budget,
	};
	char err[256] = "";
	int rc = probe_run(&cfg, res, err, sizeof err);
	ck_assert_msg(rc == 0, "%s/%s: probe_run %d: %s", arch, variant, rc, err);
	ck_assert_msg(res->boundaries > 20, "%s/%s: only %llu boundaries", arch, variant,
		      (unsigned long long)res->boundaries);
}

static uint64_t sum(const struct probe_result *r)
{
	uint64_t n = 0;
	for (int v = 0; v < VERDICT_COUNT; v++)
		n += r->verdicts[v];
	return n;
}

/* prefix (Go 1.10, era go1.10): samples in the vDSO are _ExternalCode,
 * and only there; samples in the trampoline while SP is on g0 are
 * _System. */
START_TEST(prefix_is_external_in_the_vdso)
{
	const char *arch = arches[_i / 2];
	const char *function = _i % 2 ? "nanotime" : "walltime";
	const struct arch_ops *ops = arch_ops_find(arch);
	struct probe_result r;
	probe(arch, "prefix", function, "curg", 0, &r);
	ck_assert_uint_eq(sum(&r), r.boundaries);
	ck_assert_msg(r.verdicts[VERDICT_EXTERNAL] > 0, "%s: no external sample", arch);
	ck_assert(!r.pass);
	ck_assert_msg(r.invariants_ok, "%s: %s", arch, r.invariants);
	for (size_t i = 0; i < r.nviolations; i++) {
		const struct violation *v = &r.violations[i];
		if (v->verdict == VERDICT_EXTERNAL)
			ck_assert_msg(v->pc >= ops->vdso_base && v->pc < ops->address_limit,
				      "%s: external sample at %s, outside the vDSO", arch, v->symbol);
		/* On g0 in the trampoline: the traceback finds no goroutine
		 * stack under SP. */
		if (v->verdict == VERDICT_SYSTEM)
			ck_assert_msg(!strncmp(v->symbol, function, strlen(function)),
				      "%s: system sample at %s, outside %s", arch, v->symbol, function);
	}
	ck_assert_msg(r.verdicts[VERDICT_SYSTEM] > 0, "%s: no system sample", arch);
	probe_result_free(&r);
}
END_TEST

/*
 * seed (the Go 1.11 commit, era go1.11): no more _ExternalCode, but the
 * one-word-off vdsoSP makes samples through vdsoPC/vdsoSP wrong.  If this
 * passes, the oracle or the variant is broken.
 */
START_TEST(seed_is_wrong_through_vdsosp)
{
	const char *arch = arches[_i / 2];
	const char *function = _i % 2 ? "nanotime" : "walltime";
	struct probe_result r;
	probe(arch, "seed", function, "curg", 0, &r);
	ck_assert_uint_eq(sum(&r), r.boundaries);
	ck_assert_uint_eq(r.verdicts[VERDICT_EXTERNAL], 0);
	/* x86: one frame through the low vdsoSP (truncated); arm: duplicated (wrong) */
	ck_assert_msg(r.verdicts[VERDICT_WRONG] + r.verdicts[VERDICT_TRUNCATED] > 0,
		      "%s: seed has no wrong or truncated sample", arch);
	ck_assert(!r.pass);
	ck_assert_msg(r.invariants_ok, "%s: %s", arch, r.invariants);
	/* What vdsoPC/vdsoSP give: the frame of time_now, once or twice,
	 * never the whole chain below it. */
	int seen = 0;
	for (size_t i = 0; i < r.nviolations; i++) {
		const struct violation *v = &r.violations[i];
		if ((v->verdict != VERDICT_WRONG && v->verdict != VERDICT_TRUNCATED) || v->ngot < 1 ||
		    strncmp(v->got_sym[0], "time_now+", 9))
			continue;
		seen = 1;
		ck_assert_msg(v->ngot < v->nexpected - 1, "%s: at %s the sample is not short", arch, v->symbol);
	}
	ck_assert_msg(seen, "%s: no wrong sample starting at time_now", arch);
	probe_result_free(&r);
}
END_TEST

/* master (Go 2024, era modern): every boundary passes but Go master's
 * SPWRITE windows -- before vdsoSP is set and after it is restored the
 * 1.21+ unwinder stops at the trampoline (arm: vdsoCall): one frame,
 * truncated, inside the trampoline and nowhere else. */
START_TEST(master_passes_everywhere)
{
	const char *arch = arches[_i / 2];
	const char *function = _i % 2 ? "nanotime" : "walltime";
	struct probe_result r;
	probe(arch, "master", function, "curg", 0, &r);
	ck_assert_uint_eq(sum(&r), r.boundaries);
	ck_assert_msg(r.invariants_ok, "%s: %s", arch, r.invariants);
	ck_assert_uint_gt(r.verdicts[VERDICT_TRUNCATED], 0);
	ck_assert_uint_eq(r.verdicts[VERDICT_TRUNCATED], r.nviolations);
	for (size_t i = 0; i < r.nviolations; i++) {
		const struct violation *v = &r.violations[i];
		ck_assert_msg(v->verdict == VERDICT_TRUNCATED && v->ngot == 1 &&
			      (!strncmp(v->symbol, function, strlen(function)) || !strncmp(v->symbol, "vdsoCall+", 9)),
			      "%s %s: %s at %s", arch, function, verdict_name(v->verdict), v->symbol);
	}
	ck_assert_uint_gt(r.verdicts[VERDICT_CALLER], 0);
	ck_assert_uint_gt(r.verdicts[VERDICT_FULL], 0);
	probe_result_free(&r);
}
END_TEST

static int sym_is(const char *sym, const char *fn)
{
	size_t n = strlen(fn);
	return !strncmp(sym, fn, n) && sym[n] == '+';
}

/*
 * With a budget of 10 instructions no handler returns: every boundary is
 * a hang, and the run still goes to the end with its invariants.  Each
 * hang records the shadow stack, which at walltime's first instruction is
 * the chain the callers build, innermost first, and at the last boundary
 * is the root alone.
 */
START_TEST(budget_of_ten_hangs_and_shadow_stack_is_the_chain)
{
	const char *arch = arches[_i];
	struct probe_result r;
	probe(arch, "master", "walltime", "curg", 10, &r);
	ck_assert_uint_eq(r.verdicts[VERDICT_HANG], r.boundaries);
	ck_assert_uint_eq(r.nviolations, r.boundaries);
	ck_assert_msg(r.invariants_ok, "%s: %s", arch, r.invariants);

	static const char *const chain[] = { "walltime", "time_now", "profiled_loop", "go_main", "goroutine_root" };
	int found = 0, deepest = 0;
	for (size_t i = 0; i < r.nviolations; i++) {
		const struct violation *v = &r.violations[i];
		deepest = v->nexpected > deepest ? v->nexpected : deepest;
		if (strcmp(v->symbol, "walltime+0x0"))
			continue;
		found++;
		ck_assert_int_eq(v->nexpected, 5);
		ck_assert_uint_eq(v->expected[0], v->pc);
		for (int k = 0; k < 5; k++)
			ck_assert_msg(sym_is(v->expected_sym[k], chain[k]), "%s: frame %d is %s, not in %s", arch, k,
				      v->expected_sym[k], chain[k]);
	}
	ck_assert_int_eq(found, 1);
	/* Inside the vDSO the stack is deeper than the chain. */
	ck_assert_int_gt(deepest, 5);
	/* The first boundary is the root's entry, the last its jump out. */
	ck_assert_str_eq(r.violations[0].symbol, "goroutine_root+0x0");
	ck_assert_int_eq(r.violations[0].nexpected, 1);
	const struct violation *last = &r.violations[r.nviolations - 1];
	ck_assert(sym_is(last->symbol, "goroutine_root"));
	ck_assert_int_eq(last->nexpected, 1);
	probe_result_free(&r);
}
END_TEST

/* Two probes of the same configuration judge every boundary alike. */
START_TEST(probes_are_deterministic)
{
	const char *arch = arches[_i];
	struct probe_result a, b;
	probe(arch, "seed", "nanotime", "curg", 0, &a);
	probe(arch, "seed", "nanotime", "curg", 0, &b);
	ck_assert_uint_eq(a.boundaries, b.boundaries);
	ck_assert(!memcmp(a.verdicts, b.verdicts, sizeof a.verdicts));
	ck_assert_uint_eq(a.nviolations, b.nviolations);
	for (size_t i = 0; i < a.nviolations; i++) {
		const struct violation *x = &a.violations[i], *y = &b.violations[i];
		ck_assert_uint_eq(x->pc, y->pc);
		ck_assert_int_eq(x->verdict, y->verdict);
		ck_assert_int_eq(x->ngot, y->ngot);
		ck_assert(!memcmp(x->got, y->got, sizeof x->got));
		ck_assert_int_eq(x->nexpected, y->nexpected);
		ck_assert(!memcmp(x->expected, y->expected, sizeof x->expected));
	}
	probe_result_free(&a);
	probe_result_free(&b);
}
END_TEST

/* Two results the same: counts, verdicts, violations, checks, names. */
static void assert_same_result(const struct probe_result *a, const struct probe_result *b, const char *what)
{
	ck_assert_msg(a->boundaries == b->boundaries, "%s: %llu boundaries, alone %llu", what,
		      (unsigned long long)b->boundaries, (unsigned long long)a->boundaries);
	ck_assert_msg(!memcmp(a->verdicts, b->verdicts, sizeof a->verdicts), "%s: verdict counts differ", what);
	ck_assert_msg(a->invariants_ok == b->invariants_ok && !strcmp(a->invariants, b->invariants),
		      "%s: checks '%s', alone '%s'", what, b->invariants, a->invariants);
	ck_assert_str_eq(a->era_name, b->era_name);
	ck_assert_str_eq(a->function, b->function);
	ck_assert_str_eq(a->context, b->context);
	ck_assert_msg(a->nstrip == b->nstrip, "%s: %u pcs in the strip, alone %u", what, b->nstrip, a->nstrip);
	for (uint32_t i = 0; i < a->nstrip; i++) {
		ck_assert_uint_eq(a->strip[i].pc, b->strip[i].pc);
		ck_assert_uint_eq(a->strip[i].verdict, b->strip[i].verdict);
		ck_assert_str_eq(a->strip[i].at, b->strip[i].at);
	}
	ck_assert_uint_eq(a->nviolations, b->nviolations);
	for (size_t i = 0; i < a->nviolations; i++) {
		const struct violation *x = &a->violations[i], *y = &b->violations[i];
		ck_assert_uint_eq(x->pc, y->pc);
		ck_assert_int_eq(x->verdict, y->verdict);
		ck_assert_str_eq(x->symbol, y->symbol);
		ck_assert_str_eq(x->insn, y->insn);
		ck_assert_int_eq(x->nested_at, y->nested_at);
		ck_assert_int_eq(x->ngot, y->ngot);
		ck_assert(!memcmp(x->got, y->got, sizeof x->got));
		ck_assert_int_eq(x->nexpected, y->nexpected);
		ck_assert(!memcmp(x->expected, y->expected, sizeof x->expected));
	}
}

/* Each of cfg[0..n), run on one kept boot made for *boot_cfg and rewound
 * before each, gives alone[i]. */
static void assert_runs_on_a_kept_boot_are(const struct probe_config *boot_cfg, const struct probe_config *cfg,
					   const struct probe_result *alone, int n)
{
	char err[256] = "";
	struct probe_boot *b = probe_boot(boot_cfg, err, sizeof err);
	ck_assert_msg(b, "boot: %s", err);
	ck_assert_int_eq(probe_boot_keep(b), 0);
	for (int i = 0; i < n; i++) {
		char what[48];
		snprintf(what, sizeof what, "run %d on the kept boot", i);
		ck_assert_int_eq(probe_boot_rewind(b), 0);
		struct probe_config c = cfg[i];
		c.deadline = probe_deadline_from_now(&c);
		struct probe_result kept;
		ck_assert_msg(!probe_boot_run(b, &c, &kept, err, sizeof err), "%s: %s", what, err);
		assert_same_result(&alone[i], &kept, what);
		probe_result_free(&kept);
	}
	probe_boot_free(b, boot_cfg);
}

/*
 * Runs one after another on one kept boot, rewound before each
 * (probe_boot_keep: what sigstep matrix's workers do), give what each
 * gives alone -- whatever ran before it: other functions, contexts, eras,
 * iteration counts, nested trials.  The seed variant, whose runs fail and
 * whose nested reads clear vdsoSP, leaves the most behind to be undone.
 */
START_TEST(runs_on_a_kept_boot_are_runs_alone)
{
	const struct arch_ops *ops = arch_ops_find(arches[_i]);
	struct probe_config cfg[5];
	static const char *const fn[5] = { "walltime", "nanotime", "walltime", "nanotime", "walltime" };
	static const char *const ctx[5] = { "curg", "g0", "gsignal", "curg", "curg" };
	static const int era[5] = { -1, 2, 3, 0, -1 };
	static const uint64_t iterations[5] = { 1, 1, 1, 3, 1 };
	static const enum probe_inject inject[5] = { PROBE_NESTED, PROBE_EVERY, PROBE_EVERY, PROBE_EVERY, PROBE_EVERY };
	struct probe_result alone[5];
	char err[256] = "";
	for (int i = 0; i < 5; i++) {
		cfg[i] = (struct probe_config){
			.ops = ops, .build_dir = build_dir(), .variant = "seed", .function = fn[i], .context = ctx[i],
			.era = era[i], .vdso = 1, .iterations = iterations[i], .inject = inject[i],
		};
		ck_assert_msg(!probe_run(&cfg[i], &alone[i], err, sizeof err), "run %d alone: %s", i, err);
	}
	assert_runs_on_a_kept_boot_are(&cfg[0], cfg, alone, 5);
	for (int i = 0; i < 5; i++)
		probe_result_free(&alone[i]);
}
END_TEST

/*
 * Runs that differ only in the vDSO's knobs share a boot (image_start
 * writes each run's into the vvar page): each gives what it gives alone,
 * whichever knobs the boot was made with.  The knob sets are hostile.scn's;
 * at least one of them must change what a run gives, or this could not
 * tell a run that kept the boot's knobs from one that took its own.
 */
START_TEST(runs_with_other_knobs_on_a_kept_boot_are_runs_alone)
{
	const struct arch_ops *ops = arch_ops_find(arches[_i]);
	enum { N = 4 };
	struct probe_config cfg[N];
	static const uint32_t clobber[N] = { 0, 0, 1, 0 }, callee_saved[N] = { 0, 1, 1, 0 };
	static const uint32_t sse_align[N] = { 0, 0, 1, 0 }, stack_bytes[N] = { 0, 0, 0, 32768 };
	struct probe_result alone[N];
	char err[256] = "";
	int changed = 0;
	for (int i = 0; i < N; i++) {
		cfg[i] = (struct probe_config){
			.ops = ops, .build_dir = build_dir(), .variant = "master", .function = "walltime",
			.context = "curg", .era = 1, .vdso = 1, .iterations = 1, .inject = PROBE_EVERY,
			.knob_clobber = clobber[i], .knob_callee_saved = callee_saved[i],
			.knob_sse_align = sse_align[i], .knob_stack_bytes = stack_bytes[i],
		};
		ck_assert_msg(!probe_run(&cfg[i], &alone[i], err, sizeof err), "run %d alone: %s", i, err);
		ck_assert(probe_boot_shares(&cfg[0], &cfg[i]));
		changed |= memcmp(alone[i].verdicts, alone[0].verdicts, sizeof alone[0].verdicts) ||
			   strcmp(alone[i].invariants, alone[0].invariants);
	}
	ck_assert_msg(changed, "no knob set changes a run: the test cannot fail");
	assert_runs_on_a_kept_boot_are(&cfg[2], cfg, alone, N);	/* a boot with knob set 2 */
	/* Without the harness's vDSO the knobs are the guest's arguments. */
	struct probe_config fa = cfg[0], fb = cfg[1];
	fa.vdso = fb.vdso = 0;
	ck_assert(!probe_boot_shares(&fa, &fb));
	for (int i = 0; i < N; i++)
		probe_result_free(&alone[i]);
}
END_TEST

/* The strip, rebuilt from the samples one by one: each pc once, in the
 * order first probed, with its first verdict -- or the first failing
 * one after a passing start. */
struct strip_log {
	uint32_t n;
	uint64_t pc[PROBE_STRIP_MAX];
	enum verdict verdict[PROBE_STRIP_MAX];
};

static void log_strip(void *ctx, const struct probe_sample *s)
{
	struct strip_log *l = ctx;
	for (uint32_t i = 0; i < l->n; i++)
		if (l->pc[i] == s->pc) {
			if (verdict_passes(l->verdict[i]) && !verdict_passes(s->verdict))
				l->verdict[i] = s->verdict;
			return;
		}
	ck_assert_uint_lt(l->n, PROBE_STRIP_MAX);
	l->pc[l->n] = s->pc;
	l->verdict[l->n++] = s->verdict;
}

/* Three iterations of a call whose samples fail in part: every pc is
 * probed again, and the strip (found by a hash of the pc) is what the
 * samples make of it. */
START_TEST(the_strip_has_each_pc_once_with_its_worst_verdict)
{
	const struct arch_ops *ops = arch_ops_find(arches[_i]);
	static struct strip_log l;
	memset(&l, 0, sizeof l);
	struct probe_config cfg = {
		.ops = ops, .build_dir = build_dir(), .variant = "seed", .function = "walltime", .context = "curg",
		.era = -1, .vdso = 1, .iterations = 3, .on_sample = log_strip, .sample_ctx = &l,
	};
	struct probe_result r;
	char err[256] = "";
	ck_assert_msg(!probe_run(&cfg, &r, err, sizeof err), "%s", err);
	ck_assert_msg(r.boundaries > l.n && l.n > 20, "%s: %llu boundaries, %u pcs", arches[_i],
		      (unsigned long long)r.boundaries, l.n);
	ck_assert_uint_eq(r.nstrip, l.n);
	int failing = 0;
	for (uint32_t i = 0; i < l.n; i++) {
		ck_assert_uint_eq(r.strip[i].pc, l.pc[i]);
		ck_assert_uint_eq(r.strip[i].verdict, l.verdict[i]);
		failing += !verdict_passes(l.verdict[i]);
	}
	ck_assert_msg(failing > 0, "%s: no failing pc in the seed's strip", arches[_i]);
	probe_result_free(&r);
}
END_TEST

/* Every (pc, text) a run's violations name, in one table. */
struct pc_texts {
	size_t n;
	uint64_t pc[4096];
	const char *text[4096];
};

/* A pc has one text and a text one pc (symbol+offset names a pc). */
static void same_pc_same_text(struct pc_texts *t, uint64_t pc, const char *text, const char *arch)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->pc[i] == pc)
			ck_assert_msg(!strcmp(t->text[i], text), "%s: 0x%llx is %s and %s", arch,
				      (unsigned long long)pc, t->text[i], text);
		else
			ck_assert_msg(strcmp(t->text[i], text), "%s: %s names 0x%llx and 0x%llx", arch, text,
				      (unsigned long long)t->pc[i], (unsigned long long)pc);
	}
	if (t->n < sizeof t->pc / sizeof t->pc[0])
		t->pc[t->n] = pc, t->text[t->n++] = text;
}

/* The symbols of a violation's pc and stacks (made once per pc and run)
 * are each pc's own, and its instruction's text is the same wherever
 * the pc fails again. */
START_TEST(a_violations_texts_are_its_pcs_own)
{
	const struct arch_ops *ops = arch_ops_find(arches[_i]);
	static struct pc_texts syms, insns;
	memset(&syms, 0, sizeof syms);
	memset(&insns, 0, sizeof insns);
	struct probe_config cfg = {
		.ops = ops, .build_dir = build_dir(), .variant = "seed", .function = "nanotime", .context = "curg",
		.era = -1, .vdso = 1, .iterations = 3,
	};
	struct probe_result r;
	char err[256] = "";
	ck_assert_msg(!probe_run(&cfg, &r, err, sizeof err), "%s", err);
	ck_assert_msg(r.nviolations > 10, "%s: %zu violations", arches[_i], r.nviolations);
	for (size_t i = 0; i < r.nviolations; i++) {
		const struct violation *v = &r.violations[i];
		same_pc_same_text(&syms, v->pc, v->symbol, arches[_i]);
		for (size_t j = 0; j < insns.n; j++)
			if (insns.pc[j] == v->pc)
				ck_assert_str_eq(insns.text[j], v->insn);
		if (insns.n < 4096)
			insns.pc[insns.n] = v->pc, insns.text[insns.n++] = v->insn;
		for (int k = 0; k < v->nexpected; k++)
			same_pc_same_text(&syms, v->expected[k], v->expected_sym[k], arches[_i]);
	}
	probe_result_free(&r);
}
END_TEST

/* Unusable input is status 2 with a reason, never a crash. */
START_TEST(bad_configuration_is_status_2)
{
	const struct arch_ops *ops = arch_ops_find(arches[_i]);
	struct probe_result r;
	char err[256];
	struct probe_config cfg = {
		.ops = ops, .build_dir = build_dir(), .variant = "no-such-variant", .function = "walltime",
		.context = "curg", .era = -1, .vdso = 1,
	};
	err[0] = 0;
	ck_assert_int_eq(probe_run(&cfg, &r, err, sizeof err), 2);
	ck_assert(err[0]);
	cfg.variant = "master";
	cfg.function = "clock";
	err[0] = 0;
	ck_assert_int_eq(probe_run(&cfg, &r, err, sizeof err), 2);
	ck_assert(err[0]);
	cfg.function = "walltime";
	cfg.image_path = "/dev/null";
	err[0] = 0;
	ck_assert_int_eq(probe_run(&cfg, &r, err, sizeof err), 2);
	ck_assert(err[0]);
}
END_TEST

START_TEST(verdict_names_round_trip)
{
	for (int v = 0; v < VERDICT_COUNT; v++)
		ck_assert_int_eq(verdict_from_name(verdict_name((enum verdict)v)), v);
	ck_assert_int_eq(verdict_from_name("nonsense"), VERDICT_COUNT);
	ck_assert(verdict_passes(VERDICT_FULL) && verdict_passes(VERDICT_CALLER));
	for (int v = VERDICT_VDSO; v < VERDICT_COUNT; v++)
		ck_assert(!verdict_passes((enum verdict)v));
}
END_TEST

/*
 * Every --iterations `sigstep run` accepts fits the probe's boundary
 * limit: a correct trampoline is never stopped as one that does not
 * return.  A window's boundaries are a fixed part and a part per call,
 * measured with 1 and 3 calls for each variant; its largest count at the
 * most calls accepted must lie within the limit at that many calls.
 */
START_TEST(every_accepted_iteration_count_fits_the_boundary_limit)
{
	static const char *const variants[] = { "prefix", "seed", "master", "go119" };
	const struct arch_ops *ops = arch_ops_find(arches[_i]);
	ck_assert(ops);
	for (int v = 0; v < 4; v++) {
		uint64_t b[2];
		for (int k = 0; k < 2; k++) {
			struct probe_config cfg = {
				.ops = ops, .build_dir = build_dir(), .variant = variants[v], .function = "walltime",
				.context = "curg", .era = -1, .vdso = 1, .iterations = k ? 3 : 1,
				.inject = PROBE_COUNT_ONLY,
			};
			struct probe_result r;
			char err[256] = "";
			ck_assert_msg(probe_run(&cfg, &r, err, sizeof err) == 0, "%s", err);
			b[k] = r.boundaries;
			probe_result_free(&r);
		}
		ck_assert_uint_gt(b[1], b[0]);
		uint64_t per_call = (b[1] - b[0]) / 2, fixed = b[0] - per_call;
		uint64_t most = fixed + per_call * PROBE_MAX_ITERATIONS;
		ck_assert_msg(most <= probe_boundary_limit(PROBE_MAX_ITERATIONS),
			      "%s %s: %llu boundaries at --iterations %llu, over the limit of %llu", arches[_i],
			      variants[v], (unsigned long long)most, (unsigned long long)PROBE_MAX_ITERATIONS,
			      (unsigned long long)probe_boundary_limit(PROBE_MAX_ITERATIONS));
	}
}
END_TEST

/* The judge on hand-made stacks: 1 and 2 are the leaves a traceback may
 * leave out (trampoline, vDSO), 3.. the callers, 9 the root. */
static int drop_small(void *ctx, uint64_t addr, int innermost)
{
	(void)ctx;
	(void)innermost;
	return addr < 3;
}

START_TEST(judge_tells_truncated_from_wrong)
{
	const uint64_t truth[] = { 1, 2, 5, 7, 9 };
	struct { uint64_t got[6]; int n; enum verdict want; } c[] = {
		{ { 1, 2, 5, 7, 9 }, 5, VERDICT_FULL },
		{ { 5, 7, 9 }, 3, VERDICT_CALLER },
		{ { 2, 5, 7, 9 }, 4, VERDICT_CALLER },
		{ { 1 }, 1, VERDICT_TRUNCATED },	/* Go 1.19's one frame in the trampoline */
		{ { 1, 2, 5 }, 3, VERDICT_TRUNCATED },
		{ { 5 }, 1, VERDICT_TRUNCATED },	/* the caller's stack, stopping early */
		{ { 5, 7 }, 2, VERDICT_TRUNCATED },
		{ { 5, 5, 7, 9 }, 4, VERDICT_WRONG },	/* duplicated */
		{ { 7, 9 }, 2, VERDICT_WRONG },		/* 5 is a caller: not droppable */
		{ { 1, 3 }, 2, VERDICT_WRONG },		/* garbage after a right frame */
		{ { 6 }, 1, VERDICT_WRONG },		/* misattributed */
		{ { 0 }, 0, VERDICT_WRONG },		/* no frame at all */
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		enum verdict v = oracle_judge(truth, 5, c[i].got, c[i].n, drop_small, NULL);
		ck_assert_msg(v == c[i].want, "case %zu: %s, want %s", i, verdict_name(v), verdict_name(c[i].want));
	}
}
END_TEST

/*
 * A store that lands past the store path (as the emulated kernel's writes
 * on a handler's behalf do) is found before any boundary is judged: here
 * a hook at the handler's first instruction changes host-side a byte of
 * the sample, or a byte in a page the host has never populated (the warm-up's
 * copy leaves those pages out as zeros); the undo log cannot give that
 * byte back, and the run is refused with one line naming its address.  With the same subject and no such write, the
 * run is an ordinary one.
 */
static int slip_store;	/* 0 none; 1 the sample; 2 a page the host never gave a frame */
static uint64_t slipped_at;

/* The first page of the largest writable region that the host has never
 * populated (most of a stack is untouched): the warm-up's copy skips such
 * a page, which must not make a store into it go unseen. */
static uint64_t an_untouched_page(struct probe *p)
{
	const struct region *best = NULL;
	for (size_t i = 0; i < p->mc->nregions; i++) {
		const struct region *r = &p->mc->regions[i];
		if (r->host && (r->perms & UC_PROT_WRITE) && !(r->perms & UC_PROT_EXEC) &&
		    (!best || r->end - r->begin > best->end - best->begin))
			best = r;
	}
	ck_assert_msg(best, "no writable region");
	size_t len = best->end - best->begin, pages = len / HOST_PAGE;
	uint8_t *had = malloc(pages);
	ck_assert_msg(had && host_pages_populated(best->host, len, had) == 0, "no pagemap");
	size_t pg = 0;
	while (pg < pages && had[pg])
		pg++;
	free(had);
	ck_assert_msg(pg < pages, "every page of the largest writable region is populated");
	return best->begin + pg * HOST_PAGE + 8;
}

static void store_past_the_hook(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	struct probe *p = user;
	uint8_t byte = 0;
	(void)uc, (void)addr, (void)size;
	if (slipped_at)
		return;
	slipped_at = slip_store == 2 ? an_untouched_page(p) : p->sample_addr;
	machine_read(p->mc, slipped_at, &byte, 1);
	byte ^= 0x5a;
	machine_write(p->mc, slipped_at, &byte, 1);
}

/* On the handler's engine, where every handler runs. */
static int slow_first_run;	/* 1: the first handler run waits 10 ms on its way in */

static void wait_once(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	(void)uc, (void)addr, (void)size, (void)user;
	if (slow_first_run) {
		slow_first_run = 0;
		usleep(10000);
	}
}

static int leaky_hook_handler(struct probe *p)
{
	if (!slip_store)
		return 0;
	if (slow_first_run) {
		uint64_t entry = 0;
		for (size_t i = 0; i < p->g.image.syms.n; i++)
			if (!strcmp(p->g.image.syms.v[i].name, "arch_sigtramp"))
				entry = p->g.image.syms.v[i].addr;
		ck_assert_msg(entry, "no arch_sigtramp in the image");
		uc_hook w;
		ck_assert_int_eq(uc_hook_add(p->mc->uc, &w, UC_HOOK_CODE, (void *)wait_once, p, entry, entry),
				 UC_ERR_OK);
	}
	for (size_t i = 0; i < p->g.image.syms.n; i++)
		if (!strcmp(p->g.image.syms.v[i].name, "sighandler")) {
			uint64_t a = p->g.image.syms.v[i].addr;
			uc_hook h;
			ck_assert_int_eq(uc_hook_add(p->mc->uc, &h, UC_HOOK_CODE, (void *)store_past_the_hook, p, a, a),
					 UC_ERR_OK);
			return 0;
		}
	ck_abort_msg("no sighandler in the image");
	return -1;
}

/*
 * The handler's stores outside its own memory break the invariants: with
 * the image's data and bss relabelled as the process stack (what the
 * handler may not write), its sample stores are such stores, each seen
 * by the store hook.
 */
static int relabel_start(struct probe *p, char *err, size_t errlen)
{
	int rc = probe_subject_image.start(p, err, errlen);
	for (size_t i = 0; !rc && i < p->mc->nregions; i++)
		if (p->mc->regions[i].kind == REGION_IMAGE_DATA)
			p->mc->regions[i].kind = REGION_STACK;
	return rc;
}

START_TEST(a_handler_store_outside_its_memory_fails_the_invariants)
{
	const char *arch = arches[_i];
	const struct arch_ops *ops = arch_ops_find(arch);
	ck_assert_msg(ops, "arch %s not compiled in", arch);
	struct probe_subject relabelled = probe_subject_image;
	relabelled.start = relabel_start;
	struct probe_config cfg = {
		.ops = ops, .build_dir = build_dir(), .variant = "master", .era = -1, .vdso = 1,
		.subject = &relabelled,
	};
	struct probe_result r;
	char err[256] = "";
	ck_assert_msg(probe_run(&cfg, &r, err, sizeof err) == 0, "%s: %s", arch, err);
	ck_assert_msg(!r.invariants_ok && strstr(r.invariants, "stores outside the handler's memory") &&
		      strstr(r.invariants, "the handler wrote"), "%s: invariants: %s", arch, r.invariants);
	probe_result_free(&r);
}
END_TEST

/* A probe of master on arch whose handler's engines slip a store past
 * the store path (slip: slip_store's kinds), the first run slow or not. */
static int run_leaky(const char *arch, int slip, int slow, struct probe_result *r, char *err, size_t errlen)
{
	const struct arch_ops *ops = arch_ops_find(arch);
	ck_assert_msg(ops, "arch %s not compiled in", arch);
	struct probe_subject leaky = probe_subject_image;
	leaky.hook_handler = leaky_hook_handler;
	struct probe_config cfg = {
		.ops = ops, .build_dir = build_dir(), .variant = "master", .era = -1, .vdso = 1, .subject = &leaky,
	};
	slip_store = slip;
	slipped_at = 0;
	slow_first_run = slow;
	int rc = probe_run(&cfg, r, err, errlen);
	slow_first_run = 0;
	return rc;
}

START_TEST(a_store_past_the_store_path_is_refused)
{
	const char *arch = arches[_i / 3];
	struct probe_result r;
	char err[256] = "";
	int rc = run_leaky(arch, _i % 3, 0, &r, err, sizeof err);
	if (slip_store) {
		char at[64];
		snprintf(at, sizeof at, "at 0x%llx ", (unsigned long long)slipped_at);
		ck_assert_msg(rc == 2, "%s: a store past the hook was not found (probe_run %d)", arch, rc);
		ck_assert_msg(strstr(err, "landed past the store hook") && strstr(err, at), "%s: %s (want %s)", arch,
			      err, at);
	} else {
		ck_assert_msg(rc == 0, "%s: probe_run %d: %s", arch, rc, err);
		ck_assert_msg(r.invariants_ok, "%s: %s", arch, r.invariants);
		ck_assert_uint_gt(r.verdicts[VERDICT_FULL], 0);
		probe_result_free(&r);
	}
}
END_TEST

/*
 * The same store, when the handler's first run (the warm-up, which
 * translates it) is slow: it must still run to its end, where its stores
 * are checked, not be stopped at a translated run's time limit (2 ms)
 * before the store and leave it to a sample, where nothing looks for it.
 */
START_TEST(a_store_past_the_store_path_is_refused_after_a_slow_first_run)
{
	struct probe_result r;
	char err[256] = "";
	int rc = run_leaky(arches[_i], 1, 1, &r, err, sizeof err);
	ck_assert_msg(rc == 2 && strstr(err, "landed past the store hook"), "%s: probe_run %d: %s", arches[_i], rc,
		      err);
}
END_TEST

/*
 * A handler that never returns: its first instruction jumps to itself.
 * The handler's engine runs it uncounted until the watchdog stops it;
 * then every boundary is counted, and each is a hang at the budget, the
 * PC in the handler.
 */
static const struct { const char *arch; uint8_t loop[4]; unsigned len; } self_jump[] = {
	{ "amd64", { 0xeb, 0xfe }, 2 },			/* jmp . */
	{ "386", { 0xeb, 0xfe }, 2 },
	{ "arm", { 0xfe, 0xff, 0xff, 0xea }, 4 },	/* b . (A32) */
};

static int looping_start(struct probe *p, char *err, size_t errlen)
{
	int rc = probe_subject_image.start(p, err, errlen);
	for (size_t i = 0; !rc && i < p->g.image.syms.n; i++)
		if (!strcmp(p->g.image.syms.v[i].name, "sighandler"))
			for (size_t k = 0; k < sizeof self_jump / sizeof self_jump[0]; k++)
				if (!strcmp(self_jump[k].arch, p->mc->ops->name))
					ck_assert_int_eq(machine_write(p->mc, p->g.image.syms.v[i].addr, self_jump[k].loop,
								       self_jump[k].len), 0);
	return rc;
}

START_TEST(a_handler_that_never_returns_hangs_at_every_boundary)
{
	const char *arch = arches[_i];
	const struct arch_ops *ops = arch_ops_find(arch);
	ck_assert_msg(ops, "arch %s not compiled in", arch);
	struct probe_subject looping = probe_subject_image;
	looping.start = looping_start;
	struct probe_config cfg = {
		.ops = ops, .build_dir = build_dir(), .variant = "go119", .era = -1, .vdso = 1,
		.handler_budget = 200000, .subject = &looping,
	};
	struct probe_result r;
	char err[256] = "";
	ck_assert_msg(probe_run(&cfg, &r, err, sizeof err) == 0, "%s: %s", arch, err);
	ck_assert_uint_gt(r.boundaries, 20);
	ck_assert_uint_eq(r.verdicts[VERDICT_HANG], r.boundaries);
	for (size_t i = 0; i < r.nviolations; i++)
		ck_assert_msg(strstr(r.violations[i].detail, "no rt_sigreturn within 200000 instructions, PC sighandler"),
			      "%s: %s", arch, r.violations[i].detail);
	probe_result_free(&r);
}
END_TEST

/*
 * The store path, store by store: guest stores of 1, 2, 4 and 8 bytes
 * into the handler's own memory, on pages read-only in the engine, are
 * each made (the bytes land), logged once with their size, and put back
 * exactly by the undo log -- every size, on every arch.  (The probe's
 * own runs judge the handler's sizes only, and a nested trial's stores
 * only through the reports.)
 */
static const struct {
	const char *arch;
	const uint8_t *code; size_t len;	/* stores of arg1 at [arg0], [arg0+2], [arg0+4], [arg0+8] */
	int insns;
} store_sizes[] = {
	{ "amd64", (const uint8_t[]){ 0x40, 0x88, 0x37,			/* mov %sil,(%rdi) */
				      0x66, 0x89, 0x77, 0x02,		/* mov %si,2(%rdi) */
				      0x89, 0x77, 0x04,			/* mov %esi,4(%rdi) */
				      0x48, 0x89, 0x77, 0x08 }, 14, 4 },	/* mov %rsi,8(%rdi) */
	{ "386", (const uint8_t[]){ 0x88, 0x0b,				/* mov %cl,(%ebx) */
				    0x66, 0x89, 0x4b, 0x02,		/* mov %cx,2(%ebx) */
				    0x89, 0x4b, 0x04,			/* mov %ecx,4(%ebx) */
				    0x66, 0x0f, 0x6e, 0xc1,		/* movd %ecx,%xmm0 */
				    0x66, 0x0f, 0xd6, 0x43, 0x08 }, 18, 5 },	/* movq %xmm0,8(%ebx) */
	{ "arm", (const uint8_t[]){ 0x00, 0x10, 0xc0, 0xe5,		/* strb r1,[r0] */
				    0xb2, 0x10, 0xc0, 0xe1,		/* strh r1,[r0,#2] */
				    0x04, 0x10, 0x80, 0xe5,		/* str r1,[r0,#4] */
				    0x11, 0x1b, 0x41, 0xec,		/* vmov d1,r1,r1 */
				    0x02, 0x1b, 0x80, 0xed }, 20, 5 },	/* vstr d1,[r0,#8] */
};

#define STORES_CODE 0x100000u
#define STORES_DATA 0x110000u
#define STORES_OLD 0xa5

START_TEST(every_store_size_is_made_logged_and_undone)
{
	const struct arch_ops *ops = arch_ops_find(store_sizes[_i].arch);
	ck_assert_msg(ops, "arch %s not compiled in", store_sizes[_i].arch);
	struct machine *mc = machine_create(ops);
	ck_assert(mc && (mc->sys = calloc(1, sizeof *mc->sys)));
	ck_assert_int_eq(ops->init_cpu(mc), 0);
	ck_assert_int_eq(machine_map(mc, STORES_CODE, STORES_CODE + 4096, UC_PROT_READ | UC_PROT_EXEC,
				     REGION_IMAGE_TEXT, "text"), 0);
	ck_assert_int_eq(machine_map(mc, STORES_DATA, STORES_DATA + 4096, UC_PROT_READ | UC_PROT_WRITE,
				     REGION_IMAGE_DATA, "data"), 0);
	ck_assert_int_eq(machine_write(mc, STORES_CODE, store_sizes[_i].code, store_sizes[_i].len), 0);
	uint8_t old[16], now[16];
	memset(old, STORES_OLD, sizeof old);
	ck_assert_int_eq(machine_write(mc, STORES_DATA, old, sizeof old), 0);

	static struct probe p;	/* large: not on the stack */
	memset(&p, 0, sizeof p);
	p.mc = mc;
	p.subject = &probe_subject_image;
	ck_assert_int_eq(probe_watch_memory(&p), 0);
	p.recording = 1;
	const uint64_t value = 0x0807060504030201ull;
	machine_set_reg(mc, ops->reg_arg[0], STORES_DATA);
	machine_set_reg(mc, ops->reg_arg[1], ops->word_size == 4 ? value & 0xffffffffu : value);
	machine_set_reg(mc, ops->reg_pc, STORES_CODE);
	ck_assert_int_eq(machine_run(mc, (uint64_t)store_sizes[_i].insns, 0), 1);
	ck_assert_msg(mc->fault.kind == FAULT_STOPPED, "%s: %s", ops->name, fault_kind_name(mc->fault.kind));
	ck_assert_uint_eq(machine_pc(mc), STORES_CODE + store_sizes[_i].len);

	/* Made: each store's bytes are the value's low ones (d1 on arm, xmm0
	 * on 386: the 32-bit register twice, or zero-extended). */
	ck_assert_int_eq(machine_read(mc, STORES_DATA, now, sizeof now), 0);
	static const uint8_t want_head[8] = { 0x01, STORES_OLD, 0x01, 0x02, 0x01, 0x02, 0x03, 0x04 };
	ck_assert_msg(!memcmp(now, want_head, 8), "%s: the 1, 2 and 4-byte stores were not made", ops->name);
	uint64_t eight;
	memcpy(&eight, now + 8, 8);
	uint64_t want_eight = !strcmp(ops->name, "amd64") ? value : !strcmp(ops->name, "arm") ? 0x0403020104030201ull
											: 0x04030201ull;
	ck_assert_msg(eight == want_eight, "%s: the 8-byte store made %llx", ops->name, (unsigned long long)eight);

	/* Logged: one record per store, of its size. */
	ck_assert_uint_eq(p.nundo, 4);
	static const uint32_t sizes[4] = { 1, 2, 4, 8 };
	for (int i = 0; i < 4; i++)
		ck_assert_msg(p.undo[i].size == sizes[i] && p.undo[i].addr == STORES_DATA + (i ? 1u << i : 0),
			      "%s: record %d: %u bytes at 0x%llx", ops->name, i, p.undo[i].size,
			      (unsigned long long)p.undo[i].addr);

	/* Undone: every byte as it was. */
	probe_undo_to(&p, 0);
	ck_assert_uint_eq(p.nundo, 0);
	ck_assert_int_eq(machine_read(mc, STORES_DATA, now, sizeof now), 0);
	ck_assert_msg(!memcmp(now, old, sizeof old), "%s: the undo log left a store's bytes", ops->name);
	free(p.undo);
	machine_destroy(mc);
}
END_TEST

/*
 * Runs of the real Go fixture on one kept boot follow each other in one
 * execution of the program (probe_subject.follow: each run's window, then
 * on to the next run's root, its finish in a copy of the process) and
 * give what each gives alone, to the instruction counts: the two
 * trampolines' 200th calls in the order they come, then a call already
 * passed (a boot of its own), then a later call again on the shared
 * execution.
 */
static void assert_same_go_result(const struct probe_result *a, const struct probe_result *b, const char *what)
{
	assert_same_result(a, b, what);
	ck_assert_msg(a->boot_insns == b->boot_insns, "%s: %llu instructions to the call, alone %llu", what,
		      (unsigned long long)b->boot_insns, (unsigned long long)a->boot_insns);
	ck_assert_str_eq(a->arch, b->arch);
	ck_assert_str_eq(a->variant, b->variant);
	ck_assert_str_eq(a->go_version, b->go_version);
	ck_assert_uint_eq(a->vdso_base, b->vdso_base);
	ck_assert_uint_eq(a->probed, b->probed);
	ck_assert_int_eq(a->pass, b->pass);
	for (size_t i = 0; i < a->nviolations; i++) {
		const struct violation *x = &a->violations[i], *y = &b->violations[i];
		ck_assert_str_eq(x->detail, y->detail);
		for (int k = 0; k < x->nexpected; k++)
			ck_assert_str_eq(x->expected_sym[k], y->expected_sym[k]);
		for (int k = 0; k < x->ngot; k++)
			ck_assert_str_eq(x->got_sym[k], y->got_sym[k]);
	}
}

START_TEST(go_runs_on_a_kept_boot_are_runs_alone)
{
	const struct arch_ops *ops = arch_ops_find(arches[_i]);
	char program[4096], err[256] = "";
	snprintf(program, sizeof program, "%s/go/%s/sigstep-go-fixture", build_dir(), arches[_i]);
	if (access(program, X_OK)) {
		printf("go_runs_on_a_kept_boot_are_runs_alone: %s: no Go fixture built, skipped\n", arches[_i]);
		return;
	}
	/* amd64's time.Now reads the wall clock in its own assembly, time.now. */
	const char *wall = strcmp(arches[_i], "amd64") ? "walltime" : "time.now";
	static const char *const args[] = { "-iterations", "300" };
	const char *fn[4] = { "nanotime1", wall, "nanotime1", wall };
	static const uint64_t call[4] = { 200, 200, 150, 250 };
	struct probe_config cfg[4];
	struct probe_result alone[4], kept[4];
	for (int i = 0; i < 4; i++) {
		cfg[i] = (struct probe_config){
			.ops = ops, .build_dir = build_dir(), .subject = &probe_subject_go, .program = program,
			.program_args = args, .nprogram_args = 2, .function = fn[i], .call = call[i], .vdso = 1,
		};
		ck_assert_msg(!probe_run(&cfg[i], &alone[i], err, sizeof err), "run %d alone: %s", i, err);
		ck_assert_msg(alone[i].boundaries > 0 && alone[i].invariants_ok, "run %d alone: %s", i,
			      alone[i].invariants);
	}
	for (int i = 1; i < 4; i++)
		ck_assert(probe_boot_shares(&cfg[0], &cfg[i]));
	struct probe_boot *b = probe_boot(&cfg[0], err, sizeof err);
	ck_assert_msg(b, "boot: %s", err);
	ck_assert_int_eq(probe_boot_keep(b), 0);
	for (int i = 0; i < 4; i++) {
		char what[48];
		snprintf(what, sizeof what, "%s run %d (%s call %llu)", arches[_i], i, fn[i], (unsigned long long)call[i]);
		ck_assert_msg(probe_boot_rewind(b) == 0, "%s: the execution cannot be followed", what);
		struct probe_config c = cfg[i];
		c.deadline = probe_deadline_from_now(&c);
		ck_assert_msg(!probe_boot_run(b, &c, &kept[i], err, sizeof err), "%s: %s", what, err);
		assert_same_go_result(&alone[i], &kept[i], what);
	}
	probe_boot_free(b, &cfg[0]);
	for (int i = 0; i < 4; i++) {
		probe_result_free(&alone[i]);
		probe_result_free(&kept[i]);
	}
}
END_TEST

static Suite *probe_suite(void)
{
	Suite *s = suite_create("probe");
	TCase *t = tcase_create("history");
	tcase_set_timeout(t, 120);
	tcase_add_loop_test(t, prefix_is_external_in_the_vdso, 0, 2 * NARCHES);
	tcase_add_loop_test(t, seed_is_wrong_through_vdsosp, 0, 2 * NARCHES);
	tcase_add_loop_test(t, master_passes_everywhere, 0, 2 * NARCHES);
	suite_add_tcase(s, t);

	t = tcase_create("oracle");
	tcase_set_timeout(t, 120);
	tcase_add_loop_test(t, budget_of_ten_hangs_and_shadow_stack_is_the_chain, 0, NARCHES);
	tcase_add_loop_test(t, a_handler_that_never_returns_hangs_at_every_boundary, 0, NARCHES);
	tcase_add_loop_test(t, probes_are_deterministic, 0, NARCHES);
	tcase_add_loop_test(t, the_strip_has_each_pc_once_with_its_worst_verdict, 0, NARCHES);
	tcase_add_loop_test(t, a_violations_texts_are_its_pcs_own, 0, NARCHES);
	tcase_add_loop_test(t, runs_on_a_kept_boot_are_runs_alone, 0, NARCHES);
	tcase_add_loop_test(t, runs_with_other_knobs_on_a_kept_boot_are_runs_alone, 0, NARCHES);
	tcase_add_loop_test(t, bad_configuration_is_status_2, 0, NARCHES);
	tcase_add_loop_test(t, a_store_past_the_store_path_is_refused, 0, 3 * NARCHES);
	tcase_add_loop_test(t, a_store_past_the_store_path_is_refused_after_a_slow_first_run, 0, NARCHES);
	tcase_add_loop_test(t, a_handler_store_outside_its_memory_fails_the_invariants, 0, NARCHES);
	tcase_add_loop_test(t, every_store_size_is_made_logged_and_undone, 0, NARCHES);
	tcase_add_test(t, verdict_names_round_trip);
	tcase_add_test(t, judge_tells_truncated_from_wrong);
	tcase_add_loop_test(t, every_accepted_iteration_count_fits_the_boundary_limit, 0, NARCHES);
	tcase_add_loop_test(t, go_runs_on_a_kept_boot_are_runs_alone, 0, NARCHES);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(probe_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
