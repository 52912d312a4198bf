/*
 * Just enough DWARF (2-4) to answer "at which offset does struct T keep
 * member M": walk .debug_info's units, read each DIE through its
 * abbreviation in .debug_abbrev, find the DW_TAG_structure_type named T,
 * then its DW_TAG_member children and their DW_AT_data_member_location;
 * a nested path follows the member's DW_AT_type to the next struct.
 *
 * Go's linker (cmd/link/internal/ld/dwarf.go) writes names inline
 * (DW_FORM_string), member locations as constants (older Go: a block with
 * DW_OP_plus_uconst) and type references as DW_FORM_ref_addr; every other
 * DWARF 2-4 form is skipped by its size.
 */
#include "dwarf_info.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	DW_TAG_member = 0x0d,
	DW_TAG_structure_type = 0x13,
	DW_TAG_typedef = 0x16,
	DW_AT_name = 0x03,
	DW_AT_byte_size = 0x0b,
	DW_AT_data_member_location = 0x38,
	DW_AT_type = 0x49,
	DW_OP_plus_uconst = 0x23,
};

struct abbrev {
	uint64_t code, tag;
	int children;
	size_t spec;		/* offset in .debug_abbrev of its (attr, form) pairs */
};

struct unit {
	size_t start, dies, end;	/* header, first DIE, one past the unit */
	unsigned version, addr_size, off_size;
	const struct abbrev *abbrevs;	/* shared by units with the same offset */
	size_t nabbrev;
};

/* A struct type DIE with children, in the index built at open. */
struct named_struct {
	const char *name;
	size_t unit, pos, children;	/* its unit, the DIE, the first child */
};

struct dwarf_info {
	const uint8_t *info, *abbrev;
	size_t info_len, abbrev_len;
	struct unit *units;
	size_t nunits;
	struct abbrev **tables;		/* owned abbrev tables */
	size_t ntables;
	struct named_struct *structs;	/* every named struct type, by name */
	size_t nstructs;
};

/* One DIE with the attributes this reader uses. */
struct die {
	uint64_t tag;
	int children;
	const char *name;
	int has_loc, has_type, has_size;
	uint64_t loc, type, size;	/* type: absolute .debug_info offset */
};

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A cursor over one section: every read checks that it stays inside. */
struct cursor {
	const uint8_t *p;
	size_t pos, len;
	int bad;		/* set by any read past the end */
};

static uint64_t get_n(struct cursor *c, unsigned n)
{
	uint64_t v = 0;

	if (c->bad || n > c->len - c->pos) {
		c->bad = 1;
		return 0;
	}
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | c->p[c->pos + i];
	c->pos += n;
	return v;
}

static uint64_t get_uleb(struct cursor *c)
{
	uint64_t v = 0;

	for (unsigned shift = 0; !c->bad; shift += 7) {
		if (c->pos >= c->len || shift > 63) {
			c->bad = 1;
			break;
		}
		uint8_t b = c->p[c->pos++];
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	return 0;
}

static int64_t get_sleb(struct cursor *c)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b = 0;

	do {
		if (c->bad || c->pos >= c->len || shift > 63) {
			c->bad = 1;
			return 0;
		}
		b = c->p[c->pos++];
		v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	if (shift < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << shift;
	return (int64_t)v;
}

static void skip(struct cursor *c, uint64_t n)
{
	if (c->bad || n > c->len - c->pos)
		c->bad = 1;
	else
		c->pos += (size_t)n;
}

/* An inline DW_FORM_string: NULL if it is not terminated inside. */
static const char *get_string(struct cursor *c)
{
	if (c->bad || c->pos >= c->len)
		goto bad;
	const uint8_t *s = c->p + c->pos, *nul = memchr(s, 0, c->len - c->pos);
	if (!nul)
		goto bad;
	c->pos += (size_t)(nul - s) + 1;
	return (const char *)s;
bad:
	c->bad = 1;
	return NULL;
}

/* Reads the abbreviation table at off: entries until a zero code. */
static int parse_abbrevs(struct dwarf_info *d, size_t off, struct abbrev **out, size_t *n)
{
	struct cursor c = { d->abbrev, off, d->abbrev_len, off > d->abbrev_len };
	struct abbrev *v = NULL;
	size_t cnt = 0, cap = 0;

	for (;;) {
		uint64_t code = get_uleb(&c);
		if (c.bad)
			goto bad;
		if (code == 0)
			break;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			struct abbrev *nv = realloc(v, cap * sizeof *v);
			if (!nv)
				goto bad;
			v = nv;
		}
		v[cnt].code = code;
		v[cnt].tag = get_uleb(&c);
		v[cnt].children = (int)get_n(&c, 1);
		v[cnt].spec = c.pos;
		for (;;) {	/* (attr, form) pairs up to (0, 0) */
			uint64_t attr = get_uleb(&c), form = get_uleb(&c);
			if (c.bad)
				goto bad;
			if (attr == 0 && form == 0)
				break;
			if (form == 0x21)	/* DW_FORM_implicit_const carries its value here */
				get_sleb(&c);
		}
		cnt++;
	}
	*out = v;
	*n = cnt;
	return 0;
bad:
	free(v);
	return -1;
}

void dwarf_info_close(struct dwarf_info *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->ntables; i++)
		free(d->tables[i]);
	free(d->tables);
	free(d->units);
	free(d->structs);
	free(d);
}

static int index_structs(struct dwarf_info *d);

int dwarf_info_open(const uint8_t *info, size_t info_len, const uint8_t *abbrev, size_t abbrev_len,
		    struct dwarf_info **out, char *err, size_t errlen)
{
	struct dwarf_info *d = calloc(1, sizeof *d);
	size_t cap = 0, last_abbrev = SIZE_MAX;

	*out = NULL;
	if (!d) {
		fail(err, errlen, "out of memory");
		return 2;
	}
	d->info = info;
	d->info_len = info_len;
	d->abbrev = abbrev;
	d->abbrev_len = abbrev_len;
	for (size_t pos = 0; pos < info_len;) {
		struct cursor c = { info, pos, info_len, 0 };
		struct unit u = { .start = pos, .off_size = 4 };
		uint64_t ulen = get_n(&c, 4);
		if (ulen == 0xffffffff) {
			ulen = get_n(&c, 8);
			u.off_size = 8;
		} else if (ulen >= 0xfffffff0) {
			fail(err, errlen, "malformed .debug_info (unit at 0x%zx: reserved length 0x%llx)", pos,
			     (unsigned long long)ulen);
			goto bad;
		}
		if (c.bad || ulen > info_len - c.pos) {
			fail(err, errlen, "malformed .debug_info (unit at 0x%zx runs past the section)", pos);
			goto bad;
		}
		u.end = c.pos + (size_t)ulen;
		c.len = u.end;
		u.version = (unsigned)get_n(&c, 2);
		if (u.version < 2 || u.version > 4) {
			fail(err, errlen, "unsupported DWARF version %u (unit at 0x%zx; DWARF 2-4 is read)", u.version,
			     pos);
			goto bad;
		}
		size_t aoff = (size_t)get_n(&c, u.off_size);
		u.addr_size = (unsigned)get_n(&c, 1);
		if (c.bad || (u.addr_size != 4 && u.addr_size != 8)) {
			fail(err, errlen, "malformed .debug_info (unit at 0x%zx: bad header)", pos);
			goto bad;
		}
		u.dies = c.pos;
		if (aoff != last_abbrev) {
			struct abbrev *t;
			size_t n;
			struct abbrev **nt = realloc(d->tables, (d->ntables + 1) * sizeof *nt);
			if (!nt) {
				fail(err, errlen, "out of memory");
				goto bad;
			}
			d->tables = nt;
			if (parse_abbrevs(d, aoff, &t, &n)) {
				fail(err, errlen, "malformed .debug_abbrev (table at 0x%zx)", aoff);
				goto bad;
			}
			d->tables[d->ntables++] = t;
			last_abbrev = aoff;
			u.abbrevs = t;
			u.nabbrev = n;
		} else {
			u.abbrevs = d->units[d->nunits - 1].abbrevs;
			u.nabbrev = d->units[d->nunits - 1].nabbrev;
		}
		if (d->nunits == cap) {
			cap = cap ? cap * 2 : 64;
			struct unit *nu = realloc(d->units, cap * sizeof *nu);
			if (!nu) {
				fail(err, errlen, "out of memory");
				goto bad;
			}
			d->units = nu;
		}
		d->units[d->nunits++] = u;
		pos = u.end;
	}
	if (d->nunits == 0) {
		fail(err, errlen, "empty .debug_info");
		goto bad;
	}
	if (index_structs(d)) {
		fail(err, errlen, "out of memory");
		goto bad;
	}
	*out = d;
	return 0;
bad:
	dwarf_info_close(d);
	return 2;
}

/* Reads one attribute value of `form` and, for the attributes this reader
 * uses, stores it in die.  -1 on an unknown form. */
static int read_attr(const struct unit *u, struct cursor *c, uint64_t attr, uint64_t form, struct die *die)
{
	uint64_t v = 0;
	int is_const = 1, is_ref = 0;

	switch (form) {
	case 0x01: v = get_n(c, u->addr_size); is_const = 0; break;		/* addr */
	case 0x0b: case 0x11: v = get_n(c, 1); is_ref = form == 0x11; break;	/* data1, ref1 */
	case 0x05: case 0x12: v = get_n(c, 2); is_ref = form == 0x12; break;	/* data2, ref2 */
	case 0x06: case 0x13: v = get_n(c, 4); is_ref = form == 0x13; break;	/* data4, ref4 */
	case 0x07: case 0x14: v = get_n(c, 8); is_ref = form == 0x14; break;	/* data8, ref8 */
	case 0x0f: case 0x15: v = get_uleb(c); is_ref = form == 0x15; break;	/* udata, ref_udata */
	case 0x0d: v = (uint64_t)get_sleb(c); break;				/* sdata */
	case 0x0c: get_n(c, 1); is_const = 0; break;				/* flag */
	case 0x19: is_const = 0; break;						/* flag_present */
	case 0x0e: case 0x17: get_n(c, u->off_size); is_const = 0; break;	/* strp, sec_offset */
	case 0x20: get_n(c, 8); is_const = 0; break;				/* ref_sig8 */
	case 0x10:								/* ref_addr: absolute */
		v = get_n(c, u->version == 2 ? u->addr_size : u->off_size);
		if (attr == DW_AT_type) {
			die->type = v;
			die->has_type = 1;
		}
		return 0;
	case 0x08: {								/* string */
		const char *s = get_string(c);
		if (attr == DW_AT_name)
			die->name = s;
		return 0;
	}
	case 0x03: case 0x04: case 0x09: case 0x0a: case 0x18: {		/* blocks, exprloc */
		uint64_t n = form == 0x03 ? get_n(c, 2) : form == 0x04 ? get_n(c, 4)
			   : form == 0x0a ? get_n(c, 1) : get_uleb(c);
		if (attr == DW_AT_data_member_location && n > 0 && !c->bad && n <= c->len - c->pos &&
		    c->p[c->pos] == DW_OP_plus_uconst) {
			struct cursor e = { c->p, c->pos + 1, c->pos + (size_t)n, 0 };
			uint64_t off = get_uleb(&e);
			if (!e.bad && e.pos == e.len) {
				die->loc = off;
				die->has_loc = 1;
			}
		}
		skip(c, n);
		return 0;
	}
	default:
		return -1;
	}
	if (is_ref && attr == DW_AT_type) {
		die->type = u->start + v;	/* unit-relative */
		die->has_type = 1;
	} else if (is_const && attr == DW_AT_data_member_location) {
		die->loc = v;
		die->has_loc = 1;
	} else if (is_const && attr == DW_AT_byte_size) {
		die->size = v;
		die->has_size = 1;
	}
	return 0;
}

/*
 * Reads the DIE at *pos in unit u and advances *pos past it.  A null entry
 * (the end of a sibling list) gives tag 0.  -1 if malformed.
 */
static int read_die(const struct dwarf_info *d, const struct unit *u, size_t *pos, struct die *die)
{
	struct cursor c = { d->info, *pos, u->end, *pos >= u->end };
	uint64_t code = get_uleb(&c);

	memset(die, 0, sizeof *die);
	if (c.bad)
		return -1;
	if (code == 0) {
		*pos = c.pos;
		return 0;
	}
	const struct abbrev *a = NULL;
	if (code <= u->nabbrev && u->abbrevs[code - 1].code == code)	/* the usual dense numbering */
		a = &u->abbrevs[code - 1];
	for (size_t i = 0; !a && i < u->nabbrev; i++)
		if (u->abbrevs[i].code == code)
			a = &u->abbrevs[i];
	if (!a || a->tag == 0)
		return -1;
	die->tag = a->tag;
	die->children = a->children;
	struct cursor spec = { d->abbrev, a->spec, d->abbrev_len, 0 };
	for (;;) {
		uint64_t attr = get_uleb(&spec), form = get_uleb(&spec);
		if (spec.bad)
			return -1;
		if (attr == 0 && form == 0)
			break;
		if (form == 0x16)	/* indirect: the form is in the DIE */
			form = get_uleb(&c);
		if (form == 0x21) {	/* implicit_const: the value is in the abbreviation */
			get_sleb(&spec);
			continue;
		}
		if (read_attr(u, &c, attr, form, die) || c.bad)
			return -1;
	}
	*pos = c.pos;
	return 0;
}

static const struct unit *unit_of(const struct dwarf_info *d, uint64_t off)
{
	for (size_t i = 0; i < d->nunits; i++)
		if (off >= d->units[i].dies && off < d->units[i].end)
			return &d->units[i];
	return NULL;
}

/* A struct type DIE: where its children start. */
struct type_ref {
	const struct unit *u;
	size_t children;
	struct die die;
};

static int by_name_then_pos(const void *a, const void *b)
{
	const struct named_struct *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* One walk over every DIE of every unit: the named struct types, sorted
 * by name (the first in the section first among equal names).  A
 * malformed unit contributes what was read before the damage. */
static int index_structs(struct dwarf_info *d)
{
	size_t cap = 0;

	for (size_t i = 0; i < d->nunits; i++) {
		const struct unit *u = &d->units[i];
		for (size_t pos = u->dies; pos < u->end;) {
			struct die die;
			size_t at = pos;
			if (read_die(d, u, &pos, &die))
				break;
			if (die.tag != DW_TAG_structure_type || !die.children || !die.name)
				continue;
			if (d->nstructs == cap) {
				cap = cap ? cap * 2 : 1024;
				struct named_struct *n = realloc(d->structs, cap * sizeof *n);
				if (!n)
					return -1;
				d->structs = n;
			}
			d->structs[d->nstructs++] = (struct named_struct){ die.name, i, at, pos };
		}
	}
	if (d->nstructs)
		qsort(d->structs, d->nstructs, sizeof *d->structs, by_name_then_pos);
	return 0;
}

static int find_struct(const struct dwarf_info *d, const char *name, struct type_ref *t)
{
	size_t lo = 0, hi = d->nstructs;	/* the first entry >= name */

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(d->structs[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == d->nstructs || strcmp(d->structs[lo].name, name))
		return -1;
	const struct named_struct *n = &d->structs[lo];
	size_t pos = n->pos;
	t->u = &d->units[n->unit];
	t->children = n->children;
	return read_die(d, t->u, &pos, &t->die);
}

/* The struct a type reference names, through typedefs. */
static int resolve_struct(const struct dwarf_info *d, uint64_t off, struct type_ref *t)
{
	for (int hops = 0; hops < 8; hops++) {
		const struct unit *u = unit_of(d, off);
		size_t pos = (size_t)off;
		struct die die;
		if (!u || read_die(d, u, &pos, &die))
			return -1;
		if (die.tag == DW_TAG_structure_type && die.children) {
			*t = (struct type_ref){ u, pos, die };
			return 0;
		}
		if (die.tag != DW_TAG_typedef || !die.has_type)
			return -1;
		off = die.type;
	}
	return -1;
}

/* The direct member `name` of struct t. */
static int find_member(const struct dwarf_info *d, const struct type_ref *t, const char *name, size_t namelen,
		       struct die *m)
{
	unsigned depth = 1;

	for (size_t pos = t->children; pos < t->u->end;) {
		if (read_die(d, t->u, &pos, m))
			return -1;
		if (m->tag == 0) {
			if (--depth == 0)
				return -1;
			continue;
		}
		if (depth == 1 && m->tag == DW_TAG_member && m->name && strlen(m->name) == namelen &&
		    !memcmp(m->name, name, namelen))
			return m->has_loc ? 0 : -1;
		if (m->children)
			depth++;
	}
	return -1;
}

/* The offset of path inside struct t (see dwarf_member_offset). */
static int member_offset_in(const struct dwarf_info *d, struct type_ref t, const char *path, uint64_t *off)
{
	uint64_t total = 0;

	for (const char *p = path;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		struct die m;
		if (n == 0 || find_member(d, &t, p, n, &m))
			return -1;
		total += m.loc;
		if (!dot)
			break;
		if (!m.has_type || resolve_struct(d, m.type, &t))
			return -1;
		p = dot + 1;
	}
	*off = total;
	return 0;
}

int dwarf_member_offset(const struct dwarf_info *d, const char *type, const char *path, uint64_t *off)
{
	struct type_ref t;

	if (find_struct(d, type, &t))
		return -1;
	return member_offset_in(d, t, path, off);
}

int dwarf_struct_size(const struct dwarf_info *d, const char *type, uint64_t *size)
{
	struct type_ref t;

	if (find_struct(d, type, &t) || !t.die.has_size)
		return -1;
	*size = t.die.size;
	return 0;
}

int dwarf_go_layout(const struct dwarf_info *d, struct go_layout *l, char *err, size_t errlen)
{
	static const struct {
		const char *type, *path;
		size_t field;
	} want[] = {
		{ "runtime.g", "stack.lo", offsetof(struct go_layout, g_stack_lo) },
		{ "runtime.g", "stack.hi", offsetof(struct go_layout, g_stack_hi) },
		{ "runtime.g", "m", offsetof(struct go_layout, g_m) },
		{ "runtime.g", "sched.sp", offsetof(struct go_layout, g_sched_sp) },
		{ "runtime.g", "sched.pc", offsetof(struct go_layout, g_sched_pc) },
		{ "runtime.m", "g0", offsetof(struct go_layout, m_g0) },
		{ "runtime.m", "gsignal", offsetof(struct go_layout, m_gsignal) },
		{ "runtime.m", "curg", offsetof(struct go_layout, m_curg) },
		{ "runtime.m", "profilehz", offsetof(struct go_layout, m_profilehz) },
		{ "runtime.m", "vdsoSP", offsetof(struct go_layout, m_vdsoSP) },
		{ "runtime.m", "vdsoPC", offsetof(struct go_layout, m_vdsoPC) },
	};
	struct type_ref g, m;
	int have_g = find_struct(d, "runtime.g", &g) == 0, have_m = find_struct(d, "runtime.m", &m) == 0;

	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		int is_g = !strcmp(want[i].type, "runtime.g");
		uint64_t off;
		if (!(is_g ? have_g : have_m) || member_offset_in(d, is_g ? g : m, want[i].path, &off)) {
			fail(err, errlen, "DWARF has no %s.%s (struct offsets of the runtime's g and m are needed)",
			     want[i].type, want[i].path);
			return 2;
		}
		memcpy((char *)l + want[i].field, &off, sizeof off);
	}
	return 0;
}
