/*
 * The vDSO symbols Go looks up on linux/386 (runtime/vdso_linux_386.go).
 * Macros only: also read by the preprocessor for emulated_vdso/vdso.map.
 */
#ifndef SIGSTEP_VDSO_SYMBOLS_H
#define SIGSTEP_VDSO_SYMBOLS_H

#define VDSO_VERSION		"LINUX_2.6"

/* { name, the word vdso_lookup fills } */
#define VDSO_SYMBOL_KEYS \
	{ "__vdso_clock_gettime", &vdsoClockgettimeSym },

/* 386 falls back to the clock_gettime system call (INT $0x80): no default. */
#define VDSO_GETTIMEOFDAY_DEFAULT	0UL
#define VDSO_CLOCKGETTIME_DEFAULT	0UL

/* The kernel's 32-bit x86 vDSO also exports __kernel_vsyscall and the
 * signal return trampolines, under LINUX_2.5. */
#define VDSO_HAS_LINUX_2_5	1

#endif
