/*
 * The guest's frame tables, traceback and sigprof, run on the host against
 * the built amd64 seed image: $SIGSTEP_BUILD_DIR/guest/amd64/sigstep-guest-seed
 * is mapped at its link address (this test is PIE, so 0x400000 is free),
 * its .eh_frame indexed by fixtures/eh_frame.c, and fixtures/traceback.c and
 * fixtures/sigprof.c (compiled for the host) walk synthetic goroutine
 * stacks laid out exactly as the image's code lays out its frames.
 *
 * Expected values come from the instruction bytes (the SUBQ immediates,
 * the CALL targets), never from the frame tables under test.  Stacks sit
 * between PROT_NONE pages: a traceback that reads outside its stack's
 * bounds faults, and the test fails.
 */
#define _GNU_SOURCE
#include <check.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime.h"
#include "eh_frame.h"
#include "spwrite_table.h"
#include "traceback.h"
#include "sample.h"
#include "sigprof.h"
#include "variant.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PAGE 4096
#define WORD 8
#define DWARF_RSP 7

/* ---- the guest image ---------------------------------------------------- */

static char load_error[512];
static int loaded;
static int nfdes_found;
static uint8 *file;
static size_t file_size;
static const Elf64_Sym *symtab;
static size_t nsyms;
static const char *strtab;

static const Elf64_Sym *find_sym(const char *name)
{
	for (size_t i = 0; i < nsyms; i++)
		if (symtab[i].st_name && strcmp(strtab + symtab[i].st_name, name) == 0)
			return &symtab[i];
	return NULL;
}

static uintptr sym(const char *name)
{
	const Elf64_Sym *s = find_sym(name);
	ck_assert_msg(s != NULL, "symbol %s not in the image", name);
	return (uintptr)s->st_value;
}

static int load_image(const char *path)
{
	int fd = open(path, O_RDONLY);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(load_error, sizeof load_error, "cannot open %s (set SIGSTEP_BUILD_DIR to the build directory)", path);
		return -1;
	}
	file_size = (size_t)st.st_size;
	file = malloc(file_size);
	if (!file || read(fd, file, file_size) != (ssize_t)file_size) {
		snprintf(load_error, sizeof load_error, "cannot read %s", path);
		return -1;
	}
	close(fd);

	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;
	if (file_size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_machine != EM_X86_64 || eh->e_phoff + (size_t)eh->e_phnum * sizeof(Elf64_Phdr) > file_size ||
	    eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > file_size) {
		snprintf(load_error, sizeof load_error, "%s: not an amd64 ELF image", path);
		return -1;
	}

	/* One mapping for the span of all PT_LOADs: segments may share a page
	 * (the ELF header's and .text's, here). */
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(file + eh->e_phoff);
	uintptr lo = ~(uintptr)0, hi = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (ph[i].p_offset + ph[i].p_filesz > file_size || ph[i].p_filesz > ph[i].p_memsz) {
			snprintf(load_error, sizeof load_error, "%s: segment %d outside the file", path, i);
			return -1;
		}
		if (ph[i].p_vaddr < lo)
			lo = ph[i].p_vaddr & ~(uintptr)(PAGE - 1);
		if (ph[i].p_vaddr + ph[i].p_memsz > hi)
			hi = (ph[i].p_vaddr + ph[i].p_memsz + PAGE - 1) & ~(uintptr)(PAGE - 1);
	}
	if (lo >= hi || mmap((void *)lo, hi - lo, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != (void *)lo) {
		snprintf(load_error, sizeof load_error, "%s: cannot map [%#lx, %#lx)", path, lo, hi);
		return -1;
	}
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD)
			memcpy((void *)ph[i].p_vaddr, file + ph[i].p_offset, ph[i].p_filesz);

	const Elf64_Shdr *sh = (const Elf64_Shdr *)(file + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type == SHT_SYMTAB && sh[i].sh_link < eh->e_shnum) {
			symtab = (const Elf64_Sym *)(file + sh[i].sh_offset);
			nsyms = sh[i].sh_size / sizeof(Elf64_Sym);
			strtab = (const char *)(file + sh[sh[i].sh_link].sh_offset);
		}
	}
	const Elf64_Sym *s = find_sym("__eh_frame_start"), *e = find_sym("__eh_frame_end");
	if (!symtab || !s || !e) {
		snprintf(load_error, sizeof load_error, "%s: no symbol table or no __eh_frame_start/__eh_frame_end", path);
		return -1;
	}
	nfdes_found = eh_frame_init((const uint8 *)s->st_value, (const uint8 *)e->st_value);
	if (nfdes_found < 0) {
		snprintf(load_error, sizeof load_error, "%s: eh_frame_init rejected the .eh_frame", path);
		return -1;
	}
	sigprof_etext = (uintptr)find_sym("__text_end")->st_value;
	return 0;
}

static void setup_image(void)
{
	if (loaded)
		return;
	const char *dir = getenv("SIGSTEP_BUILD_DIR");
	char path[400];
	snprintf(path, sizeof path, "%s/guest/amd64/sigstep-guest-seed", dir ? dir : "(SIGSTEP_BUILD_DIR unset)");
	loaded = load_image(path) == 0 ? 1 : -1;
}

#define REQUIRE_IMAGE() ck_assert_msg(loaded == 1, "%s", load_error)

/* The function symbol's bytes. */
static const uint8 *code(const char *name, size_t *size)
{
	const Elf64_Sym *s = find_sym(name);
	ck_assert_msg(s != NULL && s->st_size > 0, "function %s (with .size) not in the image", name);
	*size = s->st_size;
	return (const uint8 *)s->st_value;
}

/* Address of the first occurrence of pat in function name, 0 if none. */
static uintptr find_insn(const char *name, const uint8 *pat, size_t len)
{
	size_t size;
	const uint8 *p = code(name, &size);
	for (size_t i = 0; i + len <= size; i++)
		if (memcmp(p + i, pat, len) == 0)
			return (uintptr)(p + i);
	return 0;
}

/* The address after "call target" (e8 rel32) in function name. */
static uintptr return_pc(const char *name, const char *target)
{
	size_t size;
	const uint8 *p = code(name, &size);
	uintptr t = sym(target);
	for (size_t i = 0; i + 5 <= size; i++) {
		int32_t rel;
		memcpy(&rel, p + i + 1, 4);
		if (p[i] == 0xe8 && (uintptr)(p + i + 5) + (intptr_t)rel == t)
			return (uintptr)(p + i + 5);
	}
	ck_abort_msg("no call %s in %s", target, name);
	return 0;
}

/* The frame size a Go prologue "SUBQ $n, SP" at the entry gives, 0 if none. */
static uintptr frame_size(const char *name)
{
	size_t size;
	const uint8 *p = code(name, &size);
	if (size >= 4 && p[0] == 0x48 && p[1] == 0x83 && p[2] == 0xec)
		return p[3];
	if (size >= 7 && p[0] == 0x48 && p[1] == 0x81 && p[2] == 0xec) {
		uint32_t n;
		memcpy(&n, p + 3, 4);
		return n;
	}
	return 0;
}

static struct frame_rule rule_at(uintptr pc)
{
	struct frame_rule r;
	ck_assert_msg(frame_rule_at(pc, &r) == 1, "no frame rule at %#lx", pc);
	return r;
}

static void check_cfa(const char *what, uintptr pc, long want)
{
	struct frame_rule r = rule_at(pc);
	ck_assert_msg(r.cfa_known && r.cfa_reg == DWARF_RSP && r.cfa_offset == want,
		      "%s (%#lx): CFA = reg%u%+ld (known %d), want rsp%+ld", what, pc, r.cfa_reg, r.cfa_offset,
		      r.cfa_known, want);
	ck_assert_msg(r.ra == FRAME_RA_OFFSET && r.ra_offset == -WORD, "%s: return address not at CFA-8", what);
}

/* ---- (1) the frame tables of the image ------------------------------------ */

START_TEST(eh_frame_functions)
{
	REQUIRE_IMAGE();
	/* the Go-style functions, and nothing of the C world */
	static const char *const go[] = { "goroutine_root", "mstart_root", "go_main", "profiled_loop",
					  "time_now", "walltime", "nanotime" };
	ck_assert_int_ge(nfdes_found, 7);
	for (unsigned i = 0; i < sizeof go / sizeof go[0]; i++) {
		size_t size;
		code(go[i], &size);
		struct frame_rule r = rule_at(sym(go[i]));
		ck_assert_msg(r.entry == sym(go[i]) && r.end == sym(go[i]) + size,
			      "%s: FDE covers [%#lx,%#lx), symbol [%#lx,+%zu)", go[i], r.entry, r.end, sym(go[i]), size);
		struct frame_rule last = rule_at(sym(go[i]) + size - 1);
		ck_assert_uint_eq(last.entry, r.entry);
	}
	static const char *const c_world[] = { "_start", "chain_run", "arch_sigtramp", "sighandler", "sigprof",
					       "gentraceback" };
	for (unsigned i = 0; i < sizeof c_world / sizeof c_world[0]; i++) {
		struct frame_rule r;
		ck_assert_msg(frame_rule_at(sym(c_world[i]), &r) == 0, "%s has an FDE: it would pass for Go code",
			      c_world[i]);
	}
	struct frame_rule r;
	ck_assert_int_eq(frame_rule_at(0x1000, &r), 0);
	ck_assert_int_eq(frame_rule_at(sigprof_etext + 0x100000, &r), 0);
}
END_TEST

START_TEST(eh_frame_roots_are_outermost)
{
	REQUIRE_IMAGE();
	struct frame_rule r = rule_at(return_pc("goroutine_root", "go_main") - 1);
	ck_assert_int_eq(r.ra, FRAME_RA_UNDEFINED);
	r = rule_at(return_pc("mstart_root", "go_main") - 1);
	ck_assert_int_eq(r.ra, FRAME_RA_UNDEFINED);
}
END_TEST

static const uint8 SUBQ_16_SP[] = { 0x48, 0x83, 0xec, 0x10 };
static const uint8 ANDQ_15_SP[] = { 0x48, 0x83, 0xe4, 0xf0 };
static const uint8 MOVQ_BP_SP[] = { 0x48, 0x89, 0xec };
static const uint8 MOVQ_TO_SP_FROM_DX[] = { 0x48, 0x8b, 0x62 };	/* movq disp8(%rdx), %rsp: the g0 switch */

START_TEST(eh_frame_walltime_blind_spots)
{
	REQUIRE_IMAGE();
	uintptr w = sym("walltime");
	uintptr sw = find_insn("walltime", MOVQ_TO_SP_FROM_DX, sizeof MOVQ_TO_SP_FROM_DX);
	uintptr sub = find_insn("walltime", SUBQ_16_SP, sizeof SUBQ_16_SP);
	uintptr and = find_insn("walltime", ANDQ_15_SP, sizeof ANDQ_15_SP);
	uintptr restore = find_insn("walltime", MOVQ_BP_SP, sizeof MOVQ_BP_SP);
	ck_assert_msg(sw && sub && and && restore && sw < sub && sub < and && and < restore,
		      "walltime: not the seed's switch / SUBQ / ANDQ / MOVQ BP,SP sequence");

	check_cfa("walltime entry", w, 8);
	check_cfa("walltime at the g0 switch", sw, 8);
	/* SP is on g0 now: the table cannot know (Go's pcsp neither). */
	check_cfa("walltime after the switch", sub, 8);
	/* obj6.go: a hand-written SUBQ $16, SP is not an ADJSP, Go's pcsp
	 * ignores it (Go 1.19's nanotime1 keeps 0x18 across its SUBQ $0x10) */
	check_cfa("walltime after SUBQ $16, SP", sub + sizeof SUBQ_16_SP, 8);
	check_cfa("walltime after ANDQ $~15, SP", and + sizeof ANDQ_15_SP, 8);
	check_cfa("walltime at MOVQ BP, SP", restore, 8);
	check_cfa("walltime after MOVQ BP, SP", restore + sizeof MOVQ_BP_SP, 8);

	/* the vDSO call's return address, and the fallback path */
	const uint8 call_ax[] = { 0xff, 0xd0 };
	uintptr call = find_insn("walltime", call_ax, sizeof call_ax);
	ck_assert_msg(call > and && call < restore, "walltime: CALL AX not between ANDQ and the restore");
	check_cfa("walltime at CALL AX", call, 8);
	size_t size;
	const uint8 *p = code("walltime", &size);
	for (size_t i = restore - w; i < size; i++)
		if (p[i] == 0xc3) {	/* the first RET */
			check_cfa("walltime at RET", w + i, 8);
			if (i + 1 < size)
				check_cfa("walltime fallback", w + i + 1, 8);
			break;
		}
}
END_TEST

START_TEST(eh_frame_time_now)
{
	REQUIRE_IMAGE();
	uintptr t = sym("time_now");
	long n = (long)frame_size("time_now");
	ck_assert_msg(n > 0, "time_now: no SUBQ $n, SP prologue");
	check_cfa("time_now entry", t, 8);
	check_cfa("time_now after its prologue", t + 4, n + 8);
	uintptr ret = return_pc("time_now", "walltime");
	check_cfa("time_now at the return from walltime", ret - 1, n + 8);
	check_cfa("time_now at the return from walltime (as a trap pc)", ret, n + 8);
	uintptr ret2 = return_pc("time_now", "nanotime");
	check_cfa("time_now at the return from nanotime", ret2 - 1, n + 8);
}
END_TEST

/* ---- synthetic goroutine stacks -------------------------------------------- */

struct stk {
	uintptr lo, hi;		/* one usable page between PROT_NONE pages */
	uintptr sp, bp;		/* the simulated machine */
};

static void stk_map(struct stk *s, size_t pages)
{
	uint8 *m = mmap(NULL, (pages + 2) * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	ck_assert_int_eq(mprotect(m + PAGE, pages * PAGE, PROT_READ | PROT_WRITE), 0);
	s->lo = (uintptr)(m + PAGE);
	s->hi = s->lo + pages * PAGE;
	memset((void *)s->lo, 0xa5, pages * PAGE);	/* no accidental zeros */
	s->sp = s->hi;
	s->bp = 0;
}

static void push(struct stk *s, uintptr v)
{
	s->sp -= WORD;
	*(uintptr *)s->sp = v;
}

/* What a Go prologue of the image does: SUBQ $n, SP; MOVQ BP, n-8(SP); LEAQ n-8(SP), BP. */
static void enter(struct stk *s, const char *fn)
{
	uintptr n = frame_size(fn);
	s->sp -= n;
	if (n) {
		*(uintptr *)(s->sp + n - WORD) = s->bp;
		s->bp = s->sp + n - WORD;
	}
}

/* The running chain goroutine_root -> go_main -> profiled_loop -> time_now,
 * stopped where time_now has just called walltime: returns SP at walltime's
 * entry (the return PC into time_now at 0(SP)). */
struct chain_stack {
	uintptr ret_root, ret_go_main, ret_loop, ret_time_now;
	uintptr walltime_sp;	/* SP at walltime's entry */
};

static struct chain_stack build_chain(struct stk *s, uintptr top)
{
	struct chain_stack c;
	c.ret_root = return_pc("goroutine_root", "go_main");
	c.ret_go_main = return_pc("go_main", "profiled_loop");
	c.ret_loop = return_pc("profiled_loop", "time_now");
	c.ret_time_now = return_pc("time_now", "walltime");

	s->sp = top;		/* chain_run: SP = chain.stack_top, BP = 0, jump to the root */
	s->bp = 0;
	enter(s, "goroutine_root");
	push(s, c.ret_root);
	enter(s, "go_main");
	push(s, c.ret_go_main);
	enter(s, "profiled_loop");
	*(uintptr *)s->sp = 0;	/* the loop counter */
	push(s, c.ret_loop);
	enter(s, "time_now");
	push(s, c.ret_time_now);
	c.walltime_sp = s->sp;
	return c;
}

static struct g mkg(const struct stk *s)
{
	struct g g;
	memset(&g, 0, sizeof g);
	g.stack.lo = s->lo;
	g.stack.hi = s->hi;
	return g;
}

#define CHECK_FRAMES(n, pcbuf, fnbuf, ...)                                                          \
	do {                                                                                        \
		const uintptr want_[][2] = { __VA_ARGS__ };                                         \
		int nwant_ = (int)(sizeof want_ / sizeof want_[0]);                                 \
		ck_assert_msg((n) == nwant_, "%d frames, want %d (first pc %#lx)", (n), nwant_,    \
			      (n) > 0 ? (pcbuf)[0] : 0UL);                                          \
		for (int i_ = 0; i_ < nwant_; i_++)                                                 \
			ck_assert_msg((pcbuf)[i_] == want_[i_][0] && (fnbuf)[i_] == want_[i_][1],   \
				      "frame %d: pc %#lx fn %#lx, want pc %#lx fn %#lx", i_,        \
				      (pcbuf)[i_], (fnbuf)[i_], want_[i_][0], want_[i_][1]);        \
	} while (0)

/* ---- (2) gentraceback ------------------------------------------------------ */

START_TEST(traceback_full_chain_from_walltime_entry)
{
	REQUIRE_IMAGE();
	struct stk s;
	stk_map(&s, 1);
	struct chain_stack c = build_chain(&s, s.hi);
	struct g g = mkg(&s);
	uintptr pc[SAMPLE_MAX_FRAMES], fn[SAMPLE_MAX_FRAMES];

	int n = gentraceback(sym("walltime"), c.walltime_sp, 0, &g, TRACE_TRAP, pc, fn, SAMPLE_MAX_FRAMES);
	CHECK_FRAMES(n, pc, fn,
		     { sym("walltime"), sym("walltime") },
		     { c.ret_time_now, sym("time_now") },
		     { c.ret_loop, sym("profiled_loop") },
		     { c.ret_go_main, sym("go_main") },
		     { c.ret_root, sym("goroutine_root") });

	/* noswitch path, after SUBQ $16, SP (SP happened to be aligned: ANDQ did nothing) */
	uintptr and = find_insn("walltime", ANDQ_15_SP, sizeof ANDQ_15_SP);
	uintptr sp = c.walltime_sp - 16;
	if (sp % 16 == 0) {
		n = gentraceback(and + sizeof ANDQ_15_SP, sp, 0, &g, TRACE_TRAP, pc, fn, SAMPLE_MAX_FRAMES);
		ck_assert_int_eq(n, 5);
		ck_assert_uint_eq(pc[1], c.ret_time_now);
	}
}
END_TEST

START_TEST(traceback_from_a_return_pc)
{
	REQUIRE_IMAGE();
	struct stk s;
	stk_map(&s, 1);
	struct chain_stack c = build_chain(&s, s.hi);
	struct g g = mkg(&s);
	uintptr pc[SAMPLE_MAX_FRAMES], fn[SAMPLE_MAX_FRAMES];

	/* vdsoPC/vdsoSP as they should be: the caller's pc and SP at the call */
	for (int flags = 0; flags <= TRACE_TRAP; flags += TRACE_TRAP) {
		int n = gentraceback(c.ret_time_now, c.walltime_sp + WORD, 0, &g, flags | TRACE_JUMPSTACK, pc, fn,
				     SAMPLE_MAX_FRAMES);
		CHECK_FRAMES(n, pc, fn,
			     { c.ret_time_now, sym("time_now") },
			     { c.ret_loop, sym("profiled_loop") },
			     { c.ret_go_main, sym("go_main") },
			     { c.ret_root, sym("goroutine_root") });
	}
	/* a nil-call pc: Go starts in the caller (the return PC at 0(SP)) */
	int n = gentraceback(0, c.walltime_sp, 0, &g, TRACE_TRAP, pc, fn, SAMPLE_MAX_FRAMES);
	ck_assert_int_eq(n, 4);
	ck_assert_uint_eq(pc[0], c.ret_time_now);
	/* max is honoured */
	n = gentraceback(sym("walltime"), c.walltime_sp, 0, &g, TRACE_TRAP, pc, fn, 2);
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(fn[1], sym("time_now"));
}
END_TEST

START_TEST(traceback_unknown_first_pc)
{
	REQUIRE_IMAGE();
	struct stk s;
	stk_map(&s, 1);
	struct chain_stack c = build_chain(&s, s.hi);
	struct g g = mkg(&s);
	uintptr pc[SAMPLE_MAX_FRAMES], fn[SAMPLE_MAX_FRAMES];

	ck_assert_int_eq(gentraceback(sym("sigprof"), c.walltime_sp, 0, &g, TRACE_TRAP, pc, fn, 32), 0);
	ck_assert_int_eq(gentraceback(0x7ffff7ff0000UL, c.walltime_sp, 0, &g, TRACE_TRAP, pc, fn, 32), 0);
	ck_assert_int_eq(gentraceback(sym("walltime"), c.walltime_sp, 0, NULL, TRACE_TRAP, pc, fn, 32), 0);
}
END_TEST

START_TEST(traceback_wrong_sp_stays_in_bounds)
{
	REQUIRE_IMAGE();
	struct stk s;
	stk_map(&s, 1);
	struct chain_stack c = build_chain(&s, s.hi);
	struct g g = mkg(&s);
	uintptr pc[SAMPLE_MAX_FRAMES], fn[SAMPLE_MAX_FRAMES];
	uintptr tn = c.ret_time_now;
	long tn_cfa = (long)frame_size("time_now") + WORD;

	/* the return address would be just above hi (the guard page) */
	int n = gentraceback(tn, s.hi - (uintptr)tn_cfa + WORD, 0, &g, 0, pc, fn, 32);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(fn[0], sym("time_now"));
	/* the last word of the stack is readable: the walk goes on from there */
	*(uintptr *)(s.hi - WORD) = 0;	/* not a function: stops after one frame */
	n = gentraceback(tn, s.hi - (uintptr)tn_cfa, 0, &g, 0, pc, fn, 32);
	ck_assert_int_eq(n, 1);
	/* SP below lo (in the guard page), far above hi, and wrapping around */
	ck_assert_int_eq(gentraceback(tn, s.lo - 64, 0, &g, 0, pc, fn, 32), 1);
	ck_assert_int_eq(gentraceback(tn, s.hi + 4096, 0, &g, 0, pc, fn, 32), 1);
	ck_assert_int_eq(gentraceback(tn, (uintptr)-16, 0, &g, 0, pc, fn, 32), 1);
	/* right SP, but g's bounds exclude the frames above: stop at the bound */
	g.stack.hi = c.walltime_sp + WORD + (uintptr)tn_cfa - WORD;	/* RA slot of time_now just out */
	ck_assert_int_eq(gentraceback(tn, c.walltime_sp + WORD, 0, &g, 0, pc, fn, 32), 1);
	g.stack.hi = s.hi;
	/* nil-call pc with SP out of bounds: nothing to read, no frames */
	ck_assert_int_eq(gentraceback(0, s.lo - WORD, 0, &g, TRACE_TRAP, pc, fn, 32), 0);
	/* a garbage return address ("unexpected return pc"): the frame so far */
	*(uintptr *)(c.walltime_sp + WORD + (uintptr)tn_cfa - WORD) = 0x1234;
	n = gentraceback(tn, c.walltime_sp + WORD, 0, &g, 0, pc, fn, 32);
	ck_assert_int_eq(n, 1);
}
END_TEST

/* ---- (3) sigprof in its three eras ------------------------------------------ */

/* The test's vDSO page (Go's inVDSOPage): above the image's text. */
#define VDSO_PAGE 0x7ff000000000UL
int inVDSOPage(uintptr pc)
{
	return pc >= VDSO_PAGE && pc < VDSO_PAGE + PAGE;
}

struct world {
	struct stk gs, g0s;
	struct g gmain, g0;
	struct m m;
	struct chain_stack c;
	uintptr right_vdsoSP;	/* time_now's SP at the call: Go's fixed trampolines */
	uintptr seed_vdsoSP;	/* LEAQ sec+0(SP): the return PC's address, one word low */
};

static void world(struct world *w)
{
	memset(w, 0, sizeof *w);
	stk_map(&w->gs, 1);
	stk_map(&w->g0s, 1);
	w->c = build_chain(&w->gs, w->gs.hi);
	w->gmain = mkg(&w->gs);
	w->g0 = mkg(&w->g0s);
	w->gmain.m = w->g0.m = &w->m;
	w->m.curg = &w->gmain;
	w->m.g0 = &w->g0;
	w->right_vdsoSP = w->c.walltime_sp + WORD;
	w->seed_vdsoSP = w->c.walltime_sp;
	w->m.vdsoPC = w->c.ret_time_now;
}

static void run_sigprof(struct world *w, uint32 era, uintptr vdsoSP, uintptr pc, uintptr sp, struct sample *out)
{
	memset(out, 0, sizeof *out);
	out->era = era;
	w->m.vdsoSP = vdsoSP;
	sigprof(pc, sp, 0, &w->gmain, &w->m, out);
}

static void check_caller_chain(const struct world *w, const struct sample *s)
{
	ck_assert_uint_eq(s->marker, MARK_NONE);
	CHECK_FRAMES((int)s->n, s->pc, s->fn,
		     { w->c.ret_time_now, sym("time_now") },
		     { w->c.ret_loop, sym("profiled_loop") },
		     { w->c.ret_go_main, sym("go_main") },
		     { w->c.ret_root, sym("goroutine_root") });
}

static void check_marker(const struct sample *s, uint32 marker, uintptr first)
{
	ck_assert_uint_eq(s->marker, marker);
	ck_assert_uint_eq(s->n, 2);
	ck_assert_uint_eq(s->pc[0], first);
	ck_assert_uint_eq(s->pc[1], (uintptr)_System + 1);
}

/* A signal inside the vDSO, called from walltime after the switch to g0:
 * pc in the vDSO page, SP on the g0 stack. */
START_TEST(sigprof_in_vdso_per_era)
{
	REQUIRE_IMAGE();
	struct world w;
	struct sample right, seed;
	world(&w);
	uintptr pc = VDSO_PAGE + 0x40, sp = w.g0s.hi - 256;

	/* go1.10: no vdsoPC/vdsoSP yet, whatever m holds */
	run_sigprof(&w, ERA_GO110, w.right_vdsoSP, pc, sp, &right);
	check_marker(&right, MARK_EXTERNAL, (uintptr)_ExternalCode + 1);

	/* go1.11 and modern: the caller's stack through vdsoPC/vdsoSP ... */
	static const uint32 eras[] = { ERA_GO111, ERA_MODERN };
	for (uint32 e = 0; e < 2; e++) {
		uint32 era = eras[e];
		run_sigprof(&w, era, w.right_vdsoSP, pc, sp, &right);
		check_caller_chain(&w, &right);

		/* ... but with the seed's vdsoSP, one word low, the traceback
		 * reads time_now's saved BP as its return PC: a one-frame
		 * stack, not the caller's.  The bug the project exists to show. */
		run_sigprof(&w, era, w.seed_vdsoSP, pc, sp, &seed);
		ck_assert_uint_eq(seed.marker, MARK_NONE);
		ck_assert_uint_eq(seed.n, 1);
		ck_assert_uint_eq(seed.pc[0], w.c.ret_time_now);
		ck_assert_msg(seed.n != right.n || memcmp(seed.pc, right.pc, right.n * sizeof(uintptr)) != 0,
			      "the seed's vdsoSP gave the right chain");

		/* vdsoSP cleared (or never set): the _VDSO marker */
		run_sigprof(&w, era, 0, pc, sp, &right);
		check_marker(&right, MARK_VDSO, (uintptr)_VDSO + 1);
	}

	/* go1.19: the same stack, but gentraceback(vdsoPC, ..., _TraceTrap)
	 * stores the first pc as vdsoPC+1 (issue 34123) and says so. */
	run_sigprof(&w, ERA_GO119, w.right_vdsoSP, pc, sp, &right);
	ck_assert_uint_eq(right.pc0_plus1, 1);
	ck_assert_uint_eq(right.pc[0], w.c.ret_time_now + 1);
	right.pc[0] -= 1;
	check_caller_chain(&w, &right);
}
END_TEST

/* A signal at walltime's entry (pc/sp good) after vdsoSP was set: go1.11
 * tries pc/sp first (the full stack), modern vdsoPC/vdsoSP first (the
 * caller's stack, #56574). */
START_TEST(sigprof_order_per_era)
{
	REQUIRE_IMAGE();
	struct world w;
	struct sample s;
	world(&w);
	uintptr pc = sym("walltime"), sp = w.c.walltime_sp;

	run_sigprof(&w, ERA_GO111, w.right_vdsoSP, pc, sp, &s);
	ck_assert_uint_eq(s.marker, MARK_NONE);
	ck_assert_uint_eq(s.n, 5);
	ck_assert_uint_eq(s.fn[0], sym("walltime"));
	ck_assert_uint_eq(s.fn[4], sym("goroutine_root"));

	run_sigprof(&w, ERA_MODERN, w.right_vdsoSP, pc, sp, &s);
	check_caller_chain(&w, &s);

	/* modern, vdsoSP 0: pc/sp */
	run_sigprof(&w, ERA_MODERN, 0, pc, sp, &s);
	ck_assert_uint_eq(s.n, 5);
}
END_TEST

/*
 * SPWRITE: with the image's own table (filled by sigstep-spwrite after the
 * link: seed's walltime writes SP by MOVQ 0x38(DX), SP), Go 1.19's and the
 * modern traceback stop after walltime's frame even where pc/sp is good
 * (walltime's entry); Go 1.11's, from before the flag, walks on.
 */
START_TEST(sigprof_spwrite_per_era)
{
	REQUIRE_IMAGE();
	struct world w;
	struct sample s;
	world(&w);
	uintptr pc = sym("walltime"), sp = w.c.walltime_sp;
	const volatile struct spwrite_table *t = (const volatile struct spwrite_table *)sym("sigstep_spwrite_table");
	ck_assert_msg(t->magic == SPWRITE_MAGIC, "the image's SPWRITE table was not filled");
	traceback_use_spwrite_table(t);
	ck_assert_int_eq(func_spwrite(sym("walltime")), 1);
	ck_assert_int_eq(func_spwrite(sym("time_now")), 0);

	run_sigprof(&w, ERA_GO111, 0, pc, sp, &s);
	ck_assert_uint_eq(s.n, 5);
	ck_assert_uint_eq(s.pc0_plus1, 0);

	/* go1.19: pc/sp first, one frame, stored as pc+1 (issue 34123) */
	run_sigprof(&w, ERA_GO119, w.right_vdsoSP, pc, sp, &s);
	ck_assert_uint_eq(s.marker, MARK_NONE);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(s.pc0_plus1, 1);
	ck_assert_uint_eq(s.pc[0], pc + 1);
	ck_assert_uint_eq(s.fn[0], sym("walltime"));

	/* modern, vdsoSP 0: pc/sp, and the silent-errors unwinder stops at the
	 * innermost SPWRITE frame too */
	run_sigprof(&w, ERA_MODERN, 0, pc, sp, &s);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(s.pc[0], pc + 1);
	/* modern with vdsoSP set: from vdsoPC, in time_now (not SPWRITE) */
	run_sigprof(&w, ERA_MODERN, w.right_vdsoSP, pc, sp, &s);
	check_caller_chain(&w, &s);

	traceback_use_spwrite_table(&sigstep_spwrite_table);
}
END_TEST

/* A signal in walltime after the switch to g0 (pc in the trampoline, SP on
 * g0 while g is still curg): the stack-bounds gate refuses pc/sp. */
START_TEST(sigprof_after_switch_per_era)
{
	REQUIRE_IMAGE();
	struct world w;
	struct sample s;
	world(&w);
	uintptr pc = find_insn("walltime", SUBQ_16_SP, sizeof SUBQ_16_SP), sp = w.g0s.hi - 64;

	run_sigprof(&w, ERA_GO110, 0, pc, sp, &s);
	check_marker(&s, MARK_SYSTEM, pc);
	ck_assert_uint_eq(s.fn[0], sym("walltime"));

	run_sigprof(&w, ERA_GO111, w.right_vdsoSP, pc, sp, &s);
	check_caller_chain(&w, &s);
	run_sigprof(&w, ERA_GO111, w.seed_vdsoSP, pc, sp, &s);
	ck_assert_uint_eq(s.n, 1);
	run_sigprof(&w, ERA_GO111, 0, pc, sp, &s);
	check_marker(&s, MARK_SYSTEM, pc);

	/* modern without vdsoSP: no gate, but the traceback stays within
	 * curg's bounds, so SP on g0 gives just the trampoline's frame */
	run_sigprof(&w, ERA_MODERN, 0, pc, sp, &s);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(s.fn[0], sym("walltime"));
	run_sigprof(&w, ERA_MODERN, w.right_vdsoSP, pc, sp, &s);
	check_caller_chain(&w, &s);
}
END_TEST

START_TEST(sigprof_external_and_nongo)
{
	REQUIRE_IMAGE();
	struct world w;
	struct sample s;
	world(&w);
	/* beyond the text, not the vDSO: _ExternalCode in every era */
	for (uint32 era = ERA_GO110; era <= ERA_MODERN; era++) {
		run_sigprof(&w, era, 0, 0x7fe000001000UL, w.gs.hi - 64, &s);
		check_marker(&s, MARK_EXTERNAL, (uintptr)_ExternalCode + 1);
	}
	memset(&s, 0, sizeof s);
	sigprof_nongo(0x1234, &s);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_uint_eq(s.marker, MARK_EXTERNAL);
	ck_assert_uint_eq(s.pc[0], 0x1234);
	ck_assert_uint_eq(s.pc[1], (uintptr)_ExternalCode + 1);
	/* the abstract functions are distinct */
	ck_assert_uint_ne((uintptr)_System, (uintptr)_VDSO);
	ck_assert_uint_ne((uintptr)_System, (uintptr)_ExternalCode);
	ck_assert_uint_ne((uintptr)_GC, (uintptr)_VDSO);
}
END_TEST

static Suite *traceback_suite(void)
{
	Suite *s = suite_create("traceback");
	TCase *t;

	t = tcase_create("eh_frame");
	tcase_add_unchecked_fixture(t, setup_image, NULL);
	tcase_add_test(t, eh_frame_functions);
	tcase_add_test(t, eh_frame_roots_are_outermost);
	tcase_add_test(t, eh_frame_walltime_blind_spots);
	tcase_add_test(t, eh_frame_time_now);
	suite_add_tcase(s, t);

	t = tcase_create("gentraceback");
	tcase_add_unchecked_fixture(t, setup_image, NULL);
	tcase_add_test(t, traceback_full_chain_from_walltime_entry);
	tcase_add_test(t, traceback_from_a_return_pc);
	tcase_add_test(t, traceback_unknown_first_pc);
	tcase_add_test(t, traceback_wrong_sp_stays_in_bounds);
	suite_add_tcase(s, t);

	t = tcase_create("sigprof");
	tcase_add_unchecked_fixture(t, setup_image, NULL);
	tcase_add_test(t, sigprof_in_vdso_per_era);
	tcase_add_test(t, sigprof_order_per_era);
	tcase_add_test(t, sigprof_spwrite_per_era);
	tcase_add_test(t, sigprof_after_switch_per_era);
	tcase_add_test(t, sigprof_external_and_nongo);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(traceback_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
