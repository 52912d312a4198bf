/*
 * amd64 facts for the guest: word size, syscall numbers, where the kernel
 * keeps PC and SP in a signal's ucontext, and how Go finds g.
 * Usable from assembly too (numbers only; the C part is skipped).
 */
#ifndef SIGSTEP_ARCH_H
#define SIGSTEP_ARCH_H

#define ARCH_NAME		"amd64"
#define ARCH_WORDSIZE		8
#define ARCH_PC_QUANTUM		1
#define ARCH_HAS_LR		0	/* CALL pushes the return PC */
#define ARCH_G_IN_REGISTER	0	/* g is read from -8(FS); R14 is a copy */
#define ARCH_DWARF_SP		7	/* rsp */
#define ARCH_DWARF_RA		16	/* rip, the return-address column */

/* asm/unistd_64.h */
#define SYS_write		1
#define SYS_mmap		9
#define SYS_mprotect		10
#define SYS_munmap		11
#define SYS_rt_sigaction	13
#define SYS_rt_sigprocmask	14
#define SYS_rt_sigreturn	15
#define SYS_setitimer		38
#define SYS_getpid		39
#define SYS_kill		62
#define SYS_gettimeofday	96
#define SYS_sigaltstack		131
#define SYS_arch_prctl		158
#define SYS_clock_gettime	228
#define SYS_exit_group		231

#define ARCH_SET_FS		0x1002	/* asm/prctl.h */

/*
 * The third argument of an SA_SIGINFO handler is the kernel's
 * struct ucontext (asm/ucontext.h): uc_flags, uc_link, uc_stack (a 24-byte
 * stack_t), then uc_mcontext, a struct sigcontext (asm/sigcontext.h, the
 * 64-bit layout: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, ...).
 */
#define AMD64_UC_MCONTEXT	40	/* offsetof(struct ucontext, uc_mcontext) */
#define AMD64_SC_RSP		120	/* offsetof(struct sigcontext, rsp) */
#define AMD64_SC_RIP		128	/* offsetof(struct sigcontext, rip) */

#ifndef __ASSEMBLER__

#include "runtime.h"

static inline uintptr arch_uc_pc(const void *uc)
{
	return *(const uintptr *)((const char *)uc + AMD64_UC_MCONTEXT + AMD64_SC_RIP);
}

static inline uintptr arch_uc_sp(const void *uc)
{
	return *(const uintptr *)((const char *)uc + AMD64_UC_MCONTEXT + AMD64_SC_RSP);
}

static inline uintptr arch_uc_lr(const void *uc)
{
	(void)uc;
	return 0;	/* no link register: the return PC is on the stack */
}

static inline void arch_uc_set_pc(void *uc, uintptr pc)
{
	*(uintptr *)((char *)uc + AMD64_UC_MCONTEXT + AMD64_SC_RIP) = pc;
}

/* As Go's get_tls/g(CX) assembles on linux/amd64: MOVQ FS:0xfffffff8, AX. */
static inline struct g *arch_getg(void)
{
	struct g *gp;
	__asm__ volatile("movq %%fs:-8, %0" : "=r"(gp));
	return gp;
}

/* arch_prctl(ARCH_SET_FS, tp), in start.S. */
void arch_set_thread_pointer(uintptr tp);

#endif /* !__ASSEMBLER__ */

#endif
