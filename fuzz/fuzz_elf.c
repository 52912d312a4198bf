/*
 * libFuzzer target: the ELF loader's parser (harness/engine/loader.c,
 * elf_parse), over arbitrary bytes, for every arch, as an executable and
 * as a shared object (the vDSO).  The first byte picks the arch and type.
 */
#include <elf.h>
#include <stddef.h>
#include <stdint.h>

#include "arch_ops.h"
#include "loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int narch = 0;
	while (arch_ops_all[narch])
		narch++;
	const struct arch_ops *ops = arch_ops_all[data[0] % narch];
	int type = (data[0] / narch) & 1 ? ET_DYN : ET_EXEC;
	struct elf_image img;
	char err[LOADER_ERR_MAX];
	if (elf_parse(data + 1, size - 1, ops, type, type == ET_DYN ? 0x7ff00000 : 0, &img, err) == 0)
		elf_image_free(&img);
	return 0;
}
