/*
 * amd64 under ptrace, from an x86-64 host: user_regs_struct as the kernel
 * fills it, int3 (the trap leaves RIP one past it), and Go's ABIInternal
 * for cpuProfile.add's arguments: the receiver in RAX, tagPtr in RBX, stk
 * in RCX (pointer), RDI (length), RSI (capacity).
 */
#include <stddef.h>
#include <stdint.h>

#include "ptrace_arch.h"

#if defined(__x86_64__)
#include <sys/user.h>

static uint64_t amd64_pc(const void *r) { return ((const struct user_regs_struct *)r)->rip; }
static uint64_t amd64_sp(const void *r) { return ((const struct user_regs_struct *)r)->rsp; }
static void amd64_set_pc(void *r, uint64_t pc) { ((struct user_regs_struct *)r)->rip = pc; }

static int amd64_stk_arg(const void *r, int (*read_word)(void *, uint64_t, uint64_t *), void *ctx,
			 uint64_t *ptr, uint64_t *len)
{
	const struct user_regs_struct *u = r;
	(void)read_word, (void)ctx;
	*ptr = u->rcx;
	*len = u->rdi;
	return 0;
}

static const uint8_t int3[] = { 0xcc };

const struct ptrace_arch ptrace_arch_amd64 = {
	.name = "amd64",
	.regs_size = sizeof(struct user_regs_struct),
	.pc = amd64_pc, .sp = amd64_sp, .set_pc = amd64_set_pc,
	.bp_insn = int3, .bp_size = 1, .trap_pc_after = 1,
	.stk_arg = amd64_stk_arg,
};
#else
/* Another host: no tracing of amd64 from here. */
const struct ptrace_arch ptrace_arch_amd64 = { .name = "amd64" };
#endif
