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
#include "sigdeliver.h"

struct probe_subject;

enum verdict {
	VERDICT_FULL,		/* the sample equals the true stack */
	VERDICT_CALLER,		/* the true stack minus trampoline / vDSO leaf frames */
	VERDICT_VDSO,		/* _VDSO marker */
	VERDICT_EXTERNAL,	/* _ExternalCode marker */
	VERDICT_SYSTEM,		/* _System (or _GC) marker after a failed traceback */
	VERDICT_TRUNCATED,	/* the innermost frames of the true (or caller) stack, stopping early */
	VERDICT_WRONG,		/* frames that differ from the truth otherwise */
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

/* Where signals go.  PROBE_NESTED: at each boundary k in turn, a signal
 * whose handler also reads the clock through the variant's nanotime (g =
 * m.gsignal, as Go's handler runs) is delivered and its effects kept; then
 * every later boundary of the chain is probed; then everything is put
 * back for k+1.  Each such trial is judged beyond its samples: the nested
 * read's result against the emulated clock and m.vdsoSP/vdsoPC around it,
 * and, once the chain returns, the guest's own checks of the interrupted
 * call (run to the guest's exit, then undone); the first failing trial
 * and how many failed go into the run's invariants. */
enum probe_inject { PROBE_EVERY, PROBE_SAMPLE, PROBE_NESTED, PROBE_COUNT_ONLY, PROBE_SCHEDULE };

/*
 * PROBE_SCHEDULE: one pass through the chain, a signal only where an event
 * of the schedule says (scenarios/README.md, "Schedules").  The same
 * delivery as PROBE_NESTED's: a `sample` is undone after its sample; a
 * `keep` signal's effects stay for the rest of the run; a `nested-clock`
 * one also reads the clock in its handler (through the image's nanotime
 * or walltime) and its read is checked as a nested trial's is.  The
 * guest's own checks at the end judge what the kept signals left.
 */
/*
 * PROBE_EV_NESTED_SIGNAL: a kept SIGPROF whose handler reads `clock`, and
 * inside that clock call, at its inner[0]-th boundary (from 0, the clock
 * function's first instruction), a SIGURG on the same signal stack, whose
 * handler is the same (it samples and reads the clock); `depth` levels,
 * the k-th inside the (k-1)-th handler's clock call (nested_signal.c).
 */
enum probe_event_kind { PROBE_EV_SAMPLE, PROBE_EV_KEEP, PROBE_EV_NESTED_CLOCK, PROBE_EV_NESTED_SIGNAL };
#define PROBE_MAX_DEPTH 4
#define PROBE_MAX_INNER 10000	/* an inner index: a clock call has tens of boundaries */
enum probe_clock { PROBE_CLOCK_NONE, PROBE_CLOCK_NANOTIME, PROBE_CLOCK_WALLTIME };	/* sigstep_nested_clock */
#define PROBE_MAX_EVENTS 32

struct probe_event {
	char sym[48];		/* "walltime": at SYMBOL+off, its occurrence-th time; "": at boundary index */
	uint64_t off, occurrence;	/* occurrence: 1 = the first time the chain is there */
	uint64_t index;		/* the boundary's index in the chain, from 0 */
	enum probe_event_kind kind;
	enum probe_clock clock;	/* PROBE_EV_NESTED_CLOCK, PROBE_EV_NESTED_SIGNAL: which */
	int depth;		/* PROBE_EV_NESTED_SIGNAL: 1..PROBE_MAX_DEPTH */
	uint32_t inner[PROBE_MAX_DEPTH];	/* ... each level's boundary in the clock call it interrupts */
};

struct probe_schedule {
	int n;
	struct probe_event ev[PROBE_MAX_EVENTS];	/* in order; events at one boundary fire in this order */
};

#define PROBE_MAX_FRAMES 32
#define PROBE_MAX_VIOLATIONS 4096	/* kept per run (a nested run can have ~B*B/2) */
#define PROBE_SYM_MAX 48	/* one symbolized frame: "profiled_loop+0x1c" */
#define PROBE_STRIP_MAX 512	/* distinct pcs kept per run (a chain has ~150) */

/* One judged sample, as probe_config.on_sample gets it. */
struct probe_sample {
	uint64_t pc;			/* the boundary */
	const char *at;			/* its symbol+offset, "walltime+0x1c" */
	const char *insn;		/* its instruction, "leaq (%rsp), %rdx" */
	enum verdict verdict;
	int n;				/* the stack the handler built, innermost first */
	const uint64_t *pcs;		/* (markers as their pcs) */
	const char (*sym)[PROBE_SYM_MAX];
	int depth;			/* 0: a signal at a chain boundary; k: the k-th nested-signal level */
	int event;			/* PROBE_SCHEDULE: the event that sent it (its index); else -1 */
};

struct probe_config {
	const struct arch_ops *ops;
	const char *build_dir;	/* where guest/<arch>/ lives */
	const char *variant;	/* image guest/<arch>/sigstep-guest-<variant> ... */
	const char *image_path;	/* ... or this image (sigstep check); NULL: use variant */
	const char *function;	/* "walltime" | "nanotime" */
	const char *context;	/* "curg" | "g0" | "gsignal" (the g0 chain moved onto the signal stack, g = gsignal) */
	int era;		/* -1: the variant's own; else ERA_GO110/GO111/GO119/MODERN */
	int vdso;		/* 1: synthetic vDSO mapped and announced; 0: absent (fallback) */
	uint64_t vdso_base;	/* where the vDSO goes (vvar one page below); 0: the arch's default */
	uint64_t handler_budget;	/* instructions per handler run (0: default) */
	int progress;		/* print a progress line on stderr for long runs */
	uint64_t iterations;	/* calls of the function in the window (0: 1) */
	/* Seconds the whole run may take, from loading the image to its exit
	 * (0: PROBE_DEFAULT_TIMEOUT_S).  A run that reaches it stops and says
	 * so: before the chain's root, as unusable input (2); in the window
	 * or after it, as a failed invariant. */
	uint64_t timeout_s;
	/* Non-zero: the run's time ends at this CLOCK_MONOTONIC second instead
	 * (sigstep check: its --timeout began before the build); timeout_s is
	 * then only the limit the messages name. */
	double deadline;
	/* Non-NULL: one line "boundary PC WHERE VERDICT" per probe, in order
	 * (WHERE as the guest's own oracle names it: "walltime+0x1c",
	 * "vdso+0x680"), for comparing engines boundary by boundary. */
	FILE *boundary_log;
	/* Non-NULL: called with every judged sample -- the boundary, its
	 * verdict, and the stack the handler built (innermost first, markers
	 * as their pcs) with its symbols -- as a profiler would have recorded
	 * it (sigstep run --pprof). */
	void (*on_sample)(void *ctx, const struct probe_sample *s);
	void *sample_ctx;
	/* The synthetic vDSO's hostile knobs (emulated_vdso/vvar.h, struct
	 * vvar_knobs), written into the vvar page the harness maps; without a
	 * vDSO (fallback) given to the guest as --vdso-knobs.  All 0: none. */
	uint32_t knob_clobber, knob_callee_saved, knob_stack_bytes, knob_sse_align;
	/* What runs: NULL, the sigstep guest image above; &probe_subject_go,
	 * the real Go program `program` (subject_go.c), with its arguments,
	 * probed at the `call`-th call (1 = the first) of `function`. */
	const struct probe_subject *subject;
	const char *program;
	int nprogram_args;
	const char *const *program_args;
	uint64_t call;
	enum probe_inject inject;	/* 0 (PROBE_EVERY): every boundary */
	uint64_t sample_n, sample_seed;	/* PROBE_SAMPLE: N boundaries chosen by the seed */
	const struct probe_schedule *schedule;	/* PROBE_SCHEDULE: the events */
	/* Non-zero: the caller's process ends as soon as it has the result
	 * (a matrix row's child), so the engines and the guest's memory are
	 * left for the exit to free: closing them is a row's last ~7 % of
	 * host instructions, and freeing nothing changes no result. */
	int process_ends;
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
	int nested_at;		/* PROBE_NESTED: 1 + the boundary index of the nested signal; 0 none */
	int depth;		/* PROBE_EV_NESTED_SIGNAL: the level of the signal (0: at a chain boundary) */
	/* expected[] and got[] symbolized ("time_now+0x2a", "0x7ffff7fc1234") */
	char expected_sym[PROBE_MAX_FRAMES][PROBE_SYM_MAX];
	char got_sym[PROBE_MAX_FRAMES][PROBE_SYM_MAX];
	/* The source line of pc, from the line table of the image or the
	 * vDSO mapped by the harness ("arch/amd64/trampoline_seed.S", 57);
	 * "" and 0 where there is none. */
	char file[128];
	uint32_t line;
};

struct probe_result {
	char arch[16], variant[64], function[48], context[8], era_name[8];
	char subject[8];	/* "image" or "go" */
	char go_version[24];	/* subject go: runtime.buildVersion */
	int vdso;		/* as in the configuration */
	uint64_t vdso_base;	/* where the vDSO was mapped; 0 when absent */
	/* The rest of the configuration, so that a record names every
	 * setting of its row. */
	char knobs[96];		/* the vDSO knobs, "clobber,stack=4096"; "" none */
	uint64_t handler_budget;	/* instructions per handler run */
	uint64_t iterations;
	uint64_t sample_n, sample_seed;	/* inject sample:N seed=S; else 0 */
	uint64_t boundaries;
	uint64_t probed;	/* samples judged (every: = boundaries; sample: N; nested: more) */
	char inject[40];	/* "every", "sample:N seed=S", "nested", "schedule" */
	uint32_t events_fired;	/* PROBE_SCHEDULE: events whose boundary was reached */
	uint32_t clock_call_boundaries;	/* ... the most boundaries a handler's clock call stepped by a nested-signal event took */
	uint64_t verdicts[VERDICT_COUNT];
	int invariants_ok;	/* the guest's own checks passed and it exited 0 */
	char invariants[256];	/* the guest's failed checks / exit, "" if ok */
	int pass;		/* every boundary passes and the invariants hold */
	double elapsed_s;
	double boundaries_per_s;
	/* The window's CPU time on the thread that probed it (user and
	 * system): a rate that a shared machine's other load does not bend
	 * as it bends the wall clock's.  Printed, in no report. */
	double cpu_s;
	uint64_t boot_insns;	/* subject go: instructions from exec to the probed call */
	double boot_s;
	/* Every probed pc in the order first reached, with the worst verdict
	 * seen there (the first that fails, else the first): the chain as a
	 * strip of instructions coloured by verdict (--html).  Plain arrays:
	 * the matrix's children send it down a pipe. */
	uint32_t nstrip;
	uint32_t strip_dropped;		/* pcs beyond PROBE_STRIP_MAX */
	struct strip_cell {
		uint64_t pc;
		uint32_t verdict;
		char at[PROBE_SYM_MAX];
	} strip[PROBE_STRIP_MAX];
	struct violation *violations;	/* every violating boundary, in execution order */
	size_t nviolations;
	uint64_t violations_dropped;	/* beyond PROBE_MAX_VIOLATIONS: counted, not kept */
};

/* The time limit of a run when none is given: ten minutes, and a tenth of
 * a second more per call -- a call takes milliseconds at every boundary,
 * a whole default run well under a second. */
#define PROBE_DEFAULT_TIMEOUT_S(iterations) (600 + (iterations) / 10)

/* Boundaries the window may take before the chain counts as one that
 * never returns: PROBE_BOUNDARIES_PER_CALL per call of the function, and
 * never fewer than 10 M (a call takes a few hundred). */
#define PROBE_BOUNDARIES_PER_CALL 1000000ull
uint64_t probe_boundary_limit(uint64_t iterations);
/* The most calls `sigstep run --iterations` takes. */
#define PROBE_MAX_ITERATIONS 100000ull
#define PROBE_MAX_ITERATIONS_TEXT "100000"

/*
 * Runs one configuration.  0: ran (result filled, pass or not);
 * 2: unusable input (err says what, one line).  Deterministic: the same
 * configuration gives the same result, byte for byte, except the timings.
 */
int probe_run(const struct probe_config *cfg, struct probe_result *res, char *err, size_t errlen);

/*
 * probe_run in two steps, for runs that share their start: probe_boot
 * loads the subject and runs it as far as no run's own settings matter
 * (the image: to its sigstep_ready, fixtures/run_choice.h, set-up done);
 * probe_boot_run goes on with one run's config from there, as probe_run
 * would have, and consumes the boot unless it is kept (probe_boot_keep);
 * it takes cfg's deadline if it has one, else the boot's.
 * probe_boot_shares: a boot made with config a serves config b (a subject
 * without a boot step shares nothing).  probe_boot: NULL, with one line in
 * err, where probe_run would have returned 2.  probe_boot_free: a boot no
 * run consumed, or a kept one.
 */
struct probe_boot;
struct probe_boot *probe_boot(const struct probe_config *cfg, char *err, size_t errlen);
/*
 * Keeps the boot's state, so that probe_boot_run leaves the boot open
 * and probe_boot_rewind puts it back as probe_boot left it: runs one
 * after another in one process, each as if it ran alone, none paying
 * for the translations of the one before.  0, or -1 (a subject without a
 * boot step; out of memory): the boot is then as before, one run's.
 * probe_boot_rewind: 0, or -1 if the run changed what cannot be put back
 * (the memory map): free the boot and boot again.
 */
int probe_boot_keep(struct probe_boot *b);
int probe_boot_rewind(struct probe_boot *b);
int probe_boot_run(struct probe_boot *b, const struct probe_config *cfg, struct probe_result *res, char *err,
		   size_t errlen);
int probe_boot_shares(const struct probe_config *a, const struct probe_config *b);
/* The source lines of the boot's files, read now for every run forked
 * from it (report_lines_keep). */
void probe_boot_keep_lines(const struct probe_boot *b);

/*
 * probe_run for many runs of a few images in one process (sigstep fuzz,
 * the libFuzzer schedule target): a kept boot per distinct boot
 * (probe_boot_shares), made when first needed, rewound before each run;
 * with all PROBE_BOOTS_MAX in use the oldest gives way.  The boots are
 * made by the process that runs first: a fork inherits them.  As
 * probe_run: 0 with *res, or 2 with err.
 */
#define PROBE_BOOTS_MAX 12
struct probe_boots {
	struct {
		struct probe_boot *boot;
		struct probe_config cfg;	/* its strings copied below */
		char variant[64], build_dir[4096], image_path[4096];
	} slot[PROBE_BOOTS_MAX];
	unsigned next;
};
int probe_run_on_boots(struct probe_boots *bs, const struct probe_config *cfg, struct probe_result *res, char *err,
		       size_t errlen);
void probe_boot_free(struct probe_boot *b, const struct probe_config *cfg);
/* The CLOCK_MONOTONIC second at which a run of cfg starting now ends
 * (its timeout_s, or the default): a probe_boot_run's own deadline. */
double probe_deadline_from_now(const struct probe_config *cfg);
void probe_result_free(struct probe_result *res);

/*
 * Runs a delivered signal's handler (engine_deliver_signal) from the
 * current PC to its rt_sigreturn, as the probe does at each boundary,
 * within `budget` instructions (0: the default).  HANDLER_RETURNED: the
 * registers are the frame's again and PC is where it said.
 */
struct machine;
enum handler_result probe_run_handler(struct machine *mc, uint64_t budget);

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
