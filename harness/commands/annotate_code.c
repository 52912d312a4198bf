/* The whole code of a function, from its ELF file (annotate_code.h). */
#include <capstone/capstone.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annotate_code.h"
#include "arch_ops.h"

#define MAX_FILE (256u << 20)
#define NO_SIZE_SPAN 4096	/* a symbol without .size: up to the next one, at most this */

static int cmp_mark(const void *a, const void *b)
{
	const struct code_mark *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The mapping symbols of f's symbol table ("$d", "$d.1", "$a", ...). */
static void read_marks(struct code_file *f, uint64_t bias)
{
	const uint8_t *b = f->buf;
	int is64 = f->len > EI_CLASS && b[EI_CLASS] == ELFCLASS64;
	size_t ehsize = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	size_t shsize = is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	size_t symsize = is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
	uint64_t shoff;
	unsigned shnum;
	if (f->len < ehsize)
		return;
	if (is64) {
		Elf64_Ehdr e;
		memcpy(&e, b, sizeof e);
		shoff = e.e_shoff, shnum = e.e_shnum;
	} else {
		Elf32_Ehdr e;
		memcpy(&e, b, sizeof e);
		shoff = e.e_shoff, shnum = e.e_shnum;
	}
	if (shoff > f->len || (uint64_t)shnum * shsize > f->len - shoff)
		return;
	for (unsigned i = 0; i < shnum; i++) {
		uint64_t off, size, stroff = 0, strsize = 0;
		uint32_t kind, link;
		const uint8_t *sh = b + shoff + (uint64_t)i * shsize;
		if (is64) {
			Elf64_Shdr h;
			memcpy(&h, sh, sizeof h);
			kind = h.sh_type, off = h.sh_offset, size = h.sh_size, link = h.sh_link;
		} else {
			Elf32_Shdr h;
			memcpy(&h, sh, sizeof h);
			kind = h.sh_type, off = h.sh_offset, size = h.sh_size, link = h.sh_link;
		}
		if (kind != SHT_SYMTAB || link >= shnum || off > f->len || size > f->len - off)
			continue;
		const uint8_t *lh = b + shoff + (uint64_t)link * shsize;
		if (is64) {
			Elf64_Shdr h;
			memcpy(&h, lh, sizeof h);
			stroff = h.sh_offset, strsize = h.sh_size;
		} else {
			Elf32_Shdr h;
			memcpy(&h, lh, sizeof h);
			stroff = h.sh_offset, strsize = h.sh_size;
		}
		if (stroff > f->len || strsize > f->len - stroff)
			return;
		for (uint64_t k = 0; k + symsize <= size; k += symsize) {
			uint64_t value;
			uint32_t name;
			if (is64) {
				Elf64_Sym y;
				memcpy(&y, b + off + k, sizeof y);
				value = y.st_value, name = y.st_name;
			} else {
				Elf32_Sym y;
				memcpy(&y, b + off + k, sizeof y);
				value = y.st_value, name = y.st_name;
			}
			/* "$d" or "$d.<n>", and "$a", "$t", "$x" likewise */
			if (name + 2 >= strsize)
				continue;
			const char *n = (const char *)b + stroff + name;
			if (n[0] != '$' || !strchr("datx", n[1]) || (n[2] && n[2] != '.'))
				continue;
			struct code_mark *nm = realloc(f->marks, (f->nmarks + 1) * sizeof *nm);
			if (!nm)
				return;
			f->marks = nm;
			f->marks[f->nmarks++] = (struct code_mark){ value + bias, n[1] == 'd' };
		}
		break;
	}
	if (f->nmarks)
		qsort(f->marks, f->nmarks, sizeof *f->marks, cmp_mark);
}

/* Does a mapping symbol say pc is data? */
static int is_data(const struct code_file *f, uint64_t pc)
{
	int data = 0;
	for (size_t i = 0; i < f->nmarks && f->marks[i].addr <= pc; i++)
		data = f->marks[i].data;
	return data;
}

void code_file_open(struct code_file *f, const char *path, const struct arch_ops *ops, int type, uint64_t bias)
{
	char err[LOADER_ERR_MAX];
	memset(f, 0, sizeof *f);
	FILE *in = fopen(path, "rb");
	if (!in)
		return;
	if (!fseek(in, 0, SEEK_END)) {
		long n = ftell(in);
		if (n > 0 && (unsigned long)n <= MAX_FILE && !fseek(in, 0, SEEK_SET) && (f->buf = malloc((size_t)n)) &&
		    fread(f->buf, 1, (size_t)n, in) == (size_t)n)
			f->len = (size_t)n;
	}
	fclose(in);
	if (f->len && !elf_parse(f->buf, f->len, ops, type, bias, &f->img, err)) {
		f->ok = 1;
		read_marks(f, type == ET_DYN ? bias : 0);
	}
}

void code_file_close(struct code_file *f)
{
	if (f->ok)
		elf_image_free(&f->img);
	free(f->marks);
	free(f->buf);
	memset(f, 0, sizeof *f);
}

/* The file's bytes at [addr, addr + *n) as far as one segment's file part
 * holds them (*n shortened to that); NULL if none. */
static const uint8_t *bytes_at(const struct code_file *f, uint64_t addr, size_t *n)
{
	for (unsigned i = 0; i < f->img.nseg; i++) {
		const struct segment *s = &f->img.seg[i];
		if (addr < s->vaddr || addr - s->vaddr >= s->filesz)
			continue;
		uint64_t left = s->filesz - (addr - s->vaddr);
		if (*n > left)
			*n = (size_t)left;
		return f->buf + s->offset + (addr - s->vaddr);
	}
	return NULL;
}

/* [lo, hi) of the symbol called name. */
static int symbol_range(const struct code_file *f, const char *name, uint64_t *lo, uint64_t *hi)
{
	const struct symtab *st = &f->img.syms;
	for (size_t i = 0; i < st->n; i++) {
		if (strcmp(st->v[i].name, name))
			continue;
		*lo = st->v[i].addr;
		*hi = *lo + (st->v[i].size ? st->v[i].size : NO_SIZE_SPAN);
		if (!st->v[i].size)	/* sorted by address: the next symbol above ends it */
			for (size_t k = i + 1; k < st->n; k++)
				if (st->v[k].addr > *lo) {
					if (st->v[k].addr < *hi)
						*hi = st->v[k].addr;
					break;
				}
		return 0;
	}
	return -1;
}

long code_function(const struct code_file *f, const struct arch_ops *ops, const char *name, const uint64_t *executed,
		   size_t nexec, struct code_insn **out)
{
	uint64_t lo, hi;
	csh cs;
	*out = NULL;
	if (!f->ok || symbol_range(f, name, &lo, &hi) || hi <= lo)
		return 0;
	if (cs_open(ops->cs_arch, ops->cs_mode, &cs) != CS_ERR_OK)
		return 0;
	size_t n = 0, cap = 0, e = 0;
	struct code_insn *v = NULL;
	cs_insn *insn = cs_malloc(cs);
	uint64_t pc = lo;
	while (insn && pc < hi) {
		size_t avail = (size_t)(hi - pc);
		const uint8_t *code = bytes_at(f, pc, &avail);
		if (!code)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct code_insn *nv = realloc(v, cap * sizeof *nv);
			if (!nv) {
				free(v);
				cs_free(insn, 1);
				cs_close(&cs);
				return -1;
			}
			v = nv;
		}
		const uint8_t *p = code;
		uint64_t at = pc;
		size_t size;
		struct code_insn *c = &v[n];
		c->pc = pc;
		if (is_data(f, pc) && avail >= 4) {
			/* in the file's byte order (e_ident[EI_DATA]) */
			int msb = f->buf[EI_DATA] == ELFDATA2MSB;
			uint32_t w = 0;
			for (int k = 0; k < 4; k++)
				w |= (uint32_t)code[msb ? k : 3 - k] << (8 * (3 - k));
			size = 4;
			snprintf(c->text, sizeof c->text, ".word 0x%08x", w);
		} else if (cs_disasm_iter(cs, &p, &avail, &at, insn)) {
			size = insn->size;
			char t[sizeof insn->mnemonic + sizeof insn->op_str + 2];
			snprintf(t, sizeof t, "%s%s%s", insn->mnemonic, insn->op_str[0] ? " " : "", insn->op_str);
			snprintf(c->text, sizeof c->text, "%.*s", (int)sizeof c->text - 1, t);
		} else {
			size = ops->pc_quantum;
			snprintf(c->text, sizeof c->text, "(bad)");
		}
		/* an executed pc inside this instruction: the sweep misread
		 * the bytes before it (data in the code); start again there */
		while (e < nexec && executed[e] <= pc)
			e++;
		if (e < nexec && executed[e] < pc + size) {
			pc = executed[e];
			continue;
		}
		n++;
		pc += size;
	}
	if (insn)
		cs_free(insn, 1);
	cs_close(&cs);
	*out = v;
	return (long)n;
}
