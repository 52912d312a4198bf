/*
 * What scenario sections, mutant headers and schedules share inside
 * scenarios/: the settings of a row as they are read, one strict parser
 * for each key (scenario.c), so that a schedule's `knobs` or `vdso_base`
 * means what a section's does.
 */
#ifndef SIGSTEP_SCN_SETTINGS_H
#define SIGSTEP_SCN_SETTINGS_H

#include "scenario.h"

struct settings {
	char arch[8][16];
	int narch;		/* 0: every arch */
	char variant[16][64];
	int nvariant;		/* 0: not given; "*" allowed */
	char function[2][16];
	int nfunction;		/* 0: both */
	char context[8];
	int era;
	int vdso;
	uint64_t vdso_base;	/* 0: the arch's default */
	uint32_t clobber, callee_saved, stack_bytes, sse_align;
	char knobs[64];
	enum probe_inject inject;
	uint64_t sample_n, sample_seed;
	int have_expect;
	struct scn_expect expect;
	unsigned seen;		/* bit per key: given twice is an error */
};

void scn_settings_default(struct settings *s);
/* One setting: key and its words.  `mutant` forbids what a mutant file
 * fixes itself (arch, variant).  0, or -1 with msg. */
int scn_setting(struct settings *s, const char *key, char **w, int nw, int mutant, char *msg, size_t msglen);
/* A vdso_base must suit the arch and a vDSO that is there.  0, or -1 with msg. */
int scn_vdso_base_fits(const struct settings *s, const struct arch_ops *ops, char *msg, size_t msglen);
/* The row's settings (all but its source, name, arch, variant, function). */
void scn_row_from(struct scn_row *r, const struct settings *s);

#endif
