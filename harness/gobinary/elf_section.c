/*
 * Inflating compressed DWARF sections.  Two encodings exist:
 *
 *	SHF_COMPRESSED (the gABI; Go >= 1.19 writes it): the section starts
 *	with an Elf32_Chdr (12 bytes) or Elf64_Chdr (24 bytes): ch_type
 *	(ELFCOMPRESS_ZLIB = 1), ch_size (the inflated size), ch_addralign,
 *	then one zlib stream.
 *
 *	.zdebug_* (GNU, Go 1.11-1.18): "ZLIB", the inflated size as 8 bytes
 *	big-endian, then one zlib stream.
 *
 * The inflated size is checked against a limit before anything is
 * allocated, and the stream must produce exactly that many bytes.
 */
#include "elf_section.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint64_t rd_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static int inflate_exact(const uint8_t *src, size_t srclen, uint64_t size, uint8_t **out,
			 size_t *outlen, char *err, size_t errlen)
{
	if (size == 0 || size > ELF_SECTION_MAX_INFLATED) {
		fail(err, errlen, "compressed section claims %llu bytes inflated", (unsigned long long)size);
		return -1;
	}
	uint8_t *buf = malloc((size_t)size);
	if (!buf) {
		fail(err, errlen, "out of memory");
		return -1;
	}
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (inflateInit(&zs) != Z_OK) {
		free(buf);
		fail(err, errlen, "zlib: inflateInit failed");
		return -1;
	}
	/* zlib counts in uInt: a section is far below 4 GiB (both limits above). */
	zs.next_in = (Bytef *)src;
	zs.avail_in = (uInt)srclen;
	zs.next_out = buf;
	zs.avail_out = (uInt)size;
	int rc = inflate(&zs, Z_FINISH);
	uint64_t got = zs.total_out;
	inflateEnd(&zs);
	if (rc != Z_STREAM_END || got != size) {
		free(buf);
		fail(err, errlen, "corrupt compressed section (zlib: %s, %llu of %llu bytes)",
		     rc == Z_STREAM_END ? "size mismatch" : rc == Z_BUF_ERROR ? "truncated or longer than stated"
								       : "bad data",
		     (unsigned long long)got, (unsigned long long)size);
		return -1;
	}
	*out = buf;
	*outlen = (size_t)size;
	return 0;
}

int elf_section_contents(const uint8_t *raw, size_t len, uint64_t shflags, int is64, int zdebug,
			 uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
	if (len > UINT32_MAX) {
		fail(err, errlen, "section too large (%zu bytes)", len);
		return -1;
	}
	if (shflags & SHF_COMPRESSED) {
		size_t hdr = is64 ? sizeof(Elf64_Chdr) : sizeof(Elf32_Chdr);
		if (len < hdr) {
			fail(err, errlen, "compressed section shorter than its header");
			return -1;
		}
		uint32_t type = (uint32_t)rd_le(raw, 4);
		uint64_t size = is64 ? rd_le(raw + 8, 8) : rd_le(raw + 4, 4);
		if (type != ELFCOMPRESS_ZLIB) {
			fail(err, errlen, "unsupported section compression %u (only zlib)", type);
			return -1;
		}
		return inflate_exact(raw + hdr, len - hdr, size, out, outlen, err, errlen);
	}
	if (zdebug) {
		if (len < 12 || memcmp(raw, "ZLIB", 4)) {
			fail(err, errlen, ".zdebug section without its ZLIB header");
			return -1;
		}
		uint64_t size = 0;
		for (int i = 4; i < 12; i++)
			size = size << 8 | raw[i];
		return inflate_exact(raw + 12, len - 12, size, out, outlen, err, errlen);
	}
	*out = malloc(len ? len : 1);
	if (!*out) {
		fail(err, errlen, "out of memory");
		return -1;
	}
	memcpy(*out, raw, len);
	*outlen = len;
	return 0;
}
