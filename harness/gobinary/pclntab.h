/*
 * Go's pclntab, the runtime's own table of functions, as the Go 1.18+
 * linker writes it (cmd/link/internal/ld/pcln.go) and the runtime reads it
 * (runtime/symtab.go): a header, the function table (entry offset, _func
 * offset pairs, sorted), each function's _func record (runtime2.go), the
 * name table, and the pc-value tables (pcsp, pcfile, pcln) in
 * Go's varint encoding.
 *
 * Supported: magic 0xfffffff0 (Go 1.18, 1.19) and 0xfffffff1 (Go 1.20+,
 * whose _func has startLine).  Anything else is refused with one line
 * ("unsupported pclntab version 0x...").
 *
 * The table is untrusted: every offset read from it is checked against the
 * bytes it was opened on; a lookup that would read outside them fails.
 */
#ifndef SIGSTEP_PCLNTAB_H
#define SIGSTEP_PCLNTAB_H

#include <stddef.h>
#include <stdint.h>

struct pclntab;

/* runtime.funcFlag (runtime/symtab.go). */
#define GO_FUNCFLAG_TOPFRAME 1	/* traceback stops here: the stack is complete */
#define GO_FUNCFLAG_SPWRITE 2	/* writes SP other than by a tracked adjustment */
#define GO_FUNCFLAG_ASM 4	/* written in assembly */

#define PCLNTAB_MAGIC_GO118 0xfffffff0u	/* Go 1.18, 1.19 */
#define PCLNTAB_MAGIC_GO120 0xfffffff1u	/* Go 1.20 and later */

/* One function, as the runtime's funcInfo shows it. */
struct go_func {
	uint64_t entry, end;	/* [entry, end): end is the next function's entry */
	const char *name;	/* NUL-terminated, inside the table's bytes */
	uint8_t funcid, flag;	/* runtime.funcID, GO_FUNCFLAG_* */
	int32_t args;		/* in/out argument bytes */
	/* private: where its _func and pc-value tables are */
	uint32_t pcsp_, pcfile_, pcln_, cu_;
};

/* One run of a pc-value table: value holds for every pc in [lo, hi). */
struct pc_range {
	uint64_t lo, hi;
	int64_t value;
};

/*
 * Opens the pclntab in data[0, len) (the bytes of .gopclntab, or from
 * runtime.pclntab to runtime.epclntab).  word_size and pc_quantum are the
 * arch's (the header must agree).  0, or 2 with one line in err.  data
 * must outlive the table.
 */
int pclntab_open(const uint8_t *data, size_t len, unsigned word_size, unsigned pc_quantum,
		 struct pclntab **out, char *err, size_t errlen);
void pclntab_close(struct pclntab *t);

uint32_t pclntab_magic(const struct pclntab *t);
uint64_t pclntab_text_start(const struct pclntab *t);	/* the header's textStart */
size_t pclntab_nfunc(const struct pclntab *t);

/* The i-th function in address order.  0, or -1 if i is out of range or
 * its record is malformed. */
int pclntab_func_index(const struct pclntab *t, size_t i, struct go_func *f);
/* The function whose [entry, end) holds pc.  0 found, -1 not. */
int pclntab_func_at(const struct pclntab *t, uint64_t pc, struct go_func *f);
/* The function named name.  0 found, -1 not. */
int pclntab_func_named(const struct pclntab *t, const char *name, struct go_func *f);

/* funcspdelta: the bytes the function has pushed at pc.  0, or -1 if pc is
 * outside f or its table is missing or malformed. */
int pclntab_spdelta(const struct pclntab *t, const struct go_func *f, uint64_t pc, int64_t *delta);
/* funcline1: file and line of pc.  0, or -1 as above. */
int pclntab_line(const struct pclntab *t, const struct go_func *f, uint64_t pc,
		 const char **file, int64_t *line);
/* f's whole pcsp table as ranges, in pc order.  The number of ranges (at
 * most max are stored), or -1 if the table is missing or malformed. */
int pclntab_pcsp_ranges(const struct pclntab *t, const struct go_func *f,
			struct pc_range *out, size_t max);

#endif
