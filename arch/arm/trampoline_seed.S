/*
 * walltime and nanotime as Go 1.11 shipped them on linux/arm: the commit
 * "runtime: get traceback from VDSO code" (419c06455a), which records
 * m.vdsoPC/m.vdsoSP around the vDSO call.
 *
 * Object code: reference/objdump/go1.11-arm.txt, reproduced instruction
 * for instruction (only the structure offsets differ: ours are offsets.h).
 * Source, for the comments: reference/go-source/seed-arm.s.
 *
 * What Go's assembler did to the source, and what this file therefore
 * contains literally:
 *   - TEXT ...,NOSPLIT,$0-12 calls out (BL (R11)), so it is not a leaf and
 *     gets an implicit 4-byte frame: prologue MOVW.W R14, -4(R13)
 *     (str lr, [sp, #-4]!), RET becomes MOVW.P 4(R13), R15
 *     (ldr pc, [sp], #4); x+0(FP) is 8(R13) after the prologue.
 *   - The prologue runs before "MOVW R13, m_vdsoSP(R5)", so the recorded
 *     vdsoSP is R13 at entry minus 4: one word below the caller's SP.  That
 *     is the seed's bug on arm, kept on purpose.
 *   - MOVW runtime·vdsoClockgettimeSym(SB), R11 loads the symbol's address
 *     from a literal pool through R11 (REGTMP), then the word; the pool
 *     follows the function, after the "B ." Go emits ahead of it; nanotime's
 *     pool also holds $1000000000.
 *
 * CFI, as Go's pcsp table: +4 after the prologue, +24 more at SUB $24, R13
 * (obj5.go tracks ADD/SUB $c, R13); the BIC $7 alignment, the switch to
 * the g0 stack and MOVW R4, R13 are not tracked, so the table keeps +28
 * from the SUB up to the RET although R13 is back at entry-4 from the
 * restore on (Go 1.19's nanotime1: 0x24 from +0x40 to the RET,
 * reference/go1.19/pcsp-tables.txt).  A pc/sp traceback there reads the
 * wrong slot: faithful to Go.
 */
#include "offsets.h"
#include "variant.h"

SIGSTEP_VARIANT(seed, ERA_GO111)

	.syntax unified
	.arm
	.text

/* func walltime() (sec int64, nsec int32) */
	.globl	walltime
	.type	walltime, %function
walltime:
	.cfi_startproc
	str	lr, [sp, #-4]!		/* implicit prologue: PUSH [R14] */
	.cfi_adjust_cfa_offset 4
	.cfi_offset lr, -4
	/* We don't know how much stack space the VDSO code will need, so
	 * switch to g0.  Save old SP. */
	mov	r4, sp			/* R4 is unchanged by C code. */
	ldr	r5, [r10, #g_m]		/* R5 is unchanged by C code. */
	/* Set vdsoPC and vdsoSP for SIGPROF traceback. */
	str	lr, [r5, #m_vdsoPC]
	str	sp, [r5, #m_vdsoSP]	/* after the prologue: one word below the caller's SP */
	ldr	r0, [r5, #m_curg]
	cmp	r0, r10			/* Only switch if on curg. */
	bne	.Lwalltime_noswitch
	ldr	r0, [r5, #m_g0]
	ldr	sp, [r0, #(g_sched+gobuf_sp)]	/* Set SP to g0 stack */
.Lwalltime_noswitch:
	sub	sp, sp, #24		/* Space for results */
	.cfi_adjust_cfa_offset 24
	bic	sp, sp, #7		/* Align for C code (not tracked) */
	mov	r0, #0			/* CLOCK_REALTIME */
	add	r1, sp, #8		/* timespec */
	ldr	r11, .Lwalltime_pool_sym
	ldr	r11, [r11]
	cmp	r11, #0
	beq	.Lwalltime_fallback
	blx	r11
	b	.Lwalltime_finish
.Lwalltime_fallback:
	movw	r7, #263		/* SYS_clock_gettime */
	svc	#0
.Lwalltime_finish:
	ldr	r0, [sp, #8]		/* sec */
	ldr	r2, [sp, #12]		/* nsec */
	mov	sp, r4			/* Restore real SP */
	mov	r1, #0
	str	r1, [r5, #m_vdsoSP]
	str	r0, [sp, #8]		/* sec_lo+0(FP) */
	str	r1, [sp, #12]		/* sec_hi+4(FP) */
	str	r2, [sp, #16]		/* nsec+8(FP) */
	ldr	pc, [sp], #4		/* RET: POP [R15] */
	.cfi_adjust_cfa_offset -4
	.cfi_restore lr
	b	.			/* Go's branch ahead of the literal pool */
.Lwalltime_pool_sym:
	.word	vdsoClockgettimeSym
	.cfi_endproc
	.size	walltime, . - walltime

/* func nanotime() int64 */
	.globl	nanotime
	.type	nanotime, %function
nanotime:
	.cfi_startproc
	str	lr, [sp, #-4]!		/* implicit prologue: PUSH [R14] */
	.cfi_adjust_cfa_offset 4
	.cfi_offset lr, -4
	/* Switch to g0 stack. See comment above in walltime. */
	mov	r4, sp			/* R4 is unchanged by C code. */
	ldr	r5, [r10, #g_m]		/* R5 is unchanged by C code. */
	/* Set vdsoPC and vdsoSP for SIGPROF traceback. */
	str	lr, [r5, #m_vdsoPC]
	str	sp, [r5, #m_vdsoSP]	/* after the prologue: one word below the caller's SP */
	ldr	r0, [r5, #m_curg]
	cmp	r0, r10			/* Only switch if on curg. */
	bne	.Lnanotime_noswitch
	ldr	r0, [r5, #m_g0]
	ldr	sp, [r0, #(g_sched+gobuf_sp)]	/* Set SP to g0 stack */
.Lnanotime_noswitch:
	sub	sp, sp, #24		/* Space for results */
	.cfi_adjust_cfa_offset 24
	bic	sp, sp, #7		/* Align for C code (not tracked) */
	mov	r0, #1			/* CLOCK_MONOTONIC */
	add	r1, sp, #8		/* timespec */
	ldr	r11, .Lnanotime_pool_sym
	ldr	r11, [r11]
	cmp	r11, #0
	beq	.Lnanotime_fallback
	blx	r11
	b	.Lnanotime_finish
.Lnanotime_fallback:
	movw	r7, #263		/* SYS_clock_gettime */
	svc	#0
.Lnanotime_finish:
	ldr	r0, [sp, #8]		/* sec */
	ldr	r2, [sp, #12]		/* nsec */
	mov	sp, r4			/* Restore real SP */
	mov	r4, #0			/* R4 (the saved SP) is free again: it becomes the zero */
	str	r4, [r5, #m_vdsoSP]
	ldr	r3, .Lnanotime_pool_1e9	/* MOVW $1000000000, R3 */
	umull	r0, r1, r3, r0		/* MULLU R0, R3, (R1, R0): sec * 1e9 */
	adds	r0, r0, r2		/* ADD.S R2, R0 */
	adc	r1, r1, r4		/* ADC R4, R1: the carry, R4 is 0 */
	str	r0, [sp, #8]		/* ret_lo+0(FP) */
	str	r1, [sp, #12]		/* ret_hi+4(FP) */
	ldr	pc, [sp], #4		/* RET: POP [R15] */
	.cfi_adjust_cfa_offset -4
	.cfi_restore lr
	b	.			/* Go's branch ahead of the literal pool */
.Lnanotime_pool_sym:
	.word	vdsoClockgettimeSym
.Lnanotime_pool_1e9:
	.word	1000000000
	.cfi_endproc
	.size	nanotime, . - nanotime

	.section .note.GNU-stack, "", %progbits	/* no executable stack */
