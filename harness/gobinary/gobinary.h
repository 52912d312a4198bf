/*
 * A Go program handed to sigstep, read from its file: a static ELF
 * executable for an arch sigstep knows, with Go's pclntab (function
 * names, frame sizes, flags), its symbol table, runtime.buildVersion and
 * the DWARF struct offsets of runtime.g and runtime.m.
 *
 * The file is untrusted.  gobinary_open checks everything the other
 * functions rely on; each refusal is one line naming the file and the
 * problem ("PROGRAM: not a static executable (has PT_INTERP)"), and the
 * caller prints it as is and exits 2.
 */
#ifndef SIGSTEP_GOBINARY_H
#define SIGSTEP_GOBINARY_H

#include <stddef.h>
#include <stdint.h>

#include "arch_ops.h"
#include "dwarf_info.h"
#include "pclntab.h"

#define GOBINARY_MAX_FILE (512u << 20)	/* larger files are refused */
#define GOBINARY_ERR_MAX 512

struct gobinary;

/* 0, or 2 with one line in err ("PATH: problem").  A file whose bytes are
 * those of the last program opened gets that program's parse again (each
 * open still wants its gobinary_close). */
int gobinary_open(const char *path, struct gobinary **out, char *err, size_t errlen);
/* The same from bytes in memory (copied); name stands for the path in
 * messages. */
int gobinary_open_bytes(const char *name, const uint8_t *buf, size_t len, struct gobinary **out,
			char *err, size_t errlen);
void gobinary_close(struct gobinary *gb);

const struct arch_ops *gobinary_arch(const struct gobinary *gb);
const char *gobinary_version(const struct gobinary *gb);	/* "go1.19.8" */
const struct pclntab *gobinary_pclntab(const struct gobinary *gb);
const struct go_layout *gobinary_layout(const struct gobinary *gb);
const struct dwarf_info *gobinary_dwarf(const struct gobinary *gb);

uint64_t gobinary_entry(const struct gobinary *gb);		/* e_entry */
uint64_t gobinary_text_start(const struct gobinary *gb);	/* runtime.text */
uint64_t gobinary_etext(const struct gobinary *gb);		/* runtime.etext */

/* The whole file (for a loader that maps its PT_LOADs). */
const uint8_t *gobinary_file(const struct gobinary *gb, size_t *len);
/* The file bytes the image holds at [vaddr, vaddr+len): NULL unless they
 * lie inside one PT_LOAD's file-backed part. */
const uint8_t *gobinary_read(const struct gobinary *gb, uint64_t vaddr, size_t len);

/* An ELF symbol by name: 0 found (addr, size set; either may be NULL),
 * -1 not. */
int gobinary_symbol(const struct gobinary *gb, const char *name, uint64_t *addr, uint64_t *size);
/* The ELF symbol covering addr ([value, value+size), or the nearest below
 * for size 0): its name and addr - value.  NULL if none. */
const char *gobinary_symbol_at(const struct gobinary *gb, uint64_t addr, uint64_t *off);
/*
 * "runtime.nanotime1+0x1c" for pc, from the pclntab (the runtime's own
 * names), else from the ELF symbols; "0x..." if neither covers it.
 * 0 if named, -1 if not (buf still gets the hex form).
 */
int gobinary_symbolize(const struct gobinary *gb, uint64_t pc, char *buf, size_t len);

#endif
