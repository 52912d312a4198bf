/*
 * 386 for the native Go engine.  Under ptrace from an x86-64 host: a
 * 32-bit tracee's registers come in the 64-bit user_regs_struct (EIP in
 * rip, ESP in rsp), int3 leaves EIP one past it.  In gdb's register block
 * (`g`, qemu-i386): EAX ECX EDX EBX ESP EBP ESI EDI EIP, 4 bytes each.
 * Go's 386 ABI0 passes cpuProfile.add's arguments on the stack: 0(SP) the
 * return address, 4 the receiver, 8 tagPtr, 12 stk's pointer, 16 its
 * length.
 */
#include <stddef.h>
#include <stdint.h>

#include "ptrace_arch.h"

enum { GDB_ESP = 4, GDB_EIP = 8 };

#define GDB_FACTS                                                                           \
	.gdb_pc = GDB_EIP, .gdb_sp = GDB_ESP, .gdb_lr = -1, .gdb_bp_kind = 1,               \
	.stk_ptr_reg = -1, .stk_len_reg = -1, .stk_ptr_off = 12, .stk_len_off = 16

#if defined(__x86_64__)
#include <sys/user.h>

static uint64_t i386_pc(const void *r) { return ((const struct user_regs_struct *)r)->rip & 0xffffffffu; }
static uint64_t i386_sp(const void *r) { return ((const struct user_regs_struct *)r)->rsp & 0xffffffffu; }
static void i386_set_pc(void *r, uint64_t pc) { ((struct user_regs_struct *)r)->rip = pc & 0xffffffffu; }

static uint64_t i386_reg(const void *r, int n)
{
	return n == GDB_ESP ? i386_sp(r) : n == GDB_EIP ? i386_pc(r) : 0;
}

static const uint8_t int3[] = { 0xcc };

const struct ptrace_arch ptrace_arch_386 = {
	.name = "386",
	.regs_size = sizeof(struct user_regs_struct),
	.pc = i386_pc, .sp = i386_sp, .set_pc = i386_set_pc, .reg = i386_reg,
	.bp_insn = int3, .bp_size = 1, .trap_pc_after = 1,
	GDB_FACTS,
};
#else
const struct ptrace_arch ptrace_arch_386 = { .name = "386", GDB_FACTS };
#endif
