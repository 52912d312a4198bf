/*
 * The source line of an address: the line-number programs of an ELF
 * file's .debug_line (DWARF 2 to 5, 32- and 64-bit units), run into one
 * table sorted by address.  The file is untrusted: every read is held to
 * the bytes it has, and anything malformed is an error, never a crash.
 */
#ifndef SIGSTEP_DWARF_LINE_H
#define SIGSTEP_DWARF_LINE_H

#include <stddef.h>
#include <stdint.h>

struct line_row {
	uint64_t addr;
	uint32_t line;		/* 0: the end of a sequence (no line from here) */
	uint32_t file;		/* index into line_table.files */
};

struct line_table {
	struct line_row *v;
	size_t n;
	char **files;		/* "arch/amd64/trampoline_seed.S", as the compiler named it */
	size_t nfiles;
};

/* From an ELF file held in buf.  0 (no .debug_line: an empty table);
 * -1 with err saying what is wrong.  Free with line_table_free. */
int line_table_parse(const uint8_t *buf, size_t len, struct line_table *t, char *err, size_t errlen);

/* The same for the file at path. */
int line_table_load(const char *path, struct line_table *t, char *err, size_t errlen);

/* The file and line holding addr: 1; 0 if no row covers it. */
int line_table_find(const struct line_table *t, uint64_t addr, const char **file, uint32_t *line);

void line_table_free(struct line_table *t);

#endif
