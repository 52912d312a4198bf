/*
 * An ELF section's contents as a reader wants them: compressed DWARF
 * (SHF_COMPRESSED with an Elf_Chdr, Go >= 1.19, or the older `.zdebug_*`
 * "ZLIB" + big-endian size header) inflated with zlib, anything else as is.
 */
#ifndef SIGSTEP_ELF_SECTION_H
#define SIGSTEP_ELF_SECTION_H

#include <stddef.h>
#include <stdint.h>

#define ELF_SECTION_MAX_INFLATED (256u << 20)	/* refuse to inflate more than this */

/*
 * raw[0, len): the section's bytes in the file; shflags its sh_flags;
 * is64 the file's class; zdebug nonzero for a `.zdebug_*` section.
 * *out gets a malloc'd copy of the contents (free it), *outlen its size.
 * 0, or -1 with one line in err.
 */
int elf_section_contents(const uint8_t *raw, size_t len, uint64_t shflags, int is64, int zdebug,
			 uint8_t **out, size_t *outlen, char *err, size_t errlen);

#endif
