/*
 * The host-side facts of one guest architecture, as one table.
 *
 * Generic harness code never asks which architecture it runs: it reads
 * registers, hooks the syscall instruction, checks ELF headers and
 * dispatches syscalls through this table.  Each arch/<arch>/unicorn.c
 * defines one `const struct arch_ops arch_<name>_ops`; the build lists
 * every arch/<arch>/unicorn.c in arch_ops_all, so adding an architecture
 * is adding a folder.
 */
#ifndef SIGSTEP_ARCH_OPS_H
#define SIGSTEP_ARCH_OPS_H

#include <stddef.h>
#include <stdint.h>
#include <unicorn/unicorn.h>
#include <capstone/capstone.h>

struct machine;
struct sigaction_rec;

/* What a signal frame records besides registers: the mask to restore at
 * rt_sigreturn and the sigaltstack as the handler's uc_stack shows it. */
struct sigframe_ctx {
	int sig;
	int code;			/* si_code */
	uint64_t oldmask;		/* uc_sigmask */
	uint64_t ss_sp, ss_size;	/* uc_stack */
	int ss_flags;			/* uc_stack's, set by sigframe_sp */
	/* get_sigframe's choice (sigframe_sp): */
	int altstack;			/* an alternate stack is set (not SS_DISABLE) */
	int onstack;			/* the handler asks for it (SA_ONSTACK) */
	unsigned red_zone;
};

/*
 * Linux's get_sigframe (sigdeliver.c): where the frame of a signal that
 * interrupted SP `sp` goes -- below the red zone, or at the top of the
 * alternate stack if asked and not on it already -- and uc_stack's
 * flags for it.  setup_rt_frame calls it with the SP it reads among the
 * frame's registers (one Unicorn call for all).
 */
uint64_t sigframe_sp(struct sigframe_ctx *ctx, uint64_t sp);

/*
 * An emulated syscall: gets the six argument registers (zero-extended
 * words) and returns the value for the return register (-errno on
 * failure).  A handler that ends the run (exit_group) calls machine_stop()
 * and its return value is ignored.
 */
typedef int64_t sys_handler(struct machine *mc, const uint64_t arg[6]);

struct sysent {
	uint32_t nr;
	const char *name;
	sys_handler *fn;	/* NULL: known by name only, not emulated */
};

/* How the arch enters the kernel, as Unicorn reports it. */
enum syscall_entry {
	SYSCALL_BY_INSN,	/* UC_HOOK_INSN on `syscall_insn` (x86_64 `syscall`) */
	SYSCALL_BY_INTR,	/* UC_HOOK_INTR with number `syscall_intno` */
};

/* What one instruction does to SP, by the rule of Go's assembler for the
 * arch (arch/README.md, "pcsp and SPWRITE"). */
enum sp_write {
	SP_NONE,		/* leaves SP alone (or only as a call/return does) */
	SP_TRACKED,		/* an adjustment Go's pcsp table follows */
	SP_UNTRACKED,		/* any other write: the function is SPWRITE */
};

struct arch_ops {
	const char *name;		/* "amd64": --arch and build/guest/<name> */
	uc_arch uc_arch;
	uc_mode uc_mode;
	int uc_cpu;			/* UC_CPU_* model, -1: Unicorn's default */
	/* The engine's page size, 0: Unicorn's.  QEMU chains translated
	 * blocks only within a page; every branch out of one looks its
	 * target up again. */
	uint32_t uc_page_size;
	cs_arch cs_arch;		/* for disassembly in reports */
	cs_mode cs_mode;

	unsigned char elf_class;	/* ELFCLASS32 / ELFCLASS64 */
	uint16_t elf_machine;		/* EM_X86_64, EM_386, EM_ARM */
	unsigned word_size;		/* 4 or 8 */
	unsigned pc_quantum;		/* instruction alignment: 1 or 4 */

	/* Unicorn register ids; -1 where the arch has none. */
	int reg_pc, reg_sp, reg_lr, reg_ret, reg_sysno, reg_arg[6], reg_g;

	enum syscall_entry syscall_entry;
	int syscall_insn;		/* SYSCALL_BY_INSN */
	uint32_t syscall_intno;		/* SYSCALL_BY_INTR */
	unsigned syscall_insn_size;	/* bytes */
	/* Where PC is while the syscall hook runs: 1 past the instruction
	 * (int 0x80, svc), 0 at it (x86_64 `syscall`: Unicorn adds the
	 * instruction's size after the hook returns, so a hook that moves
	 * PC must write its target minus syscall_insn_size). */
	int syscall_pc_past;

	/* The address space Linux would give a process of this arch. */
	uint64_t stack_top;		/* one past the initial stack */
	uint64_t mmap_base;		/* anonymous mappings are placed from here up */
	uint64_t mmap_end;
	uint64_t vdso_base;		/* default; the vvar page is one page below */
	/* The matrix's second placement: far from the default, still above
	 * the image's text (below it Go's sigprof says _System where it said
	 * _ExternalCode: scenarios/README.md), so every row must meet the
	 * same expectation there. */
	uint64_t vdso_base_alt;
	uint64_t address_limit;		/* one past the highest user address */

	/* Syscall numbers of this arch, sorted by nr. */
	const struct sysent *syscalls;
	size_t nsyscalls;

	/* Registers a fresh process starts with (processor mode first, then
	 * anything the mode banks) and per-process machine state such as a
	 * GDT.  Called once, after the image and stack are mapped and before
	 * PC and SP are set.  0 on success. */
	int (*init_cpu)(struct machine *mc);

	/* What the kernel's syscall return path does to registers besides the
	 * return value (x86_64: RCX and R11).  NULL if nothing. */
	void (*after_syscall)(struct machine *mc);

	/* Bytes below SP the interrupted code may own (x86-64's red zone):
	 * a signal frame on the same stack goes below them. */
	unsigned red_zone;
	/*
	 * Builds the rt signal frame (siginfo + ucontext of the current
	 * registers) where sigframe_sp(ctx, SP) says, as Linux's
	 * setup_rt_frame does for this arch, and sets the registers to
	 * enter act->handler with it.  0, or -1 if the frame cannot be
	 * written (Linux: SIGSEGV).
	 */
	int (*setup_rt_frame)(struct machine *mc, const struct sigaction_rec *act, struct sigframe_ctx *ctx);
	/*
	 * rt_sigreturn, called from its syscall hook: finds the frame from SP
	 * as the restorer left it, restores every register from its
	 * ucontext (PC as the frame holds it, less syscall_insn_size where
	 * !syscall_pc_past: Unicorn adds it after the hook) and gives
	 * uc_sigmask.  0, or -1 on an unreadable frame.
	 * With `pc_only` (machine.sigreturn_pc_only: the caller discards the
	 * CPU state the handler leaves, all but where it resumes) the frame
	 * is read and refused exactly as without, and the PC alone is
	 * written: the rest would be register writes no one reads.
	 */
	int (*restore_rt_frame)(struct machine *mc, uint64_t *mask, int pc_only);

	/*
	 * Go's rule for the instruction `insn` (decoded with detail on) of a
	 * function with a frame table: `at_entry` if it is the function's
	 * first instruction, `next` the instruction after it (NULL at the
	 * end).  x86: cmd/internal/obj/x86/obj6.go; arm: arm/obj5.go.  For
	 * SP_TRACKED, *spadj gets Go's Spadj: the bytes SP moved down (the
	 * frame grew), negative when it moved up.
	 */
	enum sp_write (*sp_write)(const cs_insn *insn, const cs_insn *next, int at_entry, long *spadj);
	/* Whether control never falls through to the next instruction (RET,
	 * an unconditional jump): the CFI may restate the frame after it. */
	int (*ends_block)(const cs_insn *insn);
	/* The rule in one line, for an error about a file that breaks it. */
	const char *pcsp_rule;

	/* --- What a full Linux process (a real Go program) needs --- */
	/* uname's machine field ("x86_64", "i686", "armv7l"). */
	const char *uname_machine;
	/* Where a Go program's runtime.(*cpuProfile).add finds its stk
	 * slice at entry: in registers under ABIInternal (amd64: RCX, RDI;
	 * -1: none), else at SP + go_stk_stack_off (ptr, then len). */
	int go_stk_reg_ptr, go_stk_reg_len;
	unsigned go_stk_stack_off;
	/* struct epoll_event's data field offset: 4 (packed, x86) or 8 (arm EABI). */
	unsigned epoll_data_offset;
	/* AT_HWCAP in the auxiliary vector of a full Linux process (0: none). */
	uint64_t hwcap;
	/* clone's argument holding the new TLS under CLONE_SETTLS (x86_64's
	 * clone(flags, stack, ptid, ctid, tls): 4; i386 and arm put tls
	 * before ctid: 3), and how the child gets it, called when the child
	 * first runs (the live CPU is the child's).  0 or -1 (a fault). */
	int clone_tls_arg;
	int (*clone_set_tls)(struct machine *mc, uint64_t tls);
	/* Per-thread machine state Unicorn's context does not hold (386: the
	 * GDT's TLS entries), at most THREAD_STATE_MAX bytes; NULL: none. */
	void (*thread_state_save)(struct machine *mc, uint8_t *state);
	void (*thread_state_restore)(struct machine *mc, const uint8_t *state);
	/* Hooks making the CPU the one a program sees on Linux, the same on
	 * every run (x86: CPUID).  Installed once per machine; NULL: none. */
	int (*install_cpu_hooks)(struct machine *mc);
	/* Makes the time-stamp counter deterministic for the code in
	 * [begin, end) (x86: each RDTSC/RDTSCP there reads the emulated
	 * clock; Unicorn 2.0.1 gives the host's TSC and hooks no RDTSC).
	 * NULL: the arch has none a program reads. */
	int (*pin_timestamp_counter)(struct machine *mc, uint64_t begin, uint64_t end);
	/* The kernel's sigpage (arm): code a handler installed without
	 * SA_RESTORER returns through.  0 size: none; such a handler cannot
	 * be delivered to. */
	uint64_t sigpage_addr;
	const uint8_t *sigpage_code;
	unsigned sigpage_size;
	unsigned sigpage_rt_offset;	/* the rt_sigreturn snippet within it */

	/* Running the image as a real process (sigstep native). */
	const char *qemu_user;		/* the qemu-user emulator of this arch */
	/* uname's machines whose CPU can run it directly, space-separated
	 * (NULL: none); whether this one does is found by trying an image
	 * (harness/native/host.h). */
	const char *host_machines;

	/* Go 1.19's wall-clock vDSO trampoline on this arch: "walltime", or
	 * "time.now" where time.now is assembly calling the vDSO itself (and
	 * there is no runtime.walltime). */
	const char *go_walltime;
};

/* Every arch the harness knows, NULL-terminated (generated by the build
 * from the folders of arch/ that hold a unicorn.c). */
extern const struct arch_ops *const arch_ops_all[];

/* The arch named `name` ("386", "amd64", "arm"), NULL if none. */
const struct arch_ops *arch_ops_find(const char *name);

/* The sysent for `nr`, NULL if the arch has no such number. */
const struct sysent *arch_syscall_lookup(const struct arch_ops *ops, uint64_t nr);

#endif
