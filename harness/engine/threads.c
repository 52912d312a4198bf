#include "threads.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigdeliver.h"
#include "syscalls.h"

/* Linux's uapi values, the same on amd64, 386 and arm. */
#define L_CLONE_VM		0x00000100u
#define L_CLONE_THREAD		0x00010000u
#define L_CLONE_SETTLS		0x00080000u
#define L_CLONE_PARENT_SETTID	0x00100000u
#define L_CLONE_CHILD_CLEARTID	0x00200000u
#define L_CLONE_CHILD_SETTID	0x01000000u
#define L_FUTEX_WAIT		0
#define L_FUTEX_WAKE		1
#define L_FUTEX_PRIVATE		128
#define L_FUTEX_CLOCK_REALTIME	256
#define L_SS_DISABLE		2
#define L_EINTR_RESULT		(-EINTR)
/* wake_result of a poller woken by a write: its events are collected when it runs. */
#define WAKE_COLLECT_POLL	(INT64_MIN + 1)

static struct thread_table *table(const struct machine *mc)
{
	return mc->threads;
}

int threads_attach(struct machine *mc)
{
	struct thread_table *tt = calloc(1, sizeof *tt);
	if (!tt)
		return -1;
	tt->cache = calloc(COUNT_SLOTS, sizeof *tt->cache);
	if (!tt->cache) {
		free(tt);
		return -1;
	}
	tt->n = 1;
	tt->t[0].tid = SYS_PID;
	tt->t[0].state = THREAD_RUNNABLE;
	tt->t[0].altstack_flags = L_SS_DISABLE;
	mc->threads = tt;
	return 0;
}

void threads_free(struct machine *mc)
{
	struct thread_table *tt = table(mc);
	if (!tt)
		return;
	for (unsigned i = 0; i < tt->n; i++)
		if (tt->t[i].ctx)
			uc_context_free(tt->t[i].ctx);
	if (tt->cs_open)
		cs_close(&tt->cs);
	free(tt->cache);
	free(tt);
	mc->threads = NULL;
}

struct thread *threads_current(struct machine *mc)
{
	return &table(mc)->t[table(mc)->cur];
}

struct thread *threads_find(struct machine *mc, uint64_t tid)
{
	struct thread_table *tt = table(mc);
	for (unsigned i = 0; tt && i < tt->n; i++)
		if (tt->t[i].tid == tid && tt->t[i].state != THREAD_EXITED)
			return &tt->t[i];
	return NULL;
}

uint64_t threads_now_ns(const struct machine *mc)
{
	int64_t sec, nsec;
	sys_clock_now(mc->sys, 1, &sec, &nsec);
	return (uint64_t)sec * 1000000000ull + (uint64_t)nsec;
}

uint64_t threads_insns(const struct machine *mc)
{
	return mc->threads ? mc->threads->insns : 0;
}

uint32_t threads_last_block_insns(const struct machine *mc)
{
	return mc->threads ? mc->threads->last_block_insns : 0;
}

void threads_uncount(struct machine *mc, uint64_t n)
{
	struct thread_table *tt = table(mc);
	if (!tt)
		return;
	tt->insns -= n;
	tt->t[tt->cur].insns -= n;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The running thread stops at the end of its syscall; threads_run switches. */
static void request_switch(struct machine *mc)
{
	table(mc)->switch_pending = 1;
	machine_stop(mc);
}

/* --- Switching ------------------------------------------------------------ */

static int save_current(struct machine *mc)
{
	struct thread_table *tt = table(mc);
	struct thread *t = &tt->t[tt->cur];
	const struct arch_ops *ops = mc->ops;
	if (t->state == THREAD_EXITED)
		return 0;
	if (!t->ctx && uc_context_alloc(mc->uc, &t->ctx) != UC_ERR_OK)
		return -1;
	if (uc_context_save(mc->uc, t->ctx) != UC_ERR_OK)
		return -1;
	t->sigmask = mc->sys->sigmask;
	t->altstack_sp = mc->sys->altstack_sp;
	t->altstack_size = mc->sys->altstack_size;
	t->altstack_flags = mc->sys->altstack_flags;
	if (ops->thread_state_save)
		ops->thread_state_save(mc, t->arch_state);
	return 0;
}

static int resume(struct machine *mc, unsigned i)
{
	struct thread_table *tt = table(mc);
	struct thread *t = &tt->t[i];
	const struct arch_ops *ops = mc->ops;
	if (uc_context_restore(mc->uc, t->ctx) != UC_ERR_OK)
		return -1;
	mc->sys->sigmask = t->sigmask;
	mc->sys->altstack_sp = t->altstack_sp;
	mc->sys->altstack_size = t->altstack_size;
	mc->sys->altstack_flags = t->altstack_flags;
	if (ops->thread_state_restore)
		ops->thread_state_restore(mc, t->arch_state);
	if (t->fresh) {
		/* A new thread's first run: clone returns 0 on its stack. */
		machine_set_reg(mc, ops->reg_pc, t->start_pc);
		machine_set_reg(mc, ops->reg_sp, t->start_sp);
		machine_set_reg(mc, ops->reg_ret, 0);
		if (t->set_tls && ops->clone_set_tls(mc, t->tls))
			return -1;
		t->fresh = 0;
	}
	if (t->wake_result == WAKE_COLLECT_POLL)	/* woken by a pipe write: what is ready now */
		t->wake_result = sys_linux_epoll_collect(mc, t->poll_fd, t->poll_events, t->poll_max);
	if (t->state != THREAD_RUNNABLE || t->wake_pending) {
		/* It wakes from its blocking syscall with this result. */
		machine_set_reg(mc, ops->reg_ret, (uint64_t)t->wake_result);
		t->state = THREAD_RUNNABLE;
		t->wake_pending = 0;
	}
	tt->cur = i;
	tt->slice_start = tt->insns;
	tt->switches++;
	return 0;
}

/*
 * The next thread to run: the first runnable one after cur in creation
 * order (cur itself last).  If none, the blocked one with the earliest
 * deadline wakes, the clock moved to it.  -1: every live thread waits
 * without a deadline.
 */
static int pick_next(struct machine *mc)
{
	struct thread_table *tt = table(mc);
	for (unsigned k = 1; k <= tt->n; k++) {
		unsigned i = (tt->cur + k) % tt->n;
		if (tt->t[i].state == THREAD_RUNNABLE)
			return (int)i;
	}
	int best = -1;
	for (unsigned i = 0; i < tt->n; i++) {
		const struct thread *t = &tt->t[i];
		if ((t->state == THREAD_FUTEX || t->state == THREAD_SLEEP || t->state == THREAD_POLL) &&
		    t->deadline_ns &&
		    (best < 0 || t->deadline_ns < tt->t[best].deadline_ns))
			best = (int)i;
	}
	if (best < 0)
		return -1;
	struct thread *t = &tt->t[best];
	uint64_t now = threads_now_ns(mc);
	if (t->deadline_ns > now)
		mc->sys->slept_ns += t->deadline_ns - now;
	if (t->state == THREAD_FUTEX)
		t->wake_result = -ETIMEDOUT;
	syscalls_publish_time(mc);
	return best;
}

static int live_threads(const struct thread_table *tt)
{
	int n = 0;
	for (unsigned i = 0; i < tt->n; i++)
		n += tt->t[i].state != THREAD_EXITED;
	return n;
}

/*
 * Counting runs count whole translated blocks: a block hook adds the
 * block's instruction count (decoded once per block address, cached).
 * Every syscall and trap ends a block, so the count is exact at every
 * switch; the limit and the quantum are checked at block starts, which
 * keeps the run deterministic and costs one hook per block, not one per
 * instruction.
 */
static uint32_t block_insns(struct machine *mc, uint64_t addr, uint32_t size)
{
	struct thread_table *tt = table(mc);
	unsigned h = (unsigned)((addr * 0x9e3779b97f4a7c15ull) >> 40) & (COUNT_SLOTS - 1);
	for (unsigned k = 0; k < 8; k++) {
		unsigned i = (h + k) & (COUNT_SLOTS - 1);
		if (tt->cache[i].pc == addr && tt->cache[i].size == size)
			return tt->cache[i].insns;
		if (!tt->cache[i].pc) {
			h = i;
			break;
		}
	}
	uint8_t code[4096];
	uint32_t n = 0;
	size_t len = size < sizeof code ? size : sizeof code;
	if (!tt->cs_open) {
		if (cs_open(mc->ops->cs_arch, mc->ops->cs_mode, &tt->cs) != CS_ERR_OK)
			return 1;
		tt->cs_open = 1;
	}
	if (machine_read(mc, addr, code, len) == 0) {
		const uint8_t *p = code;
		uint64_t at = addr;
		cs_insn *insn = cs_malloc(tt->cs);
		while (len && cs_disasm_iter(tt->cs, &p, &len, &at, insn))
			n++;
		cs_free(insn, 1);
	}
	if (!n)
		n = 1;
	tt->cache[h].pc = addr;
	tt->cache[h].size = size;
	tt->cache[h].insns = n;
	return n;
}

static void hook_count(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	struct machine *mc = user;
	struct thread_table *tt = table(mc);
	(void)uc;
	if (tt->insn_limit && tt->insns >= tt->insn_limit) {
		machine_fault(mc, FAULT_INSN_LIMIT, addr, 0, tt->insn_limit);
		return;
	}
	if (tt->insns - tt->slice_start >= THREAD_QUANTUM && live_threads(tt) > 1) {
		for (unsigned i = 0; i < tt->n; i++)
			if (i != tt->cur && tt->t[i].state == THREAD_RUNNABLE) {
				tt->slice_start = tt->insns;
				request_switch(mc);
				return;
			}
	}
	/* A counting run's host time limit, checked here every 64K blocks
	 * (the hook runs anyway); an uncounted run's is the machine's
	 * deadline thread's (run_deadline.c). */
	if (tt->deadline_s && !(++tt->blocks & 0xffff) && now_s() >= tt->deadline_s) {
		machine_fault(mc, FAULT_TIMEOUT, addr, 0, 0);
		return;
	}
	uint32_t n = block_insns(mc, addr, size);
	tt->insns += n;
	tt->t[tt->cur].insns += n;
	tt->last_block_insns = n;
}

static void deliver_pending(struct machine *mc);

int threads_run(struct machine *mc, uint64_t max_insns, uint64_t timeout_us)
{
	struct thread_table *tt = table(mc);
	double t0 = now_s();
	if (max_insns && !tt->counting) {
		if (uc_hook_add(mc->uc, &tt->count_hook, UC_HOOK_BLOCK, (void *)hook_count, mc, 1, 0) != UC_ERR_OK) {
			mc->fault.kind = FAULT_ENGINE;
			return 1;
		}
		tt->counting = 1;
	}
	tt->insn_limit = max_insns;
	tt->deadline_s = tt->counting && timeout_us ? t0 + timeout_us / 1e6 : 0;
	for (;;) {
		uint64_t left = 0;
		if (timeout_us && !tt->counting) {
			double spent = (now_s() - t0) * 1e6;
			if (spent >= (double)timeout_us) {
				machine_fault(mc, FAULT_TIMEOUT, machine_pc(mc), 0, 0);
				return 1;
			}
			left = timeout_us - (uint64_t)spent;
		}
		int r = machine_run(mc, 0, left);
		if (r == 1 && mc->fault.kind == FAULT_STOPPED && timeout_us && (now_s() - t0) * 1e6 >= (double)timeout_us)
			mc->fault.kind = FAULT_TIMEOUT;
		if (r != 1 || mc->fault.kind != FAULT_STOPPED || !tt->switch_pending)
			return r;
		mc->fault = (struct fault){ 0 };
		tt->switch_pending = 0;
		if (tt->deliver_current && tt->t[tt->cur].state == THREAD_RUNNABLE) {
			/* A signal to itself: taken on the way back from the syscall. */
			tt->deliver_current = 0;
			deliver_pending(mc);
			continue;
		}
		tt->deliver_current = 0;
		if (!live_threads(tt)) {	/* the last thread's exit ends the process */
			mc->exited = 1;
			return 0;
		}
		if (save_current(mc)) {
			machine_fault(mc, FAULT_ENGINE, machine_pc(mc), 0, 0);
			return 1;
		}
		int next = pick_next(mc);
		if (next < 0) {
			machine_fault(mc, FAULT_DEADLOCK, machine_pc(mc), 0, 0);
			return 1;
		}
		if (resume(mc, (unsigned)next)) {
			machine_fault(mc, FAULT_ENGINE, machine_pc(mc), 0, 0);
			return 1;
		}
		deliver_pending(mc);
	}
}

/* --- Syscalls --------------------------------------------------------------- */

/*
 * clone with the flags a thread library uses (CLONE_VM | CLONE_THREAD and
 * friends): the child is a copy of the caller's registers with SP the new
 * stack and 0 returned, its TLS from the arch's tls argument under
 * CLONE_SETTLS, the caller's signal mask and no sigaltstack (Linux clears
 * it for CLONE_VM).  The caller goes on; the child runs when the
 * scheduler reaches it.  fork-like clones are refused.
 */
int64_t sys_clone(struct machine *mc, const uint64_t a[6])
{
	struct thread_table *tt = table(mc);
	const struct arch_ops *ops = mc->ops;
	uint64_t flags = a[0], stack = a[1], ptid = a[2];
	if (!(flags & L_CLONE_VM) || !(flags & L_CLONE_THREAD))
		return -ENOSYS;
	if (flags & (L_CLONE_CHILD_CLEARTID | L_CLONE_CHILD_SETTID))
		return -EINVAL;		/* not emulated: no caller of ours uses them */
	if (tt->n == THREAD_MAX)
		return -EAGAIN;
	struct thread *c = &tt->t[tt->n];
	memset(c, 0, sizeof *c);
	if (uc_context_alloc(mc->uc, &c->ctx) != UC_ERR_OK || uc_context_save(mc->uc, c->ctx) != UC_ERR_OK)
		return -ENOMEM;
	/*
	 * Where the child resumes (after the syscall instruction), its stack
	 * and TLS are written into the live CPU when it first runs: Unicorn
	 * 2.0.1's uc_context_reg_write of a PC dereferences a NULL engine.
	 */
	c->fresh = 1;
	c->start_pc = machine_pc(mc) + (ops->syscall_pc_past ? 0 : ops->syscall_insn_size);
	c->start_sp = stack ? stack : machine_sp(mc);
	if (ops->thread_state_save)
		ops->thread_state_save(mc, c->arch_state);
	if (flags & L_CLONE_SETTLS) {
		if (!ops->clone_set_tls)
			return -EINVAL;
		c->set_tls = 1;
		c->tls = a[ops->clone_tls_arg];
	}
	c->tid = SYS_PID + tt->n;
	c->state = THREAD_RUNNABLE;
	c->sigmask = mc->sys->sigmask;
	c->altstack_flags = L_SS_DISABLE;
	if (flags & L_CLONE_PARENT_SETTID) {
		uint32_t tid = c->tid;
		if (machine_copy_out(mc, ptid, &tid, 4))
			return -EFAULT;
	}
	tt->n++;
	return c->tid;
}

/* exit: this thread ends; the last one ends the process with its status. */
int64_t sys_exit(struct machine *mc, const uint64_t a[6])
{
	struct thread_table *tt = table(mc);
	tt->t[tt->cur].state = THREAD_EXITED;
	mc->exit_status = (int)(a[0] & 0xff);
	request_switch(mc);
	return 0;
}

/* Reads a struct timespec of the arch's words; -1 if unreadable or invalid. */
static int read_timespec(struct machine *mc, uint64_t addr, uint64_t *ns)
{
	unsigned w = mc->ops->word_size;
	int64_t sec = 0, nsec = 0;
	if (machine_copy_in(mc, addr, &sec, w) || machine_copy_in(mc, addr + w, &nsec, w))
		return -1;
	if (w == 4) {
		sec = (int32_t)sec;
		nsec = (int32_t)nsec;
	}
	if (sec < 0 || nsec < 0 || nsec >= 1000000000)
		return -1;
	*ns = (uint64_t)sec * 1000000000ull + (uint64_t)nsec;
	return 0;
}

static void block(struct machine *mc, enum thread_state st, uint64_t addr, uint64_t rel_ns, int has_deadline,
		  int64_t result)
{
	struct thread *t = threads_current(mc);
	t->state = st;
	t->futex_addr = addr;
	t->deadline_ns = has_deadline ? threads_now_ns(mc) + (rel_ns ? rel_ns : 1) : 0;
	t->wake_result = result;
	request_switch(mc);
}

/* FUTEX_WAIT (relative timeout) and FUTEX_WAKE, private or not: one process. */
int64_t sys_futex(struct machine *mc, const uint64_t a[6])
{
	struct thread_table *tt = table(mc);
	uint64_t addr = a[0], op = a[1] & ~(uint64_t)L_FUTEX_PRIVATE, val = a[2] & 0xffffffffu;
	if (addr & 3)
		return -EINVAL;
	if (op == L_FUTEX_WAIT) {
		uint32_t now;
		uint64_t rel = 0;
		if (machine_copy_in(mc, addr, &now, 4))
			return -EFAULT;
		if (now != val)
			return -EAGAIN;
		if (a[3] && read_timespec(mc, a[3], &rel))
			return -EINVAL;
		block(mc, THREAD_FUTEX, addr, rel, a[3] != 0, 0);
		return 0;
	}
	if (op == L_FUTEX_WAKE) {
		int64_t woken = 0;
		for (unsigned i = 0; i < tt->n && (uint64_t)woken < val; i++) {
			struct thread *t = &tt->t[i];
			if (t->state == THREAD_FUTEX && t->futex_addr == addr) {
				t->state = THREAD_RUNNABLE;
				t->wake_result = 0;
				t->wake_pending = 1;
				woken++;
			}
		}
		return woken;
	}
	return -ENOSYS;
}

int64_t sys_nanosleep(struct machine *mc, const uint64_t a[6])
{
	uint64_t ns;
	if (read_timespec(mc, a[0], &ns))
		return -EINVAL;
	block(mc, THREAD_SLEEP, 0, ns, 1, 0);
	return 0;
}

int64_t sys_sched_yield(struct machine *mc, const uint64_t a[6])
{
	(void)a;
	if (live_threads(table(mc)) > 1)
		request_switch(mc);
	return 0;
}

int64_t sys_gettid(struct machine *mc, const uint64_t a[6])
{
	(void)a;
	return threads_current(mc)->tid;
}

int64_t sys_set_tid_address(struct machine *mc, const uint64_t a[6])
{
	(void)a;
	return threads_current(mc)->tid;
}

void threads_block_poll(struct machine *mc, uint64_t epfd, uint64_t events, uint64_t max, uint64_t rel_ns,
			int has_deadline)
{
	struct thread *t = threads_current(mc);
	t->poll_fd = epfd;
	t->poll_events = events;
	t->poll_max = max;
	block(mc, THREAD_POLL, 0, rel_ns, has_deadline, 0);
}

void threads_wake_pollers(struct machine *mc)
{
	struct thread_table *tt = table(mc);
	for (unsigned i = 0; i < tt->n; i++) {
		struct thread *t = &tt->t[i];
		if (t->state == THREAD_POLL) {
			t->state = THREAD_RUNNABLE;
			t->wake_pending = 1;
			t->wake_result = WAKE_COLLECT_POLL;
		}
	}
}

void threads_mark(const struct machine *mc, struct thread_marks *m)
{
	const struct thread_table *tt = table(mc);
	m->n = tt->n;
	for (unsigned i = 0; i < tt->n; i++) {
		m->t[i].state = tt->t[i].state;
		m->t[i].wake_pending = tt->t[i].wake_pending;
		m->t[i].wake_result = tt->t[i].wake_result;
		m->t[i].pending = tt->t[i].pending;
	}
	m->deliver_current = tt->deliver_current;
}

void threads_unmark(struct machine *mc, const struct thread_marks *m)
{
	struct thread_table *tt = table(mc);
	for (unsigned i = 0; i < m->n && i < tt->n; i++) {
		tt->t[i].state = m->t[i].state;
		tt->t[i].wake_pending = m->t[i].wake_pending;
		tt->t[i].wake_result = m->t[i].wake_result;
		tt->t[i].pending = m->t[i].pending;
	}
	tt->switch_pending = 0;
	tt->deliver_current = m->deliver_current;
}

void threads_send(struct machine *mc, struct thread *t, int sig)
{
	struct thread_table *tt = table(mc);
	uint64_t bit = 1ull << (sig - 1);
	struct thread *cur = &tt->t[tt->cur];
	if (sig < 1 || sig > SYS_NSIG)
		return;
	if (!t) {
		t = cur;
		if (mc->sys->sigmask & bit)
			for (unsigned i = 0; i < tt->n; i++)
				if (tt->t[i].state != THREAD_EXITED && i != tt->cur && !(tt->t[i].sigmask & bit)) {
					t = &tt->t[i];
					break;
				}
	}
	t->pending |= bit;
	if (t == cur) {
		/* At the end of this syscall, if the mask lets it through. */
		if (!(mc->sys->sigmask & bit))
			request_switch(mc), tt->deliver_current = 1;
		return;
	}
	if ((t->state == THREAD_FUTEX || t->state == THREAD_SLEEP || t->state == THREAD_POLL) &&
	    !(t->sigmask & bit)) {
		t->state = THREAD_RUNNABLE;
		t->wake_pending = 1;
		t->wake_result = L_EINTR_RESULT;
	}
}

/* The pending signals the running thread's mask lets through, lowest
 * first, each to its handler (one frame on top of the other, as Linux
 * stacks them).  Signals with no handler are dropped (their default
 * action is not emulated). */
static void deliver_pending(struct machine *mc)
{
	struct thread *t = threads_current(mc);
	for (int sig = 1; sig <= SYS_NSIG; sig++) {
		uint64_t bit = 1ull << (sig - 1);
		if (!(t->pending & bit) || (mc->sys->sigmask & bit))
			continue;
		t->pending &= ~bit;
		mc->sys->delivered++;
		engine_deliver_signal(mc, sig);
	}
}
