/*
 * The shadow stack: the true call stack of the probed chain, kept from
 * what executes and nothing else.  A call instruction (x86 CALL, ARM
 * BL/BLX) that has just run pushes a frame; reaching the frame's return
 * address with the caller's SP pops it.  Frame tables, symbols and the
 * guest's own bookkeeping (vdsoPC/vdsoSP) are never consulted, so the
 * oracle cannot share a blind spot with the traceback it judges.
 */
#ifndef SIGSTEP_ORACLE_H
#define SIGSTEP_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "arch_ops.h"
#include "machine.h"
#include "probe.h"

#define ORACLE_MAX_FRAMES 64

struct oracle_frame {
	uint64_t entry;		/* where the call went */
	uint64_t ret;		/* the return address it left */
	uint64_t sp;		/* SP at the callee's first instruction */
	uint64_t g;		/* the g register then (0 where g is not in one) */
};

struct insn_cache;

struct oracle {
	const struct arch_ops *ops;
	csh cs;			/* with detail on: instruction groups */
	struct insn_cache *cache;	/* decoded instruction kinds by PC */
	struct oracle_frame frame[ORACLE_MAX_FRAMES];
	int n;			/* frame[0] is the root; frame[n-1] the innermost */
	int overflow;		/* a push found the stack full */
	unsigned last_size;	/* bytes of the instruction oracle_is_call saw last */
	/* The first call that came back with the caller's SP or g register
	 * changed ("" while none did): Go's ABI keeps both across a call. */
	char broken[160];
};

/* 0, or -1 if capstone or memory refuses. */
int oracle_init(struct oracle *o, const struct arch_ops *ops);
void oracle_free(struct oracle *o);

/* The window starts with one frame, the root, entered by a jump. */
void oracle_reset(struct oracle *o, uint64_t root_entry, uint64_t sp);

/* Is the instruction at pc a call?  (Decoded once per PC.)  Also notes
 * its size for the oracle_step that follows. */
int oracle_is_call(struct oracle *o, const struct machine *mc, uint64_t pc);

/*
 * After the one instruction at `from` ran: `was_call` as oracle_is_call
 * (the last call to it) said for `from`; the machine's registers are the
 * ones it left.
 */
void oracle_step(struct oracle *o, const struct machine *mc, uint64_t from, int was_call);
/* The same, the machine's PC already read (pc). */
void oracle_step_at(struct oracle *o, const struct machine *mc, uint64_t pc, uint64_t from, int was_call);

/* The true stack at PC pc, innermost first: pc, then the return address
 * of every frame from the innermost out.  Returns the entries written. */
int oracle_truth(const struct oracle *o, uint64_t pc, uint64_t *out, int max);

/* "leaq (%rsp), %rdx" for the instruction at pc; "" if unreadable. */
void oracle_insn_text(struct oracle *o, const struct machine *mc, uint64_t pc, char *buf, size_t n);

/*
 * A sample's frames against the truth (both innermost first).
 * may_drop(ctx, addr, innermost) says whether the function holding addr
 * (a PC when innermost, else a return address) is a leaf the design
 * allows a traceback to leave out.  Markers are judged by the caller.
 * full: got == truth; caller: got == truth[k:] with truth[0..k) droppable;
 * truncated: got == truth[k : k + ngot], ngot >= 1, k + ngot < ntruth (k 0
 * or droppable as for caller): a proper prefix, callers lost; wrong:
 * anything else (duplicated, garbage, misattributed frames).
 */
enum verdict oracle_judge(const uint64_t *truth, int ntruth, const uint64_t *got, int ngot,
			  int (*may_drop)(void *ctx, uint64_t addr, int innermost), void *ctx);

#endif
