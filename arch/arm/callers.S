/*
 * The Go-style callers on arm: the chain
 *	goroutine_root | mstart_root -> go_main -> profiled_loop -> time_now
 *		-> walltime / nanotime
 * built the way Go's linux/arm compiler lays out frames (compare time.now
 * in reference/objdump/go1.19-arm.txt):
 *   - a function with a $N frame starts with MOVW.W R14, -(N+4)(R13)
 *     (str lr, [sp, #-(N+4)]!): the saved LR is at 0(R13), the outgoing
 *     argument/result area at 4(R13) upwards;
 *   - it returns with MOVW.P (N+4)(R13), R15 (ldr pc, [sp], #N+4).
 * The CFI says exactly that: CFA = R13 + N+4, LR saved at CFA - (N+4).
 *
 * Nothing lives in a register across a call except R10 (g) and R13: the
 * trampolines may clobber every other register, as Go's ABI0 lets them.
 *
 * chain_run and chain_return are C-world glue and have no CFI: the guest's
 * traceback treats every function with a frame description as Go code.
 */
#include "offsets.h"

/* enum chain_call of runtime.h */
#define CHAIN_WALLTIME	1
#define CHAIN_NANOTIME	2

	.syntax unified
	.arm
	.text

/* void chain_run(void (*root)(void)) - C ABI. */
	.globl	chain_run
	.type	chain_run, %function
chain_run:
	ldr	r1, =chain
	add	r2, r1, #chain_saved_regs
	stmia	r2, {r4-r11}		/* AAPCS callee-saved core registers (d8-d15: Go-style code uses no VFP) */
	push	{r1, lr}		/* LR on the C stack; r1 pads to keep SP 8-byte aligned */
	str	sp, [r1, #chain_saved_sp]
	ldr	r10, [r1, #chain_g]	/* R10 is g for the Go-style code */
	ldr	sp, [r1, #chain_stack_top]
	mov	lr, #0			/* the root is the outermost frame: no return address */
	bx	r0
	.ltorg
	.size	chain_run, . - chain_run

/* Where the roots go when go_main returns: back to chain_run's caller
 * with the C SP and callee-saved registers chain_run kept. */
	.type	chain_return, %function
chain_return:
	ldr	r1, =chain
	ldr	sp, [r1, #chain_saved_sp]
	pop	{r1, lr}
	add	r2, r1, #chain_saved_regs
	ldmia	r2, {r4-r11}
	bx	lr
	.ltorg
	.size	chain_return, . - chain_return

/* The outermost frames.  Like Go's goexit (TOPFRAME|NOFRAME) they have no
 * frame and no caller: the return-address column is undefined, so a
 * traceback ends here, this frame included. */
	.globl	goroutine_root
	.type	goroutine_root, %function
goroutine_root:
	.cfi_startproc
	.cfi_undefined lr
	bl	go_main
	b	chain_return
	.cfi_endproc
	.size	goroutine_root, . - goroutine_root

	.globl	mstart_root
	.type	mstart_root, %function
mstart_root:
	.cfi_startproc
	.cfi_undefined lr
	bl	go_main
	b	chain_return
	.cfi_endproc
	.size	mstart_root, . - mstart_root

/* go_main: $0 frame, calls profiled_loop. */
	.globl	go_main
	.type	go_main, %function
go_main:
	.cfi_startproc
	str	lr, [sp, #-4]!		/* MOVW.W R14, -4(R13) */
	.cfi_adjust_cfa_offset 4
	.cfi_offset lr, -4
	bl	profiled_loop
	ldr	pc, [sp], #4		/* MOVW.P 4(R13), R15 */
	.cfi_endproc
	.size	go_main, . - go_main

/* profiled_loop: $0 frame; the loop counter lives in chain.iter_done
 * (memory: no register survives time_now), so the count is published as
 * it goes.  With this frame R13 is 4 mod 8 when a trampoline reaches its
 * BIC $7 on the g0 path (stack_top is page aligned): the alignment, which
 * the frame tables do not track, really moves R13. */
	.globl	profiled_loop
	.type	profiled_loop, %function
profiled_loop:
	.cfi_startproc
	str	lr, [sp, #-4]!		/* MOVW.W R14, -4(R13) */
	.cfi_adjust_cfa_offset 4
	.cfi_offset lr, -4
	ldr	r1, =chain
	mov	r0, #0
	str	r0, [r1, #chain_iter_done]
.Lloop:
	ldr	r1, =chain		/* reloaded: time_now clobbered r1 */
	ldr	r0, [r1, #chain_iter_done]
	ldr	r2, [r1, #chain_iterations]
	cmp	r0, r2
	bhs	.Ldone
	bl	time_now
	ldr	r1, =chain
	ldr	r0, [r1, #chain_iter_done]
	add	r0, r0, #1
	str	r0, [r1, #chain_iter_done]
	b	.Lloop
.Ldone:
	ldr	pc, [sp], #4		/* MOVW.P 4(R13), R15 */
	.ltorg
	.cfi_endproc
	.size	profiled_loop, . - profiled_loop

/* time_now: $12 frame; 4(R13)..15(R13) is the result area of the callee:
 * walltime leaves sec (int64) at 4 and nsec (int32) at 12, nanotime its
 * int64 at 4. */
	.globl	time_now
	.type	time_now, %function
time_now:
	.cfi_startproc
	str	lr, [sp, #-16]!		/* MOVW.W R14, -16(R13) */
	.cfi_adjust_cfa_offset 16
	.cfi_offset lr, -16
	ldr	r0, =chain
	ldr	r1, [r0, #chain_calls]
	tst	r1, #CHAIN_WALLTIME
	beq	.Lnowall
	bl	walltime
	ldr	r0, =chain		/* reloaded: walltime clobbered r0-r9, r11 */
	ldr	r1, [sp, #4]		/* sec, low word */
	ldr	r2, [sp, #8]		/* sec, high word */
	ldr	r3, [sp, #12]		/* nsec */
	str	r1, [r0, #chain_wall_sec]
	str	r2, [r0, #chain_wall_sec+4]
	str	r3, [r0, #chain_wall_nsec]
	ldr	r1, [r0, #chain_calls]
.Lnowall:
	tst	r1, #CHAIN_NANOTIME
	beq	.Lnomono
	bl	nanotime
	ldr	r0, =chain
	ldr	r1, [sp, #4]		/* low word */
	ldr	r2, [sp, #8]		/* high word */
	str	r1, [r0, #chain_mono_nsec]
	str	r2, [r0, #chain_mono_nsec+4]
.Lnomono:
	ldr	pc, [sp], #16		/* MOVW.P 16(R13), R15 */
	.ltorg
	.cfi_endproc
	.size	time_now, . - time_now

/*
 * int64 arch_call_nanotime(struct g *gp), C ABI: the signal handler's clock
 * read through this image's nanotime (Go's handler reads the clock too),
 * with R10 = gp (m.gsignal, as Go's sigtrampgo sets g).  The trampolines
 * clobber every register but R10 and R13, so the AAPCS callee-saved ones
 * and R10 are saved (r12 pads the push to keep SP 8-byte aligned).
 * nanotime's result is at 4(R13) from its entry, LR its return address.
 * C-world code: no CFI.
 */
	.globl	arch_call_nanotime
	.type	arch_call_nanotime, %function
arch_call_nanotime:
	push	{r4-r12, lr}
	mov	r10, r0			/* g for the Go-style code */
	sub	sp, sp, #16		/* ret+0(FP) at 4(R13) */
	bl	nanotime
	ldr	r0, [sp, #4]		/* low word */
	ldr	r1, [sp, #8]		/* high word */
	add	sp, sp, #16
	pop	{r4-r12, pc}
	.size	arch_call_nanotime, . - arch_call_nanotime

/*
 * void arch_call_walltime(struct g *gp, int64 out[2]), C ABI: the handler's
 * wall-clock read through this image's walltime, R10 = gp.  Its (sec
 * int64, nsec int32) are at 4(R13)..15(R13); `out` (R1) waits at 16(R13)
 * across the call, which may clobber every register but R10 and R13.
 */
	.globl	arch_call_walltime
	.type	arch_call_walltime, %function
arch_call_walltime:
	push	{r4-r12, lr}
	mov	r10, r0			/* g for the Go-style code */
	sub	sp, sp, #24		/* ret+0(FP) at 4(R13); 8-byte aligned */
	str	r1, [sp, #16]
	bl	walltime
	ldr	r1, [sp, #16]		/* out */
	ldr	r0, [sp, #4]		/* sec, low word */
	str	r0, [r1]
	ldr	r0, [sp, #8]		/* sec, high word */
	str	r0, [r1, #4]
	ldr	r0, [sp, #12]		/* nsec, sign-extended */
	str	r0, [r1, #8]
	asr	r0, r0, #31
	str	r0, [r1, #12]
	add	sp, sp, #24
	pop	{r4-r12, pc}
	.size	arch_call_walltime, . - arch_call_walltime

	.section .note.GNU-stack, "", %progbits	/* no executable stack */
