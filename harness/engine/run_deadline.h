#ifndef SIGSTEP_RUN_DEADLINE_H
#define SIGSTEP_RUN_DEADLINE_H

#include <stdint.h>
#include <unicorn/unicorn.h>

/*
 * A machine's time limit on its runs, kept by one thread for the
 * machine's life instead of Unicorn's: uc_emu_start given a timeout
 * starts a thread of its own at every call, which wakes every few
 * microseconds to look at the clock.  This one sleeps on a condition
 * variable until the deadline, then calls uc_emu_stop on the engine
 * that is running (what Unicorn's thread does from its own thread).
 */
struct run_deadline;

/* Before a run of `uc` that may last `timeout_us` from now (the thread
 * starts at the first): 0, or -1 if the thread cannot be started. */
int run_deadline_begin(struct run_deadline **rd, uc_engine *uc, uint64_t timeout_us);
/* After it: 1 if the deadline stopped it, else 0. */
int run_deadline_end(struct run_deadline *rd);
/* Ends the thread (NULL: nothing). */
void run_deadline_free(struct run_deadline *rd);

#endif
