/*
 * ARM pieces of native injection (fixtures/inject.c): the signal entry of
 * injection's handler, the guard that gets the handler out of a fault, and
 * making patched code visible to instruction fetch.  ARM has no trap flag (ARCH_HAS_TRAP_FLAG 0): inject_step_run
 * only exists so that the generic code links; it runs the chain plainly.
 *
 * No CFI on purpose, as in start.S: these are C-world code, and the
 * guest's traceback treats every function with an FDE as a Go function.
 */
	.syntax unified
	.arm
	.text

/* void inject_step_run(void (*root)(void)): no trap flag to set. */
	.globl	inject_step_run
	.type	inject_step_run, %function
inject_step_run:
	push	{r4, lr}		/* r4 pads: SP stays 8-byte aligned */
	bl	chain_run		/* r0 (root) is chain_run's argument */
	.globl	inject_step_return
inject_step_return:
	pop	{r4, pc}
	.size	inject_step_run, . - inject_step_run

/*
 * The sa_handler of every injection signal (breakpoint, fault):
 * arch_sigtramp's twin, calling inject_signal(sig, info, uc) with
 * (r0, r1, r2) as the kernel gave them.
 */
	.globl	inject_sigtramp
	.type	inject_sigtramp, %function
inject_sigtramp:
	push	{r4, lr}
	mov	r4, sp			/* r4 survives the C call: the SP to restore */
	bic	sp, sp, #7		/* AAPCS alignment, whatever frame we were given */
	bl	inject_signal
	mov	sp, r4
	pop	{r4, pc}		/* into arch_sigreturn */
	.size	inject_sigtramp, . - inject_sigtramp

/*
 * int inject_guarded(void (*fn)(int, void *, void *), int sig, void *info, void *uc):
 * fn(sig, info, uc), returning 0; or 1 if a fault inside fn was sent to
 * inject_guard_resume (the fault handler sets the PC there): the
 * callee-saved registers (r4-r11; r10 is g, kept alike), SP and LR kept
 * here bring execution back out of fn, as longjmp would.
 */
	.globl	inject_guarded
	.type	inject_guarded, %function
inject_guarded:
	ldr	ip, =guard
	stmia	ip, {r4-r11}
	str	sp, [ip, #32]		/* SP once returned: nothing pushed yet */
	str	lr, [ip, #36]		/* the return address */
	push	{r4, lr}
	mov	r4, r0			/* fn; r4 survives the call */
	mov	r0, r1			/* fn(sig, info, uc) */
	mov	r1, r2
	mov	r2, r3
	blx	r4
	mov	r0, #0
	pop	{r4, pc}
	.ltorg
	.size	inject_guarded, . - inject_guarded

	.globl	inject_guard_resume
	.type	inject_guard_resume, %function
inject_guard_resume:
	ldr	ip, =guard
	ldmia	ip, {r4-r11}
	ldr	sp, [ip, #32]
	ldr	lr, [ip, #36]
	mov	r0, #1
	bx	lr
	.ltorg
	.size	inject_guard_resume, . - inject_guard_resume

	.local	guard
	.comm	guard, 40, 4

/*
 * void inject_sync_icache(uintptr start, uintptr end): instruction fetch
 * does not see data stores by itself; the cacheflush system call
 * (__ARM_NR_cacheflush, SYS_cacheflush of arch.h, which is C-only) cleans
 * and invalidates [start, end) to the point of unification.  r7 is
 * callee-saved in the AAPCS, hence saved.
 */
	.globl	inject_sync_icache
	.type	inject_sync_icache, %function
inject_sync_icache:
	push	{r7, lr}
	movw	r7, #0x0002		/* 0x0f0002 = __ARM_NR_BASE + 2 */
	movt	r7, #0x000f
	mov	r2, #0			/* flags: must be 0 */
	svc	#0
	pop	{r7, pc}
	.size	inject_sync_icache, . - inject_sync_icache

	.section .note.GNU-stack, "", %progbits	/* no executable stack */
