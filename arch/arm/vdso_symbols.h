/*
 * The vDSO symbols Go looks up on linux/arm (runtime/vdso_linux_arm.go).
 * Macros only: also read by the preprocessor for emulated_vdso/vdso.map.
 */
#ifndef SIGSTEP_VDSO_SYMBOLS_H
#define SIGSTEP_VDSO_SYMBOLS_H

#define VDSO_VERSION		"LINUX_2.6"

/* { name, the word vdso_lookup fills } */
#define VDSO_SYMBOL_KEYS \
	{ "__vdso_clock_gettime", &vdsoClockgettimeSym },

/* arm falls back to the clock_gettime system call (SWI $0): no default. */
#define VDSO_GETTIMEOFDAY_DEFAULT	0UL
#define VDSO_CLOCKGETTIME_DEFAULT	0UL

/* The kernel's arm vDSO has the LINUX_2.6 version node only. */
#define VDSO_HAS_LINUX_2_5	0

#endif
