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
	if (f->len && !elf_parse(f->buf, f->len, ops, type, bias, &f->img, err))
		f->ok = 1;
}

void code_file_close(struct code_file *f)
{
	if (f->ok)
		elf_image_free(&f->img);
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
		if (cs_disasm_iter(cs, &p, &avail, &at, insn)) {
			size = insn->size;
			snprintf(c->text, sizeof c->text, "%s%s%s", insn->mnemonic, insn->op_str[0] ? " " : "", insn->op_str);
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
