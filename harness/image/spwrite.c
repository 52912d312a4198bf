#include "spwrite.h"

#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch_ops.h"

#define TABLE_SYMBOL "sigstep_spwrite_table"
#define TABLE_MAGIC 0x54575053u	/* fixtures/spwrite_table.h: SPWRITE_MAGIC */
#define TABLE_MAX 64		/* fixtures/spwrite_table.h: SPWRITE_MAX */
#define MAX_FUNCS 256
#define MAX_DATA 512		/* ARM mapping-symbol ranges */

struct section {
	const char *name;
	uint32_t type;
	uint64_t addr, offset, size, link, entsize;
};

struct func {
	uint64_t entry, end;
	const char *name;	/* from .symtab, "" if none */
	/* its CFI: the CIE's initial instructions, then the FDE's */
	const uint8_t *cie_ins, *cie_end, *fde_ins, *fde_end;
	uint64_t code_align;
	int64_t data_align;
};

/* The CFA rule from one pc on: CFA = reg + offset (known 0: not that form). */
struct cfa_row {
	uint64_t loc;
	uint64_t reg;
	int64_t offset;
	int known;
};
#define MAX_ROWS 512

struct image {
	uint8_t *buf;
	size_t len;
	int is64;
	const struct arch_ops *ops;
	struct section *sec;
	unsigned nsec;
	const struct section *symtab, *strtab;
	uint64_t table_addr, table_size;
	struct func fn[MAX_FUNCS];
	unsigned nfn;
	uint64_t data_lo[MAX_DATA], data_hi[MAX_DATA];	/* [lo, hi): data in code */
	unsigned ndata;
};

static int fail(char *err, size_t errlen, const char *path, const char *what)
{
	snprintf(err, errlen, "%s: %s", path, what);
	return -1;
}

static uint64_t rd(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	memcpy(&v, p, n);	/* little-endian host and guests */
	return v;
}

static int in_file(const struct image *im, uint64_t off, uint64_t n)
{
	return off <= im->len && n <= im->len - off;
}

static int read_file(const char *path, struct image *im, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	size_t cap = 1 << 16, n = 0;
	uint8_t *b = malloc(cap);
	for (;;) {
		if (!b) {
			fclose(f);
			return fail(err, errlen, path, "out of memory");
		}
		n += fread(b + n, 1, cap - n, f);
		if (n < cap)
			break;
		uint8_t *nb = realloc(b, cap *= 2);
		if (!nb)
			free(b);
		b = nb;
	}
	fclose(f);
	im->buf = b;
	im->len = n;
	return 0;
}

/* The ELF header's arch and the section headers. */
static int parse_sections(const char *path, struct image *im, char *err, size_t errlen)
{
	const uint8_t *b = im->buf;
	if (im->len < EI_NIDENT || memcmp(b, ELFMAG, SELFMAG))
		return fail(err, errlen, path, "not an ELF file");
	im->is64 = b[EI_CLASS] == ELFCLASS64;
	if (!im->is64 && b[EI_CLASS] != ELFCLASS32)
		return fail(err, errlen, path, "unknown ELF class");
	size_t ehsize = im->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	if (im->len < ehsize)
		return fail(err, errlen, path, "truncated ELF header");
	uint16_t machine = (uint16_t)rd(b + 18, 2);
	for (const struct arch_ops *const *o = arch_ops_all; *o; o++)
		if ((*o)->elf_machine == machine && (*o)->elf_class == b[EI_CLASS])
			im->ops = *o;
	if (!im->ops || !im->ops->sp_write)
		return fail(err, errlen, path, "not an image of a known architecture");
	uint64_t shoff = im->is64 ? rd(b + 0x28, 8) : rd(b + 0x20, 4);
	unsigned shentsize = (unsigned)rd(b + (im->is64 ? 0x3a : 0x2e), 2);
	unsigned shnum = (unsigned)rd(b + (im->is64 ? 0x3c : 0x30), 2);
	unsigned shstrndx = (unsigned)rd(b + (im->is64 ? 0x3e : 0x32), 2);
	if (!shnum || shentsize < (im->is64 ? 64u : 40u) || !in_file(im, shoff, (uint64_t)shnum * shentsize) ||
	    shstrndx >= shnum)
		return fail(err, errlen, path, "bad section headers");
	im->sec = calloc(shnum, sizeof *im->sec);
	if (!im->sec)
		return fail(err, errlen, path, "out of memory");
	im->nsec = shnum;
	for (unsigned i = 0; i < shnum; i++) {
		const uint8_t *h = b + shoff + (uint64_t)i * shentsize;
		struct section *s = &im->sec[i];
		uint32_t name = (uint32_t)rd(h, 4);
		s->type = (uint32_t)rd(h + 4, 4);
		if (im->is64) {
			s->addr = rd(h + 0x10, 8), s->offset = rd(h + 0x18, 8), s->size = rd(h + 0x20, 8);
			s->link = rd(h + 0x28, 4), s->entsize = rd(h + 0x38, 8);
		} else {
			s->addr = rd(h + 0x0c, 4), s->offset = rd(h + 0x10, 4), s->size = rd(h + 0x14, 4);
			s->link = rd(h + 0x18, 4), s->entsize = rd(h + 0x24, 4);
		}
		s->name = (const char *)(uintptr_t)name;	/* resolved below */
		if (s->type != SHT_NOBITS && !in_file(im, s->offset, s->size))
			return fail(err, errlen, path, "a section lies outside the file");
	}
	const struct section *shstr = &im->sec[shstrndx];
	for (unsigned i = 0; i < shnum; i++) {
		uint64_t name = (uint64_t)(uintptr_t)im->sec[i].name;
		if (name >= shstr->size || !memchr(b + shstr->offset + name, 0, shstr->size - name))
			return fail(err, errlen, path, "bad section name");
		im->sec[i].name = (const char *)b + shstr->offset + name;
		if (im->sec[i].type == SHT_SYMTAB)
			im->symtab = &im->sec[i];
	}
	if (!im->symtab || im->symtab->link >= shnum)
		return fail(err, errlen, path, "no symbol table (the table and the functions are found by name)");
	im->strtab = &im->sec[im->symtab->link];
	return 0;
}

/* Where vaddr [addr, addr + n) is in the file: an allocated PROGBITS section. */
static const uint8_t *at_vaddr(const struct image *im, uint64_t addr, uint64_t n, uint64_t *off)
{
	for (unsigned i = 0; i < im->nsec; i++) {
		const struct section *s = &im->sec[i];
		if (s->type != SHT_PROGBITS || !s->addr)
			continue;
		if (addr >= s->addr && addr - s->addr <= s->size && n <= s->size - (addr - s->addr)) {
			if (off)
				*off = s->offset + (addr - s->addr);
			return im->buf + s->offset + (addr - s->addr);
		}
	}
	return NULL;
}

/* The table's symbol, every function's name, and (ARM) the mapping
 * symbols: $d starts data, $a / $t code, up to the next one. */
static int parse_symbols(const char *path, struct image *im, char *err, size_t errlen)
{
	unsigned esz = im->is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
	const struct section *st = im->symtab, *str = im->strtab;
	uint64_t n = st->size / esz;
	uint64_t open_data = 0;
	int in_data = 0;
	/* Mapping symbols are in address order within a section in what
	 * GNU ld writes; collect them and sort to be independent of it. */
	struct { uint64_t addr; int data; } *map = calloc(n ? n : 1, sizeof *map);
	size_t nmap = 0;
	if (!map)
		return fail(err, errlen, path, "out of memory");
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *s = im->buf + st->offset + i * esz;
		uint32_t name = (uint32_t)rd(s, 4);
		uint64_t value = im->is64 ? rd(s + 8, 8) : rd(s + 4, 4);
		uint64_t size = im->is64 ? rd(s + 16, 8) : rd(s + 8, 4);
		unsigned char info = im->is64 ? s[4] : s[12];
		if (name >= str->size || !memchr(im->buf + str->offset + name, 0, str->size - name)) {
			free(map);
			return fail(err, errlen, path, "bad symbol name");
		}
		const char *nm = (const char *)im->buf + str->offset + name;
		if (!strcmp(nm, TABLE_SYMBOL)) {
			im->table_addr = value;
			im->table_size = size;
		} else if (nm[0] == '$' && (nm[1] == 'd' || nm[1] == 'a' || nm[1] == 't') &&
			   (nm[2] == 0 || nm[2] == '.')) {
			map[nmap].addr = value;
			map[nmap].data = nm[1] == 'd';
			nmap++;
		} else if (ELF64_ST_TYPE(info) == STT_FUNC) {
			for (unsigned k = 0; k < im->nfn; k++)
				if (im->fn[k].entry == value && !im->fn[k].name[0] && size)
					im->fn[k].name = nm;
		}
	}
	/* sort the mapping symbols (insertion: there are few) */
	for (size_t i = 1; i < nmap; i++)
		for (size_t j = i; j > 0 && map[j - 1].addr > map[j].addr; j--) {
			uint64_t a = map[j].addr;
			int d = map[j].data;
			map[j] = map[j - 1];
			map[j - 1].addr = a;
			map[j - 1].data = d;
		}
	for (size_t i = 0; i < nmap; i++) {
		if (map[i].data && !in_data) {
			open_data = map[i].addr;
			in_data = 1;
		} else if (!map[i].data && in_data) {
			if (im->ndata == MAX_DATA) {
				free(map);
				return fail(err, errlen, path, "too many data-in-code ranges");
			}
			im->data_lo[im->ndata] = open_data;
			im->data_hi[im->ndata++] = map[i].addr;
			in_data = 0;
		}
	}
	if (in_data && im->ndata < MAX_DATA) {
		im->data_lo[im->ndata] = open_data;
		im->data_hi[im->ndata++] = UINT64_MAX;
	}
	free(map);
	if (!im->table_addr)
		return fail(err, errlen, path, "no " TABLE_SYMBOL " (not a sigstep guest image)");
	return 0;
}

/* A DW_EH_PE-encoded pointer at p (field address `addr`), as GNU as
 * writes them: absptr, udata4/sdata4, udata8/sdata8, optionally pcrel. */
static int eh_pointer(const struct image *im, const uint8_t *p, const uint8_t *end, uint8_t enc,
		      uint64_t addr, uint64_t *v, unsigned *len)
{
	unsigned n;
	int sign = 0;
	switch (enc & 0x0f) {
	case 0x00: n = im->is64 ? 8 : 4; break;
	case 0x03: n = 4; break;
	case 0x0b: n = 4, sign = 1; break;
	case 0x04: n = 8; break;
	case 0x0c: n = 8, sign = 1; break;
	default: return -1;
	}
	if ((size_t)(end - p) < n)
		return -1;
	uint64_t x = rd(p, n);
	if (sign && n == 4)
		x = (uint64_t)(int64_t)(int32_t)x;
	if ((enc & 0x70) == 0x10)
		x += addr;
	else if (enc & 0x70)
		return -1;
	if (!im->is64)
		x &= 0xffffffffu;
	*v = x;
	*len = n;
	return 0;
}

static int uleb(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

static int sleb(const uint8_t **p, const uint8_t *end, int64_t *v)
{
	int64_t x = 0;
	unsigned shift = 0;
	while (*p < end && shift < 64) {
		uint8_t b = *(*p)++;
		x |= (int64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (shift < 64 && (b & 0x40))
				x |= -((int64_t)1 << shift);
			*v = x;
			return 0;
		}
	}
	return -1;
}

/* Every FDE's [pc_begin, pc_begin + pc_range): the functions with a frame table. */
static int parse_eh_frame(const char *path, struct image *im, char *err, size_t errlen)
{
	const struct section *eh = NULL;
	for (unsigned i = 0; i < im->nsec; i++)
		if (!strcmp(im->sec[i].name, ".eh_frame"))
			eh = &im->sec[i];
	if (!eh)
		return 0;	/* no frame tables: no Go functions */
	const uint8_t *base = im->buf + eh->offset, *end = base + eh->size;
	const uint8_t *p = base;
	while ((size_t)(end - p) >= 4) {
		uint64_t len = rd(p, 4);
		if (len == 0)
			break;	/* the terminator */
		if (len == 0xffffffffu || len > (uint64_t)(end - p) - 4)
			return fail(err, errlen, path, "malformed .eh_frame");
		const uint8_t *rec = p + 4, *rend = rec + len;
		uint32_t id = (uint32_t)rd(rec, 4);
		if (id != 0) {
			/* FDE: its CIE is `id` bytes before this field. */
			const uint8_t *cie = rec - id;
			if (cie < base || (size_t)(end - cie) < 9)
				return fail(err, errlen, path, "FDE with a bad CIE pointer");
			const uint8_t *c = cie + 4 + 4;	/* past length and id */
			const uint8_t *cend = cie + 4 + rd(cie, 4);
			if (cend > end)
				return fail(err, errlen, path, "malformed CIE");
			uint8_t version = *c++;
			const char *aug = (const char *)c;
			while (c < cend && *c)
				c++;
			c++;
			uint64_t skip, code_align;
			int64_t data_align;
			if (uleb(&c, cend, &code_align) || sleb(&c, cend, &data_align))
				return fail(err, errlen, path, "malformed CIE");
			if (version == 1)
				c++;
			else if (uleb(&c, cend, &skip))
				return fail(err, errlen, path, "malformed CIE");
			uint8_t enc = 0;	/* absptr */
			if (aug[0] == 'z') {
				if (uleb(&c, cend, &skip))
					return fail(err, errlen, path, "malformed CIE");
				for (const char *a = aug + 1; *a && c < cend; a++) {
					if (*a == 'R')
						enc = *c++;
					else if (*a == 'L')
						c++;
					else if (*a == 'P') {
						uint8_t penc = *c++;
						uint64_t v;
						unsigned n;
						if (eh_pointer(im, c, cend, penc, 0, &v, &n))
							return fail(err, errlen, path, "unsupported CIE personality");
						c += n;
					} else if (*a != 'S')
						break;
				}
			}
			const uint8_t *f = rec + 4;
			uint64_t field = eh->addr + (uint64_t)(f - base);
			uint64_t begin, range;
			unsigned n1, n2;
			if (eh_pointer(im, f, rend, enc, field, &begin, &n1) ||
			    eh_pointer(im, f + n1, rend, enc & 0x0f, 0, &range, &n2))
				return fail(err, errlen, path, "unsupported FDE pointer encoding");
			const uint8_t *ins = f + n1 + n2;
			if (aug[0] == 'z') {
				uint64_t alen;
				if (uleb(&ins, rend, &alen) || alen > (uint64_t)(rend - ins))
					return fail(err, errlen, path, "malformed FDE");
				ins += alen;
			}
			if (range) {
				if (im->nfn == MAX_FUNCS)
					return fail(err, errlen, path, "more functions with frame tables than the table reader takes");
				im->fn[im->nfn++] = (struct func){ .entry = begin, .end = begin + range, .name = "",
					.cie_ins = c, .cie_end = cend, .fde_ins = ins, .fde_end = rend,
					.code_align = code_align, .data_align = data_align };
			}
		}
		p = rend;
	}
	/* in address order: the table and the explanations are deterministic */
	for (unsigned i = 1; i < im->nfn; i++)
		for (unsigned j = i; j > 0 && im->fn[j - 1].entry > im->fn[j].entry; j--) {
			struct func t = im->fn[j];
			im->fn[j] = im->fn[j - 1];
			im->fn[j - 1] = t;
		}
	return 0;
}

static int is_data(const struct image *im, uint64_t addr)
{
	for (unsigned i = 0; i < im->ndata; i++)
		if (addr >= im->data_lo[i] && addr < im->data_hi[i])
			return 1;
	return 0;
}

/*
 * The CFA rows of one CFI program (DWARF 5 section 6.4.2, the subset GNU
 * as emits for .cfi_* directives).  Only the CFA is followed: it is all
 * Go's pcsp says.  0, or -1 on an opcode this reader does not take.
 */
static int cfa_program(const struct func *fn, const uint8_t *p, const uint8_t *end, struct cfa_row *st,
		       struct cfa_row *stack, int *depth, struct cfa_row *rows, unsigned *nrows)
{
	uint64_t a, b;
	int64_t sb;
	while (p < end) {
		uint8_t op = *p++;
		uint64_t advance = 0;
		switch (op & 0xc0) {
		case 0x40: advance = (op & 0x3f); break;
		case 0x80: if (uleb(&p, end, &a)) return -1; continue;	/* offset */
		case 0xc0: continue;					/* restore */
		default:
			switch (op) {
			case 0x00: continue;
			case 0x02: if (p + 1 > end) return -1; advance = p[0]; p += 1; break;
			case 0x03: if (p + 2 > end) return -1; advance = rd(p, 2); p += 2; break;
			case 0x04: if (p + 4 > end) return -1; advance = rd(p, 4); p += 4; break;
			case 0x05: case 0x09: case 0x14: case 0x2f:
				if (uleb(&p, end, &a) || uleb(&p, end, &b)) return -1;
				continue;
			case 0x06: case 0x07: case 0x08: case 0x2e:
				if (uleb(&p, end, &a)) return -1;
				continue;
			case 0x11: case 0x15:
				if (uleb(&p, end, &a) || sleb(&p, end, &sb)) return -1;
				continue;
			case 0x0a:
				if (*depth == 8) return -1;
				stack[(*depth)++] = *st;
				continue;
			case 0x0b:
				if (*depth == 0) return -1;
				{ uint64_t loc = st->loc; *st = stack[--(*depth)]; st->loc = loc; }
				break;
			case 0x0c:
				if (uleb(&p, end, &a) || uleb(&p, end, &b)) return -1;
				st->reg = a, st->offset = (int64_t)b, st->known = 1;
				break;
			case 0x0d:
				if (uleb(&p, end, &a)) return -1;
				st->reg = a;
				break;
			case 0x0e:
				if (uleb(&p, end, &b)) return -1;
				st->offset = (int64_t)b;
				break;
			case 0x12:
				if (uleb(&p, end, &a) || sleb(&p, end, &sb)) return -1;
				st->reg = a, st->offset = sb * fn->data_align, st->known = 1;
				break;
			case 0x13:
				if (sleb(&p, end, &sb)) return -1;
				st->offset = sb * fn->data_align;
				break;
			case 0x0f:
				if (uleb(&p, end, &b) || b > (uint64_t)(end - p)) return -1;
				p += b;
				st->known = 0;
				break;
			case 0x10: case 0x16:
				if (uleb(&p, end, &a) || uleb(&p, end, &b) || b > (uint64_t)(end - p)) return -1;
				p += b;
				continue;
			default:
				return -1;
			}
		}
		if (advance) {
			if (*nrows == MAX_ROWS) return -1;
			rows[(*nrows)++] = *st;
			st->loc += advance * fn->code_align;
		} else {
			/* a new rule at the same loc replaces the row being built */
		}
	}
	return 0;
}

/* The rows of fn: rows[i] holds from rows[i].loc to the next row's loc. */
static int cfa_rows(const struct func *fn, struct cfa_row *rows, unsigned *nrows)
{
	struct cfa_row st = { .loc = fn->entry }, stack[8];
	int depth = 0;
	*nrows = 0;
	if (cfa_program(fn, fn->cie_ins, fn->cie_end, &st, stack, &depth, rows, nrows))
		return -1;
	*nrows = 0;	/* the CIE's rules are the state at entry, not rows of their own */
	st.loc = fn->entry;
	if (cfa_program(fn, fn->fde_ins, fn->fde_end, &st, stack, &depth, rows, nrows) || *nrows == MAX_ROWS)
		return -1;
	rows[(*nrows)++] = st;
	return 0;
}

static const struct cfa_row *cfa_at(const struct cfa_row *rows, unsigned n, uint64_t pc)
{
	const struct cfa_row *r = &rows[0];
	for (unsigned i = 0; i < n && rows[i].loc <= pc; i++)
		r = &rows[i];
	return r;
}

/* 1 and *at = the first untracked SP write of fn, 0 if none, -1 if undecodable. */
/*
 * The rule holds for a user's file too: between two instructions of one
 * straight run, the CFI's CFA may change by what Go's assembler would put
 * in pcsp (Spadj) and by nothing else.  "" or one line in `bad`.
 */
static void check_cfi(const struct image *im, const struct func *fn, const struct cfa_row *rows, unsigned nrows,
		      const cs_insn *insn, const cs_insn *next, enum sp_write kind, long spadj, char *bad, size_t badlen)
{
	if (bad[0] || !next || im->ops->ends_block(insn))
		return;
	const struct cfa_row *a = cfa_at(rows, nrows, insn->address), *b = cfa_at(rows, nrows, next->address);
	long want = kind == SP_TRACKED ? spadj : 0;
	const char *name = fn->name[0] ? fn->name : "?";
	if (!a->known || !b->known || a->reg != b->reg)
		snprintf(bad, badlen, "%s+0x%llx (%s %s): the CFI's CFA is not SP plus a constant here, which Go's pcsp cannot say",
			 name, (unsigned long long)(next->address - fn->entry), next->mnemonic, next->op_str);
	else if (b->offset - a->offset != want)
		snprintf(bad, badlen, "%s+0x%llx (%s %s): the CFI moves the frame by %lld where Go's pcsp moves it by %ld -- %s",
			 name, (unsigned long long)(insn->address - fn->entry), insn->mnemonic, insn->op_str,
			 (long long)(b->offset - a->offset), want, im->ops->pcsp_rule);
}

static int scan_function(const struct image *im, csh cs, const struct func *fn, uint64_t *at, char *text,
			 size_t textlen, char *bad, size_t badlen)
{
	struct cfa_row rows[MAX_ROWS];
	unsigned nrows;
	if (cfa_rows(fn, rows, &nrows)) {
		snprintf(bad, badlen, "%s: a CFI rule this reader does not take", fn->name[0] ? fn->name : "?");
		return 0;
	}
	const uint8_t *code = at_vaddr(im, fn->entry, fn->end - fn->entry, NULL);
	if (!code)
		return -1;
	cs_insn *insn = NULL;
	/* Decode the code runs between data ranges one by one. */
	uint64_t addr = fn->entry;
	int found = 0;
	while (addr < fn->end) {
		if (is_data(im, addr)) {
			addr += im->ops->pc_quantum;
			continue;
		}
		uint64_t stop = addr;
		while (stop < fn->end && !is_data(im, stop))
			stop += im->ops->pc_quantum;
		size_t count = cs_disasm(cs, code + (addr - fn->entry), stop - addr, addr, 0, &insn);
		if (count == 0)
			return -1;
		for (size_t i = 0; i < count; i++) {
			const cs_insn *next = i + 1 < count ? &insn[i + 1] : NULL;
			long spadj = 0;
			enum sp_write kind = im->ops->sp_write(&insn[i], next, insn[i].address == fn->entry, &spadj);
			check_cfi(im, fn, rows, nrows, &insn[i], next, kind, spadj, bad, badlen);
			if (kind == SP_UNTRACKED && !found) {
				*at = insn[i].address;
				snprintf(text, textlen, "%s%s%s", insn[i].mnemonic, insn[i].op_str[0] ? " " : "",
					 insn[i].op_str);
				found = 1;
			}
		}
		uint64_t decoded_to = insn[count - 1].address + insn[count - 1].size;
		cs_free(insn, count);
		if (decoded_to < stop)
			return -1;	/* bytes capstone would not decode */
		addr = stop;
	}
	return found;
}

static int load(const char *path, struct image *im, char *err, size_t errlen)
{
	memset(im, 0, sizeof *im);
	if (read_file(path, im, err, errlen) || parse_sections(path, im, err, errlen) ||
	    parse_eh_frame(path, im, err, errlen) || parse_symbols(path, im, err, errlen))
		return -1;
	unsigned w = im->is64 ? 8 : 4;
	if (im->table_size < 8 + (uint64_t)TABLE_MAX * w || !at_vaddr(im, im->table_addr, im->table_size, NULL))
		return fail(err, errlen, path, TABLE_SYMBOL " is not a table in the file");
	return 0;
}

static void unload(struct image *im)
{
	free(im->buf);
	free(im->sec);
}

int spwrite_fill(const char *path, FILE *explain, char *err, size_t errlen)
{
	struct image im;
	csh cs;
	int rc = -1;

	if (load(path, &im, err, errlen)) {
		unload(&im);
		return -1;
	}
	if (cs_open(im.ops->cs_arch, im.ops->cs_mode, &cs) != CS_ERR_OK) {
		unload(&im);
		return fail(err, errlen, path, "capstone refused the architecture");
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);

	unsigned w = im.is64 ? 8 : 4;
	uint64_t off;
	uint8_t *table = (uint8_t *)at_vaddr(&im, im.table_addr, im.table_size, &off);
	uint32_t count = 0;
	memset(table, 0, im.table_size);
	for (unsigned i = 0; i < im.nfn; i++) {
		uint64_t at = 0;
		char text[200], bad[400] = "";
		int r = scan_function(&im, cs, &im.fn[i], &at, text, sizeof text, bad, sizeof bad);
		if (bad[0]) {
			snprintf(err, errlen, "%s: %s", path, bad);
			goto out;
		}
		if (r < 0) {
			snprintf(err, errlen, "%s: cannot decode the function at 0x%llx (%s)", path,
				 (unsigned long long)im.fn[i].entry, im.fn[i].name);
			goto out;
		}
		if (!r)
			continue;
		if (count == TABLE_MAX) {
			fail(err, errlen, path, "more SPWRITE functions than the table holds");
			goto out;
		}
		memcpy(table + 8 + (size_t)count * w, &im.fn[i].entry, w);
		count++;
		if (explain)
			fprintf(explain, "spwrite %s+0x%llx %s\n", im.fn[i].name[0] ? im.fn[i].name : "?",
				(unsigned long long)(at - im.fn[i].entry), text);
	}
	uint32_t magic = TABLE_MAGIC;
	memcpy(table, &magic, 4);
	memcpy(table + 4, &count, 4);

	FILE *f = fopen(path, "r+b");
	if (!f || fseek(f, (long)off, SEEK_SET) || fwrite(table, 1, im.table_size, f) != im.table_size) {
		snprintf(err, errlen, "%s: cannot write the SPWRITE table: %s", path, strerror(errno));
		if (f)
			fclose(f);
		goto out;
	}
	if (fclose(f)) {
		snprintf(err, errlen, "%s: cannot write the SPWRITE table: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	cs_close(&cs);
	unload(&im);
	return rc;
}

int spwrite_is_filled(const char *path, char *err, size_t errlen)
{
	struct image im;
	if (load(path, &im, err, errlen)) {
		unload(&im);
		return -1;
	}
	const uint8_t *t = at_vaddr(&im, im.table_addr, 4, NULL);
	int filled = rd(t, 4) == TABLE_MAGIC;
	unload(&im);
	return filled;
}
