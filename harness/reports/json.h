/*
 * The JSON of a probe record, as `sigstep run --json` and `sigstep native
 * --json` write it: the value writers and the parts every record shares,
 * so that a record reads the same whichever engine produced it.
 */
#ifndef SIGSTEP_JSON_H
#define SIGSTEP_JSON_H

#include <stdint.h>
#include <stdio.h>

#include "probe.h"

/* A string, quoted; '"', '\\' and control characters escaped. */
void json_str(FILE *out, const char *s);
/* An array of n addresses, each a "0x..." string. */
void json_pcs(FILE *out, int n, const uint64_t *pcs);
/* An array of n symbol names. */
void json_syms(FILE *out, int n, const char (*sym)[PROBE_SYM_MAX]);

/* The record's first fields: "arch" to "vdso", no brace before them. */
void json_record_head(FILE *out, const struct probe_result *r);
/* The verdict counts as an object, {"full": N, ...}. */
void json_verdicts(FILE *out, const struct probe_result *r);
/* From ",\n  \"invariants_ok\"" to the end of the record: the
 * invariants, pass, the timing and the violations, and the closing brace. */
void json_record_tail(FILE *out, const struct probe_result *r);

#endif
