/*
 * sigstep fuzz --arch A (--variant V | FILE.S) [--function F] [--context C]
 *              [--sigprof ERA] [--seed S] [--runs N | --max-time SECONDS]
 *              [--jobs N] [--fixed-settings] [--corpus DIR]
 *              [--json FILE|-] [--junit FILE] [--sarif FILE] [--build-dir DIR]
 *
 * Coverage-guided mutation of schedules (schedule.h).  The coverage is
 * the subject's, not the harness's: a run's features are, per judged
 * sample, its boundary, how many kept signals came before it (the
 * nesting), the shape of the stack sigprof answered with (which path:
 * its frame count, its verdict), and the run's failed checks.  A
 * schedule that shows a feature never seen joins the corpus.  The first
 * schedule that violates is minimized (fewest events, then each as early
 * as it still fails), written, replayed and printed: exit 1.  None: a
 * summary, exit 0.  The same seed and --runs give the same schedules,
 * features and outcome on any host and with any --jobs; --max-time stops
 * by the clock.
 *
 * Schedules run in rounds of FUZZ_ROUND: each round's schedules are all
 * made first, from the corpus as the round began (one random stream), then
 * run -- by --jobs worker processes, each taking every N-th -- and then
 * merged in their order: features, the corpus, the first violation.  So
 * the workers change how long a round takes, never what it finds.
 *
 * A schedule's settings are fuzzed too (unless --fixed-settings): the vDSO
 * at the arch's default base, at its second base or below the text, with
 * the knobs none, clobber or callee_saved, or no vDSO at all -- each
 * setting learned first as the base one is (what a lone signal shows
 * there), and left out when the run fails its own checks with it.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "probe.h"
#include "report.h"
#include "schedule.h"

static const char usage[] =
	"usage: sigstep fuzz --arch A (--variant V | FILE.S) [--function F] [--context C] [--sigprof ERA]\n"
	"                    [--seed S] [--runs N | --max-time SECONDS] [--jobs N] [--fixed-settings]\n"
	"                    [--corpus DIR] [--json FILE|-] [--junit FILE] [--sarif FILE] [--build-dir DIR]\n";

#define FUZZ_MAX_EVENTS 8		/* a mutated schedule's events at most */
#define FEATURE_SLOTS (1u << 18)	/* a power of two */
#define DEFAULT_RUNS 2000
#define FUZZ_ROUND 16			/* schedules made from one corpus, run, then merged */
#define FUZZ_SETTINGS 10		/* the settings a schedule may take (fuzz_settings) */
#define FUZZ_MAX_JOBS 64

/* One setting a schedule may take: the row (the vDSO's base, knobs, or
 * none) and what was learned of it. */
struct setting {
	struct scn_row row;
	uint64_t boundaries;		/* the chain's, without signals */
	uint32_t clock_call;		/* boundaries of a handler's clock call */
};

/* A corpus entry: its events and setting. */
struct entry {
	struct probe_schedule ev;
	int set;
};

struct fuzz {
	const char *build_dir, *image;
	struct schedule base;		/* the user's settings */
	struct setting set[FUZZ_SETTINGS];	/* [0]: the base's */
	int nset;
	uint64_t rng;
	uint64_t *feature;		/* open addressing; 0 = empty */
	uint64_t nfeatures;
	struct entry *corpus;
	size_t ncorpus, capcorpus;
	/* The run in progress: its features. */
	uint64_t run_feature[512];
	int nrun;
	uint64_t execs;
	/* What the fixed matrix's shape shows already: each (setting,
	 * boundary, verdict) that fails when one signal lands there alone
	 * (the config under inject every).  A schedule violates when it shows
	 * anything else: a failing verdict at a chain boundary where a lone
	 * signal's does not fail so, or a failed check of the run. */
	uint64_t known[4096];
	int nknown;
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* splitmix64, as the probe's sample choice. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t below(struct fuzz *f, uint64_t n)
{
	return n ? next_random(&f->rng) % n : 0;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static void run_feature(struct fuzz *f, uint64_t h)
{
	if (f->nrun < (int)(sizeof f->run_feature / sizeof f->run_feature[0]))
		f->run_feature[f->nrun++] = h | 1;	/* never 0: 0 marks an empty slot */
}

/* Adds a feature to the seen set: 1 if it is new. */
static int feature_add(struct fuzz *f, uint64_t h)
{
	for (uint64_t i = h & (FEATURE_SLOTS - 1);; i = (i + 1) & (FEATURE_SLOTS - 1)) {
		if (f->feature[i] == h)
			return 0;
		if (!f->feature[i]) {
			if (f->nfeatures >= FEATURE_SLOTS / 2)
				return 0;	/* full enough: nothing more counts as new */
			f->feature[i] = h;
			f->nfeatures++;
			return 1;
		}
	}
}

static const struct probe_schedule *current;

/* probe_config.on_sample: one feature per judged sample: its boundary,
 * verdict, the kept signals before its event (the nesting in the chain),
 * its nested-signal level, the frames sigprof answered with, and its
 * event's kind and clock. */
static void on_sample(void *ctx, const struct probe_sample *s)
{
	struct fuzz *f = ctx;
	int i = s->event >= 0 && s->event < current->n ? s->event : current->n, kept = 0;
	for (int k = 0; k < i; k++)
		kept += current->ev[k].kind != PROBE_EV_SAMPLE;
	enum probe_event_kind kind = i < current->n ? current->ev[i].kind : PROBE_EV_SAMPLE;
	enum probe_clock clock = i < current->n ? current->ev[i].clock : PROBE_CLOCK_NONE;
	uint64_t h = mix(mix(mix(mix(mix(mix(1, s->pc), (uint64_t)s->verdict), (uint64_t)(kept > 3 ? 3 : kept)),
			     (uint64_t)s->n), (uint64_t)kind * 4 + clock), (uint64_t)s->depth);
	run_feature(f, h);
}

/* The schedule of an entry: its setting's row, its events. */
static void entry_schedule(const struct fuzz *f, const struct entry *e, struct schedule *s)
{
	s->row = f->set[e->set].row;
	s->events = e->ev;
}

/* Each setting's boot, kept and rewound before each of its runs
 * (probe_run_on_boots): made while the settings are learned, so the
 * round's workers inherit them. */
static struct probe_boots boots;

/* One run of an entry: 0 with *res (free it), or 2 with err. */
static int run_one(struct fuzz *f, const struct entry *e, struct probe_result *res, char *err, size_t errlen)
{
	static struct schedule s;	/* large: not on the stack */
	entry_schedule(f, e, &s);
	struct probe_config cfg;
	schedule_config(&s, f->build_dir, f->image, &cfg);
	cfg.on_sample = on_sample;
	cfg.sample_ctx = f;
	current = &e->ev;
	f->nrun = 0;
	f->execs++;
	int rc = probe_run_on_boots(&boots, &cfg, res, err, errlen);
	if (rc)
		return rc;
	/* The run's failed checks: the kind of each (up to its first blank
	 * or '=': "nested-vdsoSP-changed", "time-outside-window"). */
	if (!res->invariants_ok) {
		const char *t = res->invariants;
		uint64_t h = 7;
		for (; *t && *t != '='; t++)
			if (*t < '0' || *t > '9')	/* not the boundary numbers */
				h = mix(h, (uint64_t)(unsigned char)*t);
		run_feature(f, h);
	}
	return 0;
}

static uint64_t pc_verdict(int set, uint64_t pc, enum verdict v)
{
	return (uint64_t)set << 56 ^ pc << 4 ^ (uint64_t)v;
}

static int known_failure(const struct fuzz *f, int set, uint64_t pc, enum verdict v)
{
	for (int i = 0; i < f->nknown; i++)
		if (f->known[i] == pc_verdict(set, pc, v))
			return 1;
	return 0;
}

/* Does a run of setting `set` show what a lone signal does not?  (See
 * fuzz.known.)  Nested-signal levels' samples are features, not
 * violations: inside the handler's clock call master itself gives markers
 * in the vDSO (its caller is the handler's C code, without frame tables)
 * and the era's frame-table blind spots on the signal stack -- the
 * model's and the era's limits, not the trampoline's (scenarios/README.md,
 * "Schedules").  What a level does to the trampoline's state shows in the
 * checks. */
static int failing(const struct fuzz *f, int set, const struct probe_result *r)
{
	if (!r->invariants_ok)
		return 1;
	for (size_t i = 0; i < r->nviolations; i++)
		if (!r->violations[i].depth && !known_failure(f, set, r->violations[i].pc, r->violations[i].verdict))
			return 1;
	return r->violations_dropped != 0;
}

/*
 * How many boundaries a handler's clock call has (where nested-signal
 * levels go): the clock call of a nested-signal event whose level lies past
 * any call's end, stepped to its return and counted; the longer of
 * nanotime's and walltime's.  0, or 2 with err.
 */
static int learn_nested(struct fuzz *f, struct setting *st, char *err, size_t errlen)
{
	static struct schedule s;
	for (int clock = PROBE_CLOCK_NANOTIME; clock <= PROBE_CLOCK_WALLTIME; clock++) {
		s.row = st->row;
		memset(&s.events, 0, sizeof s.events);
		s.events.n = 1;
		s.events.ev[0].kind = PROBE_EV_NESTED_SIGNAL;
		s.events.ev[0].clock = (enum probe_clock)clock;
		s.events.ev[0].depth = 1;
		s.events.ev[0].inner[0] = PROBE_MAX_INNER;
		struct probe_config cfg;
		struct probe_result r;
		schedule_config(&s, f->build_dir, f->image, &cfg);
		if (probe_run_on_boots(&boots, &cfg, &r, err, errlen))
			return 2;
		if (r.clock_call_boundaries > st->clock_call)
			st->clock_call = r.clock_call_boundaries;
		probe_result_free(&r);
	}
	return 0;
}

/* The failures of setting k under inject every, into f->known; the
 * chain's length; the clock call's.  0; 1 when the run fails its own
 * checks with one signal at each boundary (err says how: nothing to fuzz
 * there); 2 with err. */
static int learn_setting(struct fuzz *f, int k, char *err, size_t errlen)
{
	static struct schedule s;
	struct setting *st = &f->set[k];
	struct probe_config cfg;
	struct probe_result r;
	s.row = st->row;
	memset(&s.events, 0, sizeof s.events);
	schedule_config(&s, f->build_dir, f->image, &cfg);
	cfg.inject = PROBE_EVERY;
	cfg.schedule = NULL;
	int rc = probe_run_on_boots(&boots, &cfg, &r, err, errlen);
	if (rc)
		return rc;
	st->boundaries = r.boundaries;
	for (size_t i = 0; i < r.nviolations; i++)
		if (!known_failure(f, k, r.violations[i].pc, r.violations[i].verdict) &&
		    f->nknown < (int)(sizeof f->known / sizeof f->known[0]))
			f->known[f->nknown++] = pc_verdict(k, r.violations[i].pc, r.violations[i].verdict);
	if (!r.invariants_ok || r.violations_dropped) {
		snprintf(err, errlen, "the run fails its own checks with one signal at each boundary (%s): "
			 "see sigstep run; nothing to fuzz", r.invariants_ok ? "too many violations" : r.invariants);
		rc = 1;
	}
	probe_result_free(&r);
	if (rc || !st->boundaries)
		return rc ? rc : 1;
	return learn_nested(f, st, err, errlen);
}

/*
 * The settings a schedule may take: [0] the base's; unless fixed, the
 * vDSO at the arch's second base and below the text (0x200000, the image
 * at 4 MiB) as well as the default, each with the knobs none, clobber or
 * callee_saved, and no vDSO.  Each is learned; one whose lone-signal run
 * fails its own checks, or that cannot run, is left out.  0, or 2 after
 * a message (the base's own).
 */
static int fuzz_settings(struct fuzz *f, int fixed)
{
	static const uint64_t low_base = 0x200000;
	static const char *const knobs[] = { "-", "clobber", "callee_saved" };
	char err[512];
	f->set[0].row = f->base.row;
	int rc = learn_setting(f, 0, err, sizeof err);
	if (rc)
		return cli_fail("fuzz: %s%s", err, "");
	f->nset = 1;
	if (fixed)
		return 0;
	const uint64_t bases[] = { 0, f->base.row.ops->vdso_base_alt, low_base };
	for (int b = 0; b < 4; b++)
		for (int k = 0; k < 3 && f->nset < FUZZ_SETTINGS; k++) {
			if ((b == 0 && k == 0) || (b == 3 && k > 0))
				continue;	/* the base's; no knobs without a vDSO */
			struct scn_row *row = &f->set[f->nset].row;
			*row = f->base.row;
			row->vdso = b < 3;
			row->vdso_base = b < 3 ? bases[b] : 0;
			snprintf(row->knobs, sizeof row->knobs, "%s", knobs[k]);
			row->knob_clobber = k == 1;
			row->knob_callee_saved = k == 2;
			int nknown = f->nknown;
			f->set[f->nset].clock_call = 0;
			if (learn_setting(f, f->nset, err, sizeof err)) {
				f->nknown = nknown;	/* left out: its failures go too */
				continue;
			}
			f->nset++;
		}
	return 0;
}

/* The events sorted by boundary (stable): the order they fire in. */
static void sort_events(struct probe_schedule *s)
{
	for (int i = 1; i < s->n; i++)
		for (int j = i; j > 0 && s->ev[j - 1].index > s->ev[j].index; j--) {
			struct probe_event t = s->ev[j];
			s->ev[j] = s->ev[j - 1];
			s->ev[j - 1] = t;
		}
}

/* Up to three nested-signal levels, each somewhere in its clock call. */
#define FUZZ_MAX_DEPTH 3

static void random_event(struct fuzz *f, const struct setting *st, struct probe_event *e)
{
	memset(e, 0, sizeof *e);
	e->index = below(f, st->boundaries);
	switch (below(f, 6)) {
	case 0:
		e->kind = PROBE_EV_SAMPLE;
		break;
	case 1:
		e->kind = PROBE_EV_KEEP;
		break;
	case 2:
	case 3:
		e->kind = PROBE_EV_NESTED_CLOCK;
		e->clock = below(f, 2) ? PROBE_CLOCK_WALLTIME : PROBE_CLOCK_NANOTIME;
		break;
	default:
		if (!st->clock_call) {	/* no clock call to interrupt */
			e->kind = PROBE_EV_KEEP;
			break;
		}
		e->kind = PROBE_EV_NESTED_SIGNAL;
		e->clock = below(f, 2) ? PROBE_CLOCK_WALLTIME : PROBE_CLOCK_NANOTIME;
		e->depth = 1 + (int)below(f, FUZZ_MAX_DEPTH);
		for (int k = 0; k < e->depth; k++)
			e->inner[k] = (uint32_t)below(f, st->clock_call);
	}
}

/* A nested-signal event's levels: one moved (+-4, or anywhere), or one
 * added or dropped at the end. */
static void mutate_levels(struct fuzz *f, const struct setting *st, struct probe_event *e)
{
	uint64_t op = below(f, 4);
	if (op == 0 && e->depth < FUZZ_MAX_DEPTH) {
		e->inner[e->depth++] = (uint32_t)below(f, st->clock_call);
	} else if (op == 1 && e->depth > 1) {
		e->depth--;
	} else {
		int k = (int)below(f, (uint64_t)e->depth);
		int64_t to = op == 2 ? (int64_t)e->inner[k] + (int64_t)below(f, 9) - 4 : (int64_t)below(f, st->clock_call);
		e->inner[k] = to < 0 ? 0 : to >= (int64_t)st->clock_call ? st->clock_call - 1 : (uint32_t)to;
	}
}

/* The entry's events made to fit its setting: every index within its
 * chain, every level within its clock call (none: a nested-clock read). */
static void fit_setting(const struct setting *st, struct entry *e)
{
	for (int i = 0; i < e->ev.n; i++) {
		struct probe_event *ev = &e->ev.ev[i];
		if (ev->index >= st->boundaries)
			ev->index = st->boundaries - 1;
		if (ev->kind != PROBE_EV_NESTED_SIGNAL)
			continue;
		if (!st->clock_call) {
			ev->kind = PROBE_EV_NESTED_CLOCK;
			ev->depth = 0;
			memset(ev->inner, 0, sizeof ev->inner);
		}
		for (int k = 0; k < ev->depth; k++)
			if (ev->inner[k] >= st->clock_call)
				ev->inner[k] = st->clock_call - 1;
	}
}

/* One to four changes: an event added, dropped, moved, its kind (or its
 * levels) changed, or one copied next to itself (two signals in one
 * call); or the setting changed. */
static void mutate(struct fuzz *f, struct entry *en)
{
	struct probe_schedule *s = &en->ev;
	int changes = 1 + (int)below(f, 4);
	for (int c = 0; c < changes; c++) {
		const struct setting *st = &f->set[en->set];
		uint64_t op = s->n ? below(f, f->nset > 1 ? 6 : 5) : 0;
		if (op == 0 && s->n < FUZZ_MAX_EVENTS) {
			random_event(f, st, &s->ev[s->n++]);
		} else if (op == 1 && s->n) {
			int i = (int)below(f, (uint64_t)s->n);
			memmove(&s->ev[i], &s->ev[i + 1], (size_t)(s->n - i - 1) * sizeof s->ev[0]);
			s->n--;
		} else if (op == 2 && s->n) {
			struct probe_event *e = &s->ev[below(f, (uint64_t)s->n)];
			int64_t d = (int64_t)below(f, 17) - 8;
			int64_t to = below(f, 4) ? (int64_t)e->index + d : (int64_t)below(f, st->boundaries);
			e->index = to < 0 ? 0 : (uint64_t)to >= st->boundaries ? st->boundaries - 1 : (uint64_t)to;
		} else if (op == 3 && s->n) {
			struct probe_event *e = &s->ev[below(f, (uint64_t)s->n)];
			uint64_t index = e->index;
			if (e->kind == PROBE_EV_NESTED_SIGNAL && below(f, 2)) {
				mutate_levels(f, st, e);
			} else {
				random_event(f, st, e);
				e->index = index;
			}
		} else if (op == 4 && s->n && s->n < FUZZ_MAX_EVENTS) {
			struct probe_event e = s->ev[below(f, (uint64_t)s->n)];
			e.index = e.index + 1 + below(f, 24);
			if (e.index >= st->boundaries)
				e.index = st->boundaries - 1;
			s->ev[s->n++] = e;
		} else if (op == 5) {
			en->set = (int)below(f, (uint64_t)f->nset);
			fit_setting(&f->set[en->set], en);
		}
	}
	sort_events(s);
}

static int corpus_add(struct fuzz *f, const struct entry *e)
{
	if (f->ncorpus == f->capcorpus) {
		size_t cap = f->capcorpus ? 2 * f->capcorpus : 64;
		struct entry *n = realloc(f->corpus, cap * sizeof *n);
		if (!n)
			return -1;
		f->corpus = n;
		f->capcorpus = cap;
	}
	f->corpus[f->ncorpus++] = *e;
	return 0;
}

/* Writes an entry's schedule to path. */
static int write_schedule(const struct fuzz *f, const struct entry *e, const char *path, const char *about)
{
	static struct schedule s;
	FILE *o = fopen(path, "w");
	if (!o)
		return -1;
	entry_schedule(f, e, &s);
	fprintf(o, "# %s\n", about);
	schedule_write(o, &s);
	return fclose(o) ? -1 : 0;
}

/* The setting of a schedule read from the corpus: the one whose row it
 * has (the same variant, function, context, era, vDSO, base and knobs);
 * -1 when none. */
static int setting_of(const struct fuzz *f, const struct scn_row *r)
{
	for (int k = 0; k < f->nset; k++) {
		const struct scn_row *b = &f->set[k].row;
		if (r->ops == b->ops && !strcmp(r->variant, b->variant) && !strcmp(r->function, b->function) &&
		    !strcmp(r->context, b->context) && r->era == b->era && r->vdso == b->vdso &&
		    r->vdso_base == b->vdso_base && r->knob_clobber == b->knob_clobber &&
		    r->knob_callee_saved == b->knob_callee_saved && r->knob_stack_bytes == b->knob_stack_bytes &&
		    r->knob_sse_align == b->knob_sse_align)
			return k;
	}
	return -1;
}

/* The corpus files DIR/NAME.sched of one of the settings: their events,
 * in name order.  0, or 2 after a message (a malformed file is
 * FILE:LINE). */
static int corpus_load(struct fuzz *f, const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		if (errno == ENOENT)
			return mkdir(dir, 0777) && errno != EEXIST ? cli_fail("fuzz: cannot create %s%s", dir, "") : 0;
		return cli_fail("fuzz: cannot read the corpus %s%s", dir, "");
	}
	int rc = 0;
	static struct schedule s;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name);
		if (!rc && len > 6 && !strcmp(names[i]->d_name + len - 6, ".sched")) {
			char path[PATH_MAX + 256];
			snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
			int k;
			if (schedule_read(path, &s)) {
				rc = 2;
			} else if ((k = setting_of(f, &s.row)) >= 0) {
				int usable = 1;
				for (int e = 0; e < s.events.n; e++)
					usable &= !s.events.ev[e].sym[0] && s.events.ev[e].index < f->set[k].boundaries;
				if (usable && s.events.n <= FUZZ_MAX_EVENTS) {
					struct entry en = { .ev = s.events, .set = k };
					sort_events(&en.ev);
					if (corpus_add(f, &en))
						rc = cli_fail("out of memory%s%s", "", "");
				}
			}
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

/* Whether the entry t still violates: 1, 0, or -1 (err set). */
static int still_fails(struct fuzz *f, const struct entry *t, char *err, size_t errlen)
{
	struct probe_result r;
	if (run_one(f, t, &r, err, errlen))
		return -1;
	int still = failing(f, t->set, &r);
	probe_result_free(&r);
	return still;
}

/*
 * The violating schedule made small: events dropped while it still
 * violates; a nested-signal event as shallow as it still violates (down
 * to a nested-clock read with no signal inside it), each level as early
 * in its clock call; then each event moved as early as it still does
 * (steps halving).  0, or 2 with err.
 */
static int minimize(struct fuzz *f, struct entry *en, char *err, size_t errlen)
{
	struct probe_schedule *s = &en->ev;
	int r;
	for (int i = s->n - 1; i >= 0; i--) {
		struct entry t = *en;
		memmove(&t.ev.ev[i], &t.ev.ev[i + 1], (size_t)(t.ev.n - i - 1) * sizeof t.ev.ev[0]);
		t.ev.n--;
		if ((r = still_fails(f, &t, err, errlen)) < 0)
			return 2;
		if (r)
			*en = t;
	}
	for (int i = 0; i < s->n; i++) {
		struct probe_event *e = &s->ev[i];
		while (e->kind == PROBE_EV_NESTED_SIGNAL && e->depth > 1) {
			struct entry t = *en;
			t.ev.ev[i].depth--;
			if ((r = still_fails(f, &t, err, errlen)) < 0)
				return 2;
			if (!r)
				break;
			*en = t;
		}
		if (e->kind == PROBE_EV_NESTED_SIGNAL) {
			struct entry t = *en;
			t.ev.ev[i].kind = PROBE_EV_NESTED_CLOCK;
			t.ev.ev[i].depth = 0;
			memset(t.ev.ev[i].inner, 0, sizeof t.ev.ev[i].inner);
			if ((r = still_fails(f, &t, err, errlen)) < 0)
				return 2;
			if (r)
				*en = t;
		}
		for (int k = 0; e->kind == PROBE_EV_NESTED_SIGNAL && k < e->depth; k++)
			for (uint32_t step = (e->inner[k] + 1) / 2; step; step /= 2)
				while (e->inner[k] >= step) {
					struct entry t = *en;
					t.ev.ev[i].inner[k] -= step;
					if ((r = still_fails(f, &t, err, errlen)) < 0)
						return 2;
					if (!r)
						break;
					*en = t;
				}
	}
	for (int i = 0; i < s->n; i++) {
		uint64_t floor = i ? s->ev[i - 1].index : 0;
		for (uint64_t step = (s->ev[i].index - floor + 1) / 2; step; step /= 2) {
			while (s->ev[i].index >= floor + step) {
				struct entry t = *en;
				t.ev.ev[i].index -= step;
				if ((r = still_fails(f, &t, err, errlen)) < 0)
					return 2;
				if (!r)
					break;
				*en = t;
			}
		}
	}
	return 0;
}

static void progress(const struct fuzz *f, double t0, double *last, int done)
{
	double t = now_s();
	if (t - t0 < 1.0 || (!done && t - *last < 1.0))
		return;
	*last = t;
	fprintf(stderr, "sigstep fuzz: %llu execs, %llu features, corpus %zu, %.1f s\n",
		(unsigned long long)f->execs, (unsigned long long)f->nfeatures, f->ncorpus, t - t0);
}

static void json_string(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(o, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", o);
		else if ((unsigned char)*s < 0x20)
			fprintf(o, "\\u%04x", *s);
		else
			fputc(*s, o);
	}
	fputc('"', o);
}

/* What one run of a round gave, as a worker hands it back. */
struct outcome {
	int rc;				/* run_one's: 0, or 2 with err */
	int failing;
	int nrun;
	uint64_t feature[512];
	char err[256];
};

static void run_slot(struct fuzz *f, const struct entry *e, struct outcome *o)
{
	struct probe_result res;
	o->rc = run_one(f, e, &res, o->err, sizeof o->err);
	if (o->rc)
		return;
	o->failing = failing(f, e->set, &res);
	o->nrun = f->nrun;
	memcpy(o->feature, f->run_feature, (size_t)f->nrun * sizeof o->feature[0]);
	probe_result_free(&res);
}

/*
 * Runs the round's n entries into out[]: in this process with one job;
 * else in `jobs` worker processes, worker j taking entries j, j+jobs, ...
 * (out[] is shared memory).  0, or 2 after a message.
 */
static int run_round(struct fuzz *f, const struct entry *round, struct outcome *out, int n, int jobs)
{
	if (jobs <= 1) {
		for (int k = 0; k < n; k++)
			run_slot(f, &round[k], &out[k]);
		return 0;
	}
	pid_t pid[FUZZ_MAX_JOBS];
	int started = 0, bad = 0;
	fflush(NULL);
	for (int j = 0; j < jobs && j < n; j++) {
		pid[j] = fork();
		if (pid[j] < 0) {
			bad = 1;
			break;
		}
		if (pid[j] == 0) {
			for (int k = j; k < n; k += jobs)
				run_slot(f, &round[k], &out[k]);
			_exit(0);
		}
		started++;
	}
	for (int j = 0; j < started; j++) {
		int st;
		while (waitpid(pid[j], &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			bad = 1;
	}
	if (bad)
		return cli_fail("fuzz: a worker process failed%s%s", "", "");
	return 0;
}

int cmd_fuzz(int argc, char **argv)
{
	const char *arch = NULL, *variant = NULL, *file = NULL, *build_dir = NULL, *corpus = NULL;
	const char *function = "walltime", *context = "curg", *sigprof = NULL, *seed_arg = NULL, *runs_arg = NULL,
		   *time_arg = NULL, *jobs_arg = NULL;
	int fixed_settings = 0;
	char dirbuf[PATH_MAX];
	struct cli_outputs outs = { 0 };
	const struct cli_option options[] = {
		CLI_VALUE("--arch", &arch), CLI_VALUE("--variant", &variant), CLI_VALUE("--function", &function),
		CLI_VALUE("--context", &context), CLI_VALUE("--sigprof", &sigprof), CLI_VALUE("--seed", &seed_arg),
		CLI_VALUE("--runs", &runs_arg), CLI_VALUE("--max-time", &time_arg), CLI_VALUE("--corpus", &corpus),
		CLI_VALUE("--jobs", &jobs_arg), CLI_FLAG("--fixed-settings", &fixed_settings),
		CLI_VALUE("--json", &outs.path[CLI_OUT_JSON]), CLI_VALUE("--junit", &outs.path[CLI_OUT_JUNIT]),
		CLI_VALUE("--sarif", &outs.path[CLI_OUT_SARIF]), CLI_VALUE("--build-dir", &build_dir), CLI_END,
	};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (cli_help(a, usage))
			return 0;
		if (a[0] != '-') {
			if (file)
				return cli_fail("fuzz: more than one trampoline file ('%s', '%s')", file, a);
			file = a;
			continue;
		}
		int used = cli_option("fuzz", options, a, v);
		if (!used)
			return 2;
		i += used - 1;
	}
	uint64_t seed = 1, runs = DEFAULT_RUNS, max_time = 0, jobs = 1;
	if (!arch)
		return cli_fail("fuzz: --arch is required (386, amd64 or arm)%s%s", "", "");
	if (!!variant == !!file)
		return cli_fail("fuzz: name one of --variant V or FILE.S%s%s", "", "");
	if (file && (strlen(file) < 3 || strcmp(file + strlen(file) - 2, ".S")))
		return cli_fail("fuzz: '%s' is not a trampoline file (FILE.S)%s", file, "");
	if (seed_arg && cli_parse_u64(seed_arg, 0, &seed))
		return cli_fail("fuzz: bad --seed '%s' (a whole number)%s", seed_arg, "");
	if (runs_arg && time_arg)
		return cli_fail("fuzz: --runs and --max-time exclude each other%s%s", "", "");
	if (runs_arg && (cli_parse_u64(runs_arg, 0, &runs) || !runs || runs > 100000000))
		return cli_fail("fuzz: bad --runs '%s' (1 to 100000000)%s", runs_arg, "");
	if (time_arg && (cli_parse_u64(time_arg, 0, &max_time) || !max_time || max_time > 7 * 86400))
		return cli_fail("fuzz: bad --max-time '%s' (1 to 604800 seconds)%s", time_arg, "");
	if (jobs_arg && (cli_parse_u64(jobs_arg, 0, &jobs) || !jobs || jobs > FUZZ_MAX_JOBS))
		return cli_fail("fuzz: bad --jobs '%s' (1 to %s)", jobs_arg, "64");
	if (time_arg)
		runs = UINT64_MAX;
	if (cli_function_context("fuzz", function, context))
		return 2;
	int era = -1;
	if (sigprof && (era = cli_era_from_name(sigprof)) < 0)
		return cli_fail("fuzz: unknown --sigprof '%s' (go1.10, go1.11, go1.19 or modern)%s", sigprof, "");
	const struct arch_ops *ops = cli_arch("fuzz", arch);
	if (!ops)
		return 2;
	if (!build_dir) {
		cli_default_build_dir(dirbuf, sizeof dirbuf);
		build_dir = dirbuf;
	}
	if (variant && (strchr(variant, '/') || !variant[0] || strlen(variant) >= 64))
		return cli_fail("fuzz: unknown variant '%s'%s", variant, "");
	if (cli_outputs_open("fuzz", &outs, 1u << CLI_OUT_JSON | 1u << CLI_OUT_JUNIT | 1u << CLI_OUT_SARIF))
		return 2;

	static struct fuzz f;		/* large: its settings' rows */
	memset(&f, 0, sizeof f);
	f.build_dir = build_dir;
	f.rng = seed;
	struct scn_row *r = &f.base.row;
	snprintf(r->source, sizeof r->source, "fuzz");
	r->ops = ops;
	if (file) {
		const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
		snprintf(r->mutant, sizeof r->mutant, "%s", file);
		snprintf(r->variant, sizeof r->variant, "%.*s", (int)strcspn(base, "."), base);
	} else {
		snprintf(r->variant, sizeof r->variant, "%s", variant);
	}
	snprintf(r->name, sizeof r->name, "%s", r->variant);
	snprintf(r->function, sizeof r->function, "%s", function);
	snprintf(r->context, sizeof r->context, "%s", context);
	snprintf(r->knobs, sizeof r->knobs, "-");
	r->era = era;
	r->vdso = 1;
	r->inject = PROBE_SCHEDULE;

	char dir[PATH_MAX], image[PATH_MAX + 96], err[512];
	int built = 0;
	if (file) {
		fflush(NULL);
		if (check_build_file(build_dir, ops, file, dir, sizeof dir, image, sizeof image)) {
			cli_outputs_drop(&outs);
			return 2;
		}
		built = 1;
		f.image = image;
	}
	int status = 2, wrote = 0;
	struct outcome *out = MAP_FAILED;
	FILE *text = cli_outputs_text(&outs);
	struct probe_result res, clean_res;
	int have_clean = 0;
	f.feature = calloc(FEATURE_SLOTS, sizeof *f.feature);
	if (!f.feature) {
		cli_fail("out of memory%s%s", "", "");
		goto out;
	}
	out = mmap(NULL, FUZZ_ROUND * sizeof *out, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (out == MAP_FAILED) {
		cli_fail("fuzz: cannot map the workers' results: %s%s", strerror(errno), "");
		goto out;
	}

	/* The settings (the chain's length and what a lone signal shows
	 * already in each); then the run with no signal at all. */
	struct entry none = { .set = 0 };
	if (fuzz_settings(&f, fixed_settings))
		goto out;
	if (run_one(&f, &none, &clean_res, err, sizeof err)) {
		cli_fail("fuzz: %s%s", err, "");
		goto out;
	}
	have_clean = 1;
	for (int i = 0; i < f.nrun; i++)
		feature_add(&f, f.run_feature[i]);
	if (failing(&f, 0, &clean_res)) {
		cli_fail("fuzz: the run fails with no signal at all (see sigstep run): nothing to fuzz%s%s", "", "");
		goto out;
	}
	if (corpus_add(&f, &none) || (corpus && corpus_load(&f, corpus))) {
		if (!corpus)
			cli_fail("out of memory%s%s", "", "");
		goto out;
	}
	size_t seeds = f.ncorpus;

	double t0 = now_s(), last = t0;
	struct entry found = { .set = 0 };
	int violated = 0;
	size_t next_seed = 1;
	uint64_t execs = 0;
	static struct entry round[FUZZ_ROUND];
	while (execs < runs && !violated) {
		if (max_time && now_s() - t0 >= (double)max_time)
			break;
		/* The round's schedules, all from the corpus as it is now. */
		int n = runs - execs < FUZZ_ROUND ? (int)(runs - execs) : FUZZ_ROUND;
		for (int k = 0; k < n; k++) {
			if (next_seed < seeds) {
				round[k] = f.corpus[next_seed++];	/* the corpus as it was given, first */
			} else {
				round[k] = f.corpus[below(&f, f.ncorpus)];
				mutate(&f, &round[k]);
			}
		}
		memset(out, 0, (size_t)n * sizeof *out);
		if (run_round(&f, round, out, n, (int)jobs))
			goto out;
		/* Merged in their order: the first violation ends the round. */
		for (int k = 0; k < n && !violated; k++) {
			execs++;
			if (out[k].rc) {
				cli_fail("fuzz: %s%s", out[k].err, "");
				goto out;
			}
			int fresh = 0;
			for (int i = 0; i < out[k].nrun; i++)
				fresh |= feature_add(&f, out[k].feature[i]);
			if (out[k].failing) {
				violated = 1;
				found = round[k];
			} else if (fresh) {
				if (corpus_add(&f, &round[k])) {
					cli_fail("out of memory%s%s", "", "");
					goto out;
				}
				if (corpus) {
					char path[PATH_MAX + 64];
					snprintf(path, sizeof path, "%s/%s-%s-%06zu.sched", corpus, ops->name, r->variant,
						 f.ncorpus);
					if (write_schedule(&f, &round[k], path, "sigstep fuzz: new features"))
						fprintf(stderr, "sigstep: fuzz: cannot write %s\n", path);
				}
			}
		}
		f.execs = execs;
		progress(&f, t0, &last, 0);
	}
	f.execs = execs;
	double elapsed = now_s() - t0;
	progress(&f, t0, &last, 1);

	if (!violated) {
		fprintf(text, "fuzz %s %s %s %s: no violation: %llu schedules, %llu features, corpus %zu, "
			"%d settings, %.1f s, %.0f execs/s\n", ops->name, r->variant, function, context,
			(unsigned long long)execs, (unsigned long long)f.nfeatures, f.ncorpus, f.nset, elapsed,
			elapsed > 0 ? execs / elapsed : 0);
		FILE *jf = cli_outputs_begin("fuzz", &outs, CLI_OUT_JSON);
		if (jf) {
			fprintf(jf, "{\"command\": \"fuzz\", \"arch\": \"%s\", \"variant\": ", ops->name);
			json_string(jf, r->variant);
			fprintf(jf, ", \"function\": \"%s\", \"context\": \"%s\", \"seed\": %llu, \"schedules\": %llu, "
				"\"features\": %llu, \"corpus\": %zu, \"settings\": %d, \"violation\": false}\n", function,
				context, (unsigned long long)seed, (unsigned long long)execs,
				(unsigned long long)f.nfeatures, f.ncorpus, f.nset);
		}
		status = cli_outputs_end("fuzz", &outs, CLI_OUT_JSON);
		/* JUnit and SARIF: the run with no signal, the one every
		 * schedule starts from, as the row that passed. */
		char src[96];
		snprintf(src, sizeof src, "sigstep fuzz --seed %llu: no violation", (unsigned long long)seed);
		struct report_row row = { .res = &clean_res, .source = src, .met = 1, .why = "" };
		report_row_name(&row, NULL);
		if (!status)
			status = cli_outputs_write("fuzz", &outs, &row, 1);
		wrote = 1;
		goto out;
	}

	/* A violation: made small, written, replayed. */
	struct entry first = found;
	if (minimize(&f, &found, err, sizeof err)) {
		cli_fail("fuzz: %s%s", err, "");
		goto out;
	}
	static struct schedule s;
	entry_schedule(&f, &found, &s);
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/violation-%s-%s.sched", corpus ? corpus : ".", ops->name, r->variant);
	snprintf(s.row.source, sizeof s.row.source, "%.*s", (int)sizeof s.row.source - 1, path);
	if (write_schedule(&f, &found, path, "sigstep fuzz: a violating schedule, minimized")) {
		cli_fail("fuzz: cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	fprintf(text, "fuzz %s %s %s %s: violation after %llu schedules (%llu features, %.1f s); "
		"minimized from %d events to %d (%llu runs): %s\n", ops->name, r->variant, function, context,
		(unsigned long long)execs, (unsigned long long)f.nfeatures, elapsed, first.ev.n, found.ev.n,
		(unsigned long long)(f.execs - execs), path);
	schedule_write(text, &s);
	if (schedule_replay(&s, build_dir, f.image, NULL, &res, err, sizeof err)) {
		cli_fail("fuzz: %s%s", err, "");
		goto out;
	}
	fputc('\n', text);
	schedule_print_events(text, &s, &res);
	probe_print_summary(text, &res);
	char why[320];
	struct report_row row = { .res = &res, .source = path, .met = res.pass,
				  .why = report_why_not_pass(&res, why, sizeof why) };
	report_row_name(&row, NULL);
	status = failing(&f, found.set, &res) ? 1 : 2;
	if (status == 2)
		fprintf(stderr, "sigstep: fuzz: the minimized schedule does not replay to a violation\n");
	if (cli_outputs_write("fuzz", &outs, &row, 1))
		status = 2;
	wrote = 1;
	probe_result_free(&res);
out:
	if (!wrote)
		cli_outputs_drop(&outs);
	if (have_clean)
		probe_result_free(&clean_res);
	if (out != MAP_FAILED)
		munmap(out, FUZZ_ROUND * sizeof *out);
	if (built)
		check_cleanup(dir, image);
	free(f.feature);
	free(f.corpus);
	return status;
}
