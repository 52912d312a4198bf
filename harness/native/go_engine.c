/*
 * The native engine for real Go programs (go_engine.h says what it does
 * and why): the stepping, the shadow stack, the delivery at every
 * boundary and the verdicts, the same whichever backend drives the
 * process.  Breakpoints are a small table; a backend that writes them
 * into the code (bp_size > 0) has the original bytes kept here, so that
 * decoding sees the code as it is.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>

#include <capstone/capstone.h>

#include "arch_ops.h"
#include "go_engine.h"
#include "loader.h"
#include "oracle.h"
#include "ptrace_arch.h"

#define MAX_BPS 4
#define MAX_SHADOW 64
#define HANDLER_LIMIT_S 5	/* one handler run; a real one takes microseconds (qemu: milliseconds) */
/* A call of the function counts when its SP lies this close below the SP
 * the root was last entered with: called from within the root's call, on
 * the root's goroutine, whichever thread runs it now. */
#define ROOT_WINDOW 16384

enum { BP_ROOT, BP_FUNCTION, BP_ADD, BP_BOUNDARY };

struct bp {
	uint64_t addr;
	uint8_t orig[8];
	int on;
	uint64_t was;		/* the last address it was set at */
};

struct shadow_frame {
	uint64_t ret, sp;	/* return address, SP just after the call pushed it */
};

struct seen {
	uint64_t pc, count;
};

struct engine {
	const struct go_engine_config *cfg;
	const struct go_backend *be;
	const struct arch_ops *ops;
	const struct ptrace_arch *pa;
	struct probe_result *res;
	struct go_engine_stats *st;
	struct bp bp[MAX_BPS];
	struct elf_image img;
	csh cs;
	uint64_t fn, fn_end, root, add;
	uint64_t root_sp;		/* SP at the root's last entry; 0 none yet */
	uint64_t mark_vdso, mark_external, mark_system, mark_gc;
	uint64_t vdso_lo, vdso_hi;
	struct shadow_frame shadow[MAX_SHADOW];
	int nshadow;
	struct seen vcall[512];		/* per pc within the current vDSO call */
	size_t nvcall;
	double deadline;
	struct go_stop last;		/* the last stop seen, for the messages */
	char *err;
	size_t errlen;
};

double go_engine_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(struct engine *e, const char *fmt, const char *a, const char *b)
{
	snprintf(e->err, e->errlen, fmt, a, b);
	return 2;
}

/* --- memory, registers, breakpoints ------------------------------------ */

static int read_word(struct engine *e, uint64_t addr, uint64_t *v)
{
	*v = 0;
	return e->be->mem_read(e->be->ctx, addr, v, e->ops->word_size);
}

static uint64_t PC(struct engine *e, const void *regs) { return e->be->pc(e->be->ctx, regs); }
static uint64_t SP(struct engine *e, const void *regs) { return e->be->sp(e->be->ctx, regs); }

/* The code at addr as it is without our breakpoints. */
static int code_read(struct engine *e, uint64_t addr, uint8_t *buf, size_t n)
{
	if (e->be->mem_read(e->be->ctx, addr, buf, n))
		return -1;
	for (int i = 0; i < MAX_BPS; i++) {
		const struct bp *b = &e->bp[i];
		for (unsigned k = 0; b->on && k < e->be->bp_size; k++)
			if (b->addr + k >= addr && b->addr + k < addr + n)
				buf[b->addr + k - addr] = b->orig[k];
	}
	return 0;
}

static int bp_set(struct engine *e, int i, uint64_t addr)
{
	struct bp *b = &e->bp[i];
	if (b->on && b->addr == addr)
		return 0;
	for (int k = 0; k < MAX_BPS; k++)
		if (k != i && e->bp[k].on && e->bp[k].addr == addr)
			return -1;	/* one breakpoint per address */
	if (b->on || e->be->bp_insert(e->be->ctx, addr, b->orig))
		return -1;
	b->addr = b->was = addr;
	b->on = 1;
	return 0;
}

static int bp_clear(struct engine *e, int i)
{
	struct bp *b = &e->bp[i];
	if (!b->on)
		return 0;
	b->on = 0;
	return e->be->bp_remove(e->be->ctx, b->addr, b->orig);
}

/* The breakpoint a trap at pc came from; -1 none. */
static int bp_hit(const struct engine *e, uint64_t pc)
{
	for (int i = 0; i < MAX_BPS; i++)
		if (e->bp[i].on && e->bp[i].addr + e->be->trap_pc_after == pc)
			return i;
	return -1;
}

/* Was the trap at pc one of our breakpoints, set now or since taken out?
 * A thread may have trapped on one just before it was cleared; its stop
 * is reported later, past the breakpoint. */
static int bp_trapped(const struct engine *e, uint64_t pc)
{
	for (int i = 0; i < MAX_BPS; i++)
		if (e->bp[i].was && e->bp[i].was + e->be->trap_pc_after == pc)
			return i;
	return -1;
}

/* The thread stopped: wait, or the time limit. */
static void wait_stop(struct engine *e, long tid, struct go_stop *s, double deadline)
{
	e->be->wait(e->be->ctx, tid, s, deadline);
	e->last = *s;
}

/* What the last stop was, for a message: "the program ended (status 2)". */
static const char *last_stop(const struct engine *e, char *buf, size_t n)
{
	const struct go_stop *s = &e->last;
	switch (s->kind) {
	case GO_STOP_TRAP: snprintf(buf, n, "a trap in thread %ld", s->tid); break;
	case GO_STOP_SIGNAL: snprintf(buf, n, "signal %d in thread %ld", s->sig, s->tid); break;
	case GO_STOP_EXITED: snprintf(buf, n, "the program ended (status %d)", s->status); break;
	case GO_STOP_DEADLINE: snprintf(buf, n, "no stop before the time limit"); break;
	default: snprintf(buf, n, "the connection to the program was lost"); break;
	}
	return buf;
}

/* --- the ELF ----------------------------------------------------------------- */

/* By its Go name: a bare one is the runtime's ("nanotime1"), and an
 * assembly function may carry its ABI in the symbol table (amd64 ".abi0"). */
static const struct symbol *sym_named(const struct engine *e, const char *name)
{
	char full[160], abi0[170];
	snprintf(full, sizeof full, "%s%s", strchr(name, '.') ? "" : "runtime.", name);
	snprintf(abi0, sizeof abi0, "%s.abi0", full);
	for (size_t i = 0; i < e->img.syms.n; i++)
		if (!strcmp(e->img.syms.v[i].name, full) || !strcmp(e->img.syms.v[i].name, abi0))
			return &e->img.syms.v[i];
	return NULL;
}

static uint64_t sym_addr(const struct engine *e, const char *name)
{
	const struct symbol *s = sym_named(e, name);
	return s ? s->addr : 0;
}

/* The program's file, its arch from the header. */
static int load_program(const char *path, const struct arch_ops **ops, uint8_t **buf, size_t *len,
			struct elf_image *img, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return 2;
	}
	struct stat stt;
	if (fstat(fileno(f), &stt) || !S_ISREG(stt.st_mode) || stt.st_size < 64) {
		fclose(f);
		snprintf(err, errlen, "%s: not an ELF program", path);
		return 2;
	}
	*len = (size_t)stt.st_size;
	*buf = malloc(*len);
	if (!*buf || fread(*buf, 1, *len, f) != *len) {
		fclose(f);
		snprintf(err, errlen, "%s: cannot read it", path);
		return 2;
	}
	fclose(f);
	char lerr[LOADER_ERR_MAX];
	for (int i = 0; arch_ops_all[i]; i++)
		if (elf_parse(*buf, *len, arch_ops_all[i], ET_EXEC, 0, img, lerr) == 0) {
			*ops = arch_ops_all[i];
			return 0;
		}
	snprintf(err, errlen, "%s: not a static executable of a known arch (%s)", path, lerr);
	return 2;
}

static int find_symbols(struct engine *e)
{
	const char *path = e->cfg->program;
	const struct symbol *fs = sym_named(e, e->cfg->function);
	if (!fs)
		return fail(e, "%s: no function %s in its symbol table", path, e->cfg->function);
	e->fn = fs->addr;
	e->fn_end = fs->addr + (fs->size ? fs->size : 1);
	if (!(e->root = sym_addr(e, e->cfg->root)))
		return fail(e, "%s: no function %s in its symbol table", path, e->cfg->root);
	if (!(e->add = sym_addr(e, "runtime.(*cpuProfile).add")))
		return fail(e, "%s: no runtime.(*cpuProfile).add: %s", path, "not a Go program with the CPU profiler?");
	e->mark_vdso = sym_addr(e, "runtime._VDSO");
	e->mark_external = sym_addr(e, "runtime._ExternalCode");
	e->mark_system = sym_addr(e, "runtime._System");
	e->mark_gc = sym_addr(e, "runtime._GC");
	if (cs_open(e->ops->cs_arch, e->ops->cs_mode, &e->cs) != CS_ERR_OK)
		return fail(e, "capstone cannot decode %s%s", e->ops->name, "");
	cs_option(e->cs, CS_OPT_DETAIL, CS_OPT_ON);
	return 0;
}

static int in_vdso(const struct engine *e, uint64_t pc)
{
	return pc >= e->vdso_lo && pc < e->vdso_hi;
}

static int in_text(const struct engine *e, uint64_t pc)
{
	for (unsigned i = 0; i < e->img.nseg; i++)
		if ((e->img.seg[i].flags & PF_X) && pc >= e->img.seg[i].vaddr &&
		    pc < e->img.seg[i].vaddr + e->img.seg[i].memsz)
			return 1;
	return 0;
}

static void where(const struct engine *e, uint64_t pc, char *buf, size_t n)
{
	uint64_t off;
	const char *name;
	if (in_vdso(e, pc))
		snprintf(buf, n, "vdso+0x%" PRIx64, pc - e->vdso_lo);
	else if ((name = symtab_lookup(&e->img.syms, pc, &off)))
		snprintf(buf, n, "%s+0x%" PRIx64, name, off);
	else
		snprintf(buf, n, "0x%" PRIx64, pc);
}

/* The function (symbol start) holding addr; 0 if none. */
static uint64_t func_of(const struct engine *e, uint64_t addr)
{
	uint64_t off;
	return symtab_lookup(&e->img.syms, addr, &off) ? addr - off : 0;
}

/* --- judging ------------------------------------------------------------------ */

/*
 * Does the sample match truth[0..nt) in order?  The sample's first pc is
 * the signal pc + 1 (Go records it so with _TraceTrap), the others return
 * addresses; Go adds a frame for each inlined call, at pcs inside the
 * same function as the physical frame's, which are passed over.  Frames
 * of the sample after the truth's last are not judged.
 */
static int sample_match_len(const struct engine *e, const uint64_t *truth, int nt, const uint64_t *got, int ng,
			    int *ran_out)
{
	int i = 0;
	uint64_t prev_fn = 0;
	*ran_out = 0;
	for (int k = 0; k < nt; k++) {
		for (;;) {
			if (i >= ng) {
				*ran_out = 1;
				return k;
			}
			uint64_t pc = got[i] - 1 + (i > 0);	/* as a return address from here on */
			if (pc == truth[k])
				break;
			if (!prev_fn || func_of(e, got[i] - 1) != prev_fn)
				return k;
			i++;	/* an inlined caller's pc in the same function */
		}
		prev_fn = func_of(e, got[i] - 1);
		i++;
	}
	return nt;
}

static int sample_matches(const struct engine *e, const uint64_t *truth, int nt, const uint64_t *got, int ng)
{
	int ran_out;
	return sample_match_len(e, truth, nt, got, ng, &ran_out) == nt;
}

/* May a traceback leave out the frame holding addr (leaf, at the top)?
 * The function under test and what is not the program's code (the vDSO). */
static int may_drop(const struct engine *e, uint64_t addr, int innermost)
{
	uint64_t a = innermost ? addr : addr - 1;
	return !in_text(e, a) || (a >= e->fn && a < e->fn_end);
}

static enum verdict judge(const struct engine *e, const uint64_t *truth, int nt, const uint64_t *got, int ng)
{
	if (ng <= 0)
		return VERDICT_WRONG;
	if (ng == 2 && (got[1] == e->mark_system + 1 || got[1] == e->mark_gc + 1)) {
		if (e->mark_vdso && got[0] == e->mark_vdso + 1)
			return VERDICT_VDSO;
		if (e->mark_external && got[0] == e->mark_external + 1)
			return VERDICT_EXTERNAL;
		return VERDICT_SYSTEM;
	}
	if (sample_matches(e, truth, nt, got, ng))
		return VERDICT_FULL;
	for (int k = 1; k < nt && may_drop(e, truth[k - 1], k == 1); k++)
		if (sample_matches(e, truth + k, nt - k, got, ng))
			return VERDICT_CALLER;
	/* The innermost frames of the truth, then nothing: lost callers
	 * (Go 1.19 stops after an SPWRITE frame).  `truncated` where the
	 * verdicts have it, else a wrong stack. */
	int ran_out, m = sample_match_len(e, truth, nt, got, ng, &ran_out);
	enum verdict truncated = verdict_from_name("truncated");
	if (ran_out && m > 0 && truncated != VERDICT_COUNT)
		return truncated;
	return VERDICT_WRONG;
}

/* --- one boundary --------------------------------------------------------- */

/* pc's occurrence count in tab, this one included. */
static uint64_t occurrence(struct seen *tab, size_t *n, size_t cap, uint64_t pc)
{
	for (size_t i = 0; i < *n; i++)
		if (tab[i].pc == pc)
			return ++tab[i].count;
	if (*n < cap) {
		tab[*n].pc = pc;
		tab[(*n)++].count = 1;
	}
	return 1;
}

/* The stk slice cpuProfile.add was called with (its entry's registers). */
static int stk_arg(struct engine *e, const void *regs, uint64_t *ptr, uint64_t *len)
{
	const struct ptrace_arch *pa = e->pa;
	if (pa->stk_ptr_reg >= 0) {
		*ptr = e->be->reg(e->be->ctx, regs, pa->stk_ptr_reg);
		*len = e->be->reg(e->be->ctx, regs, pa->stk_len_reg);
		return 0;
	}
	uint64_t sp = SP(e, regs);
	return read_word(e, sp + pa->stk_ptr_off, ptr) || read_word(e, sp + pa->stk_len_off, len) ? -1 : 0;
}

static int fatal_signal(int s)
{
	return s == SIGSEGV || s == SIGBUS || s == SIGILL || s == SIGFPE;
}

enum delivery { DELIVERED, DELIVERY_FAULT, DELIVERY_HANG, DELIVERY_BROKEN };

/*
 * SIGPROF at the boundary the thread is stopped at (a trap stop), the
 * handler run to its rt_sigreturn, the thread back at the boundary.
 * got/ngot: the sample cpuProfile.add received (ngot -1: none).
 */
static enum delivery deliver(struct engine *e, long tid, uint64_t *got, int *ngot, char *detail, size_t dn)
{
	static uint8_t saved[GO_ENGINE_REGS_MAX], regs[GO_ENGINE_REGS_MAX];
	const struct go_backend *be = e->be;
	*ngot = -1;
	if (be->get_regs(be->ctx, tid, saved))
		return DELIVERY_BROKEN;
	uint64_t pc = PC(e, saved), sp = SP(e, saved);
	if (bp_set(e, BP_ADD, e->add) || bp_set(e, BP_BOUNDARY, pc)) {
		snprintf(detail, dn, "cannot set a breakpoint at 0x%" PRIx64, pc);
		return DELIVERY_BROKEN;
	}
	double limit = go_engine_now() + HANDLER_LIMIT_S;
	if (limit > e->deadline)
		limit = e->deadline;
	int sig = SIGPROF;
	for (;;) {
		if (be->resume(be->ctx, tid, sig, 0))
			return DELIVERY_BROKEN;
		sig = 0;
		struct go_stop s;
		wait_stop(e, tid, &s, limit);
		if (s.kind == GO_STOP_DEADLINE) {
			snprintf(detail, dn, "the handler did not return within %d s", HANDLER_LIMIT_S);
			return DELIVERY_HANG;
		}
		if (s.kind == GO_STOP_EXITED || s.kind == GO_STOP_ERROR) {
			snprintf(detail, dn, "the program ended in the handler");
			return DELIVERY_FAULT;
		}
		if (s.kind == GO_STOP_SIGNAL) {
			if (fatal_signal(s.sig)) {
				snprintf(detail, dn, "the handler got signal %d", s.sig);
				return DELIVERY_FAULT;
			}
			continue;	/* a timer's SIGPROF, SIGURG, our SIGSTOP: swallowed while the call is stepped */
		}
		if (be->get_regs(be->ctx, tid, regs))
			return DELIVERY_BROKEN;
		int b = bp_hit(e, PC(e, regs));
		if (b == BP_ADD) {	/* sigprof hands its sample to the profile buffer */
			uint64_t ptr, len;
			if (stk_arg(e, regs, &ptr, &len) == 0) {
				int n = len > PROBE_MAX_FRAMES ? PROBE_MAX_FRAMES : (int)len;
				for (int i = 0; i < n; i++)
					if (read_word(e, ptr + (uint64_t)i * e->ops->word_size, &got[i]))
						n = i;
				*ngot = n;
			}
			bp_clear(e, BP_ADD);
			if (be->trap_pc_after) {
				be->set_pc(be->ctx, regs, e->add);
				if (be->set_regs(be->ctx, tid, regs))
					return DELIVERY_BROKEN;
			}
		} else if (b == BP_BOUNDARY && SP(e, regs) == sp) {	/* back from rt_sigreturn */
			bp_clear(e, BP_BOUNDARY);
			be->set_pc(be->ctx, regs, pc);
			if (be->trap_pc_after && be->set_regs(be->ctx, tid, regs))
				return DELIVERY_BROKEN;
			if (memcmp(regs, saved, be->regs_size)) {
				snprintf(detail, dn, "registers differ after rt_sigreturn");
				return DELIVERY_BROKEN;
			}
			return DELIVERED;
		} else if (b == BP_BOUNDARY) {	/* the handler runs the boundary's instruction itself */
			e->st->handler_nested++;
			bp_clear(e, BP_BOUNDARY);
			be->set_pc(be->ctx, regs, pc);
			if ((be->trap_pc_after && be->set_regs(be->ctx, tid, regs)) || be->resume(be->ctx, tid, 0, 1))
				return DELIVERY_BROKEN;
			do
				wait_stop(e, tid, &s, limit);
			while (s.kind == GO_STOP_SIGNAL && !fatal_signal(s.sig) && be->resume(be->ctx, tid, 0, 1) == 0);
			if (s.kind != GO_STOP_TRAP)
				return DELIVERY_HANG;
			if (bp_set(e, BP_BOUNDARY, pc))
				return DELIVERY_BROKEN;
		}
		/* Any other trap: a step the backend reported late; go on. */
	}
}

static int add_violation(struct engine *e, const struct violation *v)
{
	struct probe_result *r = e->res;
	if (r->nviolations == PROBE_MAX_VIOLATIONS) {
		r->violations_dropped++;
		return 0;
	}
	struct violation *nv = realloc(r->violations, (r->nviolations + 1) * sizeof *nv);
	if (!nv)
		return -1;
	r->violations = nv;
	nv[r->nviolations++] = *v;
	return 0;
}

static void insn_text(struct engine *e, uint64_t pc, char *buf, size_t n)
{
	uint8_t code[16];
	cs_insn *insn;
	buf[0] = 0;
	if (code_read(e, pc, code, sizeof code))
		return;
	if (cs_disasm(e->cs, code, sizeof code, pc, 1, &insn) == 1) {
		snprintf(buf, n, "%.31s %.30s", insn->mnemonic, insn->op_str);
		cs_free(insn, 1);
	}
}

/* Judges the boundary the thread is at.  0, or -1: the window cannot go on. */
static int boundary(struct engine *e, long tid, uint64_t pc)
{
	uint64_t truth[MAX_SHADOW + 1], got[PROBE_MAX_FRAMES];
	int nt = 0, ngot;
	char detail[96] = "";
	truth[nt++] = pc;
	for (int i = e->nshadow - 1; i >= 0 && nt < MAX_SHADOW + 1; i--)
		truth[nt++] = e->shadow[i].ret;

	enum delivery d = deliver(e, tid, got, &ngot, detail, sizeof detail);
	enum verdict v;
	if (d == DELIVERY_FAULT || d == DELIVERY_BROKEN)
		v = VERDICT_FAULT;
	else if (d == DELIVERY_HANG)
		v = VERDICT_HANG;
	else if (ngot < 0) {
		v = VERDICT_WRONG;
		snprintf(detail, sizeof detail, "no sample reached cpuProfile.add");
	} else
		v = judge(e, truth, nt, got, ngot);

	struct probe_result *r = e->res;
	r->boundaries++;
	r->probed++;
	r->verdicts[v]++;
	if (in_vdso(e, pc))
		e->st->in_vdso++;
	else if (pc >= e->fn && pc < e->fn_end)
		e->st->in_function++;
	else
		e->st->elsewhere++;
	char w[64];
	where(e, pc, w, sizeof w);
	if (e->cfg->boundary_log)
		fprintf(e->cfg->boundary_log, "boundary 0x%" PRIx64 " %s %s\n", pc, w, verdict_name(v));
	if (!verdict_passes(v)) {
		struct violation vi;
		memset(&vi, 0, sizeof vi);
		vi.pc = pc;
		vi.verdict = v;
		snprintf(vi.symbol, sizeof vi.symbol, "%s", w);
		insn_text(e, pc, vi.insn, sizeof vi.insn);
		snprintf(vi.detail, sizeof vi.detail, "%s", detail);
		vi.nexpected = nt > PROBE_MAX_FRAMES ? PROBE_MAX_FRAMES : nt;
		for (int i = 0; i < vi.nexpected; i++) {
			vi.expected[i] = truth[i];
			where(e, truth[i], vi.expected_sym[i], PROBE_SYM_MAX);
		}
		vi.ngot = ngot < 0 ? 0 : ngot;
		for (int i = 0; i < vi.ngot; i++) {
			vi.got[i] = got[i];
			where(e, got[i], vi.got_sym[i], PROBE_SYM_MAX);
		}
		if (add_violation(e, &vi))
			return -1;
	}
	return d == DELIVERED ? 0 : -1;
}

/* --- the window: every boundary of one call -------------------------------- */

/*
 * At the end of a vDSO call: a pc executed k times in it was run k-1
 * times more than a straight read needs -- the seqlock loop going round
 * again because the clock's data changed under the (slow, single-stepped)
 * reader.  The most repeated pc gives the call's retries.
 */
static void count_retries(struct engine *e)
{
	uint64_t max = 0;
	for (size_t i = 0; i < e->nvcall; i++)
		if (e->vcall[i].count > max)
			max = e->vcall[i].count;
	if (max > 1)
		e->st->vdso_retries += max - 1;
}

/* Where the call's return address is at the function's entry: pushed at
 * SP (x86), or in the link register (arm, which has one). */
static int entry_return(struct engine *e, const void *regs, uint64_t *ret)
{
	if (e->pa->gdb_lr >= 0) {
		*ret = e->be->reg(e->be->ctx, regs, e->pa->gdb_lr);
		return 0;
	}
	return read_word(e, SP(e, regs), ret);
}

/* Did the instruction at pc (a call of `size` bytes) just call, leaving
 * its return address where the arch keeps it? */
static int called(struct engine *e, const void *regs, uint64_t sp, uint64_t pc, unsigned size)
{
	uint64_t nsp = SP(e, regs), pushed;
	if (e->pa->gdb_lr >= 0)
		return nsp == sp && e->be->reg(e->be->ctx, regs, e->pa->gdb_lr) == pc + size;
	return nsp == sp - e->ops->word_size && read_word(e, nsp, &pushed) == 0 && pushed == pc + size;
}

static int step_window(struct engine *e, long tid)
{
	static uint8_t regs[GO_ENGINE_REGS_MAX], before[GO_ENGINE_REGS_MAX];
	const struct go_backend *be = e->be;
	/* On a link-register arch the return address is in LR until the
	 * callee saves it; a frame's return is reached with the SP it was
	 * called with.  On x86 the call pushed it: SP one word lower. */
	unsigned pop = e->pa->gdb_lr >= 0 ? 0 : e->ops->word_size;
	if (be->get_regs(be->ctx, tid, regs))
		return -1;
	uint64_t pc = PC(e, regs), sp = SP(e, regs), ret;
	if (entry_return(e, regs, &ret))
		return -1;
	e->shadow[0] = (struct shadow_frame){ ret, sp };
	e->nshadow = 1;
	be->vdso(be->ctx, &e->vdso_lo, &e->vdso_hi);
	e->st->has_vdso = e->vdso_hi > e->vdso_lo;
	int was_in_vdso = 0;
	double t0 = go_engine_now();
	while (e->nshadow > 0) {
		if (go_engine_now() > e->deadline) {
			e->st->limit_reached = 1;
			break;
		}
		if (in_vdso(e, pc) && !was_in_vdso) {
			e->st->vdso_calls++;
			e->nvcall = 0;
		} else if (!in_vdso(e, pc) && was_in_vdso) {
			count_retries(e);
		}
		uint64_t again = in_vdso(e, pc) ? occurrence(e->vcall, &e->nvcall,
							     sizeof e->vcall / sizeof e->vcall[0], pc) : 1;
		was_in_vdso = in_vdso(e, pc);

		/* A vDSO pc run again within one vDSO call is the seqlock going
		 * round once more: its boundary was judged on the first pass.
		 * Stepped without a signal: with a handler at every boundary a
		 * pass takes longer than the clock's update interval, and the
		 * read would never get through (seen on 386). */
		if (again > 1)
			e->st->retry_steps++;
		else if (boundary(e, tid, pc))
			return 0;	/* recorded as fault/hang; nothing after it can be trusted */

		/* Step the boundary's instruction and follow calls and returns. */
		uint8_t code[16];
		cs_insn *insn;
		int is_call = 0, is_syscall = 0;
		unsigned size = 0;
		if (code_read(e, pc, code, sizeof code) == 0 && cs_disasm(e->cs, code, sizeof code, pc, 1, &insn) == 1) {
			size = insn->size;
			for (int g = 0; insn->detail && g < insn->detail->groups_count; g++) {
				is_call |= insn->detail->groups[g] == CS_GRP_CALL;
				is_syscall |= insn->detail->groups[g] == CS_GRP_INT;
			}
			cs_free(insn, 1);
		}
		/* A system call is run to the next instruction by a breakpoint
		 * there: qemu-user's single step stops one instruction after it
		 * (measured on qemu-arm and qemu-x86_64 7.2: the boundary after
		 * `svc #0` / `syscall` was never seen), the host's right after. */
		struct go_stop s;
		if (is_syscall && size) {
			if (bp_set(e, BP_BOUNDARY, pc + size) || be->resume(be->ctx, tid, 0, 0))
				return -1;
			do
				wait_stop(e, tid, &s, e->deadline);
			while (s.kind == GO_STOP_SIGNAL && be->resume(be->ctx, tid, 0, 0) == 0);
			if (bp_clear(e, BP_BOUNDARY))
				return -1;
			if (s.kind == GO_STOP_TRAP && be->trap_pc_after) {
				if (be->get_regs(be->ctx, tid, regs))
					return -1;
				be->set_pc(be->ctx, regs, pc + size);
				if (be->set_regs(be->ctx, tid, regs))
					return -1;
			}
		} else {
			/* A step that comes back with every register as it was ran
			 * nothing (qemu-user, now and then, right after the return
			 * from the handler): stepped again, counted. */
			memcpy(before, regs, be->regs_size);
			for (;;) {
				if (be->resume(be->ctx, tid, 0, 1))
					return -1;
				do
					wait_stop(e, tid, &s, e->deadline);
				while (s.kind == GO_STOP_SIGNAL && be->resume(be->ctx, tid, 0, 1) == 0);
				if (s.kind != GO_STOP_TRAP || be->get_regs(be->ctx, tid, regs))
					break;
				if (memcmp(regs, before, be->regs_size))
					break;
				e->st->empty_steps++;
			}
		}
		if (s.kind == GO_STOP_DEADLINE) {
			e->st->limit_reached = 1;
			break;
		}
		if (s.kind != GO_STOP_TRAP || be->get_regs(be->ctx, tid, regs))
			return -1;
		uint64_t npc = PC(e, regs), nsp = SP(e, regs);
		if (is_call && called(e, regs, sp, pc, size) && e->nshadow < MAX_SHADOW)
			e->shadow[e->nshadow++] = (struct shadow_frame){ pc + size, nsp };
		else if (npc == e->shadow[e->nshadow - 1].ret && nsp == e->shadow[e->nshadow - 1].sp + pop)
			e->nshadow--;
		pc = npc;
		sp = nsp;
	}
	if (was_in_vdso)
		count_retries(e);
	e->res->elapsed_s = go_engine_now() - t0;
	return 0;
}

/* --- up to the chosen call ---------------------------------------------------- */

/* Steps thread tid over the breakpoint it stopped at (pc rewound to it);
 * a signal that arrives meanwhile is handed back in *pending. */
static int step_over(struct engine *e, long tid, int b, uint8_t *regs, int *pending)
{
	const struct go_backend *be = e->be;
	uint64_t addr = e->bp[b].addr;
	be->set_pc(be->ctx, regs, addr);
	if ((be->trap_pc_after && be->set_regs(be->ctx, tid, regs)) || bp_clear(e, b) ||
	    be->resume(be->ctx, tid, 0, 1))
		return -1;
	struct go_stop s;
	for (;;) {
		wait_stop(e, tid, &s, e->deadline);
		if (s.kind != GO_STOP_SIGNAL)
			break;
		if (s.sig != SIGSTOP && s.sig != SIGPROF)
			*pending = s.sig;
		if (be->resume(be->ctx, tid, 0, 1))
			return -1;
	}
	if (s.kind != GO_STOP_TRAP)
		return -1;
	return bp_set(e, b, addr);
}

/* Thread tid at the chosen call's entry, the others held: step it. */
static int at_call(struct engine *e, long tid, uint64_t calls)
{
	if (bp_clear(e, BP_FUNCTION) || bp_clear(e, BP_ROOT) || bp_clear(e, BP_BOUNDARY))
		return fail(e, "%s: %s", e->be->name, strerror(errno));
	e->st->calls_seen = calls;
	if (step_window(e, tid))
		return fail(e, "%s failed while stepping: %s", e->be->name, strerror(errno));
	return 0;
}

static int run_to_call(struct engine *e)
{
	static uint8_t regs[GO_ENGINE_REGS_MAX];
	const struct go_backend *be = e->be;
	uint64_t calls = 0, want = e->cfg->call ? e->cfg->call : GO_ENGINE_DEFAULT_CALL;
	char n[80];
	snprintf(n, sizeof n, "%" PRIu64, want);
	if (be->resume(be->ctx, 0, 0, 0))
		return fail(e, "cannot start %s: %s", e->cfg->program, strerror(errno));
	for (;;) {
		struct go_stop s;
		wait_stop(e, 0, &s, e->deadline);
		if (s.kind == GO_STOP_DEADLINE) {
			e->st->limit_reached = 1;
			snprintf(n, sizeof n, "%u", e->cfg->timeout_s);
			return fail(e, "the time limit (%s s) passed before the chosen call of %s", n, e->cfg->function);
		}
		if (s.kind == GO_STOP_ERROR)
			return fail(e, "lost the program (%s) before call %s", be->name, n);
		if (s.kind == GO_STOP_EXITED) {
			e->st->program_status = s.status;
			return fail(e, "the program ended before call %s of %s", n, e->cfg->function);
		}
		if (s.kind == GO_STOP_SIGNAL) {	/* the program's own (ours: SIGSTOP) */
			if (be->resume(be->ctx, s.tid, s.sig == SIGSTOP ? 0 : s.sig, 0))
				return fail(e, "%s cannot resume the program%s", be->name, "");
			continue;
		}
		int b = -1;
		if (be->get_regs(be->ctx, s.tid, regs) == 0)
			b = bp_hit(e, PC(e, regs));
		int pending = 0;
		if (b == BP_ROOT) {
			/* In the root's call until it returns: a breakpoint at
			 * its return address (the boundary's, free until the
			 * call is stepped) says when. */
			uint64_t ret;
			/* The function's breakpoint only now, the other threads
			 * held first: they call it too, and this backend cannot
			 * take two threads' stops at once. */
			if (be->hold_from_root &&
			    (be->hold_others(be->ctx, s.tid, e->deadline) || bp_set(e, BP_FUNCTION, e->fn)))
				return fail(e, "%s cannot hold the program's other threads%s", be->name, "");
			e->root_sp = SP(e, regs);
			if (entry_return(e, regs, &ret) || bp_clear(e, BP_BOUNDARY) || bp_set(e, BP_BOUNDARY, ret))
				return fail(e, "%s cannot follow the calls of %s", be->name, e->cfg->root);
			if (step_over(e, s.tid, BP_ROOT, regs, &pending))
				return fail(e, "%s failed over a breakpoint: %s", be->name, last_stop(e, n, sizeof n));
			if (be->resume(be->ctx, s.tid, pending, 0))
				return fail(e, "%s failed over a breakpoint: %s", be->name, last_stop(e, n, sizeof n));
			continue;
		}
		if (b == BP_FUNCTION) {
			uint64_t sp = SP(e, regs);
			int inside = e->root_sp && sp < e->root_sp && sp >= e->root_sp - ROOT_WINDOW;
			if (inside && ++calls == want) {
				be->set_pc(be->ctx, regs, e->bp[BP_FUNCTION].addr);
				if (be->trap_pc_after && be->set_regs(be->ctx, s.tid, regs))
					return fail(e, "%s: %s", be->name, strerror(errno));
				/* Held while the breakpoints are still in: a thread
				 * that trapped on one is seen to have. */
				if (be->hold_others(be->ctx, s.tid, e->deadline))
					return fail(e, "cannot stop the program's other threads%s%s", "", "");
				return at_call(e, s.tid, calls);
			}
			if (step_over(e, s.tid, BP_FUNCTION, regs, &pending) || be->resume(be->ctx, s.tid, pending, 0))
				return fail(e, "%s failed over a breakpoint: %s", be->name, last_stop(e, n, sizeof n));
			continue;
		}
		if (b == BP_BOUNDARY) {	/* the root returned */
			e->root_sp = 0;
			if (bp_clear(e, BP_BOUNDARY))
				return fail(e, "%s: %s", be->name, strerror(errno));
			b = -1;
		}
		if (b < 0 && be->trap_pc_after && bp_trapped(e, PC(e, regs)) >= 0) {
			/* At a breakpoint cleared since: back to it, to run it. */
			be->set_pc(be->ctx, regs, PC(e, regs) - be->trap_pc_after);
			be->set_regs(be->ctx, s.tid, regs);
		}
		if (be->resume(be->ctx, s.tid, 0, 0))
			return fail(e, "%s cannot resume the program%s", be->name, "");
	}
}

/* --- the run ----------------------------------------------------------------- */

/* Does uname's machine name one this arch's programs may run on? */
static int host_may_run(const struct arch_ops *ops)
{
	struct utsname u;
	if (uname(&u) || !ops->host_machines)
		return 0;
	size_t n = strlen(u.machine);
	for (const char *p = ops->host_machines; (p = strstr(p, u.machine)); p += n)
		if ((p == ops->host_machines || p[-1] == ' ') && (p[n] == 0 || p[n] == ' '))
			return 1;
	return 0;
}

int go_engine_run(const struct go_engine_config *cfg0, enum go_emulator emulator, struct probe_result *res,
		  struct go_engine_stats *st, char *err, size_t errlen)
{
	struct go_engine_config cfg = *cfg0;
	if (!cfg.function)
		cfg.function = "runtime.nanotime1";
	if (!cfg.root)
		cfg.root = "time.Since";
	if (!cfg.timeout_s)
		cfg.timeout_s = 60;
	struct engine *e = calloc(1, sizeof *e);
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	memset(res, 0, sizeof *res);
	memset(st, 0, sizeof *st);
	st->program_status = -1;
	st->limit_s = cfg.timeout_s;
	e->cfg = &cfg;
	e->res = res;
	e->st = st;
	e->err = err;
	e->errlen = errlen;
	uint8_t *elf = NULL;
	size_t elf_len = 0;
	struct go_backend be = { 0 };
	int rc = load_program(cfg.program, &e->ops, &elf, &elf_len, &e->img, err, errlen);
	if (rc)
		goto out;
	e->pa = ptrace_arch_find(e->ops->name);
	if (!e->pa) {
		rc = fail(e, "the native Go engine knows no %s facts (arch/%s/ptrace.c)", e->ops->name, e->ops->name);
		goto out;
	}
	if ((rc = find_symbols(e)))
		goto out;

	e->deadline = go_engine_now() + cfg.timeout_s;
	int refused = 0;
	if (emulator == GO_EMULATOR_HOST || (emulator == GO_EMULATOR_AUTO && e->pa->regs_size && host_may_run(e->ops))) {
		rc = ptrace_backend_start(cfg.program, e->ops, e->pa, e->deadline, &be, &refused, err, errlen);
		if (rc == 0)
			snprintf(st->emulator, sizeof st->emulator, "host");
		else if (emulator == GO_EMULATOR_AUTO && refused)
			be = (struct go_backend){ 0 };	/* this host cannot: qemu below */
		else
			goto out;
	}
	if (!be.name) {
		rc = qemu_backend_start(cfg.program, e->ops, e->pa, e->deadline, &be, st, err, errlen);
		if (rc)
			goto out;
	}
	e->be = &be;
	st->backend = be.name;

	const char *base = strrchr(cfg.program, '/') ? strrchr(cfg.program, '/') + 1 : cfg.program;
	snprintf(res->arch, sizeof res->arch, "%s", e->ops->name);
	snprintf(res->variant, sizeof res->variant, "%.63s", base);
	snprintf(res->function, sizeof res->function, "%.15s",
		 strrchr(cfg.function, '.') ? strrchr(cfg.function, '.') + 1 : cfg.function);
	snprintf(res->context, sizeof res->context, "go");
	snprintf(res->era_name, sizeof res->era_name, "real");
	snprintf(res->inject, sizeof res->inject, "%s", be.name);
	res->invariants_ok = 1;

	for (int i = 0; i < MAX_BPS; i++)
		e->bp[i] = (struct bp){ 0 };
	if (bp_set(e, BP_ROOT, e->root) || (!be.hold_from_root && bp_set(e, BP_FUNCTION, e->fn))) {
		be.kill(be.ctx);
		rc = fail(e, "cannot set breakpoints in %s: %s", cfg.program, strerror(errno));
		goto out_backend;
	}
	rc = run_to_call(e);
	if (rc == 0) {
		for (int i = 0; i < MAX_BPS; i++)
			bp_clear(e, i);
		st->program_status = be.finish(be.ctx, e->deadline + 5);
	} else
		be.kill(be.ctx);
	res->vdso = st->has_vdso;
	if (rc == 0) {
		if (st->limit_reached) {
			res->invariants_ok = 0;
			snprintf(res->invariants, sizeof res->invariants,
				 "the time limit (%u s) was reached: the call was not stepped to its end", cfg.timeout_s);
		} else if (st->program_status != 0) {
			res->invariants_ok = 0;
			snprintf(res->invariants, sizeof res->invariants, "the program exited with status %d",
				 st->program_status);
		}
		int all = 1;
		for (int v = 0; v < VERDICT_COUNT; v++)
			if (!verdict_passes((enum verdict)v) && res->verdicts[v])
				all = 0;
		res->pass = all && res->invariants_ok && res->boundaries > 0;
		res->boundaries_per_s = res->elapsed_s > 0 ? res->boundaries / res->elapsed_s : 0;
	}
out_backend:
	be.free(be.ctx);
out:
	if (e->ops)
		elf_image_free(&e->img);
	if (e->cs)
		cs_close(&e->cs);
	free(elf);
	free(e);
	if (rc)
		probe_result_free(res);
	return rc;
}
