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
#define AMD64_SC_EFLAGS		136	/* offsetof(struct sigcontext, eflags) */

/*
 * Native injection (fixtures/inject.c, arch/amd64/inject.S).  EFLAGS.TF
 * raises SIGTRAP after every instruction; INT3 (one byte, 0xCC) raises
 * SIGTRAP with the PC already past it, so the breakpoint's own address is
 * the trap PC minus 1.
 */
#define ARCH_HAS_TRAP_FLAG	1
#define ARCH_EFLAGS_TF		0x100
#define ARCH_BREAK_INSN		0xcc	/* int3, stored little-endian over ARCH_BREAK_INSN_SIZE bytes */
#define ARCH_BREAK_INSN_SIZE	1
#define ARCH_BREAK_PC_OFFSET	1	/* trap PC - breakpoint address */

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

/* Breakpoints on x86 come from single-stepping, never from walking the
 * code (variable-length instructions): no literal pools to find. */
static inline uintptr arch_literal_load(uint32 insn, uintptr pc, uintptr *addr)
{
	(void)insn;
	(void)pc;
	(void)addr;
	return 0;
}

/* sigreturn reloads EFLAGS from here: clearing TF ends single-stepping. */
static inline void arch_uc_clear_trap_flag(void *uc)
{
	*(uintptr *)((char *)uc + AMD64_UC_MCONTEXT + AMD64_SC_EFLAGS) &= ~(uintptr)ARCH_EFLAGS_TF;
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
