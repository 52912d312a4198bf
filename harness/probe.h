/*
 * One configuration probed at every instruction boundary: the guest image
 * runs under Unicorn until the chosen chain starts (the root of the
 * goroutine or g0 chain), then at every boundary until the chain returns a
 * SIGPROF is delivered, the guest's handler runs to rt_sigreturn, its
 * sample is compared with the shadow stack (what really executes), and
 * registers and writable memory are put back before the next instruction.
 * After the chain the guest runs on to exit, and its own checks (time
 * right, m.vdsoSP/vdsoPC restored, every iteration ran) are the run's
 * invariants.
 */
#ifndef SIGSTEP_PROBE_H
#define SIGSTEP_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "arch_ops.h"

enum verdict {
	VERDICT_FULL,		/* the sample equals the true stack */
	VERDICT_CALLER,		/* the true stack minus trampoline / vDSO leaf frames */
	VERDICT_VDSO,		/* _VDSO marker */
	VERDICT_EXTERNAL,	/* _ExternalCode marker */
	VERDICT_SYSTEM,		/* _System (or _GC) marker after a failed traceback */
	VERDICT_WRONG,		/* frames that differ from the truth */
	VERDICT_FAULT,		/* the handler touched unmapped memory or trapped */
	VERDICT_HANG,		/* the handler exceeded its instruction budget */
	VERDICT_COUNT
};

/* "full", "caller", ... as in the reports and the JSON. */
const char *verdict_name(enum verdict v);
/* VERDICT_COUNT if unknown. */
enum verdict verdict_from_name(const char *name);
/* full and caller pass; everything else is a violation. */
int verdict_passes(enum verdict v);

#define PROBE_MAX_FRAMES 32
#define PROBE_SYM_MAX 48	/* one symbolized frame: "profiled_loop+0x1c" */

struct probe_config {
	const struct arch_ops *ops;
	const char *build_dir;	/* where guest/<arch>/ lives */
	const char *variant;	/* image guest/<arch>/sigstep-guest-<variant> ... */
	const char *image_path;	/* ... or this image (sigstep check); NULL: use variant */
	const char *function;	/* "walltime" | "nanotime" */
	const char *context;	/* "curg" | "g0" */
	int era;		/* -1: the variant's own; else ERA_GO110/GO111/MODERN */
	int vdso;		/* 1: synthetic vDSO mapped and announced; 0: absent (fallback) */
	uint64_t handler_budget;	/* instructions per handler run (0: default) */
	int progress;		/* print a progress line on stderr for long runs */
	uint64_t iterations;	/* calls of the function in the window (0: 1) */
};

struct violation {
	uint64_t pc;
	char symbol[64];	/* "walltime+0x1c" */
	char insn[64];		/* capstone: "leaq (%rsp), %rdx" */
	enum verdict verdict;
	int nexpected, ngot;
	uint64_t expected[PROBE_MAX_FRAMES];	/* the true stack, innermost first */
	uint64_t got[PROBE_MAX_FRAMES];		/* the sample (markers as their pcs) */
	char detail[96];	/* fault / hang description, else "" */
	/* expected[] and got[] symbolized ("time_now+0x2a", "0x7ffff7fc1234") */
	char expected_sym[PROBE_MAX_FRAMES][PROBE_SYM_MAX];
	char got_sym[PROBE_MAX_FRAMES][PROBE_SYM_MAX];
};

struct probe_result {
	char arch[16], variant[64], function[16], context[8], era_name[8];
	int vdso;		/* as in the configuration */
	uint64_t boundaries;
	uint64_t verdicts[VERDICT_COUNT];
	int invariants_ok;	/* the guest's own checks passed and it exited 0 */
	char invariants[256];	/* the guest's failed checks / exit, "" if ok */
	int pass;		/* every boundary passes and the invariants hold */
	double elapsed_s;
	double boundaries_per_s;
	struct violation *violations;	/* every violating boundary, in execution order */
	size_t nviolations;
};

/*
 * Runs one configuration.  0: ran (result filled, pass or not);
 * 2: unusable input (err says what, one line).  Deterministic: the same
 * configuration gives the same result, byte for byte, except the timings.
 */
int probe_run(const struct probe_config *cfg, struct probe_result *res, char *err, size_t errlen);
void probe_result_free(struct probe_result *res);

/* The text report of `sigstep run`: a summary (boundaries, verdict counts,
 * invariants, pass/FAIL, boundaries/s) and each violation with
 * symbol+offset, disassembly, expected and actual stacks symbolized. */
void probe_print_summary(FILE *out, const struct probe_result *res);

/* A JSON array of run records (DESIGN / CLI contract: arch, variant,
 * function, context, sigprof, inject "every", engine "unicorn",
 * boundaries, verdicts{8 names}, pass, elapsed_s, boundaries_per_s,
 * violations[{pc, symbol, insn, verdict, expected[], got[]}]). */
void probe_print_json(FILE *out, const struct probe_result *const *res, size_t n);

#endif
