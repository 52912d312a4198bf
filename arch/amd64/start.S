/*
 * amd64 entry points of the C world: process entry, raw system calls,
 * the signal entry stub and its restorer.
 *
 * None of these has CFI on purpose: the guest's traceback treats every
 * function with an FDE as a Go function, and these are not.
 */
#include "arch.h"

	.section .text.start, "ax", @progbits

/* void _start(void): the kernel leaves argc at 0(%rsp), 16-byte aligned. */
	.globl	_start
	.type	_start, @function
_start:
	xorl	%ebp, %ebp		/* ABI: rbp = 0 marks the outermost frame */
	movq	%rsp, %rdi		/* guest_main(initial_sp) */
	andq	$-16, %rsp		/* the CALL then leaves rsp+8 16-aligned, as C expects */
	call	guest_main
	hlt				/* guest_main never returns */
	.size	_start, . - _start

	.text

/* long arch_syscall6(long n, long a1, long a2, long a3, long a4, long a5, long a6) */
	.globl	arch_syscall6
	.type	arch_syscall6, @function
arch_syscall6:
	movq	%rdi, %rax		/* number */
	movq	%rsi, %rdi
	movq	%rdx, %rsi
	movq	%rcx, %rdx
	movq	%r8, %r10		/* the kernel takes a4 in r10: SYSCALL clobbers rcx */
	movq	%r9, %r8
	movq	8(%rsp), %r9		/* a6, the seventh C argument, is on the stack */
	syscall
	ret
	.size	arch_syscall6, . - arch_syscall6

/* void arch_set_thread_pointer(uintptr tp): FS base = tp, so g is at %fs:-8. */
	.globl	arch_set_thread_pointer
	.type	arch_set_thread_pointer, @function
arch_set_thread_pointer:
	movq	%rdi, %rsi
	movl	$ARCH_SET_FS, %edi
	movl	$SYS_arch_prctl, %eax
	syscall
	ret
	.size	arch_set_thread_pointer, . - arch_set_thread_pointer

/*
 * The sa_handler: the kernel enters with (sig, info, uc) in rdi, rsi, rdx
 * and the restorer's address at 0(%rsp).  Linux leaves rsp+8 16-aligned,
 * but an emulated delivery need not, so align explicitly.  Every register
 * may be clobbered here: rt_sigreturn reloads them all from uc.
 */
	.globl	arch_sigtramp
	.type	arch_sigtramp, @function
arch_sigtramp:
	movq	%rsp, %rbx		/* entry SP; rbx is unchanged by C code */
	andq	$-16, %rsp
	call	sighandler
	movq	%rbx, %rsp
	ret				/* into arch_sigreturn */
	.size	arch_sigtramp, . - arch_sigtramp

/* The SA_RESTORER: the frame the kernel built is at rsp; rt_sigreturn(). */
	.globl	arch_sigreturn
	.type	arch_sigreturn, @function
arch_sigreturn:
	movl	$SYS_rt_sigreturn, %eax
	syscall
	hlt				/* rt_sigreturn does not return */
	.size	arch_sigreturn, . - arch_sigreturn

	.section .note.GNU-stack, "", @progbits
