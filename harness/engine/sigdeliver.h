/*
 * Signal delivery as Linux does it, into an emulated process: the
 * handler rt_sigaction recorded runs on the stack sigaltstack and
 * SA_ONSTACK choose, with the arch's rt frame and the signal blocked,
 * until its restorer's rt_sigreturn puts every register back.
 */
#ifndef SIGSTEP_SIGDELIVER_H
#define SIGSTEP_SIGDELIVER_H

#include <stdint.h>

#include "machine.h"

/* Linux's uapi values, the same on amd64, 386 and arm. */
#define L_SA_SIGINFO	0x00000004u
#define L_SA_ONSTACK	0x08000000u
#define L_SA_RESTORER	0x04000000u
#define L_SA_NODEFER	0x40000000u
#define L_SIGURG	23
#define L_SIGPROF	27

enum deliver_result {
	DELIVER_OK,		/* the handler is about to run */
	DELIVER_IGNORED,	/* SIG_DFL or SIG_IGN: nothing to run (the default action is not emulated) */
	DELIVER_BLOCKED,	/* in the mask: Linux would leave it pending */
	DELIVER_FAULT,		/* the frame could not be written (Linux: SIGSEGV) */
	DELIVER_UNSUPPORTED,	/* no frame code for this arch, or no SA_RESTORER */
};

/* Makes the next instruction the handler's first, as if `sig` arrived at
 * the current PC. */
enum deliver_result engine_deliver_signal(struct machine *mc, int sig);

enum handler_result {
	HANDLER_RETURNED,	/* rt_sigreturn ran: registers are the frame's again */
	HANDLER_EXITED,		/* the process called exit_group */
	HANDLER_FAULT,		/* mc->fault says what */
	HANDLER_BUDGET,		/* max_insns ran out first */
};

/* The handler run itself is the probe's (probe_run_handler, probe.h):
 * one implementation, with the probe's hooks. */

#endif
