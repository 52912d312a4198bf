#include "loader.h"

#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE GUEST_PAGE
#define PAGE_DOWN(x) ((x) & ~(PAGE - 1))
#define PAGE_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))

/* No sane guest segment is larger; keeps a corrupt p_memsz from asking
 * the host for terabytes. */
#define MAX_SEGMENT_BYTES (256ull << 20)
#define MAX_PHNUM 64

static int fail(char *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, LOADER_ERR_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

/* [off, off+size) lies inside a file of len bytes (no overflow). */
static int in_file(uint64_t off, uint64_t size, size_t len)
{
	return off <= len && size <= len - off;
}

/* --- Class-neutral views of the headers ------------------------------ */

struct ehdr {
	uint16_t type, machine;
	uint64_t entry, phoff, shoff;
	uint16_t phentsize, phnum, shentsize, shnum, shstrndx;
};

struct phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, filesz, memsz;
};

struct shdr {
	uint32_t type, link;
	uint64_t offset, size, entsize;
};

static void read_ehdr(const uint8_t *b, int is64, struct ehdr *e)
{
	if (is64) {
		Elf64_Ehdr h;
		memcpy(&h, b, sizeof h);
		*e = (struct ehdr){ h.e_type, h.e_machine, h.e_entry, h.e_phoff, h.e_shoff,
				    h.e_phentsize, h.e_phnum, h.e_shentsize, h.e_shnum, h.e_shstrndx };
	} else {
		Elf32_Ehdr h;
		memcpy(&h, b, sizeof h);
		*e = (struct ehdr){ h.e_type, h.e_machine, h.e_entry, h.e_phoff, h.e_shoff,
				    h.e_phentsize, h.e_phnum, h.e_shentsize, h.e_shnum, h.e_shstrndx };
	}
}

static void read_phdr(const uint8_t *b, int is64, struct phdr *p)
{
	if (is64) {
		Elf64_Phdr h;
		memcpy(&h, b, sizeof h);
		*p = (struct phdr){ h.p_type, h.p_flags, h.p_offset, h.p_vaddr, h.p_filesz, h.p_memsz };
	} else {
		Elf32_Phdr h;
		memcpy(&h, b, sizeof h);
		*p = (struct phdr){ h.p_type, h.p_flags, h.p_offset, h.p_vaddr, h.p_filesz, h.p_memsz };
	}
}

static void read_shdr(const uint8_t *b, int is64, struct shdr *s)
{
	if (is64) {
		Elf64_Shdr h;
		memcpy(&h, b, sizeof h);
		*s = (struct shdr){ h.sh_type, h.sh_link, h.sh_offset, h.sh_size, h.sh_entsize };
	} else {
		Elf32_Shdr h;
		memcpy(&h, b, sizeof h);
		*s = (struct shdr){ h.sh_type, h.sh_link, h.sh_offset, h.sh_size, h.sh_entsize };
	}
}

/* --- Symbols -------------------------------------------------------------- */

/* A symbol as read, until the table is sorted: does it name a function
 * (STT_FUNC, or a global label without a type: `.globl walltime` and no
 * `.type`), does it start something (a function, an object, a sized
 * symbol) that ends an unsized function before it? */
struct typed_symbol {
	struct symbol s;
	int function, starts;
};

static int symbol_cmp(const void *a, const void *b)
{
	const struct symbol *x = &((const struct typed_symbol *)a)->s, *y = &((const struct typed_symbol *)b)->s;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* Prefer the sized symbol, then the name, for a stable order. */
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * Reads .symtab (or .dynsym when stripped, as the vDSO may be).  Section
 * headers are optional; when present they must lie inside the file.
 */
static int read_symbols(const uint8_t *buf, size_t len, int is64, const struct ehdr *e,
			uint64_t bias, struct symtab *st, char *err)
{
	size_t shsize = is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
	size_t symsize = is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);

	if (e->shoff == 0 || e->shnum == 0)
		return 0;
	if (e->shentsize != shsize)
		return fail(err, "section header size %u, expected %zu", e->shentsize, shsize);
	if (!in_file(e->shoff, (uint64_t)e->shnum * shsize, len))
		return fail(err, "section headers lie beyond the end of the file (truncated?)");

	struct shdr sym = { 0 }, str;
	int found = 0;
	for (uint32_t want = SHT_SYMTAB; !found && want; want = want == SHT_SYMTAB ? SHT_DYNSYM : 0) {
		for (unsigned i = 0; i < e->shnum; i++) {
			read_shdr(buf + e->shoff + i * shsize, is64, &sym);
			if (sym.type == want) {
				found = 1;
				break;
			}
		}
	}
	if (!found)
		return 0;
	if (sym.entsize != symsize || !in_file(sym.offset, sym.size, len))
		return fail(err, "symbol table lies beyond the end of the file or is malformed");
	if (sym.link == 0 || sym.link >= e->shnum)
		return fail(err, "symbol table has no string table");
	read_shdr(buf + e->shoff + sym.link * shsize, is64, &str);
	if (str.type != SHT_STRTAB || !in_file(str.offset, str.size, len) || str.size == 0)
		return fail(err, "symbol string table lies beyond the end of the file or is malformed");

	size_t nsym = sym.size / symsize;
	struct typed_symbol *t = calloc(nsym ? nsym : 1, sizeof *t);
	st->v = calloc(nsym ? nsym : 1, sizeof *st->v);
	st->strings = malloc(str.size + 1);
	if (!t || !st->v || !st->strings) {
		free(t);
		return fail(err, "out of memory reading symbols");
	}
	memcpy(st->strings, buf + str.offset, str.size);
	st->strings[str.size] = 0;	/* a name running off the end stops here */

	for (size_t i = 0; i < nsym; i++) {
		const uint8_t *p = buf + sym.offset + i * symsize;
		uint64_t value, size;
		uint32_t name;
		uint16_t shndx;
		unsigned type, bind;
		if (is64) {
			Elf64_Sym s;
			memcpy(&s, p, sizeof s);
			value = s.st_value, size = s.st_size, name = s.st_name;
			shndx = s.st_shndx, type = ELF64_ST_TYPE(s.st_info), bind = ELF64_ST_BIND(s.st_info);
		} else {
			Elf32_Sym s;
			memcpy(&s, p, sizeof s);
			value = s.st_value, size = s.st_size, name = s.st_name;
			shndx = s.st_shndx, type = ELF32_ST_TYPE(s.st_info), bind = ELF32_ST_BIND(s.st_info);
		}
		if (shndx == SHN_UNDEF || shndx == SHN_ABS || name == 0 || name >= str.size)
			continue;
		if (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE)
			continue;
		const char *n = st->strings + name;
		/* Assembler-local labels (.L*) and ARM mapping symbols ($a, $d)
		 * name no function. */
		if (n[0] == '$' || (n[0] == '.' && n[1] == 'L'))
			continue;
		int function = type == STT_FUNC || (type == STT_NOTYPE && bind != STB_LOCAL);
		t[st->n++] = (struct typed_symbol){ { value + bias, size, n }, function,
						     function || type == STT_OBJECT || size };
	}
	qsort(t, st->n, sizeof *t, symbol_cmp);
	/*
	 * A function without a .size directive (the contract does not ask
	 * for one) has st_size 0.  It extends to the next function, object
	 * or sized symbol: local labels inside it (no type, no size) do not
	 * end it.  The last one in the file stays unsized.
	 */
	for (size_t i = 0; i < st->n; i++) {
		st->v[i] = t[i].s;
		if (!t[i].function || t[i].s.size)
			continue;
		for (size_t j = i + 1; j < st->n; j++)
			if (t[j].s.addr > t[i].s.addr && t[j].starts) {
				st->v[i].size = t[j].s.addr - t[i].s.addr;
				break;
			}
	}
	free(t);
	return 0;
}

const char *symtab_lookup(const struct symtab *st, uint64_t addr, uint64_t *off)
{
	size_t lo = 0, hi = st->n;
	/* The last symbol at or below addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (st->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Walk down past zero-sized labels to a sized symbol that covers
	 * addr; fall back to the nearest label. */
	for (size_t i = lo; i-- > 0;) {
		const struct symbol *s = &st->v[i];
		if (s->size && addr < s->addr + s->size) {
			*off = addr - s->addr;
			return s->name;
		}
		if (s->size)
			break;
	}
	if (lo > 0 && st->v[lo - 1].size == 0) {
		*off = addr - st->v[lo - 1].addr;
		return st->v[lo - 1].name;
	}
	return NULL;
}

void elf_image_free(struct elf_image *img)
{
	free(img->syms.v);
	free(img->syms.strings);
	img->syms = (struct symtab){ 0 };
}

/* --- Headers -------------------------------------------------------------- */

static const char *class_name(int c)
{
	return c == ELFCLASS32 ? "32-bit" : c == ELFCLASS64 ? "64-bit" : "unknown-class";
}

int elf_parse(const uint8_t *buf, size_t len, const struct arch_ops *ops, int want_type,
	      uint64_t bias, struct elf_image *img, char *err)
{
	memset(img, 0, sizeof *img);
	if (len < SELFMAG || memcmp(buf, ELFMAG, SELFMAG))
		return fail(err, "not an ELF file (bad magic)");
	if (len < EI_NIDENT)
		return fail(err, "file ends inside the ELF header (truncated)");
	int cls = buf[EI_CLASS];
	if (cls != ELFCLASS32 && cls != ELFCLASS64)
		return fail(err, "bad ELF class %d", cls);
	if (cls != ops->elf_class)
		return fail(err, "%s ELF, but arch %s needs %s", class_name(cls), ops->name,
			    class_name(ops->elf_class));
	if (buf[EI_DATA] != ELFDATA2LSB)
		return fail(err, "not a little-endian ELF");
	int is64 = cls == ELFCLASS64;
	size_t ehsize = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	size_t phsize = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	if (len < ehsize)
		return fail(err, "file ends inside the ELF header (truncated)");

	struct ehdr e;
	read_ehdr(buf, is64, &e);
	if (e.machine != ops->elf_machine)
		return fail(err, "ELF machine %u, but arch %s needs %u", e.machine, ops->name, ops->elf_machine);
	if (e.type != want_type)
		return fail(err, "ELF type %u, expected %s", e.type,
			    want_type == ET_EXEC ? "a static executable (ET_EXEC)" : "a shared object (ET_DYN)");
	if (e.phentsize != phsize)
		return fail(err, "program header size %u, expected %zu", e.phentsize, phsize);
	if (e.phnum == 0 || e.phnum > MAX_PHNUM)
		return fail(err, "%u program headers (1..%d expected)", e.phnum, MAX_PHNUM);
	if (!in_file(e.phoff, (uint64_t)e.phnum * phsize, len))
		return fail(err, "program headers lie beyond the end of the file (truncated?)");

	img->type = e.type;
	img->bias = bias;
	img->entry = e.entry + bias;
	img->phentsize = e.phentsize;
	img->phnum = e.phnum;

	uint64_t limit = ops->address_limit, prev_end = 0;
	for (unsigned i = 0; i < e.phnum; i++) {
		struct phdr p;
		read_phdr(buf + e.phoff + i * phsize, is64, &p);
		if (p.type == PT_INTERP)
			return fail(err, "dynamically linked (PT_INTERP): only static images run here");
		if (p.type == PT_PHDR)
			img->phdr_addr = p.vaddr + bias;
		if (p.type != PT_LOAD)
			continue;
		if (img->nseg == LOADER_MAX_SEGMENTS)
			return fail(err, "more than %d PT_LOAD segments", LOADER_MAX_SEGMENTS);
		if (p.filesz > p.memsz)
			return fail(err, "PT_LOAD %u: file size 0x%llx exceeds memory size 0x%llx", i,
				    (unsigned long long)p.filesz, (unsigned long long)p.memsz);
		if (p.memsz == 0 || p.memsz > MAX_SEGMENT_BYTES)
			return fail(err, "PT_LOAD %u: memory size 0x%llx is not sane", i,
				    (unsigned long long)p.memsz);
		if (!in_file(p.offset, p.filesz, len))
			return fail(err, "PT_LOAD %u: contents lie beyond the end of the file (truncated?)", i);
		if ((p.vaddr - p.offset) % PAGE)
			return fail(err, "PT_LOAD %u: address and file offset are not congruent modulo the page size", i);
		uint64_t va = p.vaddr + bias;
		if (va < bias || va > limit || p.memsz > limit - va)
			return fail(err, "PT_LOAD %u: address 0x%llx lies outside the %s address space", i,
				    (unsigned long long)va, ops->name);
		/* Two segments may share a page (the linker packs the headers
		 * and .text so), never a byte. */
		if (img->nseg && va < prev_end)
			return fail(err, "PT_LOAD %u: overlaps the previous segment or is out of order", i);
		prev_end = va + p.memsz;
		img->seg[img->nseg++] = (struct segment){ va, p.memsz, p.offset, p.filesz, p.flags };
		/* Where the program headers land, if this segment maps them. */
		if (!img->phdr_addr && e.phoff >= p.offset && e.phoff - p.offset < p.filesz)
			img->phdr_addr = va + (e.phoff - p.offset);
	}
	if (!img->nseg)
		return fail(err, "no PT_LOAD segment");
	img->lo = PAGE_DOWN(img->seg[0].vaddr);
	img->hi = PAGE_UP(prev_end);

	if (want_type == ET_EXEC) {
		int ok = 0;
		for (unsigned i = 0; i < img->nseg; i++) {
			const struct segment *s = &img->seg[i];
			if ((s->flags & PF_X) && img->entry >= s->vaddr && img->entry - s->vaddr < s->memsz)
				ok = 1;
		}
		if (!ok)
			return fail(err, "entry point 0x%llx is not in an executable segment",
				    (unsigned long long)img->entry);
		if (img->entry % ops->pc_quantum)
			return fail(err, "entry point 0x%llx is not %u-byte aligned",
				    (unsigned long long)img->entry, ops->pc_quantum);
	}
	if (read_symbols(buf, len, is64, &e, bias, &img->syms, err)) {
		elf_image_free(img);
		return -1;
	}
	return 0;
}

/* --- Files -------------------------------------------------------------- */

#define MAX_FILE_BYTES (512ull << 20)

static int read_file(const char *path, uint8_t **buf, size_t *len, char *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return fail(err, "cannot open: %s", strerror(errno));
	size_t cap = 1 << 16, n = 0;
	uint8_t *b = malloc(cap);
	for (;;) {
		if (!b) {
			fclose(f);
			return fail(err, "out of memory");
		}
		n += fread(b + n, 1, cap - n, f);
		if (n < cap)
			break;
		if (cap >= MAX_FILE_BYTES) {
			free(b);
			fclose(f);
			return fail(err, "larger than %llu MiB", MAX_FILE_BYTES >> 20);
		}
		cap *= 2;
		uint8_t *nb = realloc(b, cap);
		if (!nb)
			free(b);
		b = nb;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(b);
		return fail(err, "read error");
	}
	*buf = b;
	*len = n;
	return 0;
}

static uint32_t seg_perms(uint32_t pf)
{
	return (pf & PF_R ? UC_PROT_READ : 0) | (pf & PF_W ? UC_PROT_WRITE : 0) |
	       (pf & PF_X ? UC_PROT_EXEC : 0);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int map_segments(struct machine *mc, const uint8_t *buf, const struct elf_image *img,
			const char *who, int is_vdso, char *err)
{
	for (unsigned i = 0; i < img->nseg; i++) {
		const struct segment *s = &img->seg[i];
		enum region_kind kind = is_vdso ? REGION_VDSO
				      : s->flags & PF_X ? REGION_IMAGE_TEXT : REGION_IMAGE_DATA;
		char name[40];
		snprintf(name, sizeof name, "%.30s %s", who, region_kind_name(kind));
		uint64_t b = PAGE_DOWN(s->vaddr), e = PAGE_UP(s->vaddr + s->memsz);
		/*
		 * A page shared with the previous segment is mapped again, as
		 * Linux's MAP_FIXED mapping of this segment replaces it: it
		 * takes this segment's protection and keeps its bytes.
		 */
		uint8_t shared[PAGE];
		uint64_t prev_end = i ? PAGE_UP(img->seg[i - 1].vaddr + img->seg[i - 1].memsz) : 0;
		int overlap = i && b < prev_end;
		if (overlap && (machine_read(mc, b, shared, PAGE) || machine_unmap(mc, b, b + PAGE)))
			return fail(err, "internal error remapping the page at 0x%llx", (unsigned long long)b);
		if (machine_map(mc, b, e, seg_perms(s->flags), kind, name))
			return fail(err, "cannot map PT_LOAD at 0x%llx..0x%llx (overlaps another mapping?)",
				    (unsigned long long)b, (unsigned long long)e);
		if (overlap)
			machine_write(mc, b, shared, PAGE);
		/* The rest up to memsz (.bss) is already zero. */
		if (machine_write(mc, s->vaddr, buf + s->offset, s->filesz))
			return fail(err, "internal error writing PT_LOAD %u", i);
	}
	return 0;
}

int loader_load_image(struct machine *mc, const char *path, struct elf_image *img, char *err)
{
	uint8_t *buf;
	size_t len;
	memset(img, 0, sizeof *img);
	if (read_file(path, &buf, &len, err))
		return -1;
	int r = elf_parse(buf, len, mc->ops, ET_EXEC, 0, img, err);
	if (!r)
		r = map_segments(mc, buf, img, base_name(path), 0, err);
	free(buf);
	return r;
}

int loader_vdso_base_usable(const struct arch_ops *ops, uint64_t base, char *err)
{
	uint64_t slo = ops->stack_top - LOADER_STACK_SIZE - PAGE;	/* with its guard page */
	if (base % PAGE)
		return fail(err, "vDSO base 0x%llx is not page-aligned", (unsigned long long)base);
	if (base < 2 * PAGE)
		return fail(err, "vDSO base 0x%llx puts the vvar page (one page below) at address 0x%llx%s",
			    (unsigned long long)base, (unsigned long long)(base ? base - PAGE : 0),
			    base ? ", which the kernel reads as no vvar" : "");
	if (base >= ops->address_limit)
		return fail(err, "vDSO base 0x%llx is above the %s user address space (below 0x%llx)",
			    (unsigned long long)base, ops->name, (unsigned long long)ops->address_limit);
	if (base - PAGE < ops->stack_top && base + PAGE > slo)
		return fail(err, "vDSO base 0x%llx overlaps the process stack (0x%llx..0x%llx, with its guard page)",
			    (unsigned long long)base, (unsigned long long)slo, (unsigned long long)ops->stack_top);
	return 0;
}

int loader_load_vdso(struct machine *mc, const char *path, uint64_t base, struct elf_image *img, char *err)
{
	uint8_t *buf;
	size_t len;
	memset(img, 0, sizeof *img);
	if (loader_vdso_base_usable(mc->ops, base, err))
		return -2;
	if (read_file(path, &buf, &len, err))
		return -1;
	int r = elf_parse(buf, len, mc->ops, ET_DYN, base, img, err);
	/* Placement, now that the extent is known: the vvar page and every
	 * segment clear of what is mapped (the image) and of the process
	 * stack (mapped after), inside the address space. */
	uint64_t slo = mc->ops->stack_top - LOADER_STACK_SIZE - PAGE;
	for (size_t i = 0; !r && i < mc->nregions; i++) {
		const struct region *g = &mc->regions[i];
		if (g->begin < img->hi && g->end > base - PAGE) {
			r = fail(err, "vDSO base 0x%llx: the vvar page and vDSO (0x%llx..0x%llx) overlap the %s (0x%llx..0x%llx)",
				 (unsigned long long)base, (unsigned long long)(base - PAGE), (unsigned long long)img->hi,
				 g->name, (unsigned long long)g->begin, (unsigned long long)g->end);
			free(buf);
			elf_image_free(img);
			return -2;
		}
	}
	if (!r && (img->hi > mc->ops->address_limit || (img->hi > slo && base - PAGE < mc->ops->stack_top))) {
		r = fail(err, "vDSO base 0x%llx: the vDSO (0x%llx..0x%llx) %s", (unsigned long long)base,
			 (unsigned long long)base, (unsigned long long)img->hi,
			 img->hi > mc->ops->address_limit ? "runs past the top of the user address space"
							  : "overlaps the process stack");
		free(buf);
		elf_image_free(img);
		return -2;
	}
	/* AT_SYSINFO_EHDR points at the ELF header: the first PT_LOAD must
	 * map it, at offset 0 of the image. */
	if (!r && (img->seg[0].offset != 0 || img->seg[0].vaddr != base))
		r = fail(err, "first PT_LOAD does not map the ELF header at address 0");
	if (!r && machine_map(mc, base - PAGE, base, UC_PROT_READ, REGION_VVAR, "vvar"))
		r = fail(err, "cannot map the vvar page at 0x%llx (overlaps another mapping?)",
			 (unsigned long long)(base - PAGE));
	if (!r)
		r = map_segments(mc, buf, img, "vdso", 1, err);
	free(buf);
	return r;
}

/* --- The initial stack ------------------------------------------------------ */

int loader_build_stack(struct machine *mc, const struct elf_image *exe, uint64_t vdso_base,
		       int argc, const char *const *argv, uint64_t *sp, char *err)
{
	const struct process_extras none = { 0 };
	return loader_build_process_stack(mc, exe, vdso_base, argc, argv, &none, sp, err);
}

int loader_build_process_stack(struct machine *mc, const struct elf_image *exe, uint64_t vdso_base,
			       int argc, const char *const *argv, const struct process_extras *x,
			       uint64_t *sp, char *err)
{
	const struct arch_ops *ops = mc->ops;
	unsigned w = ops->word_size;
	uint64_t top = ops->stack_top, lo = top - LOADER_STACK_SIZE;

	if (machine_map(mc, lo - PAGE, lo, UC_PROT_NONE, REGION_GUARD, "stack guard") ||
	    machine_map(mc, lo, top, UC_PROT_READ | UC_PROT_WRITE, REGION_STACK, "stack"))
		return fail(err, "cannot map the stack at 0x%llx..0x%llx", (unsigned long long)lo,
			    (unsigned long long)top);

	/* Strings at the top, below one zero word (Linux's end marker). */
	uint64_t at = top - w;
	int envc = x->envc;
	uint64_t *argp = calloc((size_t)(argc + envc) + 1, sizeof *argp);
	if (!argp)
		return fail(err, "out of memory");
	size_t strbytes = 0;
	for (int i = 0; i < argc; i++)
		strbytes += strlen(argv[i]) + 1;
	for (int i = 0; i < envc; i++)
		strbytes += strlen(x->envp[i]) + 1;
	if (strbytes > LOADER_STACK_SIZE / 4) {
		free(argp);
		return fail(err, "arguments too long");
	}
	for (int i = envc; i-- > 0;) {
		size_t n = strlen(x->envp[i]) + 1;
		at -= n;
		machine_write(mc, at, x->envp[i], n);
		argp[argc + i] = at;
	}
	for (int i = argc; i-- > 0;) {
		size_t n = strlen(argv[i]) + 1;
		at -= n;
		machine_write(mc, at, argv[i], n);
		argp[i] = at;
	}
	uint8_t rnd[16];
	for (int i = 0; i < 16; i++)
		rnd[i] = LOADER_RANDOM_BYTE(i);
	at = (at - sizeof rnd) & ~15ull;
	uint64_t random_at = at;
	machine_write(mc, random_at, rnd, sizeof rnd);

	uint64_t auxv[][2] = {
		{ AT_PHDR, exe->phdr_addr },
		{ AT_PHENT, exe->phentsize },
		{ AT_PHNUM, exe->phnum },
		{ AT_PAGESZ, PAGE },
		{ AT_ENTRY, exe->entry },
		{ AT_RANDOM, random_at },
		{ AT_SYSINFO_EHDR, vdso_base },
		{ AT_HWCAP, x->hwcap },
		{ AT_NULL, 0 },
	};
	size_t nauxv = sizeof auxv / sizeof auxv[0];
	if (!x->hwcap) {	/* the guest images' vector has none */
		auxv[nauxv - 2][0] = AT_NULL;
		nauxv--;
	}
	if (!vdso_base) {	/* no vDSO: no AT_SYSINFO_EHDR, as under qemu-user 7.2 */
		memmove(auxv[nauxv - (x->hwcap ? 3 : 2)], auxv[nauxv - (x->hwcap ? 2 : 1)],
			(x->hwcap ? 2 : 1) * sizeof auxv[0]);
		nauxv--;
	}

	/* argc, argv[], NULL, envp[], NULL, auxv: sp at argc, 16-aligned. */
	size_t words = 1 + (size_t)argc + 1 + (size_t)envc + 1 + 2 * nauxv;
	uint64_t p = (at - words * w) & ~15ull;
	*sp = p;
	machine_write_word(mc, p, (uint64_t)argc);
	p += w;
	for (int i = 0; i < argc; i++, p += w)
		machine_write_word(mc, p, argp[i]);
	machine_write_word(mc, p, 0);	/* argv terminator */
	p += w;
	for (int i = 0; i < envc; i++, p += w)
		machine_write_word(mc, p, argp[argc + i]);
	machine_write_word(mc, p, 0);	/* envp terminator */
	p += w;
	for (size_t i = 0; i < nauxv; i++, p += 2 * w) {
		machine_write_word(mc, p, auxv[i][0]);
		machine_write_word(mc, p + w, auxv[i][1]);
	}
	free(argp);
	return 0;
}
