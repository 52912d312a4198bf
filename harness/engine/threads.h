/*
 * Threads of the one emulated process, as guest contexts switched
 * cooperatively and deterministically.
 *
 * A thread runs until it blocks (futex WAIT, nanosleep), yields
 * (sched_yield), exits, or has run THREAD_QUANTUM instructions while
 * another is runnable; the next runnable one after it, in creation order,
 * runs then.  When every live thread is blocked, the emulated clock jumps
 * to the earliest deadline (a futex timeout, the end of a sleep) and that
 * thread wakes: time never depends on the host.  Every live thread
 * blocked with no deadline is a deadlock, reported as a fault.
 *
 * Each thread has its own registers (a Unicorn context), signal mask,
 * sigaltstack and the per-thread machine state its arch keeps outside the
 * registers (arch_ops.thread_state_*: 386's GDT TLS entries), all swapped
 * at each switch.  A process that never calls clone is one thread and
 * runs exactly as before.
 */
#ifndef SIGSTEP_THREADS_H
#define SIGSTEP_THREADS_H

#include <stdint.h>
#include <capstone/capstone.h>
#include <unicorn/unicorn.h>

#include "arch_ops.h"
#include "machine.h"

#define THREAD_MAX 64
#define THREAD_STATE_MAX 64	/* bytes of arch per-thread state */
/* Instructions a thread runs before another runnable one gets the CPU
 * (only counted when the run counts instructions). */
#define THREAD_QUANTUM 2000000ull

enum thread_state {
	THREAD_RUNNABLE,
	THREAD_FUTEX,		/* FUTEX_WAIT on futex_addr, until woken or deadline */
	THREAD_SLEEP,		/* nanosleep until deadline */
	THREAD_POLL,		/* epoll_wait: until a pipe write or deadline */
	THREAD_EXITED,
};

struct thread {
	uint32_t tid;
	enum thread_state state;
	uc_context *ctx;		/* its registers while it does not run */
	uint64_t sigmask;
	uint64_t altstack_sp, altstack_size;
	int altstack_flags;
	uint64_t futex_addr;
	uint64_t poll_fd, poll_events, poll_max;	/* THREAD_POLL's epoll_wait */
	uint64_t deadline_ns;		/* monotonic; 0: none (FUTEX without timeout) */
	int64_t wake_result;		/* the blocked syscall's return value when it wakes */
	int wake_pending;		/* woken: wake_result goes into its return register */
	/* A clone child before its first run: where it starts, its TLS. */
	int fresh, set_tls;
	uint64_t start_pc, start_sp, tls;
	uint8_t arch_state[THREAD_STATE_MAX];
	uint64_t insns;			/* instructions run (counted runs) */
	uint64_t pending;		/* signals sent to it, not yet delivered (bit sig-1) */
};

struct thread_table {
	struct thread t[THREAD_MAX];
	unsigned n;			/* threads created, exited ones included */
	unsigned cur;			/* the one the CPU runs */
	int switch_pending;		/* cur blocked, yielded or exited: the run stops to switch */
	int deliver_current;		/* ... or sent itself a signal it takes at the syscall's end */
	uint64_t switches;
	/* Counting runs: instructions so far and the limit (0: none). */
	uint64_t insns, insn_limit, slice_start;
	uint32_t last_block_insns;	/* the count of the block counted last */
	uc_hook count_hook;
	int counting;
	double deadline_s;		/* counting runs: the host time limit (0: none) */
	uint64_t blocks;
	/* Instructions per translated block, by block address (threads.c). */
	struct { uint64_t pc; uint32_t size, insns; } *cache;
	csh cs;
	int cs_open;
};
#define COUNT_SLOTS 65536	/* a power of two */

/* Gives mc its thread table with the running code as thread 0 (tid
 * SYS_PID).  0 or -1.  machine_destroy frees it. */
int threads_attach(struct machine *mc);
void threads_free(struct machine *mc);

/* The running thread. */
struct thread *threads_current(struct machine *mc);
/* The live thread with id `tid`, NULL if none. */
struct thread *threads_find(struct machine *mc, uint64_t tid);

/*
 * Runs the process until exit_group, the exit of its last thread, a
 * fault, a deadlock, `max_insns` instructions in all (0: no limit and no
 * counting: the fast path) or `timeout_us` of host time (0: none).  0:
 * exited, 1: mc->fault says why.
 */
int threads_run(struct machine *mc, uint64_t max_insns, uint64_t timeout_us);

/* Instructions the run has counted (0 unless it counts). */
uint64_t threads_insns(const struct machine *mc);
/*
 * A run stopped at the first instruction of a block (a probe's stop at a
 * function's entry or at a return address) has counted that block, and
 * the next run counts it again as it starts there.  The last block's
 * count, and the count taken back, for a caller whose stop is to leave
 * the count as an unstopped run's.
 */
uint32_t threads_last_block_insns(const struct machine *mc);
void threads_uncount(struct machine *mc, uint64_t n);

/* The syscalls a multi-threaded Linux process needs, for the arch tables. */
sys_handler sys_clone, sys_exit, sys_futex, sys_nanosleep, sys_sched_yield, sys_gettid,
	sys_set_tid_address;

/* epoll_wait's blocking half (sys_linux.c): the current thread waits
 * until threads_wake_pollers or rel_ns (if has_deadline). */
void threads_block_poll(struct machine *mc, uint64_t epfd, uint64_t events, uint64_t max, uint64_t rel_ns,
			int has_deadline);
/* A pipe was written: every thread in epoll_wait wakes with its ready events. */
void threads_wake_pollers(struct machine *mc);

/* The threads' scheduling states, to put back what a signal handler's
 * run changed (a futex WAKE from the handler) when the run is undone. */
struct thread_marks {
	unsigned n;
	struct { enum thread_state state; int wake_pending; int64_t wake_result; uint64_t pending; } t[THREAD_MAX];
	int deliver_current;
};
void threads_mark(const struct machine *mc, struct thread_marks *m);
void threads_unmark(struct machine *mc, const struct thread_marks *m);

/*
 * A signal the process sent (kill: t NULL, the current thread unless it
 * blocks it, else the first that does not; tgkill: t).  It becomes
 * pending on that thread and is delivered as Linux delivers on the return
 * to user mode: the sender itself at the end of its syscall, another
 * thread when it next runs; a thread blocked in futex, nanosleep or
 * epoll_wait is woken with -EINTR to take it.  A blocked signal stays
 * pending until the thread's mask lets it through at a later switch.
 */
void threads_send(struct machine *mc, struct thread *t, int sig);

/* The emulated monotonic clock in ns (what deadlines are measured on). */
uint64_t threads_now_ns(const struct machine *mc);

#endif
