/*
 * The synthetic vDSO, checked from the host.
 *
 * From disk, for every architecture ($SIGSTEP_BUILD_DIR/guest/<arch>/vdso.so):
 * an ELF shared object of the right class and machine, soname
 * linux-vdso.so.1, exactly the kernel's exported names with their
 * versions, no relocations, one read+execute segment at address 0 that
 * fits one page, and vvar_page one page below it.  This side reads the file
 * with <elf.h> and its section headers, independently of vdso_lookup.c.
 *
 * In this process, for amd64 (the host): the image mapped with a vvar page
 * below it as the kernel maps it, looked up with the guest's own
 * vdso_lookup.c (compiled for the host), and called: the results are the
 * vvar contents; every knob is observed from an assembly shim that sets and
 * captures the registers around the call, from a signal handler that
 * interrupts the vDSO while it waits on the seqlock, from the pages of a
 * stack the call ran on, and from faults in child processes.
 */
#define _GNU_SOURCE
#include <check.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "vdso_lookup.h"
#include "vvar.h"

#define PAGE 4096

/* ---------------------------------------------------------------- files */

struct vdso_file {
	unsigned char *data;
	size_t size;
};

static struct vdso_file read_vdso(const char *arch)
{
	const char *dir = getenv("SIGSTEP_BUILD_DIR");
	char path[4096];
	struct vdso_file f = { 0, 0 };
	FILE *fp;
	long n;

	ck_assert_msg(dir != NULL, "SIGSTEP_BUILD_DIR is not set");
	snprintf(path, sizeof(path), "%s/guest/%s/vdso.so", dir, arch);
	fp = fopen(path, "rb");
	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	ck_assert_msg(n > 0, "%s: empty", path);
	f.data = malloc((size_t)n);
	ck_assert_ptr_nonnull(f.data);
	ck_assert_msg(fread(f.data, 1, (size_t)n, fp) == (size_t)n, "%s: short read", path);
	fclose(fp);
	f.size = (size_t)n;
	return f;
}

/* What the file says, in one form for both classes. */
#define MAX_SYMS 64
struct dynsym {
	const char *name;
	const char *version;	/* "" when unversioned / local */
	uint64_t value, size;
	unsigned type, bind, shndx;
};

struct vdso_summary {
	int cls, machine, type;
	int nload;
	uint64_t load_vaddr, load_offset, load_memsz;
	unsigned load_flags;
	int has_dynamic;
	const char *soname;
	int relocations;	/* SHT_REL(A) sections and DT_REL(A), DT_JMPREL, DT_TEXTREL entries */
	int has_hash, has_gnu_hash;
	int vvar_found;
	int64_t vvar_page;
	int nsyms;
	struct dynsym syms[MAX_SYMS];
};

/* The same reader for Elf32 and Elf64: the field names are the same. */
#define DEFINE_SUMMARIZE(BITS)									\
static void summarize##BITS(const unsigned char *d, size_t size, struct vdso_summary *s)	\
{												\
	const Elf##BITS##_Ehdr *eh = (const void *)d;						\
	const Elf##BITS##_Phdr *ph = (const void *)(d + eh->e_phoff);				\
	const Elf##BITS##_Shdr *sh = (const void *)(d + eh->e_shoff);				\
	const Elf##BITS##_Sym *dynsym = 0, *symtab = 0;						\
	const char *dynstr = 0, *strtab = 0;							\
	const Elf##BITS##_Half *versym = 0;							\
	const unsigned char *verdef = 0;							\
	size_t ndynsym = 0, nsymtab = 0, i;							\
												\
	ck_assert_uint_le(eh->e_shoff + (size_t)eh->e_shnum * sizeof(*sh), size);		\
	s->machine = eh->e_machine;								\
	s->type = eh->e_type;									\
	for (i = 0; i < eh->e_phnum; i++) {							\
		if (ph[i].p_type == PT_LOAD) {							\
			if (s->nload++ == 0) {							\
				s->load_vaddr = ph[i].p_vaddr;					\
				s->load_offset = ph[i].p_offset;				\
				s->load_memsz = ph[i].p_memsz;					\
				s->load_flags = ph[i].p_flags;					\
			}									\
		} else if (ph[i].p_type == PT_DYNAMIC) {					\
			s->has_dynamic = 1;							\
		}										\
	}											\
	for (i = 0; i < eh->e_shnum; i++) {							\
		const Elf##BITS##_Shdr *x = &sh[i];						\
		switch (x->sh_type) {								\
		case SHT_REL: case SHT_RELA: s->relocations++; break;				\
		case SHT_HASH: s->has_hash = 1; break;						\
		case SHT_GNU_HASH: s->has_gnu_hash = 1; break;					\
		case SHT_DYNSYM:								\
			dynsym = (const void *)(d + x->sh_offset);				\
			ndynsym = x->sh_size / sizeof(*dynsym);					\
			dynstr = (const char *)d + sh[x->sh_link].sh_offset;			\
			break;									\
		case SHT_SYMTAB:								\
			symtab = (const void *)(d + x->sh_offset);				\
			nsymtab = x->sh_size / sizeof(*symtab);					\
			strtab = (const char *)d + sh[x->sh_link].sh_offset;			\
			break;									\
		case SHT_GNU_versym: versym = (const void *)(d + x->sh_offset); break;		\
		case SHT_GNU_verdef: verdef = d + x->sh_offset; break;				\
		case SHT_DYNAMIC: {								\
			const Elf##BITS##_Dyn *dyn = (const void *)(d + x->sh_offset);		\
			const char *str = (const char *)d + sh[x->sh_link].sh_offset;		\
			for (; dyn->d_tag != DT_NULL; dyn++) {					\
				if (dyn->d_tag == DT_SONAME)					\
					s->soname = str + dyn->d_un.d_val;			\
				if (dyn->d_tag == DT_REL || dyn->d_tag == DT_RELA ||		\
				    dyn->d_tag == DT_JMPREL || dyn->d_tag == DT_TEXTREL)	\
					s->relocations++;					\
			}									\
			break;									\
		}										\
		}										\
	}											\
	ck_assert_ptr_nonnull(dynsym);								\
	for (i = 1; i < ndynsym && s->nsyms < MAX_SYMS; i++) {					\
		struct dynsym *o = &s->syms[s->nsyms++];					\
		o->name = dynstr + dynsym[i].st_name;						\
		o->value = dynsym[i].st_value;							\
		o->size = dynsym[i].st_size;							\
		o->type = ELF##BITS##_ST_TYPE(dynsym[i].st_info);				\
		o->bind = ELF##BITS##_ST_BIND(dynsym[i].st_info);				\
		o->shndx = dynsym[i].st_shndx;							\
		o->version = "";								\
		if (versym != 0 && verdef != 0) {						\
			unsigned idx = versym[i] & 0x7fff;					\
			const unsigned char *v = verdef;					\
			for (;;) {								\
				const Elf##BITS##_Verdef *vd = (const void *)v;			\
				if (vd->vd_ndx == idx && !(vd->vd_flags & VER_FLG_BASE)) {	\
					const Elf##BITS##_Verdaux *aux =			\
						(const void *)(v + vd->vd_aux);			\
					o->version = dynstr + aux->vda_name;			\
				}								\
				if (vd->vd_next == 0)						\
					break;							\
				v += vd->vd_next;						\
			}									\
		}										\
	}											\
	for (i = 0; symtab != 0 && i < nsymtab; i++)						\
		if (strcmp(strtab + symtab[i].st_name, "vvar_page") == 0) {			\
			s->vvar_found = 1;							\
			s->vvar_page = (int64_t)(Elf##BITS##_Sword)symtab[i].st_value;		\
			if (BITS == 64)								\
				s->vvar_page = (int64_t)symtab[i].st_value;			\
		}										\
}
DEFINE_SUMMARIZE(32)
DEFINE_SUMMARIZE(64)

static struct vdso_summary summarize(const struct vdso_file *f)
{
	struct vdso_summary s;

	memset(&s, 0, sizeof(s));
	ck_assert_uint_ge(f->size, sizeof(Elf64_Ehdr));
	ck_assert_msg(memcmp(f->data, ELFMAG, SELFMAG) == 0, "not an ELF file");
	s.cls = f->data[EI_CLASS];
	if (s.cls == ELFCLASS64)
		summarize64(f->data, f->size, &s);
	else if (s.cls == ELFCLASS32)
		summarize32(f->data, f->size, &s);
	else
		ck_abort_msg("ELF class %d", s.cls);
	return s;
}

static const struct dynsym *find_dynsym(const struct vdso_summary *s, const char *name)
{
	int i;

	for (i = 0; i < s->nsyms; i++)
		if (strcmp(s->syms[i].name, name) == 0)
			return &s->syms[i];
	return NULL;
}

struct expected_export {
	const char *name;
	const char *version;
	unsigned bind;
};

struct expected_arch {
	const char *arch;
	int cls, machine;
	const struct expected_export *exports;
};

static const struct expected_export amd64_exports[] = {
	{ "__vdso_clock_gettime", "LINUX_2.6", STB_GLOBAL },
	{ "__vdso_gettimeofday", "LINUX_2.6", STB_GLOBAL },
	{ "__vdso_time", "LINUX_2.6", STB_GLOBAL },
	{ "__vdso_getcpu", "LINUX_2.6", STB_GLOBAL },
	{ "clock_gettime", "LINUX_2.6", STB_WEAK },
	{ "gettimeofday", "LINUX_2.6", STB_WEAK },
	{ "time", "LINUX_2.6", STB_WEAK },
	{ "getcpu", "LINUX_2.6", STB_WEAK },
	{ 0, 0, 0 },
};

static const struct expected_export i386_exports[] = {
	{ "__vdso_clock_gettime", "LINUX_2.6", STB_GLOBAL },
	{ "__vdso_gettimeofday", "LINUX_2.6", STB_GLOBAL },
	{ "__vdso_time", "LINUX_2.6", STB_GLOBAL },
	{ "__kernel_vsyscall", "LINUX_2.5", STB_GLOBAL },
	{ "__kernel_sigreturn", "LINUX_2.5", STB_GLOBAL },
	{ "__kernel_rt_sigreturn", "LINUX_2.5", STB_GLOBAL },
	{ 0, 0, 0 },
};

static const struct expected_export arm_exports[] = {
	{ "__vdso_clock_gettime", "LINUX_2.6", STB_GLOBAL },
	{ "__vdso_gettimeofday", "LINUX_2.6", STB_GLOBAL },
	{ 0, 0, 0 },
};

static const struct expected_arch arches[] = {
	{ "amd64", ELFCLASS64, EM_X86_64, amd64_exports },
	{ "386", ELFCLASS32, EM_386, i386_exports },
	{ "arm", ELFCLASS32, EM_ARM, arm_exports },
};

/* _loop_test over the three architectures. */
START_TEST(file_is_the_kernels_shape)
{
	const struct expected_arch *ex = &arches[_i];
	struct vdso_file f = read_vdso(ex->arch);
	struct vdso_summary s = summarize(&f);
	const struct expected_export *e;
	int i, nexpected = 0;

	ck_assert_msg(s.cls == ex->cls, "%s: ELF class %d", ex->arch, s.cls);
	ck_assert_msg(s.machine == ex->machine, "%s: e_machine %d", ex->arch, s.machine);
	ck_assert_msg(s.type == ET_DYN, "%s: e_type %d", ex->arch, s.type);
	ck_assert_msg(s.soname != NULL && strcmp(s.soname, "linux-vdso.so.1") == 0,
		      "%s: soname %s", ex->arch, s.soname ? s.soname : "(none)");
	ck_assert_msg(s.relocations == 0, "%s: %d relocation tables", ex->arch, s.relocations);
	ck_assert_msg(s.has_hash && s.has_gnu_hash, "%s: hash tables sysv=%d gnu=%d",
		      ex->arch, s.has_hash, s.has_gnu_hash);
	ck_assert_msg(s.nload == 1, "%s: %d PT_LOAD segments", ex->arch, s.nload);
	ck_assert_msg(s.load_vaddr == 0 && s.load_offset == 0, "%s: PT_LOAD at vaddr %#llx offset %#llx",
		      ex->arch, (unsigned long long)s.load_vaddr, (unsigned long long)s.load_offset);
	ck_assert_msg(s.load_flags == (PF_R | PF_X), "%s: PT_LOAD flags %#x", ex->arch, s.load_flags);
	ck_assert_msg(s.has_dynamic, "%s: no PT_DYNAMIC", ex->arch);
	/* Go's inVDSOPage knows one page: all code must be on it, or samples
	 * on a second page would be misfiled by the fixture, not by Go. */
	ck_assert_msg(s.load_memsz <= PAGE, "%s: image is %llu bytes, more than a page",
		      ex->arch, (unsigned long long)s.load_memsz);
	ck_assert_msg(s.vvar_found, "%s: no vvar_page in .symtab", ex->arch);
	ck_assert_msg(s.vvar_page == (int64_t)s.load_vaddr - PAGE, "%s: vvar_page at %lld",
		      ex->arch, (long long)s.vvar_page);

	for (e = ex->exports; e->name; e++) {
		const struct dynsym *d = find_dynsym(&s, e->name);

		nexpected++;
		ck_assert_msg(d != NULL, "%s: %s not exported", ex->arch, e->name);
		ck_assert_msg(d->type == STT_FUNC && d->bind == e->bind && d->shndx != SHN_UNDEF,
			      "%s: %s type %u bind %u shndx %u", ex->arch, e->name, d->type, d->bind, d->shndx);
		ck_assert_msg(strcmp(d->version, e->version) == 0, "%s: %s version '%s', want %s",
			      ex->arch, e->name, d->version, e->version);
		ck_assert_msg(d->value + d->size <= PAGE, "%s: %s leaves the page", ex->arch, e->name);
	}
	/* Nothing else: no helper of the implementation leaks out.  The
	 * version nodes themselves are ABS symbols named after them. */
	for (i = 0; i < s.nsyms; i++)
		if (s.syms[i].shndx != SHN_ABS)
			nexpected--;
	ck_assert_msg(nexpected == 0, "%s: %d exported symbols more than expected", ex->arch, -nexpected);
	free(f.data);
}
END_TEST

/* Go's precomputed hashes (runtime/vdso_linux_*.go) from our functions. */
START_TEST(hashes_match_gos_tables)
{
	ck_assert_uint_eq(vdso_elf_hash("__vdso_clock_gettime"), 0xd35ec75);
	ck_assert_uint_eq(vdso_gnu_hash("__vdso_clock_gettime"), 0x6e43a318);
	ck_assert_uint_eq(vdso_elf_hash("__vdso_gettimeofday"), 0x315ca59);
	ck_assert_uint_eq(vdso_gnu_hash("__vdso_gettimeofday"), 0xb01bca00);
	ck_assert_uint_eq(vdso_elf_hash("LINUX_2.6"), 0x3ae75f6);
}
END_TEST

/* ------------------------------------------------- the amd64 image, mapped */

struct mapping {
	unsigned char *vvar_page;	/* the page below base */
	struct vvar *vvar;
	uintptr_t base;
	size_t span;
	struct vdso_summary s;
	unsigned char *file;	/* the vDSO as read: m.s's names point into it */
};

/* As the kernel (and vdso_map.c) lay it out: vvar, then the image. vvar
 * stays writable here: this process is the timekeeper. */
static struct mapping map_amd64(void)
{
	struct vdso_file f = read_vdso("amd64");
	struct mapping m;
	const Elf64_Ehdr *eh = (const void *)f.data;
	const Elf64_Phdr *ph = (const void *)(f.data + eh->e_phoff);
	void *p;
	int i;

	m.s = summarize(&f);
	m.span = (m.s.load_memsz + PAGE - 1) & ~(size_t)(PAGE - 1);
	p = mmap(NULL, PAGE + m.span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(p != MAP_FAILED, "mmap: %s", strerror(errno));
	m.vvar_page = p;
	m.vvar = p;
	m.base = (uintptr_t)p + PAGE;
	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD)
			memcpy((void *)(m.base + ph[i].p_vaddr), f.data + ph[i].p_offset, ph[i].p_filesz);
	ck_assert_int_eq(mprotect((void *)m.base, m.span, PROT_READ | PROT_EXEC), 0);
	/* Names in m.s point into the file: kept until unmap_amd64. */
	m.file = f.data;
	return m;
}

static void unmap_amd64(struct mapping *m)
{
	ck_assert_int_eq(munmap(m->vvar_page, PAGE + m->span), 0);
	free(m->file);
	m->file = NULL;
}

static void image_writable(const struct mapping *m, int writable)
{
	ck_assert_int_eq(mprotect((void *)m->base, m->span,
				  writable ? PROT_READ | PROT_WRITE : PROT_READ | PROT_EXEC), 0);
}

static void set_time(struct vvar *v, long long rs, long long rn, long long ms, long long mn)
{
	v->seq++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	v->realtime_sec = rs;
	v->realtime_nsec = rn;
	v->mono_sec = ms;
	v->mono_nsec = mn;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	v->seq++;
}

static uintptr_t file_symbol(const struct mapping *m, const char *name)
{
	const struct dynsym *d = find_dynsym(&m->s, name);

	ck_assert_msg(d != NULL, "%s not in the file", name);
	return m->base + d->value;
}

START_TEST(lookup_finds_gos_symbols)
{
	struct mapping m = map_amd64();

	ck_assert_int_eq(vdso_lookup_init(m.base), 2);
	ck_assert_uint_eq(vdsoClockgettimeSym, file_symbol(&m, "__vdso_clock_gettime"));
	ck_assert_uint_eq(vdsoGettimeofdaySym, file_symbol(&m, "__vdso_gettimeofday"));
	ck_assert(inVDSOPage(vdsoClockgettimeSym));
	ck_assert(inVDSOPage(m.base));
	ck_assert(inVDSOPage(m.base + PAGE - 1));
	ck_assert(!inVDSOPage(m.base + PAGE));
	ck_assert(!inVDSOPage(m.base - 1));	/* vvar is not code */
	ck_assert(!inVDSOPage((uintptr_t)&lookup_finds_gos_symbols));
	unmap_amd64(&m);
}
END_TEST

/* Without DT_GNU_HASH, Go walks the SysV hash table: same answers. */
START_TEST(lookup_through_sysv_hash)
{
	struct mapping m = map_amd64();
	Elf64_Dyn *dyn = 0;
	const Elf64_Ehdr *eh = (const void *)m.base;
	const Elf64_Phdr *ph = (const void *)(m.base + eh->e_phoff);
	int i, patched = 0;

	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = (Elf64_Dyn *)(m.base + ph[i].p_offset);
	ck_assert_ptr_nonnull(dyn);
	image_writable(&m, 1);
	for (; dyn->d_tag != DT_NULL; dyn++)
		if (dyn->d_tag == DT_GNU_HASH) {
			dyn->d_tag = DT_DEBUG;	/* a tag the lookup ignores */
			patched++;
		}
	image_writable(&m, 0);
	ck_assert_int_eq(patched, 1);
	ck_assert_int_eq(vdso_lookup_init(m.base), 2);
	ck_assert_uint_eq(vdsoClockgettimeSym, file_symbol(&m, "__vdso_clock_gettime"));
	ck_assert_uint_eq(vdsoGettimeofdaySym, file_symbol(&m, "__vdso_gettimeofday"));
	unmap_amd64(&m);
}
END_TEST

/* Hiding a symbol as vdso_map.c does (st_shndx = SHN_UNDEF): the word
 * keeps its default, and Go's inVDSOPage, which takes the first non-zero
 * word, then looks at the vsyscall page instead of the vDSO. */
START_TEST(lookup_skips_a_hidden_symbol)
{
	struct mapping m = map_amd64();
	struct elf_sym *sym = vdso_dynsym_entry(m.base, "__vdso_gettimeofday");

	ck_assert_ptr_nonnull(sym);
	ck_assert_ptr_eq(vdso_dynsym_entry(m.base, "no_such_symbol"), NULL);
	image_writable(&m, 1);
	sym->st_shndx = SHN_UNDEF;
	image_writable(&m, 0);
	ck_assert_int_eq(vdso_lookup_init(m.base), 1);
	ck_assert_uint_eq(vdsoGettimeofdaySym, 0xffffffffff600000UL);
	ck_assert_uint_eq(vdsoClockgettimeSym, file_symbol(&m, "__vdso_clock_gettime"));
	ck_assert(!inVDSOPage(vdsoClockgettimeSym));
	ck_assert(inVDSOPage(0xffffffffff600000UL));
	unmap_amd64(&m);
}
END_TEST

/* A symbol of another version is not the one Go wants. */
START_TEST(lookup_checks_the_version)
{
	struct mapping m = map_amd64();
	Elf64_Sym *sym = (Elf64_Sym *)vdso_dynsym_entry(m.base, "__vdso_clock_gettime");
	const Elf64_Ehdr *eh = (const void *)m.base;
	const Elf64_Phdr *ph = (const void *)(m.base + eh->e_phoff);
	Elf64_Dyn *dyn = 0;
	Elf64_Half *versym = 0;
	Elf64_Sym *symtab = 0;
	int i;

	ck_assert_ptr_nonnull(sym);
	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = (Elf64_Dyn *)(m.base + ph[i].p_offset);
	ck_assert_ptr_nonnull(dyn);
	for (; dyn->d_tag != DT_NULL; dyn++) {
		if (dyn->d_tag == DT_VERSYM)
			versym = (Elf64_Half *)(m.base + dyn->d_un.d_ptr);
		if (dyn->d_tag == DT_SYMTAB)
			symtab = (Elf64_Sym *)(m.base + dyn->d_un.d_ptr);
	}
	ck_assert(versym != NULL && symtab != NULL);
	ck_assert_uint_eq(vdso_lookup_init(m.base), 2);
	image_writable(&m, 1);
	versym[sym - symtab] = 1;	/* the base version (the file's own), not LINUX_2.6 */
	image_writable(&m, 0);
	ck_assert_int_eq(vdso_lookup_init(m.base), 1);
	ck_assert_uint_eq(vdsoClockgettimeSym, 0);
	unmap_amd64(&m);
}
END_TEST

START_TEST(lookup_rejects_a_non_elf_image)
{
	struct mapping m = map_amd64();

	vdso_lookup_init(m.base);
	image_writable(&m, 1);
	((unsigned char *)m.base)[EI_CLASS] = ELFCLASS32;
	image_writable(&m, 0);
	ck_assert_int_eq(vdso_lookup_init(m.base), -1);
	ck_assert_uint_eq(vdsoClockgettimeSym, 0);
	ck_assert_uint_eq(vdsoGettimeofdaySym, 0xffffffffff600000UL);
	ck_assert_int_eq(vdso_lookup_init(0), -1);
	unmap_amd64(&m);
}
END_TEST

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, struct timezone *);
typedef long (*time_fn)(long *);
typedef int (*getcpu_fn)(unsigned *, unsigned *, void *);

START_TEST(calls_return_the_vvar_time)
{
	struct mapping m = map_amd64();
	clock_gettime_fn cgt;
	gettimeofday_fn gtod;
	time_fn tm;
	getcpu_fn gc;
	struct timespec ts, ref;
	struct timeval tv;
	struct timezone tz = { 99, 99 };
	long t = 0;
	unsigned cpu = 7, node = 7;

	ck_assert_int_eq(vdso_lookup_init(m.base), 2);
	cgt = (clock_gettime_fn)vdsoClockgettimeSym;
	gtod = (gettimeofday_fn)vdsoGettimeofdaySym;
	tm = (time_fn)file_symbol(&m, "__vdso_time");
	gc = (getcpu_fn)file_symbol(&m, "__vdso_getcpu");
	ck_assert_uint_eq(file_symbol(&m, "clock_gettime"), (uintptr_t)cgt);

	set_time(m.vvar, 1700000000, 123456789, 4242, 987654321);
	ck_assert_int_eq(cgt(CLOCK_REALTIME, &ts), 0);
	ck_assert_int_eq(ts.tv_sec, 1700000000);
	ck_assert_int_eq(ts.tv_nsec, 123456789);
	ck_assert_int_eq(cgt(CLOCK_MONOTONIC, &ts), 0);
	ck_assert_int_eq(ts.tv_sec, 4242);
	ck_assert_int_eq(ts.tv_nsec, 987654321);
	ck_assert_int_eq(gtod(&tv, &tz), 0);
	ck_assert_int_eq(tv.tv_sec, 1700000000);
	ck_assert_int_eq(tv.tv_usec, 123456);
	ck_assert_int_eq(tz.tz_minuteswest, 0);
	ck_assert_int_eq(gtod(NULL, NULL), 0);
	ck_assert_int_eq(tm(&t), 1700000000);
	ck_assert_int_eq(t, 1700000000);
	ck_assert_int_eq(gc(&cpu, &node, NULL), 0);
	ck_assert_uint_eq(cpu, 0);

	/* The time is what vvar says, nothing else: a new value shows at once. */
	set_time(m.vvar, 5, 6, 7, 8);
	ck_assert_int_eq(cgt(CLOCK_REALTIME, &ts), 0);
	ck_assert(ts.tv_sec == 5 && ts.tv_nsec == 6);
	ck_assert_int_eq(cgt(CLOCK_MONOTONIC, &ts), 0);
	ck_assert(ts.tv_sec == 7 && ts.tv_nsec == 8);

	/* Other clocks are the system call's. */
	ck_assert_int_eq(cgt(CLOCK_BOOTTIME, &ts), 0);
	ck_assert_int_eq(clock_gettime(CLOCK_BOOTTIME, &ref), 0);
	ck_assert_int_le(llabs((long long)ref.tv_sec - ts.tv_sec), 1);
	ck_assert_int_eq(cgt(12345, &ts), -EINVAL);
	unmap_amd64(&m);
}
END_TEST

/* --------------------------------------------------------- the knobs */

/* Registers around a call made by shim_call, in this order. */
struct regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t xmm0;
};

/* What shim_call loads before the call: PAT | the DWARF register number. */
#define PAT 0x5a5a5a5a5a5a0000ULL
#define POISON(reg) (VVAR_POISON64 | (reg))

uint64_t shim_saved_sp, shim_out, shim_tmp;

/*
 * uint64_t shim_call(fn, a0, a1, stack_top, struct regs *out): calls
 * fn(a0, a1) with SP = stack_top at the CALL (16-aligned is what the ABI
 * promises; a caller may pass it misaligned on purpose) and every other
 * register set to a known pattern; stores all registers after the return.
 */
uint64_t shim_call(void *fn, uint64_t a0, uint64_t a1, void *stack_top, struct regs *out);
__asm__(
	".text\n"
	".globl shim_call\n"
	".type shim_call, @function\n"
	"shim_call:\n"
	"	push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
	"	mov %rsp, shim_saved_sp(%rip)\n"
	"	mov %r8, shim_out(%rip)\n"
	"	mov %rdi, %rax\n"
	"	mov %rsi, %rdi\n"
	"	mov %rdx, %rsi\n"
	"	mov %rcx, %rsp\n"
	"	movabs $0x5a5a5a5a5a5a0003, %rbx\n"
	"	movabs $0x5a5a5a5a5a5a0006, %rbp\n"
	"	movabs $0x5a5a5a5a5a5a000c, %r12\n"
	"	movabs $0x5a5a5a5a5a5a000d, %r13\n"
	"	movabs $0x5a5a5a5a5a5a000e, %r14\n"
	"	movabs $0x5a5a5a5a5a5a000f, %r15\n"
	"	movabs $0x5a5a5a5a5a5a0002, %rcx\n"
	"	movabs $0x5a5a5a5a5a5a0001, %rdx\n"
	"	movabs $0x5a5a5a5a5a5a0008, %r8\n"
	"	movabs $0x5a5a5a5a5a5a0009, %r9\n"
	"	movabs $0x5a5a5a5a5a5a000a, %r10\n"
	"	movabs $0x5a5a5a5a5a5a000b, %r11\n"
	"	movq %rcx, %xmm0\n"
	"	call *%rax\n"
	"	mov %rax, shim_tmp(%rip)\n"
	"	mov shim_out(%rip), %rax\n"
	"	mov %rbx, 8(%rax)\n mov %rcx, 16(%rax)\n mov %rdx, 24(%rax)\n"
	"	mov %rsi, 32(%rax)\n mov %rdi, 40(%rax)\n mov %rbp, 48(%rax)\n mov %rsp, 56(%rax)\n"
	"	mov %r8, 64(%rax)\n mov %r9, 72(%rax)\n mov %r10, 80(%rax)\n mov %r11, 88(%rax)\n"
	"	mov %r12, 96(%rax)\n mov %r13, 104(%rax)\n mov %r14, 112(%rax)\n mov %r15, 120(%rax)\n"
	"	movq %xmm0, 128(%rax)\n"
	"	mov shim_tmp(%rip), %rbx\n"
	"	mov %rbx, 0(%rax)\n"
	"	mov shim_saved_sp(%rip), %rsp\n"
	"	mov %rbx, %rax\n"
	"	pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
	"	ret\n"
	".size shim_call, .-shim_call\n");

#define STACK_SIZE (1 << 20)

static unsigned char *new_stack(void)
{
	void *p = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_msg(p != MAP_FAILED, "mmap: %s", strerror(errno));
	return p;
}

static void assert_callee_saved_intact(const struct regs *r, void *stack_top)
{
	ck_assert_uint_eq(r->rbx, PAT | 3);
	ck_assert_uint_eq(r->rbp, PAT | 6);
	ck_assert_uint_eq(r->r12, PAT | 12);
	ck_assert_uint_eq(r->r13, PAT | 13);
	ck_assert_uint_eq(r->r14, PAT | 14);
	ck_assert_uint_eq(r->r15, PAT | 15);
	ck_assert_uint_eq(r->rsp, (uintptr_t)stack_top);
}

START_TEST(knob_clobber_poisons_caller_saved_registers)
{
	struct mapping m = map_amd64();
	unsigned char *stack = new_stack();
	void *top = stack + STACK_SIZE;
	struct timespec ts;
	struct regs r;

	ck_assert_int_eq(vdso_lookup_init(m.base), 2);
	set_time(m.vvar, 11, 22, 33, 44);

	/* Well-behaved: results right, callee-saved registers and SP intact. */
	ck_assert_uint_eq(shim_call((void *)vdsoClockgettimeSym, CLOCK_REALTIME, (uintptr_t)&ts, top, &r), 0);
	ck_assert(ts.tv_sec == 11 && ts.tv_nsec == 22);
	assert_callee_saved_intact(&r, top);
	ck_assert_uint_ne(r.r8, POISON(8));

	m.vvar->knobs.clobber = 1;
	memset(&ts, 0, sizeof(ts));
	ck_assert_uint_eq(shim_call((void *)vdsoClockgettimeSym, CLOCK_MONOTONIC, (uintptr_t)&ts, top, &r), 0);
	ck_assert(ts.tv_sec == 33 && ts.tv_nsec == 44);
	ck_assert_uint_eq(r.rax, 0);
	ck_assert_uint_eq(r.rdx, POISON(1));
	ck_assert_uint_eq(r.rcx, POISON(2));
	ck_assert_uint_eq(r.rsi, POISON(4));
	ck_assert_uint_eq(r.rdi, POISON(5));
	ck_assert_uint_eq(r.r8, POISON(8));
	ck_assert_uint_eq(r.r9, POISON(9));
	ck_assert_uint_eq(r.r10, POISON(10));
	ck_assert_uint_eq(r.r11, POISON(11));
	ck_assert_uint_eq(r.xmm0, POISON(2));
	assert_callee_saved_intact(&r, top);

	/* gettimeofday goes through the same stub. */
	ck_assert_uint_eq(shim_call((void *)vdsoGettimeofdaySym, 0, 0, top, &r), 0);
	ck_assert_uint_eq(r.r11, POISON(11));
	assert_callee_saved_intact(&r, top);
	unmap_amd64(&m);
}
END_TEST

/* The SIGALRM handler's view of the vDSO while it waits on the seqlock. */
static struct {
	struct mapping *m;
	volatile int hits, tries;
	volatile uint64_t rip, rbx, rbp, r12, r13, r14, r15;
} alarm_view;

static void arm_alarm(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 2000 } };

	setitimer(ITIMER_REAL, &it, NULL);
}

static void on_alarm(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	uintptr_t rip = (uintptr_t)g[REG_RIP];
	struct mapping *m = alarm_view.m;

	(void)sig;
	(void)si;
	alarm_view.tries++;
	if ((rip < m->base || rip >= m->base + m->span) && alarm_view.tries < 500) {
		arm_alarm();	/* not inside the vDSO yet: look again */
		return;
	}
	alarm_view.hits++;
	alarm_view.rip = rip;
	alarm_view.rbx = (uint64_t)g[REG_RBX];
	alarm_view.rbp = (uint64_t)g[REG_RBP];
	alarm_view.r12 = (uint64_t)g[REG_R12];
	alarm_view.r13 = (uint64_t)g[REG_R13];
	alarm_view.r14 = (uint64_t)g[REG_R14];
	alarm_view.r15 = (uint64_t)g[REG_R15];
	/* Finish the write the odd seq announced. */
	m->vvar->realtime_sec = 77;
	m->vvar->realtime_nsec = 88;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	m->vvar->seq++;
}

/* use_callee_saved, seen from inside: the vDSO spins while seq is odd, a
 * signal lands there and finds none of the caller's callee-saved values
 * (poison in Go's R14 = g); it completes the time write, the vDSO returns
 * the new time and the registers are restored. */
START_TEST(knob_callee_saved_poisoned_during_the_call_and_seqlock_retries)
{
	struct mapping m = map_amd64();
	unsigned char *stack = new_stack();
	void *top = stack + STACK_SIZE;
	struct sigaction sa;
	struct timespec ts;
	struct regs r;

	ck_assert_int_eq(vdso_lookup_init(m.base), 2);
	set_time(m.vvar, 1, 2, 3, 4);
	m.vvar->knobs.use_callee_saved = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_alarm;
	sa.sa_flags = SA_SIGINFO;
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	alarm_view.m = &m;

	m.vvar->seq++;		/* the timekeeper is "writing" */
	arm_alarm();
	ck_assert_uint_eq(shim_call((void *)vdsoClockgettimeSym, CLOCK_REALTIME, (uintptr_t)&ts, top, &r), 0);

	ck_assert_int_eq(alarm_view.hits, 1);
	ck_assert_msg(alarm_view.rip >= m.base && alarm_view.rip < m.base + m.span,
		      "signal not inside the vDSO (rip %#llx)", (unsigned long long)alarm_view.rip);
	ck_assert_uint_eq(m.vvar->seq & 1, 0);
	ck_assert(ts.tv_sec == 77 && ts.tv_nsec == 88);
	/* The caller's values are gone from every callee-saved register (a
	 * register the C code uses holds the C code's values instead of the
	 * poison), and R14, Go's g from Go 1.17 on, holds the poison. */
	ck_assert_uint_ne(alarm_view.rbx, PAT | 3);
	ck_assert_uint_ne(alarm_view.rbp, PAT | 6);
	ck_assert_uint_ne(alarm_view.r12, PAT | 12);
	ck_assert_uint_ne(alarm_view.r13, PAT | 13);
	ck_assert_uint_ne(alarm_view.r14, PAT | 14);
	ck_assert_uint_ne(alarm_view.r15, PAT | 15);
	ck_assert_uint_eq(alarm_view.r14, POISON(14));
	assert_callee_saved_intact(&r, top);
	unmap_amd64(&m);
}
END_TEST

/* The lowest address below top whose page no longer holds the fill. */
static size_t stack_depth_used(const unsigned char *stack, size_t size)
{
	size_t off;

	for (off = 0; off < size; off++)
		if (stack[off] != 0xa5)
			return size - off;
	return 0;
}

START_TEST(knob_stack_bytes_touches_every_page)
{
	struct mapping m = map_amd64();
	unsigned char *stack = new_stack();
	void *top = stack + STACK_SIZE;
	struct timespec ts;
	struct regs r;
	size_t depth, off;
	const unsigned n = 64 * 1024;

	ck_assert_int_eq(vdso_lookup_init(m.base), 2);
	set_time(m.vvar, 1, 2, 3, 4);

	memset(stack, 0xa5, STACK_SIZE);
	shim_call((void *)vdsoClockgettimeSym, CLOCK_REALTIME, (uintptr_t)&ts, top, &r);
	depth = stack_depth_used(stack, STACK_SIZE);
	ck_assert_msg(depth < 512, "well-behaved call used %zu bytes of stack", depth);

	m.vvar->knobs.stack_bytes = n;
	memset(stack, 0xa5, STACK_SIZE);
	shim_call((void *)vdsoClockgettimeSym, CLOCK_REALTIME, (uintptr_t)&ts, top, &r);
	ck_assert(ts.tv_sec == 1 && ts.tv_nsec == 2);
	assert_callee_saved_intact(&r, top);
	depth = stack_depth_used(stack, STACK_SIZE);
	ck_assert_msg(depth >= n, "stack_bytes=%u used only %zu bytes", n, depth);
	ck_assert_msg(depth < n + 1024, "stack_bytes=%u used %zu bytes", n, depth);
	/* Every page between the deepest byte and the top was written. */
	for (off = STACK_SIZE - n; off < STACK_SIZE; off += PAGE) {
		size_t i;
		int touched = 0;

		for (i = off; i < off + PAGE; i++)
			touched |= stack[i] != 0xa5;
		ck_assert_msg(touched, "page %zu below the top not touched", (STACK_SIZE - off) / PAGE);
	}
	unmap_amd64(&m);
}
END_TEST

/* Runs one shim call in a child; returns its wait status. */
static int call_in_child(struct mapping *m, void *stack_top)
{
	struct timespec ts;
	struct regs r;
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* The death the tests look for is the kernel's SIGSEGV: a
		 * sanitizer's handler (ASan reports and exits 1) is put away. */
		signal(SIGSEGV, SIG_DFL);
		shim_call((void *)vdsoClockgettimeSym, CLOCK_REALTIME, (uintptr_t)&ts, stack_top, &r);
		_exit(ts.tv_sec == 1 ? 0 : 3);
	}
	(void)m;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static int killed_by_segv(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

static int exited_ok(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* A stack that is too small for the vDSO: the fault is inside the call. */
START_TEST(knob_stack_bytes_overflows_a_small_stack)
{
	struct mapping m = map_amd64();
	unsigned char *stack = new_stack();
	void *top = stack + 5 * PAGE;	/* four usable pages above a guard page */

	ck_assert_int_eq(mprotect(stack, PAGE, PROT_NONE), 0);
	ck_assert_int_eq(vdso_lookup_init(m.base), 2);
	set_time(m.vvar, 1, 2, 3, 4);

	m.vvar->knobs.stack_bytes = 2 * PAGE;
	ck_assert(exited_ok(call_in_child(&m, top)));
	m.vvar->knobs.stack_bytes = 8 * PAGE;
	ck_assert(killed_by_segv(call_in_child(&m, top)));
	unmap_amd64(&m);
}
END_TEST

START_TEST(knob_sse_align_faults_on_a_misaligned_caller)
{
	struct mapping m = map_amd64();
	unsigned char *stack = new_stack();
	void *aligned = stack + STACK_SIZE;
	void *misaligned = stack + STACK_SIZE - 8;

	ck_assert_int_eq(vdso_lookup_init(m.base), 2);
	set_time(m.vvar, 1, 2, 3, 4);

	/* Well-behaved: copes with either alignment. */
	ck_assert(exited_ok(call_in_child(&m, aligned)));
	ck_assert(exited_ok(call_in_child(&m, misaligned)));

	m.vvar->knobs.sse_align = 1;
	ck_assert(exited_ok(call_in_child(&m, aligned)));
	ck_assert(killed_by_segv(call_in_child(&m, misaligned)));
	unmap_amd64(&m);
}
END_TEST

static Suite *vdso_suite(void)
{
	Suite *s = suite_create("vdso");
	TCase *tc;

	tc = tcase_create("file");
	tcase_add_loop_test(tc, file_is_the_kernels_shape, 0, (int)(sizeof(arches) / sizeof(arches[0])));
	tcase_add_test(tc, hashes_match_gos_tables);
	suite_add_tcase(s, tc);

	tc = tcase_create("lookup");
	tcase_add_test(tc, lookup_finds_gos_symbols);
	tcase_add_test(tc, lookup_through_sysv_hash);
	tcase_add_test(tc, lookup_skips_a_hidden_symbol);
	tcase_add_test(tc, lookup_checks_the_version);
	tcase_add_test(tc, lookup_rejects_a_non_elf_image);
	suite_add_tcase(s, tc);

	tc = tcase_create("call");
	tcase_add_test(tc, calls_return_the_vvar_time);
	suite_add_tcase(s, tc);

	tc = tcase_create("knobs");
	tcase_add_test(tc, knob_clobber_poisons_caller_saved_registers);
	tcase_add_test(tc, knob_callee_saved_poisoned_during_the_call_and_seqlock_retries);
	tcase_add_test(tc, knob_stack_bytes_touches_every_page);
	tcase_add_test(tc, knob_stack_bytes_overflows_a_small_stack);
	tcase_add_test(tc, knob_sse_align_faults_on_a_misaligned_caller);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(vdso_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
