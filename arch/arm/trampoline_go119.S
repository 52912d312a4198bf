/*
 * walltime and nanotime on linux/arm as Go 1.19 shipped them: the code
 * Go 1.17-1.19 ran under its Go 1.17-1.19 sigprof (era go1.19).
 *
 * Follows, instruction for instruction, runtime.walltime and
 * runtime.nanotime1 of reference/objdump/go1.19-arm.txt (nanotime1 is our
 * nanotime; source /usr/lib/go-1.19/src/runtime/sys_linux_arm.s,
 * TEXT ...,NOSPLIT,$8-12 and $8-8).  Go 1.19's arm has no vdsoCall: each
 * function makes the vDSO call inline.  Only the structure offsets differ
 * (fixtures/runtime.h, not Go's 0x18 / 0x1c8 / 0x1c4 / 0x6c / 0x30).
 *
 * What Go's assembler did to the source, as the object code shows:
 *   - $8 frame: prologue MOVW.W R14, -0xc(R13) (str lr, [sp, #-12]!),
 *     RET is MOVW.P 0xc(R13), R15 (ldr pc, [sp], #12); the old vdsoPC
 *     and vdsoSP go to 4(R13) and 8(R13), results from 0x10(R13).
 *   - MOVW $ret-4(FP), R2 (the caller's SP, R13 at entry) is
 *     ADD $12, R13, R2.
 *   - MOVW sym(SB), Rn / MOVB runtime.iscgo(SB), R6 load the address from
 *     the literal pool through R11 (REGTMP), then the value (MOVB: the
 *     sign-extending MOVBS); nanotime1's pool also holds $1000000000.
 *     Each pool follows the function, after the "B ." Go emits ahead of
 *     it.
 * Register choices as Go's: R4 keeps the entry SP and R5 the m across
 * the C call, R6 the address of the g slot at the bottom of gsignal's
 * stack (R4-R6 callee-saved in the C ABI); R0/R1 the vDSO's arguments,
 * R2 its address; R10 is g.  g is stored at m.gsignal.stack.lo before the
 * call (Go issue 32912), so a handler can find it while the vDSO uses R10.
 *
 * CFI, as Go's pcsp table (reference/go1.19/pcsp-tables.txt,
 * runtime.nanotime1: 0x0 at entry, 0xc from +0x4, 0x24 from +0x40 -- the
 * instruction after SUB $24, R13 -- to the end): obj5.go tracks the
 * prologue and SUB $24, R13; the switch to the g0 stack, BIC $7, R13 and
 * MOVW R4, R13 it does not, so the table keeps 0x24 up to the RET
 * although R13 is back at entry-0xc from the restore on.  The function
 * is SPWRITE (MOVW 0x1c(R0), R13).
 */
#include "offsets.h"
#include "variant.h"

SIGSTEP_VARIANT(go119, ERA_GO119)

	.syntax unified
	.arm
	.text

/* func walltime() (sec int64, nsec int32) */
	.globl	walltime
	.type	walltime, %function
walltime:
	.cfi_startproc
	str	lr, [sp, #-12]!		/* prologue of the $8 frame: MOVW.W R14, -12(R13) */
	.cfi_adjust_cfa_offset 12
	.cfi_offset lr, -12
	/* We don't know how much stack space the VDSO code will need, so
	 * switch to g0.  Save old SP. */
	mov	r4, sp			/* R4 is unchanged by C code. */
	ldr	r5, [r10, #g_m]		/* R5 is unchanged by C code. */
	/* Set vdsoPC and vdsoSP for SIGPROF traceback.  Save the old values
	 * on stack and restore them on exit, so this function is reentrant. */
	ldr	r1, [r5, #m_vdsoPC]
	ldr	r2, [r5, #m_vdsoSP]
	str	r1, [sp, #4]
	str	r2, [sp, #8]
	add	r2, sp, #12		/* MOVW $ret-4(FP), R2: R13 at entry, the caller's SP */
	str	lr, [r5, #m_vdsoPC]
	str	r2, [r5, #m_vdsoSP]
	ldr	r0, [r5, #m_curg]
	cmp	r0, r10			/* Only switch if on curg. */
	bne	.Lwalltime_noswitch
	ldr	r0, [r5, #m_g0]
	ldr	sp, [r0, #(g_sched+gobuf_sp)]	/* Set SP to g0 stack */
.Lwalltime_noswitch:
	sub	sp, sp, #24		/* Space for results (tracked: obj5.go) */
	.cfi_adjust_cfa_offset 24
	bic	sp, sp, #7		/* Align for C code (not tracked) */
	mov	r0, #0			/* CLOCK_REALTIME */
	add	r1, sp, #8		/* timespec */
	ldr	r11, .Lwalltime_pool_sym
	ldr	r2, [r11]		/* MOVW runtime·vdsoClockgettimeSym(SB), R2 */
	cmp	r2, #0
	beq	.Lwalltime_fallback
	/* Store g on gsignal's stack, so if we receive a signal during VDSO
	 * code we can find the g.  When using cgo, we already saved g on
	 * TLS, also don't save g here. */
	ldr	r11, .Lwalltime_pool_iscgo
	ldrsb	r6, [r11]		/* MOVB runtime·iscgo(SB), R6 */
	cmp	r6, #0
	bne	.Lwalltime_nosaveg
	/* If we don't have a signal stack, we won't receive signal, so don't
	 * bother saving g. */
	ldr	r6, [r5, #m_gsignal]	/* g.m.gsignal */
	cmp	r6, #0
	beq	.Lwalltime_nosaveg
	/* Don't save g if we are already on the signal stack, as we won't
	 * get a nested signal. */
	cmp	r6, r10
	beq	.Lwalltime_nosaveg
	ldr	r6, [r6, #(g_stack+stack_lo)]	/* g.m.gsignal.stack.lo; R6 is unchanged by C code */
	str	r10, [r6]		/* save g */
	blx	r2
	mov	r1, #0
	str	r1, [r6]		/* clear g slot */
	b	.Lwalltime_finish
.Lwalltime_nosaveg:
	blx	r2
	b	.Lwalltime_finish
.Lwalltime_fallback:
	movw	r7, #263		/* SYS_clock_gettime */
	svc	#0
.Lwalltime_finish:
	ldr	r0, [sp, #8]		/* sec */
	ldr	r2, [sp, #12]		/* nsec */
	mov	sp, r4			/* Restore real SP (not tracked: the table stays +36) */
	/* Restore vdsoPC, vdsoSP.  We don't worry about being signaled
	 * between the two stores.  If we are not in a signal handler, we'll
	 * restore vdsoSP to 0, and no one will care about vdsoPC.  If we are
	 * in a signal handler, we cannot receive another signal. */
	ldr	r1, [sp, #8]
	str	r1, [r5, #m_vdsoSP]
	ldr	r1, [sp, #4]
	str	r1, [r5, #m_vdsoPC]
	str	r0, [sp, #16]		/* sec_lo+0(FP) */
	mov	r1, #0
	str	r1, [sp, #20]		/* sec_hi+4(FP) */
	str	r2, [sp, #24]		/* nsec+8(FP) */
	ldr	pc, [sp], #12		/* RET: MOVW.P 12(R13), R15 */
	/* Go's table keeps 0x24 past the RET, to the end: no directive. */
	b	.			/* Go's branch ahead of the literal pool */
.Lwalltime_pool_sym:
	.word	vdsoClockgettimeSym
.Lwalltime_pool_iscgo:
	.word	iscgo
	.cfi_endproc
	.size	walltime, . - walltime

/* func nanotime1() int64, here named nanotime */
	.globl	nanotime
	.type	nanotime, %function
nanotime:
	.cfi_startproc
	str	lr, [sp, #-12]!		/* prologue of the $8 frame: MOVW.W R14, -12(R13) */
	.cfi_adjust_cfa_offset 12
	.cfi_offset lr, -12
	/* Switch to g0 stack.  See comment above in runtime·walltime. */
	mov	r4, sp			/* R4 is unchanged by C code. */
	ldr	r5, [r10, #g_m]		/* R5 is unchanged by C code. */
	ldr	r1, [r5, #m_vdsoPC]
	ldr	r2, [r5, #m_vdsoSP]
	str	r1, [sp, #4]
	str	r2, [sp, #8]
	add	r2, sp, #12		/* MOVW $ret-4(FP), R2: R13 at entry, the caller's SP */
	str	lr, [r5, #m_vdsoPC]
	str	r2, [r5, #m_vdsoSP]
	ldr	r0, [r5, #m_curg]
	cmp	r0, r10			/* Only switch if on curg. */
	bne	.Lnanotime_noswitch
	ldr	r0, [r5, #m_g0]
	ldr	sp, [r0, #(g_sched+gobuf_sp)]	/* Set SP to g0 stack */
.Lnanotime_noswitch:
	sub	sp, sp, #24		/* Space for results (tracked: obj5.go) */
	.cfi_adjust_cfa_offset 24
	bic	sp, sp, #7		/* Align for C code (not tracked) */
	mov	r0, #1			/* CLOCK_MONOTONIC */
	add	r1, sp, #8		/* timespec */
	ldr	r11, .Lnanotime_pool_sym
	ldr	r2, [r11]		/* MOVW runtime·vdsoClockgettimeSym(SB), R2 */
	cmp	r2, #0
	beq	.Lnanotime_fallback
	/* Store g on gsignal's stack, see walltime. */
	ldr	r11, .Lnanotime_pool_iscgo
	ldrsb	r6, [r11]		/* MOVB runtime·iscgo(SB), R6 */
	cmp	r6, #0
	bne	.Lnanotime_nosaveg
	ldr	r6, [r5, #m_gsignal]	/* g.m.gsignal */
	cmp	r6, #0
	beq	.Lnanotime_nosaveg
	cmp	r6, r10
	beq	.Lnanotime_nosaveg
	ldr	r6, [r6, #(g_stack+stack_lo)]	/* g.m.gsignal.stack.lo; R6 is unchanged by C code */
	str	r10, [r6]		/* save g */
	blx	r2
	mov	r1, #0
	str	r1, [r6]		/* clear g slot */
	b	.Lnanotime_finish
.Lnanotime_nosaveg:
	blx	r2
	b	.Lnanotime_finish
.Lnanotime_fallback:
	movw	r7, #263		/* SYS_clock_gettime */
	svc	#0
.Lnanotime_finish:
	ldr	r0, [sp, #8]		/* sec */
	ldr	r2, [sp, #12]		/* nsec */
	mov	sp, r4			/* Restore real SP (not tracked: the table stays +36) */
	ldr	r4, [sp, #8]		/* restore vdsoSP, then vdsoPC: R4 is free now */
	str	r4, [r5, #m_vdsoSP]
	ldr	r4, [sp, #4]
	str	r4, [r5, #m_vdsoPC]
	ldr	r3, .Lnanotime_pool_1e9	/* MOVW $1000000000, R3 */
	umull	r0, r1, r3, r0		/* MULLU R0, R3, (R1, R0): sec * 1e9 */
	adds	r0, r0, r2		/* ADD.S R2, R0 */
	adc	r1, r1, #0		/* Add carry bit to upper half. */
	str	r0, [sp, #16]		/* ret_lo+0(FP) */
	str	r1, [sp, #20]		/* ret_hi+4(FP) */
	ldr	pc, [sp], #12		/* RET: MOVW.P 12(R13), R15 */
	/* Go's table keeps 0x24 past the RET, to the end: no directive. */
	b	.			/* Go's branch ahead of the literal pool */
.Lnanotime_pool_sym:
	.word	vdsoClockgettimeSym
.Lnanotime_pool_iscgo:
	.word	iscgo
.Lnanotime_pool_1e9:
	.word	1000000000
	.cfi_endproc
	.size	nanotime, . - nanotime

	.section .note.GNU-stack, "", %progbits	/* no executable stack */
