/*
 * One emulated process: a Unicorn instance, the table of its mapped
 * regions, and the state of its run (captured output, exit status, the
 * fault that stopped it).
 *
 * Guest memory is host memory the harness allocates and hands to Unicorn
 * (uc_mem_map_ptr), so the harness reads and writes it with memcpy and
 * later layers can snapshot writable regions by copying them.  The region
 * table is the harness's own record of the address space: what each range
 * is (image text, vDSO, stack, guard page...) and its protection, kept in
 * step with Unicorn's on every map/unmap/protect -- except that a
 * PROT_NONE range (a guard page, a runtime's reservation) is mapped in no
 * engine until it becomes accessible, and an access to it is reported as
 * the protection fault it is (machine.c, in_engines).
 */
#ifndef SIGSTEP_MACHINE_H
#define SIGSTEP_MACHINE_H

#include <stddef.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

#include "arch_ops.h"

#define GUEST_PAGE 4096ull

enum region_kind {
	REGION_IMAGE_TEXT,	/* a PT_LOAD of the guest image with PF_X */
	REGION_IMAGE_DATA,	/* any other PT_LOAD of the guest image */
	REGION_VDSO,		/* the synthetic vDSO's PT_LOADs */
	REGION_VVAR,		/* its data page, one page below */
	REGION_STACK,		/* the initial process stack */
	REGION_GUARD,		/* PROT_NONE below the stack: overflow faults */
	REGION_MMAP,		/* anonymous mmap by the guest */
	REGION_SYSTEM,		/* machine state the guest may not touch (386 GDT) */
};

struct region {
	uint64_t begin, end;	/* page aligned, end exclusive */
	uint32_t perms;		/* UC_PROT_* */
	enum region_kind kind;
	char name[40];
	uint8_t *host;		/* guest byte `begin` lives at host[0] */
};

/* Why the last run stopped short of exit_group. */
enum fault_kind {
	FAULT_NONE,
	FAULT_READ_UNMAPPED, FAULT_WRITE_UNMAPPED, FAULT_FETCH_UNMAPPED,
	FAULT_READ_PROT, FAULT_WRITE_PROT, FAULT_FETCH_PROT,
	FAULT_INVALID_INSN,	/* undefined instruction */
	FAULT_TRAP,		/* a CPU exception that is not a syscall (int3, bkpt, hlt...) */
	FAULT_UNSUPPORTED_SYSCALL,
	FAULT_STOPPED,		/* emulation ended with no exit and no exception */
	FAULT_TIMEOUT,		/* the run's time limit passed */
	FAULT_ENGINE,		/* Unicorn reported some other error */
	FAULT_INSN_LIMIT,	/* the run's instruction limit was reached */
	FAULT_DEADLOCK,		/* every thread waits, none with a deadline */
};

struct fault {
	enum fault_kind kind;
	uint64_t pc;		/* where it happened */
	uint64_t addr;		/* the data address (memory faults) */
	uint64_t number;	/* interrupt or syscall number */
	int uc_err;		/* FAULT_ENGINE: the uc_err */
	int pc_exact;		/* 0: pc is only the start of the faulting block */
};

struct outbuf {
	char *data;
	size_t len, cap;
	size_t dropped;		/* bytes beyond OUTBUF_MAX, not kept */
};

#define OUTBUF_MAX (16u << 20)

#define MACHINE_MAX_ENGINES 4

struct host_block;
struct sys_state;
struct thread_table;

/*
 * A store path (machine_set_store): makes one guest store of `size` bytes
 * of `value` (little-endian) at addr, on a page the guest has writable and
 * the engines have read-only; r is the region holding addr.  true: made;
 * false: the guest's protection fault.
 */
typedef bool (*machine_store_fn)(void *ctx, const struct region *r, uint64_t addr, int size, uint64_t value);

struct machine {
	const struct arch_ops *ops;
	uc_engine *uc;

	struct region *regions;	/* sorted by begin, never overlapping */
	size_t nregions, cap;
	size_t recent[2];	/* machine_region's two last answers, tried first */
	struct host_block *blocks;	/* host memory behind the regions */
	/* Regions removed so far: a host pointer into a region taken when
	 * this was n stays valid while it is n (splits and protection keep
	 * the host memory; only a removal may free it). */
	uint64_t removals;

	uint64_t mmap_next;	/* next address the mmap arena hands out */
	uint64_t brk;		/* the program break (brk never moves it) */

	/* Run state. */
	int exited;		/* exit_group was called */
	int exit_status;
	int stopped;		/* machine_stop was called: uc_emu_start returns */
	int timed_out;		/* the last run was stopped by its time limit */
	struct run_deadline *deadline;	/* the thread keeping it (run_deadline.c), from the first timed run */
	struct fault fault;
	struct outbuf out[3];	/* what the guest wrote to fd 1 and 2 */

	struct sys_state *sys;	/* emulated kernel state (syscalls.c) */
	struct thread_table *threads;	/* its threads (threads.c) */

	/* Called on the arch's syscall instruction, PC already past it. */
	void (*on_syscall)(struct machine *mc);
	void *owner;		/* the layer driving the machine, for its on_syscall */
	/* Called on any other CPU exception; NULL: the run stops with
	 * FAULT_TRAP.  (Signal delivery installs its own.) */
	void (*on_trap)(struct machine *mc, uint32_t intno);

	/* Set by the layer whose handler runs end with their CPU state
	 * thrown away: rt_sigreturn writes only the PC (arch_ops.h,
	 * restore_rt_frame). */
	int sigreturn_pc_only;

	/* machine_set_store's store path, NULL: none. */
	machine_store_fn store;
	void *store_ctx;

	uc_hook hooks[4];
	uc_hook arch_hooks[4];	/* the arch's own (CPUID...), see arch_ops.install_cpu_hooks */
	int narch_hooks;
	int nhooks;

	/* More Unicorn instances over the same memory (machine_add_engine):
	 * every map, unmap, protect and dropped translation applies to each.
	 * `uc` is the one that runs; `engine[0]` the first, created with the
	 * machine. */
	uc_engine *engine[MACHINE_MAX_ENGINES];
	int nengines;
};

/* A machine for `ops`, with no memory mapped.  NULL if Unicorn refuses. */
struct machine *machine_create(const struct arch_ops *ops);
void machine_destroy(struct machine *mc);

/*
 * Another Unicorn instance of the same CPU over the machine's memory as
 * it is mapped now (the same host pages: a store made in one is seen by
 * the others), with the machine's own fault, interrupt and syscall hooks
 * and no translations.  Its CPU state is its own: copy a context in
 * (uc_context_save on one, uc_context_restore on the other) and make it
 * mc->uc to run it.  Unicorn's protection of every page is the guest's,
 * as in a fresh machine.  NULL if Unicorn refuses.
 */
uc_engine *machine_add_engine(struct machine *mc);
/*
 * A layer that keeps the guest's writable pages read-only in the engines
 * (uc_mem_protect; the region table keeps the guest's protection) so as
 * to see every store (the probe, to log them) gets each store to such a
 * page here, in every engine, from the machine's one memory-fault hook
 * with the region already found: `store` must make it on host memory
 * (Unicorn 2.0.1 drops a store whose TLB entry was filled while the page
 * was read-only).  A store it refuses ends the run as Unicorn's write
 * protection fault.  NULL: no store path (such a store is that fault).
 */
void machine_set_store(struct machine *mc, machine_store_fn store, void *ctx);
/* Drops the translations of [begin, end) in every engine (code that
 * changed under them). */
void machine_drop_code(struct machine *mc, uint64_t begin, uint64_t end);

/*
 * Maps [begin, end) (page aligned) with fresh zeroed memory.  Fails
 * (-1) if the range is not page aligned, empty, beyond the arch's address
 * limit or overlaps a mapped region.
 */
int machine_map(struct machine *mc, uint64_t begin, uint64_t end, uint32_t perms,
		enum region_kind kind, const char *name);
/* Unmaps every mapped page in [begin, end); gaps are fine.  0 or -1. */
int machine_unmap(struct machine *mc, uint64_t begin, uint64_t end);
/* Changes the protection of [begin, end), which must be mapped entirely
 * (-1 otherwise, nothing changed). */
int machine_protect(struct machine *mc, uint64_t begin, uint64_t end, uint32_t perms);
/* The region containing addr, NULL if unmapped. */
const struct region *machine_region(const struct machine *mc, uint64_t addr);
/* True if no page of [begin, end) is mapped. */
int machine_range_free(const struct machine *mc, uint64_t begin, uint64_t end);

const char *region_kind_name(enum region_kind kind);

/*
 * Host-side access to guest memory, ignoring guest protection (what a
 * debugger sees).  0 on success, -1 if any byte is unmapped.  Writes to
 * executable pages drop Unicorn's translations of them.
 */
int machine_read(const struct machine *mc, uint64_t addr, void *buf, size_t len);
int machine_write(struct machine *mc, uint64_t addr, const void *buf, size_t len);
/* Words of the guest's size, zero-extended. */
int machine_read_word(const struct machine *mc, uint64_t addr, uint64_t *value);
int machine_write_word(struct machine *mc, uint64_t addr, uint64_t value);

/*
 * Access as the kernel does on a syscall's behalf: every byte must be
 * mapped with `need` (UC_PROT_READ or UC_PROT_WRITE), else -1 (the caller
 * returns -EFAULT).
 */
int machine_copy_in(const struct machine *mc, uint64_t addr, void *buf, size_t len);
int machine_copy_out(struct machine *mc, uint64_t addr, const void *buf, size_t len);
/* Whether machine_copy_in of those bytes would succeed (0), with no copy. */
int machine_can_read(const struct machine *mc, uint64_t addr, size_t len);

/* Registers, zero-extended to 64 bits. */
uint64_t machine_reg(const struct machine *mc, int reg);
void machine_set_reg(struct machine *mc, int reg, uint64_t value);
/* The same for n registers in one Unicorn call (a signal frame's worth),
 * in the order given. */
void machine_regs(const struct machine *mc, const int *regs, uint64_t *values, int n);
void machine_set_regs(struct machine *mc, const int *regs, const uint64_t *values, int n);
uint64_t machine_pc(const struct machine *mc);
uint64_t machine_sp(const struct machine *mc);

/* Ends the current uc_emu_start (from inside a hook). */
void machine_stop(struct machine *mc);
/* Records a fault, then stops. */
void machine_fault(struct machine *mc, enum fault_kind kind, uint64_t pc, uint64_t addr, uint64_t number);

/* Makes [begin, end) (mapped, page aligned) read as zeros again, as a
 * fresh anonymous mapping does, without touching the pages.  0 or -1. */
int machine_zero(struct machine *mc, uint64_t begin, uint64_t end);

/* Appends guest output for fd 1 or 2. */
void machine_capture(struct machine *mc, int fd, const void *buf, size_t len);

/*
 * Runs from the current PC until exit_group, a fault, `max_insns`
 * instructions or `timeout_us` (0: no limit; an instruction limit makes
 * Unicorn count every instruction, which is slow; the time limit is the
 * machine's own thread's, not Unicorn's, and a run it stops ends as
 * FAULT_STOPPED with `timed_out` set).  Installs the
 * memory-fault and interrupt hooks on first use.  Returns 0 if the guest
 * exited, 1 if not (mc->fault says why).
 */
int machine_run(struct machine *mc, uint64_t max_insns, uint64_t timeout_us);

const char *fault_kind_name(enum fault_kind kind);

#endif
