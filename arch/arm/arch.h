/*
 * Facts about 32-bit ARM (EABI, A32 code) that the generic guest code needs.
 *
 * g is R10, as in Go's linux/arm port (REGG).  All C code is compiled with
 * -ffixed-r10, so C never allocates it: R10 holds g in C and in the
 * Go-style code alike, and a signal handler reads the interrupted g from it
 * (unless a hostile vDSO has used R10 as scratch: ARCH_G_IN_REGISTER).
 */
#ifndef SIGSTEP_ARCH_H
#define SIGSTEP_ARCH_H

#include "runtime.h"

#define ARCH_NAME		"arm"
#define ARCH_WORDSIZE		4
#define ARCH_PC_QUANTUM		4	/* A32: every instruction is one word */
#define ARCH_HAS_LR		1	/* at entry the return address is in LR, not on the stack */
#define ARCH_G_IN_REGISTER	1
#define ARCH_DWARF_SP		13	/* r13 */
#define ARCH_DWARF_RA		14	/* lr: the return-address column of GNU as's ARM CIE */

/* EABI system call numbers (asm/unistd-eabi.h, __NR_SYSCALL_BASE = 0). */
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
#define SYS_mmap		192	/* mmap2: offset in pages, always 0 here */
#define SYS_exit_group		248
#define SYS_clock_gettime	263
#define SYS_cacheflush		0x0f0002	/* __ARM_NR_cacheflush = __ARM_NR_BASE (0x0f0000) + 2 */

/*
 * Where the kernel's ucontext keeps the interrupted registers.
 * struct ucontext (arch/arm/include/asm/ucontext.h):
 *	unsigned long uc_flags; struct ucontext *uc_link; stack_t uc_stack
 *	(3 words); struct sigcontext uc_mcontext; ...
 * struct sigcontext (uapi asm/sigcontext.h):
 *	trap_no, error_code, oldmask, arm_r0 .. arm_r10, arm_fp, arm_ip,
 *	arm_sp, arm_lr, arm_pc, arm_cpsr, fault_address (all unsigned long).
 */
#define ARM_UC_MCONTEXT		20	/* offsetof(struct ucontext, uc_mcontext) */
#define ARM_SC_R10		52	/* offsetof(struct sigcontext, arm_r10) */
#define ARM_SC_SP		64	/* offsetof(struct sigcontext, arm_sp) */
#define ARM_SC_LR		68	/* offsetof(struct sigcontext, arm_lr) */
#define ARM_SC_PC		72	/* offsetof(struct sigcontext, arm_pc) */
#define ARM_SC_CPSR		76	/* offsetof(struct sigcontext, arm_cpsr) */

/*
 * Native injection (fixtures/inject.c, arch/arm/inject.S).  No trap flag:
 * only breakpoints.  The breakpoint is UDF #16 (0xe7f001f0), the
 * instruction Linux itself plants for ARM breakpoints: its undef hook
 * turns it into SIGTRAP, and qemu-arm 7.2 does the same (SIGILL, where
 * nothing claims the instruction, is handled alike).  The PC is on the
 * instruction, so no PC correction is needed.
 */
#define ARCH_HAS_TRAP_FLAG	0
#define ARCH_BREAK_INSN		0xe7f001f0u	/* udf #16, stored little-endian */
#define ARCH_BREAK_INSN_SIZE	4
#define ARCH_BREAK_PC_OFFSET	0	/* trap PC - breakpoint address */

static inline uintptr *arm_uc_reg(const void *uc, unsigned sc_offset)
{
	return (uintptr *)((char *)(uintptr)uc + ARM_UC_MCONTEXT + sc_offset);
}

static inline uintptr arch_uc_pc(const void *uc)
{
	return *arm_uc_reg(uc, ARM_SC_PC);
}

static inline uintptr arch_uc_sp(const void *uc)
{
	return *arm_uc_reg(uc, ARM_SC_SP);
}

static inline uintptr arch_uc_lr(const void *uc)
{
	return *arm_uc_reg(uc, ARM_SC_LR);
}

/* Every guest function is A32 code, so the CPSR T bit needs no change. */
static inline void arch_uc_set_pc(void *uc, uintptr pc)
{
	*arm_uc_reg(uc, ARM_SC_PC) = pc;
}

/*
 * Data in the code: breakpoints are planted by walking a function's words
 * (A32: one instruction per word), and the literal pools between them
 * must be left alone.  A pool word is only ever read by a PC-relative
 * load, so the loads tell where the pools are.  If the instruction word
 * `insn` at `pc` is one (LDR/LDRB, LDRH/LDRSB/LDRSH/LDRD, VLDR with base
 * PC), returns how many bytes it reads and sets *addr; else 0.  The PC
 * reads as the instruction's address + 8.
 */
static inline uintptr arch_literal_load(uint32 insn, uintptr pc, uintptr *addr)
{
	uintptr base = pc + 8;
	int up = (insn >> 23) & 1;
	uintptr off;

	if ((insn & 0x0f3f0000u) == 0x051f0000u) {		/* LDR{B} Rt, [PC, #+-imm12] */
		off = insn & 0xfff;
		*addr = up ? base + off : base - off;
		return 4;
	}
	if ((insn & 0x0f7f0090u) == 0x015f0090u && (insn & 0x60)) {	/* LDRH/LDRSB/LDRSH literal */
		off = ((insn >> 4) & 0xf0) | (insn & 0xf);
		*addr = up ? base + off : base - off;
		return 4;
	}
	if ((insn & 0x0f7f00f0u) == 0x014f00d0u) {		/* LDRD Rt, Rt2, [PC, #+-imm8] */
		off = ((insn >> 4) & 0xf0) | (insn & 0xf);
		*addr = up ? base + off : base - off;
		return 8;
	}
	if ((insn & 0x0f3f0e00u) == 0x0d1f0a00u) {		/* VLDR Sd/Dd, [PC, #+-imm8*4] */
		off = (insn & 0xff) * 4;
		base &= ~(uintptr)3;
		*addr = up ? base + off : base - off;
		return (insn & 0x100) ? 8 : 4;
	}
	return 0;
}

/* No trap flag on ARM: nothing to clear. */
static inline void arch_uc_clear_trap_flag(void *uc)
{
	(void)uc;
}

static inline struct g *arch_getg(void)
{
	struct g *gp;
	__asm__ volatile("mov %0, r10" : "=r"(gp));
	return gp;
}

/* Go's linux/arm finds g in R10, never through the thread pointer: nothing
 * to set (chain_run loads R10 from chain.g). */
static inline void arch_set_thread_pointer(uintptr tp)
{
	(void)tp;
}

#endif
