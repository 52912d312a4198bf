/*
 * One guest process from image to exit: machine + loaded image + vDSO +
 * stack + emulated kernel, run until exit_group or a fault, and the words
 * to report what happened.  Used by the CLI and by the test suites.
 */
#ifndef SIGSTEP_RUN_H
#define SIGSTEP_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "arch_ops.h"
#include "loader.h"
#include "machine.h"

/* A full Linux process's instruction limit when its config sets none. */
#define GUEST_DEFAULT_MAX_INSNS 2000000000ull

struct guest_config {
	const struct arch_ops *ops;
	const char *image_path;
	const char *vdso_path;	/* NULL: no vDSO, no AT_SYSINFO_EHDR */
	uint64_t vdso_base;	/* 0: the arch's default */
	int argc;		/* guest argv; argv[0] is the program name */
	const char *const *argv;
	/* A full Linux process (a real Go program): environment, AT_HWCAP,
	 * the arch's CPU hooks and sigpage, threads counted instruction by
	 * instruction up to max_insns. */
	int linux_process;
	int envc;
	const char *const *envp;
	uint64_t max_insns;	/* linux_process: the run's limit (0: a default) */
};

struct guest {
	struct machine *mc;
	struct elf_image image;
	struct elf_image vdso;	/* nseg 0 when no vDSO is mapped */
	uint64_t vdso_base;	/* 0 when none */
	uint64_t entry, initial_sp;
	struct guest_config cfg;	/* what it was built from, for a replay */
	/* Names from a better source than the ELF symbols (a Go program's
	 * pclntab): 0 if it named pc.  NULL: the symbols only. */
	int (*symbolize)(const void *ctx, uint64_t pc, char *buf, size_t n);
	const void *symbolize_ctx;
};


/*
 * Builds the process.  0, or -1 with `err` (LOADER_ERR_MAX bytes) saying
 * what is wrong and *bad_file naming the file at fault (NULL when the
 * problem is not a file's).  On failure g holds nothing to free.
 */
int guest_load(struct guest *g, const struct guest_config *cfg, char *err, const char **bad_file);

/*
 * Runs to exit_group or a fault; timeout_s 0 means none.  0: exited
 * (g->mc->exit_status), 1: faulted (g->mc->fault).
 *
 * Unicorn 2.0.1 reports a data access fault with PC at the start of the
 * translated block that made it, not at the instruction.  The run is
 * deterministic, so on such a fault the process is built again and
 * replayed with an instruction hook on that block alone, which names the
 * instruction; fault.pc is then exact (fault.pc_exact).
 */
int guest_run(struct guest *g, unsigned timeout_s);

void guest_free(struct guest *g);

/*
 * machine_add_engine for the guest's machine, with what a full Linux
 * process's CPU shows it (the arch's CPU hooks and pinned time-stamp
 * counter) on the new engine too.  NULL if Unicorn refuses.
 */
uc_engine *guest_add_engine(struct guest *g);

/* "walltime+0x1c" from the image's or the vDSO's symbols, else "0x..." */
void guest_symbolize(const struct guest *g, uint64_t pc, char *buf, size_t n);

/*
 * One line (no newline) describing a fault, e.g.
 *   "guest fault: write to unmapped memory (address 0x8) at PC walltime+0x1c"
 *   "guest made unsupported syscall 104 (setitimer) at PC arch_syscall6+0x20"
 * Returns 2 for an unsupported syscall (the guest asked for something the
 * harness cannot give: unusable input), 1 for a fault.
 */
int guest_fault_line(const struct guest *g, char *buf, size_t n);

#endif
