/*
 * 386 facts for the guest: word size, syscall numbers, the kernel's
 * ucontext layout, and how Go's linux/386 port finds g.
 */
#ifndef SIGSTEP_ARCH_H
#define SIGSTEP_ARCH_H

/* The constants are shared with the assembly (start.S); the C part is not. */
#define ARCH_NAME		"386"
#define ARCH_WORDSIZE		4
#define ARCH_PC_QUANTUM		1	/* variable-length instructions */
#define ARCH_HAS_LR		0	/* CALL pushes the return PC */
#define ARCH_G_IN_REGISTER	0	/* g lives in TLS, out of the vDSO's reach */
#define ARCH_DWARF_SP		4	/* %esp */
#define ARCH_DWARF_RA		8	/* %eip, the CIE's return-address column */

/* asm/unistd_32.h.  mmap is mmap2 (offset in pages; always 0 here). */
#define SYS_exit		1
#define SYS_write		4
#define SYS_getpid		20
#define SYS_kill		37
#define SYS_gettimeofday	78
#define SYS_munmap		91
#define SYS_setitimer		104
#define SYS_mprotect		125
#define SYS_rt_sigreturn	173
#define SYS_rt_sigaction	174
#define SYS_rt_sigprocmask	175
#define SYS_sigaltstack		186
#define SYS_mmap		192	/* __NR_mmap2 */
#define SYS_set_thread_area	243
#define SYS_exit_group		252
#define SYS_clock_gettime	265

/*
 * struct ucontext (asm-generic/ucontext.h, 32-bit words):
 *   uc_flags 0, uc_link 4, uc_stack 8 (ss_sp, ss_flags, ss_size),
 *   uc_mcontext 20 = struct sigcontext (asm/sigcontext.h, the i386 one):
 *   gs/fs/es/ds as 16-bit pairs 0..15, edi 16, esi 20, ebp 24, esp 28,
 *   ebx 32, edx 36, ecx 40, eax 44, trapno 48, err 52, eip 56, cs 60,
 *   eflags 64, esp_at_signal 68, ss 72, fpstate 76, oldmask 80, cr2 84.
 */
#define UC_MCONTEXT_386		20
#define UC_ESP_386		(UC_MCONTEXT_386 + 28)
#define UC_EIP_386		(UC_MCONTEXT_386 + 56)
#define UC_EFLAGS_386		(UC_MCONTEXT_386 + 64)

/*
 * Native injection (fixtures/inject.c, arch/386/inject.S).  EFLAGS.TF
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
	return *(const uintptr *)((const char *)uc + UC_EIP_386);
}

static inline uintptr arch_uc_sp(const void *uc)
{
	return *(const uintptr *)((const char *)uc + UC_ESP_386);
}

static inline uintptr arch_uc_lr(const void *uc)
{
	(void)uc;
	return 0;
}

static inline void arch_uc_set_pc(void *uc, uintptr pc)
{
	*(uintptr *)((char *)uc + UC_EIP_386) = pc;
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
	*(uintptr *)((char *)uc + UC_EFLAGS_386) &= ~(uintptr)ARCH_EFLAGS_TF;
}

/*
 * Go's get_tls/g(CX) on linux/386: GS:0 holds the thread pointer itself
 * (m.tls[1] points at itself), and g is the word below it (m.tls[0]).
 */
static inline struct g *arch_getg(void)
{
	uintptr tp;
	struct g *gp;

	__asm__ volatile("movl %%gs:0, %0" : "=r"(tp));
	gp = *(struct g *const *)(tp - 4);
	return gp;
}

/* start.S: set_thread_area with base tp, then load %gs with its selector. */
void arch_set_thread_pointer(uintptr tp);

#endif /* !__ASSEMBLER__ */
#endif
