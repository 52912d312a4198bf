/*
 * Exported entry points of the synthetic vDSO on 386 (emulated_vdso/).
 * Each is a stub that runs the C implementation with the caller's two
 * stack arguments and applies the register-level knobs of the vvar page
 * (emulated_vdso/vvar.h).  Also the LINUX_2.5 entries the kernel's 32-bit
 * vDSO has (__kernel_vsyscall and the signal return trampolines), so that a
 * lookup has a second version node to tell apart.
 *
 * No CFI: Go never unwinds through the vDSO, and neither does the guest.
 */
#include "vvar.h"

	.hidden	vvar_page
	.hidden	vdso_clock_gettime_c, vdso_gettimeofday_c, vdso_time_c
	.hidden	vdso_syscall_clock_gettime, vdso_syscall_gettimeofday

	.text

#define POISON(dwarfreg)	(VVAR_POISON32 | (dwarfreg))

.macro VDSO_ENTRY name, impl
	.globl	\name
	.type	\name, @function
	.balign	16
\name:
	/* 386 has no PC-relative data addressing: CX (caller-saved) takes
	 * the address of 1: as the base for reaching vvar_page. */
	call	1f
1:	popl	%ecx

	/*
	 * sse_align.  The i386 Linux ABI promises SP+4 is 16-aligned at
	 * entry, so [SP-28, SP-12) is a slot a compiler may spill an XMM
	 * register to with movaps (below the word the CALL above used);
	 * movaps raises #GP (SIGSEGV) when the caller broke the promise.
	 */
	cmpl	$0, vvar_page+VVAR_sse_align-1b(%ecx)
	je	2f
	movaps	%xmm0, -28(%esp)
2:
	/*
	 * A well-behaved vDSO copes with any caller alignment: realign for
	 * the C code.  AX (caller-saved, the result register, not yet
	 * needed) keeps the caller's SP to copy the arguments from.
	 * Frame: 0,4 outgoing arguments; 8 caller's SP; 12-24 callee-saved;
	 * 28 the vvar base again after the call.
	 */
	movl	%esp, %eax
	andl	$~15, %esp
	subl	$32, %esp
	movl	%eax, 8(%esp)
	movl	%ebx, 12(%esp)
	movl	%esi, 16(%esp)
	movl	%edi, 20(%esp)
	movl	%ebp, 24(%esp)
	movl	%ecx, 28(%esp)
	movl	4(%eax), %edx
	movl	%edx, 0(%esp)
	movl	8(%eax), %edx
	movl	%edx, 4(%esp)

	/*
	 * use_callee_saved: poison in BX, SI, DI, BP until the return,
	 * except in whichever the C code uses for itself (it saves and
	 * restores them).  Go's 386 code keeps nothing in them across the
	 * call, but a signal handler sees the caller's values gone.
	 */
	cmpl	$0, vvar_page+VVAR_use_callee_saved-1b(%ecx)
	je	3f
	movl	$POISON(3), %ebx
	movl	$POISON(6), %esi
	movl	$POISON(7), %edi
	movl	$POISON(5), %ebp
3:
	call	\impl

	movl	12(%esp), %ebx
	movl	16(%esp), %esi
	movl	20(%esp), %edi
	movl	24(%esp), %ebp
	movl	28(%esp), %ecx
	movl	8(%esp), %esp

	/* clobber: every caller-saved register but AX, the result. */
	cmpl	$0, vvar_page+VVAR_clobber-1b(%ecx)
	je	4f
	movl	$POISON(1), %ecx
	movl	$POISON(2), %edx
	movd	%ecx, %xmm0
	movd	%ecx, %xmm1
	movd	%ecx, %xmm2
	movd	%ecx, %xmm3
	movd	%ecx, %xmm4
	movd	%ecx, %xmm5
	movd	%ecx, %xmm6
	movd	%ecx, %xmm7
4:
	ret
	.size	\name, .-\name
.endm

/* The kernel's 32-bit x86 LINUX_2.6 names (no unprefixed aliases there). */
VDSO_ENTRY __vdso_clock_gettime, vdso_clock_gettime_c
VDSO_ENTRY __vdso_gettimeofday, vdso_gettimeofday_c
VDSO_ENTRY __vdso_time, vdso_time_c

/* LINUX_2.5, as the kernel's int80 flavour (asm/unistd_32.h numbers). */
	.globl	__kernel_vsyscall
	.type	__kernel_vsyscall, @function
	.balign	16
__kernel_vsyscall:
	int	$0x80
	ret
	.size	__kernel_vsyscall, .-__kernel_vsyscall

	.globl	__kernel_sigreturn
	.type	__kernel_sigreturn, @function
	.balign	16
__kernel_sigreturn:
	popl	%eax			/* drop the signal number, as the kernel's does */
	movl	$119, %eax		/* __NR_sigreturn */
	int	$0x80
	.size	__kernel_sigreturn, .-__kernel_sigreturn

	.globl	__kernel_rt_sigreturn
	.type	__kernel_rt_sigreturn, @function
	.balign	16
__kernel_rt_sigreturn:
	movl	$173, %eax		/* __NR_rt_sigreturn */
	int	$0x80
	.size	__kernel_rt_sigreturn, .-__kernel_rt_sigreturn

/* The kernel's fallback: the system call itself.  BX is callee-saved in
 * the C ABI but carries the first system call argument, hence the push. */
	.globl	vdso_syscall_clock_gettime
	.type	vdso_syscall_clock_gettime, @function
vdso_syscall_clock_gettime:
	pushl	%ebx
	movl	8(%esp), %ebx
	movl	12(%esp), %ecx
	movl	$265, %eax		/* __NR_clock_gettime */
	int	$0x80
	popl	%ebx
	ret
	.size	vdso_syscall_clock_gettime, .-vdso_syscall_clock_gettime

	.globl	vdso_syscall_gettimeofday
	.type	vdso_syscall_gettimeofday, @function
vdso_syscall_gettimeofday:
	pushl	%ebx
	movl	8(%esp), %ebx
	movl	12(%esp), %ecx
	movl	$78, %eax		/* __NR_gettimeofday */
	int	$0x80
	popl	%ebx
	ret
	.size	vdso_syscall_gettimeofday, .-vdso_syscall_gettimeofday

	.section .note.GNU-stack,"",@progbits
