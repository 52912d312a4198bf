/*
 * walltime and nanotime on linux/386 as Go 1.19 shipped them: the code
 * Go 1.17-1.19 ran under its Go 1.17-1.19 sigprof (era go1.19).
 *
 * Follows, instruction for instruction, runtime.walltime and
 * runtime.nanotime1 of reference/objdump/go1.19-386.txt (nanotime1 is
 * our nanotime; source: /usr/lib/go-1.19/src/runtime/sys_linux_386.s,
 * TEXT ...,NOSPLIT,$8-12 and $8-8).  Only the structure offsets differ
 * (fixtures/runtime.h, not Go's: g_m 0x18, m_vdsoPC 0x1c8, m_vdsoSP
 * 0x1c4, m_curg 0x6c there).  Go's assembler gave the $8 frames the
 * prologue SUBL $0x8, SP and ADDL $0x8, SP before RET, so sec+0(FP) /
 * ret+0(FP) is 12(SP) and the saved vdsoPC/vdsoSP are at 0(SP)/4(SP).
 * Register choices as Go's: BP keeps the entry SP and SI the m across
 * the C call (both callee-saved in the C ABI the vDSO follows); AX is g,
 * then the vDSO function; CX/DX are scratch; BX holds &ts for the vDSO,
 * then nsec.  This is the code Go master still has on 386.
 *
 * The old vdsoPC/vdsoSP are saved in the frame and restored on the way
 * out (re-entrant, Go issue 40697); the recorded SP is the caller's.
 *
 * CFI follows Go's pcsp table (reference/go1.19/pcsp-tables.txt,
 * runtime.nanotime1: 0x0 at entry, 0x8 from +0x3 to the RET, 0x0 at the
 * RET): the SUBL $16, SP, the switch to g0.sched.sp, ANDL $~15, SP and
 * MOVL BP, SP are not tracked (obj6.go), which is also why the linked
 * function is SPWRITE (sigstep-spwrite finds MOVL 0x1c(DX), SP first).
 */
#include "offsets.h"
#include "variant.h"

SIGSTEP_VARIANT(go119, ERA_GO119)

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
	movl	4(%esp), %ecx
	movl	%ecx, m_vdsoSP(%esi)
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
