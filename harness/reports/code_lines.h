/*
 * The source lines of one file's code, from the table its producer
 * wrote: a Go program's pclntab (what runtime.Caller and pprof print:
 * "runtime/sys_linux_amd64.s", 299), any other ELF file's .debug_line
 * (the guest images, the synthetic vDSO, a user's trampoline).  The
 * report writers take their lines from here, whatever the subject.
 */
#ifndef SIGSTEP_CODE_LINES_H
#define SIGSTEP_CODE_LINES_H

#include <stdint.h>

#include "dwarf_line.h"

struct gobinary;

struct code_lines {
	struct gobinary *go;		/* a Go program: its pclntab; NULL otherwise */
	struct line_table dwarf;	/* every other file: its .debug_line */
};

/* The lines of the file at path.  Never fails: a file without line
 * tables, or one its reader refuses, gives no lines (the verdicts do not
 * depend on them).  Free with code_lines_free. */
void code_lines_load(const char *path, struct code_lines *c);

/* The file and line of the instruction at pc: 1; 0 if the table has
 * none.  *file lives as long as c. */
int code_lines_find(const struct code_lines *c, uint64_t pc, const char **file, uint32_t *line);

/* Is this a Go program's table?  (Its relative names are Go's: relative
 * to GOROOT/src under -trimpath, not to sigstep's tree.) */
int code_lines_is_go(const struct code_lines *c);

void code_lines_free(struct code_lines *c);

#endif
