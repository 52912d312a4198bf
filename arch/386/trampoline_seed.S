/*
 * walltime / nanotime on 386 as Go 1.11 shipped them: the vDSO traceback
 * commit (golang/go 419c06455a, Feb 2018, src/runtime/sys_linux_386.s;
 * reference/go-source/seed-386.s), reproducing the object code of a real
 * Go 1.11 build instruction for instruction
 * (reference/objdump/go1.11-386.txt); only the structure offsets differ.
 *
 * Before switching stacks they record the caller's PC and SP in
 * m.vdsoPC / m.vdsoSP for sigprof.  The recorded SP is one word off: in a
 * $0 frame Go assembles `LEAL sec+0(SP), DX` to LEAL 0(SP), DX, the
 * address of the return PC, not the caller's SP (4(SP)).  That is the
 * shipped behaviour and is kept.  On the way out vdsoSP is cleared, not
 * restored, so a clock read in a signal handler clears it under the
 * interrupted call.
 *
 * CFI follows Go's pcsp table: the $0 frame (CFA = SP+4), then the
 * SUBL $16, SP, the switch to g0.sched.sp, ANDL $~15, SP and MOVL BP, SP
 * it does not track (obj6.go: only PUSH/POP and the frame's own ADJSP
 * move pcsp): the $0 frame throughout.
 */
#include "offsets.h"
#include "variant.h"

SIGSTEP_VARIANT(seed, ERA_GO111)

/* asm/unistd_32.h */
#define SYS_clock_gettime	265
#define CLOCK_REALTIME		0
#define CLOCK_MONOTONIC		1

	.text

/* func walltime() (sec int64, nsec int32): sec at 4(SP), nsec at 12(SP) */
	.globl	walltime
	.type	walltime, @function
	.p2align 4, 0xcc
walltime:
	.cfi_startproc
	// We don't know how much stack space the VDSO code will need,
	// so switch to g0.

	movl	%esp, %ebp		// Save old SP; BP unchanged by C code.

	movl	%gs:0, %ecx		// get_tls(CX)
	{disp32} movl -4(%ecx), %eax	// g(CX): Go encodes the TLS slot offset as a 32-bit displacement
	movl	g_m(%eax), %esi		// SI unchanged by C code.

	// Set vdsoPC and vdsoSP for SIGPROF traceback.
	movl	0(%esp), %edx
	movl	%edx, m_vdsoPC(%esi)
	leal	0(%esp), %edx		// LEAL sec+0(SP), DX: in a $0 frame that is 0(SP), the return PC's slot
	movl	%edx, m_vdsoSP(%esi)

	cmpl	m_curg(%esi), %eax	// Only switch if on curg.
	jne	.Lwall_noswitch

	movl	m_g0(%esi), %edx
	movl	(g_sched+gobuf_sp)(%edx), %esp	// Set SP to g0 stack

.Lwall_noswitch:
	subl	$16, %esp		// Space for results
	andl	$~15, %esp		// Align for C code

	// Stack layout, depending on call path:
	//  x(SP)   vDSO            INVOKE_SYSCALL
	//    12    ts.tv_nsec      ts.tv_nsec
	//     8    ts.tv_sec       ts.tv_sec
	//     4    &ts             -
	//     0    CLOCK_<id>      -

	movl	vdsoClockgettimeSym(,1), %eax	// (,1): the ModRM form Go emits, not the short A1 form
	cmpl	$0, %eax
	je	.Lwall_fallback

	leal	8(%esp), %ebx		// &ts (struct timespec)
	movl	%ebx, 4(%esp)
	movl	$CLOCK_REALTIME, 0(%esp)
	call	*%eax
	jmp	.Lwall_finish

.Lwall_fallback:
	movl	$SYS_clock_gettime, %eax
	movl	$CLOCK_REALTIME, %ebx
	leal	8(%esp), %ecx
	int	$0x80			// INVOKE_SYSCALL

.Lwall_finish:
	movl	8(%esp), %eax		// sec
	movl	12(%esp), %ebx		// nsec

	movl	%ebp, %esp		// Restore real SP
	movl	$0, m_vdsoSP(%esi)

	// sec is in AX, nsec in BX
	movl	%eax, 4(%esp)		// sec_lo+0(FP)
	movl	$0, 8(%esp)		// sec_hi+4(FP)
	movl	%ebx, 12(%esp)		// nsec+8(FP)
	ret
	.cfi_endproc
	.size	walltime, . - walltime

// int64 nanotime(void) so really
// void nanotime(int64 *nsec)
/* result at 4(SP) */
	.globl	nanotime
	.type	nanotime, @function
	.p2align 4, 0xcc
nanotime:
	.cfi_startproc
	// Switch to g0 stack. See comment above in walltime.

	movl	%esp, %ebp		// Save old SP; BP unchanged by C code.

	movl	%gs:0, %ecx		// get_tls(CX)
	{disp32} movl -4(%ecx), %eax	// g(CX)
	movl	g_m(%eax), %esi		// SI unchanged by C code.

	// Set vdsoPC and vdsoSP for SIGPROF traceback.
	movl	0(%esp), %edx
	movl	%edx, m_vdsoPC(%esi)
	leal	0(%esp), %edx		// LEAL ret+0(SP), DX: in a $0 frame that is 0(SP), the return PC's slot
	movl	%edx, m_vdsoSP(%esi)

	cmpl	m_curg(%esi), %eax	// Only switch if on curg.
	jne	.Lnano_noswitch

	movl	m_g0(%esi), %edx
	movl	(g_sched+gobuf_sp)(%edx), %esp	// Set SP to g0 stack

.Lnano_noswitch:
	subl	$16, %esp		// Space for results
	andl	$~15, %esp		// Align for C code

	movl	vdsoClockgettimeSym(,1), %eax
	cmpl	$0, %eax
	je	.Lnano_fallback

	leal	8(%esp), %ebx		// &ts (struct timespec)
	movl	%ebx, 4(%esp)
	movl	$CLOCK_MONOTONIC, 0(%esp)
	call	*%eax
	jmp	.Lnano_finish

.Lnano_fallback:
	movl	$SYS_clock_gettime, %eax
	movl	$CLOCK_MONOTONIC, %ebx
	leal	8(%esp), %ecx
	int	$0x80			// INVOKE_SYSCALL

.Lnano_finish:
	movl	8(%esp), %eax		// sec
	movl	12(%esp), %ebx		// nsec

	movl	%ebp, %esp		// Restore real SP
	movl	$0, m_vdsoSP(%esi)

	// sec is in AX, nsec in BX
	// convert to DX:AX nsec
	movl	$1000000000, %ecx
	mull	%ecx
	addl	%ebx, %eax
	adcl	$0, %edx

	movl	%eax, 4(%esp)		// ret_lo+0(FP)
	movl	%edx, 8(%esp)		// ret_hi+4(FP)
	ret
	.cfi_endproc
	.size	nanotime, . - nanotime

	.section .note.GNU-stack, "", @progbits
