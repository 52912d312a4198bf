/*
 * Scenario files (scenarios/NAME.scn) and the mutants' expectation headers
 * (scenarios/mutants/<arch>/NAME.S): each names probe configurations --
 * function, context, vDSO present or absent and its knobs, sigprof era,
 * injection -- and the outcome each must give.  Format: scenarios/README.md.
 *
 * A file expands into rows, one probe run each.  Errors in a file are one
 * line, "FILE:LINE: message", on stderr, and status 2.
 */
#ifndef SIGSTEP_SCENARIO_H
#define SIGSTEP_SCENARIO_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "arch_ops.h"
#include "probe.h"

#define SCN_MAX_AT 4

/* pass, or fail with verdicts that must / must not appear, an invariant
 * failure that must appear, and where the violations must lie. */
struct scn_expect {
	int pass;
	int want[VERDICT_COUNT];	/* +1: count > 0; -1: count == 0 */
	char invariant[64];		/* "": the guest's invariants must hold;
					 * else they must fail, their text containing this */
	int nat;
	struct {
		char sym[48];
		uint64_t lo, hi;	/* offsets, inclusive */
		int whole;		/* SYM alone: any offset */
	} at[SCN_MAX_AT];		/* every violation lies in one of them */
	char text[160];			/* as written, for the table */
};

struct scn_row {
	char source[PATH_MAX + 16];	/* "FILE:LINE" of the section or the header line */
	char name[64];			/* the section, or the mutant's file stem */
	const struct arch_ops *ops;
	char variant[64];		/* a built variant, or the mutant's stem */
	char mutant[PATH_MAX];		/* the mutant's .S file; "" for a built variant */
	char function[16];
	char context[8];
	int era;			/* -1: the variant's own */
	int vdso;
	uint64_t vdso_base;		/* where the vDSO goes; 0: the arch's default */
	uint32_t knob_clobber, knob_callee_saved, knob_stack_bytes, knob_sse_align;
	char knobs[64];			/* "-" or "callee_saved,stack=70000" */
	enum probe_inject inject;
	uint64_t sample_n, sample_seed;
	struct scn_expect expect;
	char program[PATH_MAX + 64];	/* variant go-fixture: the program's path */
};

/* The variant naming the real Go fixture (fixtures/go), probed at its
 * SCN_GO_CALL-th call as `sigstep go` does. */
#define SCN_GO_FIXTURE "go-fixture"
#define SCN_GO_CALL 200
/* ... run for SCN_GO_ITERATIONS loop iterations (its -iterations): one
 * time.Now and one time.Since each, so the 200th call of any of its
 * clock functions comes by iteration 200, and the rest of the run after
 * the probed call is short (the fixture's default is 1000). */
#define SCN_GO_ITERATIONS "300"

struct scn_rows {
	struct scn_row *v;
	size_t n;
};

/*
 * Parses the words of an expectation ("pass", or "fail" and its words).
 * 0, or -1 with msg.
 */
int scn_expect_parse(char **tok, int ntok, struct scn_expect *e, char *msg, size_t msglen);

/* 1 if the result meets the expectation; 0 with why. */
int scn_expect_met(const struct scn_expect *e, const struct probe_result *r, char *why, size_t whylen);

/*
 * The next line of f (read into line, n bytes) split at blanks into tok,
 * '#' to the end of the line dropped, *lineno counted: the number of
 * words, at most max (0: a blank line); -1 at the end of the file; -2
 * with msg when the line is longer than n or has more than max words.
 * Scenario files and scenarios/expectations.txt are read this way.
 */
int scn_next_words(FILE *f, char *line, size_t n, int *lineno, char **tok, int max, char *msg, size_t msglen);

/*
 * Appends the rows of one scenario file; build_dir gives the built
 * variants (DIR/guest/<arch>/variants.txt) that `*` and the names expand
 * to.  0, or 2 after "FILE:LINE: message" on stderr.
 */
int scn_read_file(const char *path, const char *build_dir, struct scn_rows *rows);

/* Appends the rows of one mutant file (its "// expect:" lines) for arch. */
int scn_read_mutant(const char *path, const struct arch_ops *ops, struct scn_rows *rows);

/* Every SRC/scenarios/NAME.scn, then every SRC/scenarios/mutants/<arch>/NAME.S,
 * each set in name order.  0, or 2 after a message. */
int scn_read_all(const char *src_dir, const char *build_dir, struct scn_rows *rows);

void scn_rows_free(struct scn_rows *rows);

/* The probe configuration of a row; image: the built mutant (NULL for a
 * built variant). */
void scn_row_config(const struct scn_row *r, const char *build_dir, const char *image, struct probe_config *cfg);

#endif
