// mutant: vdsoCall saves the old vdsoPC/vdsoSP in a static ring of two slots (one level of nesting) instead of its frame
// base: arch/arm/trampoline_master.S
// expect: sigprof=go1.11 pass
// expect: sigprof=go1.11 inject=nested pass
// arm's counterpart of amd64's save_ring_of_two.  Each call takes the next slot of the ring and keeps its address in
// R9 (unchanged by C code: AAPCS keeps R4-R11; vdsoCall's own locals are R5-R8) for the restore, so a call and one
// clock read nested in it use different slots: every fixed shape, one nested read per trial included, is master.
// A second nested read in the same call takes the outer call's slot again and overwrites its saved values with the
// outer call's own record; the outer call then "restores" vdsoSP to its own dead frame (vdsoSP-changed in the
// guest's check of the call).  Only a schedule sees it: two kept clock reads in one call, or a nested-signal inside
// the handler's read (three calls in flight at once).
/*
 * walltime and nanotime on linux/arm as in Go master (2024): the vDSO call
 * is factored into vdsoCall, which is re-entrant (it saves the old
 * m.vdsoPC/m.vdsoSP in its frame and restores them), records the caller's
 * true SP ($sp-4(FP)), and stores g at m.gsignal.stack.lo so that a signal
 * handler can find g while the vDSO has R10 in use (Go issue #32912).
 * Go's nanotime1 is called nanotime here.
 *
 * Source: reference/go-source/master-2024-arm.s.  No object code of it is
 * on file; reference/objdump/go1.19-arm.txt shows how Go assembles such
 * code on arm, and this file applies the same rewrites:
 *   - TEXT ...,$N: prologue MOVW.W R14, -(N+4)(R13)
 *     (str lr, [sp, #-(N+4)]!), RET is MOVW.P (N+4)(R13), R15
 *     (ldr pc, [sp], #N+4).  vdsoCall $8: 12 bytes; walltime and
 *     nanotime $12: 16 bytes.
 *   - x+k(FP) is (N+4)+4+k(R13) and x-k(SP) is (N+4)-k(R13) after the
 *     prologue: in vdsoCall $sp-4(FP) is 12(R13), R13 at entry, i.e.
 *     the caller's SP, and MOVW $sp-4(FP), R7 is ADD $12, R13, R7; in
 *     walltime/nanotime $spec-12(SP) is 4(R13), sec_lo+0(FP) is 20(R13).
 *     "4(R13)"/"8(R13)" written with R13 in vdsoCall stay as they are.
 *   - MOVW sym(SB), Rn and MOVB sym(SB), Rn load the symbol's address from
 *     a literal pool through R11 (REGTMP), then the value; MOVB is the
 *     sign-extending byte load (MOVBS).  Each function's pool follows it,
 *     after the "B ." Go emits ahead of it.
 *
 * CFI, as Go's pcsp table: +12 (vdsoCall) / +16 (walltime, nanotime) from
 * the prologue to RET; vdsoCall's BIC $7 alignment and switch to the g0
 * stack are not tracked, and MOVW R5, R13 brings R13 back to what the
 * table says all along.
 */
#include "offsets.h"
#include "variant.h"

SIGSTEP_VARIANT(master, ERA_MODERN)

	.syntax unified
	.arm
	.text

/* vdsoCall: calls the vDSO function in R4 with arguments R0-R3 on the g0
 * stack (when on curg), with m.vdsoPC/m.vdsoSP set for SIGPROF traceback.
 * R0-R3 may be arguments to fn, do not touch.  R5-R9 are available as
 * locals: they are unchanged by the C call (callee-save). */
	.globl	vdsoCall
	.type	vdsoCall, %function
vdsoCall:
	.cfi_startproc
	str	lr, [sp, #-12]!		/* prologue of the $8 frame: MOVW.W R14, -12(R13) */
	.cfi_adjust_cfa_offset 12
	.cfi_offset lr, -12
	/* We don't know how much stack space the VDSO code will need, so
	 * switch to g0.  Save old SP. */
	mov	r5, sp			/* R5 is unchanged by C code. */
	ldr	r6, [r10, #g_m]		/* R6 is unchanged by C code. */
	/* Set vdsoPC and vdsoSP for SIGPROF traceback.  Save the old values
	 * on stack and restore them on exit, so this function is reentrant. */
	ldr	r11, .LvdsoCall_pool_ring_next
	ldr	r9, [r11]		/* MUTANT: the next slot of a static ring of two, not the frame */
	eor	r7, r9, #8
	str	r7, [r11]
	ldr	r11, .LvdsoCall_pool_ring
	add	r9, r11, r9		/* R9: this call's slot; unchanged by C code */
	ldr	r7, [r6, #m_vdsoPC]
	ldr	r8, [r6, #m_vdsoSP]
	str	r7, [r9]
	str	r8, [r9, #4]
	add	r7, sp, #12		/* $sp-4(FP): the caller's SP, R13 at entry */
	str	lr, [r6, #m_vdsoPC]
	str	r7, [r6, #m_vdsoSP]
	ldr	r7, [r6, #m_curg]
	cmp	r7, r10			/* Only switch if on curg. */
	bne	.LvdsoCall_noswitch
	ldr	r7, [r6, #m_g0]
	ldr	sp, [r7, #(g_sched+gobuf_sp)]	/* Set SP to g0 stack */
.LvdsoCall_noswitch:
	bic	sp, sp, #7		/* Align for C code (not tracked) */
	/* Store g on gsignal's stack, so if we receive a signal during VDSO
	 * code we can find the g.  When using cgo, we already saved g on
	 * TLS, also don't save g here. */
	ldr	r11, .LvdsoCall_pool_iscgo
	ldrsb	r7, [r11]		/* MOVB runtime·iscgo(SB), R7 */
	cmp	r7, #0
	bne	.LvdsoCall_nosaveg
	/* If we don't have a signal stack, we won't receive signal, so don't
	 * bother saving g. */
	ldr	r7, [r6, #m_gsignal]	/* g.m.gsignal */
	cmp	r7, #0
	beq	.LvdsoCall_nosaveg
	/* Don't save g if we are already on the signal stack, as we won't
	 * get a nested signal. */
	cmp	r7, r10
	beq	.LvdsoCall_nosaveg
	/* If we don't have a signal stack, we won't receive signal, so don't
	 * bother saving g. */
	ldr	r7, [r7, #(g_stack+stack_lo)]	/* g.m.gsignal.stack.lo; R7 is unchanged by C code */
	cmp	r7, #0
	beq	.LvdsoCall_nosaveg
	str	r10, [r7]
	blx	r4
	mov	r8, #0
	str	r8, [r7]		/* clear g slot */
	b	.LvdsoCall_finish
.LvdsoCall_nosaveg:
	blx	r4
.LvdsoCall_finish:
	mov	sp, r5			/* Restore real SP */
	/* Restore vdsoPC, vdsoSP.  We don't worry about being signaled
	 * between the two stores.  If we are not in a signal handler, we'll
	 * restore vdsoSP to 0, and no one will care about vdsoPC.  If we are
	 * in a signal handler, we cannot receive another signal. */
	ldr	r7, [r9, #4]		/* MUTANT: from this call's ring slot */
	str	r7, [r6, #m_vdsoSP]
	ldr	r7, [r9]
	str	r7, [r6, #m_vdsoPC]
	ldr	pc, [sp], #12		/* RET: MOVW.P 12(R13), R15 */
	.cfi_adjust_cfa_offset -12
	.cfi_restore lr
	b	.			/* Go's branch ahead of the literal pool */
.LvdsoCall_pool_iscgo:
	.word	iscgo
.LvdsoCall_pool_ring:
	.word	save_ring
.LvdsoCall_pool_ring_next:
	.word	save_ring_next
	.cfi_endproc
	.size	vdsoCall, . - vdsoCall

/* func walltime() (sec int64, nsec int32) */
	.globl	walltime
	.type	walltime, %function
walltime:
	.cfi_startproc
	str	lr, [sp, #-16]!		/* prologue of the $12 frame: MOVW.W R14, -16(R13) */
	.cfi_adjust_cfa_offset 16
	.cfi_offset lr, -16
	mov	r0, #0			/* CLOCK_REALTIME */
	add	r1, sp, #4		/* $spec-12(SP): timespec */
	ldr	r11, .Lwalltime_pool_sym
	ldr	r4, [r11]		/* R4: the function vdsoCall calls */
	cmp	r4, #0
	beq	.Lwalltime_fallback
	bl	vdsoCall
	b	.Lwalltime_finish
.Lwalltime_fallback:
	movw	r7, #263		/* SYS_clock_gettime */
	svc	#0
.Lwalltime_finish:
	ldr	r0, [sp, #4]		/* sec-12(SP) */
	ldr	r2, [sp, #8]		/* nsec-8(SP) */
	str	r0, [sp, #20]		/* sec_lo+0(FP) */
	mov	r1, #0
	str	r1, [sp, #24]		/* sec_hi+4(FP) */
	str	r2, [sp, #28]		/* nsec+8(FP) */
	ldr	pc, [sp], #16		/* RET: MOVW.P 16(R13), R15 */
	.cfi_adjust_cfa_offset -16
	.cfi_restore lr
	b	.			/* Go's branch ahead of the literal pool */
.Lwalltime_pool_sym:
	.word	vdsoClockgettimeSym
	.cfi_endproc
	.size	walltime, . - walltime

/* func nanotime1() int64, here named nanotime */
	.globl	nanotime
	.type	nanotime, %function
nanotime:
	.cfi_startproc
	str	lr, [sp, #-16]!		/* prologue of the $12 frame: MOVW.W R14, -16(R13) */
	.cfi_adjust_cfa_offset 16
	.cfi_offset lr, -16
	mov	r0, #1			/* CLOCK_MONOTONIC */
	add	r1, sp, #4		/* $spec-12(SP): timespec */
	ldr	r11, .Lnanotime_pool_sym
	ldr	r4, [r11]		/* R4: the function vdsoCall calls */
	cmp	r4, #0
	beq	.Lnanotime_fallback
	bl	vdsoCall
	b	.Lnanotime_finish
.Lnanotime_fallback:
	movw	r7, #263		/* SYS_clock_gettime */
	svc	#0
.Lnanotime_finish:
	ldr	r0, [sp, #4]		/* sec-12(SP) */
	ldr	r2, [sp, #8]		/* nsec-8(SP) */
	ldr	r3, .Lnanotime_pool_1e9	/* MOVW $1000000000, R3 */
	umull	r0, r1, r3, r0		/* MULLU R0, R3, (R1, R0): sec * 1e9 */
	adds	r0, r0, r2		/* ADD.S R2, R0 */
	adc	r1, r1, #0		/* Add carry bit to upper half. */
	str	r0, [sp, #20]		/* ret_lo+0(FP) */
	str	r1, [sp, #24]		/* ret_hi+4(FP) */
	ldr	pc, [sp], #16		/* RET: MOVW.P 16(R13), R15 */
	.cfi_adjust_cfa_offset -16
	.cfi_restore lr
	b	.			/* Go's branch ahead of the literal pool */
.Lnanotime_pool_sym:
	.word	vdsoClockgettimeSym
.Lnanotime_pool_1e9:
	.word	1000000000
	.cfi_endproc
	.size	nanotime, . - nanotime

	.bss
	.balign	8
save_ring:			/* MUTANT: two slots of (old vdsoPC, old vdsoSP) */
	.zero	16
save_ring_next:			/* the offset of the next call's slot: 0 or 8 */
	.zero	4

	.section .note.GNU-stack, "", %progbits	/* no executable stack */
