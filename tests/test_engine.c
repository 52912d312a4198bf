/*
 * The Unicorn engine's first layer: the ELF loader refuses what Linux
 * would refuse (and never crashes on it), builds the initial stack Linux
 * builds, keeps its region table in step with Unicorn, reports guest
 * faults as faults, and runs every built guest image to a passing
 * exit_group.
 *
 * Guest images are read from $SIGSTEP_BUILD_DIR/guest/<arch>/.  Small
 * hand-assembled images (a few instructions in one PT_LOAD) cover what
 * the real images never do: fault, trap, make an unsupported syscall.
 */
#define _GNU_SOURCE
#include <check.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch_ops.h"
#include "loader.h"
#include "machine.h"
#include "probe.h"
#include "run.h"
#include "sigdeliver.h"
#include "syscalls.h"

static const char *build_dir(void)
{
	const char *d = getenv("SIGSTEP_BUILD_DIR");
	return d ? d : "build";
}

static const struct arch_ops *ops_of(const char *name)
{
	const struct arch_ops *ops = arch_ops_find(name);
	ck_assert_msg(ops, "arch %s not compiled in", name);
	return ops;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f, "cannot open %s (guest images not built?)", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *b = malloc(n ? n : 1);
	ck_assert(b && fread(b, 1, n, f) == (size_t)n);
	fclose(f);
	*len = n;
	return b;
}

static void image_path(char *buf, size_t n, const char *arch, const char *variant)
{
	snprintf(buf, n, "%s/guest/%s/sigstep-guest-%s", build_dir(), arch, variant);
}

static void vdso_path(char *buf, size_t n, const char *arch)
{
	snprintf(buf, n, "%s/guest/%s/vdso.so", build_dir(), arch);
}

/* --- Tiny hand-made images ------------------------------------------------- */

#define TINY_BASE 0x400000u
#define TINY_CODE 0x80u	/* code offset in the file and the page */

/*
 * One R+X PT_LOAD at TINY_BASE mapping the whole file; entry at
 * TINY_BASE + TINY_CODE.  Written to a temporary file whose path is
 * returned (caller unlinks and frees).
 */
static char *tiny_elf(const struct arch_ops *ops, const uint8_t *code, size_t len)
{
	uint8_t file[4096] = { 0 };
	ck_assert(TINY_CODE + len <= sizeof file);
	size_t total = TINY_CODE + len;
	if (ops->elf_class == ELFCLASS64) {
		Elf64_Ehdr e = { .e_type = ET_EXEC, .e_machine = ops->elf_machine, .e_version = EV_CURRENT,
				 .e_entry = TINY_BASE + TINY_CODE, .e_phoff = sizeof e,
				 .e_ehsize = sizeof e, .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 1 };
		memcpy(e.e_ident, ELFMAG, SELFMAG);
		e.e_ident[EI_CLASS] = ELFCLASS64, e.e_ident[EI_DATA] = ELFDATA2LSB, e.e_ident[EI_VERSION] = EV_CURRENT;
		Elf64_Phdr p = { .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0, .p_vaddr = TINY_BASE,
				 .p_paddr = TINY_BASE, .p_filesz = total, .p_memsz = total, .p_align = 4096 };
		memcpy(file, &e, sizeof e);
		memcpy(file + sizeof e, &p, sizeof p);
	} else {
		Elf32_Ehdr e = { .e_type = ET_EXEC, .e_machine = ops->elf_machine, .e_version = EV_CURRENT,
				 .e_entry = TINY_BASE + TINY_CODE, .e_phoff = sizeof e,
				 .e_ehsize = sizeof e, .e_phentsize = sizeof(Elf32_Phdr), .e_phnum = 1 };
		memcpy(e.e_ident, ELFMAG, SELFMAG);
		e.e_ident[EI_CLASS] = ELFCLASS32, e.e_ident[EI_DATA] = ELFDATA2LSB, e.e_ident[EI_VERSION] = EV_CURRENT;
		Elf32_Phdr p = { .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0, .p_vaddr = TINY_BASE,
				 .p_paddr = TINY_BASE, .p_filesz = total, .p_memsz = total, .p_align = 4096 };
		memcpy(file, &e, sizeof e);
		memcpy(file + sizeof e, &p, sizeof p);
	}
	memcpy(file + TINY_CODE, code, len);
	char *path = strdup("/tmp/sigstep-test-XXXXXX");
	int fd = mkstemp(path);
	ck_assert(fd >= 0);
	ck_assert(write(fd, file, total) == (ssize_t)total);
	close(fd);
	return path;
}

/* Per arch: the same four little programs. */
struct tiny_progs {
	const char *arch;
	const uint8_t *exit3; size_t exit3_len;		/* exit_group(3) */
	const uint8_t *store0; size_t store0_len;	/* store to address 0 at offset store0_at */
	unsigned store0_at;
	const uint8_t *undef; size_t undef_len;		/* an undefined instruction first */
	const uint8_t *unsup; size_t unsup_len;		/* getitimer: not emulated; insn at unsup_at */
	unsigned unsup_at;
	uint32_t getitimer_nr;
};

#define B(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

static const struct tiny_progs tiny[] = {
	{ "amd64",
	  B(0xbf, 3, 0, 0, 0, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05),		/* mov $3,%edi; mov $231,%eax; syscall */
	  B(0x31, 0xc0, 0xc7, 0x00, 1, 0, 0, 0), 2,			/* xor %eax,%eax; movl $1,(%rax) */
	  B(0x0f, 0x0b),						/* ud2 */
	  B(0xb8, 36, 0, 0, 0, 0x0f, 0x05), 5, 36 },			/* mov $36,%eax; syscall */
	{ "386",
	  B(0xbb, 3, 0, 0, 0, 0xb8, 252, 0, 0, 0, 0xcd, 0x80),		/* mov $3,%ebx; mov $252,%eax; int $0x80 */
	  B(0x31, 0xc0, 0xc7, 0x00, 1, 0, 0, 0), 2,			/* xor %eax,%eax; movl $1,(%eax) */
	  B(0x0f, 0x0b),						/* ud2 */
	  B(0xb8, 105, 0, 0, 0, 0xcd, 0x80), 5, 105 },			/* mov $105,%eax; int $0x80 */
	{ "arm",
	  B(0x03, 0x00, 0xa0, 0xe3, 0xf8, 0x70, 0xa0, 0xe3, 0x00, 0x00, 0x00, 0xef),	/* mov r0,#3; mov r7,#248; svc 0 */
	  B(0x00, 0x00, 0xa0, 0xe3, 0x00, 0x00, 0x80, 0xe5), 4,		/* mov r0,#0; str r0,[r0] */
	  B(0xf0, 0x00, 0xf0, 0xe7),					/* udf #0 */
	  B(0x69, 0x70, 0xa0, 0xe3, 0x00, 0x00, 0x00, 0xef), 4, 105 },	/* mov r7,#105; svc 0 */
};
#define NTINY (int)(sizeof tiny / sizeof tiny[0])

/* The tiny image of code loaded into g; its file's path (free it). */
static char *load_tiny(const struct arch_ops *ops, const uint8_t *code, size_t len, struct guest *g)
{
	char *path = tiny_elf(ops, code, len);
	static const char *argv[] = { "tiny" };	/* g keeps its config, for a replay */
	struct guest_config cfg = { .ops = ops, .image_path = path, .argc = 1, .argv = argv };
	char err[LOADER_ERR_MAX];
	const char *bad;
	ck_assert_msg(guest_load(g, &cfg, err, &bad) == 0, "tiny image rejected: %s", err);
	return path;
}

static int run_tiny(const struct arch_ops *ops, const uint8_t *code, size_t len, struct guest *g)
{
	char *path = load_tiny(ops, code, len, g);
	int r = guest_run(g, 30);	/* may replay from the file */
	unlink(path);
	free(path);
	g->cfg.image_path = NULL;
	return r;
}

/*
 * futex(&word, FUTEX_WAIT, 0, &{1 s, 0}) on a one-thread process, then
 * exit_group(its result): nothing can wake it, so the clock jumps to the
 * deadline and the wait ends -ETIMEDOUT (status 146).  `forever` is the
 * same wait without a timeout: a deadlock, reported as one.
 */
static const struct {
	const char *arch;
	const uint8_t *timed; size_t timed_len;
	const uint8_t *forever; size_t forever_len;
} tiny_waits[] = {
	{ "amd64",
	  B(0x6a, 0, 0x6a, 1, 0x49, 0x89, 0xe2, 0x48, 0x8d, 0x7c, 0x24, 8, 0x31, 0xf6, 0x31, 0xd2,
	    0xb8, 202, 0, 0, 0, 0x0f, 0x05, 0x89, 0xc7, 0xb8, 231, 0, 0, 0, 0x0f, 0x05),
	  B(0x6a, 0, 0x6a, 1, 0x4d, 0x31, 0xd2, 0x48, 0x8d, 0x7c, 0x24, 8, 0x31, 0xf6, 0x31, 0xd2,
	    0xb8, 202, 0, 0, 0, 0x0f, 0x05, 0x89, 0xc7, 0xb8, 231, 0, 0, 0, 0x0f, 0x05) },
	{ "386",
	  B(0x6a, 0, 0x6a, 1, 0x89, 0xe6, 0x8d, 0x5c, 0x24, 4, 0x31, 0xc9, 0x31, 0xd2,
	    0xb8, 240, 0, 0, 0, 0xcd, 0x80, 0x89, 0xc3, 0xb8, 252, 0, 0, 0, 0xcd, 0x80),
	  B(0x6a, 0, 0x6a, 1, 0x31, 0xf6, 0x8d, 0x5c, 0x24, 4, 0x31, 0xc9, 0x31, 0xd2,
	    0xb8, 240, 0, 0, 0, 0xcd, 0x80, 0x89, 0xc3, 0xb8, 252, 0, 0, 0, 0xcd, 0x80) },
	{ "arm",
	  B(0x00, 0x00, 0xa0, 0xe3, 0x04, 0x00, 0x2d, 0xe5, 0x01, 0x00, 0xa0, 0xe3, 0x04, 0x00, 0x2d, 0xe5,
	    0x0d, 0x30, 0xa0, 0xe1, 0x04, 0x00, 0x8d, 0xe2, 0x00, 0x10, 0xa0, 0xe3, 0x00, 0x20, 0xa0, 0xe3,
	    0xf0, 0x70, 0xa0, 0xe3, 0x00, 0x00, 0x00, 0xef, 0xf8, 0x70, 0xa0, 0xe3, 0x00, 0x00, 0x00, 0xef),
	  B(0x00, 0x00, 0xa0, 0xe3, 0x04, 0x00, 0x2d, 0xe5, 0x01, 0x00, 0xa0, 0xe3, 0x04, 0x00, 0x2d, 0xe5,
	    0x00, 0x30, 0xa0, 0xe3, 0x04, 0x00, 0x8d, 0xe2, 0x00, 0x10, 0xa0, 0xe3, 0x00, 0x20, 0xa0, 0xe3,
	    0xf0, 0x70, 0xa0, 0xe3, 0x00, 0x00, 0x00, 0xef, 0xf8, 0x70, 0xa0, 0xe3, 0x00, 0x00, 0x00, 0xef) },
};

START_TEST(tiny_futex_timeout_moves_the_clock)
{
	struct guest g;
	ck_assert_int_eq(run_tiny(ops_of(tiny_waits[_i].arch), tiny_waits[_i].timed, tiny_waits[_i].timed_len, &g), 0);
	ck_assert_int_eq(g.mc->exit_status, 146);	/* -ETIMEDOUT & 0xff */
	ck_assert_uint_eq(g.mc->sys->slept_ns, 1000000000ull);
	guest_free(&g);
}
END_TEST

/*
 * A guest that jumps to itself, run twice with a time limit on the same
 * machine: the machine's deadline thread stops each run (timed_out, not
 * some other stop), so the first run's stop neither is lost nor ends the
 * second before its own deadline.
 */
static const struct { const char *arch; const uint8_t *code; size_t len; } tiny_loops[] = {
	{ "amd64", B(0xeb, 0xfe) },			/* 1: jmp 1b */
	{ "386", B(0xeb, 0xfe) },			/* 1: jmp 1b */
	{ "arm", B(0xfe, 0xff, 0xff, 0xea) },		/* 1: b 1b */
};

START_TEST(tiny_loop_is_stopped_by_the_time_limit)
{
	const struct arch_ops *ops = ops_of(tiny_loops[_i].arch);
	struct guest g;
	char *path = load_tiny(ops, tiny_loops[_i].code, tiny_loops[_i].len, &g);
	for (int run = 0; run < 2; run++) {
		ck_assert_int_eq(machine_run(g.mc, 0, 20000), 1);
		ck_assert_int_eq(g.mc->fault.kind, FAULT_STOPPED);
		ck_assert_int_eq(g.mc->timed_out, 1);
		ck_assert_uint_eq(machine_pc(g.mc), TINY_BASE + TINY_CODE);
	}
	unlink(path);
	free(path);
	g.cfg.image_path = NULL;
	guest_free(&g);
}
END_TEST

START_TEST(tiny_futex_forever_is_a_deadlock)
{
	struct guest g;
	char line[512];
	ck_assert_int_eq(run_tiny(ops_of(tiny_waits[_i].arch), tiny_waits[_i].forever, tiny_waits[_i].forever_len, &g), 1);
	ck_assert_int_eq(g.mc->fault.kind, FAULT_DEADLOCK);
	ck_assert_int_eq(guest_fault_line(&g, line, sizeof line), 1);
	ck_assert_msg(strstr(line, "deadlock"), "%s", line);
	guest_free(&g);
}
END_TEST

START_TEST(tiny_exit_group_status)
{
	const struct tiny_progs *t = &tiny[_i];
	struct guest g;
	ck_assert_int_eq(run_tiny(ops_of(t->arch), t->exit3, t->exit3_len, &g), 0);
	ck_assert(g.mc->exited);
	ck_assert_int_eq(g.mc->exit_status, 3);
	guest_free(&g);
}
END_TEST

START_TEST(tiny_null_store_is_a_fault)
{
	const struct tiny_progs *t = &tiny[_i];
	struct guest g;
	char line[512];
	ck_assert_int_eq(run_tiny(ops_of(t->arch), t->store0, t->store0_len, &g), 1);
	ck_assert_int_eq(g.mc->fault.kind, FAULT_WRITE_UNMAPPED);
	ck_assert_uint_eq(g.mc->fault.addr, 0);
	ck_assert_uint_eq(g.mc->fault.pc, TINY_BASE + TINY_CODE + t->store0_at);
	ck_assert_int_eq(guest_fault_line(&g, line, sizeof line), 1);
	ck_assert_msg(strstr(line, "guest fault: write to unmapped memory"), "%s", line);
	guest_free(&g);
}
END_TEST

START_TEST(tiny_undefined_instruction_is_a_fault)
{
	const struct tiny_progs *t = &tiny[_i];
	struct guest g;
	ck_assert_int_eq(run_tiny(ops_of(t->arch), t->undef, t->undef_len, &g), 1);
	/* x86 #UD and arm UDEF may reach the harness as an invalid
	 * instruction or as a CPU exception; both stop the run at it. */
	ck_assert_msg(g.mc->fault.kind == FAULT_INVALID_INSN || g.mc->fault.kind == FAULT_TRAP,
		      "fault kind %s", fault_kind_name(g.mc->fault.kind));
	ck_assert_uint_eq(g.mc->fault.pc, TINY_BASE + TINY_CODE);
	guest_free(&g);
}
END_TEST

START_TEST(tiny_unsupported_syscall_stops_with_status_2)
{
	const struct tiny_progs *t = &tiny[_i];
	struct guest g;
	char line[512], want[64];
	ck_assert_int_eq(run_tiny(ops_of(t->arch), t->unsup, t->unsup_len, &g), 1);
	ck_assert_int_eq(g.mc->fault.kind, FAULT_UNSUPPORTED_SYSCALL);
	ck_assert_uint_eq(g.mc->fault.number, t->getitimer_nr);
	ck_assert_uint_eq(g.mc->fault.pc, TINY_BASE + TINY_CODE + t->unsup_at);
	ck_assert_int_eq(guest_fault_line(&g, line, sizeof line), 2);
	snprintf(want, sizeof want, "unsupported syscall %u (getitimer) at PC 0x%x", t->getitimer_nr,
		 TINY_BASE + TINY_CODE + t->unsup_at);
	ck_assert_msg(strstr(line, want), "%s", line);
	guest_free(&g);
}
END_TEST

/* --- Refusing bad images --------------------------------------------------- */

static int parse(const char *arch, const uint8_t *buf, size_t len, int type, char *err)
{
	struct elf_image img;
	int r = elf_parse(buf, len, ops_of(arch), type, 0, &img, err);
	if (!r)
		elf_image_free(&img);
	return r;
}

START_TEST(loader_accepts_every_built_image)
{
	static const char *const arches[] = { "386", "amd64", "arm" };
	for (int a = 0; a < 3; a++) {
		char path[4096], err[LOADER_ERR_MAX];
		size_t len;
		image_path(path, sizeof path, arches[a], "seed");
		uint8_t *b = slurp(path, &len);
		ck_assert_msg(parse(arches[a], b, len, ET_EXEC, err) == 0, "%s: %s", path, err);
		free(b);
		vdso_path(path, sizeof path, arches[a]);
		b = slurp(path, &len);
		ck_assert_msg(parse(arches[a], b, len, ET_DYN, err) == 0, "%s: %s", path, err);
		free(b);
	}
}
END_TEST

START_TEST(loader_rejects_foreign_arch)
{
	char path[4096], err[LOADER_ERR_MAX];
	size_t len;
	image_path(path, sizeof path, "amd64", "seed");
	uint8_t *b = slurp(path, &len);
	ck_assert_int_eq(parse("386", b, len, ET_EXEC, err), -1);
	ck_assert_msg(strstr(err, "64-bit ELF, but arch 386 needs 32-bit"), "%s", err);
	free(b);

	image_path(path, sizeof path, "386", "seed");
	b = slurp(path, &len);
	ck_assert_int_eq(parse("arm", b, len, ET_EXEC, err), -1);
	ck_assert_msg(strstr(err, "ELF machine 3, but arch arm needs 40"), "%s", err);
	free(b);
}
END_TEST

START_TEST(loader_rejects_wrong_type)
{
	char path[4096], err[LOADER_ERR_MAX];
	size_t len;
	vdso_path(path, sizeof path, "amd64");
	uint8_t *b = slurp(path, &len);
	ck_assert_int_eq(parse("amd64", b, len, ET_EXEC, err), -1);
	ck_assert_msg(strstr(err, "expected a static executable"), "%s", err);
	free(b);
}
END_TEST

START_TEST(loader_rejects_bad_magic_and_empty)
{
	char err[LOADER_ERR_MAX];
	static const uint8_t text[] = "#!/bin/sh\necho hello\n";
	ck_assert_int_eq(parse("amd64", text, sizeof text, ET_EXEC, err), -1);
	ck_assert_str_eq(err, "not an ELF file (bad magic)");
	ck_assert_int_eq(parse("amd64", text, 0, ET_EXEC, err), -1);
	ck_assert_str_eq(err, "not an ELF file (bad magic)");
}
END_TEST

/* Every prefix of a real image that cuts into its headers or segments is
 * refused with a message; none crashes. */
START_TEST(loader_rejects_every_truncation)
{
	const char *arch = _i == 0 ? "amd64" : _i == 1 ? "386" : "arm";
	char path[4096], err[LOADER_ERR_MAX];
	size_t len;
	image_path(path, sizeof path, arch, "seed");
	uint8_t *b = slurp(path, &len);
	for (size_t cut = 0; cut < len; cut += cut < 512 ? 1 : 97) {
		uint8_t *copy = malloc(cut ? cut : 1);	/* exactly cut bytes: overreads are caught by tools */
		memcpy(copy, b, cut);
		err[0] = 0;
		ck_assert_msg(parse(arch, copy, cut, ET_EXEC, err) == -1, "%s cut at %zu accepted", arch, cut);
		ck_assert_msg(err[0], "no message for cut at %zu", cut);
		free(copy);
	}
	free(b);
}
END_TEST

START_TEST(loader_rejects_insane_program_headers)
{
	char path[4096], err[LOADER_ERR_MAX];
	size_t len;
	image_path(path, sizeof path, "amd64", "seed");
	uint8_t *b = slurp(path, &len);
	Elf64_Ehdr e;
	memcpy(&e, b, sizeof e);

	uint8_t *c = malloc(len);
	/* program headers beyond the file */
	memcpy(c, b, len);
	((Elf64_Ehdr *)c)->e_phoff = len - 8;
	ck_assert_int_eq(parse("amd64", c, len, ET_EXEC, err), -1);
	ck_assert_msg(strstr(err, "program headers lie beyond"), "%s", err);
	/* a huge phnum */
	memcpy(c, b, len);
	((Elf64_Ehdr *)c)->e_phnum = 0xffff;
	ck_assert_int_eq(parse("amd64", c, len, ET_EXEC, err), -1);
	/* wrong phentsize */
	memcpy(c, b, len);
	((Elf64_Ehdr *)c)->e_phentsize = 12;
	ck_assert_int_eq(parse("amd64", c, len, ET_EXEC, err), -1);
	ck_assert_msg(strstr(err, "program header size"), "%s", err);

	/* each PT_LOAD: filesz > memsz, absurd memsz, offset beyond the file */
	for (unsigned i = 0; i < e.e_phnum; i++) {
		Elf64_Phdr *p;
		memcpy(c, b, len);
		p = (Elf64_Phdr *)(c + e.e_phoff) + i;
		if (p->p_type != PT_LOAD)
			continue;
		p->p_filesz = p->p_memsz + 1;
		ck_assert_int_eq(parse("amd64", c, len, ET_EXEC, err), -1);

		memcpy(c, b, len);
		p = (Elf64_Phdr *)(c + e.e_phoff) + i;
		p->p_memsz = 1ull << 40;
		ck_assert_int_eq(parse("amd64", c, len, ET_EXEC, err), -1);
		ck_assert_msg(strstr(err, "not sane"), "%s", err);

		memcpy(c, b, len);
		p = (Elf64_Phdr *)(c + e.e_phoff) + i;
		p->p_offset = ~0ull - 4;
		ck_assert_int_eq(parse("amd64", c, len, ET_EXEC, err), -1);

		memcpy(c, b, len);
		p = (Elf64_Phdr *)(c + e.e_phoff) + i;
		p->p_vaddr = 0xffff800000000000ull + (p->p_vaddr & 0xfff);
		ck_assert_int_eq(parse("amd64", c, len, ET_EXEC, err), -1);
		ck_assert_msg(strstr(err, "outside the amd64 address space"), "%s", err);
	}
	/* entry point outside the text */
	memcpy(c, b, len);
	((Elf64_Ehdr *)c)->e_entry = 0x10;
	ck_assert_int_eq(parse("amd64", c, len, ET_EXEC, err), -1);
	ck_assert_msg(strstr(err, "entry point"), "%s", err);
	free(c);
	free(b);
}
END_TEST

/* Deterministic garbage in the headers: refused or accepted, never a crash. */
START_TEST(loader_survives_corrupt_headers)
{
	char path[4096], err[LOADER_ERR_MAX];
	size_t len;
	image_path(path, sizeof path, "386", "seed");
	uint8_t *b = slurp(path, &len), *c = malloc(len);
	uint32_t x = 12345;
	for (int round = 0; round < 3000; round++) {
		memcpy(c, b, len);
		for (int k = 0; k < 4; k++) {
			x = x * 1103515245u + 12345u;
			size_t at = (x >> 8) % 0x200;	/* ELF and program headers */
			x = x * 1103515245u + 12345u;
			c[at] = (uint8_t)(x >> 16);
		}
		struct elf_image img;
		if (elf_parse(c, len, ops_of("386"), ET_EXEC, 0, &img, err) == 0)
			elf_image_free(&img);
	}
	free(c);
	free(b);
}
END_TEST

/* --- The initial stack -------------------------------------------------------- */

static uint64_t word_at(struct guest *g, uint64_t addr)
{
	uint64_t v;
	ck_assert_msg(machine_read_word(g->mc, addr, &v) == 0, "unreadable 0x%llx", (unsigned long long)addr);
	return v;
}

static void check_stack(const char *arch, int with_vdso)
{
	const struct arch_ops *ops = ops_of(arch);
	char image[4096], vdso[4096], err[LOADER_ERR_MAX], s[64];
	image_path(image, sizeof image, arch, "seed");
	vdso_path(vdso, sizeof vdso, arch);
	const char *argv[] = { "sigstep-guest-seed", "--iterations", "7" };
	struct guest_config cfg = { .ops = ops, .image_path = image, .vdso_path = with_vdso ? vdso : NULL,
				    .argc = 3, .argv = argv };
	struct guest g;
	const char *bad;
	ck_assert_msg(guest_load(&g, &cfg, err, &bad) == 0, "%s", err);
	unsigned w = ops->word_size;
	uint64_t sp = g.initial_sp;

	ck_assert_uint_eq(sp % 16, 0);
	ck_assert_uint_eq(machine_sp(g.mc), sp);
	ck_assert_uint_eq(machine_pc(g.mc), g.image.entry);
	ck_assert_uint_eq(word_at(&g, sp), 3);
	for (int i = 0; i < 3; i++) {
		uint64_t p = word_at(&g, sp + (1 + i) * w);
		ck_assert(machine_read(g.mc, p, s, strlen(argv[i]) + 1) == 0);
		ck_assert_str_eq(s, argv[i]);
	}
	ck_assert_uint_eq(word_at(&g, sp + 4 * w), 0);	/* argv terminator */
	ck_assert_uint_eq(word_at(&g, sp + 5 * w), 0);	/* empty envp */

	uint64_t seen = 0, aux = sp + 6 * w;
	for (;; aux += 2 * w) {
		uint64_t type = word_at(&g, aux), val = word_at(&g, aux + w);
		if (type == AT_NULL)
			break;
		ck_assert_msg(type < 64 && !(seen & 1ull << type), "auxv type %llu", (unsigned long long)type);
		seen |= 1ull << type;
		switch (type) {
		case AT_PHDR: {
			/* The program headers as the file has them. */
			uint8_t file[64], mem[64];
			size_t len;
			uint8_t *b = slurp(image, &len);
			uint64_t phoff = ops->elf_class == ELFCLASS64 ? ((Elf64_Ehdr *)b)->e_phoff : ((Elf32_Ehdr *)b)->e_phoff;
			memcpy(file, b + phoff, sizeof file);
			free(b);
			ck_assert(machine_read(g.mc, val, mem, sizeof mem) == 0);
			ck_assert(memcmp(file, mem, sizeof mem) == 0);
			break;
		}
		case AT_PHENT: ck_assert_uint_eq(val, ops->elf_class == ELFCLASS64 ? 56 : 32); break;
		case AT_PHNUM: ck_assert_uint_eq(val, g.image.phnum); break;
		case AT_PAGESZ: ck_assert_uint_eq(val, 4096); break;
		case AT_ENTRY: ck_assert_uint_eq(val, g.image.entry); break;
		case AT_RANDOM: {
			uint8_t r[16];
			ck_assert(machine_read(g.mc, val, r, 16) == 0);
			for (int i = 0; i < 16; i++)
				ck_assert_uint_eq(r[i], LOADER_RANDOM_BYTE(i));
			break;
		}
		case AT_SYSINFO_EHDR: {
			ck_assert_uint_eq(val, ops->vdso_base);
			ck_assert(machine_read(g.mc, val, s, 4) == 0);
			ck_assert(memcmp(s, ELFMAG, 4) == 0);
			const struct region *vv = machine_region(g.mc, val - 4096);
			ck_assert(vv && vv->kind == REGION_VVAR && vv->end == val);
			ck_assert_int_eq(machine_region(g.mc, val)->kind, REGION_VDSO);
			break;
		}
		default:
			ck_abort_msg("unexpected auxv type %llu", (unsigned long long)type);
		}
	}
	uint64_t want = 1ull << AT_PHDR | 1ull << AT_PHENT | 1ull << AT_PHNUM | 1ull << AT_PAGESZ |
			1ull << AT_ENTRY | 1ull << AT_RANDOM | (with_vdso ? 1ull << AT_SYSINFO_EHDR : 0);
	ck_assert_uint_eq(seen, want);

	/* The stack, with a guard page right below it. */
	const struct region *st = machine_region(g.mc, sp);
	ck_assert(st && st->kind == REGION_STACK && st->end == ops->stack_top);
	const struct region *guard = machine_region(g.mc, st->begin - 1);
	ck_assert(guard && guard->kind == REGION_GUARD && guard->perms == UC_PROT_NONE);
	guest_free(&g);
}

START_TEST(stack_auxv_with_vdso)
{
	check_stack(_i == 0 ? "amd64" : _i == 1 ? "386" : "arm", 1);
}
END_TEST

START_TEST(stack_auxv_without_vdso)
{
	check_stack(_i == 0 ? "amd64" : _i == 1 ? "386" : "arm", 0);
}
END_TEST

/* --- The region table ------------------------------------------------------- */

/* The harness's table and Unicorn's own map agree page by page. */
static void check_regions_match(struct machine *mc)
{
	uc_mem_region *r;
	uint32_t n;
	ck_assert(uc_mem_regions(mc->uc, &r, &n) == UC_ERR_OK);
	for (uint32_t i = 0; i < n; i++)
		for (uint64_t a = r[i].begin; a < r[i].end; a += 4096) {
			const struct region *m = machine_region(mc, a);
			ck_assert_msg(m, "Unicorn maps 0x%llx, the table does not", (unsigned long long)a);
			ck_assert_uint_eq(m->perms, r[i].perms);
		}
	uc_free(r);
	for (size_t i = 0; i < mc->nregions; i++) {
		ck_assert(mc->regions[i].begin < mc->regions[i].end);
		if (i)
			ck_assert(mc->regions[i - 1].end <= mc->regions[i].begin);
	}
}

START_TEST(regions_split_on_protect_and_unmap)
{
	struct machine *mc = machine_create(ops_of("amd64"));
	ck_assert(mc);
	uint64_t b = 0x10000000;
	ck_assert_int_eq(machine_map(mc, b, b + 8 * 4096, UC_PROT_READ | UC_PROT_WRITE, REGION_MMAP, "m"), 0);
	ck_assert_int_eq(machine_map(mc, b + 4096, b + 2 * 4096, UC_PROT_READ, REGION_MMAP, "x"), -1);
	uint32_t v = 0x11223344;
	ck_assert_int_eq(machine_write(mc, b + 3 * 4096 - 2, &v, 4), 0);	/* spans a split-to-be */
	ck_assert_int_eq(machine_protect(mc, b + 2 * 4096, b + 5 * 4096, UC_PROT_READ), 0);
	ck_assert_uint_eq(mc->nregions, 3);
	check_regions_match(mc);
	ck_assert_int_eq(machine_copy_out(mc, b + 2 * 4096, &v, 4), -1);	/* now read-only */
	ck_assert_int_eq(machine_copy_out(mc, b + 4096, &v, 4), 0);
	ck_assert_int_eq(machine_unmap(mc, b + 4 * 4096, b + 6 * 4096), 0);
	check_regions_match(mc);
	ck_assert_ptr_null(machine_region(mc, b + 4 * 4096));
	ck_assert_int_eq(machine_protect(mc, b, b + 8 * 4096, UC_PROT_READ), -1);	/* a hole */
	uint32_t got = 0;
	ck_assert_int_eq(machine_read(mc, b + 3 * 4096 - 2, &got, 4), 0);
	ck_assert_uint_eq(got, 0x11223344);
	ck_assert_int_eq(machine_read(mc, b + 6 * 4096 - 2, &got, 4), -1);	/* runs into the hole */
	machine_destroy(mc);
}
END_TEST

/*
 * A runtime's reservation (Go's heap arena): a large PROT_NONE mmap,
 * pieces of it made accessible with mmap(MAP_FIXED) and mprotect, one
 * made PROT_NONE again, one unmapped.  No engine maps what is PROT_NONE
 * (each accessible piece is mapped at its own size), and every engine of
 * the machine -- made before the pieces or after -- sees the same thing:
 * the pieces' memory, the protection fault on a PROT_NONE page (as when
 * Unicorn mapped it PROT_NONE), the unmapped fault past the unmap.
 */
static const struct {
	const char *arch;
	const uint8_t *code; size_t code_len;	/* store arg1 to [arg0] at +0, load [arg0] to arg1 at +4 */
} tiny_access[] = {
	{ "amd64", B(0x89, 0x37, 0x90, 0x90, 0x8b, 0x37) },		/* mov %esi,(%rdi); nops; mov (%rdi),%esi */
	{ "386", B(0x89, 0x0b, 0x90, 0x90, 0x8b, 0x0b) },		/* mov %ecx,(%ebx); nops; mov (%ebx),%ecx */
	{ "arm", B(0x00, 0x10, 0x80, 0xe5, 0x00, 0x10, 0x90, 0xe5) },	/* str r1,[r0]; ldr r1,[r0] */
};

#define RESERVE_SIZE (256ull << 20)
#define PIECE_SIZE (64ull << 10)

/* One instruction of tiny_access at +at on engine e, arg0 = addr and
 * arg1 = value: 0 if it ran, else the fault's kind; *value what arg1 is after. */
static enum fault_kind access_on(struct guest *g, int e, unsigned at, uint64_t addr, uint64_t *value)
{
	struct machine *mc = g->mc;
	const struct arch_ops *ops = mc->ops;
	uc_engine *running = mc->uc;
	mc->uc = mc->engine[e];
	memset(&mc->fault, 0, sizeof mc->fault);
	machine_set_reg(mc, ops->reg_pc, TINY_BASE + TINY_CODE + at);
	machine_set_reg(mc, ops->reg_arg[0], addr);
	machine_set_reg(mc, ops->reg_arg[1], *value);
	int r = machine_run(mc, 1, 0);
	*value = machine_reg(mc, ops->reg_arg[1]);
	mc->uc = running;
	if (r && mc->fault.kind == FAULT_STOPPED)
		return FAULT_NONE;	/* the one instruction ran */
	ck_assert_msg(r, "the guest exited");
	return mc->fault.kind;
}

static enum fault_kind fetch_on(struct guest *g, int e, uint64_t addr)
{
	struct machine *mc = g->mc;
	uc_engine *running = mc->uc;
	mc->uc = mc->engine[e];
	memset(&mc->fault, 0, sizeof mc->fault);
	machine_set_reg(mc, mc->ops->reg_pc, addr);
	ck_assert_int_eq(machine_run(mc, 1, 0), 1);
	mc->uc = running;
	ck_assert_uint_eq(mc->fault.addr, addr);
	ck_assert_uint_eq(mc->fault.pc, addr);
	return mc->fault.kind;
}

static int64_t mm(struct guest *g, sys_handler *call, uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags)
{
	const uint64_t a[6] = { addr, len, prot, flags, (uint64_t)-1, 0 };
	return call(g->mc, a);
}

/* Bytes of [begin, end) that engine uc maps. */
static uint64_t engine_maps(uc_engine *uc, uint64_t begin, uint64_t end)
{
	uc_mem_region *rs;
	uint32_t n;
	uint64_t bytes = 0;
	ck_assert_int_eq(uc_mem_regions(uc, &rs, &n), UC_ERR_OK);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t lo = rs[i].begin > begin ? rs[i].begin : begin;
		uint64_t hi = rs[i].end + 1 < end ? rs[i].end + 1 : end;	/* Unicorn's end is inclusive */
		if (lo < hi)
			bytes += hi - lo;
	}
	uc_free(rs);
	return bytes;
}

/* Every engine: a store and a load in `piece` work and agree, a store, a
 * load and a fetch at `none` are protection faults, and the line says so. */
static void expect_pieces(struct guest *g, uint64_t piece, uint64_t none, uint32_t stamp)
{
	struct machine *mc = g->mc;
	char line[512];
	for (int e = 0; e < mc->nengines; e++) {
		uint64_t v = stamp + e, got = 0;
		ck_assert_int_eq(access_on(g, e, 0, piece + 8 * e, &v), FAULT_NONE);
		uint32_t host = 0;
		ck_assert_int_eq(machine_read(mc, piece + 8 * e, &host, 4), 0);
		ck_assert_uint_eq(host, stamp + e);
		for (int other = 0; other < mc->nengines; other++) {
			got = 0;
			ck_assert_int_eq(access_on(g, other, 4, piece + 8 * e, &got), FAULT_NONE);
			ck_assert_uint_eq(got, stamp + e);
		}
		v = 1;
		ck_assert_int_eq(access_on(g, e, 0, none, &v), FAULT_WRITE_PROT);
		ck_assert_uint_eq(mc->fault.addr, none);
		ck_assert_int_eq(guest_fault_line(g, line, sizeof line), 1);
		ck_assert_msg(strstr(line, "guest fault: write to protected memory (address ") && strstr(line, ", mmap)"),
			      "%s", line);
		ck_assert_int_eq(access_on(g, e, 4, none, &v), FAULT_READ_PROT);
		ck_assert_uint_eq(mc->fault.addr, none);
		ck_assert_int_eq(fetch_on(g, e, none), FAULT_FETCH_PROT);
		ck_assert_int_eq(guest_fault_line(g, line, sizeof line), 1);
		ck_assert_msg(strstr(line, "guest fault: fetch from non-executable memory (mmap) at PC"), "%s", line);
		ck_assert_int_eq(access_on(g, e, 0, 16 * 4096 - 8, &v), FAULT_WRITE_UNMAPPED);
	}
}

/* Every engine of a machine has its arch's page size (arm: 4 KB, where
 * Unicorn 2.0.1 would give 1 KB, and made 8 KB of a 4 KB request): a
 * translated block chains only to blocks of its own page. */
START_TEST(engines_have_the_arch_page_size)
{
	static const char *const names[] = { "amd64", "386", "arm" };
	const struct arch_ops *ops = ops_of(names[_i]);
	struct machine *mc = machine_create(ops);
	ck_assert_ptr_nonnull(mc);
	uc_engine *added = machine_add_engine(mc);
	ck_assert_ptr_nonnull(added);
	uc_engine *engines[] = { mc->uc, added };
	for (int e = 0; e < 2; e++) {
		size_t size = 0;
		ck_assert_int_eq(uc_query(engines[e], UC_QUERY_PAGE_SIZE, &size), UC_ERR_OK);
		ck_assert_uint_eq(size, ops->uc_page_size ? ops->uc_page_size : 4096);
	}
	machine_destroy(mc);
}
END_TEST

START_TEST(reservation_pieces_agree_in_every_engine)
{
	const struct arch_ops *ops = ops_of(tiny_access[_i].arch);
	struct guest g;
	char *path = load_tiny(ops, tiny_access[_i].code, tiny_access[_i].code_len, &g);
	struct machine *mc = g.mc;
	const uint64_t none = 0, rw = 3, priv = 0x22, fixed = 0x10;

	/* Reserved at a hint, then a piece by mmap(MAP_FIXED), one by mprotect. */
	uint64_t res = ops->mmap_base + RESERVE_SIZE;
	ck_assert_int_eq(mm(&g, sys_mmap, res, RESERVE_SIZE, none, priv), (int64_t)res);
	ck_assert(guest_add_engine(&g));	/* before the pieces */
	uint64_t a = res + (1 << 20), b = res + (2 << 20), hole = res + RESERVE_SIZE / 2;
	ck_assert_int_eq(mm(&g, sys_mmap, a, PIECE_SIZE, rw, priv | fixed), (int64_t)a);
	ck_assert_int_eq(mm(&g, sys_mprotect, b, PIECE_SIZE, rw, 0), 0);
	ck_assert(guest_add_engine(&g));	/* after them */
	ck_assert_int_eq(mc->nengines, 3);
	uc_context *ctx;
	ck_assert_int_eq(uc_context_alloc(mc->engine[0], &ctx), UC_ERR_OK);
	ck_assert_int_eq(uc_context_save(mc->engine[0], ctx), UC_ERR_OK);
	for (int e = 1; e < mc->nengines; e++)
		ck_assert_int_eq(uc_context_restore(mc->engine[e], ctx), UC_ERR_OK);
	uc_context_free(ctx);

	for (int e = 0; e < mc->nengines; e++)
		ck_assert_uint_eq(engine_maps(mc->engine[e], res, res + RESERVE_SIZE), 2 * PIECE_SIZE);
	expect_pieces(&g, a, hole, 0x5a000000);
	expect_pieces(&g, b, hole, 0x6b000000);

	/* a PROT_NONE again: a protection fault there, in every engine. */
	ck_assert_int_eq(mm(&g, sys_mprotect, a, PIECE_SIZE, none, 0), 0);
	expect_pieces(&g, b, a + 8, 0x7c000000);
	/* b unmapped: past the reservation's table entry, unmapped. */
	ck_assert_int_eq(mm(&g, sys_munmap, b, PIECE_SIZE, 0, 0), 0);
	for (int e = 0; e < mc->nengines; e++) {
		uint64_t v = 1;
		ck_assert_uint_eq(engine_maps(mc->engine[e], res, res + RESERVE_SIZE), 0);
		ck_assert_int_eq(access_on(&g, e, 0, b, &v), FAULT_WRITE_UNMAPPED);
	}
	/* a mapped again with MAP_FIXED: fresh zeros, in every engine. */
	ck_assert_int_eq(mm(&g, sys_mmap, a, PIECE_SIZE, rw, priv | fixed), (int64_t)a);
	for (int e = 0; e < mc->nengines; e++) {
		uint64_t v = 1;
		ck_assert_int_eq(access_on(&g, e, 4, a + 8 * e, &v), FAULT_NONE);
		ck_assert_uint_eq(v, 0);
	}
	expect_pieces(&g, a, hole, 0x8d000000);
	unlink(path);
	free(path);
	g.cfg.image_path = NULL;
	guest_free(&g);
}
END_TEST

/*
 * machine_set_store: a store to a page the guest has writable and the
 * engine read-only reaches the store path, in every engine, with its
 * region, address, size and value, and is made by it; one it refuses is
 * the write protection fault; a store to a page the guest has read-only
 * is the guest's fault and never reaches it.
 */
static struct {
	int calls;
	bool accept;
	const struct region *r;
	uint64_t addr, value;
	int size;
} seen_store;

static bool record_store(void *ctx, const struct region *r, uint64_t addr, int size, uint64_t value)
{
	(void)ctx;
	seen_store.calls++;
	seen_store.r = r;
	seen_store.addr = addr;
	seen_store.size = size;
	seen_store.value = value;
	if (seen_store.accept)
		memcpy(r->host + (addr - r->begin), &value, (size_t)size);
	return seen_store.accept;
}

START_TEST(stores_to_read_only_pages_go_to_the_store_path)
{
	const struct arch_ops *ops = ops_of(tiny_access[_i].arch);
	struct guest g;
	char *path = load_tiny(ops, tiny_access[_i].code, tiny_access[_i].code_len, &g);
	struct machine *mc = g.mc;
	ck_assert(guest_add_engine(&g));
	machine_set_store(mc, record_store, NULL);
	uint64_t at = machine_sp(mc) - 64;
	const struct region *stack = machine_region(mc, at);
	ck_assert(stack && (stack->perms & UC_PROT_WRITE));
	for (int e = 0; e < mc->nengines; e++) {
		ck_assert_int_eq(uc_mem_protect(mc->engine[e], stack->begin, stack->end - stack->begin,
						stack->perms & ~UC_PROT_WRITE), UC_ERR_OK);
		uint64_t v = 0x5a5a0010u + (uint64_t)e;
		seen_store.calls = 0;
		seen_store.accept = true;
		ck_assert_int_eq(access_on(&g, e, 0, at, &v), FAULT_NONE);
		ck_assert_int_eq(seen_store.calls, 1);
		ck_assert_ptr_eq(seen_store.r, stack);
		ck_assert_uint_eq(seen_store.addr, at);
		ck_assert_int_eq(seen_store.size, 4);
		ck_assert_uint_eq(seen_store.value & 0xffffffffu, 0x5a5a0010u + (uint64_t)e);
		uint32_t got = 0;
		ck_assert_int_eq(machine_read(mc, at, &got, 4), 0);
		ck_assert_uint_eq(got, 0x5a5a0010u + (uint64_t)e);

		seen_store.calls = 0;
		seen_store.accept = false;
		ck_assert_int_eq(access_on(&g, e, 0, at + 8, &v), FAULT_WRITE_PROT);
		ck_assert_int_eq(seen_store.calls, 1);

		seen_store.calls = 0;
		seen_store.accept = true;
		ck_assert_int_eq(access_on(&g, e, 0, TINY_BASE, &v), FAULT_WRITE_PROT);
		ck_assert_int_eq(seen_store.calls, 0);
		ck_assert_uint_eq(mc->fault.addr, TINY_BASE);
	}
	unlink(path);
	free(path);
	g.cfg.image_path = NULL;
	guest_free(&g);
}
END_TEST

/* --- Real guests ----------------------------------------------------------------- */

struct combo {
	const char *arch, *variant;
};

static const struct combo combos[] = {
	{ "386", "prefix" }, { "386", "seed" }, { "386", "master" },
	{ "amd64", "prefix" }, { "amd64", "seed" }, { "amd64", "master" },
	{ "arm", "prefix" }, { "arm", "seed" }, { "arm", "master" },
};
#define NCOMBOS (int)(sizeof combos / sizeof combos[0])

static int run_image(const struct combo *c, const char *const *args, int nargs, int with_vdso,
		     struct guest *g)
{
	char image[4096], vdso[4096], err[LOADER_ERR_MAX];
	const char *argv[8] = { "sigstep-guest" };
	image_path(image, sizeof image, c->arch, c->variant);
	vdso_path(vdso, sizeof vdso, c->arch);
	for (int i = 0; i < nargs; i++)
		argv[1 + i] = args[i];
	struct guest_config cfg = { .ops = ops_of(c->arch), .image_path = image,
				    .vdso_path = with_vdso ? vdso : NULL, .argc = 1 + nargs, .argv = argv };
	const char *bad;
	ck_assert_msg(guest_load(g, &cfg, err, &bad) == 0, "%s: %s", bad ? bad : "", err);
	return guest_run(g, 120);
}

static void expect_pass(const struct combo *c, struct guest *g, int r, const char *vdso_word)
{
	char line[512] = "";
	const struct outbuf *o = &g->mc->out[1];
	if (r)
		guest_fault_line(g, line, sizeof line);
	ck_assert_msg(r == 0, "%s/%s: %s", c->arch, c->variant, line);
	ck_assert_msg(g->mc->exit_status == 0, "%s/%s exit %d:\n%.*s", c->arch, c->variant,
		      g->mc->exit_status, (int)o->len, o->data);
	ck_assert_msg(o->len && memmem(o->data, o->len, "result pass 14/14\n", 18), "%.*s", (int)o->len, o->data);
	ck_assert_msg(memmem(o->data, o->len, vdso_word, strlen(vdso_word)), "%.*s", (int)o->len, o->data);
	ck_assert_msg(memmem(o->data, o->len, "clock_gettime=found", 19), "%.*s", (int)o->len, o->data);
	ck_assert_uint_eq(g->mc->out[2].len, 0);
}

/* The harness's vDSO, found through AT_SYSINFO_EHDR ("kernel" to the guest). */
START_TEST(guest_passes_with_harness_vdso)
{
	struct guest g;
	const char *args[] = { "--iterations", "200" };
	int r = run_image(&combos[_i], args, 2, 1, &g);
	expect_pass(&combos[_i], &g, r, "vdso=kernel");
	guest_free(&g);
}
END_TEST

/* No AT_SYSINFO_EHDR, as under qemu-user: the guest maps its own copy. */
START_TEST(guest_passes_without_vdso)
{
	struct guest g;
	const char *args[] = { "--iterations", "200" };
	int r = run_image(&combos[_i], args, 2, 0, &g);
	expect_pass(&combos[_i], &g, r, "vdso=synthetic");
	guest_free(&g);
}
END_TEST

/* Same inputs, byte-identical output and clock. */
START_TEST(guest_runs_are_deterministic)
{
	struct guest a, b;
	const char *args[] = { "--iterations", "50" };
	int ra = run_image(&combos[_i], args, 2, 1, &a);
	int rb = run_image(&combos[_i], args, 2, 1, &b);
	ck_assert_int_eq(ra, rb);
	ck_assert_uint_eq(a.mc->out[1].len, b.mc->out[1].len);
	ck_assert(memcmp(a.mc->out[1].data, b.mc->out[1].data, a.mc->out[1].len) == 0);
	ck_assert_uint_eq(a.mc->sys->clock_ticks, b.mc->sys->clock_ticks);
	ck_assert_uint_eq(a.mc->sys->nsyscalls, b.mc->sys->nsyscalls);
	guest_free(&a);
	guest_free(&b);
}
END_TEST

/* The vvar page the harness publishes: seq even, time = the clock's. */
START_TEST(vvar_follows_the_clock)
{
	struct guest g;
	const char *args[] = { "--iterations", "3" };
	ck_assert_int_eq(run_image(&combos[_i], args, 2, 1, &g), 0);
	uint64_t vv = g.vdso_base - 4096;
	uint32_t seq;
	int64_t sec, nsec, vsec, vnsec;
	ck_assert(machine_read(g.mc, vv + 0, &seq, 4) == 0);
	ck_assert_uint_eq(seq % 2, 0);
	ck_assert_uint_eq(seq, 2 * (g.mc->sys->clock_ticks + 1));	/* + the initial publication */
	sys_clock_now(g.mc->sys, 1, &sec, &nsec);
	ck_assert(machine_read(g.mc, vv + 40, &vsec, 8) == 0 && machine_read(g.mc, vv + 48, &vnsec, 8) == 0);
	ck_assert_int_eq(vsec, sec);
	ck_assert_int_eq(vnsec, nsec);
	ck_assert_uint_gt(g.mc->sys->clock_ticks, 4);
	guest_free(&g);
}
END_TEST

/* --- Signal delivery ------------------------------------------------------------- */

static uint64_t symbol_addr(const struct guest *g, const char *name)
{
	for (size_t i = 0; i < g->image.syms.n; i++)
		if (!strcmp(g->image.syms.v[i].name, name))
			return g->image.syms.v[i].addr;
	ck_abort_msg("no symbol %s in the guest image", name);
	return 0;
}

static void stop_here(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	(void)uc, (void)addr, (void)size;
	machine_stop(user);
}

/* Every register the interrupted code can see, per arch; 0 ends a list. */
static const struct {
	const char *arch;
	int regs[24];
} visible_regs[] = {
	{ "amd64", { UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RSI,
		     UC_X86_REG_RDI, UC_X86_REG_RBP, UC_X86_REG_RSP, UC_X86_REG_R8, UC_X86_REG_R9,
		     UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14,
		     UC_X86_REG_R15, UC_X86_REG_RIP, UC_X86_REG_EFLAGS, UC_X86_REG_FS_BASE,
		     UC_X86_REG_CS, UC_X86_REG_SS } },
	{ "386", { UC_X86_REG_EAX, UC_X86_REG_EBX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_ESI,
		   UC_X86_REG_EDI, UC_X86_REG_EBP, UC_X86_REG_ESP, UC_X86_REG_EIP, UC_X86_REG_EFLAGS,
		   UC_X86_REG_CS, UC_X86_REG_SS, UC_X86_REG_DS, UC_X86_REG_ES, UC_X86_REG_FS,
		   UC_X86_REG_GS } },
	{ "arm", { UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R4,
		   UC_ARM_REG_R5, UC_ARM_REG_R6, UC_ARM_REG_R7, UC_ARM_REG_R8, UC_ARM_REG_R9,
		   UC_ARM_REG_R10, UC_ARM_REG_R11, UC_ARM_REG_R12, UC_ARM_REG_SP, UC_ARM_REG_LR,
		   UC_ARM_REG_PC, UC_ARM_REG_CPSR } },
};

static const int *regs_of(const char *arch)
{
	for (size_t i = 0; i < sizeof visible_regs / sizeof visible_regs[0]; i++)
		if (!strcmp(visible_regs[i].arch, arch))
			return visible_regs[i].regs;
	ck_abort_msg("no register list for %s", arch);
	return NULL;
}

#define L_SIGSTEP_SAMPLE_PC0(w) (16 + 3 * (w))	/* struct sample: 4 u32, sig_pc/sp/lr, pc[] */

/*
 * A guest of combo c stopped at the first instruction of walltime (reached
 * through chain_run), with SIGPROF installed as the guest would install
 * it: rt_sigaction with arch_sigtramp / arch_sigreturn,
 * SA_SIGINFO|SA_ONSTACK|SA_RESTORER, and sigaltstack on gsignal's stack
 * ([*lo, *hi)).  Returns walltime's address.
 */
static uint64_t stop_at_walltime_with_sigprof(const struct combo *c, struct guest *gp, uint64_t *lo_out,
					      uint64_t *hi_out)
{
	char image[4096], vdso[4096], err[LOADER_ERR_MAX];
	static const char *const argv[] = { "sigstep-guest", "--iterations", "3" };
	image_path(image, sizeof image, c->arch, c->variant);
	vdso_path(vdso, sizeof vdso, c->arch);
	struct guest_config cfg = { .ops = ops_of(c->arch), .image_path = image, .vdso_path = vdso,
				    .argc = 3, .argv = argv };
	struct guest g;
	const char *bad;
	ck_assert_msg(guest_load(&g, &cfg, err, &bad) == 0, "%s: %s", bad ? bad : "", err);
	struct machine *mc = g.mc;
	unsigned w = mc->ops->word_size;

	uint64_t at = symbol_addr(&g, "walltime");
	uc_hook bp;
	ck_assert(uc_hook_add(mc->uc, &bp, UC_HOOK_CODE, (void *)stop_here, mc, at, at) == UC_ERR_OK);
	ck_assert_int_eq(machine_run(mc, 0, 60 * 1000000ull), 1);
	ck_assert_msg(mc->fault.kind == FAULT_STOPPED, "%s", fault_kind_name(mc->fault.kind));
	ck_assert_uint_eq(machine_pc(mc), at);
	mc->fault = (struct fault){ 0 };
	uc_hook_del(mc->uc, bp);

	/* struct kernel_sigaction and stack_t in a page of the guest's own,
	 * handed to the syscalls as the guest's pointers would be. */
	uint64_t mm[6] = { 0, 4096, 3 /* RW */, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, (uint64_t)-1, 0 };
	int64_t page = sys_mmap(mc, mm);
	ck_assert_int_gt(page, 0);
	uint64_t ksa = (uint64_t)page, sst = ksa + 64, gsig = symbol_addr(&g, "gsignal"), lo, hi;
	ck_assert(machine_read_word(mc, gsig, &lo) == 0 && machine_read_word(mc, gsig + w, &hi) == 0);
	ck_assert_uint_gt(hi, lo);
	ck_assert(machine_write_word(mc, ksa, symbol_addr(&g, "arch_sigtramp")) == 0);
	ck_assert(machine_write_word(mc, ksa + w, L_SA_SIGINFO | L_SA_ONSTACK | L_SA_RESTORER) == 0);
	ck_assert(machine_write_word(mc, ksa + 2 * w, symbol_addr(&g, "arch_sigreturn")) == 0);
	uint64_t none = 0;
	ck_assert(machine_write(mc, ksa + 3 * w, &none, 8) == 0);
	ck_assert(machine_write_word(mc, sst, lo) == 0 && machine_write_word(mc, sst + w, 0) == 0 &&
		  machine_write_word(mc, sst + 2 * w, hi - lo) == 0);
	uint64_t sa[6] = { L_SIGPROF, ksa, 0, 8 }, ss[6] = { sst, 0 };
	ck_assert_int_eq(sys_rt_sigaction(mc, sa), 0);
	ck_assert_int_eq(sys_sigaltstack(mc, ss), 0);
	*gp = g;
	*lo_out = lo, *hi_out = hi;
	return at;
}

/*
 * SIGPROF at the first instruction of walltime: the handler takes one
 * sample of exactly that PC on the signal stack, and rt_sigreturn gives
 * back every register; the run then goes on to pass.
 */
START_TEST(sigprof_at_walltime_entry_returns_every_register)
{
	const struct combo *c = &combos[_i];
	struct guest g;
	uint64_t lo, hi, at = stop_at_walltime_with_sigprof(c, &g, &lo, &hi);
	struct machine *mc = g.mc;
	unsigned w = mc->ops->word_size;

	const int *regs = regs_of(c->arch);
	uint64_t before[24];
	for (int i = 0; regs[i]; i++)
		before[i] = machine_reg(mc, regs[i]);
	uint64_t mask = mc->sys->sigmask, sample = symbol_addr(&g, "sigstep_sample");
	uint32_t seq0, seq1, n;
	ck_assert(machine_read(mc, sample, &seq0, 4) == 0);

	ck_assert_int_eq(engine_deliver_signal(mc, L_SIGPROF), DELIVER_OK);
	/* On gsignal's stack, with SIGPROF blocked, at the handler. */
	ck_assert_msg(machine_sp(mc) >= lo && machine_sp(mc) < hi, "sp %#llx", (unsigned long long)machine_sp(mc));
	ck_assert_uint_eq(machine_pc(mc), symbol_addr(&g, "arch_sigtramp"));
	ck_assert_uint_eq(mc->sys->sigmask, mask | 1ull << (L_SIGPROF - 1));

	enum handler_result hr = probe_run_handler(mc, 2000000);
	char line[512] = "";
	if (hr == HANDLER_FAULT)
		guest_fault_line(&g, line, sizeof line);
	ck_assert_msg(hr == HANDLER_RETURNED, "%s/%s: handler result %d %s", c->arch, c->variant, hr, line);
	ck_assert_uint_eq(mc->sys->sigmask, mask);
	for (int i = 0; regs[i]; i++)
		ck_assert_msg(machine_reg(mc, regs[i]) == before[i], "%s register #%d: %#llx, was %#llx",
			      c->arch, i, (unsigned long long)machine_reg(mc, regs[i]),
			      (unsigned long long)before[i]);

	uint64_t sig_pc, pc0;
	ck_assert(machine_read(mc, sample, &seq1, 4) == 0 && machine_read(mc, sample + 4, &n, 4) == 0);
	ck_assert(machine_read_word(mc, sample + 16, &sig_pc) == 0);
	ck_assert(machine_read_word(mc, sample + L_SIGSTEP_SAMPLE_PC0(w), &pc0) == 0);
	ck_assert_uint_eq(seq1, seq0 + 1);
	ck_assert_uint_eq(sig_pc, at);
	ck_assert_uint_ge(n, 1);
	/* Go 1.19 and the 1.21+ unwinder store a trapped pc as pc+1 and the
	 * sample says so (fixtures/sample.h). */
	uint32_t plus1 = 0;
	ck_assert(machine_read(mc, sample + L_SIGSTEP_SAMPLE_PC0(w) + 2 * 32 * w, &plus1, 4) == 0);
	ck_assert_uint_le(plus1, 1);
	ck_assert_uint_eq(pc0 - plus1, at);

	/* The interrupted run goes on as if nothing happened. */
	ck_assert_int_eq(machine_run(mc, 0, 60 * 1000000ull), 0);
	ck_assert_int_eq(mc->exit_status, 0);
	const struct outbuf *o = &mc->out[1];
	ck_assert_msg(o->len && memmem(o->data, o->len, "result pass", 11), "%.*s", (int)o->len, o->data);
	guest_free(&g);
}
END_TEST

/* Where the handler finds &uc on entry, the PC's offset in it (uc_mcontext
 * + the sigcontext's pc; the same numbers as arch/<arch>/arch.h), and the
 * stack alignment at entry: (sp + skew) % align == 0 (x86: as after a
 * call; arm: AAPCS). */
static const struct {
	const char *arch;
	int uc_reg;
	unsigned pc_off, skew, align;
} uc_pc_at[] = {
	{ "amd64", UC_X86_REG_RDX, 40 + 128, 8, 16 },
	{ "386", UC_X86_REG_ECX, 20 + 56, 4, 16 },
	{ "arm", UC_ARM_REG_R2, 20 + 72, 0, 8 },
};

/* A handler's edit of the ucontext is what rt_sigreturn restores (Go's
 * sigctxt.set_pc, used by preemption and the native runner). */
START_TEST(sigreturn_takes_the_handlers_edits)
{
	const struct combo *c = &combos[_i];
	struct guest g;
	uint64_t lo, hi, at = stop_at_walltime_with_sigprof(c, &g, &lo, &hi);
	struct machine *mc = g.mc;
	(void)at;
	ck_assert_int_eq(engine_deliver_signal(mc, L_SIGPROF), DELIVER_OK);
	size_t k = 0;
	while (strcmp(uc_pc_at[k].arch, c->arch))
		k++;
	uint64_t uc = machine_reg(mc, uc_pc_at[k].uc_reg), target = symbol_addr(&g, "nanotime");
	ck_assert_uint_eq((machine_sp(mc) + uc_pc_at[k].skew) % uc_pc_at[k].align, 0);
	ck_assert_uint_eq(uc % mc->ops->word_size, 0);
	ck_assert(uc > machine_sp(mc) && uc < hi);
	ck_assert(machine_write_word(mc, uc + uc_pc_at[k].pc_off, target) == 0);
	ck_assert_int_eq(probe_run_handler(mc, 2000000), HANDLER_RETURNED);
	ck_assert_uint_eq(machine_pc(mc), target);
	guest_free(&g);
}
END_TEST

/* The FP/SIMD registers go into the frame and come back at rt_sigreturn
 * whatever the handler left in them (a handler that uses them, as Go's
 * does, must not change the interrupted code's). */
START_TEST(sigreturn_restores_the_fp_state)
{
	const struct combo *c = &combos[_i];
	struct guest g;
	uint64_t lo, hi;
	stop_at_walltime_with_sigprof(c, &g, &lo, &hi);
	struct machine *mc = g.mc;
	int reg = !strcmp(c->arch, "arm") ? UC_ARM_REG_D8 : UC_X86_REG_XMM1;
	uint8_t want[16] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
			     0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf0, 0x0f }, junk[16], got[16] = { 0 };
	size_t n = !strcmp(c->arch, "arm") ? 8 : 16;
	memset(junk, 0x5a, sizeof junk);
	ck_assert_int_eq(uc_reg_write(mc->uc, reg, want), UC_ERR_OK);
	ck_assert_int_eq(engine_deliver_signal(mc, L_SIGPROF), DELIVER_OK);
	ck_assert_int_eq(uc_reg_write(mc->uc, reg, junk), UC_ERR_OK);	/* the handler's use */
	ck_assert_int_eq(probe_run_handler(mc, 2000000), HANDLER_RETURNED);
	ck_assert_int_eq(uc_reg_read(mc->uc, reg, got), UC_ERR_OK);
	ck_assert_msg(!memcmp(got, want, n), "%s: the FP register did not come back from the frame", c->arch);
	guest_free(&g);
}
END_TEST

/* A field of the ucontext, from &uc, that rt_sigreturn refuses when it
 * holds `bad` -- or, for a pointer, an address no region holds: the FPU
 * state pointer (x86), the VFP block's size (arm). */
static const struct {
	const char *arch;
	unsigned off, bad;
	int pointer;
} uc_refused_at[] = {
	{ "amd64", 40 + 184, 0, 1 },
	{ "386", 20 + 76, 0, 1 },
	{ "arm", 232 + 4, 1, 0 },
};

/* The handler's engine of a probe, a frame edited as `edit` says (0: the
 * PC to nanotime's entry; 1: the refused field), run with or without
 * machine.sigreturn_pc_only.  The handler's result; *pc, *sp after it. */
static enum handler_result sigreturn_of_edited_frame(const struct combo *c, int edit, int pc_only, uint64_t *pc,
						    uint64_t *sp, uint64_t *target, uint64_t *lo, uint64_t *hi)
{
	struct guest g;
	stop_at_walltime_with_sigprof(c, &g, lo, hi);
	struct machine *mc = g.mc;
	ck_assert_int_eq(engine_deliver_signal(mc, L_SIGPROF), DELIVER_OK);
	size_t k = 0, r = 0;
	while (strcmp(uc_pc_at[k].arch, c->arch))
		k++;
	while (strcmp(uc_refused_at[r].arch, c->arch))
		r++;
	uint64_t uc = machine_reg(mc, uc_pc_at[k].uc_reg);
	uint32_t bad = uc_refused_at[r].bad;
	if (uc_refused_at[r].pointer)	/* the 386 machine maps page 0 */
		for (bad = 0x1000; !machine_range_free(mc, bad, bad + 0x2000); bad += 0x100000)
			;
	*target = symbol_addr(&g, "nanotime");
	if (edit == 0)
		ck_assert(machine_write_word(mc, uc + uc_pc_at[k].pc_off, *target) == 0);
	else
		ck_assert((uc_refused_at[r].pointer ? machine_write_word(mc, uc + uc_refused_at[r].off, bad)
						    : machine_write(mc, uc + uc_refused_at[r].off, &bad, 4)) == 0);
	mc->sigreturn_pc_only = pc_only;
	enum handler_result hr = probe_run_handler(mc, 2000000);
	*pc = machine_pc(mc);
	*sp = machine_sp(mc);
	guest_free(&g);
	return hr;
}

/* rt_sigreturn for a handler whose CPU state the probe throws away
 * (machine.sigreturn_pc_only): the PC the frame holds, edits included,
 * and nothing else -- SP stays the handler's, on the signal stack -- and
 * a frame the full rt_sigreturn refuses is refused the same. */
START_TEST(sigreturn_pc_only_writes_the_pc_alone)
{
	const struct combo *c = &combos[_i];
	uint64_t pc, sp, target, lo, hi;
	ck_assert_int_eq(sigreturn_of_edited_frame(c, 0, 1, &pc, &sp, &target, &lo, &hi), HANDLER_RETURNED);
	ck_assert_uint_eq(pc, target);
	ck_assert_msg(sp >= lo && sp < hi, "%s: sp %#llx restored: more than the PC was written", c->arch,
		      (unsigned long long)sp);
	ck_assert_int_eq(sigreturn_of_edited_frame(c, 0, 0, &pc, &sp, &target, &lo, &hi), HANDLER_RETURNED);
	ck_assert_uint_eq(pc, target);
	ck_assert_msg(!(sp >= lo && sp < hi), "%s: the full rt_sigreturn left sp on the signal stack", c->arch);
	for (int pc_only = 0; pc_only < 2; pc_only++) {
		enum handler_result hr = sigreturn_of_edited_frame(c, 1, pc_only, &pc, &sp, &target, &lo, &hi);
		ck_assert_msg(hr == HANDLER_FAULT, "%s: a refused frame: handler result %d, pc %#llx (pc_only %d)",
			      c->arch, hr, (unsigned long long)pc, pc_only);
	}
}
END_TEST

/*
 * A probed sample saves the emulated kernel's state and puts it back with
 * sys_state_copy, which copies the signal tables only when their versions
 * differ: what a handler changed there (rt_sigaction, kill) is undone all
 * the same -- also when the state was put back whole to a copy older than
 * the sample's snapshot (a rewound boot's) and changed again since.
 */
static void set_sigprof_handler(struct machine *mc, uint64_t ksa, uint64_t handler)
{
	unsigned w = mc->ops->word_size;
	uint64_t none = 0, sa[6] = { L_SIGPROF, ksa, 0, 8 };
	ck_assert(machine_write_word(mc, ksa, handler) == 0 && machine_write_word(mc, ksa + w, 0) == 0 &&
		  machine_write_word(mc, ksa + 2 * w, 0) == 0 && machine_write(mc, ksa + 3 * w, &none, 8) == 0);
	ck_assert_int_eq(sys_rt_sigaction(mc, sa), 0);
}

START_TEST(sys_state_copy_undoes_every_table_change)
{
	struct guest g;
	uint64_t lo, hi;
	stop_at_walltime_with_sigprof(&combos[_i], &g, &lo, &hi);
	struct machine *mc = g.mc;
	struct sys_state *s = mc->sys, *saved = calloc(1, sizeof *saved), *older = malloc(sizeof *older);
	ck_assert(saved && older);
	uint64_t mm[6] = { 0, 4096, 3 /* RW */, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, (uint64_t)-1, 0 };
	int64_t ksa = sys_mmap(mc, mm);
	ck_assert_int_gt(ksa, 0);
	uint64_t kill[6] = { SYS_PID, L_SIGURG }, guests = s->action[L_SIGPROF].handler;

	/* A sample whose handler changes both tables. */
	sys_state_copy(saved, s);
	set_sigprof_handler(mc, (uint64_t)ksa, 1 /* SIG_IGN */);
	ck_assert_int_eq(sys_kill(mc, kill), 0);
	sys_state_copy(s, saved);
	ck_assert_uint_eq(s->action[L_SIGPROF].handler, guests);
	ck_assert_uint_eq(s->nkills, saved->nkills);
	ck_assert_uint_eq(s->kills[s->nkills], 0);

	/* The snapshot holds a later state than the one put back whole;
	 * that one changes as often as the snapshot's did. */
	*older = *s;
	set_sigprof_handler(mc, (uint64_t)ksa, 1);
	sys_state_copy(saved, s);
	*s = *older;
	set_sigprof_handler(mc, (uint64_t)ksa, 0x1234);
	sys_state_copy(saved, s);
	set_sigprof_handler(mc, (uint64_t)ksa, 1);
	sys_state_copy(s, saved);
	ck_assert_msg(s->action[L_SIGPROF].handler == 0x1234, "the sample's rt_sigaction left handler %#llx",
		      (unsigned long long)s->action[L_SIGPROF].handler);
	free(saved);
	free(older);
	guest_free(&g);
}
END_TEST

/* No handler: nothing delivered; a run that never reaches rt_sigreturn
 * within its budget says so. */
START_TEST(handler_budget_is_reported)
{
	const struct combo *c = &combos[_i];
	char image[4096], err[LOADER_ERR_MAX];
	const char *argv[] = { "sigstep-guest" };
	image_path(image, sizeof image, c->arch, c->variant);
	struct guest_config cfg = { .ops = ops_of(c->arch), .image_path = image, .argc = 1, .argv = argv };
	struct guest g;
	const char *bad;
	ck_assert_msg(guest_load(&g, &cfg, err, &bad) == 0, "%s: %s", bad ? bad : "", err);
	/* No handler: nothing delivered. */
	ck_assert_int_eq(engine_deliver_signal(g.mc, L_SIGPROF), DELIVER_IGNORED);
	/* From the entry point, 100 instructions never reach rt_sigreturn. */
	ck_assert_int_eq(probe_run_handler(g.mc, 100), HANDLER_BUDGET);
	guest_free(&g);
}
END_TEST

static Suite *engine_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *t;

	t = tcase_create("loader");
	tcase_add_test(t, loader_accepts_every_built_image);
	tcase_add_test(t, loader_rejects_foreign_arch);
	tcase_add_test(t, loader_rejects_wrong_type);
	tcase_add_test(t, loader_rejects_bad_magic_and_empty);
	tcase_add_loop_test(t, loader_rejects_every_truncation, 0, 3);
	tcase_add_test(t, loader_rejects_insane_program_headers);
	tcase_add_test(t, loader_survives_corrupt_headers);
	suite_add_tcase(s, t);

	t = tcase_create("stack");
	tcase_add_loop_test(t, stack_auxv_with_vdso, 0, 3);
	tcase_add_loop_test(t, stack_auxv_without_vdso, 0, 3);
	suite_add_tcase(s, t);

	t = tcase_create("machine");
	tcase_add_test(t, regions_split_on_protect_and_unmap);
	tcase_add_loop_test(t, reservation_pieces_agree_in_every_engine, 0, 3);
	tcase_add_loop_test(t, engines_have_the_arch_page_size, 0, 3);
	tcase_add_loop_test(t, stores_to_read_only_pages_go_to_the_store_path, 0, 3);
	tcase_add_loop_test(t, tiny_exit_group_status, 0, NTINY);
	tcase_add_loop_test(t, tiny_null_store_is_a_fault, 0, NTINY);
	tcase_add_loop_test(t, tiny_undefined_instruction_is_a_fault, 0, NTINY);
	tcase_add_loop_test(t, tiny_unsupported_syscall_stops_with_status_2, 0, NTINY);
	tcase_add_loop_test(t, tiny_futex_timeout_moves_the_clock, 0, 3);
	tcase_add_loop_test(t, tiny_futex_forever_is_a_deadlock, 0, 3);
	tcase_add_loop_test(t, tiny_loop_is_stopped_by_the_time_limit, 0, 3);
	suite_add_tcase(s, t);

	t = tcase_create("guests");
	tcase_set_timeout(t, 300);
	tcase_add_loop_test(t, guest_passes_with_harness_vdso, 0, NCOMBOS);
	tcase_add_loop_test(t, guest_passes_without_vdso, 0, NCOMBOS);
	tcase_add_loop_test(t, guest_runs_are_deterministic, 0, NCOMBOS);
	tcase_add_loop_test(t, vvar_follows_the_clock, 0, NCOMBOS);
	suite_add_tcase(s, t);

	t = tcase_create("signals");
	tcase_set_timeout(t, 300);
	tcase_add_loop_test(t, sigprof_at_walltime_entry_returns_every_register, 0, NCOMBOS);
	tcase_add_loop_test(t, sigreturn_takes_the_handlers_edits, 0, NCOMBOS);
	tcase_add_loop_test(t, sigreturn_restores_the_fp_state, 0, NCOMBOS);
	tcase_add_loop_test(t, sigreturn_pc_only_writes_the_pc_alone, 0, NCOMBOS);
	tcase_add_loop_test(t, handler_budget_is_reported, 0, NCOMBOS);
	tcase_add_loop_test(t, sys_state_copy_undoes_every_table_change, 0, 1);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(engine_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
