/*
 * The native engine for real Go programs: a static binary built by a real
 * Go toolchain, run as a real process, every boundary of one call of a
 * chosen function (the function, the vDSO if there is one, what it calls)
 * given a real SIGPROF, judged with the verdicts of the other engines
 * (probe.h).  One engine, two ways of driving the process (the backends):
 *
 *   ptrace  (ptrace_go.c) the host CPU, the kernel's own vDSO;
 *   qemu    (qemu_go.c)   qemu-user's gdbstub (the gdb remote protocol,
 *           gdb_remote.c): qemu gives no vDSO, so the call takes the
 *           fallback path (the system call).
 *
 *   1. The program runs under the backend (GOMAXPROCS=1 unless set; fixed
 *      addresses), a breakpoint at `root`'s entry notes its SP (one at its
 *      return address says when its call is over), one at `function`'s
 *      entry counts the calls made while the root's call is in progress
 *      (SP at most 16 KiB below the root's: its goroutine, whichever
 *      thread runs it -- goroutines move between threads).
 *   2. At the N-th call the backend holds every other thread (ptrace:
 *      SIGSTOP; qemu: from the root's first call on, under the host's
 *      ptrace on qemu's own threads, since its gdbstub cannot) and the
 *      calling thread is single-stepped until the call returns.  A shadow stack is kept from
 *      what executes: a call instruction that ran pushes its return
 *      address, reaching it with the caller's SP pops it.  The binary's
 *      tables are never read.
 *   3. At each boundary a SIGPROF is injected as the kernel would send one
 *      (ptrace: si_code SI_USER; qemu: the stop's own siginfo, si_code
 *      TRAP_BRKPT -- Go's validSIGPROF takes both, as it takes a timer's),
 *      a breakpoint on the boundary itself catches the return of the
 *      handler's rt_sigreturn (told apart from the handler running the
 *      same instruction by SP), and one at runtime.(*cpuProfile).add's
 *      entry reads the sample sigprof hands to the profile buffer.
 *   4. The handler's effects are not undone: they are what a profiling
 *      timer's signal at that instruction does to the real program (a
 *      sample in the profile buffer; Go's nanotime1 saves and restores
 *      m.vdsoPC/vdsoSP around the handler's own clock read), rt_sigreturn
 *      restores every register, and the program is built to take SIGPROF
 *      anywhere.  The registers are checked to be back.
 *   5. After the call every breakpoint is removed, every thread resumed,
 *      and the program must exit 0 (the run's invariant).
 *
 * The truth covers what was seen to execute: the frames from the call's
 * entry inward and the call's return address; frames of the sample beyond
 * that are not judged (their callers ran before stepping began).
 *
 * Boundaries are keyed by (pc, occurrence): the kernel's vDSO may retry
 * its seqlock read while single-stepping (the clock's update sees a slow
 * reader); retries are counted, and a pass that repeats vDSO pcs already
 * judged in the same vDSO call is stepped without signals (with a handler
 * at every boundary a pass outlasts the clock's update interval, and the
 * read never gets through).  Outside the vDSO every occurrence is judged.
 * A run is bounded by a time limit and says so when the limit was reached.
 */
#ifndef SIGSTEP_GO_ENGINE_H
#define SIGSTEP_GO_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "probe.h"

#define GO_ENGINE_DEFAULT_CALL 200	/* as sigstep go's: well after the profiler is on */
#define GO_ENGINE_REGS_MAX 2048		/* the largest register block a backend reads */

struct arch_ops;
struct ptrace_arch;

struct go_engine_config {
	const char *program;	/* the Go binary */
	const char *function;	/* whose call is stepped: NULL "runtime.nanotime1"; a bare name is the runtime's */
	const char *root;	/* calls count when made within its call: NULL "time.Since" */
	uint64_t call;		/* the N-th call (0: GO_ENGINE_DEFAULT_CALL) */
	unsigned timeout_s;	/* the whole run (0: 60) */
	/* Non-NULL: "boundary PC WHERE VERDICT" per boundary, in execution
	 * order (a vDSO pc as vdso+OFFSET). */
	FILE *boundary_log;
};

struct go_engine_stats {
	uint64_t in_function;	/* boundaries in the function itself */
	uint64_t in_vdso;	/* in the vDSO */
	uint64_t elsewhere;	/* in what the function called (not the vDSO) */
	uint64_t vdso_calls;	/* entries into the vDSO */
	uint64_t vdso_retries;	/* vDSO pcs executed again within one vDSO call */
	uint64_t retry_steps;	/* instructions of those passes, stepped without a signal */
	uint64_t handler_nested;	/* the handler ran a boundary's own instruction */
	uint64_t empty_steps;	/* steps that ran nothing, stepped again */
	uint64_t calls_seen;	/* calls of the function counted (the chosen one last) */
	uint64_t foreign_stops;	/* stops of threads the backend could not hold (qemu) */
	uint64_t threads_held;	/* qemu: the emulator's other guest threads held under host ptrace */
	int threads_unheld;	/* qemu: host ptrace refused, the other threads ran on */
	int limit_reached;	/* the time limit cut the run */
	unsigned limit_s;
	int program_status;	/* the program's exit status; -1 killed / not seen */
	int has_vdso;		/* the process had a vDSO */
	const char *backend;	/* "ptrace" or "qemu" */
	char emulator[32];	/* "host" or the qemu-user binary */
};

/* What stopped. */
enum go_stop_kind {
	GO_STOP_TRAP,		/* a single step or a breakpoint */
	GO_STOP_SIGNAL,		/* a signal on its way to the program (sig: the host's number) */
	GO_STOP_EXITED,		/* the program ended (status: its exit status, -1 killed) */
	GO_STOP_DEADLINE,	/* nothing before the deadline */
	GO_STOP_ERROR,
};

struct go_stop {
	enum go_stop_kind kind;
	long tid;
	int sig;
	int status;
};

/*
 * How the engine drives the process.  Registers are the backend's own
 * block (regs_size bytes), read through pc/sp/reg; `reg` takes gdb's
 * register numbers (arch/<arch>/ptrace.c), whatever the block is.
 */
struct go_backend {
	const char *name;
	void *ctx;
	size_t regs_size;
	unsigned bp_size;		/* bytes a breakpoint writes over the code (0: none, the emulator's own) */
	unsigned trap_pc_after;		/* after a breakpoint's trap the pc is this far past it */
	/* The backend cannot take two threads' stops at once: the other
	 * threads are held from the root's first entry on (hold_others at
	 * each), and the function's breakpoint set only then. */
	int hold_from_root;
	uint64_t (*pc)(void *ctx, const void *regs);
	uint64_t (*sp)(void *ctx, const void *regs);
	void (*set_pc)(void *ctx, void *regs, uint64_t pc);
	uint64_t (*reg)(void *ctx, const void *regs, int gdb_regno);
	int (*get_regs)(void *ctx, long tid, void *regs);
	int (*set_regs)(void *ctx, long tid, const void *regs);
	int (*mem_read)(void *ctx, uint64_t addr, void *buf, size_t n);
	/* orig: bp_size bytes saved / put back (unused when bp_size is 0). */
	int (*bp_insert)(void *ctx, uint64_t addr, uint8_t *orig);
	int (*bp_remove)(void *ctx, uint64_t addr, const uint8_t *orig);
	/* Resumes tid (continue, or one instruction) with sig (0: none). */
	int (*resume)(void *ctx, long tid, int sig, int step);
	/* The next stop of tid (0: of any thread) before deadline. */
	void (*wait)(void *ctx, long tid, struct go_stop *st, double deadline);
	int (*hold_others)(void *ctx, long tid, double deadline);
	/* Every thread let go (breakpoints are out); the program's exit status,
	 * -1 if it did not exit by the deadline (it is killed). */
	int (*finish)(void *ctx, double deadline);
	void (*kill)(void *ctx);
	/* Where the process's vDSO is; 0, 0 none. */
	void (*vdso)(void *ctx, uint64_t *lo, uint64_t *hi);
	void (*free)(void *ctx);	/* after finish or kill */
};

enum go_emulator { GO_EMULATOR_AUTO, GO_EMULATOR_HOST, GO_EMULATOR_QEMU };

/*
 * Runs it: GO_EMULATOR_HOST the ptrace backend, GO_EMULATOR_QEMU qemu-user's
 * gdbstub, AUTO the host where its CPU runs the program's arch and ptrace
 * is allowed, else qemu.  0: ran (res and st filled: res->variant is the
 * program's file name, res->inject the backend, res->era_name "real");
 * 2: unusable input, or the backend cannot run here; err says why in one
 * line.
 */
int go_engine_run(const struct go_engine_config *cfg, enum go_emulator emulator, struct probe_result *res,
		  struct go_engine_stats *st, char *err, size_t errlen);

/* The backends, started on the program (stopped at its first instruction).
 * 0, or 2 with err; `refused` set when the backend cannot work on this
 * machine at all (AUTO then tries the other). */
int ptrace_backend_start(const char *program, const struct arch_ops *ops, const struct ptrace_arch *pa,
			 double deadline, struct go_backend *be, int *refused, char *err, size_t errlen);
int qemu_backend_start(const char *program, const struct arch_ops *ops, const struct ptrace_arch *pa,
		       double deadline, struct go_backend *be, struct go_engine_stats *st, char *err, size_t errlen);

double go_engine_now(void);

#endif
