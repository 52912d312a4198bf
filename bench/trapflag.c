/*
 * The reference figure for sigstep's speed: how many instruction
 * boundaries per second the host CPU itself can visit with real signals,
 * by single-stepping with the x86 trap flag (EFLAGS.TF: one SIGTRAP after
 * every instruction) over a loop and counting the traps in the handler.
 *
 *   bench-trapflag [LOOP_ITERATIONS]     (default 100000)
 *
 * Prints traps, seconds and traps/s.  x86-64 host only (built where the
 * host is one).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile unsigned long traps;

static void on_trap(int sig, siginfo_t *info, void *uc)
{
	(void)sig, (void)info, (void)uc;
	traps++;
}

/* TF set by popf takes effect after the next instruction; the loop body is
 * 3 instructions (dec, jnz, plus the nop) per iteration. */
static void stepped_loop(unsigned long n)
{
	__asm__ volatile(
		"pushfq\n\t"
		"orq $0x100, (%%rsp)\n\t"
		"popfq\n\t"
		"1:\n\t"
		"nop\n\t"
		"decq %0\n\t"
		"jnz 1b\n\t"
		"pushfq\n\t"
		"andq $~0x100, (%%rsp)\n\t"
		"popfq\n\t"
		: "+r"(n) : : "cc", "memory");
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], 0, 10) : 100000;
	struct sigaction sa;
	struct timespec t0, t1, c0, c1;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	if (n == 0 || sigaction(SIGTRAP, &sa, 0)) {
		fprintf(stderr, "bench-trapflag: usage: bench-trapflag [LOOP_ITERATIONS > 0]\n");
		return 2;
	}
	/* The process's CPU clock counts the kernel's delivery of every trap
	 * too: the rate per CPU second is what the probe's is compared with. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	stepped_loop(n);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	double c = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	printf("trap-flag single-stepping (native, real SIGTRAP): %lu traps in %.3f s = %.0f boundaries/s; "
	       "%.3f s of CPU = %.0f per CPU second\n",
	       (unsigned long)traps, s, (double)traps / s, c, (double)traps / c);
	return traps >= 3 * n ? 0 : 1;
}
