/*
 * amd64 for the native Go engine.  Under ptrace from an x86-64 host:
 * user_regs_struct as the kernel fills it, int3 (the trap leaves RIP one
 * past it).  In gdb's register block (`g`, qemu-x86_64): RAX RBX RCX RDX
 * RSI RDI RBP RSP R8-R15 RIP, 8 bytes each, then EFLAGS and the rest.
 * Go's ABIInternal for cpuProfile.add's arguments: the receiver in RAX,
 * tagPtr in RBX, stk in RCX (pointer), RDI (length), RSI (capacity).
 */
#include <stddef.h>
#include <stdint.h>

#include "ptrace_arch.h"

enum { GDB_RCX = 2, GDB_RDI = 5, GDB_RSP = 7, GDB_RIP = 16 };

#define GDB_FACTS                                                                           \
	.gdb_pc = GDB_RIP, .gdb_sp = GDB_RSP, .gdb_lr = -1, .gdb_bp_kind = 1,               \
	.stk_ptr_reg = GDB_RCX, .stk_len_reg = GDB_RDI

#if defined(__x86_64__)
#include <sys/user.h>

static uint64_t amd64_pc(const void *r) { return ((const struct user_regs_struct *)r)->rip; }
static uint64_t amd64_sp(const void *r) { return ((const struct user_regs_struct *)r)->rsp; }
static void amd64_set_pc(void *r, uint64_t pc) { ((struct user_regs_struct *)r)->rip = pc; }

static uint64_t amd64_reg(const void *r, int n)
{
	const struct user_regs_struct *u = r;
	switch (n) {
	case GDB_RCX: return u->rcx;
	case GDB_RDI: return u->rdi;
	case GDB_RSP: return u->rsp;
	case GDB_RIP: return u->rip;
	default: return 0;	/* not one the engine asks for */
	}
}

static const uint8_t int3[] = { 0xcc };

const struct ptrace_arch ptrace_arch_amd64 = {
	.name = "amd64",
	.regs_size = sizeof(struct user_regs_struct),
	.pc = amd64_pc, .sp = amd64_sp, .set_pc = amd64_set_pc, .reg = amd64_reg,
	.bp_insn = int3, .bp_size = 1, .trap_pc_after = 1,
	GDB_FACTS,
};
#else
/* Another host: no ptrace of amd64 from here (qemu-x86_64's gdbstub still). */
const struct ptrace_arch ptrace_arch_amd64 = { .name = "amd64", GDB_FACTS };
#endif
