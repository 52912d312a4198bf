/*
 * libFuzzer target: the real-Go readers (harness/gobinary/: the ELF
 * sections, the pclntab, the DWARF of runtime's types) over arbitrary
 * bytes, through gobinary_open_bytes, then every function of a pclntab
 * that opened, its pc/sp and line tables walked.
 */
#include <stdint.h>
#include <stdlib.h>

#include "gobinary.h"
#include "pclntab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gobinary *gb;
	char err[256];
	if (gobinary_open_bytes("input", data, size, &gb, err, sizeof err))
		return 0;
	const struct pclntab *t = gobinary_pclntab(gb);
	struct go_func fn;
	for (size_t i = 0; t && i < 64 && pclntab_func_index(t, i, &fn) == 0; i++) {
		int64_t d;
		pclntab_spdelta(t, &fn, fn.entry, &d);
	}
	char buf[128];
	gobinary_symbolize(gb, 0x401000, buf, sizeof buf);
	gobinary_close(gb);
	return 0;
}
