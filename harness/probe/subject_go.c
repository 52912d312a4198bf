/*
 * The real-Go subject: a static Go program booted on the emulated Linux,
 * probed at every instruction boundary of the N-th call of one of its
 * vDSO trampolines (runtime.nanotime1, runtime.walltime, amd64's
 * time.now).  The program's own SIGPROF handler runs at each boundary;
 * its sample is read where sigprof hands it to the profile buffer, at
 * the entry of runtime.(*cpuProfile).add (the stk slice argument, where
 * the arch's Go ABI puts it: arch_ops.go_stk_*).
 *
 * The true stack is the shadow stack of the window (what executes from
 * the trampoline's entry on) followed by the callers the trampoline was
 * called from, unwound once at its entry from the pclntab's pcsp tables:
 * there every frame is an ordinary Go frame at a call site, where those
 * tables are exact (what they cannot describe -- SPWRITE, the switch to
 * g0 -- happens inside the window, where the shadow stack alone speaks).
 *
 * Samples are judged by function: Go's traceback records inlined calls
 * as extra PCs inside the physical function (runtime.nanotime in
 * time.runtimeNano...), and the outermost PC of a physical frame is then
 * the inline mark, not the return address.  Consecutive PCs of one
 * physical function are one frame on both sides.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gobinary.h"
#include "probe_internal.h"
#include "sigdeliver.h"
#include "threads.h"
#include "vvar.h"

#define L_SI_TIMER (-2)
#define GO_MAX_INSNS 4000000000ull	/* boot, the calls before the N-th, the rest */
#define FOREIGN 1			/* "function" of a PC outside the pclntab (the vDSO) */

static const char *const go_env[] = { "PATH=/bin", NULL };

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct go_state {
	struct gobinary *gb;
	const struct pclntab *tab;
	struct go_func root;
	uint64_t add_entry;
	uint64_t outer[PROBE_MAX_FRAMES];	/* the root's callers: return addresses, innermost first */
	int nouter;
	int seen;				/* cpuProfile.add was reached during this handler run */
	uint64_t got[PROBE_MAX_FRAMES];
	int ngot;
	uint64_t got_len;
	uint64_t marker[4];			/* _VDSO, _ExternalCode, _System, _GC entries (0: none) */
	const char **argv;
	char vdso[4096];
	/*
	 * p->follows: the functions a later run may probe (probe_subject.
	 * follow), with their calls so far in the chain's engine -- the
	 * program's own execution, not a handler's -- counted by a hook on
	 * each entry; the run's root among them, the call it stops at, and
	 * the counts the window's stops added twice (taken back before the
	 * next run goes on, so that its counts are an unprobed run's).
	 */
	struct { uint64_t entry; uint64_t calls; } cand[4];
	int ncand, want, stopping;
	uint64_t want_call;
	uint64_t recount;		/* the root's block, counted at the stop and at the window's start */
	int window_stops;		/* ... and the return's, not yet taken back */
};

static struct go_state *st(struct probe *p)
{
	return p->subject_state;
}

/* The physical function holding pc: its entry, FOREIGN if none. */
static uint64_t fn_of(struct go_state *s, uint64_t pc)
{
	struct go_func f;
	return pclntab_func_at(s->tab, pc, &f) ? FOREIGN : f.entry;
}

/* cpuProfile.add(tagPtr, stk): the stk slice, copied at the function's entry. */
static void hook_add(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	struct probe *p = user;
	struct go_state *s = st(p);
	struct machine *mc = p->mc;
	const struct arch_ops *ops = mc->ops;
	unsigned w = ops->word_size;
	(void)uc, (void)addr, (void)size;
	if (p->mode != MODE_HANDLER)
		return;
	uint64_t ptr = 0, len = 0;
	if (ops->go_stk_reg_ptr >= 0) {
		ptr = machine_reg(mc, ops->go_stk_reg_ptr);
		len = machine_reg(mc, ops->go_stk_reg_len);
	} else {
		uint64_t sp = machine_sp(mc);
		if (machine_read_word(mc, sp + ops->go_stk_stack_off, &ptr) ||
		    machine_read_word(mc, sp + ops->go_stk_stack_off + w, &len))
			return;
	}
	s->seen = 1;
	s->got_len = len;
	s->ngot = len > PROBE_MAX_FRAMES ? PROBE_MAX_FRAMES : (int)len;
	for (int i = 0; i < s->ngot; i++)
		if (machine_read_word(mc, ptr + (uint64_t)i * w, &s->got[i]))
			s->ngot = i;
}

/*
 * The callers of the root at its entry (pc, sp), as gentraceback walks
 * ordinary frames: the frame's size from pcsp at its pc, the return
 * address above it (x86) or LR / the slot at 0(SP) (arm), up to a
 * TOPFRAME function (runtime.goexit, mstart) included.
 */
static int unwind_callers(struct probe *p, uint64_t pc, uint64_t sp, uint64_t *out, int max)
{
	struct go_state *s = st(p);
	struct machine *mc = p->mc;
	const struct arch_ops *ops = mc->ops;
	unsigned w = ops->word_size;
	int uses_lr = ops->reg_lr >= 0, n = 0;
	for (int innermost = 1; n < max; innermost = 0) {
		struct go_func f;
		int64_t delta;
		if (pclntab_func_at(s->tab, pc, &f) || pclntab_spdelta(s->tab, &f, pc, &delta) || delta < 0)
			break;
		if (f.flag & GO_FUNCFLAG_TOPFRAME)
			break;
		uint64_t fp = sp + (uint64_t)delta + (uses_lr ? 0 : w), lr = 0;
		if (uses_lr)
			lr = innermost && delta == 0 ? machine_reg(mc, ops->reg_lr) : 0;
		if (!lr && machine_read_word(mc, uses_lr ? sp : fp - w, &lr))
			break;
		if (!lr)
			break;
		out[n++] = lr;
		pc = lr;
		sp = fp;
	}
	return n;
}

/* Names from the program's own pclntab ("runtime.nanotime1+0x1c"); a pc
 * in the vDSO by the vDSO's symbols ("__vdso_clock_gettime+0x7"): the
 * program's ELF symbols would name it by the last label below it
 * (runtime.end+0x7ffff7a0e3d8). */
static int symbolize(const void *ctx, uint64_t pc, char *buf, size_t n)
{
	const struct probe *p = ctx;
	if (p->g.vdso.nseg && pc >= p->g.vdso.lo && pc < p->g.vdso.hi) {
		uint64_t off;
		const char *name = symtab_lookup(&p->g.vdso.syms, pc, &off);
		if (!name)
			return -1;
		snprintf(buf, n, "%s+0x%llx", name, (unsigned long long)off);
		return 0;
	}
	return gobinary_symbolize(st((struct probe *)p)->gb, pc, buf, n);
}

static const char *root_name(const struct probe_config *cfg, char *buf, size_t n)
{
	const char *f = cfg->function ? cfg->function : "nanotime1";
	if (strchr(f, '.'))
		snprintf(buf, n, "%s", f);
	else
		snprintf(buf, n, "runtime.%s", f);
	return buf;
}

/* A candidate's entry ran: one more call; a following run stops at its call. */
static void hook_candidate(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	struct probe *p = user;
	struct go_state *s = st(p);
	(void)uc, (void)size;
	for (int i = 0; i < s->ncand; i++)
		if (s->cand[i].entry == addr && ++s->cand[i].calls == s->want_call && i == s->want && s->stopping)
			machine_stop(p->mc);
}

/* The functions a following run may probe: the trampolines `sigstep go`
 * knows, and the root; each entry hooked before anything is translated. */
static int hook_candidates(struct probe *p, const char *root)
{
	static const char *const names[] = { "runtime.nanotime1", "runtime.walltime", "time.now" };
	struct go_state *s = st(p);
	s->want = -1;
	for (int k = -1; k < (int)(sizeof names / sizeof names[0]); k++) {
		struct go_func f;
		if (pclntab_func_named(s->tab, k < 0 ? root : names[k], &f))
			continue;
		int seen = 0;
		for (int i = 0; i < s->ncand; i++)
			seen |= s->cand[i].entry == f.entry;
		if (seen)
			continue;
		uc_hook h;
		if (uc_hook_add(p->mc->uc, &h, UC_HOOK_CODE, (void *)hook_candidate, p, f.entry, f.entry) != UC_ERR_OK)
			return -1;
		if (k < 0)
			s->want = s->ncand;
		s->cand[s->ncand++].entry = f.entry;
	}
	return 0;
}

static void name_result(struct probe *p, const char *name)
{
	const struct probe_config *cfg = p->cfg;
	struct probe_result *res = p->res;
	struct go_state *s = st(p);
	const char *base = strrchr(cfg->program, '/') ? strrchr(cfg->program, '/') + 1 : cfg->program;
	snprintf(res->arch, sizeof res->arch, "%s", gobinary_arch(s->gb)->name);
	snprintf(res->variant, sizeof res->variant, "%.63s", base);
	snprintf(res->function, sizeof res->function, "%.47s", name);
	snprintf(res->context, sizeof res->context, "call");
	snprintf(res->era_name, sizeof res->era_name, "own");
	snprintf(res->go_version, sizeof res->go_version, "%.23s", gobinary_version(s->gb));
}

/* [lo, hi) in the chain's code: 0 when hooked now (its translations
 * dropped, to be made again with the hook), 1 when a run before hooked
 * it, -1 when it overlaps a range that differs (probing it would call
 * the chain's hook twice) or cannot be hooked. */
static int hook_range_once(struct probe *p, uint64_t lo, uint64_t hi)
{
	for (int i = 0; i < p->nranges; i++) {
		if (p->range[i].lo == lo && p->range[i].hi == hi)
			return 1;
		if (lo < p->range[i].hi && p->range[i].lo < hi)
			return -1;
	}
	if (probe_add_range(p, lo, hi))
		return -1;
	machine_drop_code(p->mc, lo, hi);
	return 0;
}

/*
 * The run to the root has ended (r: threads_run's): at the call-th call's
 * first instruction, or not.  There: the callers, and the code the
 * return lands in hooked (hook_range_once: unless a run before this one
 * in the same execution hooked it).
 */
static int at_root(struct probe *p, int r, uint64_t call, const char *name, char *err, size_t errlen)
{
	const struct probe_config *cfg = p->cfg;
	struct go_state *s = st(p);
	struct machine *mc = p->mc;
	if (r == 0 || mc->fault.kind != FAULT_STOPPED || machine_pc(mc) != p->root_lo) {
		char line[320];
		if (r == 0) {
			uint64_t seen = p->follows ? s->cand[s->want].calls : call - 1 - p->root_skip;
			snprintf(line, sizeof line, "it exited with status %d after %llu calls", mc->exit_status,
				 (unsigned long long)seen);
		} else if (now_s() >= p->deadline) {
			snprintf(line, sizeof line, "it ran out of time (--timeout %llu s)",
				 (unsigned long long)probe_run_timeout_s(cfg));
		} else {
			guest_fault_line(&p->g, line, sizeof line);
		}
		char what[160];
		snprintf(what, sizeof what, "call %llu of %.127s", (unsigned long long)call, name);
		return probe_fail(err, errlen, "the program never reached %s: %s", what, line);
	}
	mc->fault = (struct fault){ 0 };
	if (p->follows) {
		/* The window starts at this instruction: its entry and its
		 * block are counted again there. */
		s->cand[s->want].calls--;
		s->recount = threads_last_block_insns(mc);
		s->window_stops = 1;
	}

	s->nouter = unwind_callers(p, machine_pc(mc), machine_sp(mc), s->outer, PROBE_MAX_FRAMES);
	if (s->nouter == 0)
		return probe_fail(err, errlen, "%s: the caller of %s cannot be found from its pcsp table",
				  cfg->program, name);
	struct go_func caller;
	if (pclntab_func_at(s->tab, s->outer[0], &caller) || hook_range_once(p, caller.entry, caller.end) < 0)
		return probe_fail(err, errlen, "cannot hook the caller of %s%s", name, "");
	return 0;
}

static int go_start(struct probe *p, char *err, size_t errlen)
{
	const struct probe_config *cfg = p->cfg;
	struct probe_result *res = p->res;
	char gerr[GOBINARY_ERR_MAX], lerr[LOADER_ERR_MAX], name[128];
	struct go_state *s = calloc(1, sizeof *s);
	if (!s)
		return probe_fail(err, errlen, "out of memory%s%s", "", "");
	p->subject_state = s;
	if (!cfg->program)
		return probe_fail(err, errlen, "no program given%s%s", "", "");
	if (gobinary_open(cfg->program, &s->gb, gerr, sizeof gerr))
		return probe_fail(err, errlen, "%s%s", gerr, "");
	const struct arch_ops *ops = gobinary_arch(s->gb);
	if (ops != cfg->ops)
		return probe_fail(err, errlen, "%s: a %s program, not %s", cfg->program, ops->name);
	s->tab = gobinary_pclntab(s->gb);
	if (!s->tab || !gobinary_layout(s->gb))
		return probe_fail(err, errlen, "%s: no pclntab or no DWARF layout of runtime.g/m%s", cfg->program, "");
	root_name(cfg, name, sizeof name);
	if (pclntab_func_named(s->tab, name, &s->root))
		return probe_fail(err, errlen, "%s: the program has no function %s", cfg->program, name);
	struct go_func add;
	if (pclntab_func_named(s->tab, "runtime.(*cpuProfile).add", &add))
		return probe_fail(err, errlen, "%s: no runtime.(*cpuProfile).add: the sample cannot be read%s",
				  cfg->program, "");
	s->add_entry = add.entry;
	static const char *const markers[4] = { "runtime._VDSO", "runtime._ExternalCode", "runtime._System",
						"runtime._GC" };
	for (int i = 0; i < 4; i++) {
		struct go_func f;
		if (!pclntab_func_named(s->tab, markers[i], &f))
			s->marker[i] = f.entry;
	}

	const char *base = strrchr(cfg->program, '/') ? strrchr(cfg->program, '/') + 1 : cfg->program;
	name_result(p, name);

	const char *bdir = cfg->build_dir ? cfg->build_dir : ".";
	snprintf(s->vdso, sizeof s->vdso, "%s/guest/%s/vdso.so", bdir, ops->name);
	if (cfg->vdso && access(s->vdso, R_OK))
		return probe_fail(err, errlen, "no synthetic vDSO %s%s", s->vdso, "");
	s->argv = calloc((size_t)cfg->nprogram_args + 2, sizeof *s->argv);
	if (!s->argv)
		return probe_fail(err, errlen, "out of memory%s%s", "", "");
	s->argv[0] = base;
	for (int i = 0; i < cfg->nprogram_args; i++)
		s->argv[1 + i] = cfg->program_args[i];
	struct guest_config gc = {
		.ops = ops, .image_path = cfg->program, .vdso_path = cfg->vdso ? s->vdso : NULL,
		.vdso_base = cfg->vdso_base, .argc = 1 + cfg->nprogram_args, .argv = s->argv,
		.linux_process = 1, .envc = 1, .envp = go_env, .max_insns = GO_MAX_INSNS,
	};
	const char *bad;
	if (guest_load(&p->g, &gc, lerr, &bad))
		return probe_fail(err, errlen, "%s: %s", bad ? bad : cfg->program, lerr);
	p->mc = p->g.mc;
	p->g.symbolize = symbolize;
	p->g.symbolize_ctx = p;
	res->vdso_base = p->g.vdso_base;
	struct machine *mc = p->mc;
	/* A profiling timer's signal: Go >= 1.18 drops an SI_KERNEL SIGPROF
	 * on a thread with its own timer_create timer. */
	mc->sys->deliver_code = L_SI_TIMER;
	struct vvar_knobs kv = { .clobber = cfg->knob_clobber, .use_callee_saved = cfg->knob_callee_saved,
				 .stack_bytes = cfg->knob_stack_bytes, .sse_align = cfg->knob_sse_align };
	int knobs = kv.clobber || kv.use_callee_saved || kv.stack_bytes || kv.sse_align;
	if (knobs && !cfg->vdso)
		return probe_fail(err, errlen, "hostile vDSO knobs need the vDSO (not --no-vdso)%s%s", "", "");
	if (knobs && machine_write(mc, p->g.vdso_base - VVAR_PAGE_SIZE + VVAR_clobber, &kv, sizeof kv))
		return probe_fail(err, errlen, "cannot write the knobs into the vvar page%s%s", "", "");

	/* Hooks before anything is translated: the root, the vDSO.  (The
	 * sample point is the handler's engine's: go_hook_handler.) */
	p->root_lo = s->root.entry;
	p->root_hi = s->root.end;
	if (probe_add_range(p, s->root.entry, s->root.end) || probe_add_foreign_code(p) ||
	    probe_install_block_hook(p) || (p->follows && hook_candidates(p, name)))
		return probe_fail(err, errlen, "cannot hook the program%s%s", "", "");

	/* Full speed, every thread, to the call-th call of the root. */
	uint64_t call = cfg->call ? cfg->call : 1;
	p->mode = MODE_TO_ROOT;
	p->stop_at = p->root_lo;
	p->root_skip = call - 1;
	s->want_call = call;
	double t0 = now_s();
	int r = threads_run(mc, GO_MAX_INSNS, remaining_us(p));
	res->boot_s = now_s() - t0;
	res->boot_insns = threads_insns(mc);
	p->mode = MODE_FREE;
	return at_root(p, r, call, name, err, errlen);
}

/*
 * The next run in the same execution (probe_subject.follow): the counts
 * the last window's stops added twice taken back, then on at full speed
 * to this run's call of its root, counted since the exec, where go_start
 * would have stopped a boot of its own.
 */
static int go_follow(struct probe *p, char *err, size_t errlen)
{
	const struct probe_config *cfg = p->cfg;
	struct probe_result *res = p->res;
	struct go_state *s = st(p);
	struct machine *mc = p->mc;
	char name[128];
	/* The window ended at the return address, counted as it stopped
	 * there and again as this run starts there. */
	if (s->window_stops) {
		threads_uncount(mc, s->recount + threads_last_block_insns(mc));
		s->window_stops = 0;
	}
	root_name(cfg, name, sizeof name);
	uint64_t call = cfg->call ? cfg->call : 1;
	struct go_func root;
	int want = -1;
	if (!pclntab_func_named(s->tab, name, &root))
		for (int i = 0; i < s->ncand; i++)
			if (s->cand[i].entry == root.entry)
				want = i;
	if (want < 0 || s->cand[want].calls >= call)
		return 1;
	s->root = root;
	p->root_lo = root.entry;
	p->root_hi = root.end;
	int hooked = hook_range_once(p, root.entry, root.end);
	if (hooked < 0)
		return 1;
	name_result(p, name);
	res->vdso_base = p->g.vdso_base;

	s->want = want;
	s->want_call = call;
	s->stopping = 1;
	p->mode = MODE_FREE;
	double t0 = now_s();
	int r = threads_run(mc, GO_MAX_INSNS, remaining_us(p));
	res->boot_s = now_s() - t0;
	res->boot_insns = threads_insns(mc);
	s->stopping = 0;
	if (at_root(p, r, call, name, err, errlen))
		return 2;
	/* The signal stack of the thread at this root is the handler's, as
	 * it is for a run that starts here (probe.c, watch_memory). */
	const struct sys_state *ss = mc->sys;
	p->alt_lo = ss->altstack_sp;
	p->alt_hi = ss->altstack_size ? ss->altstack_sp + ss->altstack_size : ss->altstack_sp;
	return 0;
}

static int go_hook_handler(struct probe *p)
{
	uc_hook h;
	uint64_t a = st(p)->add_entry;
	return uc_hook_add(p->mc->uc, &h, UC_HOOK_CODE, (void *)hook_add, p, a, a) == UC_ERR_OK ? 0 : -1;
}

static void go_arm_sample(struct probe *p)
{
	st(p)->seen = 0;
	st(p)->ngot = 0;
}

static int go_outer_truth(struct probe *p, uint64_t *truth, int n, int max)
{
	struct go_state *s = st(p);
	for (int i = 0; i < s->nouter && n < max; i++)
		truth[n++] = s->outer[i];
	return n;
}

/* Physical functions of a stack, consecutive repeats folded: truth PCs
 * are a PC then return addresses; a sample's are PC+1 then return
 * addresses and inline marks + 1 (Go's pcbuf). */
static int functions(struct go_state *s, const uint64_t *pcs, int n, int sample, uint64_t *out)
{
	int k = 0;
	for (int i = 0; i < n; i++) {
		uint64_t f = fn_of(s, sample || i ? pcs[i] - 1 : pcs[i]);
		if (!k || out[k - 1] != f)
			out[k++] = f;
	}
	return k;
}

static int same(const uint64_t *a, const uint64_t *b, int n)
{
	return !memcmp(a, b, (size_t)n * sizeof *a);
}

static enum verdict go_judge(struct probe *p, const uint64_t *truth, int ntruth, struct violation *v, size_t mark)
{
	struct go_state *s = st(p);
	(void)mark;
	if (!s->seen) {
		v->ngot = 0;
		snprintf(v->detail, sizeof v->detail, "the handler returned without a sample (no cpuProfile.add)");
		return VERDICT_FAULT;
	}
	v->ngot = s->ngot;
	memcpy(v->got, s->got, (size_t)s->ngot * sizeof *s->got);
	if (s->ngot == 0)
		return VERDICT_WRONG;
	uint64_t first = fn_of(s, s->got[0] - 1);
	if (first == s->marker[0] && first)
		return VERDICT_VDSO;
	if (first == s->marker[1] && first)
		return VERDICT_EXTERNAL;
	if ((first == s->marker[2] || first == s->marker[3]) && first)
		return VERDICT_SYSTEM;
	if (s->got_len > PROBE_MAX_FRAMES)
		return VERDICT_WRONG;
	uint64_t tf[PROBE_MAX_FRAMES], gf[PROBE_MAX_FRAMES];
	int nt = functions(s, truth, ntruth, 0, tf), ng = functions(s, s->got, s->ngot, 1, gf);
	if (ng == nt && same(gf, tf, nt))
		return VERDICT_FULL;
	/* The trampoline and the vDSO at the top: what vdsoPC/vdsoSP leave out. */
	int drop = 0;
	while (drop < nt && (tf[drop] == FOREIGN || tf[drop] == s->root.entry))
		drop++;
	if (drop && ng == nt - drop && same(gf, tf + drop, ng))
		return VERDICT_CALLER;
	if (ng < nt && same(gf, tf, ng))
		return VERDICT_TRUNCATED;
	return VERDICT_WRONG;
}

static void go_finish(struct probe *p, int window_rc)
{
	struct machine *mc = p->mc;
	(void)window_rc;
	int r = threads_run(mc, GO_MAX_INSNS, remaining_us(p));
	if (r && now_s() >= p->deadline) {
		char what[120];
		snprintf(what, sizeof what, "the program did not exit within the run's time limit (--timeout %llu s)",
			 (unsigned long long)probe_run_timeout_s(p->cfg));
		probe_invariant_failed(p->res, what);
	} else if (r) {
		char line[256];
		guest_fault_line(&p->g, line, sizeof line);
		probe_invariant_failed(p->res, line);
	} else if (mc->exit_status != 0) {
		char what[64];
		snprintf(what, sizeof what, "the program exited with status %d", mc->exit_status);
		probe_invariant_failed(p->res, what);
	}
}

static void go_cleanup(struct probe *p)
{
	struct go_state *s = st(p);
	if (!s)
		return;
	if (s->gb)
		gobinary_close(s->gb);
	free(s->argv);
	free(s);
	p->subject_state = NULL;
}

const struct probe_subject probe_subject_go = {
	.name = "go",
	.start = go_start,
	.arm_sample = go_arm_sample,
	.outer_truth = go_outer_truth,
	.judge = go_judge,
	.finish = go_finish,
	.follow = go_follow,
	.cleanup = go_cleanup,
	.hook_handler = go_hook_handler,
	.heap_is_handlers = 1,
};
