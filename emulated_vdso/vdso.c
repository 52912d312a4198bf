/*
 * The synthetic vDSO: clock_gettime and gettimeofday as the kernel's vDSO
 * offers them, built per architecture into a real ELF shared object
 * (linux-vdso.so.1, version LINUX_2.6) with the kernel's symbol names.
 *
 * The exported symbols are the entry stubs of arch/<arch>/vdso_entry.S,
 * which apply the register knobs and call the functions below.  The time is
 * the one stored in the vvar page, read under its seqlock; clocks other than
 * REALTIME and MONOTONIC go to the system call, as the kernel's fallback
 * does.
 *
 * Position independent with no dynamic relocations: vvar_page is a hidden
 * symbol the linker script places one page below the ELF header, so every
 * access to it is PC-relative.  Freestanding: no libc, nothing the compiler
 * would turn into a call to memset or memcpy.
 */
#include "vvar.h"

#define CLOCK_REALTIME	0
#define CLOCK_MONOTONIC	1

#define NSEC_PER_USEC	1000

/* The kernel's structures for these calls are made of C longs on all three
 * architectures (old_timespec32/old_timeval32 on the 32-bit ones). */
struct vdso_timespec {
	long tv_sec;
	long tv_nsec;
};

struct vdso_timeval {
	long tv_sec;
	long tv_usec;
};

struct vdso_timezone {
	int tz_minuteswest;
	int tz_dsttime;
};

#pragma GCC visibility push(hidden)

extern const volatile struct vvar vvar_page;

/* The system calls, in vdso_entry.S (each arch has its own way in). */
long vdso_syscall_clock_gettime(int clk, struct vdso_timespec *ts);
long vdso_syscall_gettimeofday(struct vdso_timeval *tv, struct vdso_timezone *tz);

/* Called by the entry stubs with the caller's arguments. */
long vdso_clock_gettime_c(int clk, struct vdso_timespec *ts);
long vdso_gettimeofday_c(struct vdso_timeval *tv, struct vdso_timezone *tz);
long vdso_time_c(long *t);
long vdso_getcpu_c(unsigned int *cpu, unsigned int *node, void *unused);

#pragma GCC visibility pop

/*
 * The stack_bytes knob: a frame of n bytes, written from the top down one
 * page at a time (as a stack probe would), so that a stack too small for it
 * faults inside the vDSO.  noinline keeps the frame out of the callers, which
 * would otherwise pay for it on every path.
 */
static __attribute__((noinline)) void use_stack(unsigned int n)
{
	unsigned char frame[n];
	volatile unsigned char *p = frame;
	unsigned int off;

	for (off = 0; off < n; off += VVAR_PAGE_SIZE)
		p[n - 1 - off] = 0;
	p[0] = 0;
}

static void knobs_on_entry(void)
{
	unsigned int n = vvar_page.knobs.stack_bytes;

	if (n != 0)
		use_stack(n);
}

/*
 * Reads one clock under the seqlock: wait while the timekeeper is writing
 * (seq odd), read, and start over if seq moved meanwhile.  The fences order
 * the data reads between the two reads of seq (a compiler barrier on x86,
 * dmb on arm), as the kernel's vdso_read_begin/vdso_read_retry do.
 */
static void read_clock(int clk, long long *sec, long long *nsec)
{
	const volatile struct vvar *v = &vvar_page;
	unsigned int seq;

	do {
		while ((seq = v->seq) & 1)
			;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (clk == CLOCK_REALTIME) {
			*sec = v->realtime_sec;
			*nsec = v->realtime_nsec;
		} else {
			*sec = v->mono_sec;
			*nsec = v->mono_nsec;
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while (v->seq != seq);
}

long vdso_clock_gettime_c(int clk, struct vdso_timespec *ts)
{
	long long sec, nsec;

	knobs_on_entry();
	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC)
		return vdso_syscall_clock_gettime(clk, ts);
	read_clock(clk, &sec, &nsec);
	ts->tv_sec = (long)sec;
	ts->tv_nsec = (long)nsec;
	return 0;
}

long vdso_gettimeofday_c(struct vdso_timeval *tv, struct vdso_timezone *tz)
{
	long long sec, nsec;

	knobs_on_entry();
	if (tv != 0) {
		read_clock(CLOCK_REALTIME, &sec, &nsec);
		tv->tv_sec = (long)sec;
		/* nsec < 10^9 fits 32 bits: a 32-bit division by a constant
		 * needs no libgcc helper on the 32-bit architectures. */
		tv->tv_usec = (long)((unsigned int)nsec / NSEC_PER_USEC);
	}
	if (tz != 0) {
		/* The kernel reports its sys_tz; ours is UTC. */
		tz->tz_minuteswest = 0;
		tz->tz_dsttime = 0;
	}
	return 0;
}

long vdso_time_c(long *t)
{
	long long sec, nsec;

	knobs_on_entry();
	read_clock(CLOCK_REALTIME, &sec, &nsec);
	if (t != 0)
		*t = (long)sec;
	return (long)sec;
}

long vdso_getcpu_c(unsigned int *cpu, unsigned int *node, void *unused)
{
	(void)unused;
	knobs_on_entry();
	if (cpu != 0)
		*cpu = 0;
	if (node != 0)
		*node = 0;
	return 0;
}
