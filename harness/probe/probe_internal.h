/*
 * What the probe loop (probe.c) and its subjects share: the state of one
 * probed run, and the interface a subject implements.
 *
 * A subject is what runs in the machine: a sigstep guest image (the
 * model, probe.c's own) or a real Go program (subject_go.c).  The probe
 * loop -- single steps, the shadow stack, signal delivery, the handler
 * run, the undo log, the verdict counts -- is the same for both; a
 * subject says how the process is loaded and brought to the chain's
 * root, how the handler's sample is read, what the true stack holds
 * beyond the window, and what the rest of the run must show.
 */
#ifndef SIGSTEP_PROBE_INTERNAL_H
#define SIGSTEP_PROBE_INTERNAL_H

#include <capstone/capstone.h>
#include <stdint.h>
#include <unicorn/unicorn.h>

#include "machine.h"
#include "oracle.h"
#include "probe.h"
#include "run.h"
#include "syscalls.h"

struct probe;

struct probe_subject {
	const char *name;	/* "image" | "go": the JSON record's subject */
	/*
	 * NULL, or the part of start that runs of one boot share
	 * (probe_boot_shares): loads the process into p->g (p->mc set), adds
	 * the chain's code ranges (add_range) and runs it as far as no run's
	 * own settings matter.  p->res is scratch there.  0, or 2 with one
	 * line in err.
	 */
	int (*boot)(struct probe *p, char *err, size_t errlen);
	/*
	 * Loads the process (or goes on from boot, perhaps in a forked copy
	 * of the process that booted it), adds the chain's code ranges and
	 * brings it to the root's first instruction (p->root_lo, p->root_hi
	 * set; the mode MODE_FREE after).  Fills the result's names.  0, or
	 * 2 with one line in err.
	 */
	int (*start)(struct probe *p, char *err, size_t errlen);
	/* Just before a signal is delivered: note what the sample looks
	 * like now, so that judge can tell a new one. */
	void (*arm_sample)(struct probe *p);
	/* The true stack beyond the window (the callers of the root), after
	 * the n entries the shadow stack gave: the new count. */
	int (*outer_truth)(struct probe *p, uint64_t *truth, int n, int max);
	/*
	 * The handler came back to the boundary: its sample (into v->got,
	 * v->ngot; v->detail for a fault) judged against truth.  `mark` is
	 * the undo log's position before the handler ran.
	 */
	enum verdict (*judge)(struct probe *p, const uint64_t *truth, int ntruth, struct violation *v, size_t mark);
	/* After the window: runs the process on and records what its own
	 * checks say (invariant_failed).  faulted_window: the window failed. */
	void (*finish)(struct probe *p, int window_rc);
	/*
	 * NULL, or runs that follow each other in one execution of the
	 * process (probe_boot_keep of a subject without a boot step; start
	 * then finds p->follows set and prepares for them): the process
	 * brought on from where the last run's window left it to this run's
	 * root, as start brings it there from its exec (the result's names
	 * filled, p->root_lo/hi set).  0; 1 when this run's root cannot be
	 * reached from here (its call has passed, or it is not a function
	 * the execution counted): the run needs a boot of its own; 2 with
	 * one line in err.
	 */
	int (*follow)(struct probe *p, char *err, size_t errlen);
	/* Frees what start allocated in p->subject_state. */
	void (*cleanup)(struct probe *p);
	/* The subject's hooks on the handler's engine (mc->uc while it is
	 * called), where every handler runs.  0 or -1; NULL: none. */
	int (*hook_handler)(struct probe *p);
	/* Stores to the process's anonymous mappings are the handler's own
	 * (a real runtime keeps its state and buffers on its heap). */
	int heap_is_handlers;
};

extern const struct probe_subject probe_subject_image;
extern const struct probe_subject probe_subject_go;

/* fixtures/sample.h: struct sample, laid out in the guest's word size. */
enum { MARK_NONE, MARK_EXTERNAL, MARK_SYSTEM, MARK_VDSO, MARK_GC };
#define SAMPLE_MAX 32
#define SAMPLE_PC(w) (16 + 3 * (w))
#define SAMPLE_PC0_PLUS1(w) (SAMPLE_PC(w) + 2 * SAMPLE_MAX * (w))
#define SAMPLE_SIZE(w) (SAMPLE_PC0_PLUS1(w) + 4)

/* What the hooks are doing. */
enum mode {
	MODE_FREE,		/* hooks do nothing */
	MODE_TO_ROOT,		/* stop at the root's first instruction */
	MODE_CHAIN,		/* every chain instruction is a boundary (hook_chain) */
	MODE_STEP,		/* probe_step: stop at the second chain instruction */
	MODE_HANDLER,		/* stop after rt_sigreturn or past the budget */
};

#define MAX_RANGES 32
#define BLOCK_SLOTS 4096	/* a power of two */
#define STRIP_SLOTS 1024	/* a power of two, twice PROBE_STRIP_MAX */
#define TEXT_SLOTS 256		/* a power of two */

/* One store the handler made (1 to 8 bytes), with the bytes it replaced. */
struct undo {
	uint64_t addr;
	uint8_t *host;		/* where addr lives on the host (not code) */
	/* machine.removals when host was taken: while it is the same, the
	 * old bytes go back to host; UNDO_BY_MACHINE (or any other count):
	 * by machine_write. */
	uint64_t removals;
	uint8_t old[8];
	uint32_t size;
};

struct probe {
	const struct probe_config *cfg;
	struct probe_result *res;
	const struct probe_subject *subject;
	void *subject_state;
	int follows;		/* later runs follow this one in its execution (probe_subject.follow) */
	struct guest g;
	struct machine *mc;
	struct oracle o;
	uint64_t root_lo, root_hi;	/* the root function's extent */
	uint64_t sample_addr;
	uint64_t drop_fn[3];		/* walltime, nanotime, vdsoCall (0: absent) */
	uint64_t drop_end[3];
	uint64_t max_boundaries;	/* probe_boundary_limit of the run's calls */
	double deadline;		/* now_s() past which the run stops */
	int timed_out;
	uc_context *ctx;
	struct sys_state sys_saved;

	/* The undo log, and the stores found where the handler may not write. */
	int recording;
	struct undo *undo;
	size_t nundo, capundo;
	uint64_t bad_writes;
	char bad_write[160];
	/* The files the subject loaded, for source lines of violations
	 * (report_locate_violations); "" where there are none to read. */
	char image_path[4096], vdso_path[4096];
	int missed_store;	/* a handler store the hooks never saw (warm_handler) */
	uint64_t missed_store_at;	/* warm_handler: the first byte that differed */
	int log_all;		/* warm_handler: every store logged, wherever it lands */
	uint64_t alt_lo, alt_hi;	/* the signal stack at the root */
	uint32_t handlers_kinds;	/* bit per region_kind: the handler's own stores (see probe.c) */
	int log_alt;		/* a nested trial logs the signal stack's stores too */

	/* The chain's code, where the code hook is. */
	struct { uint64_t lo, hi; } range[MAX_RANGES];
	int nranges;
	enum mode mode;
	uint64_t left_chain;	/* MODE_CHAIN, MODE_STEP: a block outside the chain ran, at */
	int step_seen;		/* MODE_STEP: the stepped instruction started */
	int watching;		/* the store path is set up (watch_memory) */

	/*
	 * The engines, over the same memory (probe.c, "Engines"): the chain's
	 * (the machine's first, where the subject was loaded), the handler's,
	 * and the stepping engine (trial_uc: a nested trial's rest of the
	 * chain, a nested-signal event's handlers; probe.c, stepping_engine).  `pad`: where a handler's
	 * rt_sigreturn goes in the handler's engine, so that its run ends
	 * there; `resume_pc`: where the frame said to go; `resumed_pc`:
	 * where the last handler that returned resumes (run_handler).
	 */
	uc_engine *chain_uc, *handler_uc, *trial_uc;
	uc_context *trial_ctx;
	uc_engine *running_uc;	/* the engine inside its hook, in run_chain */
	uc_context *entry_ctx;	/* the CPU state the handler's engine took */
	/* The budget (probe.c, "The budget"): the engine that counts, made
	 * when first needed; whether every run goes there now. */
	uc_engine *count_uc;
	int exact_only;
	struct watchdog *watchdog;
	uc_context *kept_ctx;	/* a kept signal's CPU state, for the chain */
	int kept_pending;	/* ... not yet taken (run_chain restarts with it) */
	uint64_t pad, resume_pc, resumed_pc;
	void (*guest_syscall)(struct machine *mc);
	struct chain_run *run;	/* MODE_CHAIN: the chain being run */
	uint64_t budget, handler_insns;
	int over_budget;
	uint64_t quick_runs, exact_runs;	/* handler runs without and with the count */
	double handler_end_s;	/* now_s() as the last uncounted run ended; 0 once the deadline check took it */
	/* Instructions per translated block, by block address. */
	struct { uint64_t pc; uint32_t size, insns; } block[BLOCK_SLOTS];
	/* Where each pc is in the result's strip (probe.c, strip_add): its
	 * index + 1, 0 for none; emptied when a result's strip begins. */
	uint16_t strip_slot[STRIP_SLOTS];
	/* A violation's text by pc (probe.c, symbolize_pc, insn_text_at):
	 * the same boundaries fail at every iteration.  Emptied as a run
	 * probes its first boundary. */
	struct { uint64_t pc; char text[64]; } sym_cache[TEXT_SLOTS];
	struct { uint64_t pc; uint8_t code[16]; char text[64]; } insn_cache[TEXT_SLOTS];
	csh cs;
	int cs_open;
	csh cs_detail;		/* x86, with operand details: the SSE alignment check */
	int cs_detail_open;

	uint8_t sample_buf[SAMPLE_SIZE(8)];
	size_t cap_violations;
	int progress_shown;

	/* PROBE_SAMPLE: the boundaries that get a signal (bit per index). */
	uint8_t *chosen;
	uint64_t nchosen_bits;
	/* PROBE_NESTED: while a trial runs (the nested signal's effects kept,
	 * the rest of the chain probed), every store is logged so that the
	 * trial can be undone; trial_k is its boundary index, else -1. */
	int trial;
	int64_t trial_k;
	uint64_t nested_flag_addr;	/* the guest's sigstep_nested_clock */
	uint64_t nested_read_addr;	/* the guest's sigstep_nested_read */
	uint64_t window_ticks;		/* the emulated clock when the window began */
	/* Trials whose nested read or end-of-call checks failed: how many,
	 * and the first one's text (one invariant line for the run). */
	uint64_t trials_failed;
	int trial_bad;			/* the current trial has failed already */
	char trial_failure[200];
	/* PROBE_SCHEDULE: each event's address (SYMBOL+OFF events) and how
	 * often the chain has been there. */
	uint64_t event_addr[PROBE_MAX_EVENTS];
	uint64_t event_seen[PROBE_MAX_EVENTS];
	/* PROBE_EV_NESTED_SIGNAL (nested_signal.c): the event being
	 * delivered (NULL: none), the level of the signal being delivered
	 * (0: SIGPROF at a chain boundary; k: the SIGURG inside level k-1's
	 * clock call), the oracle of the clock call it interrupts (NULL: the
	 * chain's, p->o), where MODE_HANDLER also stops (0: only after
	 * rt_sigreturn), and the schedule event being delivered (-1: none). */
	const struct probe_event *nest;
	int nest_level;
	struct oracle *truth_oracle;
	uint64_t handler_stop_at;
	int cur_event;
	/* MODE_TO_ROOT: where to stop (the root, or the image's
	 * sigstep_ready on the way), and how many times to let it pass
	 * first (the N-th stops). */
	uint64_t stop_at;
	uint64_t root_skip;
	/* The image's sigstep_choice, sigstep_era, sigstep_variant_era
	 * (fixtures/run_choice.h). */
	uint64_t choice_addr, era_addr, variant_era_addr;
	uint32_t seq0;		/* the image's sample seq before the handler ran */
};


/* probe.c's helpers a subject uses. */
int probe_add_range(struct probe *p, uint64_t lo, uint64_t hi);
int probe_add_foreign_code(struct probe *p);
int probe_install_block_hook(struct probe *p);
void probe_invariant_failed(struct probe_result *res, const char *what);
int probe_fail(char *err, size_t errlen, const char *fmt, const char *a, const char *b);

/* probe.c's store path (its "store path and undo log"), for its test:
 * every writable page read-only in every engine and the machine's store
 * path set to log stores (watch_memory); the undo log put back to `mark`,
 * a count of its records (undo_to). */
int probe_watch_memory(struct probe *p);
void probe_undo_to(struct probe *p, size_t mark);

/* probe.c's delivery, for nested_signal.c: the handler run to its
 * rt_sigreturn (or to handler_stop_at), one chain instruction (MODE_STEP),
 * and a signal delivered and judged at the current boundary
 * (probe_boundary). */
enum handler_result probe_handler_run(struct probe *p);
int probe_step(struct probe *p);
int probe_deliver(struct probe *p, int persist, enum probe_clock clock);

/* nested_signal.c: the handler of a nested-signal event's level
 * p->nest_level, run with the next level delivered inside its clock call.
 * As run_handler: HANDLER_RETURNED when it came back through rt_sigreturn. */
enum handler_result nested_signal_handler(struct probe *p);

/* What is left of the run's time (p->deadline), in microseconds, for
 * machine_run and threads_run (never 0: that is no limit). */
uint64_t remaining_us(const struct probe *p);
/* The run's time limit in seconds, as the messages name it (--timeout). */
uint64_t probe_run_timeout_s(const struct probe_config *cfg);

#endif
