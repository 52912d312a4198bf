/*
 * walltime and nanotime as Go 1.11 shipped them on linux/amd64: the commit
 * that records vdsoPC/vdsoSP for the SIGPROF traceback (419c06455a,
 * "runtime: get traceback from VDSO code").
 *
 * Follows, instruction for instruction, the object code in
 * reference/objdump/go1.11-amd64.txt; source and comments from
 * reference/go-source/seed-amd64.s (runtime·walltime, runtime·nanotime,
 * NOSPLIT,$0-12 and $0-8).  Go's assembler rewrote the $0-frame operands:
 * sec+0(FP) is 8(SP), nsec+8(FP) 16(SP), ret+0(FP) 8(SP), and
 * LEAQ sec+0(SP) -- an SP-relative name, not FP -- is 0(SP): the address of
 * the return PC, one word below the caller's SP.  That recorded vdsoSP is
 * the fault this variant exists to show; it is kept as shipped.
 *
 * Frame table: as Go's pcsp, with its blind spots.  Only PUSH/POP and the
 * frame's own ADJSP move pcsp (obj6.go): the hand-written SUBQ $16, SP,
 * the switch to the g0 stack, ANDQ $~15, SP and MOVQ BP, SP do not, so the
 * table says the $0 frame (CFA = SP+8) throughout -- right again from the
 * restore of SP to RET.
 */
#include "offsets.h"
#include "variant.h"

SIGSTEP_VARIANT(seed, ERA_GO111)

	.text

/* func walltime() (sec int64, nsec int32) */
	.balign	32, 0xcc
	.globl	walltime
	.type	walltime, @function
walltime:
	.cfi_startproc
	// We don't know how much stack space the VDSO code will need,
	// so switch to g0.
	// In particular, a kernel configured with CONFIG_OPTIMIZE_INLINING=n
	// and hardening can use a full page of stack space in gettime_sym
	// due to stack probes inserted to avoid stack/heap collisions.
	// See issue #20427.

	movq	%rsp, %rbp		// Save old SP; BP unchanged by C code.

	movq	%fs:-8, %rax		// get_tls(CX); MOVQ g(CX), AX
	movq	g_m(%rax), %rbx		// BX unchanged by C code.

	// Set vdsoPC and vdsoSP for SIGPROF traceback.
	movq	0(%rsp), %rdx
	movq	%rdx, m_vdsoPC(%rbx)
	leaq	0(%rsp), %rdx		// LEAQ sec+0(SP), DX: the return PC's address
	movq	%rdx, m_vdsoSP(%rbx)

	cmpq	m_curg(%rbx), %rax	// Only switch if on curg.
	jne	.Lwalltime_noswitch

	movq	m_g0(%rbx), %rdx
	movq	(g_sched+gobuf_sp)(%rdx), %rsp	// Set SP to g0 stack

.Lwalltime_noswitch:
	subq	$16, %rsp		// Space for results
	andq	$~15, %rsp		// Align for C code

	movq	vdsoClockgettimeSym(%rip), %rax
	cmpq	$0, %rax
	je	.Lwalltime_fallback
	movl	$0, %edi		// CLOCK_REALTIME
	leaq	0(%rsp), %rsi
	call	*%rax
	movq	0(%rsp), %rax		// sec
	movq	8(%rsp), %rdx		// nsec
	movq	%rbp, %rsp		// Restore real SP
	movq	$0, m_vdsoSP(%rbx)
	movq	%rax, 8(%rsp)		// sec+0(FP)
	movl	%edx, 16(%rsp)		// nsec+8(FP)
	ret
.Lwalltime_fallback:
	leaq	0(%rsp), %rdi
	movq	$0, %rsi
	movq	vdsoGettimeofdaySym(%rip), %rax
	call	*%rax
	movq	0(%rsp), %rax		// sec
	movl	8(%rsp), %edx		// usec
	imulq	$1000, %rdx
	movq	%rbp, %rsp		// Restore real SP
	movq	$0, m_vdsoSP(%rbx)
	movq	%rax, 8(%rsp)		// sec+0(FP)
	movl	%edx, 16(%rsp)		// nsec+8(FP)
	ret
	.cfi_endproc
	.size	walltime, . - walltime

/* func nanotime() int64 */
	.balign	32, 0xcc
	.globl	nanotime
	.type	nanotime, @function
nanotime:
	.cfi_startproc
	// Switch to g0 stack. See comment above in runtime·walltime.

	movq	%rsp, %rbp		// Save old SP; BP unchanged by C code.

	movq	%fs:-8, %rax		// get_tls(CX); MOVQ g(CX), AX
	movq	g_m(%rax), %rbx		// BX unchanged by C code.

	// Set vdsoPC and vdsoSP for SIGPROF traceback.
	movq	0(%rsp), %rdx
	movq	%rdx, m_vdsoPC(%rbx)
	leaq	0(%rsp), %rdx		// LEAQ ret+0(SP), DX: the return PC's address
	movq	%rdx, m_vdsoSP(%rbx)

	cmpq	m_curg(%rbx), %rax	// Only switch if on curg.
	jne	.Lnanotime_noswitch

	movq	m_g0(%rbx), %rdx
	movq	(g_sched+gobuf_sp)(%rdx), %rsp	// Set SP to g0 stack

.Lnanotime_noswitch:
	subq	$16, %rsp		// Space for results
	andq	$~15, %rsp		// Align for C code

	movq	vdsoClockgettimeSym(%rip), %rax
	cmpq	$0, %rax
	je	.Lnanotime_fallback
	movl	$1, %edi		// CLOCK_MONOTONIC
	leaq	0(%rsp), %rsi
	call	*%rax
	movq	0(%rsp), %rax		// sec
	movq	8(%rsp), %rdx		// nsec
	movq	%rbp, %rsp		// Restore real SP
	movq	$0, m_vdsoSP(%rbx)
	// sec is in AX, nsec in DX
	// return nsec in AX
	imulq	$1000000000, %rax
	addq	%rdx, %rax
	movq	%rax, 8(%rsp)		// ret+0(FP)
	ret
.Lnanotime_fallback:
	leaq	0(%rsp), %rdi
	movq	$0, %rsi
	movq	vdsoGettimeofdaySym(%rip), %rax
	call	*%rax
	movq	0(%rsp), %rax		// sec
	movl	8(%rsp), %edx		// usec
	movq	%rbp, %rsp		// Restore real SP
	movq	$0, m_vdsoSP(%rbx)
	imulq	$1000, %rdx
	// sec is in AX, nsec in DX
	// return nsec in AX
	imulq	$1000000000, %rax
	addq	%rdx, %rax
	movq	%rax, 8(%rsp)		// ret+0(FP)
	ret
	.cfi_endproc
	.size	nanotime, . - nanotime

	.section .note.GNU-stack, "", @progbits
