/*
 * amd64 pieces of native injection (fixtures/inject.c): running the chain
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
 * set.  POPFQ sets TF, so the first SIGTRAP comes after the CALL, at
 * chain_run's first instruction; the handler clears TF in the signal
 * context once the PC is back at inject_step_return, so stepping ends
 * there; the POPFQ below only makes sure of it.
 */
	.globl	inject_step_run
	.type	inject_step_run, @function
inject_step_run:
	subq	$8, %rsp		/* rsp 16-aligned at the CALL, as C expects */
	pushfq
	orq	$ARCH_EFLAGS_TF, (%rsp)
	popfq				/* rdi (root) is untouched: chain_run's argument */
	call	chain_run
	.globl	inject_step_return
inject_step_return:
	pushfq
	andq	$~ARCH_EFLAGS_TF, (%rsp)
	popfq
	addq	$8, %rsp
	ret
	.size	inject_step_run, . - inject_step_run

/*
 * The sa_handler of every injection signal (trap flag, breakpoint,
 * fault): arch_sigtramp's twin, calling inject_signal(sig, info, uc),
 * which for a breakpoint puts the PC back on it before the ordinary
 * handler samples.  rbx is unchanged by C code.
 */
	.globl	inject_sigtramp
	.type	inject_sigtramp, @function
inject_sigtramp:
	movq	%rsp, %rbx
	andq	$-16, %rsp
	call	inject_signal
	movq	%rbx, %rsp
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
	leaq	guard(%rip), %rax
	movq	%rbx, 0(%rax)
	movq	%rbp, 8(%rax)
	movq	%r12, 16(%rax)
	movq	%r13, 24(%rax)
	movq	%r14, 32(%rax)
	movq	%r15, 40(%rax)
	leaq	8(%rsp), %r8
	movq	%r8, 48(%rax)		/* SP once returned */
	movq	0(%rsp), %r8
	movq	%r8, 56(%rax)		/* the return address */
	movq	%rdi, %rax
	movl	%esi, %edi		/* fn(sig, info, uc) */
	movq	%rdx, %rsi
	movq	%rcx, %rdx
	subq	$8, %rsp		/* rsp 16-aligned at the CALL */
	call	*%rax
	addq	$8, %rsp
	xorl	%eax, %eax
	ret
	.size	inject_guarded, . - inject_guarded

	.globl	inject_guard_resume
	.type	inject_guard_resume, @function
inject_guard_resume:
	leaq	guard(%rip), %rax
	movq	0(%rax), %rbx
	movq	8(%rax), %rbp
	movq	16(%rax), %r12
	movq	24(%rax), %r13
	movq	32(%rax), %r14
	movq	40(%rax), %r15
	movq	48(%rax), %rsp
	movl	$1, %eax
	jmp	*56(%rax)
	.size	inject_guard_resume, . - inject_guard_resume

	.local	guard
	.comm	guard, 64, 8

/* void inject_sync_icache(uintptr start, uintptr end): x86 instruction
 * fetch sees stores to code (self-modifying code is coherent). */
	.globl	inject_sync_icache
	.type	inject_sync_icache, @function
inject_sync_icache:
	ret
	.size	inject_sync_icache, . - inject_sync_icache

	.section .note.GNU-stack, "", @progbits
