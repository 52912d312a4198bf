/*
 * The ptrace engine for real Go programs (ptrace_go.h says what it does
 * and why).  One tracer, one program: the threads are a small table, the
 * breakpoints a smaller one; memory goes through /proc/PID/mem, which
 * writes the text and the vDSO as ptrace's POKE does (copy on write).
 */
#define _GNU_SOURCE	/* tgkill, pipe2 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <capstone/capstone.h>

#include "arch_ops.h"
#include "loader.h"
#include "oracle.h"
#include "ptrace_arch.h"
#include "ptrace_go.h"

#define MAX_THREADS 64
#define MAX_BPS 4
#define MAX_SHADOW 64
#define HANDLER_LIMIT_S 5	/* one handler run; a real one takes microseconds */
/* A call of the function counts when its SP lies this close below the SP
 * the root was last entered with: called from within the root's call, on
 * the root's goroutine, whichever thread runs it now. */
#define ROOT_WINDOW 16384

struct thread {
	pid_t tid;
	int held;		/* in a ptrace-stop we keep */
	int pending;		/* a real signal to pass on when resumed */
};

struct bp {
	uint64_t addr;
	uint8_t orig[8];
	int on;
};

struct shadow_frame {
	uint64_t ret, sp;	/* return address, SP just after the call pushed it */
};

struct seen {
	uint64_t pc, count;
};

struct tracer {
	const struct ptrace_go_config *cfg;
	const struct arch_ops *ops;
	const struct ptrace_arch *pa;
	struct probe_result *res;
	struct ptrace_go_stats *st;
	pid_t pid;
	int memfd;
	struct thread th[MAX_THREADS];
	int nth;
	struct bp bp[MAX_BPS];	/* [0] root, [1] function, [2] cpuProfile.add, [3] the boundary */
	uint8_t *elf_buf;
	size_t elf_len;
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
	char *err;
	size_t errlen;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(struct tracer *t, const char *fmt, const char *a, const char *b)
{
	snprintf(t->err, t->errlen, fmt, a, b);
	return 2;
}

/* --- memory and registers ------------------------------------------------ */

static int mem_read(struct tracer *t, uint64_t addr, void *buf, size_t n)
{
	return pread(t->memfd, buf, n, (off_t)addr) == (ssize_t)n ? 0 : -1;
}

static int mem_write(struct tracer *t, uint64_t addr, const void *buf, size_t n)
{
	return pwrite(t->memfd, buf, n, (off_t)addr) == (ssize_t)n ? 0 : -1;
}

static int read_word(void *ctx, uint64_t addr, uint64_t *v)
{
	struct tracer *t = ctx;
	*v = 0;
	return mem_read(t, addr, v, t->ops->word_size);
}

static int get_regs(pid_t tid, void *regs)
{
	return ptrace(PTRACE_GETREGS, tid, NULL, regs) == 0 ? 0 : -1;
}

static int set_regs(pid_t tid, const void *regs)
{
	return ptrace(PTRACE_SETREGS, tid, NULL, regs) == 0 ? 0 : -1;
}

/* The code at addr as it is without our breakpoints. */
static int code_read(struct tracer *t, uint64_t addr, uint8_t *buf, size_t n)
{
	if (mem_read(t, addr, buf, n))
		return -1;
	for (int i = 0; i < MAX_BPS; i++) {
		const struct bp *b = &t->bp[i];
		for (unsigned k = 0; b->on && k < t->pa->bp_size; k++)
			if (b->addr + k >= addr && b->addr + k < addr + n)
				buf[b->addr + k - addr] = b->orig[k];
	}
	return 0;
}

static int bp_set(struct tracer *t, int i, uint64_t addr)
{
	struct bp *b = &t->bp[i];
	if (b->on && b->addr == addr)
		return 0;
	for (int k = 0; k < MAX_BPS; k++)
		if (k != i && t->bp[k].on && t->bp[k].addr == addr)
			return -1;	/* one breakpoint per address */
	if (b->on)
		return -1;
	if (mem_read(t, addr, b->orig, t->pa->bp_size) || mem_write(t, addr, t->pa->bp_insn, t->pa->bp_size))
		return -1;
	b->addr = addr;
	b->on = 1;
	return 0;
}

static int bp_clear(struct tracer *t, int i)
{
	struct bp *b = &t->bp[i];
	if (!b->on)
		return 0;
	b->on = 0;
	return mem_write(t, b->addr, b->orig, t->pa->bp_size);
}

/* The breakpoint a SIGTRAP at pc came from; -1 none. */
static int bp_hit(const struct tracer *t, uint64_t pc)
{
	for (int i = 0; i < MAX_BPS; i++)
		if (t->bp[i].on && t->bp[i].addr + t->pa->trap_pc_after == pc)
			return i;
	return -1;
}

/* Was the SIGTRAP at pc one of our breakpoints, set now or since taken
 * out?  A thread may have trapped on one just before it was cleared; its
 * stop is reported later, one byte into the instruction. */
static int bp_trapped(const struct tracer *t, uint64_t pc)
{
	for (int i = 0; i < MAX_BPS; i++)
		if (t->bp[i].addr && t->bp[i].addr + t->pa->trap_pc_after == pc)
			return i;
	return -1;
}

/* --- threads ---------------------------------------------------------------- */

static struct thread *thread_find(struct tracer *t, pid_t tid)
{
	for (int i = 0; i < t->nth; i++)
		if (t->th[i].tid == tid)
			return &t->th[i];
	return NULL;
}

static struct thread *thread_add(struct tracer *t, pid_t tid)
{
	struct thread *th = thread_find(t, tid);
	if (th || t->nth == MAX_THREADS)
		return th;
	th = &t->th[t->nth++];
	memset(th, 0, sizeof *th);
	th->tid = tid;
	return th;
}

static void thread_drop(struct tracer *t, pid_t tid)
{
	for (int i = 0; i < t->nth; i++)
		if (t->th[i].tid == tid) {
			t->th[i] = t->th[--t->nth];
			return;
		}
}

static int resume(struct thread *th, int sig)
{
	th->held = 0;
	return ptrace(PTRACE_CONT, th->tid, NULL, (void *)(long)sig) == 0 ? 0 : -1;
}

/* waitpid, bounded by the run's deadline (an interval timer interrupts
 * it).  The tid, 0 when the deadline passed, -1 on error. */
static pid_t wait_for(pid_t which, int *status, double deadline)
{
	for (;;) {
		if (now_s() > deadline)
			return 0;
		pid_t got = waitpid(which, status, __WALL);
		if (got >= 0)
			return got;
		if (errno != EINTR)
			return -1;
	}
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* --- the ELF ----------------------------------------------------------------- */

/* By its Go name: a bare one is the runtime's ("nanotime1"), and an
 * assembly function may carry its ABI in the symbol table (amd64 ".abi0"). */
static const struct symbol *sym_named(const struct tracer *t, const char *name)
{
	char full[160], abi0[170];
	snprintf(full, sizeof full, "%s%s", strchr(name, '.') ? "" : "runtime.", name);
	snprintf(abi0, sizeof abi0, "%s.abi0", full);
	for (size_t i = 0; i < t->img.syms.n; i++)
		if (!strcmp(t->img.syms.v[i].name, full) || !strcmp(t->img.syms.v[i].name, abi0))
			return &t->img.syms.v[i];
	return NULL;
}

static uint64_t sym_addr(const struct tracer *t, const char *name)
{
	const struct symbol *s = sym_named(t, name);
	return s ? s->addr : 0;
}

static int load_elf(struct tracer *t, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return fail(t, "%s: %s", path, strerror(errno));
	struct stat stt;
	if (fstat(fileno(f), &stt) || !S_ISREG(stt.st_mode) || stt.st_size < 64) {
		fclose(f);
		return fail(t, "%s: %s", path, "not an ELF program");
	}
	t->elf_len = (size_t)stt.st_size;
	t->elf_buf = malloc(t->elf_len);
	if (!t->elf_buf || fread(t->elf_buf, 1, t->elf_len, f) != t->elf_len) {
		fclose(f);
		return fail(t, "%s: %s", path, "cannot read it");
	}
	fclose(f);
	char lerr[LOADER_ERR_MAX];
	for (int i = 0; arch_ops_all[i]; i++) {
		if (elf_parse(t->elf_buf, t->elf_len, arch_ops_all[i], ET_EXEC, 0, &t->img, lerr) == 0) {
			t->ops = arch_ops_all[i];
			break;
		}
	}
	if (!t->ops)
		return fail(t, "%s: not a static executable of a known arch (%s)", path, lerr);
	t->pa = ptrace_arch_find(t->ops->name);
	if (!t->pa || !t->pa->regs_size)
		return fail(t, "the ptrace engine cannot trace %s programs from this machine%s", t->ops->name, "");
	const struct symbol *fs = sym_named(t, t->cfg->function);
	if (!fs)
		return fail(t, "%s: no function %s in its symbol table", path, t->cfg->function);
	t->fn = fs->addr;
	t->fn_end = fs->addr + (fs->size ? fs->size : 1);
	if (!(t->root = sym_addr(t, t->cfg->root)))
		return fail(t, "%s: no function %s in its symbol table", path, t->cfg->root);
	if (!(t->add = sym_addr(t, "runtime.(*cpuProfile).add")))
		return fail(t, "%s: no runtime.(*cpuProfile).add: %s", path, "not a Go program with the CPU profiler?");
	t->mark_vdso = sym_addr(t, "runtime._VDSO");
	t->mark_external = sym_addr(t, "runtime._ExternalCode");
	t->mark_system = sym_addr(t, "runtime._System");
	t->mark_gc = sym_addr(t, "runtime._GC");
	if (cs_open(t->ops->cs_arch, t->ops->cs_mode, &t->cs) != CS_ERR_OK)
		return fail(t, "capstone cannot decode %s%s", t->ops->name, "");
	cs_option(t->cs, CS_OPT_DETAIL, CS_OPT_ON);
	return 0;
}

/* Where the kernel mapped the vDSO in the program ([vdso] in its maps). */
static void find_vdso(struct tracer *t)
{
	char path[64], line[512];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)t->pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (strstr(line, "[vdso]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
			t->vdso_lo = lo;
			t->vdso_hi = hi;
		}
	}
	fclose(f);
}

static int in_vdso(const struct tracer *t, uint64_t pc)
{
	return pc >= t->vdso_lo && pc < t->vdso_hi;
}

static int in_text(const struct tracer *t, uint64_t pc)
{
	for (unsigned i = 0; i < t->img.nseg; i++)
		if ((t->img.seg[i].flags & PF_X) && pc >= t->img.seg[i].vaddr &&
		    pc < t->img.seg[i].vaddr + t->img.seg[i].memsz)
			return 1;
	return 0;
}

static void where(const struct tracer *t, uint64_t pc, char *buf, size_t n)
{
	uint64_t off;
	const char *name;
	if (in_vdso(t, pc))
		snprintf(buf, n, "vdso+0x%" PRIx64, pc - t->vdso_lo);
	else if ((name = symtab_lookup(&t->img.syms, pc, &off)))
		snprintf(buf, n, "%s+0x%" PRIx64, name, off);
	else
		snprintf(buf, n, "0x%" PRIx64, pc);
}

/* The function (symbol start) holding addr; 0 if none. */
static uint64_t func_of(const struct tracer *t, uint64_t addr)
{
	uint64_t off;
	return symtab_lookup(&t->img.syms, addr, &off) ? addr - off : 0;
}

/* --- judging ------------------------------------------------------------------ */

/*
 * Does the sample match truth[0..nt) in order?  The sample's first pc is
 * the signal pc + 1 (Go records it so with _TraceTrap), the others return
 * addresses; Go adds a frame for each inlined call, at pcs inside the
 * same function as the physical frame's, which are passed over.  Frames
 * of the sample after the truth's last are not judged.
 */
static int sample_match_len(const struct tracer *t, const uint64_t *truth, int nt, const uint64_t *got, int ng,
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
			if (!prev_fn || func_of(t, got[i] - 1) != prev_fn)
				return k;
			i++;	/* an inlined caller's pc in the same function */
		}
		prev_fn = func_of(t, got[i] - 1);
		i++;
	}
	return nt;
}

static int sample_matches(const struct tracer *t, const uint64_t *truth, int nt, const uint64_t *got, int ng)
{
	int ran_out;
	return sample_match_len(t, truth, nt, got, ng, &ran_out) == nt;
}

/* May a traceback leave out the frame holding addr (leaf, at the top)?
 * The function under test and what is not the program's code (the vDSO). */
static int may_drop(const struct tracer *t, uint64_t addr, int innermost)
{
	uint64_t a = innermost ? addr : addr - 1;
	return !in_text(t, a) || (a >= t->fn && a < t->fn_end);
}

static enum verdict judge(const struct tracer *t, const uint64_t *truth, int nt, const uint64_t *got, int ng)
{
	if (ng <= 0)
		return VERDICT_WRONG;
	if (ng == 2 && (got[1] == t->mark_system + 1 || got[1] == t->mark_gc + 1)) {
		if (t->mark_vdso && got[0] == t->mark_vdso + 1)
			return VERDICT_VDSO;
		if (t->mark_external && got[0] == t->mark_external + 1)
			return VERDICT_EXTERNAL;
		return VERDICT_SYSTEM;
	}
	if (sample_matches(t, truth, nt, got, ng))
		return VERDICT_FULL;
	for (int k = 1; k < nt && may_drop(t, truth[k - 1], k == 1); k++)
		if (sample_matches(t, truth + k, nt - k, got, ng))
			return VERDICT_CALLER;
	/* The innermost frames of the truth, then nothing: lost callers
	 * (Go 1.19 stops after an SPWRITE frame).  `truncated` where the
	 * verdicts have it, else a wrong stack. */
	int ran_out, m = sample_match_len(t, truth, nt, got, ng, &ran_out);
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

enum delivery { DELIVERED, DELIVERY_FAULT, DELIVERY_HANG, DELIVERY_BROKEN };

/*
 * SIGPROF at the boundary the thread is stopped at (a SIGTRAP stop),
 * the handler run to its rt_sigreturn, the thread back at the boundary.
 * got/ngot: the sample cpuProfile.add received (ngot -1: none).
 */
static enum delivery deliver(struct tracer *t, struct thread *th, uint64_t *got, int *ngot, char *detail, size_t dn)
{
	uint8_t saved[512], regs[512];
	const struct ptrace_arch *pa = t->pa;
	*ngot = -1;
	if (get_regs(th->tid, saved))
		return DELIVERY_BROKEN;
	uint64_t pc = pa->pc(saved), sp = pa->sp(saved);
	if (bp_set(t, 2, t->add) || bp_set(t, 3, pc)) {
		snprintf(detail, dn, "cannot set a breakpoint at 0x%" PRIx64, pc);
		return DELIVERY_BROKEN;
	}
	double limit = now_s() + HANDLER_LIMIT_S;
	if (limit > t->deadline)
		limit = t->deadline;
	int sig = SIGPROF;
	for (;;) {
		if (ptrace(PTRACE_CONT, th->tid, NULL, (void *)(long)sig))
			return DELIVERY_BROKEN;
		sig = 0;
		int status;
		pid_t got_tid = wait_for(th->tid, &status, limit);
		if (got_tid == 0) {
			snprintf(detail, dn, "the handler did not return within %d s", HANDLER_LIMIT_S);
			return DELIVERY_HANG;
		}
		if (got_tid < 0 || !WIFSTOPPED(status)) {
			snprintf(detail, dn, "the program ended in the handler");
			return DELIVERY_FAULT;
		}
		int s = WSTOPSIG(status);
		if (s != SIGTRAP) {
			if (s == SIGSEGV || s == SIGBUS || s == SIGILL || s == SIGFPE) {
				snprintf(detail, dn, "the handler got signal %d", s);
				return DELIVERY_FAULT;
			}
			continue;	/* a timer's SIGPROF, SIGURG, our SIGSTOP: swallowed while the call is stepped */
		}
		if (get_regs(th->tid, regs))
			return DELIVERY_BROKEN;
		int b = bp_hit(t, pa->pc(regs));
		if (b == 2) {	/* sigprof hands its sample to the profile buffer */
			uint64_t ptr, len;
			if (pa->stk_arg(regs, read_word, t, &ptr, &len) == 0) {
				int n = len > PROBE_MAX_FRAMES ? PROBE_MAX_FRAMES : (int)len;
				for (int i = 0; i < n; i++)
					if (read_word(t, ptr + (uint64_t)i * t->ops->word_size, &got[i]))
						n = i;
				*ngot = n;
			}
			bp_clear(t, 2);
			pa->set_pc(regs, t->add);
			if (set_regs(th->tid, regs))
				return DELIVERY_BROKEN;
		} else if (b == 3 && pa->sp(regs) == sp) {	/* back from rt_sigreturn */
			bp_clear(t, 3);
			pa->set_pc(regs, pc);
			if (set_regs(th->tid, regs))
				return DELIVERY_BROKEN;
			if (memcmp(regs, saved, pa->regs_size)) {
				snprintf(detail, dn, "registers differ after rt_sigreturn");
				return DELIVERY_BROKEN;
			}
			return DELIVERED;
		} else if (b == 3) {	/* the handler runs the boundary's instruction itself */
			t->st->handler_nested++;
			bp_clear(t, 3);
			pa->set_pc(regs, pc);
			if (set_regs(th->tid, regs) || ptrace(PTRACE_SINGLESTEP, th->tid, NULL, NULL))
				return DELIVERY_BROKEN;
			do {
				got_tid = wait_for(th->tid, &status, limit);
			} while (got_tid > 0 && WIFSTOPPED(status) && WSTOPSIG(status) != SIGTRAP);
			if (got_tid <= 0 || !WIFSTOPPED(status))
				return DELIVERY_HANG;
			if (bp_set(t, 3, pc))
				return DELIVERY_BROKEN;
		}
	}
}

static int add_violation(struct tracer *t, const struct violation *v)
{
	struct probe_result *r = t->res;
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

static void insn_text(struct tracer *t, uint64_t pc, char *buf, size_t n)
{
	uint8_t code[16];
	cs_insn *insn;
	buf[0] = 0;
	if (code_read(t, pc, code, sizeof code))
		return;
	if (cs_disasm(t->cs, code, sizeof code, pc, 1, &insn) == 1) {
		snprintf(buf, n, "%.31s %.30s", insn->mnemonic, insn->op_str);
		cs_free(insn, 1);
	}
}

/* Judges the boundary the thread is at.  0, or -1: the window cannot go on. */
static int boundary(struct tracer *t, struct thread *th, uint64_t pc)
{
	uint64_t truth[MAX_SHADOW + 1], got[PROBE_MAX_FRAMES];
	int nt = 0, ngot;
	char detail[96] = "";
	truth[nt++] = pc;
	for (int i = t->nshadow - 1; i >= 0 && nt < MAX_SHADOW + 1; i--)
		truth[nt++] = t->shadow[i].ret;

	enum delivery d = deliver(t, th, got, &ngot, detail, sizeof detail);
	enum verdict v;
	if (d == DELIVERY_FAULT || d == DELIVERY_BROKEN)
		v = VERDICT_FAULT;
	else if (d == DELIVERY_HANG)
		v = VERDICT_HANG;
	else if (ngot < 0) {
		v = VERDICT_WRONG;
		snprintf(detail, sizeof detail, "no sample reached cpuProfile.add");
	} else
		v = judge(t, truth, nt, got, ngot);

	struct probe_result *r = t->res;
	r->boundaries++;
	r->probed++;
	r->verdicts[v]++;
	if (in_vdso(t, pc))
		t->st->in_vdso++;
	else if (pc >= t->fn && pc < t->fn_end)
		t->st->in_function++;
	else
		t->st->elsewhere++;
	char w[64];
	where(t, pc, w, sizeof w);
	if (t->cfg->boundary_log)
		fprintf(t->cfg->boundary_log, "boundary 0x%" PRIx64 " %s %s\n", pc, w, verdict_name(v));
	if (!verdict_passes(v)) {
		struct violation vi;
		memset(&vi, 0, sizeof vi);
		vi.pc = pc;
		vi.verdict = v;
		snprintf(vi.symbol, sizeof vi.symbol, "%s", w);
		insn_text(t, pc, vi.insn, sizeof vi.insn);
		snprintf(vi.detail, sizeof vi.detail, "%s", detail);
		vi.nexpected = nt > PROBE_MAX_FRAMES ? PROBE_MAX_FRAMES : nt;
		for (int i = 0; i < vi.nexpected; i++) {
			vi.expected[i] = truth[i];
			where(t, truth[i], vi.expected_sym[i], PROBE_SYM_MAX);
		}
		vi.ngot = ngot < 0 ? 0 : ngot;
		for (int i = 0; i < vi.ngot; i++) {
			vi.got[i] = got[i];
			where(t, got[i], vi.got_sym[i], PROBE_SYM_MAX);
		}
		if (add_violation(t, &vi))
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
static void count_retries(struct tracer *t)
{
	uint64_t max = 0;
	for (size_t i = 0; i < t->nvcall; i++)
		if (t->vcall[i].count > max)
			max = t->vcall[i].count;
	if (max > 1)
		t->st->vdso_retries += max - 1;
}

static int step_window(struct tracer *t, struct thread *th)
{
	uint8_t regs[512];
	const struct ptrace_arch *pa = t->pa;
	unsigned w = t->ops->word_size;
	if (get_regs(th->tid, regs))
		return -1;
	uint64_t pc = pa->pc(regs), sp = pa->sp(regs), ret;
	if (read_word(t, sp, &ret))
		return -1;
	/* The call that brought us here pushed its return address at SP. */
	t->shadow[0] = (struct shadow_frame){ ret, sp };
	t->nshadow = 1;
	find_vdso(t);
	int was_in_vdso = 0;
	double t0 = now_s();
	while (t->nshadow > 0) {
		if (now_s() > t->deadline) {
			t->st->limit_reached = 1;
			break;
		}
		if (in_vdso(t, pc) && !was_in_vdso) {
			t->st->vdso_calls++;
			t->nvcall = 0;
		} else if (!in_vdso(t, pc) && was_in_vdso) {
			count_retries(t);
		}
		uint64_t again = in_vdso(t, pc) ? occurrence(t->vcall, &t->nvcall,
							     sizeof t->vcall / sizeof t->vcall[0], pc) : 1;
		was_in_vdso = in_vdso(t, pc);

		/* A vDSO pc run again within one vDSO call is the seqlock going
		 * round once more: its boundary was judged on the first pass.
		 * Stepped without a signal: with a handler at every boundary a
		 * pass takes longer than the clock's update interval, and the
		 * read would never get through (seen on 386). */
		if (again > 1)
			t->st->retry_steps++;
		else if (boundary(t, th, pc))
			return 0;	/* recorded as fault/hang; nothing after it can be trusted */

		/* Step the boundary's instruction and follow calls and returns. */
		uint8_t code[16];
		cs_insn *insn;
		int is_call = 0;
		unsigned size = 0;
		if (code_read(t, pc, code, sizeof code) == 0 && cs_disasm(t->cs, code, sizeof code, pc, 1, &insn) == 1) {
			size = insn->size;
			for (int g = 0; insn->detail && g < insn->detail->groups_count; g++)
				is_call |= insn->detail->groups[g] == CS_GRP_CALL;
			cs_free(insn, 1);
		}
		if (ptrace(PTRACE_SINGLESTEP, th->tid, NULL, NULL))
			return -1;
		int status;
		pid_t got;
		do {
			got = wait_for(th->tid, &status, t->deadline);
		} while (got > 0 && WIFSTOPPED(status) && WSTOPSIG(status) != SIGTRAP &&
			 ptrace(PTRACE_SINGLESTEP, th->tid, NULL, NULL) == 0);
		if (got == 0) {
			t->st->limit_reached = 1;
			break;
		}
		if (got < 0 || !WIFSTOPPED(status) || get_regs(th->tid, regs))
			return -1;
		uint64_t npc = pa->pc(regs), nsp = pa->sp(regs), pushed;
		if (is_call && nsp == sp - w && read_word(t, nsp, &pushed) == 0 && pushed == pc + size &&
		    t->nshadow < MAX_SHADOW)
			t->shadow[t->nshadow++] = (struct shadow_frame){ pc + size, nsp };
		else if (npc == t->shadow[t->nshadow - 1].ret && nsp == t->shadow[t->nshadow - 1].sp + w)
			t->nshadow--;
		pc = npc;
		sp = nsp;
	}
	if (was_in_vdso)
		count_retries(t);
	t->res->elapsed_s = now_s() - t0;
	return 0;
}

/* Every thread but th into a ptrace-stop we hold (SIGSTOP, swallowed). */
static int hold_others(struct tracer *t, struct thread *th)
{
	for (int i = 0; i < t->nth; i++)
		if (&t->th[i] != th && !t->th[i].held)
			syscall(SYS_tgkill, t->pid, t->th[i].tid, SIGSTOP);
	for (;;) {
		int all = 1;
		for (int i = 0; i < t->nth; i++)
			all &= t->th[i].held || &t->th[i] == th;
		if (all)
			return 0;
		int status;
		pid_t tid = wait_for(-1, &status, t->deadline);
		if (tid <= 0)
			return -1;
		struct thread *o = thread_find(t, tid);
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			thread_drop(t, tid);
			th = thread_find(t, th->tid);
			if (!th)
				return -1;
			continue;
		}
		if (!o)
			o = thread_add(t, tid);	/* a new thread's first stop */
		if (!o)
			return -1;
		int s = WSTOPSIG(status);
		if (s == SIGSTOP) {
			o->held = 1;
			continue;
		}
		if (s == SIGTRAP && (status >> 16) == PTRACE_EVENT_CLONE) {
			unsigned long nt;
			if (ptrace(PTRACE_GETEVENTMSG, tid, NULL, &nt) == 0)
				thread_add(t, (pid_t)nt);	/* its own SIGSTOP stop arrives */
			resume(o, 0);	/* our SIGSTOP is still pending: it stops next */
			continue;
		}
		uint8_t regs[512];
		if (s == SIGTRAP && get_regs(tid, regs) == 0 && bp_trapped(t, t->pa->pc(regs)) >= 0) {
			/* At a breakpoint: back to it, to run it again when resumed. */
			t->pa->set_pc(regs, t->pa->pc(regs) - t->pa->trap_pc_after);
			set_regs(tid, regs);
			resume(o, 0);
			continue;
		}
		if (s != SIGTRAP && s != SIGPROF)
			o->pending = s;
		resume(o, 0);
	}
}

/* --- the run ----------------------------------------------------------------- */

/* The program killed and every thread of it reaped: a traced thread's
 * zombie must be waited for before its leader can be. */
static void kill_all(struct tracer *t)
{
	int status;
	kill(t->pid, SIGKILL);
	while (waitpid(-1, &status, __WALL) > 0 || errno == EINTR)
		;
}

/* Steps thread th over the breakpoint it stopped at (pc rewound to addr). */
static int step_over(struct tracer *t, struct thread *th, int b, uint8_t *regs)
{
	uint64_t addr = t->bp[b].addr;
	t->pa->set_pc(regs, addr);
	if (set_regs(th->tid, regs) || bp_clear(t, b) || ptrace(PTRACE_SINGLESTEP, th->tid, NULL, NULL))
		return -1;
	int status;
	pid_t got;
	while ((got = wait_for(th->tid, &status, t->deadline)) > 0 && WIFSTOPPED(status) &&
	       WSTOPSIG(status) != SIGTRAP) {
		if (WSTOPSIG(status) != SIGSTOP && WSTOPSIG(status) != SIGPROF)
			th->pending = WSTOPSIG(status);
		if (ptrace(PTRACE_SINGLESTEP, th->tid, NULL, NULL))
			return -1;
	}
	if (got <= 0 || !WIFSTOPPED(status)) {
		return -1;
	}
	return bp_set(t, b, addr);
}

static int trace(struct tracer *t)
{
	int status;
	uint64_t calls = 0, want = t->cfg->call ? t->cfg->call : PTRACE_GO_DEFAULT_CALL;
	uint8_t regs[512];
	/* Phase 1: up to the chosen call. */
	for (;;) {
		pid_t tid = wait_for(-1, &status, t->deadline);
		if (tid == 0) {
			t->st->limit_reached = 1;
			return fail(t, "the time limit (%s s) passed before the chosen call of %s", "", t->cfg->function);
		}
		if (tid < 0)
			return fail(t, "waitpid: %s%s", strerror(errno), "");
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			thread_drop(t, tid);
			if (tid == t->pid) {
				t->st->program_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
				char n[32];
				snprintf(n, sizeof n, "%" PRIu64, want);
				return fail(t, "the program ended before call %s of %s", n, t->cfg->function);
			}
			continue;
		}
		struct thread *th = thread_find(t, tid);
		if (!th)
			th = thread_add(t, tid);
		if (!th)
			return fail(t, "more than %s threads%s", "64", "");
		int s = WSTOPSIG(status), ev = status >> 16;
		if (s == SIGTRAP && ev == PTRACE_EVENT_CLONE) {
			unsigned long nt;
			if (ptrace(PTRACE_GETEVENTMSG, tid, NULL, &nt) == 0)
				thread_add(t, (pid_t)nt);
			resume(th, 0);
			continue;
		}
		if (s == SIGTRAP && ev == 0 && get_regs(tid, regs) == 0) {
			int b = bp_hit(t, t->pa->pc(regs));
			if (b == 0) {
				t->root_sp = t->pa->sp(regs);
				if (step_over(t, th, 0, regs) || resume(th, 0))
					return fail(t, "ptrace: %s%s", strerror(errno), "");
				continue;
			}
			if (b == 1) {
				uint64_t sp = t->pa->sp(regs);
				int inside = t->root_sp && sp < t->root_sp && sp >= t->root_sp - ROOT_WINDOW;
				if (inside && ++calls == want) {
					t->pa->set_pc(regs, t->bp[1].addr);
					if (set_regs(tid, regs) || bp_clear(t, 1) || bp_clear(t, 0))
						return fail(t, "ptrace: %s%s", strerror(errno), "");
					th->held = 1;
					if (hold_others(t, th))
						return fail(t, "cannot stop the program's other threads%s%s", "", "");
					t->st->calls_seen = calls;
					if (step_window(t, th))
						return fail(t, "ptrace failed while stepping: %s%s", strerror(errno), "");
					return 0;
				}
				if (step_over(t, th, 1, regs) || resume(th, 0))
					return fail(t, "ptrace: %s%s", strerror(errno), "");
				continue;
			}
			resume(th, 0);
			continue;
		}
		resume(th, s == SIGSTOP || s == SIGTRAP ? 0 : s);	/* ours; the rest is the program's */
	}
}

/* Phase 3: breakpoints out, every thread resumed, the program to its exit. */
static void finish(struct tracer *t)
{
	for (int i = 0; i < MAX_BPS; i++)
		bp_clear(t, i);
	for (int i = 0; i < t->nth; i++)
		if (t->th[i].held)
			ptrace(PTRACE_DETACH, t->th[i].tid, NULL, (void *)(long)t->th[i].pending);
	/* Threads not held (none, normally) are detached when they stop. */
	double limit = t->deadline + 5;
	for (;;) {
		int status;
		pid_t tid = wait_for(-1, &status, limit);
		if (tid <= 0) {
			kill_all(t);
			t->st->program_status = -1;
			return;
		}
		if (tid == t->pid && (WIFEXITED(status) || WIFSIGNALED(status))) {
			t->st->program_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
			return;
		}
		if (WIFSTOPPED(status))
			ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)(WSTOPSIG(status) == SIGSTOP ||
								    WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status)));
	}
}

int ptrace_go_run(const struct ptrace_go_config *cfg0, struct probe_result *res, struct ptrace_go_stats *st,
		  char *err, size_t errlen)
{
	struct ptrace_go_config cfg = *cfg0;
	if (!cfg.function)
		cfg.function = "runtime.nanotime1";
	if (!cfg.root)
		cfg.root = "time.Since";
	if (!cfg.timeout_s)
		cfg.timeout_s = 60;
	struct tracer *t = calloc(1, sizeof *t);
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	memset(res, 0, sizeof *res);
	memset(st, 0, sizeof *st);
	st->program_status = -1;
	st->limit_s = cfg.timeout_s;
	t->cfg = &cfg;
	t->res = res;
	t->st = st;
	t->err = err;
	t->errlen = errlen;
	t->memfd = -1;
	int rc = load_elf(t, cfg.program);
	if (rc)
		goto out;

	const char *base = strrchr(cfg.program, '/') ? strrchr(cfg.program, '/') + 1 : cfg.program;
	snprintf(res->arch, sizeof res->arch, "%s", t->ops->name);
	snprintf(res->variant, sizeof res->variant, "%.63s", base);
	snprintf(res->function, sizeof res->function, "%.15s",
		 strrchr(cfg.function, '.') ? strrchr(cfg.function, '.') + 1 : cfg.function);
	snprintf(res->context, sizeof res->context, "go");
	snprintf(res->era_name, sizeof res->era_name, "real");
	snprintf(res->inject, sizeof res->inject, "ptrace");
	res->vdso = 1;
	res->invariants_ok = 1;

	int report[2];
	if (pipe2(report, O_CLOEXEC)) {
		rc = fail(t, "pipe: %s%s", strerror(errno), "");
		goto out;
	}
	t->deadline = now_s() + cfg.timeout_s;
	pid_t pid = fork();
	if (pid < 0) {
		rc = fail(t, "fork: %s%s", strerror(errno), "");
		goto out;
	}
	if (pid == 0) {
		int e = 0;
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0), dup2(null, 1);
		/* The same addresses every run (a static Go binary has fixed
		 * text; this fixes the stacks and the vDSO too). */
		personality(ADDR_NO_RANDOMIZE);
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			e = errno;
		else {
			char *argv[] = { (char *)cfg.program, NULL };
			/* One P unless the caller chose: fewer threads to hold. */
			setenv("GOMAXPROCS", "1", 0);
			execv(cfg.program, argv);
			e = -errno;
		}
		if (write(report[1], &e, sizeof e) < 0)
			_exit(127);
		_exit(127);
	}
	close(report[1]);
	t->pid = pid;
	int e = 0;
	ssize_t got = read(report[0], &e, sizeof e);
	close(report[0]);
	if (got == (ssize_t)sizeof e) {
		int status;
		waitpid(pid, &status, 0);
		rc = e > 0 ? fail(t, "ptrace is not allowed here (PTRACE_TRACEME: %s)%s", strerror(e), "")
			   : fail(t, "cannot run %s: %s", cfg.program, strerror(-e));
		goto out;
	}
	/* The exec stop. */
	int status;
	if (waitpid(pid, &status, __WALL) != pid || !WIFSTOPPED(status)) {
		rc = fail(t, "%s did not start under ptrace%s", cfg.program, "");
		goto out;
	}
	if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
		   (void *)(long)(PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL))) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, __WALL);
		rc = fail(t, "ptrace is not allowed here (PTRACE_SETOPTIONS: %s)%s", strerror(errno), "");
		goto out;
	}
	char mem[64];
	snprintf(mem, sizeof mem, "/proc/%d/mem", (int)pid);
	t->memfd = open(mem, O_RDWR | O_CLOEXEC);
	thread_add(t, pid);
	if (t->memfd < 0 || bp_set(t, 0, t->root) || bp_set(t, 1, t->fn)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, __WALL);
		rc = fail(t, "cannot write breakpoints into %s: %s", cfg.program, strerror(errno));
		goto out;
	}

	/* waitpid must not block past the deadline: a timer interrupts it. */
	struct sigaction sa, old_sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;	/* no SA_RESTART */
	sigaction(SIGALRM, &sa, &old_sa);
	struct itimerval tick = { { 0, 100000 }, { 0, 100000 } }, old_tick;
	setitimer(ITIMER_REAL, &tick, &old_tick);

	resume(&t->th[0], 0);
	rc = trace(t);
	if (rc == 0)
		finish(t);
	else
		kill_all(t);
	setitimer(ITIMER_REAL, &old_tick, NULL);
	sigaction(SIGALRM, &old_sa, NULL);
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
out:
	if (t->memfd >= 0)
		close(t->memfd);
	if (t->ops)
		elf_image_free(&t->img);
	if (t->cs)
		cs_close(&t->cs);
	free(t->elf_buf);
	free(t);
	if (rc)
		probe_result_free(res);
	return rc;
}
