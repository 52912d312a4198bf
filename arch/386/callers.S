/*
 * The Go-style callers on 386:
 *
 *   chain_run (C) -> goroutine_root | mstart_root -> go_main ->
 *   profiled_loop -> time_now -> walltime / nanotime
 *
 * Frames are laid out as Go's compiler lays them out on 386: no frame
 * pointer, one SUBL $N, SP on entry and ADDL $N, SP before RET, the
 * outgoing argument/result area at the bottom of the frame.  The CFI says
 * exactly what Go's pcsp table would: CFA = SP + N + 4 inside the frame,
 * return PC at CFA-4 (the default CIE).
 *
 * ABI0 lets walltime/nanotime clobber every register but SP, so nothing
 * is kept in a register across a call: loop state lives in the frame and
 * parameters are re-read from `chain`.  There is no g register on 386; g
 * is found through %gs, which the C side set up before chain_run.
 */
#include "offsets.h"

/* enum chain_call in runtime.h */
#define CHAIN_WALLTIME	1
#define CHAIN_NANOTIME	2

/* Written into the result slots before each call, so that a trampoline
 * that does not store its results cannot pass off the previous ones. */
#define RESULT_POISON	0x5eedbad5

	.text

/*
 * void chain_run(void (*root)(void))
 * C ABI, no CFI.  The C callee-saved registers and the C SP are parked in
 * `chain`, not on the C stack, because the roots leave through
 * chain_return with nothing but the global to find them by.
 */
	.globl	chain_run
	.type	chain_run, @function
	.p2align 4, 0xcc
chain_run:
	movl	4(%esp), %eax			// root
	movl	%ebx, chain+chain_saved_regs+0
	movl	%esi, chain+chain_saved_regs+4
	movl	%edi, chain+chain_saved_regs+8
	movl	%ebp, chain+chain_saved_regs+12
	movl	%esp, chain+chain_saved_sp	// at chain_run's return PC
	movl	chain+chain_stack_top, %esp
	jmp	*%eax				// a jump: nothing below the root's frame
	.size	chain_run, . - chain_run

/*
 * The roots play goexit (a goroutine's outermost frame) and mstart (g0's).
 * The return-address column is undefined, so a traceback ends at the root
 * and includes it.
 */
	.globl	goroutine_root
	.type	goroutine_root, @function
	.p2align 4, 0xcc
goroutine_root:
	.cfi_startproc
	.cfi_undefined %eip
	call	go_main
	jmp	chain_return
	.cfi_endproc
	.size	goroutine_root, . - goroutine_root

	.globl	mstart_root
	.type	mstart_root, @function
	.p2align 4, 0xcc
mstart_root:
	.cfi_startproc
	.cfi_undefined %eip
	call	go_main
	jmp	chain_return
	.cfi_endproc
	.size	mstart_root, . - mstart_root

/*
 * Back to C: chain_run's caller gets its SP and callee-saved registers
 * back and sees chain_run return.  No CFI: this is C-world code.
 */
	.type	chain_return, @function
	.p2align 4, 0xcc
chain_return:
	movl	chain+chain_saved_sp, %esp
	movl	chain+chain_saved_regs+0, %ebx
	movl	chain+chain_saved_regs+4, %esi
	movl	chain+chain_saved_regs+8, %edi
	movl	chain+chain_saved_regs+12, %ebp
	ret
	.size	chain_return, . - chain_return

/*
 * go_main: a $0 frame, no arguments to pass.  The CALL alone moves SP.
 */
	.globl	go_main
	.type	go_main, @function
	.p2align 4, 0xcc
go_main:
	.cfi_startproc
	call	profiled_loop
	ret
	.cfi_endproc
	.size	go_main, . - go_main

/*
 * profiled_loop: a $4 frame holding the loop counter (0(SP)), because
 * time_now and the trampolines below it clobber every register.
 */
	.globl	profiled_loop
	.type	profiled_loop, @function
	.p2align 4, 0xcc
profiled_loop:
	.cfi_startproc
	subl	$4, %esp
	.cfi_adjust_cfa_offset 4
	movl	$0, 0(%esp)
	movl	$0, chain+chain_iter_done
.Lloop:
	movl	0(%esp), %eax
	cmpl	chain+chain_iterations, %eax
	jae	.Ldone
	call	time_now
	movl	0(%esp), %eax
	incl	%eax
	movl	%eax, 0(%esp)
	movl	%eax, chain+chain_iter_done
	jmp	.Lloop
.Ldone:
	addl	$4, %esp
	.cfi_adjust_cfa_offset -4
	ret
	.cfi_endproc
	.size	profiled_loop, . - profiled_loop

/*
 * time_now: a $12 frame that is all outgoing result area, the largest
 * callee's: walltime's sec (int64) at 0(SP) and nsec (int32) at 8(SP),
 * nanotime's int64 at 0(SP) -- the callee sees them at 4(SP) on entry.
 */
	.globl	time_now
	.type	time_now, @function
	.p2align 4, 0xcc
time_now:
	.cfi_startproc
	subl	$12, %esp
	.cfi_adjust_cfa_offset 12
	testl	$CHAIN_WALLTIME, chain+chain_calls
	jz	.Lnowall
	movl	$RESULT_POISON, 0(%esp)
	movl	$RESULT_POISON, 4(%esp)
	movl	$RESULT_POISON, 8(%esp)
	call	walltime
	movl	0(%esp), %eax			// sec, low word
	movl	%eax, chain+chain_wall_sec
	movl	4(%esp), %eax			// sec, high word
	movl	%eax, chain+chain_wall_sec+4
	movl	8(%esp), %eax			// nsec
	movl	%eax, chain+chain_wall_nsec
.Lnowall:
	testl	$CHAIN_NANOTIME, chain+chain_calls	// re-read: walltime kept no register
	jz	.Lnomono
	movl	$RESULT_POISON, 0(%esp)
	movl	$RESULT_POISON, 4(%esp)
	call	nanotime
	movl	0(%esp), %eax			// nsec, low word
	movl	%eax, chain+chain_mono_nsec
	movl	4(%esp), %eax			// nsec, high word
	movl	%eax, chain+chain_mono_nsec+4
.Lnomono:
	addl	$12, %esp
	.cfi_adjust_cfa_offset -12
	ret
	.cfi_endproc
	.size	time_now, . - time_now

/*
 * int64 arch_call_nanotime(struct g *gp), cdecl: the signal handler's clock
 * read through this image's nanotime (Go's handler reads the clock too).
 * g comes from TLS, which the C caller has pointed at gp (m.gsignal, as
 * Go's sigtrampgo sets it); gp itself is not needed here.  The
 * trampolines clobber every register, so the cdecl callee-saved ones are
 * saved.  C-world code: no CFI.
 */
	.globl	arch_call_nanotime
	.type	arch_call_nanotime, @function
arch_call_nanotime:
	pushl	%ebx
	pushl	%esi
	pushl	%edi
	pushl	%ebp
	subl	$12, %esp		// ret+0(FP): 8 bytes at 0(SP) here, 4(SP) from nanotime's entry
	call	nanotime
	movl	0(%esp), %eax		// low word
	movl	4(%esp), %edx		// high word
	addl	$12, %esp
	popl	%ebp
	popl	%edi
	popl	%esi
	popl	%ebx
	ret
	.size	arch_call_nanotime, . - arch_call_nanotime

/*
 * void arch_call_walltime(struct g *gp, int64 out[2]), cdecl: the handler's
 * wall-clock read through this image's walltime.  Its (sec int64, nsec
 * int32) land in the 12 bytes below; `out` is the caller's second
 * argument, 36(SP) once they are reserved.
 */
	.globl	arch_call_walltime
	.type	arch_call_walltime, @function
arch_call_walltime:
	pushl	%ebx
	pushl	%esi
	pushl	%edi
	pushl	%ebp
	subl	$12, %esp		// sec+0(FP), nsec+8(FP) from walltime's entry
	call	walltime
	movl	36(%esp), %ecx		// out
	movl	0(%esp), %eax		// sec, low word
	movl	%eax, 0(%ecx)
	movl	4(%esp), %eax		// sec, high word
	movl	%eax, 4(%ecx)
	movl	8(%esp), %eax		// nsec, sign-extended
	movl	%eax, 8(%ecx)
	sarl	$31, %eax
	movl	%eax, 12(%ecx)
	addl	$12, %esp
	popl	%ebp
	popl	%edi
	popl	%esi
	popl	%ebx
	ret
	.size	arch_call_walltime, . - arch_call_walltime

	.section .note.GNU-stack, "", @progbits
