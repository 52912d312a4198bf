/*
 * Loading a guest as Linux's binfmt_elf would: the static image from its
 * program headers, the synthetic vDSO at a chosen base with its vvar page
 * one page below, and the initial process stack (argc, argv, envp, auxv).
 *
 * Every input file is untrusted: each function checks what it reads and
 * on any problem returns -1 with one line in `err` saying what is wrong
 * (the CLI prints "sigstep: FILE: <err>" and exits 2).
 */
#ifndef SIGSTEP_LOADER_H
#define SIGSTEP_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "arch_ops.h"
#include "machine.h"

#define LOADER_ERR_MAX 200
#define LOADER_MAX_SEGMENTS 16

struct symbol {
	uint64_t addr, size;
	const char *name;
};

/* Function and object symbols of one loaded file, sorted by address. */
struct symtab {
	struct symbol *v;
	size_t n;
	char *strings;		/* owns every name */
};

struct segment {
	uint64_t vaddr, memsz;	/* where it goes (load bias applied) */
	uint64_t offset, filesz;
	uint32_t flags;		/* PF_R | PF_W | PF_X */
};

struct elf_image {
	int type;		/* ET_EXEC or ET_DYN */
	uint64_t bias;		/* added to every p_vaddr (0 for ET_EXEC) */
	uint64_t entry;
	uint64_t phdr_addr;	/* the program headers in memory, 0 if not loaded */
	uint64_t phentsize, phnum;
	struct segment seg[LOADER_MAX_SEGMENTS];
	unsigned nseg;
	uint64_t lo, hi;	/* page-rounded extent of the PT_LOADs */
	struct symtab syms;
};

/*
 * Parses and checks an ELF file held in buf: magic, class and e_machine of
 * `ops`, e_type `want_type`, program headers inside the file, PT_LOADs
 * inside the file, in order, page-congruent, not overlapping and within
 * the arch's address space once `bias` is added; the section headers and
 * symbol table, if any, inside the file.  Fills img (free with
 * elf_image_free).  0, or -1 with err set.
 */
int elf_parse(const uint8_t *buf, size_t len, const struct arch_ops *ops, int want_type,
	      uint64_t bias, struct elf_image *img, char *err);
void elf_image_free(struct elf_image *img);

/* The guest image at path, mapped at its link addresses. */
int loader_load_image(struct machine *mc, const char *path, struct elf_image *img, char *err);

/*
 * The synthetic vDSO (an ET_DYN linked at 0) at `base` (page aligned): its
 * PT_LOADs as REGION_VDSO, and one zeroed REGION_VVAR page at base - page.
 */
int loader_load_vdso(struct machine *mc, const char *path, uint64_t base,
		     struct elf_image *img, char *err);
/* (-2 from loader_load_vdso: the base is unusable -- a fault of the
 * placement, not of the file.) */

/*
 * Whether the vDSO may go at `base` as far as the arch's layout tells:
 * page-aligned, its vvar page (one page below) not at address 0 (the
 * emulated kernel reads a vvar address of 0 as none), inside the user
 * address space, clear of the process stack and its guard page.  The
 * image and the vDSO's own extent are checked when it is loaded.  0, or
 * -1 with err (one line).
 */
int loader_vdso_base_usable(const struct arch_ops *ops, uint64_t base, char *err);

#define LOADER_STACK_SIZE (512u * 1024)
#define LOADER_RANDOM_BYTE(i) ((uint8_t)(0xa0 + (i)))	/* AT_RANDOM's 16 fixed bytes */

/*
 * Maps the process stack below ops->stack_top, with a guard page below it,
 * and writes what Linux puts there: argc, argv pointers and strings, an
 * empty envp, and the auxiliary vector (AT_PHDR, AT_PHENT, AT_PHNUM,
 * AT_PAGESZ, AT_ENTRY, AT_RANDOM, AT_SYSINFO_EHDR when vdso_base is not 0,
 * AT_NULL).  *sp gets the initial stack pointer (at argc, 16-aligned).
 */
int loader_build_stack(struct machine *mc, const struct elf_image *exe, uint64_t vdso_base,
		       int argc, const char *const *argv, uint64_t *sp, char *err);

/* The arch of the static executable at path, from its ELF header.  0, or
 * -1 with err saying why it cannot run (not ELF, unknown machine,
 * dynamic). */
int loader_program_arch(const char *path, const struct arch_ops **out, char *err);

/* What a full Linux process gets beyond the guest images' minimal stack. */
struct process_extras {
	int envc;
	const char *const *envp;
	uint64_t hwcap;		/* AT_HWCAP (0: no entry) */
};

/* loader_build_stack with an environment and AT_HWCAP. */
int loader_build_process_stack(struct machine *mc, const struct elf_image *exe, uint64_t vdso_base,
			       int argc, const char *const *argv, const struct process_extras *x,
			       uint64_t *sp, char *err);

/* "name+0x12" for addr, from the symbols of img; NULL if no symbol covers it. */
const char *symtab_lookup(const struct symtab *st, uint64_t addr, uint64_t *off);

#endif
