/*
 * What the native Go engine needs to know of an arch (arch/<arch>/ptrace.c,
 * the same file in every arch folder): for the ptrace backend, the
 * registers as PTRACE_GETREGS gives them on this host and the breakpoint
 * instruction; for the gdb remote protocol (qemu-user's gdbstub), where
 * the pc, SP and link register are in its register block; for both,
 * where Go's runtime.(*cpuProfile).add finds its `stk` slice at entry.
 */
#ifndef SIGSTEP_PTRACE_ARCH_H
#define SIGSTEP_PTRACE_ARCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ptrace_arch {
	const char *name;		/* as arch_ops.name */

	/* ptrace from this host; regs_size 0: cannot trace it from here. */
	size_t regs_size;		/* PTRACE_GETREGS's buffer */
	uint64_t (*pc)(const void *regs);
	uint64_t (*sp)(const void *regs);
	void (*set_pc)(void *regs, uint64_t pc);
	/* A register of PTRACE_GETREGS's block by its gdb number (below). */
	uint64_t (*reg)(const void *regs, int gdb_regno);
	/* The breakpoint: these bytes over an instruction; after the trap
	 * the pc is `trap_pc_after` bytes past the breakpoint's address. */
	const uint8_t *bp_insn;
	unsigned bp_size, trap_pc_after;

	/* gdb's register numbers (its `g` packet's order: every register
	 * before these is one word, so register n is at n words). */
	int gdb_pc, gdb_sp;
	int gdb_lr;			/* the link register; -1: calls push the return address */
	unsigned gdb_bp_kind;		/* a Z0 packet's kind: the breakpoint's size */

	/*
	 * At the entry of runtime.(*cpuProfile).add(tagPtr, stk []uintptr):
	 * stk's pointer and length in registers (gdb numbers; Go's
	 * ABIInternal), or, when stk_ptr_reg is -1, on the stack at these
	 * offsets from SP (ABI0).
	 */
	int stk_ptr_reg, stk_len_reg;
	unsigned stk_ptr_off, stk_len_off;
};

/* The arch named `name`, NULL if none (generated from arch/<arch>/ptrace.c). */
const struct ptrace_arch *ptrace_arch_find(const char *name);

#endif
