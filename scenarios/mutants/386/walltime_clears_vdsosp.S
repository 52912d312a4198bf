// mutant: walltime clears m.vdsoSP on the way out instead of restoring the old value (nanotime still restores)
// base: arch/386/trampoline_master.S
// expect: sigprof=go1.11 pass
// expect: sigprof=go1.11 inject=nested pass
// As amd64's walltime_clears_vdsosp: without nesting the old vdsoSP is 0, so clearing is restoring, and the nested
// injection's handler reads the clock through nanotime, which restores.  Only a handler that reads the wall clock
// while a call is interrupted (a schedule's `nested-clock walltime`) leaves vdsoSP 0 under the outer call
// (nested-vdsoSP-changed).
/*
 * walltime / nanotime on 386 as Go master has them (2024,
 * src/runtime/sys_linux_386.s; reference/go-source/master-2024-386.s):
 * re-entrant.  Go's nanotime1 is our nanotime.  Object code as Go
 * assembles it (reference/objdump/go1.19-386.txt shows the same code):
 * TEXT ...,$8-12 / $8-8 get the prologue SUBL $8, SP and ADDL $8, SP
 * before RET, so sec+0(FP) / ret+0(FP) is 12(SP) and the two saved words
 * are at 0(SP) and 4(SP).
 *
 * The old vdsoPC/vdsoSP are saved in the frame and restored on the way
 * out, so a clock read inside a signal handler leaves the interrupted
 * call's values intact; the recorded SP is the caller's SP (the address
 * of the first result), and the PC is the word below it.
 *
 * CFI follows Go's pcsp table: the $8 frame (CFA = SP+12), then the
 * SUBL $16, SP, the switch to g0.sched.sp, ANDL $~15, SP and MOVL BP, SP
 * it does not track (obj6.go: only PUSH/POP and the frame's own ADJSP
 * move pcsp; Go 1.19's nanotime1 keeps spdelta 0x8 across its SUBL
 * $0x10, SP, reference/go1.19/pcsp-tables.txt): the $8 frame throughout.
 */
#include "offsets.h"
#include "variant.h"

SIGSTEP_VARIANT(master, ERA_MODERN)

/* asm/unistd_32.h */
#define SYS_clock_gettime	265
#define CLOCK_REALTIME		0
#define CLOCK_MONOTONIC		1

	.text

/* func walltime() (sec int64, nsec int32): sec at 4(SP), nsec at 12(SP) on entry */
	.globl	walltime
	.type	walltime, @function
	.p2align 4, 0xcc
walltime:
	.cfi_startproc
	subl	$8, %esp		// Go's prologue for the $8 frame
	.cfi_adjust_cfa_offset 8
	// We don't know how much stack space the VDSO code will need,
	// so switch to g0.

	movl	%esp, %ebp		// Save old SP; BP unchanged by C code.

	movl	%gs:0, %ecx		// get_tls(CX)
	{disp32} movl -4(%ecx), %eax	// g(CX): Go encodes the TLS slot offset as a 32-bit displacement
	movl	g_m(%eax), %esi		// SI unchanged by C code.

	// Set vdsoPC and vdsoSP for SIGPROF traceback.
	// Save the old values on stack and restore them on exit,
	// so this function is reentrant.
	movl	m_vdsoPC(%esi), %ecx
	movl	m_vdsoSP(%esi), %edx
	movl	%ecx, 0(%esp)
	movl	%edx, 4(%esp)

	leal	12(%esp), %edx		// LEAL sec+0(FP), DX: past the $8 frame and the return PC
	movl	-4(%edx), %ecx
	movl	%ecx, m_vdsoPC(%esi)
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
	// Restore vdsoPC, vdsoSP
	// We don't worry about being signaled between the two stores.
	// If we are not in a signal handler, we'll restore vdsoSP to 0,
	// and no one will care about vdsoPC. If we are in a signal handler,
	// we cannot receive another signal.
	movl	$0, m_vdsoSP(%esi)	// MUTANT: cleared, not restored from 4(SP)
	movl	0(%esp), %ecx
	movl	%ecx, m_vdsoPC(%esi)

	// sec is in AX, nsec in BX
	movl	%eax, 12(%esp)		// sec_lo+0(FP)
	movl	$0, 16(%esp)		// sec_hi+4(FP)
	movl	%ebx, 20(%esp)		// nsec+8(FP)
	addl	$8, %esp		// Go's epilogue for the $8 frame
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size	walltime, . - walltime

// int64 nanotime(void) so really
// void nanotime(int64 *nsec)
/* result at 4(SP) on entry */
	.globl	nanotime
	.type	nanotime, @function
	.p2align 4, 0xcc
nanotime:
	.cfi_startproc
	subl	$8, %esp		// Go's prologue for the $8 frame
	.cfi_adjust_cfa_offset 8
	// Switch to g0 stack. See comment above in walltime.

	movl	%esp, %ebp		// Save old SP; BP unchanged by C code.

	movl	%gs:0, %ecx		// get_tls(CX)
	{disp32} movl -4(%ecx), %eax	// g(CX)
	movl	g_m(%eax), %esi		// SI unchanged by C code.

	// Set vdsoPC and vdsoSP for SIGPROF traceback.
	// Save the old values on stack and restore them on exit,
	// so this function is reentrant.
	movl	m_vdsoPC(%esi), %ecx
	movl	m_vdsoSP(%esi), %edx
	movl	%ecx, 0(%esp)
	movl	%edx, 4(%esp)

	leal	12(%esp), %edx		// LEAL ret+0(FP), DX: past the $8 frame and the return PC
	movl	-4(%edx), %ecx
	movl	%ecx, m_vdsoPC(%esi)
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
	// Restore vdsoPC, vdsoSP
	// We don't worry about being signaled between the two stores.
	// If we are not in a signal handler, we'll restore vdsoSP to 0,
	// and no one will care about vdsoPC. If we are in a signal handler,
	// we cannot receive another signal.
	movl	4(%esp), %ecx
	movl	%ecx, m_vdsoSP(%esi)
	movl	0(%esp), %ecx
	movl	%ecx, m_vdsoPC(%esi)

	// sec is in AX, nsec in BX
	// convert to DX:AX nsec
	movl	$1000000000, %ecx
	mull	%ecx
	addl	%ebx, %eax
	adcl	$0, %edx

	movl	%eax, 12(%esp)		// ret_lo+0(FP)
	movl	%edx, 16(%esp)		// ret_hi+4(FP)
	addl	$8, %esp		// Go's epilogue for the $8 frame
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size	nanotime, . - nanotime

	.section .note.GNU-stack, "", @progbits
