/*
 * The ptrace engine: a real Go program (a static binary built by a real Go
 * toolchain) run on this machine's CPU with the kernel's own vDSO, every
 * boundary of one call of a chosen function (the function, the vDSO, what
 * it calls) given a real SIGPROF, judged with the verdicts of the other
 * engines (probe.h).
 *
 *   1. The program runs under ptrace (fork, PTRACE_TRACEME, exec; every
 *      thread traced; GOMAXPROCS=1 unless set; no address randomisation), a breakpoint at `root`'s entry notes its SP, one at
 *      `function`'s entry counts the calls made from within the root's
 *      call (SP at most 16 KiB below the root's: its goroutine, whichever
 *      thread runs it -- goroutines move between threads).
 *   2. At the N-th call every other thread is stopped (SIGSTOP, swallowed
 *      afterwards) and the calling thread is single-stepped until the
 *      call returns.  A shadow stack is kept from what executes: a call
 *      instruction that ran pushes its return address, reaching it with
 *      the caller's SP pops it.  The binary's tables are never read.
 *   3. At each boundary a SIGPROF is injected as the kernel would send one
 *      (si_code SI_USER, which Go's validSIGPROF takes, like a timer's), a
 *      breakpoint on the boundary itself catches the return of the
 *      handler's rt_sigreturn (told apart from the handler running the
 *      same instruction by SP), and one at runtime.(*cpuProfile).add's
 *      entry reads the sample sigprof hands to the profile buffer.
 *   4. The handler's effects are not undone: they are what a profiling
 *      timer's signal at that instruction does to the real program (a
 *      sample in the profile buffer; Go's nanotime1 saves and restores
 *      m.vdsoPC/vdsoSP around the handler's own clock read), the kernel's
 *      rt_sigreturn restores every register, and the program is built to
 *      take SIGPROF anywhere.  The registers are checked to be back.
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
 * read never gets through).  Outside the vDSO every occurrence is judged.  A run is bounded by a time limit and
 * says so when the limit was reached.
 */
#ifndef SIGSTEP_PTRACE_GO_H
#define SIGSTEP_PTRACE_GO_H

#include <stdint.h>
#include <stdio.h>

#include "probe.h"

#define PTRACE_GO_DEFAULT_CALL 200	/* as sigstep go's: well after the profiler is on */

struct ptrace_go_config {
	const char *program;	/* the Go binary */
	const char *function;	/* whose call is stepped: NULL "runtime.nanotime1"; a bare name is the runtime's */
	const char *root;	/* calls count when made within its call: NULL "time.Since" */
	uint64_t call;		/* the N-th call (0: PTRACE_GO_DEFAULT_CALL) */
	unsigned timeout_s;	/* the whole run (0: 60) */
	/* Non-NULL: "boundary PC WHERE VERDICT" per boundary, in execution
	 * order (a vDSO pc as vdso+OFFSET). */
	FILE *boundary_log;
};

struct ptrace_go_stats {
	uint64_t in_function;	/* boundaries in the function itself */
	uint64_t in_vdso;	/* in the kernel's vDSO */
	uint64_t elsewhere;	/* in what the function called (not the vDSO) */
	uint64_t vdso_calls;	/* entries into the vDSO */
	uint64_t vdso_retries;	/* vDSO pcs executed again within one vDSO call */
	uint64_t retry_steps;	/* instructions of those passes, stepped without a signal */
	uint64_t handler_nested;	/* the handler ran a boundary's own instruction */
	uint64_t calls_seen;	/* calls of the function counted (the chosen one last) */
	int limit_reached;	/* the time limit cut the run */
	unsigned limit_s;
	int program_status;	/* the program's exit status; -1 killed / not seen */
};

/*
 * Runs it.  0: ran (res and st filled: res->variant is the program's file
 * name, res->inject "ptrace", res->era_name "real"); 2: unusable input or
 * ptrace refused, err says why in one line.
 */
int ptrace_go_run(const struct ptrace_go_config *cfg, struct probe_result *res, struct ptrace_go_stats *st,
		  char *err, size_t errlen);

#endif
