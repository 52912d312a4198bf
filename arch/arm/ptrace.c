/*
 * arm for the native Go engine.  No ptrace backend from this project's
 * hosts (x86-64): regs_size 0, so the engine runs arm programs under
 * qemu-arm's gdbstub.  In gdb's register block (`g`): R0-R15, 4 bytes
 * each (R13 SP, R14 LR, R15 PC), then the FPA registers, FPS and CPSR.
 * A call is BL: the return address is in LR, SP unchanged.  Go's arm ABI0
 * passes cpuProfile.add's arguments on the stack: 0(R13) the saved-LR
 * slot, 4 the receiver, 8 tagPtr, 12 stk's pointer, 16 its length.  A Z0
 * of kind 4: an ARM (not Thumb) instruction.
 */
#include <stddef.h>
#include <stdint.h>

#include "ptrace_arch.h"

const struct ptrace_arch ptrace_arch_arm = {
	.name = "arm",
	.gdb_pc = 15, .gdb_sp = 13, .gdb_lr = 14, .gdb_bp_kind = 4,
	.stk_ptr_reg = -1, .stk_len_reg = -1, .stk_ptr_off = 12, .stk_len_off = 16,
};
