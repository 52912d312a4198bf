/*
 * Go 1.18+ pclntab reader.  Read top to bottom: the header, the regions it
 * points at, the function table, one _func, the pc-value tables.
 *
 * Layout (cmd/link/internal/ld/pcln.go, runtime/symtab.go pcHeader):
 *
 *	header    magic u32, pad u8 u8, minLC u8, ptrSize u8, then ptrSize-byte
 *	          words: nfunc, nfiles, textStart, and the offsets (from the
 *	          header) of funcnametab, cutab, filetab, pctab, pclntab
 *	funcnametab  NUL-terminated names, indexed by _func.nameoff
 *	cutab     u32 per (compilation unit, file): offset into filetab
 *	filetab   NUL-terminated file names
 *	pctab     the pc-value tables, indexed by _func.pcsp/pcfile/pcln
 *	pclntab   functab: nfunc+1 pairs (entryoff u32, funcoff u32) sorted by
 *	          entry, the last one's entryoff the end of the text; then the
 *	          _func records at funcoff (offsets from the start of pclntab)
 */
#include "pclntab.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A byte range of the table: [off, off+len) inside data. */
struct region {
	size_t off, len;
};

struct pclntab {
	const uint8_t *data;
	size_t len;
	uint32_t magic;
	unsigned quantum, ptrsize;
	uint64_t nfunc, text_start;
	struct region funcname, cu, file, pc, pcln;
	size_t func_size;		/* bytes of one _func record */
	size_t funcid_off;		/* where funcID sits in it (flag follows) */
};

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rdword(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = size; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* [off, off+n) lies inside region r. */
static int in_region(const struct region *r, uint64_t off, uint64_t n)
{
	return off <= r->len && n <= r->len - off;
}

/* The NUL-terminated string at off in region r, NULL if it runs out. */
static const char *region_string(const struct pclntab *t, const struct region *r, uint64_t off)
{
	if (off >= r->len)
		return NULL;
	const uint8_t *s = t->data + r->off + off;
	if (!memchr(s, 0, r->len - off))
		return NULL;
	return (const char *)s;
}

int pclntab_open(const uint8_t *data, size_t len, unsigned word_size, unsigned pc_quantum,
		 struct pclntab **out, char *err, size_t errlen)
{
	struct pclntab t = { .data = data, .len = len };

	*out = NULL;
	if (len < 8) {
		fail(err, errlen, "pclntab too short (%zu bytes)", len);
		return 2;
	}
	t.magic = rd32(data);
	if (t.magic == PCLNTAB_MAGIC_GO118) {
		t.func_size = 40;
		t.funcid_off = 36;
	} else if (t.magic == PCLNTAB_MAGIC_GO120) {
		t.func_size = 44;	/* startLine int32 after cuOffset */
		t.funcid_off = 40;
	} else {
		fail(err, errlen, "unsupported pclntab version 0x%08x (Go 1.18 or later is needed)", t.magic);
		return 2;
	}
	if (data[4] || data[5]) {
		fail(err, errlen, "malformed pclntab header (nonzero padding)");
		return 2;
	}
	t.quantum = data[6];
	t.ptrsize = data[7];
	if (t.ptrsize != word_size || t.quantum != pc_quantum) {
		fail(err, errlen, "pclntab is for pointer size %u / instruction size %u, the ELF header's arch has %u / %u",
		     t.ptrsize, t.quantum, word_size, pc_quantum);
		return 2;
	}
	size_t hdr = 8 + 8 * (size_t)t.ptrsize;
	if (len < hdr) {
		fail(err, errlen, "pclntab truncated in its header");
		return 2;
	}
	uint64_t w[8];
	for (int i = 0; i < 8; i++)
		w[i] = rdword(data + 8 + (size_t)i * t.ptrsize, t.ptrsize);
	t.nfunc = w[0];
	t.text_start = w[2];

	/* The linker writes the regions in this order; each ends where the
	 * next begins, the last at the end of the table. */
	uint64_t offs[6] = { w[3], w[4], w[5], w[6], w[7], len };
	struct region *regs[5] = { &t.funcname, &t.cu, &t.file, &t.pc, &t.pcln };
	for (int i = 0; i < 5; i++) {
		if (offs[i] < hdr || offs[i] > offs[i + 1] || offs[i + 1] > len) {
			fail(err, errlen, "malformed pclntab header (region %d at 0x%llx is outside the table or out of order)",
			     i, (unsigned long long)offs[i]);
			return 2;
		}
		regs[i]->off = offs[i];
		regs[i]->len = offs[i + 1] - offs[i];
	}

	/* The function table: nfunc+1 pairs, entries ascending. */
	if (t.nfunc == 0 || t.nfunc > t.pcln.len / 8 || !in_region(&t.pcln, 0, (t.nfunc + 1) * 8)) {
		fail(err, errlen, "malformed pclntab (function table of %llu entries does not fit)",
		     (unsigned long long)t.nfunc);
		return 2;
	}
	const uint8_t *ft = data + t.pcln.off;
	for (uint64_t i = 0; i < t.nfunc; i++)
		if (rd32(ft + i * 8) >= rd32(ft + (i + 1) * 8)) {
			fail(err, errlen, "malformed pclntab (function table not sorted at entry %llu)",
			     (unsigned long long)i);
			return 2;
		}

	*out = malloc(sizeof t);
	if (!*out) {
		fail(err, errlen, "out of memory");
		return 2;
	}
	**out = t;
	return 0;
}

void pclntab_close(struct pclntab *t)
{
	free(t);
}

uint32_t pclntab_magic(const struct pclntab *t)
{
	return t->magic;
}

uint64_t pclntab_text_start(const struct pclntab *t)
{
	return t->text_start;
}

size_t pclntab_nfunc(const struct pclntab *t)
{
	return (size_t)t->nfunc;
}

int pclntab_func_index(const struct pclntab *t, size_t i, struct go_func *f)
{
	if (i >= t->nfunc)
		return -1;
	const uint8_t *ft = t->data + t->pcln.off + i * 8;
	uint32_t entryoff = rd32(ft), funcoff = rd32(ft + 4), endoff = rd32(ft + 8);
	if (!in_region(&t->pcln, funcoff, t->func_size))
		return -1;
	const uint8_t *fn = t->data + t->pcln.off + funcoff;
	if (rd32(fn) != entryoff)	/* the runtime's moduledataverify checks this too */
		return -1;
	const char *name = region_string(t, &t->funcname, (uint32_t)rd32(fn + 4));
	if (!name)
		return -1;
	*f = (struct go_func){
		.entry = t->text_start + entryoff,
		.end = t->text_start + endoff,
		.name = name,
		.args = (int32_t)rd32(fn + 8),
		.pcsp_ = rd32(fn + 16),
		.pcfile_ = rd32(fn + 20),
		.pcln_ = rd32(fn + 24),
		.cu_ = rd32(fn + 32),
		.funcid = fn[t->funcid_off],
		.flag = fn[t->funcid_off + 1],
	};
	return 0;
}

int pclntab_func_at(const struct pclntab *t, uint64_t pc, struct go_func *f)
{
	if (pc < t->text_start)
		return -1;
	uint64_t off = pc - t->text_start;
	const uint8_t *ft = t->data + t->pcln.off;
	/* The last i with entry(i) <= off; entries are sorted (checked at open). */
	size_t lo = 0, hi = (size_t)t->nfunc;	/* answer in [lo, hi) */
	if (off < rd32(ft) || off >= rd32(ft + t->nfunc * 8))
		return -1;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (rd32(ft + mid * 8) <= off)
			lo = mid;
		else
			hi = mid;
	}
	return pclntab_func_index(t, lo, f);
}

int pclntab_func_named(const struct pclntab *t, const char *name, struct go_func *f)
{
	struct go_func first;
	int found = 0;

	for (size_t i = 0; i < t->nfunc; i++) {
		if (pclntab_func_index(t, i, f) || strcmp(f->name, name))
			continue;
		if (f->funcid != GO_FUNCID_WRAPPER)
			return 0;
		if (!found++)
			first = *f;
	}
	if (found)
		*f = first;
	return found ? 0 : -1;
}

/* One unsigned LEB128 of at most 32 bits at *p in [*p, end); -1 if it runs
 * out or is too long. */
static int read_uvarint(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
	uint32_t x = 0;

	for (unsigned shift = 0; shift < 35; shift += 7) {
		if (*p >= end)
			return -1;
		uint8_t b = *(*p)++;
		x |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

/*
 * Walks the pc-value table at pctab offset `off` for f, as the runtime's
 * pcvalue/step do: the value starts at -1 and the pc at f's entry; each
 * step adds a zig-zag value delta and then a pc delta times the
 * instruction size; a zero value delta after the first step ends it.
 * With `ranges`, records every run; with `target`, stops at the run
 * holding it.  Returns the number of runs, or -1 if the table is absent
 * or malformed (or does not reach target).
 */
static int pcvalue_walk(const struct pclntab *t, const struct go_func *f, uint32_t off,
			const uint64_t *target, int64_t *value, struct pc_range *ranges, size_t max)
{
	if (off == 0 || off >= t->pc.len)
		return -1;
	const uint8_t *p = t->data + t->pc.off + off, *end = t->data + t->pc.off + t->pc.len;
	uint64_t pc = f->entry;
	int32_t val = -1;
	int n = 0;

	for (int first = 1;; first = 0) {
		uint32_t vdelta, pcdelta;
		if (p >= end)
			return -1;
		if (*p == 0 && !first)
			break;
		if (read_uvarint(&p, end, &vdelta) || read_uvarint(&p, end, &pcdelta))
			return -1;
		val += (int32_t)(-(vdelta & 1) ^ (vdelta >> 1));
		uint64_t next = pc + (uint64_t)pcdelta * t->quantum;
		if (next > f->end)	/* a run past the function's end: not a table of f */
			return -1;
		if (ranges && (size_t)n < max)
			ranges[n] = (struct pc_range){ .lo = pc, .hi = next, .value = val };
		n++;
		if (target && *target >= pc && *target < next) {
			*value = val;
			return n;
		}
		pc = next;	/* each run takes at least two bytes: the walk ends */
	}
	return target ? -1 : n;
}

int pclntab_spdelta(const struct pclntab *t, const struct go_func *f, uint64_t pc, int64_t *delta)
{
	if (pc < f->entry || pc >= f->end)
		return -1;
	return pcvalue_walk(t, f, f->pcsp_, &pc, delta, NULL, 0) < 0 ? -1 : 0;
}

int pclntab_pcsp_ranges(const struct pclntab *t, const struct go_func *f,
			struct pc_range *out, size_t max)
{
	return pcvalue_walk(t, f, f->pcsp_, NULL, NULL, out, max);
}

int pclntab_line(const struct pclntab *t, const struct go_func *f, uint64_t pc,
		 const char **file, int64_t *line)
{
	int64_t fileno, ln;

	if (pc < f->entry || pc >= f->end)
		return -1;
	if (pcvalue_walk(t, f, f->pcfile_, &pc, &fileno, NULL, 0) < 0 ||
	    pcvalue_walk(t, f, f->pcln_, &pc, &ln, NULL, 0) < 0 || fileno < 0)
		return -1;
	/* funcfile: cutab[cuOffset + fileno] is the file's offset in filetab. */
	uint64_t idx = (uint64_t)f->cu_ + (uint64_t)fileno;
	if (idx > SIZE_MAX / 4 || !in_region(&t->cu, idx * 4, 4))
		return -1;
	uint32_t fileoff = rd32(t->data + t->cu.off + idx * 4);
	const char *name = fileoff == UINT32_MAX ? NULL : region_string(t, &t->file, fileoff);
	if (!name)
		return -1;
	*file = name;
	*line = ln;
	return 0;
}
