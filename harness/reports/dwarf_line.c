/*
 * A small .debug_line reader (dwarf_line.h): the ELF section headers to
 * find .debug_line (and .debug_line_str / .debug_str for DWARF 5's
 * strings), then each unit's header and line-number program run as the
 * DWARF standard's state machine, one row per emitted line.
 *
 * Everything read goes through struct cursor, which refuses to step past
 * its end: a hostile file gives an error, never a read out of bounds.
 * Little-endian files only (every arch sigstep runs is).
 */
#include "dwarf_line.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_BYTES (256u << 20)
#define MAX_ROWS (16u << 20)

struct cursor {
	const uint8_t *p, *end;
	int bad;		/* a read went past the end */
};

static int avail(struct cursor *c, uint64_t n)
{
	if (c->bad || n > (uint64_t)(c->end - c->p)) {
		c->bad = 1;
		return 0;
	}
	return 1;
}

static uint64_t get_n(struct cursor *c, unsigned n)
{
	uint64_t v = 0;
	if (!avail(c, n))
		return 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)c->p[i] << (8 * i);
	c->p += n;
	return v;
}

static void skip(struct cursor *c, uint64_t n)
{
	if (avail(c, n))
		c->p += n;
}

static uint64_t uleb(struct cursor *c)
{
	uint64_t v = 0;
	for (unsigned shift = 0;; shift += 7) {
		if (!avail(c, 1))
			return 0;
		uint8_t b = *c->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
}

static int64_t sleb(struct cursor *c)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b;
	do {
		if (!avail(c, 1))
			return 0;
		b = *c->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	if (shift < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << shift;
	return (int64_t)v;
}

/* A NUL-terminated string inside the cursor, or NULL. */
static const char *cstr(struct cursor *c)
{
	if (c->bad)
		return NULL;
	const uint8_t *z = memchr(c->p, 0, (size_t)(c->end - c->p));
	if (!z) {
		c->bad = 1;
		return NULL;
	}
	const char *s = (const char *)c->p;
	c->p = z + 1;
	return s;
}

/* The string at off of a string section, or NULL. */
static const char *str_at(const uint8_t *sec, size_t len, uint64_t off)
{
	if (!sec || off >= len || !memchr(sec + off, 0, len - (size_t)off))
		return NULL;
	return (const char *)sec + off;
}

/* --- the ELF sections ---------------------------------------------------- */

struct sections {
	const uint8_t *line, *line_str, *str;
	size_t line_len, line_str_len, str_len;
};

static int find_sections(const uint8_t *buf, size_t len, struct sections *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG))
		return snprintf(err, errlen, "not an ELF file"), -1;
	if (buf[EI_DATA] != ELFDATA2LSB)
		return snprintf(err, errlen, "not a little-endian ELF file"), -1;
	int is64 = buf[EI_CLASS] == ELFCLASS64;
	if (!is64 && buf[EI_CLASS] != ELFCLASS32)
		return snprintf(err, errlen, "unknown ELF class %u", buf[EI_CLASS]), -1;
	struct cursor c = { buf, buf + len, 0 };
	uint64_t shoff, shentsize, shnum, shstrndx;
	if (is64) {
		skip(&c, 0x28);
		shoff = get_n(&c, 8);
		skip(&c, 0x3a - 0x30);
	} else {
		skip(&c, 0x20);
		shoff = get_n(&c, 4);
		skip(&c, 0x2e - 0x24);
	}
	shentsize = get_n(&c, 2);
	shnum = get_n(&c, 2);
	shstrndx = get_n(&c, 2);
	if (c.bad)
		return snprintf(err, errlen, "truncated ELF header"), -1;
	if (shoff == 0 || shnum == 0)
		return 0;	/* no section headers: no lines */
	uint64_t want = is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	if (shentsize < want || shoff > len || shnum > (len - shoff) / shentsize || shstrndx >= shnum)
		return snprintf(err, errlen, "section headers outside the file"), -1;

	/* Section i's name offset, type, file offset and size. */
#define SHDR(i, name, type, off, size)                                                             \
	do {                                                                                       \
		struct cursor h = { buf + shoff + (i) * shentsize, buf + len, 0 };                 \
		name = get_n(&h, 4);                                                               \
		type = get_n(&h, 4);                                                               \
		skip(&h, is64 ? 16 : 8);                                                           \
		off = get_n(&h, is64 ? 8 : 4);                                                     \
		size = get_n(&h, is64 ? 8 : 4);                                                    \
	} while (0)
	uint64_t n, type, stroff, strsize;
	SHDR(shstrndx, n, type, stroff, strsize);
	if (stroff > len || strsize > len - stroff)
		return snprintf(err, errlen, "section names outside the file"), -1;
	for (uint64_t i = 0; i < shnum; i++) {
		uint64_t off, size;
		SHDR(i, n, type, off, size);
		if (type == SHT_NOBITS)
			continue;
		const char *name = str_at(buf + stroff, (size_t)strsize, n);
		if (!name)
			continue;
		const uint8_t **where = NULL;
		size_t *wlen = NULL;
		if (!strcmp(name, ".debug_line"))
			where = &s->line, wlen = &s->line_len;
		else if (!strcmp(name, ".debug_line_str"))
			where = &s->line_str, wlen = &s->line_str_len;
		else if (!strcmp(name, ".debug_str"))
			where = &s->str, wlen = &s->str_len;
		if (!where)
			continue;
		if (off > len || size > len - off)
			return snprintf(err, errlen, "%s outside the file", name), -1;
		*where = buf + off;
		*wlen = (size_t)size;
	}
#undef SHDR
	return 0;
}

/* --- the table ------------------------------------------------------------ */

static int add_file(struct line_table *t, const char *dir, const char *name)
{
	char **nf = realloc(t->files, (t->nfiles + 1) * sizeof *nf);
	if (!nf)
		return -1;
	t->files = nf;
	size_t n = (dir ? strlen(dir) + 1 : 0) + strlen(name) + 1;
	char *s = malloc(n);
	if (!s)
		return -1;
	if (dir && dir[0] && name[0] != '/')
		snprintf(s, n, "%s/%s", dir, name);
	else
		snprintf(s, n, "%s", name);
	t->files[t->nfiles++] = s;
	return 0;
}

static int add_row(struct line_table *t, size_t *cap, uint64_t addr, uint32_t line, uint32_t file)
{
	if (t->n == *cap) {
		if (t->n >= MAX_ROWS)
			return -1;
		size_t nc = *cap ? *cap * 2 : 256;
		struct line_row *nv = realloc(t->v, nc * sizeof *nv);
		if (!nv)
			return -1;
		t->v = nv;
		*cap = nc;
	}
	t->v[t->n++] = (struct line_row){ addr, line, file };
	return 0;
}

/* One attribute value of a DWARF 5 entry format: a string (into *s) or a
 * number (into *u). */
static int read_form(struct cursor *c, uint64_t form, int offsize, const struct sections *sec, const char **s,
		     uint64_t *u)
{
	*s = NULL;
	*u = 0;
	switch (form) {
	case 0x08: *s = cstr(c); return *s ? 0 : -1;			/* DW_FORM_string */
	case 0x1f: *s = str_at(sec->line_str, sec->line_str_len, get_n(c, (unsigned)offsize));
		return *s ? 0 : -1;					/* DW_FORM_line_strp */
	case 0x0e: *s = str_at(sec->str, sec->str_len, get_n(c, (unsigned)offsize));
		return *s ? 0 : -1;					/* DW_FORM_strp */
	case 0x0f: *u = uleb(c); return 0;				/* DW_FORM_udata */
	case 0x0b: *u = get_n(c, 1); return 0;				/* DW_FORM_data1 */
	case 0x05: *u = get_n(c, 2); return 0;				/* DW_FORM_data2 */
	case 0x06: *u = get_n(c, 4); return 0;				/* DW_FORM_data4 */
	case 0x07: *u = get_n(c, 8); return 0;				/* DW_FORM_data8 */
	case 0x1e: skip(c, 16); return 0;				/* DW_FORM_data16 (MD5) */
	case 0x09: skip(c, uleb(c)); return 0;				/* DW_FORM_block */
	default: return -1;
	}
}

/* DWARF 5's directory or file list: count entries of the formats given.
 * dirs: the directory list being read (files: NULL) or the one read. */
static int read_v5_list(struct cursor *c, int offsize, const struct sections *sec, struct line_table *t,
			const char ***dirs, size_t *ndirs, int is_dirs)
{
	uint64_t nfmt = get_n(c, 1), fmt[16][2];
	if (nfmt > 16)
		return -1;
	for (uint64_t i = 0; i < nfmt; i++) {
		fmt[i][0] = uleb(c);
		fmt[i][1] = uleb(c);
	}
	uint64_t count = uleb(c);
	if (c->bad || count > (uint64_t)(c->end - c->p))
		return -1;
	if (is_dirs) {
		*dirs = calloc(count ? count : 1, sizeof **dirs);
		if (!*dirs)
			return -1;
		*ndirs = count;
	}
	for (uint64_t k = 0; k < count; k++) {
		const char *path = NULL;
		uint64_t dir = 0;
		for (uint64_t i = 0; i < nfmt; i++) {
			const char *s;
			uint64_t u;
			if (read_form(c, fmt[i][1], offsize, sec, &s, &u) || c->bad)
				return -1;
			if (fmt[i][0] == 1)	/* DW_LNCT_path */
				path = s;
			else if (fmt[i][0] == 2)	/* DW_LNCT_directory_index */
				dir = u;
		}
		if (!path)
			return -1;
		if (is_dirs) {
			(*dirs)[k] = path;
			continue;
		}
		/* Directory 0 is the compilation directory: a name in it is
		 * shown as the compiler was given it. */
		if (dir >= *ndirs)
			return -1;
		if (add_file(t, dir ? (*dirs)[dir] : NULL, path))
			return -1;
	}
	return 0;
}

/* One unit at c (its length field first); c moves past it.  0 or -1. */
static int read_unit(struct cursor *c, const struct sections *sec, struct line_table *t, size_t *cap)
{
	int offsize = 4;
	uint64_t unit_len = get_n(c, 4);
	if (unit_len == 0xffffffff) {
		offsize = 8;
		unit_len = get_n(c, 8);
	} else if (unit_len >= 0xfffffff0) {
		return -1;
	}
	if (!avail(c, unit_len))
		return -1;
	struct cursor u = { c->p, c->p + unit_len, 0 };
	c->p += unit_len;

	unsigned version = (unsigned)get_n(&u, 2);
	if (version < 2 || version > 5)
		return -1;
	unsigned addr_size = 0;
	if (version >= 5) {
		addr_size = (unsigned)get_n(&u, 1);
		get_n(&u, 1);	/* segment selector size */
	}
	uint64_t header_len = get_n(&u, (unsigned)offsize);
	if (!avail(&u, header_len))
		return -1;
	const uint8_t *program = u.p + header_len;
	unsigned min_insn = (unsigned)get_n(&u, 1);
	if (version >= 4)
		get_n(&u, 1);	/* maximum operations per instruction: VLIW only */
	get_n(&u, 1);	/* default_is_stmt: every row counts */
	int line_base = (int8_t)get_n(&u, 1);
	unsigned line_range = (unsigned)get_n(&u, 1);
	unsigned opcode_base = (unsigned)get_n(&u, 1);
	uint8_t std_len[256] = { 0 };
	for (unsigned i = 1; i < opcode_base; i++)
		std_len[i] = (uint8_t)get_n(&u, 1);
	if (u.bad || line_range == 0 || opcode_base == 0)
		return -1;

	size_t file0 = t->nfiles;	/* the unit's files start here */
	const char **dirs = NULL;
	size_t ndirs = 0;
	if (version >= 5) {
		if (read_v5_list(&u, offsize, sec, t, &dirs, &ndirs, 1) ||
		    read_v5_list(&u, offsize, sec, t, &dirs, &ndirs, 0)) {
			free(dirs);
			return -1;
		}
	} else {
		/* include_directories, then file_names; index 1 is the first. */
		size_t cap_dirs = 0;
		for (const char *d; (d = cstr(&u)) && d[0];) {
			if (ndirs == cap_dirs) {
				cap_dirs = cap_dirs ? cap_dirs * 2 : 8;
				const char **nd = realloc(dirs, cap_dirs * sizeof *nd);
				if (!nd)
					return free(dirs), -1;
				dirs = nd;
			}
			dirs[ndirs++] = d;
		}
		for (const char *f; (f = cstr(&u)) && f[0];) {
			uint64_t dir = uleb(&u);
			uleb(&u), uleb(&u);	/* mtime, length */
			if (u.bad || dir > ndirs || add_file(t, dir ? dirs[dir - 1] : NULL, f))
				return free(dirs), -1;
		}
	}
	free(dirs);
	if (u.bad || program > u.end)
		return -1;

	/* The state machine. */
	struct cursor pc_ = { program, u.end, 0 };
	struct cursor *pr = &pc_;
	size_t nfiles = t->nfiles - file0;
	uint64_t addr = 0, file = version >= 5 ? 0 : 1;
	int64_t line = 1;
	/* file index as the unit numbers it, to the table's */
#define FILE_OF(f) ((uint32_t)(file0 + (version >= 5 ? (f) : (f) - 1)))
#define FILE_OK(f) (version >= 5 ? (f) < nfiles : (f) >= 1 && (f) <= nfiles)
#define EMIT()                                                                                     \
	do {                                                                                       \
		if (FILE_OK(file) && line > 0 && line <= UINT32_MAX &&                             \
		    add_row(t, cap, addr, (uint32_t)line, FILE_OF(file)))                          \
			return -1;                                                                 \
	} while (0)
	while (pr->p < pr->end && !pr->bad) {
		unsigned op = (unsigned)get_n(pr, 1);
		if (op >= opcode_base) {
			unsigned adj = op - opcode_base;
			addr += (uint64_t)min_insn * (adj / line_range);
			line += line_base + (int)(adj % line_range);
			EMIT();
			continue;
		}
		switch (op) {
		case 0: {	/* extended */
			uint64_t len = uleb(pr);
			if (!len || !avail(pr, len))
				return -1;
			const uint8_t *next = pr->p + len;
			unsigned sub = (unsigned)get_n(pr, 1);
			if (sub == 1) {	/* DW_LNE_end_sequence: no line from here */
				if (add_row(t, cap, addr, 0, 0))
					return -1;
				addr = 0, file = version >= 5 ? 0 : 1, line = 1;
			} else if (sub == 2) {	/* DW_LNE_set_address */
				uint64_t n = len - 1;
				if (n == 0 || n > 8 || (addr_size && n != addr_size))
					return -1;
				addr = get_n(pr, (unsigned)n);
			}
			/* DW_LNE_define_file, set_discriminator, vendor: skipped */
			pr->p = next;
			break;
		}
		case 1: EMIT(); break;					/* copy */
		case 2: addr += (uint64_t)min_insn * uleb(pr); break;	/* advance_pc */
		case 3: line += sleb(pr); break;			/* advance_line */
		case 4: file = uleb(pr); break;				/* set_file */
		case 8: addr += (uint64_t)min_insn * ((255 - opcode_base) / line_range); break;	/* const_add_pc */
		case 9: addr += get_n(pr, 2); break;			/* fixed_advance_pc */
		default:	/* set_column, negate_stmt, ...: their arguments skipped */
			for (unsigned i = 0; i < std_len[op]; i++)
				uleb(pr);
		}
	}
#undef EMIT
#undef FILE_OK
#undef FILE_OF
	return pr->bad ? -1 : 0;
}

/* A row and its place in emission order: qsort is not stable, so the
 * order is the last key. */
struct keyed_row {
	struct line_row r;
	size_t k;
};

/* By address; at one address a sequence's end before another's start,
 * then in emission order (lookup takes the last row at an address). */
static int cmp_row(const void *a, const void *b)
{
	const struct keyed_row *x = a, *y = b;
	if (x->r.addr != y->r.addr)
		return x->r.addr < y->r.addr ? -1 : 1;
	if ((x->r.line == 0) != (y->r.line == 0))
		return x->r.line == 0 ? -1 : 1;
	return x->k < y->k ? -1 : x->k > y->k;
}

int line_table_parse(const uint8_t *buf, size_t len, struct line_table *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	struct sections sec;
	if (find_sections(buf, len, &sec, err, errlen))
		return -1;
	struct cursor c = { sec.line, sec.line + sec.line_len, 0 };
	size_t cap = 0;
	while (sec.line && c.p < c.end) {
		if (read_unit(&c, &sec, t, &cap)) {
			snprintf(err, errlen, ".debug_line: malformed unit at offset 0x%zx", (size_t)(c.p - sec.line));
			line_table_free(t);
			return -1;
		}
	}
	if (t->n) {
		struct keyed_row *tmp = malloc(t->n * sizeof *tmp);
		if (!tmp) {
			snprintf(err, errlen, "out of memory");
			line_table_free(t);
			return -1;
		}
		for (size_t i = 0; i < t->n; i++)
			tmp[i].r = t->v[i], tmp[i].k = i;
		qsort(tmp, t->n, sizeof *tmp, cmp_row);
		for (size_t i = 0; i < t->n; i++)
			t->v[i] = tmp[i].r;
		free(tmp);
	}
	return 0;
}

int line_table_load(const char *path, struct line_table *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	FILE *f = fopen(path, "rb");
	if (!f)
		return snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			if (cap >= MAX_FILE_BYTES) {
				fclose(f);
				free(buf);
				return snprintf(err, errlen, "%s: too large", path), -1;
			}
			cap = cap ? cap * 2 : 65536;
			uint8_t *nb = realloc(buf, cap);
			if (!nb) {
				fclose(f);
				free(buf);
				return snprintf(err, errlen, "out of memory"), -1;
			}
			buf = nb;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		if (!got)
			break;
		len += got;
	}
	fclose(f);
	int rc = line_table_parse(buf, len, t, err, errlen);
	free(buf);
	return rc;
}

int line_table_find(const struct line_table *t, uint64_t addr, const char **file, uint32_t *line)
{
	size_t lo = 0, hi = t->n;	/* the last row with row.addr <= addr */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || t->v[lo - 1].line == 0)
		return 0;
	*file = t->files[t->v[lo - 1].file];
	*line = t->v[lo - 1].line;
	return 1;
}

void line_table_free(struct line_table *t)
{
	for (size_t i = 0; i < t->nfiles; i++)
		free(t->files[i]);
	free(t->files);
	free(t->v);
	memset(t, 0, sizeof *t);
}
