/*
 * Exported entry points of the synthetic vDSO on arm (emulated_vdso/).
 * Each is a stub that runs the C implementation with the caller's
 * arguments (AAPCS: R0, R1 untouched on the way in) and applies the
 * register-level knobs of the vvar page (emulated_vdso/vvar.h).
 *
 * A32 code, called with BL/BLX and left with BX LR.  No CFI: Go never
 * unwinds through the vDSO, and neither does the guest.
 */
#include "vvar.h"

	.syntax	unified
	.arm
	.fpu	vfpv3-d16

	.hidden	vvar_page
	.hidden	vdso_clock_gettime_c, vdso_gettimeofday_c
	.hidden	vdso_syscall_clock_gettime, vdso_syscall_gettimeofday

	.text

/* movw/movt: a constant without a literal pool. */
.macro POISON reg, dwarfreg
	movw	\reg, #(\dwarfreg)
	movt	\reg, #(VVAR_POISON32 >> 16)
.endm

/* \reg = &vvar_page, PC-relative: the literal 8: of each entry holds
 * vvar_page's distance from the entry's first instruction. */
.macro VVAR reg, tmp, entry
	ldr	\tmp, 8f
	adr	\reg, \entry
	add	\reg, \reg, \tmp
.endm

.macro VDSO_ENTRY name, impl
	.globl	\name
	.type	\name, %function
	.balign	8
\name:
	/*
	 * A well-behaved vDSO copes with any caller alignment: AAPCS wants
	 * SP 8-aligned at calls.  R12 (IP, the scratch register AAPCS gives
	 * every call) carries the caller's SP across the realignment and is
	 * saved with R4-R11 and LR: ten words keep the 8-byte alignment.
	 */
	mov	ip, sp
	bic	sp, sp, #7
	push	{r4-r12, lr}

	/*
	 * use_callee_saved: poison in R4-R11 until the return, except in
	 * whichever the C code uses for itself (it saves and restores them).
	 * R10 is Go's g, and the C code leaves it alone: this is the vDSO of
	 * Go issue 32912, under which a signal handler that takes g from R10
	 * reads garbage.
	 */
	VVAR	ip, lr, \name		/* LR is saved: free until the call */
	ldr	ip, [ip, #VVAR_use_callee_saved]
	cmp	ip, #0
	beq	2f
	POISON	r4, 4
	POISON	r5, 5
	POISON	r6, 6
	POISON	r7, 7
	POISON	r8, 8
	POISON	r9, 9
	POISON	r10, 10
	POISON	r11, 11
2:
	bl	\impl

	pop	{r4-r12, lr}
	mov	sp, ip

	/*
	 * clobber: every caller-saved register but R0, the result: R1-R3,
	 * IP, the VFP registers AAPCS lets a callee clobber (d0-d7), and LR,
	 * which is poisoned after the return address is parked on the stack
	 * and popped straight into PC.
	 */
	VVAR	r1, r2, \name
	ldr	r1, [r1, #VVAR_clobber]
	cmp	r1, #0
	bxeq	lr
	str	lr, [sp, #-8]!
	POISON	r1, 1
	POISON	r2, 2
	POISON	r3, 3
	POISON	ip, 12
	POISON	lr, 14
	vmov	d0, r1, r1
	vmov	d1, r1, r1
	vmov	d2, r1, r1
	vmov	d3, r1, r1
	vmov	d4, r1, r1
	vmov	d5, r1, r1
	vmov	d6, r1, r1
	vmov	d7, r1, r1
	ldr	pc, [sp], #8
	.balign	4
8:	.word	vvar_page - \name
	.size	\name, .-\name
.endm

/* The kernel's arm names (arch/arm/vdso/vdso.lds.S). */
VDSO_ENTRY __vdso_clock_gettime, vdso_clock_gettime_c
VDSO_ENTRY __vdso_gettimeofday, vdso_gettimeofday_c

/* The kernel's fallback: the system call itself (EABI: number in R7, which
 * is callee-saved in the C ABI, hence the push). */
	.globl	vdso_syscall_clock_gettime
	.type	vdso_syscall_clock_gettime, %function
vdso_syscall_clock_gettime:
	push	{r7, lr}
	movw	r7, #263		/* __NR_clock_gettime */
	svc	#0
	pop	{r7, pc}
	.size	vdso_syscall_clock_gettime, .-vdso_syscall_clock_gettime

	.globl	vdso_syscall_gettimeofday
	.type	vdso_syscall_gettimeofday, %function
vdso_syscall_gettimeofday:
	push	{r7, lr}
	mov	r7, #78			/* __NR_gettimeofday */
	svc	#0
	pop	{r7, pc}
	.size	vdso_syscall_gettimeofday, .-vdso_syscall_gettimeofday

	.section .note.GNU-stack,"",%progbits
