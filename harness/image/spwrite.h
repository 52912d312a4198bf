/*
 * Go's SPWRITE flag, derived after the link from a guest image's own
 * machine code and written into the image's table
 * (fixtures/spwrite_table.h).
 *
 * Every function with a frame table (an FDE in .eh_frame: the guest's
 * "Go functions", as a _func is in Go) is decoded with capstone; the
 * arch's sp_write (arch_ops.h: Go's assembler rule for that arch) says
 * what each instruction does to SP, and a function with one untracked
 * SP write is SPWRITE.  On ARM the ELF mapping symbols ($d) mark the
 * literal pools, which are data, not code.
 */
#ifndef SIGSTEP_SPWRITE_H
#define SIGSTEP_SPWRITE_H

#include <stddef.h>
#include <stdio.h>

/*
 * Fills the SPWRITE table of the image at path, in place.  `explain`, if
 * not NULL, gets one line per flagged function naming its first untracked
 * SP write ("spwrite nanotime+0x4f movq 0x38(%rdx), %rsp"), in address
 * order.  0, or -1 with one line in err (corrupt ELF, no table, too many
 * functions, unwritable file).
 */
int spwrite_fill(const char *path, FILE *explain, char *err, size_t errlen);

/* 1 if the image at path has a filled table, 0 if not, -1 with err set
 * if it cannot be read or has no table at all. */
int spwrite_is_filled(const char *path, char *err, size_t errlen);

#endif
