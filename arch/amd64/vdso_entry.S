/*
 * Exported entry points of the synthetic vDSO on amd64 (emulated_vdso/).
 * Each is a stub that runs the C implementation with the caller's
 * arguments (SysV ABI: DI, SI, DX untouched on the way in) and applies the
 * register-level knobs of the vvar page (emulated_vdso/vvar.h).
 *
 * No CFI: Go never unwinds through the vDSO, and neither does the guest.
 */
#include "vvar.h"

	.hidden	vvar_page
	.hidden	vdso_clock_gettime_c, vdso_gettimeofday_c, vdso_time_c, vdso_getcpu_c
	.hidden	vdso_syscall_clock_gettime, vdso_syscall_gettimeofday

	.text

#define POISON(dwarfreg)	(VVAR_POISON64 | (dwarfreg))

.macro VDSO_ENTRY name, impl
	.globl	\name
	.type	\name, @function
	.balign	16
\name:
	/*
	 * sse_align.  The ABI promises SP+8 is 16-aligned at entry, so a
	 * compiler may spill an XMM register with movaps just below the
	 * return PC.  [SP-24, SP-8) is such a slot (inside the red zone, so
	 * nothing live is overwritten); movaps raises #GP (SIGSEGV) when the
	 * caller broke the promise.
	 */
	cmpl	$0, vvar_page+VVAR_sse_align(%rip)
	je	1f
	movaps	%xmm0, -24(%rsp)
1:
	/*
	 * A well-behaved vDSO copes with any caller alignment: realign for
	 * the C code.  R11 carries the caller's SP across the realignment:
	 * caller-saved and not an argument register.  The frame keeps it and
	 * the callee-saved registers at fixed offsets from the aligned SP.
	 */
	movq	%rsp, %r11
	andq	$~15, %rsp
	subq	$64, %rsp
	movq	%r11, 56(%rsp)
	movq	%rbx, 0(%rsp)
	movq	%rbp, 8(%rsp)
	movq	%r12, 16(%rsp)
	movq	%r13, 24(%rsp)
	movq	%r14, 32(%rsp)
	movq	%r15, 40(%rsp)

	/*
	 * use_callee_saved: poison in BX, BP, R12-R15 until the return,
	 * except in whichever the C code uses for itself (it saves and
	 * restores them).  Go's R14 (g from Go 1.17 on) is one of them: a
	 * signal handler must not trust it inside the vDSO.
	 */
	cmpl	$0, vvar_page+VVAR_use_callee_saved(%rip)
	je	2f
	movabsq	$POISON(3), %rbx
	movabsq	$POISON(6), %rbp
	movabsq	$POISON(12), %r12
	movabsq	$POISON(13), %r13
	movabsq	$POISON(14), %r14
	movabsq	$POISON(15), %r15
2:
	call	\impl

	movq	0(%rsp), %rbx
	movq	8(%rsp), %rbp
	movq	16(%rsp), %r12
	movq	24(%rsp), %r13
	movq	32(%rsp), %r14
	movq	40(%rsp), %r15
	movq	56(%rsp), %rsp

	/* clobber: every caller-saved register but AX, the result. */
	cmpl	$0, vvar_page+VVAR_clobber(%rip)
	je	3f
	movabsq	$POISON(1), %rdx
	movabsq	$POISON(2), %rcx
	movabsq	$POISON(4), %rsi
	movabsq	$POISON(5), %rdi
	movabsq	$POISON(8), %r8
	movabsq	$POISON(9), %r9
	movabsq	$POISON(10), %r10
	movabsq	$POISON(11), %r11
	movq	%rcx, %xmm0
	movq	%rcx, %xmm1
	movq	%rcx, %xmm2
	movq	%rcx, %xmm3
	movq	%rcx, %xmm4
	movq	%rcx, %xmm5
	movq	%rcx, %xmm6
	movq	%rcx, %xmm7
	movq	%rcx, %xmm8
	movq	%rcx, %xmm9
	movq	%rcx, %xmm10
	movq	%rcx, %xmm11
	movq	%rcx, %xmm12
	movq	%rcx, %xmm13
	movq	%rcx, %xmm14
	movq	%rcx, %xmm15
3:
	ret
	.size	\name, .-\name
.endm

/* The kernel's x86_64 names; the unprefixed ones are weak aliases there too. */
VDSO_ENTRY __vdso_clock_gettime, vdso_clock_gettime_c
VDSO_ENTRY __vdso_gettimeofday, vdso_gettimeofday_c
VDSO_ENTRY __vdso_time, vdso_time_c
VDSO_ENTRY __vdso_getcpu, vdso_getcpu_c

.macro VDSO_ALIAS alias, name
	.weak	\alias
	.type	\alias, @function
	.set	\alias, \name
.endm
VDSO_ALIAS clock_gettime, __vdso_clock_gettime
VDSO_ALIAS gettimeofday, __vdso_gettimeofday
VDSO_ALIAS time, __vdso_time
VDSO_ALIAS getcpu, __vdso_getcpu

/* The kernel's fallback: the system call itself (asm/unistd_64.h numbers). */
	.globl	vdso_syscall_clock_gettime
	.type	vdso_syscall_clock_gettime, @function
vdso_syscall_clock_gettime:
	movl	$228, %eax		/* __NR_clock_gettime; DI, SI as given */
	syscall
	ret
	.size	vdso_syscall_clock_gettime, .-vdso_syscall_clock_gettime

	.globl	vdso_syscall_gettimeofday
	.type	vdso_syscall_gettimeofday, @function
vdso_syscall_gettimeofday:
	movl	$96, %eax		/* __NR_gettimeofday */
	syscall
	ret
	.size	vdso_syscall_gettimeofday, .-vdso_syscall_gettimeofday

	.section .note.GNU-stack,"",@progbits
