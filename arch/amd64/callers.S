/*
 * The Go-style callers on amd64:
 *
 *   chain_run (C ABI) -> goroutine_root | mstart_root -> go_main ->
 *   profiled_loop -> time_now -> walltime / nanotime
 *
 * Each Go-style function has the frame Go's compiler gives a function with
 * a frame of $N-8 (N-8 bytes of locals and outgoing arguments/results at
 * the bottom, then the saved BP), with Go 1.19's prologue and epilogue:
 *
 *	SUBQ $N, SP; MOVQ BP, N-8(SP); LEAQ N-8(SP), BP
 *	...
 *	MOVQ N-8(SP), BP; ADDQ $N, SP; RET
 *
 * and CFI saying what Go's pcsp table says: the SP adjustments, nothing
 * about BP.  The frame sizes differ (8, 16, 32) so that a traceback that
 * takes one frame for another gives a wrong answer, not a lucky one.
 *
 * The trampolines clobber every register Go's ABI lets them clobber
 * (including BP for the Go 1.10/1.11 ones and R12 for master), so nothing
 * stays live in a register across a CALL here: the loop counter lives in
 * the frame, R14 (g) and SP are the only registers relied upon, and BP is
 * reloaded from the frame by each epilogue, as compiled Go code does.
 */
#include "offsets.h"	/* also CHAIN_WALLTIME, CHAIN_NANOTIME */

	.text

/*
 * void chain_run(void (*root)(void)), C ABI.  Saves the C callee-saved
 * registers and SP in `chain`, loads g into R14 and SP from chain, and
 * jumps to root: the root is the outermost frame, nothing is below it.
 * No CFI: this is C-world code.
 */
	.globl	chain_run
	.type	chain_run, @function
chain_run:
	movq	%rbx, chain+chain_saved_regs+0(%rip)
	movq	%rbp, chain+chain_saved_regs+8(%rip)
	movq	%r12, chain+chain_saved_regs+16(%rip)
	movq	%r13, chain+chain_saved_regs+24(%rip)
	movq	%r14, chain+chain_saved_regs+32(%rip)
	movq	%r15, chain+chain_saved_regs+40(%rip)
	movq	%rsp, chain+chain_saved_sp(%rip)	/* 0(saved_sp) = our return PC */
	movq	chain+chain_g(%rip), %r14	/* R14 = g, Go's ABIInternal g register; master relies on it */
	movq	chain+chain_stack_top(%rip), %rsp
	xorl	%ebp, %ebp			/* the frame-pointer chain starts at the root */
	jmp	*%rdi
	.size	chain_run, . - chain_run

/*
 * Where the roots go when go_main returns: back onto the C stack, with the
 * C callee-saved registers, returning to chain_run's caller.  C-world code:
 * no CFI.
 */
	.type	chain_return, @function
chain_return:
	movq	chain+chain_saved_sp(%rip), %rsp
	movq	chain+chain_saved_regs+0(%rip), %rbx
	movq	chain+chain_saved_regs+8(%rip), %rbp
	movq	chain+chain_saved_regs+16(%rip), %r12
	movq	chain+chain_saved_regs+24(%rip), %r13
	movq	chain+chain_saved_regs+32(%rip), %r14
	movq	chain+chain_saved_regs+40(%rip), %r15
	ret
	.size	chain_return, . - chain_return

/*
 * goroutine_root plays goexit (the bottom of a goroutine's stack),
 * mstart_root plays mstart (the bottom of g0's).  Neither was called: the
 * return-address column is undefined, so a traceback ends here, with the
 * root as the last frame.
 */
	.globl	goroutine_root
	.type	goroutine_root, @function
goroutine_root:
	.cfi_startproc
	.cfi_undefined %rip
	call	go_main
	jmp	chain_return
	.cfi_endproc
	.size	goroutine_root, . - goroutine_root

	.globl	mstart_root
	.type	mstart_root, @function
mstart_root:
	.cfi_startproc
	.cfi_undefined %rip
	call	go_main
	jmp	chain_return
	.cfi_endproc
	.size	mstart_root, . - mstart_root

/* func go_main(), frame $0: only the saved BP. */
	.globl	go_main
	.type	go_main, @function
go_main:
	.cfi_startproc
	subq	$8, %rsp
	.cfi_adjust_cfa_offset 8
	movq	%rbp, 0(%rsp)
	leaq	0(%rsp), %rbp
	call	profiled_loop
	movq	0(%rsp), %rbp
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	ret
	.cfi_endproc
	.size	go_main, . - go_main

/*
 * func profiled_loop(), frame $8: the counter i at 0(SP), in memory
 * because no register survives time_now.  Runs chain.iterations (>= 1)
 * times, publishing i in chain.iter_done after each call.
 */
	.globl	profiled_loop
	.type	profiled_loop, @function
profiled_loop:
	.cfi_startproc
	subq	$16, %rsp
	.cfi_adjust_cfa_offset 16
	movq	%rbp, 8(%rsp)
	leaq	8(%rsp), %rbp
	movq	$0, 0(%rsp)
	movq	$0, chain+chain_iter_done(%rip)
.Lprofiled_loop_again:
	call	time_now
	movq	0(%rsp), %rax
	incq	%rax
	movq	%rax, 0(%rsp)
	movq	%rax, chain+chain_iter_done(%rip)
	cmpq	chain+chain_iterations(%rip), %rax
	jb	.Lprofiled_loop_again
	movq	8(%rsp), %rbp
	addq	$16, %rsp
	.cfi_adjust_cfa_offset -16
	ret
	.cfi_endproc
	.size	profiled_loop, . - profiled_loop

/*
 * func time_now(), frame $24: chain.calls spilled at 16(SP) (no register
 * survives walltime), and at the bottom the outgoing result area of
 * walltime (sec at 0(SP), nsec at 8(SP)) and nanotime (ret at 0(SP)), as
 * ABI0 lays it out: the callee sees it at 8(SP), just above its return PC.
 *
 * With chain.stack_top 16-byte aligned, the frames here (8, 16, 32 plus
 * return PCs) enter walltime/nanotime with SP = 8 (mod 16): the Go 1.11
 * trampolines' ANDQ $~15, SP then really moves SP on the noswitch path
 * (the window of Go issue 24925).  master's own $24 prologue makes its
 * ANDQ a no-op at that alignment; a stack_top of 8 (mod 16) swaps the two.
 */
	.globl	time_now
	.type	time_now, @function
time_now:
	.cfi_startproc
	subq	$32, %rsp
	.cfi_adjust_cfa_offset 32
	movq	%rbp, 24(%rsp)
	leaq	24(%rsp), %rbp
	movq	chain+chain_calls(%rip), %rax
	movq	%rax, 16(%rsp)
	testq	$CHAIN_WALLTIME, %rax
	jz	.Ltime_now_nowall
	call	walltime
	movq	0(%rsp), %rax			/* sec */
	movq	%rax, chain+chain_wall_sec(%rip)
	movl	8(%rsp), %eax			/* nsec, an int32 in [0, 1e9) */
	movq	%rax, chain+chain_wall_nsec(%rip)
.Ltime_now_nowall:
	testq	$CHAIN_NANOTIME, 16(%rsp)
	jz	.Ltime_now_nomono
	call	nanotime
	movq	0(%rsp), %rax
	movq	%rax, chain+chain_mono_nsec(%rip)
.Ltime_now_nomono:
	movq	24(%rsp), %rbp
	addq	$32, %rsp
	.cfi_adjust_cfa_offset -32
	ret
	.cfi_endproc
	.size	time_now, . - time_now

/*
 * int64 arch_call_nanotime(struct g *gp), C ABI: the signal handler's clock
 * read (Go's handler reads the clock too: cpuprof.add -> nanotime), through
 * this image's nanotime, with g = gp (m.gsignal, as Go's sigtrampgo sets
 * it).  The trampolines clobber every register Go's ABI0 lets them, so the
 * C callee-saved ones are saved here; R14 is loaded with g because the
 * Go 1.17-on variants read g from it.  Six pushes leave SP 16-byte aligned
 * minus 8, as at a C function's entry; the $16 below keeps that.  C-world
 * code: no CFI (the handler's own frames are never traced back).
 */
	.globl	arch_call_nanotime
	.type	arch_call_nanotime, @function
arch_call_nanotime:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rdi, %r14		// g for the Go-style code
	subq	$16, %rsp		// nanotime's ret+0(FP) at 0(SP) here, 8(SP) from its entry
	call	nanotime
	movq	0(%rsp), %rax
	addq	$16, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret
	.size	arch_call_nanotime, . - arch_call_nanotime

/*
 * void arch_call_walltime(struct g *gp, int64 out[2]), C ABI: the handler's
 * wall-clock read through this image's walltime, as arch_call_nanotime
 * reads nanotime.  walltime's (sec int64, nsec int32) come back at 0(SP)
 * and 8(SP) here; `out` waits at 16(SP) across the call, since the
 * trampolines clobber every register ABI0 lets them.
 */
	.globl	arch_call_walltime
	.type	arch_call_walltime, @function
arch_call_walltime:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rdi, %r14		// g for the Go-style code
	subq	$32, %rsp		// keeps SP as $16 does in arch_call_nanotime
	movq	%rsi, 16(%rsp)
	call	walltime
	movq	16(%rsp), %rsi
	movq	0(%rsp), %rax		// sec
	movq	%rax, 0(%rsi)
	movslq	8(%rsp), %rax		// nsec
	movq	%rax, 8(%rsi)
	addq	$32, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret
	.size	arch_call_walltime, . - arch_call_walltime

	.section .note.GNU-stack, "", @progbits
