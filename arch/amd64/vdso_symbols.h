/*
 * The vDSO symbols Go looks up on linux/amd64 (runtime/vdso_linux_amd64.go),
 * in Go's order: inVDSOPage takes the page of the first one found.
 * Macros only: also read by the preprocessor for emulated_vdso/vdso.map.
 */
#ifndef SIGSTEP_VDSO_SYMBOLS_H
#define SIGSTEP_VDSO_SYMBOLS_H

#define VDSO_VERSION		"LINUX_2.6"

/* { name, the word vdso_lookup fills } */
#define VDSO_SYMBOL_KEYS \
	{ "__vdso_gettimeofday", &vdsoGettimeofdaySym }, \
	{ "__vdso_clock_gettime", &vdsoClockgettimeSym },

/* Until Go 1.16 (the seed included) walltime's fallback called gettimeofday
 * through this word, which defaulted to the legacy vsyscall page
 * (Go issue 41681: it faults where vsyscall is disabled). */
#define VDSO_GETTIMEOFDAY_DEFAULT	0xffffffffff600000UL
#define VDSO_CLOCKGETTIME_DEFAULT	0UL

/* The kernel's x86_64 vDSO has the LINUX_2.6 version node only. */
#define VDSO_HAS_LINUX_2_5	0

#endif
