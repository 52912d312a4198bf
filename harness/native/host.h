/*
 * Whether this machine runs an arch's guest images as ordinary processes
 * on its own CPU, found out by trying one -- never assumed from the arch:
 * an x86-64 kernel runs 386 programs only with its IA-32 emulation on
 * (CONFIG_IA32_EMULATION, `ia32_emulation=` on the command line), and
 * gives them its 32-bit vDSO only if it was built with one.
 */
#ifndef SIGSTEP_NATIVE_HOST_H
#define SIGSTEP_NATIVE_HOST_H

#include <stddef.h>

#include "arch_ops.h"

struct host_support {
	int runs;		/* the image ran to a normal exit */
	int kernel_vdso;	/* ... and the kernel announced a vDSO to it */
	char why[200];		/* when it does not run: why, one line */
};

/*
 * Tries `image` (a guest image of ops's arch) on this CPU: only where
 * uname's machine is one of ops->host_machines, then one iteration of
 * its chains with `--vdso auto`.  The answer is kept per arch for the
 * life of the process.  Returns s.
 */
const struct host_support *host_support(const struct arch_ops *ops, const char *image);

#endif
