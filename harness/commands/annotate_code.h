/*
 * The code sigstep annotate lists: every instruction of a function as its
 * ELF file holds it (the whole symbol range, as perf annotate shows it),
 * whether the chain executed it or not.
 */
#ifndef SIGSTEP_ANNOTATE_CODE_H
#define SIGSTEP_ANNOTATE_CODE_H

#include <stddef.h>
#include <stdint.h>

#include "loader.h"

struct arch_ops;

/* One ELF file as it lies in the guest's memory (bias added). */
struct code_file {
	uint8_t *buf;
	size_t len;
	struct elf_image img;
	int ok;			/* parsed: its symbols and bytes may be read */
	/* The ELF mapping symbols ($d data, $a / $t / $x code: the ARM ELF
	 * ABI's, none on x86), sorted by address, bias added: where a
	 * function's literal pool lies. */
	struct code_mark { uint64_t addr; int data; } *marks;
	size_t nmarks;
};

/* The image (type ET_EXEC, bias 0) or the vDSO (ET_DYN at its base) at
 * path.  A file that cannot be read or parsed lists nothing (ok 0): the
 * executed instructions are still shown. */
void code_file_open(struct code_file *f, const char *path, const struct arch_ops *ops, int type, uint64_t bias);
void code_file_close(struct code_file *f);

struct code_insn {
	uint64_t pc;
	char text[64];		/* as the probe's disassembly writes it: "mov rbx, qword ptr [r14 + 0x30]" */
};

/*
 * Every instruction of the function symbol `name` of f, in address order:
 * [value, value + size), or for a symbol without a size up to the next
 * symbol (at most 4 KiB).  Disassembly sweeps the range from its start
 * and starts again at each pc of executed[0..nexec) (sorted) it would
 * step over, so that what ran is never misread; bytes that decode to no
 * instruction are one "(bad)" line per pc_quantum, and data a mapping
 * symbol marks (a literal pool) ".word 0x..." lines, as objdump shows
 * them.  The number listed
 * into *out (malloc'd, free it), 0 when f has no such symbol; -1 out of
 * memory.
 */
long code_function(const struct code_file *f, const struct arch_ops *ops, const char *name, const uint64_t *executed,
		   size_t nexec, struct code_insn **out);

#endif
