/*
 * Process entry, system calls and signal entry/return for the arm guest.
 *
 * These are C-world helpers: they carry no CFI on purpose, because the
 * guest's traceback treats every function with a frame description as a
 * Go function.
 */
	.syntax unified
	.arm

/* void _start(void): the kernel enters with SP at argc, everything else 0
 * or undefined.  guest_main(initial_sp) never returns. */
	.section .text.start, "ax", %progbits
	.globl	_start
	.type	_start, %function
_start:
	mov	fp, #0			/* outermost C frame: end of the fp chain */
	mov	lr, #0			/* and no return address */
	mov	r0, sp			/* initial_sp: argc at 0(r0) */
	bic	sp, sp, #7		/* AAPCS: SP 8-byte aligned at calls */
	bl	guest_main
	udf	#0			/* guest_main returned: trap, do not run on */
	.size	_start, . - _start

	.text

/* long arch_syscall6(long n, long a1, long a2, long a3, long a4, long a5,
 * long a6): n and a1..a3 arrive in r0-r3, a4..a6 on the stack; the EABI
 * kernel wants the number in r7 and the arguments in r0-r5. */
	.globl	arch_syscall6
	.type	arch_syscall6, %function
arch_syscall6:
	push	{r4, r5, r7, lr}	/* r4, r5, r7 are callee-saved in C */
	mov	r7, r0
	mov	r0, r1
	mov	r1, r2
	mov	r2, r3
	ldr	r3, [sp, #16]		/* a4: first stack argument, above the 4 saved words */
	ldr	r4, [sp, #20]		/* a5 */
	ldr	r5, [sp, #24]		/* a6 */
	svc	#0
	pop	{r4, r5, r7, pc}	/* result in r0, -errno on failure */
	.size	arch_syscall6, . - arch_syscall6

/* The sa_handler: the kernel calls it as handler(sig, info, uc) in r0-r2
 * with LR = the sa_restorer (arch_sigreturn).  R10 is whatever the
 * interrupted code had in it (g, or a hostile vDSO's scratch value); the
 * C handler is built with -ffixed-r10 and reads it as it is, and the
 * kernel restores every register from the ucontext on rt_sigreturn. */
	.globl	arch_sigtramp
	.type	arch_sigtramp, %function
arch_sigtramp:
	push	{r4, lr}
	mov	r4, sp			/* r4 survives the C call: the SP to restore */
	bic	sp, sp, #7		/* AAPCS alignment, whatever frame we were given */
	bl	sighandler
	mov	sp, r4			/* back to the kernel's frame: rt_sigreturn reads it at SP */
	pop	{r4, pc}
	.size	arch_sigtramp, . - arch_sigtramp

/* The sa_restorer (SA_RESTORER): the handler returns here. */
	.globl	arch_sigreturn
	.type	arch_sigreturn, %function
arch_sigreturn:
	mov	r7, #173		/* SYS_rt_sigreturn */
	svc	#0
	.size	arch_sigreturn, . - arch_sigreturn

	.section .note.GNU-stack, "", %progbits	/* no executable stack */
