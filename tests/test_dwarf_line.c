/*
 * The .debug_line reader (harness/reports/dwarf_line.c): against binutils'
 * addr2line on every row of the trampolines of every built image, and
 * against hostile input -- every truncation of a real line table and
 * random corruption of it must give an error or a table, never a read
 * outside the buffer (run it under valgrind or ASan to see that too).
 */
#define _GNU_SOURCE
#include <check.h>
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf_line.h"

static const char *build_dir(void)
{
	const char *d = getenv("SIGSTEP_BUILD_DIR");
	return d ? d : "build";
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc((size_t)n);
	ck_assert(buf && fread(buf, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static const struct {
	const char *arch, *addr2line;
} arches[] = {
	{ "386", "i686-linux-gnu-addr2line" },
	{ "amd64", "addr2line" },
	{ "arm", "arm-linux-gnueabihf-addr2line" },
};

/* Every row of a trampoline_*.S, as addr2line reads it. */
START_TEST(rows_agree_with_addr2line)
{
	int i = _i;
	char image[4096], err[256];
	snprintf(image, sizeof image, "%s/guest/%s/sigstep-guest-seed", build_dir(), arches[i].arch);
	struct line_table t;
	ck_assert_msg(!line_table_load(image, &t, err, sizeof err), "%s", err);
	ck_assert_uint_gt(t.n, 100);
	size_t checked = 0;
	char want[64];
	snprintf(want, sizeof want, "arch/%s/trampoline_seed.S", arches[i].arch);
	/* every address in one addr2line run: one line of output each */
	size_t *rows = calloc(t.n, sizeof *rows), nrows = 0;
	char *args = malloc(t.n * 20 + 8192);
	ck_assert(rows && args);
	size_t alen = (size_t)snprintf(args, 8192, "%s -e %s", arches[i].addr2line, image);
	for (size_t k = 0; k < t.n; k++) {
		const struct line_row *r = &t.v[k];
		if (!r->line || strcmp(t.files[r->file], want))
			continue;
		/* one row per address only: where several are, which one a
		 * tool shows is its own choice */
		if ((k > 0 && t.v[k - 1].addr == r->addr) || (k + 1 < t.n && t.v[k + 1].addr == r->addr))
			continue;
		rows[nrows++] = k;
		alen += (size_t)sprintf(args + alen, " 0x%llx", (unsigned long long)r->addr);
	}
	strcpy(args + alen, " 2>/dev/null");
	FILE *p = popen(args, "r");
	ck_assert(p);
	char out[4096];
	for (size_t j = 0; j < nrows && fgets(out, sizeof out, p); j++) {
		const struct line_row *r = &t.v[rows[j]];
		char *colon = strrchr(out, ':');
		ck_assert_msg(colon && strstr(out, "trampoline_seed.S"), "0x%llx: addr2line says '%s'",
			      (unsigned long long)r->addr, out);
		ck_assert_msg((uint32_t)atoi(colon + 1) == r->line, "0x%llx: addr2line %s, we %s:%u",
			      (unsigned long long)r->addr, out, t.files[r->file], r->line);
		const char *file;
		uint32_t line;
		ck_assert(line_table_find(&t, r->addr, &file, &line) && line == r->line);
		checked++;
	}
	pclose(p);
	ck_assert_uint_eq(checked, nrows);
	free(rows);
	free(args);
	ck_assert_uint_gt(checked, 20);
	line_table_free(&t);
}
END_TEST

/* Where .debug_line lies in an ELF64 file (the amd64 image). */
static void debug_line_extent(const uint8_t *buf, size_t len, size_t *off, size_t *size)
{
	Elf64_Ehdr eh;
	memcpy(&eh, buf, sizeof eh);
	Elf64_Shdr strs;
	memcpy(&strs, buf + eh.e_shoff + (size_t)eh.e_shstrndx * eh.e_shentsize, sizeof strs);
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;
		memcpy(&sh, buf + eh.e_shoff + (size_t)i * eh.e_shentsize, sizeof sh);
		if (!strcmp((const char *)buf + strs.sh_offset + sh.sh_name, ".debug_line")) {
			*off = sh.sh_offset;
			*size = sh.sh_size;
			ck_assert(*off + *size <= len);
			return;
		}
	}
	ck_abort_msg("no .debug_line");
}

/* A parsed table is consistent: every row's file exists, lookups land.
 * (Plain tests, one assertion: Check reports every assertion to its
 * parent process, too slow for every row of hundreds of tables.) */
static void consistent(const struct line_table *t)
{
	size_t bad = 0;
	for (size_t k = 0; k < t->n; k++) {
		bad += t->v[k].file >= t->nfiles;
		bad += k > 0 && t->v[k - 1].addr > t->v[k].addr;
		const char *f;
		uint32_t l;
		if (line_table_find(t, t->v[k].addr, &f, &l))
			bad += !f || l == 0;
	}
	ck_assert_uint_eq(bad, 0);
}

START_TEST(hostile_line_tables_are_refused_not_overread)
{
	char image[4096], err[256];
	snprintf(image, sizeof image, "%s/guest/amd64/sigstep-guest-seed", build_dir());
	size_t len, off, size;
	uint8_t *orig = slurp(image, &len);
	debug_line_extent(orig, len, &off, &size);
	struct line_table t;

	/* The section cut short at 300 places: its header's size says so,
	 * and a read past it is a read into the next section's bytes. */
	int refused = 0, parsed = 0;
	for (size_t cut = 0; cut < size; cut += size / 300 + 1) {
		uint8_t *b = malloc(len);
		memcpy(b, orig, len);
		/* the section header's size shrinks to `cut` */
		Elf64_Ehdr eh;
		memcpy(&eh, b, sizeof eh);
		for (unsigned i = 0; i < eh.e_shnum; i++) {
			Elf64_Shdr sh;
			memcpy(&sh, b + eh.e_shoff + (size_t)i * eh.e_shentsize, sizeof sh);
			if (sh.sh_offset == off && sh.sh_size == size) {
				sh.sh_size = cut;
				memcpy(b + eh.e_shoff + (size_t)i * eh.e_shentsize, &sh, sizeof sh);
			}
		}
		if (line_table_parse(b, len, &t, err, sizeof err)) {
			refused++;
		} else {
			consistent(&t);
			parsed++;
			line_table_free(&t);
		}
		free(b);
	}
	ck_assert_int_gt(refused, 0);

	/* Random bytes over the section, 1000 times, a few bytes each. */
	srand(20180611);
	uint8_t *b = malloc(len);
	for (int trial = 0; trial < 1000; trial++) {
		memcpy(b, orig, len);
		int flips = 1 + rand() % 8;
		for (int f = 0; f < flips; f++)
			b[off + (size_t)rand() % size] = (uint8_t)rand();
		if (!line_table_parse(b, len, &t, err, sizeof err)) {
			consistent(&t);
			line_table_free(&t);
		}
	}
	/* The whole file truncated: section headers past its end. */
	ck_assert_int_ne(line_table_parse(orig, len / 2, &t, err, sizeof err) == 0 && t.n > 0, 1);
	line_table_free(&t);
	/* Not ELF at all. */
	ck_assert_int_eq(line_table_parse((const uint8_t *)"hello", 5, &t, err, sizeof err), -1);
	ck_assert_str_eq(err, "not an ELF file");
	free(b);
	free(orig);
	(void)parsed;
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dwarf_line");
	TCase *t = tcase_create("core");
	tcase_set_timeout(t, 120);
	tcase_add_loop_test(t, rows_agree_with_addr2line, 0, 3);
	tcase_add_test(t, hostile_line_tables_are_refused_not_overread);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
