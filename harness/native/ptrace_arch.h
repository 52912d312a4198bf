/*
 * What the ptrace engine needs to know of an arch (arch/<arch>/ptrace.c,
 * one per arch that has a way to trace it on this host): the registers as
 * PTRACE_GETREGS gives them on this host, the breakpoint instruction, and
 * where Go's runtime.(*cpuProfile).add finds its `stk` slice at entry.
 */
#ifndef SIGSTEP_PTRACE_ARCH_H
#define SIGSTEP_PTRACE_ARCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ptrace_arch {
	const char *name;		/* as arch_ops.name */
	size_t regs_size;		/* PTRACE_GETREGS's buffer; 0: cannot trace it from this host */
	uint64_t (*pc)(const void *regs);
	uint64_t (*sp)(const void *regs);
	void (*set_pc)(void *regs, uint64_t pc);
	/* The breakpoint: these bytes over an instruction; after the trap
	 * the pc is `trap_pc_after` bytes past the breakpoint's address. */
	const uint8_t *bp_insn;
	unsigned bp_size, trap_pc_after;
	/*
	 * At the entry of runtime.(*cpuProfile).add(tagPtr, stk []uintptr):
	 * where stk's pointer and length are.  read_word(ctx, addr) reads one
	 * guest word.  0, or -1 if unreadable.
	 */
	int (*stk_arg)(const void *regs, int (*read_word)(void *ctx, uint64_t addr, uint64_t *v), void *ctx,
		       uint64_t *ptr, uint64_t *len);
};

/* The arch named `name`, NULL if none (generated from arch/<arch>/ptrace.c). */
const struct ptrace_arch *ptrace_arch_find(const char *name);

#endif
