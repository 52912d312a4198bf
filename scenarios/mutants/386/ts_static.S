// mutant: the timespec the vDSO fills is a static buffer instead of the frame's result space: not re-entrant
// base: arch/386/trampoline_master.S
// expect: sigprof=go1.11 function=walltime inject=nested fail invariant=time-outside-window
// expect: sigprof=go1.11 function=nanotime inject=nested pass
// expect: sigprof=go1.11 pass
// (Every row under Go 1.11's sigprof, whose samples of master on curg all pass: the rows test the checks of the
// nested trials, not the traceback.)
// Every call, on every stack, reads the clock right: the buffer is the vDSO's output and the trampoline reads it
// straight back.  Only a call made while another is interrupted between the two -- the signal handler's clock read
// (Go's sigprof -> cpuprof.add -> nanotime) -- writes the same buffer under it: the interrupted walltime then returns
// the handler's CLOCK_MONOTONIC reading as the wall clock.  Samples never see it (the traceback does not read the
// buffer), nor does the nested read itself; only the guest's checks at the end of each nested trial do.  (Under the
// emulated clock a nanotime caught the same way returns the handler's reading of the same clock at the same tick:
// harmless there, hence the pass line.)  Go keeps the timespec in stack space of each call ("Space for results" in
// nanotime1), which is what makes the nested call harmless; no Go issue: the shortcut re-entrancy forbids.
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

SIGSTEP_VARIANT(ts_static, ERA_MODERN)

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

	movl	$vdso_ts, %ebx		// &ts: the static timespec (Go: 8(SP), the result space)
	movl	%ebx, 4(%esp)
	movl	$CLOCK_REALTIME, 0(%esp)
	call	*%eax
	jmp	.Lwall_finish

.Lwall_fallback:
	movl	$SYS_clock_gettime, %eax
	movl	$CLOCK_REALTIME, %ebx
	movl	$vdso_ts, %ecx
	int	$0x80			// INVOKE_SYSCALL

.Lwall_finish:
	movl	vdso_ts, %eax		// sec
	movl	vdso_ts+4, %ebx		// nsec

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

	movl	$vdso_ts, %ebx		// &ts: the static timespec (Go: 8(SP), the result space)
	movl	%ebx, 4(%esp)
	movl	$CLOCK_MONOTONIC, 0(%esp)
	call	*%eax
	jmp	.Lnano_finish

.Lnano_fallback:
	movl	$SYS_clock_gettime, %eax
	movl	$CLOCK_MONOTONIC, %ebx
	movl	$vdso_ts, %ecx
	int	$0x80			// INVOKE_SYSCALL

.Lnano_finish:
	movl	vdso_ts, %eax		// sec
	movl	vdso_ts+4, %ebx		// nsec

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

	.bss
	.balign	16
vdso_ts:				// struct timespec, one for every call
	.zero	8

	.section .note.GNU-stack, "", @progbits
