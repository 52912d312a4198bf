/*
 * 386 entry, raw syscalls, signal entry and exit, and the thread pointer.
 *
 * These are C-world helpers: none of them carries CFI, because the guest's
 * traceback treats every function with an FDE as a Go-style function.
 * C calling convention (cdecl): arguments on the stack, %ebx %esi %edi
 * %ebp callee-saved, and the stack 16-byte aligned at every call into C.
 */
#include "arch.h"

	.section .text.start, "ax", @progbits

/*
 * The kernel enters with %esp at argc and no return address.  guest_main
 * gets that pointer and never returns.
 */
	.globl	_start
	.type	_start, @function
_start:
	xorl	%ebp, %ebp		// no caller frame, for debuggers
	movl	%esp, %eax		// the kernel's initial stack: argc at 0
	andl	$-16, %esp
	subl	$12, %esp		// 12 + the pushed argument = 16: aligned at the call
	pushl	%eax
	call	guest_main
	hlt				// guest_main does not return; fault if it does
	.size	_start, . - _start

	.text

/*
 * long arch_syscall6(long n, long a1, long a2, long a3, long a4, long a5, long a6)
 * INT $0x80 takes n in %eax and a1..a6 in %ebx %ecx %edx %esi %edi %ebp;
 * four of those are callee-saved in C, so they are saved around the trap.
 * Returns the raw result (-errno on failure).
 */
	.globl	arch_syscall6
	.type	arch_syscall6, @function
	.p2align 4, 0xcc
arch_syscall6:
	pushl	%ebp
	pushl	%edi
	pushl	%esi
	pushl	%ebx
	movl	20(%esp), %eax		// n (4 saved registers + return PC above it)
	movl	24(%esp), %ebx
	movl	28(%esp), %ecx
	movl	32(%esp), %edx
	movl	36(%esp), %esi
	movl	40(%esp), %edi
	movl	44(%esp), %ebp
	int	$0x80
	popl	%ebx
	popl	%esi
	popl	%edi
	popl	%ebp
	ret
	.size	arch_syscall6, . - arch_syscall6

/*
 * The SA_SIGINFO handler.  The kernel calls it like a cdecl function:
 * return address (our arch_sigreturn) at 0(%esp), then sig, info, uc.
 * Linux aligns that frame for C, but the harness's own delivery need not,
 * so realign before calling sighandler.  %ebp keeps the entry SP: C
 * preserves it, and the interrupted %ebp is restored by rt_sigreturn.
 */
	.globl	arch_sigtramp
	.type	arch_sigtramp, @function
	.p2align 4, 0xcc
arch_sigtramp:
	pushl	%ebp
	movl	%esp, %ebp
	andl	$-16, %esp
	subl	$4, %esp		// 4 + 3 pushed arguments = 16: aligned at the call
	pushl	16(%ebp)		// uc
	pushl	12(%ebp)		// info
	pushl	8(%ebp)			// sig
	call	sighandler
	movl	%ebp, %esp
	popl	%ebp
	ret
	.size	arch_sigtramp, . - arch_sigtramp

/*
 * The SA_RESTORER.  Reached by arch_sigtramp's RET with %esp just above
 * the popped return address, where rt_sigreturn expects it.
 */
	.globl	arch_sigreturn
	.type	arch_sigreturn, @function
	.p2align 4, 0xcc
arch_sigreturn:
	movl	$SYS_rt_sigreturn, %eax
	int	$0x80
	hlt				// rt_sigreturn does not return
	.size	arch_sigreturn, . - arch_sigreturn

/*
 * void arch_set_thread_pointer(uintptr tp)
 * As Go's runtime·settls on linux/386: install a flat 4 GiB data segment
 * based at tp in a free GDT slot, then load %gs with its selector, so
 * that %gs:0 is tp.  struct user_desc (asm/ldt.h) is built on the stack:
 *   0 entry_number = -1 (kernel picks a free slot and writes it back)
 *   4 base_addr = tp
 *   8 limit = 0xfffff (pages, with limit_in_pages)
 *  12 flags: seg_32bit (bit 0) | limit_in_pages (bit 4) | useable (bit 6)
 */
#define USER_DESC_FLAGS	0x51

	.globl	arch_set_thread_pointer
	.type	arch_set_thread_pointer, @function
	.p2align 4, 0xcc
arch_set_thread_pointer:
	pushl	%ebx			// callee-saved in C; the syscall's first argument
	movl	8(%esp), %eax		// tp
	subl	$16, %esp		// struct user_desc
	movl	$-1, 0(%esp)
	movl	%eax, 4(%esp)
	movl	$0xfffff, 8(%esp)
	movl	$USER_DESC_FLAGS, 12(%esp)
	movl	%esp, %ebx
	movl	$SYS_set_thread_area, %eax
	int	$0x80
	testl	%eax, %eax
	jnz	1f			// no TLS segment: nothing that reads g can work
	movl	0(%esp), %eax		// the entry number the kernel chose
	shll	$3, %eax		// selector = index << 3 | GDT (TI=0) | RPL 3
	orl	$3, %eax
	movw	%ax, %gs
	addl	$16, %esp
	popl	%ebx
	ret
1:
	hlt
	.size	arch_set_thread_pointer, . - arch_set_thread_pointer

	.section .note.GNU-stack, "", @progbits
