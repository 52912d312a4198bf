/*
 * The emulated kernel: the syscalls a guest image makes, with Linux's
 * semantics where the guest can observe them, and a deterministic clock.
 *
 * Each arch's table (arch/<arch>/unicorn.c) maps its syscall numbers to
 * the generic handlers below; a number without a handler stops the run
 * with FAULT_UNSUPPORTED_SYSCALL.
 */
#ifndef SIGSTEP_SYSCALLS_H
#define SIGSTEP_SYSCALLS_H

#include <stdint.h>

#include "arch_ops.h"
#include "machine.h"

#define SYS_NSIG 64

/* The emulated clock: both clocks advance by CLOCK_STEP_NS at every read
 * (syscall), from fixed origins.  vDSO reads return the last value the
 * "kernel" published into vvar. */
#define CLOCK_REALTIME_ORIGIN_SEC 1700000000ll	/* 2023-11-14 */
#define CLOCK_MONOTONIC_ORIGIN_SEC 1000ll
#define CLOCK_STEP_NS 1000ll

struct fd_table;

struct sigaction_rec {
	uint64_t handler, flags, restorer, mask;
};

struct sys_state {
	uint64_t clock_ticks;		/* clock reads so far */
	uint64_t slept_ns;		/* time the clock jumped while every thread slept (threads.c) */
	uint64_t vvar_addr;		/* 0: no harness-mapped vvar page */
	uint32_t vvar_seq;

	uint64_t sigmask;		/* bit sig-1 */
	uint64_t altstack_sp, altstack_size;
	int altstack_flags;		/* SS_DISABLE when none */

	unsigned nkills;		/* kills[] used */
	uint64_t nsyscalls;

	/* sys_linux.c: open files (NULL until the first open), timers set. */
	struct fd_table *fds;
	uint64_t itimers_set;
	uint32_t timers_created;
	uint64_t tsc_reads;		/* RDTSC reads so far (arch hooks) */
	int deliver_code;		/* si_code of delivered signals; 0: SI_KERNEL */
	int deliver_kills;		/* kill/tgkill deliver (a full Linux process), else only record */
	uint64_t delivered;		/* signals delivered that way */

	/* rt_sigreturn: calls so far; set by each (the probe's handler run
	 * stops there and clears it); set while its hook runs, so the
	 * syscall's return path leaves the restored registers alone. */
	uint64_t sigreturns;
	uint64_t sigreturn_pc;		/* where the last one resumes (the frame's PC as the CPU took it) */
	int sigreturn_pending;
	int regs_restored;

	/* The tables, 2.3 of the state's 2.5 KB, last: only rt_sigaction and
	 * kill/tgkill change them, and each change gives tables_version a
	 * value no state had before, so two states of the same version hold
	 * the same tables (what sys_state_copy relies on). */
	uint64_t tables_version;
	struct sigaction_rec action[SYS_NSIG + 1];	/* by signal number */
	uint32_t kills[64];		/* signals sent by kill/tgkill, in order */
};

/*
 * *to becomes *from; the tables are copied only if their versions differ
 * (a probed sample saves the state and puts it back: a handler rarely
 * changes them).  A state copied whole (struct assignment) keeps its
 * version with its tables; one zeroed has version 0 and empty tables, as
 * a state no syscall changed.
 */
void sys_state_copy(struct sys_state *to, const struct sys_state *from);

/*
 * Gives mc an emulated kernel: state, the syscall hook, and (if vvar_addr
 * is not 0) the initial time published into that vvar page.  0 or -1.
 */
int syscalls_attach(struct machine *mc, uint64_t vvar_addr);

/* Writes the clock's current time into the vvar page, as the kernel's
 * timekeeper does (when there is one). */
void syscalls_publish_time(struct machine *mc);

/* The time the clock shows after `ticks` reads (and slept_ns), in ns since its origin. */
void sys_clock_now(const struct sys_state *s, int monotonic, int64_t *sec, int64_t *nsec);

/* Generic handlers, named by their Linux names, for the arch tables. */
sys_handler sys_write, sys_exit_group, sys_mmap, sys_munmap, sys_mprotect,
	sys_clock_gettime, sys_gettimeofday, sys_rt_sigaction, sys_rt_sigprocmask,
	sys_sigaltstack, sys_rt_sigreturn, sys_getpid, sys_kill, sys_tgkill, sys_cacheflush;

/* The rest of what a minimal Linux gives a Go runtime (sys_linux.c). */
sys_handler sys_read, sys_pread64, sys_open, sys_openat, sys_close, sys_fcntl, sys_brk, sys_madvise,
	sys_mincore, sys_sched_getaffinity, sys_setitimer, sys_timer_create, sys_timer_settime,
	sys_timer_delete, sys_prlimit64, sys_getrlimit, sys_uname, sys_getrandom, sys_tkill,
	sys_pipe2, sys_epoll_create, sys_epoll_create1, sys_epoll_ctl, sys_epoll_wait, sys_epoll_pwait;
/* A write to a pipe (fd not 1 or 2); the ready events of an epoll fd. */
int64_t sys_linux_pipe_write(struct machine *mc, uint64_t fd, uint64_t addr, uint64_t len);
int64_t sys_linux_epoll_collect(struct machine *mc, uint64_t epfd, uint64_t addr, uint64_t max);

/* The one process, as getpid reports it. */
#define SYS_PID 4242

#endif
