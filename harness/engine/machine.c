#include "machine.h"
#include "run_deadline.h"
#include "syscalls.h"
#include "threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Host memory handed to Unicorn.  Never reused while the machine lives:
 * regions split by munmap/mprotect keep pointing into their block. */
struct host_block {
	void *p;
	size_t len;
	struct host_block *next;
};

/* An engine's page size as UC_CTL_UC_PAGE_SIZE must be told it: before
 * 2.1.2 Unicorn made a page twice the size it was given (an off-by-one
 * in uc.c, fixed there).  open_engine checks what it got. */
static uint32_t page_size_to_ask(uint32_t size)
{
	unsigned v = uc_version(NULL, NULL);	/* major << 24 | minor << 16 | patch << 8 */
	return v < 0x02010200u ? size / 2 : size;
}

/* Read back by uc_query: the header's uc_ctl_get_page_size shifts a
 * signed 2 by 30 bits. */
static int set_page_size(uc_engine *uc, uint32_t size)
{
	size_t got = 0;
	return uc_ctl_set_page_size(uc, page_size_to_ask(size)) == UC_ERR_OK &&
	       uc_query(uc, UC_QUERY_PAGE_SIZE, &got) == UC_ERR_OK && got == size ? 0 : -1;
}

static uc_engine *open_engine(const struct arch_ops *ops)
{
	uc_engine *uc;
	if (uc_open(ops->uc_arch, ops->uc_mode, &uc) != UC_ERR_OK)
		return NULL;
	if ((ops->uc_cpu >= 0 && uc_ctl_set_cpu_model(uc, ops->uc_cpu) != UC_ERR_OK) ||
	    (ops->uc_page_size && set_page_size(uc, ops->uc_page_size))) {
		uc_close(uc);
		return NULL;
	}
	return uc;
}

struct machine *machine_create(const struct arch_ops *ops)
{
	struct machine *mc = calloc(1, sizeof *mc);
	if (!mc)
		return NULL;
	mc->ops = ops;
	if (!(mc->uc = open_engine(ops))) {
		free(mc);
		return NULL;
	}
	mc->mmap_next = ops->mmap_base;
	mc->engine[mc->nengines++] = mc->uc;
	return mc;
}

static int install_hooks_on(struct machine *mc, uc_engine *uc, uc_hook *hooks, int *n);

/*
 * A PROT_NONE range is in the region table and has its host memory, but
 * is mapped in no engine: Unicorn 2.0.1 changes the protection of part of
 * one of its mappings by unmapping all of it and mapping the pieces back,
 * and an unmap drops the TLB page by page (1 KiB pages on arm) over the
 * whole mapping.  A Go runtime reserves hundreds of MiB PROT_NONE (its
 * arena) and commits it piece by piece with mmap(MAP_FIXED) or mprotect:
 * with the reservation in the engines each piece cost a walk of all of
 * it; now a piece is mapped into the engines when it becomes accessible,
 * at its own size.  A guest access to such a range is Unicorn's "unmapped"
 * and the fault hook reports it as the protection fault it is.
 */
static int in_engines(uint32_t perms)
{
	return perms != UC_PROT_NONE;
}

uc_engine *machine_add_engine(struct machine *mc)
{
	const struct arch_ops *ops = mc->ops;
	uc_engine *uc;
	uc_hook hooks[4];
	int n = 0;
	if (mc->nengines == MACHINE_MAX_ENGINES || !(uc = open_engine(ops)))
		return NULL;
	int ok = 1;
	for (size_t i = 0; ok && i < mc->nregions; i++) {
		const struct region *r = &mc->regions[i];
		ok = !in_engines(r->perms) ||
		     uc_mem_map_ptr(uc, r->begin, r->end - r->begin, r->perms, r->host) == UC_ERR_OK;
	}
	if (!ok || install_hooks_on(mc, uc, hooks, &n)) {
		uc_close(uc);
		return NULL;
	}
	mc->engine[mc->nengines++] = uc;
	return uc;
}

void machine_set_store(struct machine *mc, machine_store_fn store, void *ctx)
{
	mc->store = store;
	mc->store_ctx = ctx;
}

void machine_drop_code(struct machine *mc, uint64_t begin, uint64_t end)
{
	for (int e = 0; e < mc->nengines; e++)
		uc_ctl_remove_cache(mc->engine[e], begin, end);
}

void machine_destroy(struct machine *mc)
{
	if (!mc)
		return;
	run_deadline_free(mc->deadline);	/* before the engines it may stop */
	for (int e = 0; e < mc->nengines; e++)
		uc_close(mc->engine[e]);
	for (struct host_block *b = mc->blocks, *next; b; b = next) {
		next = b->next;
		munmap(b->p, b->len);
		free(b);
	}
	for (int i = 0; i < 3; i++)
		free(mc->out[i].data);
	free(mc->regions);
	threads_free(mc);
	if (mc->sys)
		free(mc->sys->fds);
	free(mc->sys);
	free(mc);
}

const char *region_kind_name(enum region_kind kind)
{
	static const char *const names[] = {
		[REGION_IMAGE_TEXT] = "text", [REGION_IMAGE_DATA] = "data",
		[REGION_VDSO] = "vdso", [REGION_VVAR] = "vvar",
		[REGION_STACK] = "stack", [REGION_GUARD] = "guard",
		[REGION_MMAP] = "mmap", [REGION_SYSTEM] = "system",
	};
	return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

/* --- The region table ---------------------------------------------- */

/* Index of the first region whose end is above addr (nregions if none). */
static size_t region_index(const struct machine *mc, uint64_t addr)
{
	size_t lo = 0, hi = mc->nregions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (mc->regions[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The two last regions found are tried first: the store path asks for
 * every store (machine_set_store), and a handler's stores alternate
 * between two regions (its signal stack, its sample).  The table is
 * sorted and its regions never overlap, so a region that holds addr is
 * the answer whatever changed since.
 */
static inline int region_holds(const struct machine *mc, size_t i, uint64_t addr)
{
	return i < mc->nregions && mc->regions[i].begin <= addr && addr < mc->regions[i].end;
}

static inline const struct region *find_region(struct machine *mc, uint64_t addr)
{
	if (region_holds(mc, mc->recent[0], addr))
		return &mc->regions[mc->recent[0]];
	if (region_holds(mc, mc->recent[1], addr))
		return &mc->regions[mc->recent[1]];
	size_t i = region_index(mc, addr);
	if (i < mc->nregions && mc->regions[i].begin <= addr) {
		mc->recent[1] = mc->recent[0];
		mc->recent[0] = i;
		return &mc->regions[i];
	}
	return NULL;
}

const struct region *machine_region(const struct machine *mc, uint64_t addr)
{
	return find_region((struct machine *)mc, addr);
}

int machine_range_free(const struct machine *mc, uint64_t begin, uint64_t end)
{
	size_t i = region_index(mc, begin);
	return i == mc->nregions || mc->regions[i].begin >= end;
}

static int region_insert(struct machine *mc, size_t at, const struct region *r)
{
	if (mc->nregions == mc->cap) {
		size_t cap = mc->cap ? 2 * mc->cap : 32;
		struct region *n = realloc(mc->regions, cap * sizeof *n);
		if (!n)
			return -1;
		mc->regions = n;
		mc->cap = cap;
	}
	memmove(&mc->regions[at + 1], &mc->regions[at], (mc->nregions - at) * sizeof *r);
	mc->regions[at] = *r;
	mc->nregions++;
	return 0;
}

static void region_remove(struct machine *mc, size_t at)
{
	memmove(&mc->regions[at], &mc->regions[at + 1], (mc->nregions - at - 1) * sizeof mc->regions[0]);
	mc->nregions--;
	mc->removals++;
}

/* Makes addr a region boundary (Unicorn splits its own map as needed). */
static int region_split(struct machine *mc, uint64_t addr)
{
	size_t i = region_index(mc, addr);
	if (i == mc->nregions || mc->regions[i].begin >= addr)
		return 0;
	struct region hi = mc->regions[i];
	hi.host += addr - hi.begin;
	hi.begin = addr;
	if (region_insert(mc, i + 1, &hi))
		return -1;
	mc->regions[i].end = addr;
	return 0;
}

static int range_ok(const struct machine *mc, uint64_t begin, uint64_t end)
{
	return begin < end && !(begin % GUEST_PAGE) && !(end % GUEST_PAGE) &&
	       end <= mc->ops->address_limit;
}

int machine_map(struct machine *mc, uint64_t begin, uint64_t end, uint32_t perms,
		enum region_kind kind, const char *name)
{
	if (!range_ok(mc, begin, end) || !machine_range_free(mc, begin, end))
		return -1;
	size_t len = end - begin;
	struct host_block *b = malloc(sizeof *b);
	if (!b)
		return -1;
	b->p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->p == MAP_FAILED) {
		free(b);
		return -1;
	}
	b->len = len;
	for (int e = 0; in_engines(perms) && e < mc->nengines; e++)
		if (uc_mem_map_ptr(mc->engine[e], begin, len, perms, b->p) != UC_ERR_OK) {
			while (e-- > 0)
				uc_mem_unmap(mc->engine[e], begin, len);
			munmap(b->p, len);
			free(b);
			return -1;
		}
	b->next = mc->blocks;
	mc->blocks = b;

	struct region r = { .begin = begin, .end = end, .perms = perms, .kind = kind, .host = b->p };
	snprintf(r.name, sizeof r.name, "%s", name);
	if (region_insert(mc, region_index(mc, begin), &r)) {
		for (int e = 0; in_engines(perms) && e < mc->nengines; e++)
			uc_mem_unmap(mc->engine[e], begin, len);
		return -1;
	}
	return 0;
}

int machine_unmap(struct machine *mc, uint64_t begin, uint64_t end)
{
	if (!range_ok(mc, begin, end))
		return -1;
	if (region_split(mc, begin) || region_split(mc, end))
		return -1;
	size_t i = region_index(mc, begin);
	while (i < mc->nregions && mc->regions[i].begin < end) {
		struct region *r = &mc->regions[i];
		for (int e = 0; in_engines(r->perms) && e < mc->nengines; e++)
			if (uc_mem_unmap(mc->engine[e], r->begin, r->end - r->begin) != UC_ERR_OK)
				return -1;
		region_remove(mc, i);
	}
	return 0;
}

/* r's protection becomes perms in every engine (r->perms is still the
 * old one): mapped in when it becomes accessible, out when it becomes
 * PROT_NONE, else protected.  0 or -1. */
static int engines_protect(struct machine *mc, const struct region *r, uint32_t perms)
{
	uint64_t len = r->end - r->begin;
	/* Code that was readable-executable may now be written: drop its
	 * translations either way (while the engines still map it). */
	int code = ((r->perms | perms) & UC_PROT_EXEC) != 0;
	if (!in_engines(r->perms)) {
		if (!in_engines(perms))
			return 0;
		for (int e = 0; e < mc->nengines; e++)
			if (uc_mem_map_ptr(mc->engine[e], r->begin, len, perms, r->host) != UC_ERR_OK) {
				while (e-- > 0)
					uc_mem_unmap(mc->engine[e], r->begin, len);
				return -1;
			}
	} else if (!in_engines(perms)) {
		if (code)
			machine_drop_code(mc, r->begin, r->end);
		for (int e = 0; e < mc->nengines; e++)
			if (uc_mem_unmap(mc->engine[e], r->begin, len) != UC_ERR_OK)
				return -1;
		return 0;
	} else {
		for (int e = 0; e < mc->nengines; e++)
			if (uc_mem_protect(mc->engine[e], r->begin, len, perms) != UC_ERR_OK)
				return -1;
	}
	if (code)
		machine_drop_code(mc, r->begin, r->end);
	return 0;
}

int machine_protect(struct machine *mc, uint64_t begin, uint64_t end, uint32_t perms)
{
	if (!range_ok(mc, begin, end))
		return -1;
	/* Entirely mapped? */
	uint64_t at = begin;
	for (size_t i = region_index(mc, begin); i < mc->nregions && at < end; i++) {
		if (mc->regions[i].begin > at)
			break;	/* a hole */
		at = mc->regions[i].end;
	}
	if (at < end)
		return -1;
	if (region_split(mc, begin) || region_split(mc, end))
		return -1;
	for (size_t i = region_index(mc, begin); i < mc->nregions && mc->regions[i].begin < end; i++) {
		struct region *r = &mc->regions[i];
		if (engines_protect(mc, r, perms))
			return -1;
		r->perms = perms;
	}
	return 0;
}

/* --- Memory access ------------------------------------------------------ */

/*
 * Walks [addr, addr+len) region by region.  `need` 0 ignores protection;
 * buf NULL only checks (a read).  Returns -1 at the first byte that is
 * unmapped or lacks `need`.
 */
static int access_guest(const struct machine *mc, uint64_t addr, void *buf, size_t len,
			int write, uint32_t need)
{
	uint8_t *p = buf;
	if (addr + len < addr)
		return -1;
	while (len) {
		const struct region *r = machine_region(mc, addr);
		if (!r || (r->perms & need) != need)
			return -1;
		size_t n = r->end - addr < len ? (size_t)(r->end - addr) : len;
		uint8_t *host = r->host + (addr - r->begin);
		if (write) {
			memcpy(host, p, n);
			if (r->perms & UC_PROT_EXEC)
				machine_drop_code((struct machine *)mc, addr, addr + n);
		} else if (p) {
			memcpy(p, host, n);
		}
		addr += n;
		if (p)
			p += n;
		len -= n;
	}
	return 0;
}

int machine_read(const struct machine *mc, uint64_t addr, void *buf, size_t len)
{
	return access_guest(mc, addr, buf, len, 0, 0);
}

int machine_write(struct machine *mc, uint64_t addr, const void *buf, size_t len)
{
	return access_guest(mc, addr, (void *)buf, len, 1, 0);
}

int machine_copy_in(const struct machine *mc, uint64_t addr, void *buf, size_t len)
{
	return access_guest(mc, addr, buf, len, 0, UC_PROT_READ);
}

int machine_can_read(const struct machine *mc, uint64_t addr, size_t len)
{
	return access_guest(mc, addr, NULL, len, 0, UC_PROT_READ);
}

int machine_copy_out(struct machine *mc, uint64_t addr, const void *buf, size_t len)
{
	return access_guest(mc, addr, (void *)buf, len, 1, UC_PROT_WRITE);
}

/* Guests are little-endian on every supported arch, as is the host. */
int machine_read_word(const struct machine *mc, uint64_t addr, uint64_t *value)
{
	*value = 0;
	return machine_read(mc, addr, value, mc->ops->word_size);
}

int machine_write_word(struct machine *mc, uint64_t addr, uint64_t value)
{
	return machine_write(mc, addr, &value, mc->ops->word_size);
}

/* --- Registers -------------------------------------------------------- */

/* Unicorn reads and writes a register in its own width (4 bytes for the
 * 32-bit arches' registers), so a zeroed 64-bit slot works for every one
 * on a little-endian host. */
uint64_t machine_reg(const struct machine *mc, int reg)
{
	uint64_t v = 0;
	uc_reg_read(mc->uc, reg, &v);
	if (mc->ops->word_size == 4)
		v &= 0xffffffffu;
	return v;
}

void machine_set_reg(struct machine *mc, int reg, uint64_t value)
{
	uc_reg_write(mc->uc, reg, &value);
}

/* Unicorn's batch calls take an array of pointers: built on the stack, a
 * chunk at a time. */
#define MACHINE_BATCH 32

void machine_regs(const struct machine *mc, const int *regs, uint64_t *values, int n)
{
	void *v[MACHINE_BATCH];
	for (int at = 0; at < n; at += MACHINE_BATCH) {
		int k = n - at < MACHINE_BATCH ? n - at : MACHINE_BATCH;
		for (int i = 0; i < k; i++) {
			values[at + i] = 0;
			v[i] = &values[at + i];
		}
		uc_reg_read_batch(mc->uc, (int *)regs + at, v, k);
	}
	if (mc->ops->word_size == 4)
		for (int i = 0; i < n; i++)
			values[i] &= 0xffffffffu;
}

void machine_set_regs(struct machine *mc, const int *regs, const uint64_t *values, int n)
{
	void *v[MACHINE_BATCH];
	for (int at = 0; at < n; at += MACHINE_BATCH) {
		int k = n - at < MACHINE_BATCH ? n - at : MACHINE_BATCH;
		for (int i = 0; i < k; i++)
			v[i] = (void *)&values[at + i];
		uc_reg_write_batch(mc->uc, (int *)regs + at, v, k);
	}
}

uint64_t machine_pc(const struct machine *mc)
{
	return machine_reg(mc, mc->ops->reg_pc);
}

uint64_t machine_sp(const struct machine *mc)
{
	return machine_reg(mc, mc->ops->reg_sp);
}

int machine_zero(struct machine *mc, uint64_t begin, uint64_t end)
{
	if (!range_ok(mc, begin, end))
		return -1;
	for (uint64_t p = begin; p < end;) {
		const struct region *r = machine_region(mc, p);
		if (!r)
			return -1;
		uint64_t e = r->end < end ? r->end : end;
		/* Host memory is private anonymous: MADV_DONTNEED gives zero
		 * pages back (the host page size divides the guest's). */
		if (madvise(r->host + (p - r->begin), e - p, MADV_DONTNEED))
			memset(r->host + (p - r->begin), 0, e - p);
		if (r->perms & UC_PROT_EXEC)
			machine_drop_code(mc, p, e);
		p = e;
	}
	return 0;
}

/* --- Output ------------------------------------------------------------- */

void machine_capture(struct machine *mc, int fd, const void *buf, size_t len)
{
	struct outbuf *o = &mc->out[fd];
	if (o->len + len > OUTBUF_MAX) {
		size_t keep = OUTBUF_MAX - o->len;
		o->dropped += len - keep;
		len = keep;
	}
	if (o->len + len > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		while (cap < o->len + len)
			cap *= 2;
		char *n = realloc(o->data, cap);
		if (!n) {
			o->dropped += len;
			return;
		}
		o->data = n;
		o->cap = cap;
	}
	memcpy(o->data + o->len, buf, len);
	o->len += len;
}

/* --- Running ------------------------------------------------------------ */

void machine_stop(struct machine *mc)
{
	mc->stopped = 1;
	uc_emu_stop(mc->uc);
}

void machine_fault(struct machine *mc, enum fault_kind kind, uint64_t pc, uint64_t addr, uint64_t number)
{
	if (mc->fault.kind == FAULT_NONE) {
		mc->fault.kind = kind;
		mc->fault.pc = pc;
		mc->fault.pc_exact = 1;
		mc->fault.addr = addr;
		mc->fault.number = number;
	}
	machine_stop(mc);
}

const char *fault_kind_name(enum fault_kind kind)
{
	static const char *const names[] = {
		[FAULT_NONE] = "none",
		[FAULT_READ_UNMAPPED] = "read of unmapped memory",
		[FAULT_WRITE_UNMAPPED] = "write to unmapped memory",
		[FAULT_FETCH_UNMAPPED] = "fetch from unmapped memory",
		[FAULT_READ_PROT] = "read of protected memory",
		[FAULT_WRITE_PROT] = "write to protected memory",
		[FAULT_FETCH_PROT] = "fetch from non-executable memory",
		[FAULT_INVALID_INSN] = "invalid instruction",
		[FAULT_TRAP] = "trap",
		[FAULT_UNSUPPORTED_SYSCALL] = "unsupported syscall",
		[FAULT_STOPPED] = "execution stopped without exit_group",
		[FAULT_TIMEOUT] = "time limit reached",
		[FAULT_ENGINE] = "emulator error",
		[FAULT_INSN_LIMIT] = "instruction limit reached",
		[FAULT_DEADLOCK] = "deadlock: every thread waits with no timeout",
	};
	return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

/* An access Unicorn faulted, recorded as the guest's fault (r: the
 * region holding addr, NULL if none). */
static __attribute__((noinline)) bool record_mem_fault(struct machine *mc, uc_mem_type type, const struct region *r, uint64_t addr)
{
	enum fault_kind kind;
	switch (type) {
	case UC_MEM_READ_UNMAPPED: kind = FAULT_READ_UNMAPPED; break;
	case UC_MEM_WRITE_UNMAPPED: kind = FAULT_WRITE_UNMAPPED; break;
	case UC_MEM_FETCH_UNMAPPED: kind = FAULT_FETCH_UNMAPPED; break;
	case UC_MEM_READ_PROT: kind = FAULT_READ_PROT; break;
	case UC_MEM_WRITE_PROT: kind = FAULT_WRITE_PROT; break;
	case UC_MEM_FETCH_PROT: kind = FAULT_FETCH_PROT; break;
	default: kind = FAULT_ENGINE; break;
	}
	/* A PROT_NONE region is in no engine (in_engines): Unicorn calls an
	 * access to it unmapped; the guest sees the protection fault. */
	if (r && kind == FAULT_READ_UNMAPPED)
		kind = FAULT_READ_PROT;
	else if (r && kind == FAULT_WRITE_UNMAPPED)
		kind = FAULT_WRITE_PROT;
	else if (r && kind == FAULT_FETCH_UNMAPPED)
		kind = FAULT_FETCH_PROT;
	int fetch = kind == FAULT_FETCH_UNMAPPED || kind == FAULT_FETCH_PROT;
	if (mc->fault.kind == FAULT_NONE) {
		mc->fault.kind = kind;
		/* Unicorn 2.0.1 has not synced PC to the instruction making a
		 * data access (only to the start of its block). */
		mc->fault.pc = fetch ? addr : machine_pc(mc);
		mc->fault.pc_exact = fetch;
		mc->fault.addr = addr;
	}
	return false;	/* Unicorn ends the run with the matching UC_ERR_* */
}

/*
 * Every store of a layer's store path comes here (machine_set_store): a
 * store to a page the guest has writable that Unicorn has read-only is no
 * fault, the store path makes it.  This hook is the only one Unicorn
 * calls for it, and its region lookup the only one: the store runs for
 * every store a signal handler makes.
 */
static bool hook_mem_invalid(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
			     int64_t value, void *user)
{
	struct machine *mc = user;
	const struct region *r = find_region(mc, addr);
	(void)uc;
	if (type == UC_MEM_WRITE_PROT && r && (r->perms & UC_PROT_WRITE))
		return mc->store && mc->store(mc->store_ctx, r, addr, size, (uint64_t)value);
	return record_mem_fault(mc, type, r, addr);
}

static bool hook_insn_invalid(uc_engine *uc, void *user)
{
	struct machine *mc = user;
	(void)uc;
	if (mc->fault.kind == FAULT_NONE) {
		mc->fault.kind = FAULT_INVALID_INSN;
		mc->fault.pc = machine_pc(mc);
		mc->fault.pc_exact = 1;
	}
	return false;
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *user)
{
	struct machine *mc = user;
	(void)uc;
	if (mc->ops->syscall_entry == SYSCALL_BY_INTR && intno == mc->ops->syscall_intno)
		mc->on_syscall(mc);
	else if (mc->on_trap)
		mc->on_trap(mc, intno);
	else
		machine_fault(mc, FAULT_TRAP, machine_pc(mc), 0, intno);
}

static void hook_syscall_insn(uc_engine *uc, void *user)
{
	struct machine *mc = user;
	(void)uc;
	mc->on_syscall(mc);
}

static int install_hooks_on(struct machine *mc, uc_engine *uc, uc_hook *hooks, int *n)
{
	if (uc_hook_add(uc, &hooks[(*n)++], UC_HOOK_MEM_INVALID,
			(void *)hook_mem_invalid, mc, 1, 0) != UC_ERR_OK)
		return -1;
	if (uc_hook_add(uc, &hooks[(*n)++], UC_HOOK_INSN_INVALID,
			(void *)hook_insn_invalid, mc, 1, 0) != UC_ERR_OK)
		return -1;
	if (uc_hook_add(uc, &hooks[(*n)++], UC_HOOK_INTR,
			(void *)hook_intr, mc, 1, 0) != UC_ERR_OK)
		return -1;
	if (mc->ops->syscall_entry == SYSCALL_BY_INSN &&
	    uc_hook_add(uc, &hooks[(*n)++], UC_HOOK_INSN,
			(void *)hook_syscall_insn, mc, 1, 0, mc->ops->syscall_insn) != UC_ERR_OK)
		return -1;
	return 0;
}

static int install_hooks(struct machine *mc)
{
	return install_hooks_on(mc, mc->engine[0], mc->hooks, &mc->nhooks);
}

static enum fault_kind fault_from_uc_err(uc_err err)
{
	switch (err) {
	case UC_ERR_READ_UNMAPPED: return FAULT_READ_UNMAPPED;
	case UC_ERR_WRITE_UNMAPPED: return FAULT_WRITE_UNMAPPED;
	case UC_ERR_FETCH_UNMAPPED: return FAULT_FETCH_UNMAPPED;
	case UC_ERR_READ_PROT: return FAULT_READ_PROT;
	case UC_ERR_WRITE_PROT: return FAULT_WRITE_PROT;
	case UC_ERR_FETCH_PROT: return FAULT_FETCH_PROT;
	case UC_ERR_INSN_INVALID: return FAULT_INVALID_INSN;
	default: return FAULT_ENGINE;
	}
}

int machine_run(struct machine *mc, uint64_t max_insns, uint64_t timeout_us)
{
	if (!mc->nhooks && install_hooks(mc)) {
		mc->fault.kind = FAULT_ENGINE;
		return 1;
	}
	mc->stopped = 0;
	mc->timed_out = 0;
	/* Unicorn's own timeout only when the machine's thread cannot start. */
	uint64_t uc_timeout_us = 0;
	int watched = timeout_us && !run_deadline_begin(&mc->deadline, mc->uc, timeout_us);
	if (timeout_us && !watched)
		uc_timeout_us = timeout_us;
	/*
	 * `until` is the one address no guest instruction can sit at: the
	 * top of the address space is never mapped (address_limit is below
	 * it), and a jump there faults as a fetch before Unicorn compares.
	 */
	uint64_t until = mc->ops->word_size == 4 ? 0xffffffffull : ~0ull;
	uc_err err = uc_emu_start(mc->uc, machine_pc(mc), until, uc_timeout_us, max_insns);
	if (watched)
		mc->timed_out = run_deadline_end(mc->deadline);
	if (mc->exited)
		return 0;
	if (mc->fault.kind != FAULT_NONE)
		return 1;
	if (err != UC_ERR_OK) {
		mc->fault.kind = fault_from_uc_err(err);
		mc->fault.pc = machine_pc(mc);
		mc->fault.uc_err = err;
		return 1;
	}
	/* Neither exit nor exception: the instruction budget ran out, or an
	 * instruction Unicorn ends the run on (x86 hlt). */
	mc->fault.kind = FAULT_STOPPED;
	mc->fault.pc = machine_pc(mc);
	mc->fault.pc_exact = 1;
	return 1;
}
