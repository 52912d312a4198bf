/*
 * The probe loop.  The guest runs at full speed up to the root of the
 * chosen chain (a one-instruction code hook), then the chain runs in one
 * uc_emu_start with a code hook on its instructions, and at each
 * boundary, from that hook, before the instruction runs:
 *
 *   1. the shadow stack has taken the instruction that led here;
 *   2. the CPU state goes into the handler's engine (a second Unicorn
 *      instance over the same memory: "Engines" below) and the emulated
 *      kernel's state is copied; every store the handler makes outside
 *      the signal stack is logged by the store hook with the bytes it
 *      overwrites: in the image's data and bss (where the handler keeps
 *      its sample and its state) that is its right, anywhere else (the
 *      chain's stacks: the handler has no business there) it breaks the
 *      run's invariants;
 *   3. SIGPROF is delivered there and the guest's handler runs to
 *      rt_sigreturn, within an instruction budget ("The budget");
 *   4. its sample is judged against the shadow stack;
 *   5. the logged stores and the kernel state are put back; the chain's
 *      engine, which never left its hook, runs the instruction.
 *      (The signal stack keeps what the handler left below its SP, as in
 *      a real process; nothing outside a handler reads it.)
 *
 * The window ends when the PC leaves the root with only the root on the
 * shadow stack: the root's jump to chain_return, however the callers
 * spell it, is the only way out of a chain that returned.
 *
 * Unicorn decides at translation time whether an instruction calls the
 * code hooks, by the hooks' address ranges, so the code hook covers the
 * chain's code only: the callers, the trampolines, every executable
 * mapping outside the image (the vDSO); a block hook in the chain's
 * engine stops a chain that runs code outside them.  The handler's
 * engine has no hook on the handler's code.  Unicorn's own instruction
 * count is never used: its hook covers every address, and when it goes
 * away it takes the translation cache with it.
 */
#define _GNU_SOURCE	/* memmem */
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fd_io.h"
#include "host_pages.h"
#include "machine.h"
#include "memory_snapshot.h"
#include "oracle.h"
#include "probe_internal.h"
#include "run_choice.h"
#include "report.h"
#include "run.h"
#include "spwrite.h"
#include "sigdeliver.h"
#include "syscalls.h"
#include "threads.h"
#include "vvar.h"

#define DEFAULT_HANDLER_BUDGET 1000000ull	/* the handler takes a few thousand */

/* ERA_* of fixtures/variant.h, by number. */
static const char *const era_names[] = { "go1.10", "go1.11", "go1.19", "modern" };

static const char *const verdict_names[VERDICT_COUNT] = {
	[VERDICT_FULL] = "full", [VERDICT_CALLER] = "caller", [VERDICT_VDSO] = "vdso",
	[VERDICT_EXTERNAL] = "external", [VERDICT_SYSTEM] = "system", [VERDICT_TRUNCATED] = "truncated",
	[VERDICT_WRONG] = "wrong",
	[VERDICT_FAULT] = "fault", [VERDICT_HANG] = "hang",
};

const char *verdict_name(enum verdict v)
{
	return (unsigned)v < VERDICT_COUNT ? verdict_names[v] : "?";
}

enum verdict verdict_from_name(const char *name)
{
	for (int v = 0; v < VERDICT_COUNT; v++)
		if (!strcmp(verdict_names[v], name))
			return (enum verdict)v;
	return VERDICT_COUNT;
}

int verdict_passes(enum verdict v)
{
	return v == VERDICT_FULL || v == VERDICT_CALLER;
}

/* snprintf for texts that may be cut short on purpose (symbols, fault
 * lines in fixed report fields). */
__attribute__((format(printf, 3, 4)))
static void text(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double thread_cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int find_symbol(const struct guest *g, const char *name, uint64_t *addr, uint64_t *size)
{
	for (size_t i = 0; i < g->image.syms.n; i++)
		if (!strcmp(g->image.syms.v[i].name, name)) {
			*addr = g->image.syms.v[i].addr;
			if (size)
				*size = g->image.syms.v[i].size;
			return 0;
		}
	return -1;
}

/* --- The store path and the undo log --------------------------------------------- */

/*
 * Every writable page is read-only for Unicorn (the region table keeps
 * the guest's protection), and the machine's store path (machine.h,
 * machine_set_store) hands each store there to make_store, which makes it
 * on host memory, logging it first when a handler runs.  Unicorn 2.0.1
 * sends every store to writable RAM through QEMU's notdirty and softmmu
 * slow paths (~1.3 k host instructions each, hook or not); a store made
 * here costs ~234, and with no UC_HOOK_MEM_WRITE hook anywhere every load
 * keeps its TLB fast path.  The store must be made here: Unicorn drops a
 * store whose TLB entry was filled while the page was read-only.  Lock-
 * prefixed x86 stores and arm strex take the same path in this Unicorn;
 * warm_handler checks on the handler's own code that no store lands past
 * it.
 *
 * While a handler runs, a store is logged with the bytes it replaces:
 *   - in the image's data and bss (and a real runtime's heap), where the
 *     handler keeps its sample and its state: its right, undone after the
 *     sample is read;
 *   - on the signal stack: logged only in a nested trial (outside one,
 *     nothing reads below a handler's SP afterwards);
 *   - anywhere else (the chain's stacks: the handler has no business
 *     there): it breaks the run's invariants, and is undone.
 * A nested trial logs every store, the chain's too, so that it can be
 * undone.
 *
 * This runs for every store a handler makes (tens per boundary): a store
 * of 1, 2, 4 or 8 bytes inside one region that is not code -- every
 * store but the odd one -- is made and logged by fixed-size copies on
 * the region's host memory, and put back the same way; any other goes
 * through machine_read and machine_write.
 */

/* An undo record put back by machine_write: no machine's removals
 * count reaches it. */
#define UNDO_BY_MACHINE UINT64_MAX

/* `size` (1, 2, 4 or 8) bytes from `from` to `to`, by one fixed-size copy
 * (undo_to: an undo record's size is its store's). */
static inline void copy_sized(uint8_t *to, const uint8_t *from, uint32_t size)
{
	switch (size) {
	case 1: memcpy(to, from, 1); break;
	case 2: memcpy(to, from, 2); break;
	case 4: memcpy(to, from, 4); break;
	default: memcpy(to, from, 8); break;
	}
}

/* A store where the handler may not write: the first one is named. */
static __attribute__((noinline)) int bad_store(struct probe *p, const struct region *r, uint64_t addr, int size)
{
	if (p->recording && !p->bad_writes++) {
		char at[96];
		guest_symbolize(&p->g, machine_pc(p->mc), at, sizeof at);
		text(p->bad_write, sizeof p->bad_write, "the handler wrote %d bytes at 0x%llx (%s) from %s",
		     size, (unsigned long long)addr, r->name, at);
	}
	return 1;
}

/* Whether a store of the guest's, in region r, is logged (see above). */
static inline int store_logged(struct probe *p, const struct region *r, uint64_t addr, int size)
{
	if (p->log_all)
		return 1;
	if (!p->recording && !p->trial)
		return 0;
	if ((p->handlers_kinds >> r->kind) & 1)
		return 1;
	if (addr - p->alt_lo < p->alt_hi - p->alt_lo)
		return p->trial && p->log_alt;
	return bad_store(p, r, addr, size);
}

/* Room for one more undo record: the log doubles.  0, or -1 when out of
 * memory (the store goes unlogged). */
static __attribute__((noinline)) int undo_grow(struct probe *p)
{
	size_t cap = p->capundo ? 2 * p->capundo : 1024;
	struct undo *n = realloc(p->undo, cap * sizeof *n);
	if (!n)
		return -1;
	p->undo = n;
	p->capundo = cap;
	return 0;
}

/* The undo log's next record (not yet counted), NULL if there is no room. */
static inline struct undo *undo_next(struct probe *p)
{
	if (p->nundo == p->capundo && undo_grow(p))
		return NULL;
	return &p->undo[p->nundo];
}

/* A plain store's old bytes, at `host` (size a constant: one copy). */
static inline __attribute__((always_inline)) void log_plain(struct probe *p, uint8_t *host, uint64_t addr,
							     const int size)
{
	if (p->nundo == p->capundo && undo_grow(p))
		return;
	struct undo *u = &p->undo[p->nundo];
	u->addr = addr;
	u->size = (uint32_t)size;
	u->host = host;
	u->removals = p->mc->removals;
	memcpy(u->old, host, (size_t)size);
	p->nundo++;
}

/* Any other store's old bytes (size 1 to 8): a store that runs into the
 * next region, or into code (whose translations go with machine_write). */
static void log_other(struct probe *p, uint64_t addr, int size)
{
	struct undo *u = undo_next(p);
	if (!u || machine_read(p->mc, addr, u->old, (size_t)size))
		return;
	u->addr = addr;
	u->size = (uint32_t)size;
	u->host = NULL;
	u->removals = UNDO_BY_MACHINE;
	p->nundo++;
}

static __attribute__((noinline)) bool other_store(struct probe *p, const struct region *r, uint64_t addr, int size,
						  uint64_t value)
{
	if (size <= 0 || size > 8)
		return false;	/* no store Unicorn makes: the guest's fault */
	if (store_logged(p, r, addr, size))
		log_other(p, addr, size);
	machine_write(p->mc, addr, &value, (size_t)size);	/* the guests are little-endian, as is the host */
	return true;
}

/* A store of a constant size: inside r and not code, made (and logged)
 * by one copy each; else other_store's. */
static inline __attribute__((always_inline)) bool store_sized(struct probe *p, const struct region *r, uint64_t addr,
							       uint64_t value, const int size)
{
	if (addr + (uint64_t)size > r->end || (r->perms & UC_PROT_EXEC))
		return other_store(p, r, addr, size, value);
	uint8_t *host = r->host + (addr - r->begin);
	if (store_logged(p, r, addr, size))
		log_plain(p, host, addr, size);
	memcpy(host, &value, (size_t)size);	/* little-endian, as the guests */
	return true;
}

/* The machine's store path (machine_set_store): every guest store to a
 * writable page. */
static bool make_store(void *ctx, const struct region *r, uint64_t addr, int size, uint64_t value)
{
	struct probe *p = ctx;
	switch (size) {
	case 1: return store_sized(p, r, addr, value, 1);
	case 2: return store_sized(p, r, addr, value, 2);
	case 4: return store_sized(p, r, addr, value, 4);
	case 8: return store_sized(p, r, addr, value, 8);
	default: return other_store(p, r, addr, size, value);
	}
}

/* One engine's part of the store path: its writable mappings read-only. */
static int watch_engine(struct probe *p, uc_engine *uc)
{
	struct machine *mc = p->mc;
	for (size_t i = 0; i < mc->nregions; i++) {
		const struct region *r = &mc->regions[i];
		if ((r->perms & UC_PROT_WRITE) &&
		    uc_mem_protect(uc, r->begin, r->end - r->begin, r->perms & ~UC_PROT_WRITE) != UC_ERR_OK)
			return -1;
	}
	return 0;
}

/* Every writable mapping read-only for Unicorn in every engine, and the
 * machine's store path.  The signal stack as it is now (the root's) is
 * the handler's. */
static int watch_memory(struct probe *p)
{
	struct machine *mc = p->mc;
	const struct sys_state *s = mc->sys;
	p->alt_lo = s->altstack_sp;
	p->alt_hi = s->altstack_size ? s->altstack_sp + s->altstack_size : s->altstack_sp;
	p->handlers_kinds = 1u << REGION_IMAGE_DATA | (p->subject->heap_is_handlers ? 1u << REGION_MMAP : 0);
	machine_set_store(mc, make_store, p);
	for (int e = 0; e < mc->nengines; e++)
		if (watch_engine(p, mc->engine[e]))
			return -1;
	p->watching = 1;
	return 0;
}

/* What a handler run left in the process record beyond memory and
 * registers: output it wrote, an exit or a fault.  Dropped when the run is
 * undone. */
static void forget_run_effects(struct machine *mc, const size_t outlen[3])
{
	mc->out[1].len = outlen[1];
	mc->out[2].len = outlen[2];
	mc->exited = 0;
	mc->exit_status = 0;
	mc->fault = (struct fault){ 0 };
}

static void undo_to(struct probe *p, size_t mark)
{
	const uint64_t removals = p->mc->removals;
	while (p->nundo > mark) {
		const struct undo *u = &p->undo[--p->nundo];
		/* Host-side: the store may have been to a page the guest has
		 * read-only now; the bytes go back regardless.  Straight to the
		 * host memory the store was made in while no region has gone
		 * since. */
		if (u->removals == removals)
			copy_sized(u->host, u->old, u->size);
		else
			machine_write(p->mc, u->addr, u->old, u->size);
	}
}

int probe_watch_memory(struct probe *p)
{
	return watch_memory(p);
}

void probe_undo_to(struct probe *p, size_t mark)
{
	undo_to(p, mark);
}

/* --- Hooks: stepping and running the handler ------------------------------------ */

/*
 * x86 movaps/movapd/movdqa with a memory operand raise #GP (SIGSEGV on
 * Linux) unless the address is 16-byte aligned; Unicorn 2.0.1 runs them
 * at any address.  For the chain's code (the trampolines and the vDSO,
 * whose compiler may spill SSE registers to stack slots the C ABI
 * promises aligned) the check is made here, before the instruction runs:
 * a misaligned one is the fault the hardware would raise.  Addresses
 * from SP or BP plus a displacement only -- what stack spills use.
 */
static int misaligned_sse(struct probe *p, uint64_t addr, uint64_t *ea)
{
	const struct arch_ops *ops = p->mc->ops;
	uint8_t b[16];
	if (ops->cs_arch != CS_ARCH_X86 || machine_read(p->mc, addr, b, sizeof b))
		return 0;
	int i = 0, opsize = 0;
	for (; i < 4 && (b[i] == 0x66 || (ops->word_size == 8 && (b[i] & 0xf0) == 0x40)); i++)
		opsize |= b[i] == 0x66;
	if (b[i] != 0x0f || !(b[i + 1] == 0x28 || b[i + 1] == 0x29 ||
			      (opsize && (b[i + 1] == 0x6f || b[i + 1] == 0x7f))))
		return 0;
	if (!p->cs_detail_open) {
		if (cs_open(ops->cs_arch, ops->cs_mode, &p->cs_detail) != CS_ERR_OK)
			return 0;
		cs_option(p->cs_detail, CS_OPT_DETAIL, CS_OPT_ON);
		p->cs_detail_open = 1;
	}
	cs_insn *insn;
	size_t n = cs_disasm(p->cs_detail, b, sizeof b, addr, 1, &insn);
	int bad = 0;
	if (n == 1 && insn->detail) {
		const cs_x86 *x = &insn->detail->x86;
		for (int k = 0; k < x->op_count; k++) {
			const cs_x86_op *op = &x->operands[k];
			if (op->type != X86_OP_MEM || op->mem.index != X86_REG_INVALID)
				continue;
			int reg = op->mem.base == X86_REG_RSP ? UC_X86_REG_RSP : op->mem.base == X86_REG_ESP ? UC_X86_REG_ESP
				: op->mem.base == X86_REG_RBP ? UC_X86_REG_RBP : op->mem.base == X86_REG_EBP ? UC_X86_REG_EBP : -1;
			uint64_t base = 0;
			if (reg < 0 || uc_reg_read(p->mc->uc, reg, &base) != UC_ERR_OK)
				continue;
			*ea = base + (uint64_t)op->mem.disp;
			if (ops->word_size == 4)
				*ea &= 0xffffffffull;
			bad = (*ea & 15) != 0;
		}
	}
	if (n)
		cs_free(insn, n);
	return bad;
}

static void hook_chain(struct probe *p, uint64_t addr);

static void hook_code(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	struct probe *p = user;
	(void)uc, (void)size;
	switch (p->mode) {
	case MODE_TO_ROOT:
		if (addr == p->stop_at && !p->root_skip--)
			machine_stop(p->mc);
		break;
	case MODE_CHAIN:
		hook_chain(p, addr);
		break;
	case MODE_STEP: {
		/* probe_step in the stepping engine: the first call is the
		 * stepped instruction itself. */
		uint64_t ea;
		if (p->step_seen)
			machine_stop(p->mc);
		else if (misaligned_sse(p, addr, &ea))
			machine_fault(p->mc, FAULT_TRAP, addr, ea, 13);	/* #GP */
		p->step_seen = 1;
		break;
	}
	case MODE_HANDLER:
		/* An engine with the chain's code hooked (the stepping
		 * engine, probe_run_handler's one engine): back in the chain
		 * with the frame's registers, the handler is over.  (Before
		 * rt_sigreturn the handler may itself run chain code, e.g. a
		 * clock read through the vDSO.) */
		if (p->mc->sys->sigreturn_pending)
			machine_stop(p->mc);
		else if (addr == p->handler_stop_at)	/* nested_signal.c: its clock call starts */
			machine_stop(p->mc);
		break;
	case MODE_FREE:
		break;
	}
}

static int in_chain(const struct probe *p, uint64_t addr)
{
	for (int i = 0; i < p->nranges; i++)
		if (addr >= p->range[i].lo && addr < p->range[i].hi)
			return 1;
	return 0;
}

/* Instructions in the block [addr, addr+size), decoded once: the block
 * hook calls this for every block the handler runs, so the table lookup
 * stays small enough to inline and the decoding (with its 4 KiB buffer)
 * lives out of line. */
static __attribute__((noinline)) uint32_t decode_block(struct probe *p, unsigned i, uint64_t addr, uint32_t size)
{
	uint8_t code[4096];
	uint32_t n = 0, len = size < sizeof code ? size : (uint32_t)sizeof code;
	cs_insn *insn;
	if (len && !machine_read(p->mc, addr, code, len)) {
		size_t c = cs_disasm(p->cs, code, len, addr, 0, &insn);
		if (c)
			cs_free(insn, c);
		n = (uint32_t)c;
	}
	if (!n)
		n = 1;
	p->block[i].pc = addr;
	p->block[i].size = size;
	p->block[i].insns = n;
	return n;
}

static inline uint32_t block_insns(struct probe *p, uint64_t addr, uint32_t size)
{
	uint64_t h = (addr * 0x9e3779b97f4a7c15ull) >> 52;
	unsigned i = (unsigned)h & (BLOCK_SLOTS - 1);
	for (unsigned k = 0; k < 8; k++, i = (i + 1) & (BLOCK_SLOTS - 1)) {
		if (p->block[i].size == size && p->block[i].pc == addr)
			return p->block[i].insns;
		if (!p->block[i].size)
			break;
	}
	return decode_block(p, i, addr, size);
}

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	struct probe *p = user;
	(void)uc;
	if (p->mode == MODE_HANDLER) {
		p->handler_insns += block_insns(p, addr, size);
		if (p->handler_insns > p->budget) {
			p->over_budget = 1;
			machine_stop(p->mc);
		}
	} else if ((p->mode == MODE_CHAIN || p->mode == MODE_STEP) && !in_chain(p, addr)) {
		/* Code outside the code hook's ranges: its instructions would
		 * run unprobed, and the step would not end there. */
		p->left_chain = addr;
		machine_stop(p->mc);
	}
}

/* Adds [lo, hi) to the chain's code (in the chain's engine: the others
 * are made later, with every range). */
static int add_range(struct probe *p, uint64_t lo, uint64_t hi)
{
	uc_hook h;
	if (lo >= hi || p->nranges == MAX_RANGES)
		return -1;
	if (uc_hook_add(p->mc->uc, &h, UC_HOOK_CODE, (void *)hook_code, p, lo, hi - 1) != UC_ERR_OK)
		return -1;
	p->range[p->nranges].lo = lo;
	p->range[p->nranges].hi = hi;
	p->nranges++;
	return 0;
}

/* Every executable mapping outside the image not yet in the ranges. */
static int add_foreign_code(struct probe *p)
{
	const struct machine *mc = p->mc;
	for (size_t i = 0; i < mc->nregions; i++) {
		const struct region *r = &mc->regions[i];
		if ((r->perms & UC_PROT_EXEC) && r->kind != REGION_IMAGE_TEXT && !in_chain(p, r->begin) &&
		    add_range(p, r->begin, r->end))
			return -1;
	}
	return 0;
}

static int install_block_hook(struct probe *p)
{
	uc_hook bh;
	return uc_hook_add(p->mc->uc, &bh, UC_HOOK_BLOCK, (void *)hook_block, p, 1, 0) == UC_ERR_OK ? 0 : -1;
}

int probe_add_range(struct probe *p, uint64_t lo, uint64_t hi)
{
	return add_range(p, lo, hi);
}

int probe_add_foreign_code(struct probe *p)
{
	return add_foreign_code(p);
}

int probe_install_block_hook(struct probe *p)
{
	return install_block_hook(p);
}

/* --- Engines ------------------------------------------------------------------ */

/*
 * The chain runs in one uc_emu_start of its engine, the machine's first:
 * its code hook (hook_chain) stops at no boundary, it probes it there and
 * lets the instruction run.  A handler cannot run in the engine that is
 * inside its hook, so it runs in a second engine over the same memory
 * (machine_add_engine): the chain's CPU state is copied in
 * (uc_context_save / restore, a copy of the CPU structure in Unicorn
 * 2.0.1), the signal is delivered there, and the handler runs to its
 * rt_sigreturn.  The chain's engine never stops or re-enters mid-block,
 * so each of its blocks is translated once; the handler's engine has no
 * code hook on the handler's code, and keeps its translations from one
 * boundary to the next.
 *
 * The handler's run ends at rt_sigreturn: the syscall hook (handler_syscall)
 * keeps the CPU state the frame gave and sends the PC to `pad`, a page
 * mapped in the handler's engine only, whose one hooked instruction stops
 * the run (Unicorn loses a uc_emu_stop made in a hook that also wrote the
 * PC, as rt_sigreturn does).  The PC is then put back where the frame
 * said: the trip to the pad runs no instruction (the pad's hook stops
 * before its first), so the PC is all it changed, and a copy of the
 * whole CPU state (5.5 KB on x86) taken at rt_sigreturn and put back
 * after would only cost two more copies per boundary.  (On arm a PC
 * write also sets the Thumb state from its bit 0, as the frame's PC
 * write in rt_sigreturn did already.)  Translating a block at every
 * boundary's PC, which a stop in the chain's code would cost, is what
 * this avoids.
 *
 * A nested trial runs the rest of the chain from its boundary: in a third
 * engine (trial_uc), while the chain's waits in its hook.
 */
static void hook_pad(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	struct probe *p = user;
	(void)uc, (void)addr, (void)size;
	if (p->mode == MODE_HANDLER)
		machine_stop(p->mc);
}

static void handler_syscall(struct machine *mc)
{
	struct probe *p = mc->owner;
	const struct arch_ops *ops = mc->ops;
	int before = mc->sys->sigreturn_pending;
	p->guest_syscall(mc);
	if (before || !mc->sys->sigreturn_pending || mc->fault.kind != FAULT_NONE)
		return;
	/* Where the syscall hook is called with PC at the instruction,
	 * Unicorn adds its size afterwards. */
	uint64_t past = ops->syscall_pc_past ? 0 : ops->syscall_insn_size;
	p->resume_pc = mc->sys->sigreturn_pc;
	machine_set_reg(mc, ops->reg_pc, p->pad - past);
}

struct engine_switch {
	uc_engine *uc;
	int stopped;
	uc_context *entry;	/* the CPU state the handler's run started from */
};

/* The engine that runs a handler (`target`) takes the running chain's CPU
 * state (or the one a kept signal left, not yet the chain's:
 * kept_pending) and becomes mc->uc. */
static void to_handler_engine(struct probe *p, struct engine_switch *sw, uc_engine *target)
{
	struct machine *mc = p->mc;
	sw->uc = mc->uc;
	sw->stopped = mc->stopped;
	if (p->kept_pending && mc->uc == p->running_uc) {
		p->entry_ctx = p->kept_ctx;
	} else {
		uc_context_save(mc->uc, p->ctx);
		p->entry_ctx = p->ctx;
	}
	uc_context_restore(target, p->entry_ctx);
	sw->entry = p->entry_ctx;
	mc->uc = target;
}

/*
 * Back to the chain's engine; `keep`: with the CPU state the handler left
 * (a kept signal's).  Not while that engine is inside its hook: its
 * block goes on with what it knew of the CPU at translation (x86's lazy
 * flags state), so a CPU state copied in there is taken only in part.
 * The chain's run stops after this boundary instead (kept_pending) and
 * goes on from the kept state (run_chain).
 */
static void from_handler_engine(struct probe *p, const struct engine_switch *sw, int keep)
{
	struct machine *mc = p->mc;
	if (keep && sw->uc == p->running_uc) {
		uc_context_save(mc->uc, p->kept_ctx);
		p->kept_pending = 1;
	} else if (keep && mc->uc != sw->uc) {
		uc_context_save(mc->uc, p->ctx);
		uc_context_restore(sw->uc, p->ctx);
	} else if (!keep && mc->uc == sw->uc) {
		/* A handler run in the engine it interrupted (a nested-signal
		 * level inside a handler's clock call). */
		uc_context_restore(mc->uc, sw->entry);
	}
	mc->uc = sw->uc;
	mc->stopped = sw->stopped;
}

/* A range hook of the chain's code on engine uc (mc->uc). */
static int hook_chain_code(struct probe *p, uc_engine *uc)
{
	uc_hook h;
	for (int i = 0; i < p->nranges; i++)
		if (uc_hook_add(uc, &h, UC_HOOK_CODE, (void *)hook_code, p, p->range[i].lo, p->range[i].hi - 1) != UC_ERR_OK)
			return -1;
	return uc_hook_add(uc, &h, UC_HOOK_BLOCK, (void *)hook_block, p, 1, 0) == UC_ERR_OK ? 0 : -1;
}

static int watch_engine(struct probe *p, uc_engine *uc);
static int watchdog_start(struct probe *p, uint64_t insns_per_s);

/*
 * The stepping engine: the chain's code hooked as in the chain's engine,
 * the block hook counting a handler's budget, the subject's handler hooks
 * (the one engine of the probe as it was).  It runs the rest of the chain
 * of a nested trial while the chain's engine waits in its hook, and the
 * handlers of a nested-signal event, whose clock calls nested_signal.c
 * steps one instruction at a time (probe_step) to deliver the next level
 * at a boundary inside them.  Made when first needed (the store path's
 * protection and hook with it, when that is already in place).  NULL if
 * Unicorn refuses.
 */
static uc_engine *stepping_engine(struct probe *p)
{
	struct machine *mc = p->mc;
	if (p->trial_uc)
		return p->trial_uc;
	uc_engine *s = guest_add_engine(&p->g), *running = mc->uc;
	if (!s || hook_chain_code(p, s) || (p->watching && watch_engine(p, s)))
		return NULL;
	if (p->subject->hook_handler) {
		mc->uc = s;
		int r = p->subject->hook_handler(p);
		mc->uc = running;
		if (r)
			return NULL;
	}
	return p->trial_uc = s;
}

/* An engine for handler runs: the pad, the subject's hooks, and with
 * `counting` the block hook that counts the budget.  NULL if Unicorn
 * refuses. */
static uc_engine *handler_engine(struct probe *p, int counting)
{
	struct machine *mc = p->mc;
	uc_hook h;
	uc_engine *b = guest_add_engine(&p->g), *running = mc->uc;
	if (!b || uc_mem_map(b, p->pad, GUEST_PAGE, UC_PROT_READ | UC_PROT_EXEC) != UC_ERR_OK ||
	    uc_hook_add(b, &h, UC_HOOK_CODE, (void *)hook_pad, p, p->pad, p->pad + GUEST_PAGE - 1) != UC_ERR_OK ||
	    (counting && uc_hook_add(b, &h, UC_HOOK_BLOCK, (void *)hook_block, p, 1, 0) != UC_ERR_OK))
		return NULL;
	if (p->subject->hook_handler) {
		mc->uc = b;
		int r = p->subject->hook_handler(p);
		mc->uc = running;
		if (r)
			return NULL;
	}
	return b;
}

/* The handler's engine, before the store path is set up.  0 or -1. */
static int make_engines(struct probe *p)
{
	struct machine *mc = p->mc;
	const struct arch_ops *ops = mc->ops;
	p->chain_uc = mc->uc;
	if (uc_context_alloc(mc->uc, &p->kept_ctx) != UC_ERR_OK)
		return -1;
	/* The pad: the highest free page below the address limit, above
	 * every stack the loader makes. */
	for (p->pad = ops->address_limit - GUEST_PAGE; !machine_range_free(mc, p->pad, p->pad + GUEST_PAGE);)
		if ((p->pad -= GUEST_PAGE) < GUEST_PAGE)
			return -1;
	return (p->handler_uc = handler_engine(p, 0)) ? 0 : -1;
}

/* --- The budget ----------------------------------------------------------------- */

/*
 * A handler's instruction budget without a block hook in the engine that
 * runs it: Unicorn calls a block hook at every block, a cost on every
 * boundary for a limit no passing handler comes near.  The handler's
 * engine runs it uncounted, and its outcome stands when the run took less
 * wall time than `budget` instructions take on any host
 * (HANDLER_PS_PER_INSN_MIN each): it ran fewer, so the counted run would
 * have ended the same.  Any other run -- slower, or stopped by the
 * watchdog, a thread that stops a handler run still going after the
 * time its budget takes at 1 G instructions/s (two milliseconds at
 * least: a handler that never returns; 10 M/s for the warm-up run) --
 * is undone and run
 * again from the same state: uncounted once more (a first run of a path
 * pays for its translation, a preempted one for the wait), then, if
 * that does not settle it either, in an engine with the block hook,
 * which counts exactly as before.  The outcome is the counted one either way:
 * the time only chooses which engine finds it.  After a run the
 * watchdog stopped, every later one of the probe is counted straight
 * away (the handler is one that hangs).
 */
#define HANDLER_PS_PER_INSN_MIN 50	/* 20 G guest instructions/s: far more than any host core runs */
#define WATCHDOG_TICK_NS 1000000
#define RUN_INSNS_PER_S 1000000000ull	/* the watchdog's pace for a run */
#define WARM_UP_INSNS_PER_S 10000000ull	/* and for the warm-up run, which translates */

/*
 * A run's generation is odd while it is under way.  The probe's thread
 * starts and ends runs with one atomic operation each, never a lock (it
 * does so at every boundary); the watchdog claims a run before it stops
 * it (WATCHDOG_CLAIM set on the generation, with a compare-and-swap
 * that fails once the run has ended), so a stop always lands on the run
 * it was meant for, and the run's end waits for the claim to be let go.
 */
#define WATCHDOG_CLAIM (1ull << 63)

struct watchdog {
	pthread_t thread;
	pthread_mutex_t lock;	/* the tick's wait and `quit` */
	pthread_cond_t wake;	/* signalled at the end: the thread leaves without finishing its tick */
	uc_engine *uc;
	_Atomic uint64_t gen;		/* odd while a handler run is under way; WATCHDOG_CLAIM while it is stopped */
	_Atomic uint64_t stopped_gen;	/* the run it stopped */
	uint64_t limit_ticks;	/* how long a run may go on */
	int quit;
};

static void *watchdog_main(void *arg)
{
	struct watchdog *w = arg;
	uint64_t seen = 0, ticks = 0;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += WATCHDOG_TICK_NS;
		if (until.tv_nsec >= 1000000000L)
			until.tv_sec++, until.tv_nsec -= 1000000000L;
		int waited = 0;
		while (!w->quit && waited != ETIMEDOUT)
			waited = pthread_cond_timedwait(&w->wake, &w->lock, &until);
		if (w->quit) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		/* Only a whole tick counts: a wake-up before it is no time. */
		uint64_t g = atomic_load(&w->gen);
		ticks = g == seen ? ticks + 1 : 0;
		if ((g & 1) && ticks >= w->limit_ticks && atomic_load(&w->stopped_gen) != g &&
		    atomic_compare_exchange_strong(&w->gen, &g, g | WATCHDOG_CLAIM)) {
			uc_emu_stop(w->uc);
			atomic_store(&w->stopped_gen, g);
			atomic_store(&w->gen, g);
		}
		seen = g;
	}
}

/* A run may go on for what the budget takes at `insns_per_s`, two ticks
 * at least. */
static int watchdog_start(struct probe *p, uint64_t insns_per_s)
{
	struct watchdog *w = calloc(1, sizeof *w);
	if (!w)
		return -1;
	w->uc = p->handler_uc;
	uint64_t ticks = p->budget / (insns_per_s / (1000000000ull / WATCHDOG_TICK_NS));
	w->limit_ticks = ticks > 2 ? ticks : 2;
	pthread_condattr_t ca;
	if (pthread_mutex_init(&w->lock, NULL)) {
		free(w);
		return -1;
	}
	if (pthread_condattr_init(&ca) || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) ||
	    pthread_cond_init(&w->wake, &ca)) {
		pthread_mutex_destroy(&w->lock);
		free(w);
		return -1;
	}
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->thread, NULL, watchdog_main, w)) {
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return -1;
	}
	p->watchdog = w;
	return 0;
}

static void watchdog_end(struct probe *p)
{
	struct watchdog *w = p->watchdog;
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->quit = 1;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
	p->watchdog = NULL;
}

/* A run begins (its generation) or ends (whether the watchdog stopped it). */
static uint64_t watchdog_arm(struct watchdog *w)
{
	return atomic_fetch_add(&w->gen, 1) + 1;
}

static int watchdog_disarm(struct watchdog *w, uint64_t g)
{
	uint64_t expect = g;
	while (!atomic_compare_exchange_weak(&w->gen, &expect, g + 1)) {
		expect = g;	/* claimed: the watchdog is stopping this run */
		sched_yield();
	}
	return atomic_load(&w->stopped_gen) == g;
}

/* Not inlined: ci/bench.sh counts the host instructions under it
 * (callgrind --toggle-collect=run_handler), the handler's share.  In the
 * probe it runs in the handler's engine, and a handler that returns
 * leaves the CPU as its rt_sigreturn made it; probe_run_handler has one
 * engine, which stops at the first chain instruction after it. */
static __attribute__((noinline)) enum handler_result run_handler(struct probe *p)
{
	struct machine *mc = p->mc;
	struct sys_state *s = mc->sys;
	enum mode was = p->mode;
	int padded = p->handler_uc && (mc->uc == p->handler_uc || mc->uc == p->count_uc);
	void (*guest_syscall)(struct machine *) = mc->on_syscall;
	p->mode = MODE_HANDLER;
	p->handler_insns = 0;
	p->over_budget = 0;
	s->sigreturn_pending = 0;
	if (padded) {
		p->guest_syscall = guest_syscall;
		mc->owner = p;
		mc->on_syscall = handler_syscall;
	}
	int r = machine_run(mc, 0, 0);
	mc->on_syscall = guest_syscall;
	p->mode = was;
	int returned = s->sigreturn_pending;
	s->sigreturn_pending = 0;
	if (r == 0)
		return HANDLER_EXITED;
	if (mc->fault.kind != FAULT_STOPPED)
		return HANDLER_FAULT;
	if (!returned)
		return p->over_budget ? HANDLER_BUDGET : HANDLER_FAULT;
	p->resumed_pc = mc->fault.pc;	/* machine_run's read where the run stopped */
	if (padded && p->resumed_pc >= p->pad && p->resumed_pc < p->pad + GUEST_PAGE) {
		p->resumed_pc = p->resume_pc;
		/* A sample's CPU state goes with the engine's next context
		 * (sigreturn_pc_only): its PC is a write no one reads. */
		if (!mc->sigreturn_pc_only)
			machine_set_reg(mc, mc->ops->reg_pc, p->resume_pc);
	}
	return HANDLER_RETURNED;
}

static __attribute__((noinline)) enum handler_result run_handler(struct probe *p);

/* The handler's run in the handler's engine, uncounted: 1 when its
 * outcome (*hr) stands, 0 when only a counted run can tell it. */
static int quick_handler_run(struct probe *p, enum handler_result *hr)
{
	if (p->exact_only || !p->watchdog)
		return 0;
	double t0 = now_s();
	uint64_t g = watchdog_arm(p->watchdog);
	*hr = run_handler(p);
	int stopped = watchdog_disarm(p->watchdog, g);
	double t1 = now_s(), ps = (t1 - t0) * 1e12;
	p->handler_end_s = t1;
	if (stopped)
		p->exact_only = 1;
	p->quick_runs++;
	return !stopped && ps < (double)p->budget * HANDLER_PS_PER_INSN_MIN;
}

/*
 * The same handler run outside a probe (the engine's tests): the code hook
 * covers every address, so the run stops at the first instruction after
 * rt_sigreturn wherever the frame resumes; the budget is counted by
 * blocks as in a probe.
 */
enum handler_result probe_run_handler(struct machine *mc, uint64_t budget)
{
	struct probe *p = calloc(1, sizeof *p);
	uc_hook code, block;
	enum handler_result hr = HANDLER_FAULT;
	if (!p)
		return HANDLER_FAULT;
	p->mc = mc;
	p->budget = budget ? budget : DEFAULT_HANDLER_BUDGET;
	if (cs_open(mc->ops->cs_arch, mc->ops->cs_mode, &p->cs) == CS_ERR_OK) {
		p->cs_open = 1;
		if (uc_hook_add(mc->uc, &code, UC_HOOK_CODE, (void *)hook_code, p, 1, 0) == UC_ERR_OK) {
			if (uc_hook_add(mc->uc, &block, UC_HOOK_BLOCK, (void *)hook_block, p, 1, 0) == UC_ERR_OK) {
				hr = run_handler(p);
				uc_hook_del(mc->uc, block);
			}
			uc_hook_del(mc->uc, code);
		}
		cs_close(&p->cs);
	}
	free(p);
	return hr;
}

/* --- Judging one sample --------------------------------------------------------- */

/* Functions a traceback may leave out at the top of the stack: the
 * trampolines, and whatever is not the image's code (the vDSO). */
static int may_drop(void *ctx, uint64_t addr, int innermost)
{
	struct probe *p = ctx;
	/* A return address may be one past its call's function. */
	uint64_t a = innermost ? addr : addr - 1;
	const struct region *r = machine_region(p->mc, a);
	if (!r || r->kind != REGION_IMAGE_TEXT)
		return 1;
	for (int i = 0; i < 3; i++)
		if (p->drop_fn[i] && a >= p->drop_fn[i] && a < p->drop_end[i])
			return 1;
	return 0;
}

static uint64_t word_at(const uint8_t *b, unsigned w)
{
	uint64_t v = 0;
	memcpy(&v, b, w);
	return v;
}

static int add_violation(struct probe *p, const struct violation *v)
{
	struct probe_result *res = p->res;
	if (res->nviolations == PROBE_MAX_VIOLATIONS) {
		res->violations_dropped++;
		return 0;
	}
	if (res->nviolations == p->cap_violations) {
		size_t cap = p->cap_violations ? 2 * p->cap_violations : 64;
		struct violation *n = realloc(res->violations, cap * sizeof *n);
		if (!n)
			return -1;
		res->violations = n;
		p->cap_violations = cap;
	}
	res->violations[res->nviolations++] = *v;
	return 0;
}

/*
 * guest_symbolize and oracle_insn_text, each made once per pc and run: a
 * violation names its pc, instruction and stacks, and the same
 * boundaries fail at every iteration (about one in five on master).
 * One cell per hash of the pc; the text is made for the longest buffer
 * (both are snprintf's, so a shorter buffer gets the text's head).  An
 * instruction's text stands while the 16 bytes at pc are the ones it was
 * decoded from.
 */
static unsigned text_slot(uint64_t pc)
{
	return (unsigned)((pc * 0x9e3779b97f4a7c15ull) >> 56) & (TEXT_SLOTS - 1);
}

static void copy_text(char *buf, size_t n, const char *text)
{
	size_t len = strnlen(text, n - 1);
	memcpy(buf, text, len);
	buf[len] = 0;
}

static void symbolize_pc(struct probe *p, uint64_t pc, char *buf, size_t n)
{
	unsigned i = text_slot(pc);
	if (p->sym_cache[i].pc != pc || !p->sym_cache[i].text[0]) {
		guest_symbolize(&p->g, pc, p->sym_cache[i].text, sizeof p->sym_cache[i].text);
		p->sym_cache[i].pc = pc;
	}
	copy_text(buf, n, p->sym_cache[i].text);
}

static void insn_text_at(struct probe *p, uint64_t pc, char *buf, size_t n)
{
	uint8_t code[16];
	unsigned i = text_slot(pc);
	if (machine_read(p->mc, pc, code, sizeof code)) {	/* the end of a mapping: the oracle's own way */
		oracle_insn_text(&p->o, p->mc, pc, buf, n);
		return;
	}
	if (p->insn_cache[i].pc != pc || !p->insn_cache[i].text[0] || memcmp(p->insn_cache[i].code, code, sizeof code)) {
		oracle_insn_text(&p->o, p->mc, pc, p->insn_cache[i].text, sizeof p->insn_cache[i].text);
		p->insn_cache[i].pc = pc;
		memcpy(p->insn_cache[i].code, code, sizeof code);
	}
	copy_text(buf, n, p->insn_cache[i].text);
}

static void forget_texts(struct probe *p)
{
	memset(p->sym_cache, 0, sizeof p->sym_cache);
	memset(p->insn_cache, 0, sizeof p->insn_cache);
}

static void symbolize_stack(struct probe *p, const uint64_t *pcs, int n, char (*out)[PROBE_SYM_MAX])
{
	for (int i = 0; i < n; i++)
		symbolize_pc(p, pcs[i], out[i], PROBE_SYM_MAX);
}

/* The line of probe_config.boundary_log: vDSO pcs by offset, since the
 * native runs map it elsewhere. */
static void log_boundary(struct probe *p, uint64_t pc, enum verdict verdict)
{
	char where[64];

	if (p->g.vdso.nseg && pc >= p->g.vdso.lo && pc < p->g.vdso.hi)
		snprintf(where, sizeof where, "vdso+0x%llx", (unsigned long long)(pc - p->g.vdso_base));
	else
		guest_symbolize(&p->g, pc, where, sizeof where);
	fprintf(p->cfg->boundary_log, "boundary 0x%llx %s %s\n", (unsigned long long)pc, where,
		verdict_name(verdict));
}

/* The strip of the run (probe_result.strip): pc's cell, its worst
 * verdict.  The cell is found by a hash of the pc (this runs at every
 * boundary; a chain has ~150 pcs): open addressing, a slot holds the
 * cell's index + 1. */
static unsigned strip_hash(uint64_t pc)
{
	return (unsigned)((pc * 0x9e3779b97f4a7c15ull) >> 54) & (STRIP_SLOTS - 1);
}

static void strip_add(struct probe *p, uint64_t pc, enum verdict verdict)
{
	struct probe_result *r = p->res;
	if (!r->nstrip)
		memset(p->strip_slot, 0, sizeof p->strip_slot);
	unsigned i = strip_hash(pc);
	for (; p->strip_slot[i]; i = (i + 1) & (STRIP_SLOTS - 1)) {
		struct strip_cell *c = &r->strip[p->strip_slot[i] - 1];
		if (c->pc == pc) {
			if (verdict_passes((enum verdict)c->verdict) && !verdict_passes(verdict))
				c->verdict = verdict;
			return;
		}
	}
	if (r->nstrip == PROBE_STRIP_MAX) {
		r->strip_dropped++;
		return;
	}
	p->strip_slot[i] = (uint16_t)(r->nstrip + 1);
	struct strip_cell *c = &r->strip[r->nstrip++];
	c->pc = pc;
	c->verdict = verdict;
	guest_symbolize(&p->g, pc, c->at, sizeof c->at);
}

/* Whether a store since undo mark `mark` was logged at addr. */
static int logged(const struct probe *p, size_t mark, uint64_t addr)
{
	for (size_t i = mark; i < p->nundo; i++)
		if (addr >= p->undo[i].addr && addr - p->undo[i].addr < p->undo[i].size)
			return 1;
	return 0;
}

static enum verdict image_judge(struct probe *p, const uint64_t *truth, int ntruth, struct violation *vp, size_t mark)
{
	struct machine *mc = p->mc;
	unsigned w = mc->ops->word_size;
	struct violation *v = vp;
	enum verdict verdict;
	uint32_t seq0 = p->seq0;
	{
		uint8_t *s = p->sample_buf;
		uint32_t seq, n, marker;
		machine_read(mc, p->sample_addr, s, SAMPLE_SIZE(w));
		memcpy(&seq, s, 4);
		memcpy(&n, s + 4, 4);
		memcpy(&marker, s + 8, 4);
		if (seq != seq0 && !logged(p, mark, p->sample_addr))
			p->missed_store = 1;
		v->ngot = n > PROBE_MAX_FRAMES ? PROBE_MAX_FRAMES : (int)n;
		for (int i = 0; i < v->ngot; i++)
			v->got[i] = word_at(s + SAMPLE_PC(w) + (size_t)i * w, w);
		/* Go 1.19 / 1.21+ store a trapped pc as pc+1 (sample.h). */
		uint32_t pc0_plus1;
		memcpy(&pc0_plus1, s + SAMPLE_PC0_PLUS1(w), 4);
		if (v->ngot > 0 && pc0_plus1 == 1)
			v->got[0] -= 1;
		if (seq == seq0) {
			verdict = VERDICT_FAULT;
			v->ngot = 0;
			snprintf(v->detail, sizeof v->detail, "the handler returned without a sample");
		} else if (marker == MARK_VDSO) {
			verdict = VERDICT_VDSO;
		} else if (marker == MARK_EXTERNAL) {
			verdict = VERDICT_EXTERNAL;
		} else if (marker == MARK_SYSTEM || marker == MARK_GC) {
			verdict = VERDICT_SYSTEM;
		} else if (marker != MARK_NONE || n > SAMPLE_MAX) {
			verdict = VERDICT_WRONG;
		} else {
			verdict = oracle_judge(truth, ntruth, v->got, v->ngot, may_drop, p);
		}
	}
	return verdict;
}

static void image_arm_sample(struct probe *p)
{
	p->seq0 = 0;
	machine_read(p->mc, p->sample_addr, &p->seq0, 4);
}

/* A check of a nested trial failed: counted once per trial, the first
 * trial's text kept for the run's invariants. */
static void trial_failed(struct probe *p, const char *what)
{
	if (p->trial_bad)
		return;
	p->trial_bad = 1;
	if (!p->trials_failed++)
		text(p->trial_failure, sizeof p->trial_failure, "%s at boundary %lld: %s",
		     p->cfg->inject == PROBE_SCHEDULE ? "after the kept signal" : "after a nested clock read",
		     (long long)p->trial_k, what);
}

/* fixtures/sighandler.c: struct nested_read, fixed-width fields. */
#define NESTED_READS 0
#define NESTED_TIME 8
#define NESTED_VDSO 16		/* vdsoSP, vdsoPC before the read; after */
#define NESTED_SIZE 48

static int64_t clock_ns(const struct sys_state *s, int monotonic)
{
	int64_t sec, nsec;
	sys_clock_now(s, monotonic, &sec, &nsec);
	return sec * 1000000000 + nsec;
}

/*
 * The guest's checks of a call, applied to the clock read the nested
 * signal's handler made (if it made one: reads moved from reads0): its
 * result lies between the emulated clock (monotonic for nanotime,
 * realtime for walltime) when the window began and when
 * the handler returned, and m.vdsoSP (m.vdsoPC too while vdsoSP is not 0)
 * is back to what the interrupted call had.
 */
static void check_nested_read(struct probe *p, uint32_t reads0, enum probe_clock clock)
{
	int monotonic = clock != PROBE_CLOCK_WALLTIME;
	uint8_t b[NESTED_SIZE];
	uint32_t reads;
	int64_t got;
	uint64_t v[4];
	char what[160];
	if (machine_read(p->mc, p->nested_read_addr, b, sizeof b))
		return;
	memcpy(&reads, b + NESTED_READS, 4);
	if (reads == reads0)
		return;		/* no g in the handler: no nested read (Go's sigprofNonGoPC) */
	memcpy(&got, b + NESTED_TIME, 8);
	memcpy(v, b + NESTED_VDSO, sizeof v);
	struct sys_state start = *p->mc->sys;
	start.clock_ticks = p->window_ticks;
	int64_t lo = clock_ns(&start, monotonic), hi = clock_ns(p->mc->sys, monotonic);
	if (got < lo || got > hi) {
		snprintf(what, sizeof what, "nested-time-outside-window value=%lld (the emulated clock: %lld..%lld)",
			 (long long)got, (long long)lo, (long long)hi);
		trial_failed(p, what);
	} else if (v[2] != v[0]) {
		snprintf(what, sizeof what, "nested-vdsoSP-changed 0x%llx -> 0x%llx", (unsigned long long)v[0],
			 (unsigned long long)v[2]);
		trial_failed(p, what);
	} else if (v[0] != 0 && v[3] != v[1]) {
		snprintf(what, sizeof what, "nested-vdsoPC-changed 0x%llx -> 0x%llx", (unsigned long long)v[1],
			 (unsigned long long)v[3]);
		trial_failed(p, what);
	}
}

/*
 * The handler's run again (quick_handler_run could not tell its outcome):
 * what the last run did undone, the signal delivered again from the same
 * state.  First uncounted once more in the handler's engine -- the first
 * run of a handler path translates it, which its time then counts, and a
 * thread preempted on a shared host takes long as well -- then, if that
 * does not tell either, counted in the engine that counts.  HANDLER_FAULT
 * with FAULT_ENGINE when that engine cannot be made.
 */
static void undo_handler_run(struct probe *p, size_t mark, const size_t outlen[3], const struct thread_marks *marks)
{
	struct machine *mc = p->mc;
	undo_to(p, mark);
	sys_state_copy(mc->sys, &p->sys_saved);
	threads_unmark(mc, marks);
	forget_run_effects(mc, outlen);
	p->subject->arm_sample(p);
}

static enum handler_result handler_run_again(struct probe *p, size_t mark, const size_t outlen[3],
					     const struct thread_marks *marks, enum deliver_result *dr)
{
	struct machine *mc = p->mc;
	enum handler_result hr = HANDLER_FAULT;
	if (!p->exact_only) {
		undo_handler_run(p, mark, outlen, marks);
		uc_context_restore(p->handler_uc, p->entry_ctx);
		mc->uc = p->handler_uc;
		if ((*dr = engine_deliver_signal(mc, L_SIGPROF)) != DELIVER_OK || quick_handler_run(p, &hr))
			return hr;
	}
	undo_handler_run(p, mark, outlen, marks);
	if (!p->count_uc && (!(p->count_uc = handler_engine(p, 1)) || watch_engine(p, p->count_uc))) {
		p->count_uc = NULL;
		mc->fault.kind = FAULT_ENGINE;
		return HANDLER_FAULT;
	}
	uc_context_restore(p->count_uc, p->entry_ctx);
	mc->uc = p->count_uc;
	p->exact_runs++;
	*dr = engine_deliver_signal(mc, L_SIGPROF);
	return *dr == DELIVER_OK ? run_handler(p) : HANDLER_FAULT;
}

/* Where a violation's names begin (expected_sym, got_sym, file, line):
 * what judging a sample leaves alone. */
#define VIOLATION_NAMES offsetof(struct violation, expected_sym)

/* Delivers SIGPROF at the current boundary (pc: the machine's PC),
 * judges the sample, puts everything back -- unless `persist` (a nested
 * trial's or a schedule's kept signal: its handler's effects stay, in a
 * trial logged in the trial's undo log), its handler reading `clock`
 * after its sample (PROBE_CLOCK_NONE: no read).  0; 1 when persist and
 * the handler did not come back to the boundary (what follows cannot go
 * on); -1 when out of memory. */
static int probe_boundary(struct probe *p, uint64_t pc, int persist, enum probe_clock clock)
{
	struct machine *mc = p->mc;
	struct violation v;
	enum verdict verdict;
	uint64_t truth[PROBE_MAX_FRAMES];
	/* nested_signal.c: a nested signal's truth is its clock call's oracle. */
	int ntruth = oracle_truth(p->truth_oracle ? p->truth_oracle : &p->o, pc, truth, PROBE_MAX_FRAMES);
	if (p->subject->outer_truth && !p->truth_oracle)
		ntruth = p->subject->outer_truth(p, truth, ntruth, PROBE_MAX_FRAMES);
	struct thread_marks marks;

	struct engine_switch sw;
	if (!p->res->probed)
		forget_texts(p);	/* a run's first: the texts of the last run's pcs go */

	/* The symbolized stacks and the source line, three quarters of a
	 * violation's bytes, are zeroed only for a sample that is one. */
	memset(&v, 0, VIOLATION_NAMES);
	v.nested_at = (int)(p->trial_k + 1);
	v.depth = p->nest_level;	/* nested_signal.c */
	/* A nested-signal event's handler is stepped in its clock call:
	 * in the stepping engine. */
	uc_engine *runs_it = p->nest ? stepping_engine(p) : p->handler_uc;
	if (!runs_it)
		return -1;
	to_handler_engine(p, &sw, runs_it);
	sys_state_copy(&p->sys_saved, mc->sys);
	size_t outlen[3] = { 0, mc->out[1].len, mc->out[2].len };
	threads_mark(mc, &marks);
	p->subject->arm_sample(p);

	size_t mark = p->nundo;
	uint32_t zero = 0, reads0 = 0;
	uint32_t which = (uint32_t)clock;
	if (persist && clock) {
		machine_write(mc, p->nested_flag_addr, &which, 4);
		machine_read(mc, p->nested_read_addr + NESTED_READS, &reads0, 4);
	}
	p->recording = 1;
	/* A sample's handler state goes (its CPU state with the handler's
	 * engine's, its memory by the undo log): its rt_sigreturn need only
	 * say where it resumes.  A kept signal's is the chain's from then on. */
	int pc_only_was = mc->sigreturn_pc_only;
	mc->sigreturn_pc_only = !persist;
	/* nested_signal.c: SIGURG inside a handler's clock call (SIGPROF is
	 * blocked there); a handler with a deeper level to come runs there. */
	enum deliver_result dr = engine_deliver_signal(mc, p->nest_level ? L_SIGURG : L_SIGPROF);
	enum handler_result hr = HANDLER_FAULT;
	int nested = dr == DELIVER_OK && p->nest && p->nest_level < p->nest->depth;
	if (nested)
		hr = nested_signal_handler(p);
	else if (dr == DELIVER_OK && mc->uc == p->trial_uc)
		hr = run_handler(p);	/* counted there */
	else if (dr == DELIVER_OK && !quick_handler_run(p, &hr))
		hr = handler_run_again(p, mark, outlen, &marks, &dr);
	mc->sigreturn_pc_only = pc_only_was;
	p->recording = 0;
	/* Where rt_sigreturn left the handler's engine (a handler that
	 * returned: run_handler's last run said where). */
	uint64_t resumed = nested ? machine_pc(mc) : p->resumed_pc;

	if (dr != DELIVER_OK) {
		static const char *const why[] = {
			[DELIVER_IGNORED] = "no SIGPROF handler", [DELIVER_BLOCKED] = "SIGPROF blocked",
			[DELIVER_FAULT] = "the signal frame could not be written",
			[DELIVER_UNSUPPORTED] = "no SA_RESTORER",
		};
		verdict = VERDICT_FAULT;
		snprintf(v.detail, sizeof v.detail, "signal not delivered: %s", why[dr]);
	} else if (hr == HANDLER_BUDGET) {
		verdict = VERDICT_HANG;
		snprintf(v.detail, sizeof v.detail, "no rt_sigreturn within %llu instructions, PC %s",
			 (unsigned long long)p->budget, "");
		guest_symbolize(&p->g, machine_pc(mc), v.detail + strlen(v.detail), sizeof v.detail - strlen(v.detail));
	} else if (hr == HANDLER_EXITED) {
		verdict = VERDICT_FAULT;
		snprintf(v.detail, sizeof v.detail, "the handler called exit_group(%d)", mc->exit_status);
	} else if (hr == HANDLER_FAULT) {
		verdict = VERDICT_FAULT;
		char line[256];
		guest_fault_line(&p->g, line, sizeof line);
		text(v.detail, sizeof v.detail, "%s", line);
	} else if (resumed != pc) {
		/* rt_sigreturn must resume exactly where the signal came in.
		 * (Not inside the chain: the handler's engine stops at the
		 * rt_sigreturn and does not run on to the next chain
		 * instruction.) */
		verdict = VERDICT_FAULT;
		char at[64];
		guest_symbolize(&p->g, resumed, at, sizeof at);
		text(v.detail, sizeof v.detail, "rt_sigreturn resumed at %s, not at the interrupted PC", at);
	} else {
		verdict = p->subject->judge(p, truth, ntruth, &v, mark);
	}

	/* Put back what the handler changed (a nested signal's effects stay,
	 * unless it never came back). */
	int broken = dr != DELIVER_OK || hr != HANDLER_RETURNED || resumed != pc;
	if (persist && clock)
		machine_write(mc, p->nested_flag_addr, &zero, 4);
	if (persist && clock && !broken)
		check_nested_read(p, reads0, clock);
	int keep = persist && !broken;
	if (!keep) {
		undo_to(p, mark);
		sys_state_copy(mc->sys, &p->sys_saved);
		threads_unmark(mc, &marks);
	}
	from_handler_engine(p, &sw, keep);
	forget_run_effects(mc, outlen);

	p->res->verdicts[verdict]++;
	if (p->cfg->boundary_log)
		log_boundary(p, pc, verdict);
	strip_add(p, pc, verdict);
	if (p->cfg->on_sample) {
		char at[PROBE_SYM_MAX], insn[64];
		symbolize_stack(p, v.got, v.ngot, v.got_sym);
		symbolize_pc(p, pc, at, sizeof at);
		insn_text_at(p, pc, insn, sizeof insn);
		struct probe_sample s = { .pc = pc, .at = at, .insn = insn, .verdict = verdict, .n = v.ngot,
					  .pcs = v.got, .sym = v.got_sym, .depth = p->nest_level, .event = p->cur_event };
		p->cfg->on_sample(p->cfg->sample_ctx, &s);
	}
	p->res->probed++;
	int rc = persist && broken;
	if (verdict_passes(verdict))
		return rc;
	if (p->res->nviolations == PROBE_MAX_VIOLATIONS) {
		p->res->violations_dropped++;	/* counted, not kept: nothing to name (add_violation's count) */
		return rc;
	}
	memset((char *)&v + VIOLATION_NAMES, 0, sizeof v - VIOLATION_NAMES);
	v.pc = pc;
	v.verdict = verdict;
	symbolize_pc(p, pc, v.symbol, sizeof v.symbol);
	insn_text_at(p, pc, v.insn, sizeof v.insn);
	v.nexpected = ntruth;
	memcpy(v.expected, truth, (size_t)ntruth * sizeof *truth);
	symbolize_stack(p, v.expected, v.nexpected, v.expected_sym);
	symbolize_stack(p, v.got, v.ngot, v.got_sym);
	return add_violation(p, &v) ? -1 : rc;
}

enum handler_result probe_handler_run(struct probe *p)
{
	return run_handler(p);
}

int probe_step(struct probe *p)
{
	enum mode was = p->mode;
	p->mode = MODE_STEP;
	p->step_seen = 0;
	int r = machine_run(p->mc, 0, 0);
	p->mode = was;
	return r;
}

int probe_deliver(struct probe *p, int persist, enum probe_clock clock)
{
	return probe_boundary(p, machine_pc(p->mc), persist, clock);
}

/*
 * One SIGPROF where the subject stands (its root, or where its boot
 * stopped), on the store path, everything put back
 * afterwards; and the check that the store path sees every store the
 * handler makes: with every store logged, the log undone must give back
 * memory as it was (but for the signal frame the delivery wrote, and the
 * signal stack, where the emulated kernel writes too: Go's sigtrampgo
 * asks sigaltstack for it, and nothing below a handler's SP is read
 * afterwards).  A
 * store that landed past the hook (an instruction this Unicorn sends
 * another way) is found here, before any boundary is judged.  0; -1 when
 * out of memory or when the handler changed the memory map (it could not
 * be put back).
 */
static int warm_handler(struct probe *p)
{
	struct machine *mc = p->mc;
	struct memory_snapshot before;
	/* What the handler can write, as it is before it runs. */
	if (memory_snapshot_take(mc, SNAPSHOT_WRITABLE, &before))
		return -1;
	struct sys_state saved = *mc->sys;
	struct thread_marks marks;
	size_t outlen[3] = { 0, mc->out[1].len, mc->out[2].len };
	uint64_t sp0 = machine_sp(mc);
	struct engine_switch sw;
	threads_mark(mc, &marks);
	to_handler_engine(p, &sw, p->handler_uc);
	/* The frame: from the handler's SP up to the stack it came from, or
	 * to the top of the signal stack. */
	uint64_t frame_lo = 0, frame_hi = 0;
	p->log_all = 1;
	if (engine_deliver_signal(mc, L_SIGPROF) == DELIVER_OK) {
		frame_lo = machine_sp(mc);
		frame_hi = frame_lo >= p->alt_lo && frame_lo < p->alt_hi ? p->alt_hi : sp0;
		enum handler_result hr;
		quick_handler_run(p, &hr);	/* the watchdog ends one that never returns */
	}
	p->log_all = 0;
	/* A handler that changed the memory map cannot be put back. */
	int rc = memory_snapshot_same_map(mc, &before) ? 0 : -1;
	undo_to(p, 0);
	if (!rc && !p->missed_store) {
		/* Everything but the frame and the signal stack must be as it
		 * was once the undo log is undone. */
		uint64_t skip[2][2] = { { frame_lo, frame_hi }, { p->alt_lo, p->alt_hi } };
		if (skip[0][0] > skip[1][0]) {
			uint64_t t0 = skip[0][0], t1 = skip[0][1];
			skip[0][0] = skip[1][0], skip[0][1] = skip[1][1], skip[1][0] = t0, skip[1][1] = t1;
		}
		if (memory_snapshot_differs(mc, &before, (const uint64_t (*)[2])skip, 2, &p->missed_store_at))
			p->missed_store = 1;
	}
	if (!rc)
		memory_snapshot_restore(mc, &before);
	*mc->sys = saved;
	threads_unmark(mc, &marks);
	from_handler_engine(p, &sw, 0);
	forget_run_effects(mc, outlen);
	memory_snapshot_free(&before);
	return rc;
}

/* --- The run -------------------------------------------------------------------- */

static void progress(struct probe *p, double t0, double *last)
{
	double t = now_s();
	if (t - t0 < 1.0 || t - *last < 0.25)
		return;
	*last = t;
	fprintf(stderr, "\rsigstep: %s %s %s %s: %llu boundaries", p->res->arch, p->res->variant,
		p->res->function, p->res->context, (unsigned long long)p->res->boundaries);
	fflush(stderr);
}

/* Appends "; what" to the result's invariants text. */
static void invariant_failed(struct probe_result *res, const char *what)
{
	size_t len = strlen(res->invariants);
	res->invariants_ok = 0;
	snprintf(res->invariants + len, sizeof res->invariants - len, "%s%s", len ? "; " : "", what);
}

/*
 * The guest's check lines that failed, in what it wrote to stdout from
 * byte `from` on: each becomes an invariant failure of the run, or (in a
 * nested trial) of the trial.  How many there were.
 */
static int guest_fail_lines(struct probe *p, size_t from, int in_trial)
{
	const struct outbuf *o = &p->mc->out[1];
	const char *d = o->data ? o->data : "";
	int n = 0;
	for (size_t i = from; i < o->len;) {
		size_t j = i;
		while (j < o->len && d[j] != '\n')
			j++;
		if (memmem(d + i, j - i, " FAIL ", 6) && !(j - i >= 7 && !memcmp(d + i, "result ", 7))) {
			char what[128];
			snprintf(what, sizeof what, "%.*s", (int)(j - i), d + i);
			if (in_trial)
				trial_failed(p, what);
			else
				invariant_failed(p->res, what);
			n++;
		}
		i = j + 1;
	}
	return n;
}

/* The guest's own verdict on the run: its FAIL lines and exit status. */
static void guest_invariants(struct probe *p, int faulted)
{
	struct machine *mc = p->mc;
	struct probe_result *res = p->res;
	if (faulted) {
		char line[256];
		guest_fault_line(&p->g, line, sizeof line);
		invariant_failed(res, line);
		return;
	}
	if (!guest_fail_lines(p, 0, 0) && mc->exit_status != 0) {
		char what[64];
		snprintf(what, sizeof what, "the guest exited with status %d", mc->exit_status);
		invariant_failed(res, what);
	}
}

static int fail2(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return 2;
}

uint64_t probe_boundary_limit(uint64_t iterations)
{
	uint64_t calls = iterations ? iterations : 1;
	return calls < 10 ? 10 * PROBE_BOUNDARIES_PER_CALL : calls * PROBE_BOUNDARIES_PER_CALL;
}

uint64_t remaining_us(const struct probe *p)
{
	double left = p->deadline - now_s();
	return left > 1e-6 ? (uint64_t)(left * 1e6) : 1;
}

uint64_t probe_run_timeout_s(const struct probe_config *cfg)
{
	return cfg->timeout_s ? cfg->timeout_s : PROBE_DEFAULT_TIMEOUT_S(cfg->iterations ? cfg->iterations : 1);
}

/* The first line of what the guest wrote to fd, bounded by what it wrote
 * (the buffer holds no NUL of its own). */
static void first_line(const struct outbuf *o, char *buf, size_t n)
{
	const char *nl = o->data ? memchr(o->data, '\n', o->len) : NULL;
	size_t len = nl ? (size_t)(nl - o->data) : o->len;
	snprintf(buf, n, "%.*s", (int)(len < n ? len : n - 1), o->data ? o->data : "");
}

int probe_fail(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	return fail2(err, errlen, fmt, a, b);
}

void probe_invariant_failed(struct probe_result *res, const char *what)
{
	invariant_failed(res, what);
}

/* An invariant of the window failed; inside a nested trial it says which. */
static void window_failed(struct probe *p, const char *what)
{
	if (p->trial_k < 0) {
		invariant_failed(p->res, what);
		return;
	}
	char buf[256];
	snprintf(buf, sizeof buf, "after a nested clock read at boundary %lld: %s", (long long)p->trial_k, what);
	invariant_failed(p->res, buf);
}

static int chain_over(const struct probe *p, uint64_t pc)
{
	/* out of the root by a jump: the chain is over */
	return p->o.n == 1 && (pc < p->root_lo || pc >= p->root_hi);
}

/*
 * One run of the chain from the current PC, in mc->uc, to its return: the
 * window's (the chain's engine) or the rest of a nested trial's (the
 * trial's engine).  The code hook on the chain's code calls hook_chain at
 * every chain instruction before it runs: there the instruction before
 * it is followed on the shadow stack, the boundary is probed (the
 * handler in its own engine), and the one at this PC is noted to be
 * followed at the next.  The run is never stopped between boundaries.
 */
struct chain_run {
	int trial;		/* the rest of a nested trial's chain */
	int stepped;		/* prev_pc ran (every boundary but the first) */
	uint64_t prev_pc;
	int prev_was_call;
	uint64_t index;		/* the boundaries so far */
	int broken_reported;
	int resumed;		/* the run starts again at a boundary already probed */
	enum { CHAIN_RUNNING, CHAIN_RETURNED, CHAIN_FAILED, CHAIN_NO_MEMORY, CHAIN_KEPT } outcome;
	int tty;		/* the window: progress on stderr */
	double t0, last;
};

static void chain_stop(struct probe *p, struct chain_run *c, int outcome)
{
	c->outcome = outcome;
	machine_stop(p->mc);
}

/* The instruction at c->prev_pc ran, to pc: the shadow stack follows it.
 * 0; 1 when the chain cannot go on (the invariant failure is recorded). */
static int followed(struct probe *p, struct chain_run *c, uint64_t pc)
{
	oracle_step_at(&p->o, p->mc, pc, c->prev_pc, c->prev_was_call);
	if (p->o.broken[0] && !c->broken_reported) {
		window_failed(p, p->o.broken);
		c->broken_reported = 1;
	}
	if (p->o.overflow) {
		window_failed(p, "the shadow stack overflowed");
		return 1;
	}
	/* The clock as the last handler run ended, if one ran since the
	 * last look (a clock read costs as much as a tenth of a boundary). */
	double now = p->handler_end_s ? p->handler_end_s : now_s();
	p->handler_end_s = 0;
	if (now >= p->deadline) {
		char what[160];
		snprintf(what, sizeof what, "the run reached its time limit (--timeout %llu s) after %llu boundaries: "
			 "the chain did not return in time", (unsigned long long)probe_run_timeout_s(p->cfg),
			 (unsigned long long)p->res->boundaries);
		window_failed(p, what);
		p->timed_out = 1;
		return 1;
	}
	return 0;
}

static int window_boundary(struct probe *p, uint64_t index, uint64_t addr, uint64_t pc);

static void hook_chain(struct probe *p, uint64_t addr)
{
	struct chain_run *c = p->run;
	struct machine *mc = p->mc;
	struct probe_result *res = p->res;
	if (c->resumed) {
		c->resumed = 0;
		goto next;
	}
	/* Read once: the shadow stack's step and the boundary's probe see the
	 * same registers (nothing between them writes one). */
	uint64_t pc = machine_pc(mc);
	if (c->stepped && followed(p, c, pc)) {
		chain_stop(p, c, CHAIN_FAILED);
		return;
	}
	if (chain_over(p, addr)) {
		chain_stop(p, c, CHAIN_RETURNED);
		return;
	}
	int r;
	if (c->trial) {
		if (++c->index == p->max_boundaries) {
			window_failed(p, "the chain did not return within the boundary limit");
			chain_stop(p, c, CHAIN_FAILED);
			return;
		}
		r = probe_boundary(p, pc, 0, PROBE_CLOCK_NONE);
	} else {
		if (p->timed_out) {	/* in a nested trial */
			chain_stop(p, c, CHAIN_FAILED);
			return;
		}
		if (res->boundaries == p->max_boundaries) {
			invariant_failed(res, "the chain did not return within the boundary limit");
			chain_stop(p, c, CHAIN_FAILED);
			return;
		}
		res->boundaries++;
		r = window_boundary(p, c->index++, addr, pc);
	}
	if (r < 0) {
		chain_stop(p, c, CHAIN_NO_MEMORY);
		return;
	}
	if (p->kept_pending) {
		chain_stop(p, c, CHAIN_KEPT);
		return;
	}
next:;
	/* The instruction at addr runs next. */
	uint64_t ea;
	c->prev_was_call = oracle_is_call(&p->o, mc, addr);
	c->prev_pc = addr;
	c->stepped = 1;
	if (misaligned_sse(p, addr, &ea))
		machine_fault(mc, FAULT_TRAP, addr, ea, 13);	/* #GP */
	if (c->tty) {		/* a clock read is nothing next to a boundary */
		progress(p, c->t0, &c->last);
		p->progress_shown |= c->last != c->t0;
	}
}

/* Runs the chain c from the current PC.  0 when it returned; 1 when it
 * cannot go on (the invariant failure is recorded); -1 when out of
 * memory. */
static int run_chain(struct probe *p, struct chain_run *c)
{
	struct machine *mc = p->mc;
	struct chain_run *outer = p->run;
	uc_engine *outer_uc = p->running_uc;
	enum mode was = p->mode;
	p->run = c;
	p->mode = MODE_CHAIN;
	p->left_chain = 0;
	p->running_uc = mc->uc;
	int r = machine_run(mc, 0, 0);
	while (c->outcome == CHAIN_KEPT) {
		/* A kept signal's CPU state, taken between runs; its boundary
		 * is not probed again. */
		uc_context_restore(mc->uc, p->kept_ctx);
		p->kept_pending = 0;
		mc->fault = (struct fault){ 0 };
		c->outcome = CHAIN_RUNNING;
		c->resumed = 1;
		r = machine_run(mc, 0, 0);
	}
	p->running_uc = outer_uc;
	p->mode = was;
	p->run = outer;
	switch (c->outcome) {
	case CHAIN_RETURNED:
		mc->fault = (struct fault){ 0 };
		return 0;
	case CHAIN_NO_MEMORY:
		return -1;
	case CHAIN_FAILED:
		return 1;
	default:
		break;
	}
	if (r == 0) {
		window_failed(p, "the guest exited inside the chain");
	} else if (p->left_chain) {
		char at[96], what[200];
		guest_symbolize(&p->g, p->left_chain, at, sizeof at);
		snprintf(what, sizeof what, "the chain ran code outside the probed functions, at %s: "
			 "its boundaries cannot be probed", at);
		window_failed(p, what);
	} else {
		char line[256];
		guest_fault_line(&p->g, line, sizeof line);
		window_failed(p, line);
	}
	return 1;
}

/*
 * The chain of a nested trial returned: the guest runs on, at full speed,
 * through its own checks of the call (the time it returned, m.vdsoSP and
 * m.vdsoPC back to their values from before it, every iteration ran) to
 * its exit, as the run itself does after the window -- so what the nested
 * read left behind is judged as the run's invariants are.  Everything it
 * does is in the trial's undo log and goes with it.
 */
static void end_of_call_checks(struct probe *p)
{
	struct machine *mc = p->mc;
	size_t from = mc->out[1].len;
	enum mode was = p->mode;
	p->mode = MODE_FREE;
	int r = machine_run(mc, 0, remaining_us(p));
	p->mode = was;
	if (r) {
		char line[256];
		if (mc->fault.kind == FAULT_STOPPED && now_s() >= p->deadline) {
			snprintf(line, sizeof line, "the guest did not exit within the run's time limit (--timeout %llu s)",
				 (unsigned long long)probe_run_timeout_s(p->cfg));
			p->timed_out = 1;
		} else {
			guest_fault_line(&p->g, line, sizeof line);
		}
		trial_failed(p, line);
	} else if (!guest_fail_lines(p, from, 1) && mc->exit_status != 0) {
		char what[64];
		snprintf(what, sizeof what, "the guest exited with status %d", mc->exit_status);
		trial_failed(p, what);
	}
}

/*
 * PROBE_NESTED at boundary k: the nested signal (its handler reads the
 * clock too) with its effects kept, then every later boundary of the chain
 * probed as usual; then every store of the trial, the registers, the
 * kernel state and the shadow stack are put back as they were at k.
 * 0, or -1 when out of memory.
 */
static int nested_trial(struct probe *p, uint64_t k)
{
	struct machine *mc = p->mc;
	struct sys_state sys = *mc->sys;
	struct oracle o = p->o;
	size_t outlen[3] = { 0, mc->out[1].len, mc->out[2].len };

	/* The vvar page: the emulated kernel publishes the clock there at
	 * every clock syscall (the guest's checks make some), beyond the
	 * write hooks' reach; it goes back with the kernel's state. */
	uint8_t vvar[VVAR_PAGE_SIZE];
	int vvar_saved = sys.vvar_addr && !machine_read(mc, sys.vvar_addr, vvar, sizeof vvar);

	/* The trial's engine goes on from here; the chain's stays in its
	 * hook, as it was. */
	uc_engine *chain = mc->uc;
	int stopped = mc->stopped;
	uc_context_save(chain, p->trial_ctx);
	uc_context_restore(p->trial_uc, p->trial_ctx);
	mc->uc = p->trial_uc;
	p->trial = 1;
	p->trial_k = (int64_t)k;
	p->trial_bad = 0;
	size_t mark = p->nundo;
	int rc = probe_boundary(p, machine_pc(mc), 1, PROBE_CLOCK_NANOTIME), returned = 0;
	if (rc == 0) {
		struct chain_run c = { .trial = 1, .broken_reported = o.broken[0] != 0 };
		int r = run_chain(p, &c);
		returned = r == 0;
		rc = r < 0 ? -1 : 0;
	}
	if (returned && rc == 0)
		end_of_call_checks(p);
	undo_to(p, mark);
	p->trial = 0;
	p->trial_k = -1;
	*mc->sys = sys;
	if (vvar_saved)
		machine_write(mc, sys.vvar_addr, vvar, sizeof vvar);
	p->o = o;
	forget_run_effects(mc, outlen);
	mc->uc = chain;
	mc->stopped = stopped;
	return rc < 0 ? -1 : 0;
}

static int chosen(const struct probe *p, uint64_t i)
{
	return i < p->nchosen_bits && (p->chosen[i / 8] >> (i % 8) & 1);
}

/*
 * PROBE_SCHEDULE at boundary `index` (pc): the events that are due here,
 * in the schedule's order.  A kept signal's boundary becomes the one later
 * violations and failed checks are said to follow (trial_k).  0; -1 when
 * out of memory.  A kept signal whose handler did not come back leaves
 * the rest of the schedule unfired: its verdict says why.
 */
static int schedule_events(struct probe *p, uint64_t index, uint64_t pc)
{
	const struct probe_schedule *s = p->cfg->schedule;
	int broken = 0;
	for (int i = 0; i < s->n && !broken; i++) {
		const struct probe_event *e = &s->ev[i];
		if (e->sym[0] ? pc != p->event_addr[i] || ++p->event_seen[i] != e->occurrence : index != e->index)
			continue;
		p->res->events_fired++;
		int r;
		p->cur_event = i;
		if (e->kind == PROBE_EV_SAMPLE) {
			r = probe_boundary(p, machine_pc(p->mc), 0, PROBE_CLOCK_NONE);
		} else {
			p->trial_k = (int64_t)index;
			p->nest = e->kind == PROBE_EV_NESTED_SIGNAL ? e : NULL;	/* nested_signal.c */
			r = probe_boundary(p, machine_pc(p->mc), 1, e->kind != PROBE_EV_KEEP ? e->clock : PROBE_CLOCK_NONE);
			p->nest = NULL;
		}
		p->cur_event = -1;
		if (r < 0)
			return -1;
		broken = r;
	}
	return 0;
}

/* PROBE_SCHEDULE: each SYMBOL+OFF event's address.  0, or 2 with err. */
static int resolve_events(struct probe *p, char *err, size_t errlen)
{
	const struct probe_schedule *s = p->cfg->schedule;
	if (!s)
		return fail2(err, errlen, "inject schedule without a schedule%s%s", "", "");
	for (int i = 0; i < s->n; i++) {
		uint64_t a;
		if (!s->ev[i].sym[0])
			continue;
		if (find_symbol(&p->g, s->ev[i].sym, &a, NULL))
			return fail2(err, errlen, "schedule: no symbol '%s' in the image%s", s->ev[i].sym, "");
		p->event_addr[i] = a + s->ev[i].off;
	}
	return 0;
}

/* The boundary at index (the hook's addr; pc: the machine's PC): what
 * the schedule of the run does there.  0, or -1 when out of memory. */
static int window_boundary(struct probe *p, uint64_t index, uint64_t addr, uint64_t pc)
{
	switch (p->cfg->inject) {
	case PROBE_EVERY:
		return probe_boundary(p, pc, 0, PROBE_CLOCK_NONE) ? -1 : 0;
	case PROBE_SAMPLE:
		return chosen(p, index) && probe_boundary(p, pc, 0, PROBE_CLOCK_NONE) ? -1 : 0;
	case PROBE_SCHEDULE:
		return schedule_events(p, index, addr) ? -1 : 0;
	case PROBE_NESTED:
		return nested_trial(p, index) ? -1 : 0;
	case PROBE_COUNT_ONLY:
		break;
	}
	return 0;
}

/* Not inlined: ci/bench.sh counts the host instructions under it
 * (callgrind --toggle-collect=probe_window), the window's cost. */
static __attribute__((noinline)) int probe_window(struct probe *p)
{
	struct machine *mc = p->mc;
	struct probe_result *res = p->res;
	struct chain_run c = { .tty = p->cfg->progress && isatty(2) };

	c.t0 = c.last = now_s();
	oracle_reset(&p->o, p->root_lo, machine_sp(mc));
	p->window_ticks = mc->sys->clock_ticks;
	int rc = run_chain(p, &c);
	if (p->trials_failed && p->cfg->inject == PROBE_SCHEDULE) {
		invariant_failed(res, p->trial_failure);
	} else if (p->trials_failed) {
		char what[256];
		text(what, sizeof what, "%s (%llu of %llu nested trials)", p->trial_failure,
		     (unsigned long long)p->trials_failed, (unsigned long long)res->boundaries);
		invariant_failed(res, what);
	}
	return rc;
}

/*
 * The gsignal context: the chain as a signal handler would run it, on the
 * signal stack with g = m.gsignal (Go's sigtrampgo: setg(g.m.gsignal)).
 * The guest starts its g0 chain; stopped at the root, before anything
 * ran, SP moves to the top of gsignal's stack and g to gsignal -- in the
 * g register where the arch has one and in the TLS slot, found as
 * runtime.h lays m.tls out (tls[1] points at itself, tls[0] holds g).
 * A signal then arrives on the stack it interrupted (already on the
 * sigaltstack), as a nested signal would.  0, or 2 with err.
 */
static int move_to_gsignal(struct probe *p, char *err, size_t errlen)
{
	struct machine *mc = p->mc;
	const struct arch_ops *ops = mc->ops;
	unsigned w = ops->word_size;
	uint64_t gs, m0, m0_size, hi = 0, slot = 0;
	if (find_symbol(&p->g, "gsignal", &gs, NULL) || find_symbol(&p->g, "m0", &m0, &m0_size) || !m0_size)
		return fail2(err, errlen, "the image has no gsignal or m0: no gsignal context%s%s", "", "");
	if (machine_read(mc, gs + w, &hi, w) || !hi)	/* gsignal.stack.hi: struct stack is g's first field */
		return fail2(err, errlen, "gsignal has no stack%s%s", "", "");
	for (uint64_t a = m0; a + w <= m0 + m0_size; a += w) {
		uint64_t v = 0;
		if (!machine_read(mc, a, &v, w) && v == a && a > m0) {
			slot = a - w;
			break;
		}
	}
	if (!slot)
		return fail2(err, errlen, "m0.tls not found (no word pointing at itself)%s%s", "", "");
	machine_write(mc, slot, &gs, w);
	machine_set_reg(mc, ops->reg_sp, hi);
	if (ops->reg_g >= 0)
		machine_set_reg(mc, ops->reg_g, gs);
	return 0;
}

/* splitmix64: the sample's reproducible choice, the same on every host. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * PROBE_SAMPLE: n of the chain's boundaries, chosen by the seed (Floyd's
 * algorithm: every n-subset equally likely), after a run that only counts
 * them.  0; 2 with err.
 */
static int choose_sample(struct probe *p, char *err, size_t errlen)
{
	struct probe_config count = *p->cfg;
	struct probe_result r;
	count.inject = PROBE_COUNT_ONLY;
	count.progress = 0;
	int rc = probe_run(&count, &r, err, errlen);
	if (rc)
		return rc;
	uint64_t total = r.boundaries;
	probe_result_free(&r);
	p->nchosen_bits = total;
	p->chosen = calloc(total / 8 + 1, 1);
	if (!p->chosen) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	uint64_t n = p->cfg->sample_n < total ? p->cfg->sample_n : total, state = p->cfg->sample_seed;
	for (uint64_t j = total - n; j < total; j++) {
		uint64_t t = next_random(&state) % (j + 1);
		uint64_t pick = chosen(p, t) ? j : t;
		p->chosen[pick / 8] |= (uint8_t)(1u << (pick % 8));
	}
	return 0;
}

/* --- The sigstep guest image (the model subject) ----------------------------- */

/* The knobs as the guest's --vdso-knobs words (fallback runs), and as
 * the vvar page holds them (the vDSO the harness maps). */
static void image_knobs(const struct probe_config *cfg, struct vvar_knobs *kv, char *words, size_t n)
{
	char all[96] = "";
	*kv = (struct vvar_knobs){ .clobber = cfg->knob_clobber, .use_callee_saved = cfg->knob_callee_saved,
				   .stack_bytes = cfg->knob_stack_bytes, .sse_align = cfg->knob_sse_align };
	if (kv->clobber)
		strcat(all, ",clobber");
	if (kv->use_callee_saved)
		strcat(all, ",callee_saved");
	if (kv->sse_align)
		strcat(all, ",sse_align");
	if (kv->stack_bytes)
		snprintf(all + strlen(all), sizeof all - strlen(all), ",stack=%u", kv->stack_bytes);
	snprintf(words, n, "%s", all[0] ? all + 1 : "");
}

/* Full speed to `at` (the root, or sigstep_ready on the way to it): 0,
 * or 2 with why the guest never reached the root `root_name`. */
static int image_run_to(struct probe *p, uint64_t at, const char *root_name, char *err, size_t errlen)
{
	struct machine *mc = p->mc;
	p->mode = MODE_TO_ROOT;
	p->stop_at = at;
	p->root_skip = 0;
	int r = machine_run(mc, 0, remaining_us(p));
	p->mode = MODE_FREE;
	if (r == 0 || mc->fault.kind != FAULT_STOPPED || machine_pc(mc) != at) {
		char line[256] = "";
		if (r && mc->fault.kind == FAULT_STOPPED && now_s() >= p->deadline)
			snprintf(line, sizeof line, "it ran out of time (--timeout %llu s)",
				 (unsigned long long)probe_run_timeout_s(p->cfg));
		else if (r)
			guest_fault_line(&p->g, line, sizeof line);
		else if (mc->out[2].len)
			first_line(&mc->out[2], line, sizeof line);
		else
			snprintf(line, sizeof line, "it exited with status %d", mc->exit_status);
		fail2(err, errlen, "the guest never reached %s: %s", root_name, line);
		return 2;
	}
	mc->fault = (struct fault){ 0 };
	return 0;
}

/*
 * The image's set-up, where no run differs from another of the same
 * image, vDSO and knobs: loaded, hooked (before anything is translated)
 * and run at full speed to sigstep_ready (fixtures/run_choice.h), where
 * the guest has mapped its stacks and vDSO, read its frame tables and
 * installed its handlers, and has yet to read what it calls.  The
 * guest's arguments are this run's, as a guest run alone gets them;
 * image_start writes the choice again at sigstep_ready, so that a copy
 * of the booted machine serves any run that probe_boot_shares.
 */
static int image_boot(struct probe *pp, char *err, size_t errlen)
{
	struct probe *const p_ = pp;
#define p (*p_)
	const struct probe_config *cfg = p.cfg;
	const struct arch_ops *ops = cfg->ops;
	char image[4096], vdso[4096], lerr[LOADER_ERR_MAX];
	const char *function = cfg->function ? cfg->function : "walltime";
	const char *context = cfg->context ? cfg->context : "curg";
	if (strcmp(function, "walltime") && strcmp(function, "nanotime"))
		return fail2(err, errlen, "unknown function '%s' (walltime or nanotime)%s", function, "");
	if (strcmp(context, "curg") && strcmp(context, "g0") && strcmp(context, "gsignal"))
		return fail2(err, errlen, "unknown context '%s' (curg, g0 or gsignal)%s", context, "");
	int on_gsignal = !strcmp(context, "gsignal");
	if (cfg->era < -1 || cfg->era > 3)
		return fail2(err, errlen, "unknown sigprof era%s%s", "", "");
	const char *bdir = cfg->build_dir ? cfg->build_dir : ".";
	if (cfg->image_path)
		snprintf(image, sizeof image, "%s", cfg->image_path);
	else if (!cfg->variant || !cfg->variant[0] || strchr(cfg->variant, '/'))
		return fail2(err, errlen, "unknown variant '%s'%s", cfg->variant ? cfg->variant : "", "");
	else
		snprintf(image, sizeof image, "%s/guest/%s/sigstep-guest-%s", bdir, ops->name, cfg->variant);
	snprintf(vdso, sizeof vdso, "%s/guest/%s/vdso.so", bdir, ops->name);
	if (access(image, R_OK))
		return fail2(err, errlen, "no guest image %s%s", image, "");
	if (cfg->vdso && access(vdso, R_OK))
		return fail2(err, errlen, "no synthetic vDSO %s%s", vdso, "");

	snprintf(p.image_path, sizeof p.image_path, "%s", image);
	snprintf(p.vdso_path, sizeof p.vdso_path, "%s", vdso);
	const char *base = strrchr(image, '/') ? strrchr(image, '/') + 1 : image;
	char knobs[96];
	struct vvar_knobs kv;
	image_knobs(cfg, &kv, knobs, sizeof knobs);

	/*
	 * Without a vDSO the guest must take its fallback path; it gets the
	 * synthetic vDSO it maps itself with clock_gettime hidden from the
	 * lookup (what the native fallback runs do), rather than none at
	 * all: on amd64 the Go 1.10/1.11 fallback is the vDSO's gettimeofday.
	 */
	const char *argv[24];
	int argc = 0;
	argv[argc++] = base;
	argv[argc++] = "--context", argv[argc++] = on_gsignal ? "g0" : context;
	argv[argc++] = "--function", argv[argc++] = function;
	char iters[24];
	snprintf(iters, sizeof iters, "%llu", (unsigned long long)(cfg->iterations ? cfg->iterations : 1));
	argv[argc++] = "--iterations", argv[argc++] = iters;
	if (cfg->era >= 0)
		argv[argc++] = "--era", argv[argc++] = era_names[cfg->era];
	if (!cfg->vdso) {
		argv[argc++] = "--vdso", argv[argc++] = "synthetic";
		argv[argc++] = "--hide-symbol", argv[argc++] = "__vdso_clock_gettime";
		if (knobs[0])
			argv[argc++] = "--vdso-knobs", argv[argc++] = knobs;
	}
	argv[argc] = NULL;
	struct guest_config gc = { .ops = ops, .image_path = image, .vdso_path = cfg->vdso ? vdso : NULL,
				   .vdso_base = cfg->vdso ? cfg->vdso_base : 0, .argc = argc, .argv = argv };
	const char *bad;
	if (guest_load(&p.g, &gc, lerr, &bad)) {
		if (bad)
			return fail2(err, errlen, "%s: %s", bad, lerr);
		return fail2(err, errlen, "%s%s", lerr, "");
	}
	p.mc = p.g.mc;

	/* An image whose SPWRITE table was never filled would run the
	 * go1.19 and modern eras without Go's SPWRITE stops. */
	char serr[300];
	int filled = spwrite_is_filled(image, serr, sizeof serr);
	if (filled <= 0) {
		if (filled < 0)
			fail2(err, errlen, "%s%s", serr, "");
		else
			fail2(err, errlen, "%s: its SPWRITE table is not filled (link it as the build does: sigstep-spwrite)%s",
			      image, "");
		return 2;
	}

	uint64_t size;
	const char *root_name = strcmp(context, "curg") ? "mstart_root" : "goroutine_root";
	if (find_symbol(&p.g, root_name, &p.root_lo, &size) || !size ||
	    find_symbol(&p.g, "sigstep_sample", &p.sample_addr, NULL) ||
	    find_symbol(&p.g, "sigstep_era", &p.era_addr, NULL)) {
		fail2(err, errlen, "%s: not a sigstep guest image (no %s, sigstep_sample or sigstep_era)", image, root_name);
		return 2;
	}
	uint64_t ready, ready_size;
	if (find_symbol(&p.g, "sigstep_ready", &ready, &ready_size) || !ready_size ||
	    find_symbol(&p.g, "sigstep_choice", &p.choice_addr, NULL) ||
	    find_symbol(&p.g, "sigstep_variant_era", &p.variant_era_addr, NULL)) {
		fail2(err, errlen, "%s: no sigstep_ready, sigstep_choice or sigstep_variant_era%s", image,
		      " (an image built before fixtures/run_choice.h)");
		return 2;
	}
	static const char *const drop_names[3] = { "walltime", "nanotime", "vdsoCall" };
	uint64_t tramp_lo = UINT64_MAX, tramp_hi = 0;
	for (int i = 0; i < 3; i++) {
		uint64_t a, s;
		if (!find_symbol(&p.g, drop_names[i], &a, &s)) {
			p.drop_fn[i] = a;
			p.drop_end[i] = a + (s ? s : 1);
			tramp_lo = a < tramp_lo ? a : tramp_lo;
			tramp_hi = p.drop_end[i] > tramp_hi ? p.drop_end[i] : tramp_hi;
		}
	}
	if (!p.drop_fn[0] || !p.drop_fn[1]) {
		fail2(err, errlen, "%s: no walltime or nanotime in the image%s", image, "");
		return 2;
	}

	/*
	 * The chain's code: the callers (from the roots to chain_return, the
	 * way out), the span of the trampoline functions (with whatever local
	 * functions lie between them), and code mapped outside the image;
	 * and sigstep_ready, where the boot stops (the chain never runs it).
	 * The hooks go in before anything is translated.
	 */
	static const char *const callers[] = {
		"goroutine_root", "mstart_root", "go_main", "profiled_loop", "time_now", "chain_return",
	};
	for (size_t i = 0; i < sizeof callers / sizeof callers[0]; i++) {
		uint64_t a, s;
		if (find_symbol(&p.g, callers[i], &a, &s) || !s || add_range(&p, a, a + s)) {
			fail2(err, errlen, "%s: no usable symbol %s (not a sigstep guest image?)", image, callers[i]);
			return 2;
		}
	}
	if (add_range(&p, tramp_lo, tramp_hi) || add_range(&p, ready, ready + ready_size) || add_foreign_code(&p) ||
	    install_block_hook(&p)) {
		fail2(err, errlen, "cannot hook the guest%s%s", "", "");
		return 2;
	}
	return image_run_to(&p, ready, root_name, err, errlen);
#undef p
}

/*
 * A run from the booted image (image_boot, perhaps in the process this
 * one was forked from): its names, its choice and era written where the
 * guest reads them next, then on to its root.
 */
static int image_start(struct probe *pp, char *err, size_t errlen)
{
	struct probe *const p_ = pp;
#define p (*p_)
	const struct probe_config *cfg = p.cfg;
	struct probe_result *res = p.res;
	const struct arch_ops *ops = cfg->ops;
	const char *function = cfg->function ? cfg->function : "walltime";
	const char *context = cfg->context ? cfg->context : "curg";
	int on_gsignal = !strcmp(context, "gsignal");
	const char *base = strrchr(p.image_path, '/') ? strrchr(p.image_path, '/') + 1 : p.image_path;
	snprintf(res->arch, sizeof res->arch, "%s", ops->name);
	text(res->variant, sizeof res->variant, "%s", cfg->variant ? cfg->variant : base);
	snprintf(res->function, sizeof res->function, "%s", function);
	snprintf(res->context, sizeof res->context, "%s", context);
	struct vvar_knobs kv;
	image_knobs(cfg, &kv, res->knobs, sizeof res->knobs);
	struct machine *mc = p.mc;
	res->vdso_base = p.g.vdso_base;
	/* The vDSO reads its knobs from the vvar page at every call, and the
	 * guest makes none before sigstep_ready: each run writes its own
	 * (probe_boot_shares), over the boot's. */
	if (cfg->vdso && machine_write(mc, p.g.vdso_base - VVAR_PAGE_SIZE + VVAR_clobber, &kv, sizeof kv))
		return fail2(err, errlen, "cannot write the knobs into the vvar page%s%s", "", "");

	int reads_clock = cfg->inject == PROBE_NESTED || cfg->inject == PROBE_SCHEDULE;
	if (reads_clock && find_symbol(&p.g, "sigstep_nested_clock", &p.nested_flag_addr, NULL)) {
		fail2(err, errlen, "%s: no sigstep_nested_clock: the image cannot read the clock in its handler%s",
		      p.image_path, "");
		return 2;
	}
	if (reads_clock && find_symbol(&p.g, "sigstep_nested_read", &p.nested_read_addr, NULL)) {
		fail2(err, errlen, "%s: no sigstep_nested_read: the nested read cannot be checked%s", p.image_path, "");
		return 2;
	}

	/* What the guest calls, as its arguments would have said it. */
	uint32_t era = 0;
	struct run_choice choice = {
		.contexts = strcmp(context, "curg") ? RUN_CHOICE_G0 : RUN_CHOICE_CURG,
		.calls = strcmp(function, "walltime") ? RUN_CHOICE_NANOTIME : RUN_CHOICE_WALLTIME,
		.iterations = (unsigned int)(cfg->iterations ? cfg->iterations : 1),
	};
	if (cfg->era >= 0)
		era = (uint32_t)cfg->era;
	else if (machine_read(mc, p.variant_era_addr, &era, 4))
		return fail2(err, errlen, "%s: sigstep_variant_era cannot be read%s", p.image_path, "");
	if (machine_write(mc, p.choice_addr, &choice, sizeof choice) || machine_write(mc, p.era_addr, &era, 4))
		return fail2(err, errlen, "%s: sigstep_choice cannot be written%s", p.image_path, "");

	uint64_t size;
	const char *root_name = strcmp(context, "curg") ? "mstart_root" : "goroutine_root";
	if (find_symbol(&p.g, root_name, &p.root_lo, &size) || !size)
		return fail2(err, errlen, "%s: not a sigstep guest image (no %s)", p.image_path, root_name);
	p.root_hi = p.root_lo + size;
	if (image_run_to(&p, p.root_lo, root_name, err, errlen))
		return 2;
	if (on_gsignal && move_to_gsignal(&p, err, errlen))
		return 2;
	/* The vDSO the guest mapped itself (no vDSO from the harness). */
	if (add_foreign_code(&p)) {
		fail2(err, errlen, "cannot hook the guest%s%s", "", "");
		return 2;
	}
	mc->fault = (struct fault){ 0 };
	machine_read(mc, p.era_addr, &era, 4);
	snprintf(res->era_name, sizeof res->era_name, "%s", era < 4 ? era_names[era] : "?");
	return 0;
#undef p
}

static void image_finish(struct probe *p, int window_rc)
{
	(void)window_rc;
	int faulted = machine_run(p->mc, 0, remaining_us(p));
	if (faulted && p->mc->fault.kind == FAULT_STOPPED && now_s() >= p->deadline) {
		char what[120];
		snprintf(what, sizeof what, "the guest did not exit within the run's time limit (--timeout %llu s)",
			 (unsigned long long)probe_run_timeout_s(p->cfg));
		invariant_failed(p->res, what);
	} else {
		guest_invariants(p, faulted);
	}
}

const struct probe_subject probe_subject_image = {
	.name = "image",
	.boot = image_boot,
	.start = image_start,
	.arm_sample = image_arm_sample,
	.judge = image_judge,
	.finish = image_finish,
};

/* Where a boot stood, for probe_boot_rewind; or, for a subject whose
 * runs follow each other in one execution (`follow`), the probe as the
 * first run's engines left it, for the runs after it. */
struct boot_state {
	struct probe probe;		/* the probe as the boot left it */
	int follow;			/* runs follow each other (probe_subject.follow) */
	int started;			/* ... the first has made the engines: probe holds them */
	int broken;			/* ... a run did not end at its root's return: no run follows it */
	uc_context *cpu;		/* the chain's engine's registers */
	struct memory_snapshot memory;
	struct sys_state sys;
	struct thread_table threads;
	int has_threads;
	size_t outlen[3];
};

struct probe_boot {
	struct probe p;
	struct probe_result scratch;	/* what the subject's boot fills before a run has a result */
	int engines_ready;		/* prepare_engines done at the boot */
	struct boot_state *kept;	/* probe_boot_keep: runs leave it open, to rewind */
};

/*
 * The handler's engine over the machine's memory, the store path on
 * every engine, and one handler run to translate the handler and prove
 * the store path exact (warm_handler), with a watchdog of its own for a
 * handler that never returns.  At the root (a subject without a boot
 * step), or at the boot, where every run forked from it finds them done
 * and the memory map does not change before its root.  0, or 2 with one
 * line in err.
 */
static int prepare_engines(struct probe *p, char *err, size_t errlen)
{
	struct machine *mc = p->mc;
	if (uc_context_alloc(mc->uc, &p->ctx) != UC_ERR_OK)
		return fail2(err, errlen, "out of memory%s%s", "", "");
	if (!p->budget)
		p->budget = p->cfg->handler_budget ? p->cfg->handler_budget : DEFAULT_HANDLER_BUDGET;
	/* The warm-up is the handler's first run, which translates it (tens
	 * of times slower than a run of translated code, and slower still on
	 * a loaded host or under a sanitizer): stopped at a run's limit, it
	 * would end before the handler's stores and check none of them. */
	if (make_engines(p) || watch_memory(p) || watchdog_start(p, WARM_UP_INSNS_PER_S))
		return fail2(err, errlen, "cannot hook the guest%s%s", "", "");
	int warm = warm_handler(p);
	watchdog_end(p);
	if (warm)
		return fail2(err, errlen, "cannot run the handler once before probing%s%s",
			     " (out of memory, or it changed the memory map)", "");
	if (p->missed_store) {
		char at[64];
		snprintf(at, sizeof at, "0x%llx", (unsigned long long)p->missed_store_at);
		return fail2(err, errlen, "a store of the handler at %s landed past the store hook%s", at,
			     " (this Unicorn lets stores past its write-protect path: the undo log is not exact)");
	}
	return 0;
}

static const struct probe_subject *subject_of(const struct probe_config *cfg)
{
	return cfg->subject ? cfg->subject : &probe_subject_image;
}

double probe_deadline_from_now(const struct probe_config *cfg)
{
	return cfg->deadline ? cfg->deadline : now_s() + (double)probe_run_timeout_s(cfg);
}

struct probe_boot *probe_boot(const struct probe_config *cfg, char *err, size_t errlen)
{
	struct probe_boot *b = calloc(1, sizeof *b);
	if (!b) {
		fail2(err, errlen, "out of memory%s%s", "", "");
		return NULL;
	}
	struct probe *p = &b->p;
	p->cfg = cfg;
	p->res = &b->scratch;
	p->trial_k = -1;
	p->cur_event = -1;
	p->subject = subject_of(cfg);
	/* The run's time limit, from its start: loading the subject and
	 * bringing it to the root count. */
	p->deadline = probe_deadline_from_now(cfg);
	if (!cfg->ops) {
		fail2(err, errlen, "no architecture given%s%s", "", "");
		goto fail;
	}
	if (oracle_init(&p->o, cfg->ops) || cs_open(cfg->ops->cs_arch, cfg->ops->cs_mode, &p->cs) != CS_ERR_OK) {
		fail2(err, errlen, "out of memory%s%s", "", "");
		goto fail;
	}
	p->cs_open = 1;
	if (p->subject->boot) {
		if (p->subject->boot(p, err, errlen) || prepare_engines(p, err, errlen))
			goto fail;
		b->engines_ready = 1;
	}
	return b;
fail:
	probe_boot_free(b, cfg);
	return NULL;
}

static int same_text(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Runs of one Go program that can follow each other in one execution
 * of it: everything go_start reads of the run but the function and its
 * call, which each run counts from the exec; an injection that needs no
 * engine of its own (the stepping engine would lack a later run's
 * ranges). */
static int go_runs_share(const struct probe_config *a, const struct probe_config *b)
{
	if (subject_of(a) != &probe_subject_go || subject_of(b) != &probe_subject_go)
		return 0;
	for (int i = 0; i < a->nprogram_args && a->nprogram_args == b->nprogram_args; i++)
		if (!same_text(a->program_args[i], b->program_args[i]))
			return 0;
	int plain_a = a->inject == PROBE_EVERY || a->inject == PROBE_SAMPLE;
	int plain_b = b->inject == PROBE_EVERY || b->inject == PROBE_SAMPLE;
	return plain_a && plain_b && a->ops == b->ops && same_text(a->build_dir, b->build_dir) &&
	       same_text(a->program, b->program) && a->nprogram_args == b->nprogram_args && a->vdso == b->vdso &&
	       a->vdso_base == b->vdso_base && a->handler_budget == b->handler_budget &&
	       a->knob_clobber == b->knob_clobber && a->knob_callee_saved == b->knob_callee_saved &&
	       a->knob_stack_bytes == b->knob_stack_bytes && a->knob_sse_align == b->knob_sse_align;
}

int probe_boot_shares(const struct probe_config *a, const struct probe_config *b)
{
	if (subject_of(a)->follow)
		return go_runs_share(a, b);
	/* Everything image_boot reads of the run, but the choice it writes
	 * again (function, context, era, iterations), the knobs of the vDSO
	 * the harness maps (image_start writes them into its vvar page; a
	 * run without it passes them to the guest's start-up, as arguments)
	 * and what only the harness does (inject, budget, outputs). */
	return subject_of(a) == &probe_subject_image && subject_of(b) == &probe_subject_image &&
	       a->ops == b->ops && same_text(a->build_dir, b->build_dir) && same_text(a->variant, b->variant) &&
	       same_text(a->image_path, b->image_path) && a->vdso == b->vdso && a->vdso_base == b->vdso_base &&
	       (a->vdso || (a->knob_clobber == b->knob_clobber && a->knob_callee_saved == b->knob_callee_saved &&
			    a->knob_stack_bytes == b->knob_stack_bytes && a->knob_sse_align == b->knob_sse_align));
}

/*
 * A boot's state kept, so that runs may follow each other in this
 * process: everything a run changes is put back by probe_boot_rewind --
 * guest data memory (memory_snapshot.h, the vvar page the emulated
 * kernel writes included), the chain's registers, the emulated kernel's
 * and threads' state, the output, and the probe's own fields -- while
 * what only grows and stays true is kept: the engines' translations and
 * hooks, engines a run added (the stepping and counting engines), the
 * ranges hooked, the decode caches, the undo log's buffer.  Only a
 * subject with a boot step, whose runs leave the memory map as they
 * found it, can be kept.  0, or -1 (then the boot is as before).
 */
int probe_boot_keep(struct probe_boot *b)
{
	struct probe *p = &b->p;
	struct machine *mc = p->mc;
	if (!b->engines_ready && !b->kept && p->subject->follow) {
		/* Nothing runs yet: the first run starts the execution the
		 * others follow. */
		if (!(b->kept = calloc(1, sizeof *b->kept)))
			return -1;
		b->kept->follow = 1;
		p->follows = 1;
		return 0;
	}
	if (!b->engines_ready || b->kept)
		return b->kept ? 0 : -1;
	struct boot_state *k = calloc(1, sizeof *k);
	if (!k)
		return -1;
	if (uc_context_alloc(p->chain_uc, &k->cpu) != UC_ERR_OK) {
		free(k);
		return -1;
	}
	if (memory_snapshot_take(mc, SNAPSHOT_DATA, &k->memory)) {
		uc_context_free(k->cpu);
		free(k);
		return -1;
	}
	uc_context_save(p->chain_uc, k->cpu);
	k->sys = *mc->sys;
	if ((k->has_threads = mc->threads != NULL))
		k->threads = *mc->threads;
	for (int i = 0; i < 3; i++)
		k->outlen[i] = mc->out[i].len;
	k->probe = *p;
	b->kept = k;
	return 0;
}

/* The fields of a run's probe that outlive it (probe_boot_keep). */
static void keep_what_lasts(struct probe *to, const struct probe *from)
{
	memcpy(to->range, from->range, sizeof to->range);
	to->nranges = from->nranges;	/* their hooks are in the engines */
	to->trial_uc = from->trial_uc;
	to->trial_ctx = from->trial_ctx;
	to->count_uc = from->count_uc;
	to->cs_detail = from->cs_detail;
	to->cs_detail_open = from->cs_detail_open;
	to->undo = from->undo;
	to->capundo = from->capundo;
	to->nundo = 0;
	memcpy(to->block, from->block, sizeof to->block);
	to->o.cache = from->o.cache;
}

int probe_boot_rewind(struct probe_boot *b)
{
	struct boot_state *k = b->kept;
	struct probe *p = &b->p;
	struct machine *mc = p->mc;
	if (k && k->follow)
		return k->broken ? -1 : 0;	/* the next run goes on from here (follow_from_last_run) */
	if (!k || !memory_snapshot_same_map(mc, &k->memory))
		return -1;
	memory_snapshot_restore(mc, &k->memory);
	*mc->sys = k->sys;
	if (k->has_threads && mc->threads)
		*mc->threads = k->threads;
	for (int i = 0; i < 3; i++)
		mc->out[i].len = k->outlen[i];
	mc->exited = mc->exit_status = mc->stopped = mc->timed_out = 0;
	mc->fault = (struct fault){ 0 };
	mc->uc = k->probe.chain_uc;
	uc_context_restore(mc->uc, k->cpu);
	static struct probe live;	/* large: not on the stack */
	live = *p;
	*p = k->probe;
	keep_what_lasts(p, &live);
	return 0;
}

/* A slot's copy of cfg, owning the strings a later probe_boot_shares reads. */
static void slot_config(struct probe_boots *bs, unsigned i, const struct probe_config *cfg)
{
	struct probe_config *c = &bs->slot[i].cfg;
	*c = *cfg;
	c->schedule = NULL;
	c->on_sample = NULL;
	if (cfg->variant)
		c->variant = strncpy(bs->slot[i].variant, cfg->variant, sizeof bs->slot[i].variant - 1);
	if (cfg->build_dir)
		c->build_dir = strncpy(bs->slot[i].build_dir, cfg->build_dir, sizeof bs->slot[i].build_dir - 1);
	if (cfg->image_path)
		c->image_path = strncpy(bs->slot[i].image_path, cfg->image_path, sizeof bs->slot[i].image_path - 1);
}

int probe_run_on_boots(struct probe_boots *bs, const struct probe_config *cfg, struct probe_result *res, char *err,
		       size_t errlen)
{
	unsigned i;
	for (i = 0; i < PROBE_BOOTS_MAX; i++)
		if (bs->slot[i].boot && probe_boot_shares(&bs->slot[i].cfg, cfg))
			break;
	if (i < PROBE_BOOTS_MAX && probe_boot_rewind(bs->slot[i].boot)) {
		probe_boot_free(bs->slot[i].boot, &bs->slot[i].cfg);
		bs->slot[i].boot = NULL;
	}
	if (i == PROBE_BOOTS_MAX || !bs->slot[i].boot) {
		if (i == PROBE_BOOTS_MAX) {
			i = bs->next++ % PROBE_BOOTS_MAX;
			probe_boot_free(bs->slot[i].boot, &bs->slot[i].cfg);
			bs->slot[i].boot = NULL;
		}
		slot_config(bs, i, cfg);
		if (!(bs->slot[i].boot = probe_boot(&bs->slot[i].cfg, err, errlen))) {
			memset(res, 0, sizeof *res);
			return 2;
		}
		if (probe_boot_keep(bs->slot[i].boot)) {
			struct probe_boot *once = bs->slot[i].boot;	/* a boot that cannot be kept serves one run */
			bs->slot[i].boot = NULL;
			return probe_boot_run(once, cfg, res, err, errlen);
		}
	}
	struct probe_config c = *cfg;
	if (!c.deadline)
		c.deadline = probe_deadline_from_now(&c);
	return probe_boot_run(bs->slot[i].boot, &c, res, err, errlen);
}

void probe_boot_keep_lines(const struct probe_boot *b)
{
	if (b->p.image_path[0])
		report_lines_keep(b->p.image_path, b->p.cfg->vdso ? b->p.vdso_path : NULL);
}

/* What probe_boot and probe_boot_run made, closed (the machine and guest
 * memory only when the process does not end right after). */
static void probe_close(struct probe *p, const struct probe_config *cfg)
{
	watchdog_end(p);
	if (p->ctx)
		uc_context_free(p->ctx);
	if (p->trial_ctx)
		uc_context_free(p->trial_ctx);
	if (p->kept_ctx)
		uc_context_free(p->kept_ctx);
	if (p->o.cache)
		oracle_free(&p->o);
	if (p->cs_open)
		cs_close(&p->cs);
	if (p->cs_detail_open)
		cs_close(&p->cs_detail);
	free(p->undo);
	free(p->chosen);
	if (p->subject && p->subject->cleanup)
		p->subject->cleanup(p);
	if (p->mc && !cfg->process_ends)
		guest_free(&p->g);
}

void probe_boot_free(struct probe_boot *b, const struct probe_config *cfg)
{
	if (!b)
		return;
	probe_close(&b->p, cfg);
	if (b->kept) {
		if (b->kept->cpu)
			uc_context_free(b->kept->cpu);
		memory_snapshot_free(&b->kept->memory);
		free(b->kept);
	}
	free(b);
}

/* A run that follows the last in its execution starts from the probe as
 * the first run's engines left it, with what lasts (keep_what_lasts) and
 * the process as it is now. */
static void follow_from_last_run(struct probe_boot *b)
{
	static struct probe live;	/* large: not on the stack */
	struct probe *p = &b->p;
	live = *p;
	*p = b->kept->probe;
	keep_what_lasts(p, &live);
	p->g = live.g;
}

/* What the first run of a followed execution leaves for the others: the
 * probe with its engines made (the run's own allocations not in it). */
static void keep_for_followers(struct probe_boot *b)
{
	b->engines_ready = 1;
	b->kept->probe = b->p;
	b->kept->probe.chosen = NULL;
	b->kept->started = 1;
}

struct finish_record {
	int invariants_ok;
	char invariants[sizeof ((struct probe_result *)0)->invariants];
};

/*
 * The finish of a run that later runs follow: the process run on to its
 * exit in a copy of this process (fork), whose invariants come back down
 * a pipe, so that this one stays at the root's return for the next run.
 * Without a copy, here, and nothing follows it.
 */
static void finish_aside(struct probe_boot *b, struct probe *p, int wr)
{
	int fd[2] = { -1, -1 };	/* a failed pipe leaves them unset */
	pid_t pid = -1;
	if (pipe(fd) == 0 && (pid = fork()) == 0) {
		close(fd[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		p->subject->finish(p, wr);
		struct finish_record r = { .invariants_ok = p->res->invariants_ok };
		memcpy(r.invariants, p->res->invariants, sizeof r.invariants);
		_exit(fd_write_all(fd[1], &r, sizeof r) ? 1 : 0);
	}
	struct finish_record r;
	int got = -1, status = 0;
	if (pid > 0) {
		close(fd[1]);
		got = fd_read_all(fd[0], &r, sizeof r);
		close(fd[0]);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	} else if (pid < 0 && fd[0] >= 0) {
		close(fd[0]);
		close(fd[1]);
	}
	if (got || !WIFEXITED(status) || WEXITSTATUS(status)) {
		p->subject->finish(p, wr);
		b->kept->broken = 1;
		return;
	}
	p->res->invariants_ok = r.invariants_ok;
	memcpy(p->res->invariants, r.invariants, sizeof r.invariants);
}

int probe_run(const struct probe_config *cfg, struct probe_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	struct probe_boot *b = probe_boot(cfg, err, errlen);
	return b ? probe_boot_run(b, cfg, res, err, errlen) : 2;
}

int probe_boot_run(struct probe_boot *b, const struct probe_config *cfg, struct probe_result *res, char *err,
		   size_t errlen)
{
	const struct arch_ops *ops = cfg->ops;
	struct probe *pp = &b->p;
#define p (*pp)
	int rc = 2, wr = 1;
	struct boot_state *follow = b->kept && b->kept->follow ? b->kept : NULL;

	memset(res, 0, sizeof *res);
	if (follow && follow->started)
		follow_from_last_run(b);
	p.cfg = cfg;
	p.res = res;
	if (cfg->deadline)
		p.deadline = cfg->deadline;
	p.max_boundaries = probe_boundary_limit(cfg->iterations);
	res->invariants_ok = 1;
	res->vdso = cfg->vdso;
	snprintf(res->subject, sizeof res->subject, "%s", p.subject->name);
	if (cfg->inject == PROBE_SAMPLE)
		snprintf(res->inject, sizeof res->inject, "sample:%llu seed=%llu",
			 (unsigned long long)cfg->sample_n, (unsigned long long)cfg->sample_seed);
	else
		snprintf(res->inject, sizeof res->inject, "%s",
			 cfg->inject == PROBE_NESTED ? "nested" : cfg->inject == PROBE_SCHEDULE ? "schedule" : "every");
	res->iterations = cfg->iterations ? cfg->iterations : 1;
	if (cfg->inject == PROBE_SAMPLE)
		res->sample_n = cfg->sample_n, res->sample_seed = cfg->sample_seed;
	if (cfg->inject == PROBE_SAMPLE && choose_sample(&p, err, errlen))
		goto out;
	p.budget = cfg->handler_budget ? cfg->handler_budget : DEFAULT_HANDLER_BUDGET;
	(void)ops;
	if (follow && follow->started) {
		int f = p.subject->follow(&p, err, errlen);
		if (f == 1) {
			/* Its root has passed: a boot of its own, consumed by
			 * the run; this one waits for the next. */
			free(p.chosen);
			p.chosen = NULL;
			struct probe_config own = *cfg;
			own.process_ends = 0;
			struct probe_boot *fresh = probe_boot(&own, err, errlen);
			return fresh ? probe_boot_run(fresh, &own, res, err, errlen) : 2;
		}
		if (f)
			goto out;
	} else if (p.subject->start(&p, err, errlen)) {
		goto out;
	}
	if (cfg->inject == PROBE_SCHEDULE && resolve_events(&p, err, errlen))
		goto out;
	struct machine *mc = p.mc;
	mc->fault = (struct fault){ 0 };
	if (!b->engines_ready) {
		if (prepare_engines(&p, err, errlen))
			goto out;
		if (follow)
			keep_for_followers(b);
	}
	/* What is this run's own: the watchdog's thread (none survives a
	 * fork) and limit, a nested trial's engine and whether it logs the
	 * signal stack's stores. */
	if (watchdog_start(&p, RUN_INSNS_PER_S) ||
	    (cfg->inject == PROBE_NESTED &&
	     (!stepping_engine(&p) || (!p.trial_ctx && uc_context_alloc(mc->uc, &p.trial_ctx) != UC_ERR_OK)))) {
		fail2(err, errlen, "cannot hook the guest%s%s", "", "");
		goto out;
	}
	p.log_alt = cfg->inject == PROBE_NESTED && p.alt_hi > p.alt_lo;
	res->handler_budget = p.budget;
	double t0 = now_s(), c0 = thread_cpu_s();
	wr = probe_window(&p);
	res->cpu_s = thread_cpu_s() - c0;
	if (p.progress_shown)
		fputs("\r\033[K", stderr);	/* the progress line goes */
	res->elapsed_s = now_s() - t0;
	res->boundaries_per_s = res->elapsed_s > 0 ? res->boundaries / res->elapsed_s : 0;
	if (wr < 0) {
		fail2(err, errlen, "out of memory%s%s", "", "");
		goto out;
	}
	if (p.missed_store) {
		fail2(err, errlen, "the write hooks missed the handler's store to its sample%s%s",
		      " (this Unicorn lets stores past its slow path: the undo log is not exact)", "");
		goto out;
	}
	if (p.bad_writes) {
		char what[220];
		snprintf(what, sizeof what, "%s (%llu stores outside the handler's memory)", p.bad_write,
			 (unsigned long long)p.bad_writes);
		invariant_failed(res, what);
	}
	/* The rest of the run: the guest's own checks of the call. */
	if (wr == 0 && follow)
		finish_aside(b, &p, wr);
	else if (wr == 0)
		p.subject->finish(&p, wr);
	if (res->boundaries == 0)
		invariant_failed(res, "no boundary was probed");

	if (p.image_path[0])
		report_locate_violations(res, p.image_path, cfg->vdso ? p.vdso_path : NULL);

	int all = 1;
	for (int v = 0; v < VERDICT_COUNT; v++)
		if (!verdict_passes((enum verdict)v) && res->verdicts[v])
			all = 0;
	res->pass = all && res->invariants_ok;
	rc = 0;
out:
	/* What was this run's alone; the rest with it, unless the boot is
	 * kept for the next run (probe_boot_rewind). */
	watchdog_end(&p);
	free(p.chosen);
	p.chosen = NULL;
	if (follow && (rc || wr || !follow->started))
		follow->broken = 1;	/* not at its root's return */
	if (!b->kept)
		probe_boot_free(b, cfg);
	if (rc) {
		free(res->violations);
		res->violations = NULL;
		res->nviolations = 0;
	}
	return rc;
#undef p
}

void probe_result_free(struct probe_result *res)
{
	free(res->violations);
	res->violations = NULL;
	res->nviolations = 0;
}
