/*
 * 386 pieces of native injection (fixtures/inject.c): running the chain
 * with the trap flag set, the signal entry of injection's handler, the
 * guard that gets the handler out of a fault, and making patched code
 * visible to instruction fetch.
 *
 * No CFI on purpose, as in start.S: these are C-world code, and the
 * guest's traceback treats every function with an FDE as a Go function.
 */
#include "arch.h"

	.text

/*
 * void inject_step_run(void (*root)(void)): chain_run(root) with EFLAGS.TF
 * set.  POPFL sets TF, so the first SIGTRAP comes after the CALL, at
 * chain_run's first instruction; the handler clears TF in the signal
 * context once the PC is back at inject_step_return, so stepping ends
 * there; the POPFL below only makes sure of it.
 */
	.globl	inject_step_run
	.type	inject_step_run, @function
inject_step_run:
	movl	4(%esp), %eax		/* root */
	subl	$8, %esp		/* 8 + the pushed argument: esp 16-aligned at the CALL */
	pushl	%eax
	pushfl
	orl	$ARCH_EFLAGS_TF, (%esp)
	popfl
	call	chain_run
	.globl	inject_step_return
inject_step_return:
	pushfl
	andl	$~ARCH_EFLAGS_TF, (%esp)
	popfl
	addl	$12, %esp
	ret
	.size	inject_step_run, . - inject_step_run

/*
 * The sa_handler of every injection signal (trap flag, breakpoint,
 * fault): arch_sigtramp's twin, calling inject_signal(sig, info, uc),
 * which for a breakpoint puts the PC back on it before the ordinary
 * handler samples.
 */
	.globl	inject_sigtramp
	.type	inject_sigtramp, @function
inject_sigtramp:
	pushl	%ebp
	movl	%esp, %ebp
	andl	$-16, %esp
	subl	$4, %esp		/* 4 + 3 pushed arguments = 16: aligned at the call */
	pushl	16(%ebp)		/* uc */
	pushl	12(%ebp)		/* info */
	pushl	8(%ebp)			/* sig */
	call	inject_signal
	movl	%ebp, %esp
	popl	%ebp
	ret				/* into arch_sigreturn */
	.size	inject_sigtramp, . - inject_sigtramp

/*
 * int inject_guarded(void (*fn)(int, void *, void *), int sig, void *info, void *uc):
 * fn(sig, info, uc), returning 0; or 1 if a fault inside fn was sent to
 * inject_guard_resume (the fault handler sets the PC there): the C
 * callee-saved registers, SP and the return address kept here bring
 * execution back out of fn, as longjmp would.
 */
	.globl	inject_guarded
	.type	inject_guarded, @function
inject_guarded:
	movl	%ebx, guard+0
	movl	%esi, guard+4
	movl	%edi, guard+8
	movl	%ebp, guard+12
	leal	4(%esp), %eax
	movl	%eax, guard+16		/* SP once returned */
	movl	0(%esp), %eax
	movl	%eax, guard+20		/* the return address */
	pushl	%ebp
	movl	%esp, %ebp		/* fn at 8(%ebp), sig 12, info 16, uc 20 */
	andl	$-16, %esp
	subl	$4, %esp		/* 4 + 3 pushed arguments = 16: aligned at the call */
	pushl	20(%ebp)
	pushl	16(%ebp)
	pushl	12(%ebp)
	call	*8(%ebp)
	movl	%ebp, %esp
	popl	%ebp
	xorl	%eax, %eax
	ret
	.size	inject_guarded, . - inject_guarded

	.globl	inject_guard_resume
	.type	inject_guard_resume, @function
inject_guard_resume:
	movl	guard+0, %ebx
	movl	guard+4, %esi
	movl	guard+8, %edi
	movl	guard+12, %ebp
	movl	guard+16, %esp
	movl	$1, %eax
	jmp	*guard+20
	.size	inject_guard_resume, . - inject_guard_resume

	.local	guard
	.comm	guard, 24, 4

/* void inject_sync_icache(uintptr start, uintptr end): x86 instruction
 * fetch sees stores to code (self-modifying code is coherent). */
	.globl	inject_sync_icache
	.type	inject_sync_icache, @function
inject_sync_icache:
	ret
	.size	inject_sync_icache, . - inject_sync_icache

	.section .note.GNU-stack, "", @progbits
