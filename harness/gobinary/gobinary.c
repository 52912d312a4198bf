/*
 * Opening a Go program: the file is read whole, then checked in the order
 * a user's mistake is most likely found -- is it ELF, is it a static
 * executable, for which arch, is it Go (a pclntab), which Go
 * (runtime.buildVersion), and does it carry the DWARF that says where g
 * and m keep their fields.  Each step refuses with one line.
 *
 * Every offset and size read from the file is checked against the file's
 * length before it is used (in_file); addresses are turned into file bytes
 * only through the PT_LOADs (gobinary_read).
 */
#include "gobinary.h"

#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_section.h"

#define MAX_LOADS 16

struct gobinary {
	uint8_t *file;
	size_t len;
	unsigned refs;		/* gobinary_open's callers and the last-opened cache */
	int is64;
	const struct arch_ops *arch;
	uint64_t entry, text, etext;
	struct { uint64_t vaddr, offset, filesz, memsz; } load[MAX_LOADS];
	unsigned nload;
	/* Section headers (all inside the file once open succeeds). */
	uint64_t shoff, shnum, shentsize;
	const uint8_t *shstrtab;
	size_t shstrtab_len;
	/* The symbol table and its strings. */
	const uint8_t *syms, *strtab;
	size_t nsyms, strtab_len;
	struct pclntab *pcln;
	uint8_t *info, *abbrev;		/* inflated DWARF sections */
	struct dwarf_info *dwarf;
	struct go_layout layout;
	char version[64];
};

static int fail(char *err, size_t errlen, const char *name, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s: ", name);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return 2;
}

static uint64_t rd(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* [off, off+n) lies inside the file. */
static int in_file(const struct gobinary *gb, uint64_t off, uint64_t n)
{
	return off <= gb->len && n <= gb->len - off;
}

/* A field of the ELF header, program header, section header or symbol,
 * read at its class's offset and size. */
static uint64_t ehdr(const struct gobinary *gb, size_t off64, size_t off32, unsigned n64, unsigned n32)
{
	return gb->is64 ? rd(gb->file + off64, n64) : rd(gb->file + off32, n32);
}

#define EH(field) ehdr(gb, offsetof(Elf64_Ehdr, field), offsetof(Elf32_Ehdr, field), \
		       sizeof(((Elf64_Ehdr *)0)->field), sizeof(((Elf32_Ehdr *)0)->field))
#define PH(p, field) (gb->is64 ? rd((p) + offsetof(Elf64_Phdr, field), sizeof(((Elf64_Phdr *)0)->field)) \
			       : rd((p) + offsetof(Elf32_Phdr, field), sizeof(((Elf32_Phdr *)0)->field)))
#define SH(p, field) (gb->is64 ? rd((p) + offsetof(Elf64_Shdr, field), sizeof(((Elf64_Shdr *)0)->field)) \
			       : rd((p) + offsetof(Elf32_Shdr, field), sizeof(((Elf32_Shdr *)0)->field)))
#define SYM(p, field) (gb->is64 ? rd((p) + offsetof(Elf64_Sym, field), sizeof(((Elf64_Sym *)0)->field)) \
				: rd((p) + offsetof(Elf32_Sym, field), sizeof(((Elf32_Sym *)0)->field)))

static size_t sym_size(const struct gobinary *gb)
{
	return gb->is64 ? sizeof(Elf64_Sym) : sizeof(Elf32_Sym);
}

/* --- the ELF header and the program headers ------------------------------ */

static int check_elf(struct gobinary *gb, const char *name, char *err, size_t errlen)
{
	if (gb->len < EI_NIDENT || memcmp(gb->file, ELFMAG, SELFMAG))
		return fail(err, errlen, name, "not an ELF file");
	if (gb->file[EI_CLASS] != ELFCLASS32 && gb->file[EI_CLASS] != ELFCLASS64)
		return fail(err, errlen, name, "unknown ELF class %u", gb->file[EI_CLASS]);
	gb->is64 = gb->file[EI_CLASS] == ELFCLASS64;
	if (gb->len < (gb->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return fail(err, errlen, name, "truncated ELF header");
	if (gb->file[EI_DATA] != ELFDATA2LSB)
		return fail(err, errlen, name, "big-endian ELF (sigstep's architectures are little-endian)");

	uint16_t machine = (uint16_t)EH(e_machine);
	for (const struct arch_ops *const *o = arch_ops_all; *o; o++)
		if ((*o)->elf_machine == machine && (*o)->elf_class == gb->file[EI_CLASS])
			gb->arch = *o;
	if (!gb->arch)
		return fail(err, errlen, name, "ELF machine %u (%u-bit) is not an architecture sigstep knows",
			    machine, gb->is64 ? 64 : 32);

	uint64_t phoff = EH(e_phoff), phnum = EH(e_phnum), phentsize = EH(e_phentsize);
	if (phentsize != (gb->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) || phnum == 0 ||
	    !in_file(gb, phoff, phnum * phentsize))
		return fail(err, errlen, name, "malformed ELF program headers");
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *p = gb->file + phoff + i * phentsize;
		uint64_t pt = PH(p, p_type);
		if (pt == PT_INTERP)
			return fail(err, errlen, name, "not a static executable (has PT_INTERP)");
		if (pt == PT_DYNAMIC)
			return fail(err, errlen, name, "not a static executable (has PT_DYNAMIC)");
		if (pt != PT_LOAD)
			continue;
		uint64_t off = PH(p, p_offset), filesz = PH(p, p_filesz), vaddr = PH(p, p_vaddr),
			 memsz = PH(p, p_memsz);
		if (gb->nload == MAX_LOADS)
			return fail(err, errlen, name, "more than %d PT_LOAD segments", MAX_LOADS);
		if (!in_file(gb, off, filesz) || filesz > memsz || vaddr + memsz < vaddr)
			return fail(err, errlen, name, "malformed PT_LOAD %llu (outside the file or wrapping)",
				    (unsigned long long)i);
		gb->load[gb->nload].vaddr = vaddr;
		gb->load[gb->nload].offset = off;
		gb->load[gb->nload].filesz = filesz;
		gb->load[gb->nload].memsz = memsz;
		gb->nload++;
	}
	/* After the program headers: a dynamic program's PT_INTERP is the
	 * clearer reason (a PIE is ET_DYN too). */
	uint64_t type = EH(e_type);
	if (type == ET_DYN)
		return fail(err, errlen, name,
			    "not a static executable (ELF type ET_DYN: position-independent or shared)");
	if (type != ET_EXEC)
		return fail(err, errlen, name, "not an executable (ELF type %llu)", (unsigned long long)type);
	if (!gb->nload)
		return fail(err, errlen, name, "no PT_LOAD segment");
	gb->entry = EH(e_entry);
	return 0;
}

/* --- sections and symbols ---------------------------------------------- */

static int check_sections(struct gobinary *gb, const char *name, char *err, size_t errlen)
{
	gb->shoff = EH(e_shoff);
	gb->shnum = EH(e_shnum);
	gb->shentsize = EH(e_shentsize);
	uint64_t shstrndx = EH(e_shstrndx);
	if (gb->shoff == 0 || gb->shnum == 0)
		return fail(err, errlen, name, "no ELF section headers (the pclntab and DWARF cannot be found)");
	if (gb->shentsize != (gb->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr)) ||
	    !in_file(gb, gb->shoff, gb->shnum * gb->shentsize) || shstrndx >= gb->shnum)
		return fail(err, errlen, name, "malformed ELF section headers");
	for (uint64_t i = 0; i < gb->shnum; i++) {
		const uint8_t *s = gb->file + gb->shoff + i * gb->shentsize;
		if (SH(s, sh_type) != SHT_NOBITS && !in_file(gb, SH(s, sh_offset), SH(s, sh_size)))
			return fail(err, errlen, name, "malformed ELF section %llu (outside the file)",
				    (unsigned long long)i);
	}
	const uint8_t *ss = gb->file + gb->shoff + shstrndx * gb->shentsize;
	if (SH(ss, sh_type) == SHT_NOBITS)
		return fail(err, errlen, name, "malformed ELF section headers (section names in a SHT_NOBITS section)");
	gb->shstrtab = gb->file + SH(ss, sh_offset);
	gb->shstrtab_len = (size_t)SH(ss, sh_size);

	/* The symbol table: SHT_SYMTAB, its strings in the section sh_link names. */
	for (uint64_t i = 0; i < gb->shnum; i++) {
		const uint8_t *s = gb->file + gb->shoff + i * gb->shentsize;
		if (SH(s, sh_type) != SHT_SYMTAB)
			continue;
		uint64_t link = SH(s, sh_link);
		if (SH(s, sh_entsize) != sym_size(gb) || link >= gb->shnum)
			return fail(err, errlen, name, "malformed ELF symbol table");
		const uint8_t *l = gb->file + gb->shoff + link * gb->shentsize;
		if (SH(l, sh_type) != SHT_STRTAB)
			return fail(err, errlen, name, "malformed ELF symbol table (its strings are not a string table)");
		gb->syms = gb->file + SH(s, sh_offset);
		gb->nsyms = (size_t)(SH(s, sh_size) / sym_size(gb));
		gb->strtab = gb->file + SH(l, sh_offset);
		gb->strtab_len = (size_t)SH(l, sh_size);
		break;
	}
	if (!gb->syms)
		return fail(err, errlen, name, "no ELF symbol table (stripped with -ldflags=-s?): "
					       "runtime.buildVersion and the runtime's symbols cannot be found");
	return 0;
}

/* The NUL-terminated string at off in [tab, tab+len), NULL if it runs out. */
static const char *table_string(const uint8_t *tab, size_t len, uint64_t off)
{
	if (off >= len || !memchr(tab + off, 0, len - (size_t)off))
		return NULL;
	return (const char *)tab + off;
}

/* The section named name that has bytes in the file (checked inside it
 * by check_sections): its header, NULL if none. */
static const uint8_t *find_section(const struct gobinary *gb, const char *name)
{
	for (uint64_t i = 0; i < gb->shnum; i++) {
		const uint8_t *s = gb->file + gb->shoff + i * gb->shentsize;
		const char *n = table_string(gb->shstrtab, gb->shstrtab_len, SH(s, sh_name));
		if (n && !strcmp(n, name) && SH(s, sh_type) != SHT_NOBITS)
			return s;
	}
	return NULL;
}

int gobinary_symbol(const struct gobinary *gb, const char *name, uint64_t *addr, uint64_t *size)
{
	for (size_t i = 1; i < gb->nsyms; i++) {
		const uint8_t *s = gb->syms + i * sym_size(gb);
		const char *n = table_string(gb->strtab, gb->strtab_len, SYM(s, st_name));
		if (n && SYM(s, st_shndx) != SHN_UNDEF && !strcmp(n, name)) {
			if (addr)
				*addr = SYM(s, st_value);
			if (size)
				*size = SYM(s, st_size);
			return 0;
		}
	}
	return -1;
}

const char *gobinary_symbol_at(const struct gobinary *gb, uint64_t addr, uint64_t *off)
{
	const char *best = NULL;
	uint64_t best_value = 0;

	for (size_t i = 1; i < gb->nsyms; i++) {
		const uint8_t *s = gb->syms + i * sym_size(gb);
		unsigned type = (unsigned)(SYM(s, st_info) & 0xf);
		uint64_t value = SYM(s, st_value), size = SYM(s, st_size);
		if (type == STT_SECTION || type == STT_FILE || SYM(s, st_shndx) == SHN_UNDEF)
			continue;
		if (value > addr || (size && addr - value >= size) || (best && value < best_value))
			continue;
		const char *n = table_string(gb->strtab, gb->strtab_len, SYM(s, st_name));
		if (n && *n) {
			best = n;
			best_value = value;
		}
	}
	if (best && off)
		*off = addr - best_value;
	return best;
}

const uint8_t *gobinary_read(const struct gobinary *gb, uint64_t vaddr, size_t len)
{
	for (unsigned i = 0; i < gb->nload; i++) {
		uint64_t lo = gb->load[i].vaddr, n = gb->load[i].filesz;
		if (vaddr >= lo && vaddr - lo <= n && len <= n - (vaddr - lo))
			return gb->file + gb->load[i].offset + (vaddr - lo);
	}
	return NULL;
}

/* --- Go: pclntab, text, version ------------------------------------------ */

static int open_pclntab(struct gobinary *gb, const char *name, char *err, size_t errlen)
{
	const uint8_t *data = NULL;
	uint64_t len = 0, lo, hi;
	const uint8_t *s = find_section(gb, ".gopclntab");

	if (s) {
		data = gb->file + SH(s, sh_offset);
		len = SH(s, sh_size);
	} else if (!gobinary_symbol(gb, "runtime.pclntab", &lo, NULL) &&
		   !gobinary_symbol(gb, "runtime.epclntab", &hi, NULL) && hi > lo) {
		len = hi - lo;
		data = len <= gb->len ? gobinary_read(gb, lo, (size_t)len) : NULL;
	}
	if (!data || !len)
		return fail(err, errlen, name, "no Go pclntab (not a Go program?)");

	char why[GOBINARY_ERR_MAX];
	if (pclntab_open(data, (size_t)len, gb->arch->word_size, gb->arch->pc_quantum, &gb->pcln, why,
			 sizeof why))
		return fail(err, errlen, name, "%s", why);

	/* The text the pclntab's offsets are relative to must be runtime.text. */
	if (gobinary_symbol(gb, "runtime.text", &gb->text, NULL) ||
	    gobinary_symbol(gb, "runtime.etext", &gb->etext, NULL))
		return fail(err, errlen, name, "no runtime.text / runtime.etext symbol (not a Go program?)");
	if (gb->text != pclntab_text_start(gb->pcln) || gb->etext < gb->text)
		return fail(err, errlen, name, "pclntab text start 0x%llx is not runtime.text 0x%llx",
			    (unsigned long long)pclntab_text_start(gb->pcln), (unsigned long long)gb->text);
	/* A very large program's text is split into several sections, all
	 * named .text, and its pclntab offsets then go through the
	 * runtime's textsectmap, which this reader does not apply. */
	unsigned ntext = 0;
	for (uint64_t i = 0; i < gb->shnum; i++) {
		const uint8_t *sh = gb->file + gb->shoff + i * gb->shentsize;
		const char *n = table_string(gb->shstrtab, gb->shstrtab_len, SH(sh, sh_name));
		ntext += n && !strcmp(n, ".text");
	}
	if (ntext > 1)
		return fail(err, errlen, name, "%u .text sections (a split text, mapped by textsectmap): not supported",
			    ntext);
	return 0;
}

/* runtime.buildVersion is a Go string: a pointer and a length, each a word. */
static int read_version(struct gobinary *gb, const char *name, char *err, size_t errlen)
{
	unsigned w = gb->arch->word_size;
	uint64_t addr, size;

	if (gobinary_symbol(gb, "runtime.buildVersion", &addr, &size))
		return fail(err, errlen, name, "no runtime.buildVersion symbol (not a Go program?)");
	const uint8_t *hdr = gobinary_read(gb, addr, 2 * w);
	if (size != 2 * w || !hdr)
		return fail(err, errlen, name, "runtime.buildVersion is not a string header in the file");
	uint64_t ptr = rd(hdr, w), len = rd(hdr + w, w);
	const uint8_t *s = len < sizeof gb->version ? gobinary_read(gb, ptr, (size_t)len) : NULL;
	if (!s || len < 3 || memcmp(s, "go", 2))
		return fail(err, errlen, name, "runtime.buildVersion does not point at a Go version string");
	for (uint64_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return fail(err, errlen, name, "runtime.buildVersion holds a non-printable byte");
	memcpy(gb->version, s, (size_t)len);
	gb->version[len] = 0;
	return 0;
}

/* --- DWARF ---------------------------------------------------------------- */

/* The inflated contents of .debug_<what> (or .zdebug_<what>); 1 if absent. */
static int dwarf_section(struct gobinary *gb, const char *what, uint8_t **out, size_t *len,
			 const char *name, char *err, size_t errlen)
{
	char sname[32];
	int zdebug = 0;

	snprintf(sname, sizeof sname, ".debug_%s", what);
	const uint8_t *s = find_section(gb, sname);
	if (!s) {
		snprintf(sname, sizeof sname, ".zdebug_%s", what);
		s = find_section(gb, sname);
		zdebug = 1;
	}
	if (!s)
		return 1;
	char why[GOBINARY_ERR_MAX];
	if (elf_section_contents(gb->file + SH(s, sh_offset), (size_t)SH(s, sh_size), SH(s, sh_flags), gb->is64,
				 zdebug, out, len, why, sizeof why)) {
		fail(err, errlen, name, "%s: %s", sname, why);
		return 2;
	}
	return 0;
}

static int read_layout(struct gobinary *gb, const char *name, char *err, size_t errlen)
{
	size_t info_len, abbrev_len;
	int rc = dwarf_section(gb, "info", &gb->info, &info_len, name, err, errlen);

	if (rc == 1)
		return fail(err, errlen, name, "no DWARF (.debug_info missing: stripped, or built with -ldflags=-w?): "
					       "the struct offsets of runtime.g and runtime.m cannot be read");
	if (rc)
		return rc;
	rc = dwarf_section(gb, "abbrev", &gb->abbrev, &abbrev_len, name, err, errlen);
	if (rc == 1)
		return fail(err, errlen, name, "no DWARF .debug_abbrev (the .debug_info cannot be read without it)");
	if (rc)
		return rc;
	char why[GOBINARY_ERR_MAX];
	if (dwarf_info_open(gb->info, info_len, gb->abbrev, abbrev_len, &gb->dwarf, why, sizeof why) ||
	    dwarf_go_layout(gb->dwarf, &gb->layout, why, sizeof why))
		return fail(err, errlen, name, "%s", why);
	return 0;
}

/* --- open, close, accessors ----------------------------------------------- */

static int open_owned(const char *name, uint8_t *file, size_t len, struct gobinary **out, char *err,
		      size_t errlen)
{
	struct gobinary *gb = calloc(1, sizeof *gb);
	int rc;

	*out = NULL;
	if (!gb) {
		free(file);
		return fail(err, errlen, name, "out of memory");
	}
	gb->file = file;
	gb->len = len;
	gb->refs = 1;
	if ((rc = check_elf(gb, name, err, errlen)) || (rc = check_sections(gb, name, err, errlen)) ||
	    (rc = open_pclntab(gb, name, err, errlen)) || (rc = read_version(gb, name, err, errlen)) ||
	    (rc = read_layout(gb, name, err, errlen))) {
		gobinary_close(gb);
		return rc;
	}
	*out = gb;
	return 0;
}

/*
 * The last program gobinary_open parsed, kept (one reference of its own)
 * so that opening it again -- every row of a matrix opens the same Go
 * program -- costs a read and a compare, not a parse (~100 M host
 * instructions of DWARF and pclntab).  Keyed by the file's whole content,
 * so a file changed between opens is parsed again; nothing in a parsed
 * program changes after open.  gobinary_open_bytes parses its bytes
 * every time.
 */
static struct gobinary *last_opened;

int gobinary_open_bytes(const char *name, const uint8_t *buf, size_t len, struct gobinary **out, char *err,
			size_t errlen)
{
	uint8_t *copy = malloc(len ? len : 1);

	*out = NULL;
	if (!copy)
		return fail(err, errlen, name, "out of memory");
	memcpy(copy, buf, len);
	return open_owned(name, copy, len, out, err, errlen);
}

int gobinary_open(const char *path, struct gobinary **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	*out = NULL;
	if (!f)
		return fail(err, errlen, path, "cannot open: %s", strerror(errno));
	for (;;) {
		if (len == cap) {
			if (cap >= GOBINARY_MAX_FILE) {
				fclose(f);
				free(buf);
				return fail(err, errlen, path, "larger than %u MiB", GOBINARY_MAX_FILE >> 20);
			}
			cap = cap ? cap * 2 : 1u << 20;
			uint8_t *nb = realloc(buf, cap);
			if (!nb) {
				fclose(f);
				free(buf);
				return fail(err, errlen, path, "out of memory");
			}
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		return fail(err, errlen, path, "read error");
	}
	if (last_opened && last_opened->len == len && !memcmp(last_opened->file, buf, len)) {
		free(buf);
		last_opened->refs++;
		*out = last_opened;
		return 0;
	}
	int rc = open_owned(path, buf, len, out, err, errlen);
	if (!rc) {
		gobinary_close(last_opened);
		last_opened = *out;
		last_opened->refs++;
	}
	return rc;
}

void gobinary_close(struct gobinary *gb)
{
	if (!gb || --gb->refs)
		return;
	pclntab_close(gb->pcln);
	dwarf_info_close(gb->dwarf);
	free(gb->info);
	free(gb->abbrev);
	free(gb->file);
	free(gb);
}

const struct arch_ops *gobinary_arch(const struct gobinary *gb) { return gb->arch; }
const char *gobinary_version(const struct gobinary *gb) { return gb->version; }
const struct pclntab *gobinary_pclntab(const struct gobinary *gb) { return gb->pcln; }
const struct go_layout *gobinary_layout(const struct gobinary *gb) { return &gb->layout; }
const struct dwarf_info *gobinary_dwarf(const struct gobinary *gb) { return gb->dwarf; }
uint64_t gobinary_entry(const struct gobinary *gb) { return gb->entry; }
uint64_t gobinary_text_start(const struct gobinary *gb) { return gb->text; }
uint64_t gobinary_etext(const struct gobinary *gb) { return gb->etext; }

const uint8_t *gobinary_file(const struct gobinary *gb, size_t *len)
{
	*len = gb->len;
	return gb->file;
}

int gobinary_symbolize(const struct gobinary *gb, uint64_t pc, char *buf, size_t len)
{
	struct go_func f;
	uint64_t off;
	const char *name;

	if (pclntab_func_at(gb->pcln, pc, &f) == 0) {
		snprintf(buf, len, "%s+0x%llx", f.name, (unsigned long long)(pc - f.entry));
		return 0;
	}
	if ((name = gobinary_symbol_at(gb, pc, &off))) {
		snprintf(buf, len, "%s+0x%llx", name, (unsigned long long)off);
		return 0;
	}
	snprintf(buf, len, "0x%llx", (unsigned long long)pc);
	return -1;
}
