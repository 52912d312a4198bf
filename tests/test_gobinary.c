/*
 * harness/gobinary against real Go binaries: the three built fixtures
 * ($SIGSTEP_BUILD_DIR/go/<arch>/sigstep-go-fixture, Debian's Go 1.19).
 *
 * Held to two independent sources:
 *  - Go's own readers on the same file: gosym-dump (tests/gosym_dump/,
 *    built for the host) prints what debug/buildinfo, debug/elf,
 *    debug/gosym and debug/dwarf say -- the version, every symbol, every
 *    function's entry/end/name, file:line at many pcs, every member offset
 *    of runtime.g/m/gobuf/stack/p -- and each is compared;
 *  - what was measured on a Go 1.19 build (reference go1.19/: the pcsp
 *    tables and flags of the vDSO path, the g/m layout table).  The
 *    fixture is another program, but these functions are the runtime's
 *    own assembly and code, the same bytes in every Go 1.19 program of the
 *    arch: their tables relative to the entry must be equal.
 * And refusals: one line, exit status 2, never a crash, for files that are
 * not ELF, dynamic, not Go, for another arch, stripped, with an unknown
 * pclntab, and for truncated and corrupted copies (this suite compiles
 * the readers with AddressSanitizer, so any read outside a buffer fails).
 *
 * Without a Go toolchain at build time there is no fixture: the suite is
 * skipped (exit 77) saying so.
 */
#define _GNU_SOURCE
#include <check.h>
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_section.h"
#include "gobinary.h"

#define SKIP 77

static const char *const arches[] = { "amd64", "386", "arm" };
#define NARCH 3

static const char *build_dir(void)
{
	const char *d = getenv("SIGSTEP_BUILD_DIR");
	return d ? d : "build";
}

static void fixture_path(char *buf, size_t n, const char *arch)
{
	snprintf(buf, n, "%s/go/%s/sigstep-go-fixture", build_dir(), arch);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f, "cannot open %s (Go fixture not built?)", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc(n ? (size_t)n : 1);
	ck_assert(b && fread(b, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

static struct gobinary *open_fixture(const char *arch)
{
	char path[4096], err[GOBINARY_ERR_MAX];
	struct gobinary *gb;

	fixture_path(path, sizeof path, arch);
	int rc = gobinary_open(path, &gb, err, sizeof err);
	ck_assert_msg(rc == 0, "%s", err);
	return gb;
}

/* --- what Go's own readers say (gosym-dump) -------------------------------- */

struct dump {
	char **line;
	size_t n;
};

static struct dump run_dump(const char *arch)
{
	char path[4096], cmd[8192], buf[8192];
	struct dump d = { 0 };
	size_t cap = 0;

	fixture_path(path, sizeof path, arch);
	snprintf(cmd, sizeof cmd, "'%s/go/gosym-dump' '%s'", build_dir(), path);
	FILE *p = popen(cmd, "r");
	ck_assert_msg(p, "cannot run %s", cmd);
	while (fgets(buf, sizeof buf, p)) {
		buf[strcspn(buf, "\n")] = 0;
		if (d.n == cap) {
			cap = cap ? cap * 2 : 4096;
			d.line = realloc(d.line, cap * sizeof *d.line);
			ck_assert(d.line);
		}
		d.line[d.n++] = strdup(buf);
	}
	ck_assert_msg(pclose(p) == 0, "%s failed", cmd);
	ck_assert_msg(d.n > 0, "%s printed nothing", cmd);
	return d;
}

static void free_dump(struct dump *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->line[i]);
	free(d->line);
}

static size_t count_kind(const struct dump *d, const char *kind)
{
	size_t n = 0, k = strlen(kind);

	for (size_t i = 0; i < d->n; i++)
		n += !strncmp(d->line[i], kind, k) && d->line[i][k] == ' ';
	return n;
}

START_TEST(version_is_go_1_19_as_buildinfo_says)
{
	struct gobinary *gb = open_fixture(arches[_i]);
	struct dump d = run_dump(arches[_i]);
	char want[128] = "";

	for (size_t i = 0; i < d.n; i++)
		if (sscanf(d.line[i], "version %127s", want) == 1)
			break;
	ck_assert_str_eq(gobinary_version(gb), want);
	ck_assert_str_eq(gobinary_version(gb), SIGSTEP_GO_VERSION);
	ck_assert_msg(!strncmp(gobinary_version(gb), "go1.19.", 7), "%s", gobinary_version(gb));
	ck_assert_str_eq(gobinary_arch(gb)->name, arches[_i]);
	free_dump(&d);
	gobinary_close(gb);
}
END_TEST

START_TEST(symbols_agree_with_debug_elf)
{
	struct gobinary *gb = open_fixture(arches[_i]);
	struct dump d = run_dump(arches[_i]);
	size_t checked = 0;

	for (size_t i = 0; i < d.n; i++) {
		/* "sym NAME VALUE SIZE": a name may hold spaces, the numbers not. */
		char name[4096];
		uint64_t value, size, a, s;
		const char *l = d.line[i], *sz = strrchr(l, ' ');
		if (strncmp(l, "sym ", 4) || !sz || sz - l < 6)
			continue;
		const char *val = sz - 1;
		while (val > l + 4 && *val != ' ')
			val--;
		if (val <= l + 4 || (size_t)(val - l - 4) >= sizeof name ||
		    sscanf(val, " %" SCNx64 " %" SCNx64, &value, &size) != 2)
			continue;
		memcpy(name, l + 4, (size_t)(val - l - 4));
		name[val - l - 4] = 0;
		ck_assert_msg(gobinary_symbol(gb, name, &a, &s) == 0, "%s not found", name);
		ck_assert_msg(a == value && s == size, "%s: 0x%" PRIx64 "/0x%" PRIx64 ", debug/elf: 0x%" PRIx64 "/0x%" PRIx64,
			      name, a, s, value, size);
		checked++;
	}
	ck_assert_uint_gt(checked, 1000);
	ck_assert_int_eq(gobinary_symbol(gb, "no.such.symbol", NULL, NULL), -1);
	uint64_t etext;
	ck_assert_int_eq(gobinary_symbol(gb, "runtime.etext", &etext, NULL), 0);
	ck_assert_uint_eq(gobinary_etext(gb), etext);
	free_dump(&d);
	gobinary_close(gb);
}
END_TEST

START_TEST(functions_agree_with_debug_gosym)
{
	struct gobinary *gb = open_fixture(arches[_i]);
	const struct pclntab *t = gobinary_pclntab(gb);
	struct dump d = run_dump(arches[_i]);
	size_t i = 0;

	ck_assert_uint_eq(pclntab_magic(t), PCLNTAB_MAGIC_GO118);
	ck_assert_uint_eq(pclntab_nfunc(t), count_kind(&d, "func"));
	for (size_t k = 0; k < d.n; k++) {
		char name[4096];
		uint64_t entry, end;
		struct go_func f, g;
		int at = 0;
		if (sscanf(d.line[k], "func %" SCNx64 " %" SCNx64 " %n", &entry, &end, &at) != 2 || !at)
			continue;
		snprintf(name, sizeof name, "%s", d.line[k] + at);	/* to the end: names may hold spaces */
		ck_assert_int_eq(pclntab_func_index(t, i++, &f), 0);
		ck_assert_msg(f.entry == entry && f.end == end && !strcmp(f.name, name),
			      "function %zu: %s [0x%" PRIx64 ",0x%" PRIx64 "), debug/gosym: %s [0x%" PRIx64 ",0x%" PRIx64 ")",
			      i - 1, f.name, f.entry, f.end, name, entry, end);
		/* Every pc of it finds it; the first and last are enough to
		 * hold the binary search to its bounds. */
		ck_assert_int_eq(pclntab_func_at(t, entry, &g), 0);
		ck_assert_str_eq(g.name, name);
		ck_assert_int_eq(pclntab_func_at(t, end - 1, &g), 0);
		ck_assert_str_eq(g.name, name);
		/* By name (a linear search: every 8th function): this one, or
		 * the same name's wrapped function (an ABI wrapper has its
		 * callee's name and funcID_wrapper). */
		if ((i - 1) % 8 == 0) {
			ck_assert_int_eq(pclntab_func_named(t, name, &g), 0);
			ck_assert_str_eq(g.name, name);
			ck_assert_msg(g.entry == entry || f.funcid == GO_FUNCID_WRAPPER || g.entry < entry,
				      "%s: found at 0x%" PRIx64 ", not 0x%" PRIx64, name, g.entry, entry);
		}
	}
	struct go_func f;
	ck_assert_int_eq(pclntab_func_at(t, gobinary_text_start(gb) - 1, &f), -1);
	ck_assert_int_eq(pclntab_func_at(t, gobinary_etext(gb) + 0x100000, &f), -1);
	ck_assert_int_eq(pclntab_func_named(t, "main.noSuchFunction", &f), -1);
	free_dump(&d);
	gobinary_close(gb);
}
END_TEST

START_TEST(lines_agree_with_debug_gosym)
{
	struct gobinary *gb = open_fixture(arches[_i]);
	const struct pclntab *t = gobinary_pclntab(gb);
	struct dump d = run_dump(arches[_i]);
	size_t checked = 0;

	for (size_t k = 0; k < d.n; k++) {
		char file[4096];
		uint64_t pc;
		int64_t want, line;
		const char *got;
		struct go_func f;
		if (sscanf(d.line[k], "line %" SCNx64 " %4095s %" SCNx64, &pc, file, (uint64_t *)&want) != 3)
			continue;
		ck_assert_int_eq(pclntab_func_at(t, pc, &f), 0);
		ck_assert_msg(pclntab_line(t, &f, pc, &got, &line) == 0, "%s+0x%" PRIx64 ": no line", f.name,
			      pc - f.entry);
		ck_assert_msg(!strcmp(got, file) && line == want, "%s+0x%" PRIx64 ": %s:%" PRId64 ", debug/gosym: %s:%" PRId64,
			      f.name, pc - f.entry, got, line, file, want);
		checked++;
	}
	ck_assert_uint_gt(checked, 3000);
	free_dump(&d);
	gobinary_close(gb);
}
END_TEST

START_TEST(struct_members_agree_with_debug_dwarf)
{
	struct gobinary *gb = open_fixture(arches[_i]);
	const struct dwarf_info *di = gobinary_dwarf(gb);
	struct dump d = run_dump(arches[_i]);
	size_t checked = 0;

	for (size_t k = 0; k < d.n; k++) {
		char type[256], name[256];
		uint64_t want, off;
		if (sscanf(d.line[k], "member %255s %255s %" SCNx64, type, name, &want) != 3)
			continue;
		ck_assert_msg(dwarf_member_offset(di, type, name, &off) == 0, "%s.%s not found", type, name);
		ck_assert_msg(off == want, "%s.%s at 0x%" PRIx64 ", debug/dwarf: 0x%" PRIx64, type, name, off, want);
		checked++;
	}
	ck_assert_uint_gt(checked, 100);
	/* A nested path is the sum along it. */
	uint64_t sched, sp, path;
	ck_assert_int_eq(dwarf_member_offset(di, "runtime.g", "sched", &sched), 0);
	ck_assert_int_eq(dwarf_member_offset(di, "runtime.gobuf", "sp", &sp), 0);
	ck_assert_int_eq(dwarf_member_offset(di, "runtime.g", "sched.sp", &path), 0);
	ck_assert_uint_eq(path, sched + sp);
	ck_assert_int_eq(dwarf_member_offset(di, "runtime.m", "noSuchField", &path), -1);
	ck_assert_int_eq(dwarf_member_offset(di, "runtime.noSuchType", "x", &path), -1);
	ck_assert_int_eq(dwarf_member_offset(di, "runtime.g", "m.", &path), -1);
	free_dump(&d);
	gobinary_close(gb);
}
END_TEST

/* --- what was measured on Go 1.19 (reference go1.19/) ----------------------- */

/* go1.19/README.md's layout table, read there from each binary's DWARF. */
static const struct {
	const char *arch;
	struct go_layout l;
} layouts[] = {
	{ "amd64", { .g_stack_lo = 0, .g_stack_hi = 8, .g_m = 0x30, .g_sched_sp = 0x38, .g_sched_pc = 0x40,
		     .m_g0 = 0, .m_gsignal = 0x50, .m_curg = 0xc0, .m_profilehz = 0x110,
		     .m_vdsoSP = 0x320, .m_vdsoPC = 0x328 } },
	{ "386", { .g_stack_lo = 0, .g_stack_hi = 4, .g_m = 0x18, .g_sched_sp = 0x1c, .g_sched_pc = 0x20,
		   .m_g0 = 0, .m_gsignal = 0x30, .m_curg = 0x6c, .m_profilehz = 0xa0,
		   .m_vdsoSP = 0x1c4, .m_vdsoPC = 0x1c8 } },
	{ "arm", { .g_stack_lo = 0, .g_stack_hi = 4, .g_m = 0x18, .g_sched_sp = 0x1c, .g_sched_pc = 0x20,
		   .m_g0 = 0, .m_gsignal = 0x30, .m_curg = 0x6c, .m_profilehz = 0xa0,
		   .m_vdsoSP = 0x1c4, .m_vdsoPC = 0x1c8 } },
};

START_TEST(layout_is_the_measured_one)
{
	struct gobinary *gb = open_fixture(arches[_i]);
	const struct go_layout *got = gobinary_layout(gb), *want = &layouts[_i].l;

	ck_assert_str_eq(layouts[_i].arch, arches[_i]);
#define FIELD(f) ck_assert_msg(got->f == want->f, #f ": 0x%" PRIx64 ", measured 0x%" PRIx64, got->f, want->f)
	FIELD(g_stack_lo); FIELD(g_stack_hi); FIELD(g_m); FIELD(g_sched_sp); FIELD(g_sched_pc);
	FIELD(m_g0); FIELD(m_gsignal); FIELD(m_curg); FIELD(m_profilehz); FIELD(m_vdsoSP); FIELD(m_vdsoPC);
#undef FIELD
	gobinary_close(gb);
}
END_TEST

/*
 * pcsp-tables.txt, relative to each function's entry: size, flag, args and
 * the (lo, hi, spdelta) runs.  The SPWRITE|ASM trampolines (x86: the
 * unrecorded SUBQ/ANDQ and the SP switch; arm: SUB $24 counted up to the
 * RET), the TOPFRAME signal entry.
 */
struct want_run {
	uint32_t lo, hi;
	int32_t sp;
};
struct want_func {
	const char *arch, *name;
	uint32_t size;
	uint8_t flag;
	int32_t args;
	struct want_run run[6];
};
#define SPW (GO_FUNCFLAG_SPWRITE | GO_FUNCFLAG_ASM)
#define TOP (GO_FUNCFLAG_TOPFRAME | GO_FUNCFLAG_ASM)
#define NOARGS INT32_MIN	/* abi.ArgsSizeUnknown */
static const struct want_func want_funcs[] = {
	{ "amd64", "runtime.nanotime1", 0xc0, SPW, 8, { { 0, 4, 0 }, { 4, 0xae, 0x18 }, { 0xae, 0xaf, 0 }, { 0xaf, 0xba, 0x18 } } },
	{ "amd64", "time.now", 0x100, SPW, 24, { { 0, 4, 0 }, { 4, 0xc9, 0x18 }, { 0xc9, 0xca, 0 }, { 0xca, 0xe7, 0x18 } } },
	{ "amd64", "runtime.nanotime", 0x40, 0, 0, { { 0, 4, 0 }, { 4, 0x2d, 0x10 }, { 0x2d, 0x2e, 0 } } },
	{ "amd64", "runtime.sigtramp", 0x80, TOP, NOARGS,
	  { { 0, 4, 0 }, { 4, 0x38, 0x30 }, { 0x38, 0x4a, 0x48 }, { 0x4a, 0x6b, 0x30 }, { 0x6b, 0x6c, 0 } } },
	{ "amd64", "runtime.cgoSigtramp", 0xc0, GO_FUNCFLAG_ASM, NOARGS, { { 0, 0xbb, 0 } } },
	{ "386", "runtime.nanotime1", 0xb0, SPW, 8, { { 0, 3, 0 }, { 3, 0xad, 8 }, { 0xad, 0xae, 0 } } },
	{ "386", "runtime.walltime", 0xb0, SPW, 12, { { 0, 3, 0 }, { 3, 0xa9, 8 }, { 0xa9, 0xaa, 0 } } },
	{ "386", "time.now", 0x70, 0, 20, { { 0, 0x15, 0 }, { 0x15, 0x60, 0x18 }, { 0x60, 0x68, 0 } } },
	{ "386", "runtime.nanotime", 0x20, 0, 8, { { 0, 3, 0 }, { 3, 0x1a, 8 }, { 0x1a, 0x1b, 0 } } },
	{ "386", "runtime.sigtramp", 0x50, TOP, NOARGS, { { 0, 3, 0 }, { 3, 0x42, 0x1c }, { 0x42, 0x43, 0 } } },
	{ "386", "runtime.cgoSigtramp", 0x10, GO_FUNCFLAG_ASM, NOARGS, { { 0, 5, 0 } } },
	{ "arm", "runtime.nanotime1", 0xf0, SPW, 8, { { 0, 4, 0 }, { 4, 0x40, 0xc }, { 0x40, 0xf0, 0x24 } } },
	{ "arm", "runtime.walltime", 0xe4, SPW, 12, { { 0, 4, 0 }, { 4, 0x40, 0xc }, { 0x40, 0xe4, 0x24 } } },
	{ "arm", "time.now", 0x68, 0, 20, { { 0, 0x10, 0 }, { 0x10, 0x5c, 0x1c }, { 0x5c, 0x68, 0 } } },
	{ "arm", "runtime.nanotime", 0x1c, 0, 8, { { 0, 4, 0 }, { 4, 0x1c, 0xc } } },
	{ "arm", "runtime.sigtramp", 0x48, TOP, NOARGS,
	  { { 0, 4, 0 }, { 4, 0xc, 4 }, { 0xc, 0x34, 0x14 }, { 0x34, 0x48, 4 } } },
	{ "arm", "runtime.cgoSigtramp", 0x10, GO_FUNCFLAG_ASM, NOARGS, { { 0, 0x10, 0 } } },
};
#define NWANT (sizeof want_funcs / sizeof want_funcs[0])

START_TEST(pcsp_tables_and_flags_are_the_measured_ones)
{
	const struct want_func *w = &want_funcs[_i];
	struct gobinary *gb = open_fixture(w->arch);
	const struct pclntab *t = gobinary_pclntab(gb);
	unsigned q = gobinary_arch(gb)->pc_quantum;
	struct go_func f;
	struct pc_range r[16];

	ck_assert_msg(pclntab_func_named(t, w->name, &f) == 0, "%s: no %s", w->arch, w->name);
	ck_assert_msg(f.end - f.entry == w->size, "%s %s: size 0x%" PRIx64 ", measured 0x%x", w->arch, w->name,
		      f.end - f.entry, w->size);
	ck_assert_msg(f.flag == w->flag, "%s %s: flag %u, measured %u", w->arch, w->name, f.flag, w->flag);
	ck_assert_uint_eq(f.funcid, 0);
	ck_assert_int_eq(f.args, w->args);
	int n = pclntab_pcsp_ranges(t, &f, r, 16);
	size_t nw = 0;
	while (nw < 6 && w->run[nw].hi)
		nw++;
	ck_assert_msg(n == (int)nw, "%s %s: %d pcsp runs, measured %zu", w->arch, w->name, n, nw);
	for (size_t k = 0; k < nw; k++)
		ck_assert_msg(r[k].lo - f.entry == w->run[k].lo && r[k].hi - f.entry == w->run[k].hi &&
				      r[k].value == w->run[k].sp,
			      "%s %s run %zu: [+0x%" PRIx64 ",+0x%" PRIx64 ") 0x%" PRIx64 ", measured [+0x%x,+0x%x) 0x%x",
			      w->arch, w->name, k, r[k].lo - f.entry, r[k].hi - f.entry, (uint64_t)r[k].value,
			      w->run[k].lo, w->run[k].hi, w->run[k].sp);
	/* spdelta at every pc is the run's value; past the table, none. */
	for (uint64_t pc = f.entry; pc < f.end; pc += q) {
		int64_t delta;
		size_t k = 0;
		while (k < nw && pc - f.entry >= w->run[k].hi)
			k++;
		if (k == nw) {
			ck_assert_int_eq(pclntab_spdelta(t, &f, pc, &delta), -1);
			continue;
		}
		ck_assert_int_eq(pclntab_spdelta(t, &f, pc, &delta), 0);
		ck_assert_int_eq(delta, w->run[k].sp);
	}
	int64_t delta;
	ck_assert_int_eq(pclntab_spdelta(t, &f, f.end, &delta), -1);
	ck_assert_int_eq(pclntab_spdelta(t, &f, f.entry - 1, &delta), -1);
	gobinary_close(gb);
}
END_TEST

START_TEST(special_functions_have_their_ids)
{
	struct gobinary *gb = open_fixture(arches[_i]);
	const struct pclntab *t = gobinary_pclntab(gb);
	struct go_func f;

	/* runtime/symtab.go: funcID_goexit = 7, funcID_mstart = 13, and
	 * both are TOPFRAME; the program's own Go code is neither. */
	ck_assert_int_eq(pclntab_func_named(t, "runtime.goexit", &f), 0);
	ck_assert_uint_eq(f.funcid, 7);
	ck_assert(f.flag & GO_FUNCFLAG_TOPFRAME);
	ck_assert_int_eq(pclntab_func_named(t, "runtime.mstart", &f), 0);
	ck_assert_uint_eq(f.funcid, 13);
	ck_assert(f.flag & GO_FUNCFLAG_TOPFRAME);
	ck_assert_int_eq(pclntab_func_named(t, "main.readClocks", &f), 0);
	ck_assert_uint_eq(f.funcid, 0);
	ck_assert_uint_eq(f.flag, 0);
	gobinary_close(gb);
}
END_TEST

START_TEST(symbolize_names_code_and_data)
{
	struct gobinary *gb = open_fixture(arches[_i]);
	struct go_func f;
	uint64_t addr;
	char buf[256];

	ck_assert_int_eq(pclntab_func_named(gobinary_pclntab(gb), "runtime.nanotime1", &f), 0);
	ck_assert_int_eq(gobinary_symbolize(gb, f.entry + 0x1c, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "runtime.nanotime1+0x1c");
	ck_assert_int_eq(gobinary_symbolize(gb, f.entry, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "runtime.nanotime1+0x0");
	/* Data is not in the pclntab: the ELF symbols name it. */
	ck_assert_int_eq(gobinary_symbol(gb, "runtime.buildVersion", &addr, NULL), 0);
	ck_assert_int_eq(gobinary_symbolize(gb, addr + 1, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "runtime.buildVersion+0x1");
	/* Below everything: the bare address. */
	ck_assert_int_eq(gobinary_symbolize(gb, 0x10, buf, sizeof buf), -1);
	ck_assert_str_eq(buf, "0x10");
	/* A small buffer is truncated, never overrun. */
	char small[8];
	gobinary_symbolize(gb, f.entry + 0x1c, small, sizeof small);
	ck_assert_str_eq(small, "runtime");
	gobinary_close(gb);
}
END_TEST

/* --- refusals ---------------------------------------------------------------- */

/* The bytes must be refused with status 2 and one line "name: ...". */
static void refused(const char *name, const uint8_t *buf, size_t len, const char *want)
{
	char err[GOBINARY_ERR_MAX] = "";
	struct gobinary *gb = (struct gobinary *)1;
	int rc = gobinary_open_bytes(name, buf, len, &gb, err, sizeof err);

	ck_assert_msg(rc == 2, "%s: accepted (rc %d), expected \"%s\"", name, rc, want ? want : "a refusal");
	ck_assert_ptr_null(gb);
	ck_assert_msg(!strncmp(err, name, strlen(name)) && !strncmp(err + strlen(name), ": ", 2) &&
			      err[strlen(name) + 2] && !strchr(err, '\n'),
		      "%s: not one line naming it: \"%s\"", name, err);
	if (want)
		ck_assert_msg(strstr(err, want), "%s: \"%s\", expected \"%s\"", name, err, want);
}

static void refused_file(const char *path, const char *want)
{
	char err[GOBINARY_ERR_MAX] = "";
	struct gobinary *gb;

	ck_assert_int_eq(gobinary_open(path, &gb, err, sizeof err), 2);
	ck_assert_msg(strstr(err, path) == err && strstr(err, want) && !strchr(err, '\n'), "%s: \"%s\"", path, err);
}

START_TEST(refuses_what_is_not_a_static_go_program)
{
	char path[4096];

	refused_file("/no/such/program", "cannot open");
	refused("text", (const uint8_t *)"#!/bin/sh\necho hello\n", 21, "not an ELF file");
	refused("empty", (const uint8_t *)"", 0, "not an ELF file");
	/* A dynamically linked C program. */
	refused_file("/bin/true", "not a static executable (has PT_INTERP)");
	/* A static C program (a guest image: freestanding, no Go in it). */
	snprintf(path, sizeof path, "%s/guest/amd64/sigstep-guest-master", build_dir());
	refused_file(path, "no Go pclntab (not a Go program?)");
}
END_TEST

/* A copy of the fixture of arch, to be edited. */
static uint8_t *edited(const char *arch, size_t *len)
{
	char path[4096];

	fixture_path(path, sizeof path, arch);
	return slurp(path, len);
}

/* The section header named name in an ELF file of either class. */
static int section(uint8_t *b, size_t len, const char *name, uint8_t **hdr, uint64_t *off, uint64_t *size)
{
	int is64 = b[EI_CLASS] == ELFCLASS64;
	Elf64_Ehdr *e64 = (Elf64_Ehdr *)b;
	Elf32_Ehdr *e32 = (Elf32_Ehdr *)b;
	uint64_t shoff = is64 ? e64->e_shoff : e32->e_shoff;
	unsigned shnum = is64 ? e64->e_shnum : e32->e_shnum, ndx = is64 ? e64->e_shstrndx : e32->e_shstrndx;
	size_t ent = is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	ck_assert(shoff + (uint64_t)shnum * ent <= len && ndx < shnum);
#define SHF(i, f) (is64 ? ((Elf64_Shdr *)(b + shoff + (i) * ent))->f : ((Elf32_Shdr *)(b + shoff + (i) * ent))->f)
	uint64_t stroff = SHF(ndx, sh_offset);
	for (unsigned i = 0; i < shnum; i++) {
		if (strcmp((char *)b + stroff + SHF(i, sh_name), name))
			continue;
		*hdr = b + shoff + i * ent;
		*off = SHF(i, sh_offset);
		*size = SHF(i, sh_size);
		return 0;
	}
#undef SHF
	return -1;
}

static void rename_section(uint8_t *b, size_t len, const char *from, char first)
{
	uint8_t *hdr;
	uint64_t off, size;
	int is64 = b[EI_CLASS] == ELFCLASS64;

	ck_assert_msg(section(b, len, from, &hdr, &off, &size) == 0, "no %s", from);
	Elf64_Ehdr *e64 = (Elf64_Ehdr *)b;
	Elf32_Ehdr *e32 = (Elf32_Ehdr *)b;
	uint64_t shoff = is64 ? e64->e_shoff : e32->e_shoff;
	size_t ent = is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	unsigned ndx = is64 ? e64->e_shstrndx : e32->e_shstrndx;
	uint64_t stroff = is64 ? ((Elf64_Shdr *)(b + shoff + ndx * ent))->sh_offset
			       : ((Elf32_Shdr *)(b + shoff + ndx * ent))->sh_offset;
	uint32_t name = is64 ? ((Elf64_Shdr *)hdr)->sh_name : ((Elf32_Shdr *)hdr)->sh_name;
	b[stroff + name + 1] = (uint8_t)first;	/* ".debug_info" -> ".xebug_info" */
}

START_TEST(refuses_another_arch_stripped_and_unknown_pclntab)
{
	const char *arch = arches[_i];
	size_t len;
	uint8_t *b, *hdr;
	uint64_t off, size;

	/* Another machine: aarch64 in the ELF header. */
	b = edited(arch, &len);
	((Elf32_Ehdr *)b)->e_machine = EM_AARCH64;	/* same offset in both classes */
	refused("other-arch", b, len, "ELF machine 183");
	free(b);

	/* Stripped of DWARF (-ldflags=-w): no .debug_info. */
	b = edited(arch, &len);
	rename_section(b, len, ".debug_info", 'x');
	refused("no-dwarf", b, len, "no DWARF (.debug_info missing");
	free(b);

	/* .debug_info without the abbreviations that decode it. */
	b = edited(arch, &len);
	rename_section(b, len, ".debug_abbrev", 'x');
	refused("no-abbrev", b, len, "no DWARF .debug_abbrev");
	free(b);

	/* Stripped of symbols (-ldflags=-s): no SHT_SYMTAB. */
	b = edited(arch, &len);
	ck_assert_int_eq(section(b, len, ".symtab", &hdr, &off, &size), 0);
	if (b[EI_CLASS] == ELFCLASS64)
		((Elf64_Shdr *)hdr)->sh_type = SHT_PROGBITS;
	else
		((Elf32_Shdr *)hdr)->sh_type = SHT_PROGBITS;
	refused("no-symtab", b, len, "no ELF symbol table");
	free(b);

	/* A split text (two sections named .text): refused, not misread. */
	b = edited(arch, &len);
	uint8_t *text;
	ck_assert_int_eq(section(b, len, ".text", &text, &off, &size), 0);
	ck_assert_int_eq(section(b, len, ".noptrdata", &hdr, &off, &size), 0);
	if (b[EI_CLASS] == ELFCLASS64)
		((Elf64_Shdr *)hdr)->sh_name = ((Elf64_Shdr *)text)->sh_name;
	else
		((Elf32_Shdr *)hdr)->sh_name = ((Elf32_Shdr *)text)->sh_name;
	refused("split-text", b, len, "2 .text sections");
	free(b);

	/* Older pclntabs: Go 1.16-1.17 (0xfffffffa), Go 1.2-1.15 (0xfffffffb);
	 * and one never written. */
	static const uint32_t magics[] = { 0xfffffffa, 0xfffffffb, 0x12345678 };
	for (size_t k = 0; k < 3; k++) {
		char want[64];
		b = edited(arch, &len);
		ck_assert_int_eq(section(b, len, ".gopclntab", &hdr, &off, &size), 0);
		memcpy(b + off, &magics[k], 4);
		snprintf(want, sizeof want, "unsupported pclntab version 0x%08x", magics[k]);
		refused("old-pclntab", b, len, want);
		free(b);
	}

	/* Without the .gopclntab section the table is found between the
	 * runtime.pclntab and runtime.epclntab symbols, as Go's tools do. */
	b = edited(arch, &len);
	rename_section(b, len, ".gopclntab", 'x');
	char err[GOBINARY_ERR_MAX];
	struct gobinary *gb;
	ck_assert_msg(gobinary_open_bytes("no-section", b, len, &gb, err, sizeof err) == 0, "%s", err);
	struct go_func f;
	ck_assert_int_eq(pclntab_func_named(gobinary_pclntab(gb), "runtime.nanotime1", &f), 0);
	ck_assert_uint_eq(f.flag, SPW);
	gobinary_close(gb);
	free(b);

	/* A .gopclntab made SHT_NOBITS (no bytes in the file) with an offset
	 * far outside it: never read, the symbols are used instead. */
	b = edited(arch, &len);
	ck_assert_int_eq(section(b, len, ".gopclntab", &hdr, &off, &size), 0);
	if (b[EI_CLASS] == ELFCLASS64) {
		((Elf64_Shdr *)hdr)->sh_type = SHT_NOBITS;
		((Elf64_Shdr *)hdr)->sh_offset = 0x7fffffff00000000ull;
	} else {
		((Elf32_Shdr *)hdr)->sh_type = SHT_NOBITS;
		((Elf32_Shdr *)hdr)->sh_offset = 0xfff00000u;
	}
	ck_assert_msg(gobinary_open_bytes("nobits", b, len, &gb, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(gobinary_version(gb), SIGSTEP_GO_VERSION);
	gobinary_close(gb);
	free(b);
}
END_TEST

/* A fixed generator, so that every run corrupts the same bytes. */
static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/* An opened (corrupted) binary: every reader on every function must stay
 * inside its buffers. */
static void walk_everything(struct gobinary *gb)
{
	const struct pclntab *t = gobinary_pclntab(gb);
	char buf[128];

	for (size_t i = 0; i < pclntab_nfunc(t); i++) {
		struct go_func f;
		int64_t v;
		const char *file;
		if (pclntab_func_index(t, i, &f))
			continue;
		pclntab_spdelta(t, &f, f.entry, &v);
		pclntab_line(t, &f, f.entry, &file, &v);
		gobinary_symbolize(gb, f.entry + 1, buf, sizeof buf);
	}
	ck_assert(strlen(gobinary_version(gb)) > 2);
}

START_TEST(truncated_copies_are_refused_in_one_line)
{
	size_t len;
	uint8_t *b = edited(arches[_i], &len);

	/* Every length in the headers, then 200 cuts spread over the file. */
	for (size_t n = 0; n < 256; n++)
		refused("truncated", b, n, NULL);
	for (size_t k = 1; k < 200; k++) {
		size_t n = len / 200 * k;
		uint8_t *copy = malloc(n);	/* exactly n bytes: a read past them is caught */
		memcpy(copy, b, n);
		refused("truncated", copy, n, NULL);
		free(copy);
	}
	refused("truncated", b, len - 1, NULL);
	free(b);
}
END_TEST

START_TEST(corrupted_copies_never_crash)
{
	size_t len;
	uint8_t *b = edited(arches[_i], &len), *hdr;
	uint64_t seed = 0x5eed0000u + (uint64_t)_i, pcoff, pcsize, shdr_end;
	int accepted = 0, refusals = 0;

	ck_assert_int_eq(section(b, len, ".gopclntab", &hdr, &pcoff, &pcsize), 0);
	shdr_end = len;	/* Go writes the section headers at the end */
	for (int k = 0; k < 24; k++) {
		uint8_t *copy = malloc(len);
		memcpy(copy, b, len);
		/* A few bytes in the places the readers trust least: the ELF and
		 * program headers, the pclntab header and function table, the
		 * _func records and pc-value tables, the section headers. */
		for (int j = 0; j < 4; j++) {
			uint64_t where;
			switch (lcg(&seed) % 4) {
			case 0: where = lcg(&seed) % 0x200; break;
			case 1: where = pcoff + lcg(&seed) % 0x4000; break;
			case 2: where = pcoff + lcg(&seed) % pcsize; break;
			default: where = shdr_end - 1 - lcg(&seed) % 0x800; break;
			}
			copy[where] ^= (uint8_t)(1u << (lcg(&seed) % 8));
		}
		char err[GOBINARY_ERR_MAX] = "";
		struct gobinary *gb;
		int rc = gobinary_open_bytes("corrupt", copy, len, &gb, err, sizeof err);
		ck_assert_msg(rc == 0 || rc == 2, "rc %d", rc);
		if (rc == 0) {
			walk_everything(gb);
			gobinary_close(gb);
			accepted++;
		} else {
			ck_assert_msg(!strncmp(err, "corrupt: ", 9) && !strchr(err, '\n'), "\"%s\"", err);
			refusals++;
		}
		free(copy);
	}
	/* Both outcomes occur: the corruption reaches the checks and also
	 * bytes they cannot judge (which must still be read safely). */
	ck_assert_int_gt(accepted, 0);
	ck_assert_int_gt(refusals, 0);
	free(b);
}
END_TEST

/* The pclntab and DWARF readers on their own, fed corrupted section bytes
 * (after inflation, which the file-level corruption cannot reach). */
START_TEST(corrupted_tables_never_crash)
{
	size_t len, info_len, abbrev_len;
	uint8_t *b = edited(arches[_i], &len), *hdr, *info, *abbrev;
	uint64_t off, size, seed = 0xdeadbeefu + (uint64_t)_i;
	const struct arch_ops *ops = arch_ops_find(arches[_i]);
	int is64 = b[EI_CLASS] == ELFCLASS64;
	char err[256];

	ck_assert_int_eq(section(b, len, ".debug_info", &hdr, &off, &size), 0);
	uint64_t flags = is64 ? ((Elf64_Shdr *)hdr)->sh_flags : ((Elf32_Shdr *)hdr)->sh_flags;
	ck_assert_msg(elf_section_contents(b + off, size, flags, is64, 0, &info, &info_len, err, sizeof err) == 0,
		      "%s", err);
	ck_assert_int_eq(section(b, len, ".debug_abbrev", &hdr, &off, &size), 0);
	flags = is64 ? ((Elf64_Shdr *)hdr)->sh_flags : ((Elf32_Shdr *)hdr)->sh_flags;
	ck_assert_msg(elf_section_contents(b + off, size, flags, is64, 0, &abbrev, &abbrev_len, err, sizeof err) == 0,
		      "%s", err);
	/* A truncated compressed section is refused by zlib's check. */
	ck_assert_int_eq(elf_section_contents(b + off, size - 1, flags, is64, 0, &hdr, &size, err, sizeof err), -1);

	for (int k = 0; k < 40; k++) {
		/* The abbreviations (small, each byte matters) or the DIEs. */
		uint8_t *ci = malloc(info_len), *ca = malloc(abbrev_len);
		memcpy(ci, info, info_len);
		memcpy(ca, abbrev, abbrev_len);
		for (int j = 0; j < 3; j++) {
			if (k % 2)
				ca[lcg(&seed) % abbrev_len] ^= (uint8_t)(1u << (lcg(&seed) % 8));
			else
				ci[lcg(&seed) % info_len] ^= (uint8_t)(1u << (lcg(&seed) % 8));
		}
		size_t cut = k % 4 == 3 ? lcg(&seed) % info_len : info_len;
		struct dwarf_info *d;
		if (dwarf_info_open(ci, cut, ca, abbrev_len, &d, err, sizeof err) == 0) {
			struct go_layout l;
			uint64_t sz;
			dwarf_go_layout(d, &l, err, sizeof err);
			dwarf_struct_size(d, "runtime.m", &sz);
			dwarf_info_close(d);
		} else {
			ck_assert(!strchr(err, '\n') && err[0]);
		}
		free(ci);
		free(ca);
	}

	ck_assert_int_eq(section(b, len, ".gopclntab", &hdr, &off, &size), 0);
	for (int k = 0; k < 200; k++) {
		uint8_t *ct = malloc(size);
		memcpy(ct, b + off, size);
		for (int j = 0; j < 4; j++) {
			uint64_t where = k % 2 ? lcg(&seed) % 0x100 : lcg(&seed) % size;
			ct[where] ^= (uint8_t)(1u << (lcg(&seed) % 8));
		}
		size_t cut = k % 5 == 4 ? lcg(&seed) % size : size;
		struct pclntab *t;
		if (pclntab_open(ct, cut, ops->word_size, ops->pc_quantum, &t, err, sizeof err) == 0) {
			for (size_t i = 0; i < pclntab_nfunc(t); i++) {
				struct go_func f;
				struct pc_range r[8];
				int64_t v;
				const char *file;
				if (pclntab_func_index(t, i, &f))
					continue;
				pclntab_pcsp_ranges(t, &f, r, 8);
				pclntab_spdelta(t, &f, f.end - 1, &v);
				pclntab_line(t, &f, f.entry, &file, &v);
				pclntab_func_at(t, f.entry, &f);
			}
			pclntab_close(t);
		} else {
			ck_assert(!strchr(err, '\n') && err[0]);
		}
		free(ct);
	}
	free(info);
	free(abbrev);
	free(b);
}
END_TEST

/* --- the last program opened, kept -------------------------------------------- */

static void write_file(const char *path, const uint8_t *b, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_msg(f && fwrite(b, 1, len, f) == len && fclose(f) == 0, "cannot write %s", path);
}

/*
 * A second open of the same bytes shares the first's parse (each open
 * closed on its own); a file changed in place between opens -- another
 * arch's program, then a truncated copy -- is read as it is now, while a
 * parse still held stays whole.
 */
START_TEST(a_second_open_shares_the_parse_until_the_file_changes)
{
	char path[] = "/tmp/test_gobinary_reopen_XXXXXX", err[GOBINARY_ERR_MAX];
	int fd = mkstemp(path);
	ck_assert(fd >= 0);
	close(fd);
	size_t len, other_len;
	uint8_t *b = edited(arches[_i], &len), *other = edited(arches[(_i + 1) % NARCH], &other_len);
	struct gobinary *first, *second, *changed;

	write_file(path, b, len);
	ck_assert_msg(gobinary_open(path, &first, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(gobinary_open(path, &second, err, sizeof err) == 0, "%s", err);
	ck_assert_ptr_eq(first, second);
	gobinary_close(first);
	ck_assert_str_eq(gobinary_arch(second)->name, arches[_i]);

	write_file(path, other, other_len);
	ck_assert_msg(gobinary_open(path, &changed, err, sizeof err) == 0, "%s", err);
	ck_assert_ptr_ne(changed, second);
	ck_assert_str_eq(gobinary_arch(changed)->name, arches[(_i + 1) % NARCH]);
	ck_assert_str_eq(gobinary_arch(second)->name, arches[_i]);
	ck_assert_str_eq(gobinary_version(second), SIGSTEP_GO_VERSION);
	gobinary_close(changed);

	write_file(path, other, other_len / 2);
	ck_assert_int_eq(gobinary_open(path, &changed, err, sizeof err), 2);
	ck_assert_ptr_null(changed);
	ck_assert_msg(strstr(err, path) == err, "%s", err);

	write_file(path, b, len);
	ck_assert_msg(gobinary_open(path, &first, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(gobinary_arch(first)->name, arches[_i]);
	gobinary_close(first);
	gobinary_close(second);
	unlink(path);
	free(b);
	free(other);
}
END_TEST

static Suite *gobinary_suite(void)
{
	Suite *s = suite_create("gobinary");
	TCase *t = tcase_create("fixtures");

	tcase_set_timeout(t, 300);
	tcase_add_loop_test(t, version_is_go_1_19_as_buildinfo_says, 0, NARCH);
	tcase_add_loop_test(t, symbols_agree_with_debug_elf, 0, NARCH);
	tcase_add_loop_test(t, functions_agree_with_debug_gosym, 0, NARCH);
	tcase_add_loop_test(t, lines_agree_with_debug_gosym, 0, NARCH);
	tcase_add_loop_test(t, struct_members_agree_with_debug_dwarf, 0, NARCH);
	tcase_add_loop_test(t, layout_is_the_measured_one, 0, NARCH);
	tcase_add_loop_test(t, pcsp_tables_and_flags_are_the_measured_ones, 0, NWANT);
	tcase_add_loop_test(t, special_functions_have_their_ids, 0, NARCH);
	tcase_add_loop_test(t, symbolize_names_code_and_data, 0, NARCH);
	tcase_add_test(t, refuses_what_is_not_a_static_go_program);
	tcase_add_loop_test(t, refuses_another_arch_stripped_and_unknown_pclntab, 0, NARCH);
	tcase_add_loop_test(t, truncated_copies_are_refused_in_one_line, 0, NARCH);
	tcase_add_loop_test(t, corrupted_copies_never_crash, 0, NARCH);
	tcase_add_loop_test(t, corrupted_tables_never_crash, 0, NARCH);
	tcase_add_loop_test(t, a_second_open_shares_the_parse_until_the_file_changes, 0, NARCH);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	if (!SIGSTEP_GO_VERSION[0]) {
		printf("test_gobinary: SKIP: no Go toolchain at build time (ci/bootstrap.sh installs "
		       "golang-1.19-go): the Go fixture was not built\n");
		return SKIP;
	}
	if (strncmp(SIGSTEP_GO_VERSION, "go1.19.", 7)) {
		printf("test_gobinary: SKIP: the fixture was built with %s; these expectations are Go 1.19's "
		       "(measured with Debian's golang-1.19-go)\n", SIGSTEP_GO_VERSION);
		return SKIP;
	}
	SRunner *sr = srunner_create(gobinary_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
