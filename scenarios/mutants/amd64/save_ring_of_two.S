// mutant: the old vdsoPC/vdsoSP are saved in a static ring of two slots (one level of nesting) instead of the frame
// base: arch/amd64/trampoline_master.S
// expect: sigprof=go1.11 pass
// expect: sigprof=go1.11 inject=nested pass
// Each call takes the next slot of the ring and keeps its address in R13 (unchanged by C code) for the restore, so a
// call and one clock read nested in it use different slots: every fixed shape, one nested read per trial included,
// is master.  A second nested read in the same call takes the outer call's slot again and overwrites its saved
// values with the outer call's own record; the outer call then "restores" vdsoSP to its own dead frame
// (vdsoSP-changed in the guest's check of the call).  Only a schedule sees it: two kept clock reads in one call, or a
// nested-signal inside the handler's read (three calls in flight at once).
/*
 * walltime and nanotime as Go master (2024) has them on linux/amd64:
 * re-entrant (the old vdsoPC/vdsoSP are saved in the frame and restored on
 * the way out) and recording the caller's true SP.
 *
 * nanotime follows runtime·nanotime1 of reference/go-source/master-2024-amd64.s
 * (NOSPLIT,$16-8).  Go master has no amd64 walltime: time·now
 * (reference/go-source/master-2024-amd64-time_now.s) replaced it.  walltime
 * here is nanotime1's exact shape with CLOCK_REALTIME and walltime's ABI0
 * results (sec at ret+0(FP), nsec at +8(FP)), i.e. NOSPLIT,$16-12.
 *
 * As Go's assembler emits a $16 frame (see time.now in
 * reference/objdump/go1.19-amd64.txt): prologue SUBQ $24, SP;
 * MOVQ BP, 16(SP); LEAQ 16(SP), BP, epilogue MOVQ 16(SP), BP; ADDQ $24, SP
 * before RET, and FP-relative operands 32(SP) and up (24 of frame, 8 of
 * return PC).  0(SP) and 8(SP) are the frame's own slots for the old
 * vdsoPC and vdsoSP.
 *
 * g is R14, Go's ABIInternal g register (Go >= 1.17 assembly may rely on
 * it); the callers keep it.  R12 holds the entry SP: it is unchanged by
 * C code, and Go's ABI lets this function clobber it.
 *
 * Frame table: as Go's pcsp, with its blind spots.  Only the prologue and
 * epilogue move it (obj6.go): the hand-written SUBQ $16, SP, the switch to
 * the g0 stack, ANDQ $~15, SP and MOVQ R12, SP do not, so the table says
 * the $16 frame (CFA = SP+32) from the prologue to RET, as Go 1.19's
 * nanotime1 does (spdelta 0x18 across its SUBQ $0x10, SP,
 * reference/go1.19/pcsp-tables.txt) -- right again from the restore on.
 */
#include "offsets.h"
#include "variant.h"

SIGSTEP_VARIANT(master, ERA_MODERN)

#define SYS_clock_gettime	228	/* asm/unistd_64.h */

	.text

/* func walltime() (sec int64, nsec int32) */
	.balign	32, 0xcc
	.globl	walltime
	.type	walltime, @function
walltime:
	.cfi_startproc
	subq	$24, %rsp		// frame $16, plus the saved BP
	.cfi_adjust_cfa_offset 24
	movq	%rbp, 16(%rsp)
	leaq	16(%rsp), %rbp

	// We don't know how much stack space the VDSO code will need,
	// so switch to g0.
	// In particular, a kernel configured with CONFIG_OPTIMIZE_INLINING=n
	// and hardening can use a full page of stack space in gettime_sym
	// due to stack probes inserted to avoid stack/heap collisions.
	// See issue #20427.

	movq	%rsp, %r12		// Save old SP; R12 unchanged by C code.

	movq	g_m(%r14), %rbx		// BX unchanged by C code.

	// Set vdsoPC and vdsoSP for SIGPROF traceback.
	// Save the old values on stack and restore them on exit,
	// so this function is reentrant.
	movq	save_ring_next(%rip), %r13	// MUTANT: the next slot of a static ring of two, not the frame
	xorq	$16, save_ring_next(%rip)
	leaq	save_ring(%rip), %rcx
	addq	%rcx, %r13		// R13: this call's slot; unchanged by C code
	movq	m_vdsoPC(%rbx), %rcx
	movq	m_vdsoSP(%rbx), %rdx
	movq	%rcx, 0(%r13)
	movq	%rdx, 8(%r13)

	leaq	32(%rsp), %rdx		// LEAQ sec+0(FP), DX: the caller's SP
	movq	-8(%rdx), %rcx		// the return PC
	movq	%rcx, m_vdsoPC(%rbx)
	movq	%rdx, m_vdsoSP(%rbx)

	cmpq	m_curg(%rbx), %r14	// Only switch if on curg.
	jne	.Lwalltime_noswitch

	movq	m_g0(%rbx), %rdx
	movq	(g_sched+gobuf_sp)(%rdx), %rsp	// Set SP to g0 stack

.Lwalltime_noswitch:
	subq	$16, %rsp		// Space for results
	andq	$~15, %rsp		// Align for C code

	movl	$0, %edi		// CLOCK_REALTIME
	leaq	0(%rsp), %rsi
	movq	vdsoClockgettimeSym(%rip), %rax
	cmpq	$0, %rax
	je	.Lwalltime_fallback
	call	*%rax
.Lwalltime_ret:
	movq	0(%rsp), %rax		// sec
	movq	8(%rsp), %rdx		// nsec
	movq	%r12, %rsp		// Restore real SP
	// Restore vdsoPC, vdsoSP
	// We don't worry about being signaled between the two stores.
	// If we are not in a signal handler, we'll restore vdsoSP to 0,
	// and no one will care about vdsoPC. If we are in a signal handler,
	// we cannot receive another signal.
	movq	8(%r13), %rcx		// MUTANT: from this call's ring slot
	movq	%rcx, m_vdsoSP(%rbx)
	movq	0(%r13), %rcx
	movq	%rcx, m_vdsoPC(%rbx)
	movq	%rax, 32(%rsp)		// sec+0(FP)
	movl	%edx, 40(%rsp)		// nsec+8(FP)
	movq	16(%rsp), %rbp
	addq	$24, %rsp
	.cfi_adjust_cfa_offset -24
	ret
.Lwalltime_fallback:
	.cfi_adjust_cfa_offset 24	// reached from after the RET: the frame's 24 bytes (the SUBQ $16 is not tracked)
	movq	$SYS_clock_gettime, %rax	// DI, SI already set
	syscall
	jmp	.Lwalltime_ret
	.cfi_endproc
	.size	walltime, . - walltime

/* func nanotime() int64 -- Go's nanotime1 */
	.balign	32, 0xcc
	.globl	nanotime
	.type	nanotime, @function
nanotime:
	.cfi_startproc
	subq	$24, %rsp		// frame $16, plus the saved BP
	.cfi_adjust_cfa_offset 24
	movq	%rbp, 16(%rsp)
	leaq	16(%rsp), %rbp

	// Switch to g0 stack. See comment above in walltime.

	movq	%rsp, %r12		// Save old SP; R12 unchanged by C code.

	movq	g_m(%r14), %rbx		// BX unchanged by C code.

	// Set vdsoPC and vdsoSP for SIGPROF traceback.
	// Save the old values on stack and restore them on exit,
	// so this function is reentrant.
	movq	save_ring_next(%rip), %r13	// MUTANT: the next slot of a static ring of two, not the frame
	xorq	$16, save_ring_next(%rip)
	leaq	save_ring(%rip), %rcx
	addq	%rcx, %r13		// R13: this call's slot; unchanged by C code
	movq	m_vdsoPC(%rbx), %rcx
	movq	m_vdsoSP(%rbx), %rdx
	movq	%rcx, 0(%r13)
	movq	%rdx, 8(%r13)

	leaq	32(%rsp), %rdx		// LEAQ ret+0(FP), DX: the caller's SP
	movq	-8(%rdx), %rcx		// the return PC
	movq	%rcx, m_vdsoPC(%rbx)
	movq	%rdx, m_vdsoSP(%rbx)

	cmpq	m_curg(%rbx), %r14	// Only switch if on curg.
	jne	.Lnanotime_noswitch

	movq	m_g0(%rbx), %rdx
	movq	(g_sched+gobuf_sp)(%rdx), %rsp	// Set SP to g0 stack

.Lnanotime_noswitch:
	subq	$16, %rsp		// Space for results
	andq	$~15, %rsp		// Align for C code

	movl	$1, %edi		// CLOCK_MONOTONIC
	leaq	0(%rsp), %rsi
	movq	vdsoClockgettimeSym(%rip), %rax
	cmpq	$0, %rax
	je	.Lnanotime_fallback
	call	*%rax
.Lnanotime_ret:
	movq	0(%rsp), %rax		// sec
	movq	8(%rsp), %rdx		// nsec
	movq	%r12, %rsp		// Restore real SP
	// Restore vdsoPC, vdsoSP
	// We don't worry about being signaled between the two stores.
	// If we are not in a signal handler, we'll restore vdsoSP to 0,
	// and no one will care about vdsoPC. If we are in a signal handler,
	// we cannot receive another signal.
	movq	8(%r13), %rcx		// MUTANT: from this call's ring slot
	movq	%rcx, m_vdsoSP(%rbx)
	movq	0(%r13), %rcx
	movq	%rcx, m_vdsoPC(%rbx)
	// sec is in AX, nsec in DX
	// return nsec in AX
	imulq	$1000000000, %rax
	addq	%rdx, %rax
	movq	%rax, 32(%rsp)		// ret+0(FP)
	movq	16(%rsp), %rbp
	addq	$24, %rsp
	.cfi_adjust_cfa_offset -24
	ret
.Lnanotime_fallback:
	.cfi_adjust_cfa_offset 24	// reached from after the RET: the frame's 24 bytes (the SUBQ $16 is not tracked)
	movq	$SYS_clock_gettime, %rax	// DI, SI already set
	syscall
	jmp	.Lnanotime_ret
	.cfi_endproc
	.size	nanotime, . - nanotime

	.bss
	.balign	16
save_ring:			// MUTANT: two slots of (old vdsoPC, old vdsoSP)
	.zero	32
save_ring_next:			// the offset of the next call's slot: 0 or 16
	.zero	8

	.section .note.GNU-stack, "", @progbits
