/*
 * Which arch a program is for, from its ELF header, and whether it is a
 * static executable a bare emulated process can run (no interpreter, no
 * dynamic section).
 */
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "loader.h"

int loader_program_arch(const char *path, const struct arch_ops **out, char *err)
{
	unsigned char h[64];
	FILE *f = fopen(path, "rb");
	*out = NULL;
	if (!f) {
		snprintf(err, LOADER_ERR_MAX, "cannot open");
		return -1;
	}
	size_t n = fread(h, 1, sizeof h, f);
	if (n < EI_NIDENT || memcmp(h, ELFMAG, SELFMAG)) {
		fclose(f);
		snprintf(err, LOADER_ERR_MAX, "not an ELF file");
		return -1;
	}
	if (h[EI_DATA] != ELFDATA2LSB || n < 20) {
		fclose(f);
		snprintf(err, LOADER_ERR_MAX, "not a little-endian ELF file");
		return -1;
	}
	uint16_t machine, type;
	memcpy(&type, h + 16, 2);
	memcpy(&machine, h + 18, 2);
	for (const struct arch_ops *const *a = arch_ops_all; *a; a++)
		if ((*a)->elf_class == h[EI_CLASS] && (*a)->elf_machine == machine)
			*out = *a;
	if (!*out) {
		fclose(f);
		snprintf(err, LOADER_ERR_MAX, "ELF machine %u (class %u) is none of the arches sigstep runs", machine,
			 h[EI_CLASS]);
		return -1;
	}
	if (type != ET_EXEC) {
		fclose(f);
		snprintf(err, LOADER_ERR_MAX, "not a static executable (ELF type %u; build with CGO_ENABLED=0)", type);
		return -1;
	}
	/* Program headers: PT_INTERP or PT_DYNAMIC mean a dynamic program. */
	int is64 = h[EI_CLASS] == ELFCLASS64;
	uint64_t phoff = 0;
	uint16_t phentsize, phnum;
	if (is64) {
		memcpy(&phoff, h + 32, 8);
		memcpy(&phentsize, h + 54, 2);
		memcpy(&phnum, h + 56, 2);
	} else {
		uint32_t o;
		memcpy(&o, h + 28, 4);
		phoff = o;
		memcpy(&phentsize, h + 42, 2);
		memcpy(&phnum, h + 44, 2);
	}
	for (unsigned i = 0; i < phnum; i++) {
		uint32_t ptype;
		if (fseek(f, (long)(phoff + (uint64_t)i * phentsize), SEEK_SET) || fread(&ptype, 4, 1, f) != 1) {
			fclose(f);
			snprintf(err, LOADER_ERR_MAX, "program headers outside the file");
			return -1;
		}
		if (ptype == PT_INTERP || ptype == PT_DYNAMIC) {
			fclose(f);
			snprintf(err, LOADER_ERR_MAX, "a dynamically linked program (build with CGO_ENABLED=0)");
			return -1;
		}
	}
	fclose(f);
	return 0;
}
