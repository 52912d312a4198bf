/*
 * Schedule files (schedule.h).  A schedule is a scenario row without an
 * expectation, plus its events:
 *
 *	arch      amd64
 *	variant   master            # or: file scenarios/mutants/amd64/x.S
 *	function  walltime
 *	context   curg
 *	at 12 sample
 *	at walltime+0x1c@2 keep
 *	at nanotime+0x20 nested-clock walltime
 *
 * The settings are read by the scenario files' own parser (scn_setting),
 * one value each here; the events by this file.
 */
#include "schedule.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scn_settings.h"

/* "12", "walltime+0x1c" or "walltime+0x1c@2" into e.  0, or -1 with msg. */
static int parse_where(const char *w, struct probe_event *e, char *msg, size_t msglen)
{
	uint64_t v;
	if (w[0] >= '0' && w[0] <= '9') {
		if (cli_parse_u64(w, 10, &v) || v > SCHED_MAX_INDEX) {
			snprintf(msg, msglen, "bad boundary index '%s' (0..%d)", w, SCHED_MAX_INDEX);
			return -1;
		}
		e->index = v;
		return 0;
	}
	char buf[96];
	if (strlen(w) >= sizeof buf) {
		snprintf(msg, msglen, "bad place '%.40s...' (too long)", w);
		return -1;
	}
	snprintf(buf, sizeof buf, "%s", w);
	e->occurrence = 1;
	char *hash = strchr(buf, '@');
	if (hash) {
		*hash = 0;
		if (cli_parse_u64(hash + 1, 10, &v) || v < 1 || v > SCHED_MAX_OCCURRENCE) {
			snprintf(msg, msglen, "bad occurrence '@%s' (1..%d)", hash + 1, SCHED_MAX_OCCURRENCE);
			return -1;
		}
		e->occurrence = v;
	}
	char *plus = strrchr(buf, '+');
	if (!plus || plus == buf || (size_t)(plus - buf) >= sizeof e->sym || cli_parse_u64(plus + 1, 0, &v) ||
	    v > SCHED_MAX_OFFSET) {
		snprintf(msg, msglen, "bad place '%s' (a boundary index, or SYMBOL+OFFSET[@OCCURRENCE])", w);
		return -1;
	}
	for (char *c = buf; c < plus; c++)
		if (!(*c == '_' || *c == '.' || (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= 'A' && *c <= 'Z'))) {
			snprintf(msg, msglen, "bad symbol in '%s'", w);
			return -1;
		}
	*plus = 0;
	memcpy(e->sym, buf, (size_t)(plus - buf) + 1);	/* shorter than e->sym: checked above */
	e->off = v;
	return 0;
}

/* "at WHERE WHAT [CLOCK]".  0, or -1 with msg. */
static int parse_event(char **w, int nw, struct probe_event *e, char *msg, size_t msglen)
{
	memset(e, 0, sizeof *e);
	if (nw < 2) {
		snprintf(msg, msglen, "'at' needs a place and an event (sample, keep, nested-clock CLOCK, nested-signal CLOCK N...)");
		return -1;
	}
	if (parse_where(w[0], e, msg, msglen))
		return -1;
	if (!strcmp(w[1], "sample") || !strcmp(w[1], "keep")) {
		if (nw != 2) {
			snprintf(msg, msglen, "'%s' takes nothing after it", w[1]);
			return -1;
		}
		e->kind = strcmp(w[1], "sample") ? PROBE_EV_KEEP : PROBE_EV_SAMPLE;
		return 0;
	}
	if (!strcmp(w[1], "nested-clock")) {
		if (nw != 3 || (strcmp(w[2], "walltime") && strcmp(w[2], "nanotime"))) {
			snprintf(msg, msglen, "nested-clock reads 'walltime' or 'nanotime'");
			return -1;
		}
		e->kind = PROBE_EV_NESTED_CLOCK;
		e->clock = strcmp(w[2], "walltime") ? PROBE_CLOCK_NANOTIME : PROBE_CLOCK_WALLTIME;
		return 0;
	}
	if (!strcmp(w[1], "nested-signal")) {
		if (nw < 4 || nw > 3 + PROBE_MAX_DEPTH || (strcmp(w[2], "walltime") && strcmp(w[2], "nanotime"))) {
			snprintf(msg, msglen, "nested-signal reads 'walltime' or 'nanotime', then 1 to %d boundaries "
				 "of the clock calls (one per level)", PROBE_MAX_DEPTH);
			return -1;
		}
		e->kind = PROBE_EV_NESTED_SIGNAL;
		e->clock = strcmp(w[2], "walltime") ? PROBE_CLOCK_NANOTIME : PROBE_CLOCK_WALLTIME;
		for (int k = 3; k < nw; k++) {
			uint64_t v;
			if (w[k][0] < '0' || w[k][0] > '9' || cli_parse_u64(w[k], 10, &v) || v > PROBE_MAX_INNER) {
				snprintf(msg, msglen, "bad boundary '%s' of a clock call (0..%d)", w[k], PROBE_MAX_INNER);
				return -1;
			}
			e->inner[e->depth++] = (uint32_t)v;
		}
		return 0;
	}
	snprintf(msg, msglen, "unknown event '%s' (sample, keep, nested-clock walltime|nanotime, "
		 "nested-signal walltime|nanotime BOUNDARY...)", w[1]);
	return -1;
}

/* A setting a schedule takes: as a section's, one value each. */
static int parse_setting(struct settings *st, struct schedule *s, char **w, int nw, char *msg, size_t msglen)
{
	const char *key = w[0];
	if (!strcmp(key, "file")) {
		if (s->row.mutant[0] || st->nvariant) {
			snprintf(msg, msglen, "'file' given twice, or with 'variant'");
			return -1;
		}
		if (nw != 2 || strlen(w[1]) < 3 || strcmp(w[1] + strlen(w[1]) - 2, ".S") ||
		    strlen(w[1]) >= sizeof s->row.mutant) {
			snprintf(msg, msglen, "'file' names one trampoline file, FILE.S");
			return -1;
		}
		snprintf(s->row.mutant, sizeof s->row.mutant, "%s", w[1]);
		return 0;
	}
	if (!strcmp(key, "inject") || !strcmp(key, "expect")) {
		snprintf(msg, msglen, "a schedule has no '%s': its events say where signals go", key);
		return -1;
	}
	if ((!strcmp(key, "arch") || !strcmp(key, "variant") || !strcmp(key, "function")) && nw != 2) {
		snprintf(msg, msglen, "a schedule's '%s' is one value", key);
		return -1;
	}
	if (!strcmp(key, "variant") && s->row.mutant[0]) {
		snprintf(msg, msglen, "'variant' with 'file'");
		return -1;
	}
	if (!strcmp(key, "variant") && (!strcmp(w[1], "*") || !strcmp(w[1], SCN_GO_FIXTURE))) {
		snprintf(msg, msglen, "a schedule runs one sigstep variant, not '%s'", w[1]);
		return -1;
	}
	if ((!strcmp(key, "arch") || !strcmp(key, "function")) && !strcmp(w[1], "*")) {
		snprintf(msg, msglen, "a schedule's '%s' is one value, not '*'", key);
		return -1;
	}
	if (!strcmp(key, "function") && strcmp(w[1], "walltime") && strcmp(w[1], "nanotime")) {
		snprintf(msg, msglen, "unknown function '%s' (walltime or nanotime)", w[1]);
		return -1;
	}
	return scn_setting(st, key, w + 1, nw - 1, 0, msg, msglen);
}

int schedule_parse(const char *text, size_t len, const char *name, struct schedule *s, char *msg, size_t msglen)
{
	struct settings st;
	char line[1024], m[300] = "";
	char *tok[16];
	int lineno = 0;
	memset(s, 0, sizeof *s);
	scn_settings_default(&st);
	size_t pos = 0;
	while (pos < len && !m[0]) {
		size_t end = pos;
		while (end < len && text[end] != '\n')
			end++;
		lineno++;
		if (end - pos >= sizeof line) {
			snprintf(m, sizeof m, "line too long");
			break;
		}
		if (memchr(text + pos, 0, end - pos)) {
			snprintf(m, sizeof m, "a NUL byte in the line");
			break;
		}
		memcpy(line, text + pos, end - pos);
		line[end - pos] = 0;
		pos = end + 1;
		line[strcspn(line, "#\r")] = 0;
		int n = 0;
		for (char *save, *t = strtok_r(line, " \t\v\f", &save); t; t = strtok_r(NULL, " \t\v\f", &save)) {
			if (n == 16) {
				snprintf(m, sizeof m, "too many words");
				break;
			}
			tok[n++] = t;
		}
		if (m[0] || n == 0)
			continue;
		if (!strcmp(tok[0], "at")) {
			if (s->events.n == PROBE_MAX_EVENTS) {
				snprintf(m, sizeof m, "more than %d events", PROBE_MAX_EVENTS);
				break;
			}
			if (parse_event(tok + 1, n - 1, &s->events.ev[s->events.n], m, sizeof m))
				break;
			s->events.n++;
			continue;
		}
		parse_setting(&st, s, tok, n, m, sizeof m);
	}
	if (!m[0]) {
		lineno = lineno ? lineno : 1;
		if (!st.narch)
			snprintf(m, sizeof m, "no 'arch'");
		else if (!st.nvariant && !s->row.mutant[0])
			snprintf(m, sizeof m, "no 'variant' or 'file'");
		else
			scn_vdso_base_fits(&st, arch_ops_find(st.arch[0]), m, sizeof m);
	}
	if (m[0]) {
		snprintf(msg, msglen, "%s:%d: %s", name, lineno, m);
		return -1;
	}
	struct scn_row *r = &s->row;
	snprintf(r->source, sizeof r->source, "%s", name);
	r->ops = arch_ops_find(st.arch[0]);
	if (r->mutant[0]) {
		const char *base = strrchr(r->mutant, '/') ? strrchr(r->mutant, '/') + 1 : r->mutant;
		snprintf(r->variant, sizeof r->variant, "%.*s", (int)strcspn(base, "."), base);
	} else {
		snprintf(r->variant, sizeof r->variant, "%s", st.variant[0]);
	}
	snprintf(r->name, sizeof r->name, "%s", r->variant);
	snprintf(r->function, sizeof r->function, "%s", st.nfunction ? st.function[0] : "walltime");
	scn_row_from(r, &st);
	r->inject = PROBE_SCHEDULE;
	return 0;
}

int schedule_read(const char *path, struct schedule *s)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "sigstep: %s: %s\n", path, strerror(errno));
		return 2;
	}
	enum { MAX = 1 << 20 };
	char *buf = malloc(MAX);
	size_t n = buf ? fread(buf, 1, MAX, f) : 0;
	int bad = !buf || ferror(f) || (n == MAX && fgetc(f) != EOF);
	fclose(f);
	if (bad) {
		fprintf(stderr, "sigstep: %s: %s\n", path, buf ? "unreadable, or larger than 1 MiB" : "out of memory");
		free(buf);
		return 2;
	}
	char msg[512];
	int rc = schedule_parse(buf, n, path, s, msg, sizeof msg);
	free(buf);
	if (rc) {
		fprintf(stderr, "%s\n", msg);
		return 2;
	}
	return 0;
}

void schedule_event_text(const struct probe_event *e, char *buf, size_t n)
{
	char where[96];
	if (e->sym[0] && e->occurrence > 1)
		snprintf(where, sizeof where, "%s+0x%llx@%llu", e->sym, (unsigned long long)e->off,
			 (unsigned long long)e->occurrence);
	else if (e->sym[0])
		snprintf(where, sizeof where, "%s+0x%llx", e->sym, (unsigned long long)e->off);
	else
		snprintf(where, sizeof where, "%llu", (unsigned long long)e->index);
	char inner[8 * PROBE_MAX_DEPTH + 1] = "";
	for (int k = 0; e->kind == PROBE_EV_NESTED_SIGNAL && k < e->depth && k < PROBE_MAX_DEPTH; k++)
		snprintf(inner + strlen(inner), sizeof inner - strlen(inner), " %u", e->inner[k] % 10000000u);
	snprintf(buf, n, "%s %s%s%s", where,
		 e->kind == PROBE_EV_SAMPLE ? "sample" : e->kind == PROBE_EV_KEEP ? "keep"
		 : e->kind == PROBE_EV_NESTED_CLOCK ? "nested-clock" : "nested-signal",
		 e->kind == PROBE_EV_SAMPLE || e->kind == PROBE_EV_KEEP ? ""
		 : e->clock == PROBE_CLOCK_WALLTIME ? " walltime" : " nanotime", inner);
}

void schedule_write(FILE *f, const struct schedule *s)
{
	const struct scn_row *r = &s->row;
	fprintf(f, "arch      %s\n", r->ops->name);
	if (r->mutant[0])
		fprintf(f, "file      %s\n", r->mutant);
	else
		fprintf(f, "variant   %s\n", r->variant);
	fprintf(f, "function  %s\n", r->function);
	fprintf(f, "context   %s\n", r->context);
	fprintf(f, "sigprof   %s\n", r->era < 0 ? "own" : cli_era_names[r->era]);
	fprintf(f, "vdso      %s\n", r->vdso ? "present" : "absent");
	if (r->vdso_base)
		fprintf(f, "vdso_base 0x%llx\n", (unsigned long long)r->vdso_base);
	fprintf(f, "knobs     %s\n", strcmp(r->knobs, "-") ? r->knobs : "none");
	for (int i = 0; i < s->events.n; i++) {
		char ev[160];
		schedule_event_text(&s->events.ev[i], ev, sizeof ev);
		fprintf(f, "at %s\n", ev);
	}
}

void schedule_config(const struct schedule *s, const char *build_dir, const char *image, struct probe_config *cfg)
{
	scn_row_config(&s->row, build_dir, image, cfg);
	cfg->inject = PROBE_SCHEDULE;
	cfg->schedule = &s->events;
}
