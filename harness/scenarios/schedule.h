/*
 * Schedule files: one probe configuration and the signals delivered in
 * it, event by event (format: scenarios/README.md, "Schedules").  What
 * `sigstep run --schedule` replays and `sigstep fuzz` mutates, minimizes
 * and writes.
 */
#ifndef SIGSTEP_SCHEDULE_H
#define SIGSTEP_SCHEDULE_H

#include <stddef.h>
#include <stdio.h>

#include "probe.h"
#include "scenario.h"

/* Bounds of a schedule's numbers: a chain has a few hundred boundaries. */
#define SCHED_MAX_INDEX 100000
#define SCHED_MAX_OCCURRENCE 100000
#define SCHED_MAX_OFFSET 0x100000

struct schedule {
	struct scn_row row;	/* arch, variant or mutant file, function, context, vDSO, knobs, era */
	struct probe_schedule events;
};

/*
 * Parses a schedule from text[0..len) (not NUL-terminated), `name` for the
 * messages.  0, or -1 with "NAME:LINE: message" in msg.  Bounded: every
 * number, word and line has a limit; nothing is looked up outside the
 * text (a mutant file named by `file` is only checked when it runs).
 */
int schedule_parse(const char *text, size_t len, const char *name, struct schedule *s, char *msg, size_t msglen);

/* Reads and parses a file.  0, or 2 after "FILE:LINE: message" on stderr. */
int schedule_read(const char *path, struct schedule *s);

/* Writes a schedule in the format schedule_parse reads back to the same
 * schedule (the settings a row has, then one `at` line per event). */
void schedule_write(FILE *f, const struct schedule *s);

/* An event as its `at` line writes it: "walltime+0x1c@2 keep". */
void schedule_event_text(const struct probe_event *e, char *buf, size_t n);

/* The probe configuration of a schedule; image: the built mutant, or NULL. */
void schedule_config(const struct schedule *s, const char *build_dir, const char *image, struct probe_config *cfg);

#endif
