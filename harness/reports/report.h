/*
 * What every report writer takes: the probed rows of a command with
 * their expectation and whether it was met.  One writer per format, one
 * file each (report.c: text and JSON; junit.c, sarif.c, pprof.c, html.c).
 * Every writer is deterministic: the same rows give the same bytes (no
 * timings, no dates, no host names).
 */
#ifndef SIGSTEP_REPORT_H
#define SIGSTEP_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "probe.h"

/* Every judged sample of one run with the stack the handler built, for
 * --pprof (sample_log.c): collected through probe_config.on_sample, then
 * given source lines from the image and the vDSO before the image goes. */
struct logged_frame {
	uint64_t pc;
	char sym[PROBE_SYM_MAX];	/* "time_now+0x27" */
	uint32_t file;			/* index into sample_log.files; 0: none */
	uint32_t line;			/* 0: none */
};

struct logged_sample {
	uint64_t pc;			/* the boundary */
	char at[PROBE_SYM_MAX];		/* its symbol+offset */
	char insn[64];
	uint32_t file, line;		/* its source line (files index; 0 none) */
	enum verdict verdict;
	int n;
	struct logged_frame frame[PROBE_MAX_FRAMES];	/* innermost first */
};

struct sample_log {
	struct logged_sample *v;
	size_t n, cap;
	int failed;			/* out of memory: samples were lost */
	char **files;			/* files[0] = "" */
	size_t nfiles;
	/* Every frame's pc is one past its instruction, the innermost too:
	 * Go's pcbuf, where a signal PC is stored as pc+1 so that a reader
	 * may always subtract one (runtime/traceback.go, Go issue 34123).
	 * 0: the innermost frame is the pc itself (the guest images). */
	int pcs_past;
};

/* The probe_config.on_sample of a run: appends to the sample_log ctx. */
void sample_log_add(void *ctx, const struct probe_sample *s);
/* Source lines for every frame, from the image's line table and the
 * vDSO's (vdso NULL or vdso_base 0: none); a return address is looked up
 * at pc - 1, the call, as Go's profiler tools do.  The image may be a Go
 * program: its lines are then its pclntab's (code_lines.h). */
void sample_log_locate(struct sample_log *log, const char *image, const char *vdso, uint64_t vdso_base);
void sample_log_free(struct sample_log *log);

struct report_row {
	const struct probe_result *res;
	/* Where the row comes from: "matrix", a scenario or mutant file,
	 * "run", "check" (JUnit's suite, SARIF's and pprof's labels). */
	const char *source;
	/* "arch/variant/function/era/context" (plus "[scenario]" for a
	 * scenario row): one name per row, unique within a report. */
	char name[192];
	const char *expect;	/* "pass", "fail wrong !external"; NULL: none (pass implied) */
	int met;
	const char *why;	/* why not met; "" when met */
	const struct sample_log *samples;	/* --pprof: the row's samples; NULL none */
	/* SARIF: the uriBaseId of the relative file names of violations at
	 * pcs in [text_lo, text_hi), a Go program's text: its pclntab names
	 * the standard library under -trimpath relative to GOROOT/src
	 * ("runtime/sys_linux_amd64.s"), not to sigstep's tree.  NULL: every
	 * relative name is the tree's (SRCROOT). */
	const char *text_base;
	uint64_t text_lo, text_hi;
};

/*
 * The source line of every violation of res, from the line tables of the
 * image and of the vDSO the harness mapped at res->vdso_base (by offset:
 * it is linked at 0; vdso NULL or the base 0: none).  The image may be a
 * Go program: its pclntab gives the lines.  A file without line tables,
 * or one the reader refuses, gives no lines: the verdicts do not depend
 * on them.
 */
void report_locate_violations(struct probe_result *res, const char *image, const char *vdso);
/* Loads the lines of these files (either NULL: none) once, for every
 * later report_locate_violations of this process and of its forks: a
 * process that runs many rows of one image reads them once (the files
 * must not change until report_lines_forget). */
void report_lines_keep(const char *image, const char *vdso);
/* The kept lines go: a later report_lines_keep loads its files again
 * (another image, or a file built again at the same path). */
void report_lines_forget(void);

/* Why a run held to "pass" (run, check, native) failed, into buf:
 * "59 violations" and/or "invariants: ..."; "" when it passed. */
const char *report_why_not_pass(const struct probe_result *res, char *buf, size_t n);

/* row->name from its result (and scenario name, NULL for none). */
void report_row_name(struct report_row *row, const char *scenario);

/* The JSON array of run records (probe_print_json's), each with its
 * expectation and "met". */
void report_json(FILE *out, const struct report_row *rows, size_t n);

/* JUnit XML: one testsuite per source, one testcase per row, a failure
 * per unmet expectation with the row's violations in its text. */
void report_junit(FILE *out, const char *command, const struct report_row *rows, size_t n);

/* SARIF 2.1.0: one run, one rule per failing verdict, one result per
 * violating instruction with its physical location (file, line). */
void report_sarif(FILE *out, const struct report_row *rows, size_t n);

/* The samples as Go's CPU profiler would have recorded them: one sample
 * per probed boundary with the stack the handler built, in profile.proto,
 * gzip-compressed.  0; -1 (errno) when it could not be written. */
int report_pprof(FILE *out, const struct report_row *rows, size_t n);

/* One self-contained HTML page: per row, the chain's violating
 * instructions by verdict, and each violation with both stacks. */
void report_html(FILE *out, const struct report_row *rows, size_t n);

#endif
