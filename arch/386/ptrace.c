/*
 * 386 under ptrace, from an x86-64 host: a 32-bit tracee's registers come
 * in the 64-bit user_regs_struct (EIP in rip, ESP in rsp), int3 leaves EIP
 * one past it, and Go's 386 ABI0 passes cpuProfile.add's arguments on the
 * stack: 0(SP) the return address, 4 the receiver, 8 tagPtr, 12 stk's
 * pointer, 16 its length.
 */
#include <stddef.h>
#include <stdint.h>

#include "ptrace_arch.h"

#if defined(__x86_64__)
#include <sys/user.h>

static uint64_t i386_pc(const void *r) { return ((const struct user_regs_struct *)r)->rip & 0xffffffffu; }
static uint64_t i386_sp(const void *r) { return ((const struct user_regs_struct *)r)->rsp & 0xffffffffu; }
static void i386_set_pc(void *r, uint64_t pc) { ((struct user_regs_struct *)r)->rip = pc & 0xffffffffu; }

static int i386_stk_arg(const void *r, int (*read_word)(void *, uint64_t, uint64_t *), void *ctx,
			uint64_t *ptr, uint64_t *len)
{
	uint64_t sp = i386_sp(r);
	return read_word(ctx, sp + 12, ptr) || read_word(ctx, sp + 16, len) ? -1 : 0;
}

static const uint8_t int3[] = { 0xcc };

const struct ptrace_arch ptrace_arch_386 = {
	.name = "386",
	.regs_size = sizeof(struct user_regs_struct),
	.pc = i386_pc, .sp = i386_sp, .set_pc = i386_set_pc,
	.bp_insn = int3, .bp_size = 1, .trap_pc_after = 1,
	.stk_arg = i386_stk_arg,
};
#else
const struct ptrace_arch ptrace_arch_386 = { .name = "386" };
#endif
