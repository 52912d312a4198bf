/*
 * sigstep fuzz --arch A (--variant V | FILE.S) [--function F] [--context C]
 *              [--sigprof ERA] [--seed S] [--runs N | --max-time SECONDS]
 *              [--corpus DIR] [--json FILE|-] [--build-dir DIR]
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
 * features and outcome on any host; --max-time stops by the clock.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "probe.h"
#include "report.h"
#include "schedule.h"

static const char usage[] =
	"usage: sigstep fuzz --arch A (--variant V | FILE.S) [--function F] [--context C] [--sigprof ERA]\n"
	"                    [--seed S] [--runs N | --max-time SECONDS] [--corpus DIR] [--json FILE|-]\n"
	"                    [--build-dir DIR]\n";

#define FUZZ_MAX_EVENTS 8		/* a mutated schedule's events at most */
#define FEATURE_SLOTS (1u << 18)	/* a power of two */
#define DEFAULT_RUNS 2000

struct fuzz {
	const char *build_dir, *image;
	struct schedule base;		/* the settings; its events are the corpus entries' */
	uint64_t boundaries;		/* the chain's, without signals */
	uint64_t rng;
	uint64_t *feature;		/* open addressing; 0 = empty */
	uint64_t nfeatures;
	struct probe_schedule *corpus;
	size_t ncorpus, capcorpus;
	/* The run in progress: its features and the samples seen so far. */
	uint64_t run_feature[512];
	int nrun, sample_i;
	uint64_t execs;
	/* What the fixed matrix's shape shows already: each (boundary,
	 * verdict) that fails when one signal lands there alone (the config
	 * under inject every).  A schedule violates when it shows anything
	 * else: a failing verdict at a boundary where a lone signal's does not
	 * fail so, or a failed check of the run. */
	uint64_t known[1024];
	int nknown;
	/* Boundaries of a handler's clock call (where a nested-signal level
	 * may go): the longest the baseline sweep reached. */
	uint32_t clock_call;
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

/* One run of `events`: 0 with *res (free it), or 2 with err. */
static int run_one(struct fuzz *f, const struct probe_schedule *events, struct probe_result *res, char *err,
		   size_t errlen)
{
	struct schedule s = f->base;
	s.events = *events;
	struct probe_config cfg;
	schedule_config(&s, f->build_dir, f->image, &cfg);
	cfg.on_sample = on_sample;
	cfg.sample_ctx = f;
	current = events;
	f->nrun = 0;
	f->sample_i = 0;
	f->execs++;
	int rc = probe_run(&cfg, res, err, errlen);
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

static uint64_t pc_verdict(uint64_t pc, enum verdict v)
{
	return pc << 4 | (uint64_t)v;
}

static int known_failure(const struct fuzz *f, uint64_t pc, enum verdict v)
{
	for (int i = 0; i < f->nknown; i++)
		if (f->known[i] == pc_verdict(pc, v))
			return 1;
	return 0;
}

/* Does the run show what a lone signal does not?  (See fuzz.known.) */
static const struct fuzz *judging;
static int failing(const struct probe_result *r)
{
	if (!r->invariants_ok)
		return 1;
	for (size_t i = 0; i < r->nviolations; i++)
		if (!r->violations[i].depth && !known_failure(judging, r->violations[i].pc, r->violations[i].verdict))
			return 1;
	return r->violations_dropped != 0;
}

static void learn_violations(struct fuzz *f, const struct probe_result *r)
{
	for (size_t i = 0; i < r->nviolations; i++)
		if (!known_failure(f, r->violations[i].pc, r->violations[i].verdict) &&
		    f->nknown < (int)(sizeof f->known / sizeof f->known[0]))
			f->known[f->nknown++] = pc_verdict(r->violations[i].pc, r->violations[i].verdict);
}

/*
 * How many boundaries a handler's clock call has (where nested-signal
 * levels go): one level at boundary i of the clock call, the outer signal
 * before the chain's call starts, for i = 0, 1, ... until it is no longer
 * delivered; the longer of nanotime's and walltime's.  0, or 2 with err.
 */
static int learn_nested(struct fuzz *f, char *err, size_t errlen)
{
	for (int clock = PROBE_CLOCK_NANOTIME; clock <= PROBE_CLOCK_WALLTIME; clock++)
		for (uint32_t i = f->clock_call; i < 400; i++) {
			struct schedule s = f->base;
			s.events.n = 1;
			memset(&s.events.ev[0], 0, sizeof s.events.ev[0]);
			s.events.ev[0].kind = PROBE_EV_NESTED_SIGNAL;
			s.events.ev[0].clock = (enum probe_clock)clock;
			s.events.ev[0].depth = 1;
			s.events.ev[0].inner[0] = i;
			struct probe_config cfg;
			struct probe_result r;
			schedule_config(&s, f->build_dir, f->image, &cfg);
			if (probe_run(&cfg, &r, err, errlen))
				return 2;
			int delivered = r.probed > 1;
			probe_result_free(&r);
			if (!delivered)
				break;
			f->clock_call = i + 1;
		}
	return 0;
}

/* The failures of the configuration under inject every, into f->known.
 * 0, or 2 with err (or a run whose own checks fail: nothing to fuzz). */
static int learn_known(struct fuzz *f, char *err, size_t errlen)
{
	struct schedule s = f->base;
	struct probe_config cfg;
	struct probe_result r;
	schedule_config(&s, f->build_dir, f->image, &cfg);
	cfg.inject = PROBE_EVERY;
	cfg.schedule = NULL;
	int rc = probe_run(&cfg, &r, err, errlen);
	if (rc)
		return rc;
	f->boundaries = r.boundaries;
	learn_violations(f, &r);
	if (!r.invariants_ok || r.violations_dropped) {
		snprintf(err, errlen, "the run fails its own checks with one signal at each boundary (%s): "
			 "see sigstep run; nothing to fuzz", r.invariants_ok ? "too many violations" : r.invariants);
		rc = 2;
	}
	probe_result_free(&r);
	return rc ? rc : learn_nested(f, err, errlen);
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

static void random_event(struct fuzz *f, struct probe_event *e)
{
	memset(e, 0, sizeof *e);
	e->index = below(f, f->boundaries);
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
		if (!f->clock_call) {	/* no clock call to interrupt */
			e->kind = PROBE_EV_KEEP;
			break;
		}
		e->kind = PROBE_EV_NESTED_SIGNAL;
		e->clock = below(f, 2) ? PROBE_CLOCK_WALLTIME : PROBE_CLOCK_NANOTIME;
		e->depth = 1 + (int)below(f, FUZZ_MAX_DEPTH);
		for (int k = 0; k < e->depth; k++)
			e->inner[k] = (uint32_t)below(f, f->clock_call);
	}
}

/* A nested-signal event's levels: one moved (+-4, or anywhere), or one
 * added or dropped at the end. */
static void mutate_levels(struct fuzz *f, struct probe_event *e)
{
	uint64_t op = below(f, 4);
	if (op == 0 && e->depth < FUZZ_MAX_DEPTH) {
		e->inner[e->depth++] = (uint32_t)below(f, f->clock_call);
	} else if (op == 1 && e->depth > 1) {
		e->depth--;
	} else {
		int k = (int)below(f, (uint64_t)e->depth);
		int64_t to = op == 2 ? (int64_t)e->inner[k] + (int64_t)below(f, 9) - 4 : (int64_t)below(f, f->clock_call);
		e->inner[k] = to < 0 ? 0 : to >= (int64_t)f->clock_call ? f->clock_call - 1 : (uint32_t)to;
	}
}

/* One to four changes: an event added, dropped, moved, its kind changed,
 * or one copied next to itself (two signals in one call). */
static void mutate(struct fuzz *f, struct probe_schedule *s)
{
	int changes = 1 + (int)below(f, 4);
	for (int c = 0; c < changes; c++) {
		uint64_t op = s->n ? below(f, 5) : 0;
		if (op == 0 && s->n < FUZZ_MAX_EVENTS) {
			random_event(f, &s->ev[s->n++]);
		} else if (op == 1 && s->n) {
			int i = (int)below(f, (uint64_t)s->n);
			memmove(&s->ev[i], &s->ev[i + 1], (size_t)(s->n - i - 1) * sizeof s->ev[0]);
			s->n--;
		} else if (op == 2 && s->n) {
			struct probe_event *e = &s->ev[below(f, (uint64_t)s->n)];
			int64_t d = (int64_t)below(f, 17) - 8;
			int64_t to = below(f, 4) ? (int64_t)e->index + d : (int64_t)below(f, f->boundaries);
			e->index = to < 0 ? 0 : (uint64_t)to >= f->boundaries ? f->boundaries - 1 : (uint64_t)to;
		} else if (op == 3 && s->n) {
			struct probe_event *e = &s->ev[below(f, (uint64_t)s->n)];
			uint64_t index = e->index;
			if (e->kind == PROBE_EV_NESTED_SIGNAL && below(f, 2)) {
				mutate_levels(f, e);
			} else {
				random_event(f, e);
				e->index = index;
			}
		} else if (op == 4 && s->n && s->n < FUZZ_MAX_EVENTS) {
			struct probe_event e = s->ev[below(f, (uint64_t)s->n)];
			e.index = e.index + 1 + below(f, 24);
			if (e.index >= f->boundaries)
				e.index = f->boundaries - 1;
			s->ev[s->n++] = e;
		}
	}
	sort_events(s);
}

static int corpus_add(struct fuzz *f, const struct probe_schedule *s)
{
	if (f->ncorpus == f->capcorpus) {
		size_t cap = f->capcorpus ? 2 * f->capcorpus : 64;
		struct probe_schedule *n = realloc(f->corpus, cap * sizeof *n);
		if (!n)
			return -1;
		f->corpus = n;
		f->capcorpus = cap;
	}
	f->corpus[f->ncorpus++] = *s;
	return 0;
}

/* Writes a schedule (the base's settings with these events) to path. */
static int write_schedule(const struct fuzz *f, const struct probe_schedule *ev, const char *path, const char *about)
{
	FILE *o = fopen(path, "w");
	if (!o)
		return -1;
	struct schedule s = f->base;
	s.events = *ev;
	fprintf(o, "# %s\n", about);
	schedule_write(o, &s);
	return fclose(o) ? -1 : 0;
}

/* The corpus files DIR/NAME.sched for this arch: their events, in name
 * order.  0, or 2 after a message (a malformed file is FILE:LINE). */
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
	for (int i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name);
		if (!rc && len > 6 && !strcmp(names[i]->d_name + len - 6, ".sched")) {
			char path[PATH_MAX + 256];
			snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
			struct schedule s;
			if (schedule_read(path, &s))
				rc = 2;
			else if (s.row.ops == f->base.row.ops && !strcmp(s.row.variant, f->base.row.variant)) {
				int usable = 1;
				for (int k = 0; k < s.events.n; k++)
					usable &= !s.events.ev[k].sym[0] && s.events.ev[k].index < f->boundaries;
				if (usable && s.events.n <= FUZZ_MAX_EVENTS) {
					sort_events(&s.events);
					if (corpus_add(f, &s.events))
						rc = cli_fail("out of memory%s%s", "", "");
				}
			}
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

/*
 * The violating schedule made small: events dropped while it still
 * violates, then each moved as early as it still does (steps halving).
 * 0, or 2 with err.
 */
static int minimize(struct fuzz *f, struct probe_schedule *s, char *err, size_t errlen)
{
	struct probe_result r;
	for (int i = s->n - 1; i >= 0; i--) {
		struct probe_schedule t = *s;
		memmove(&t.ev[i], &t.ev[i + 1], (size_t)(t.n - i - 1) * sizeof t.ev[0]);
		t.n--;
		if (run_one(f, &t, &r, err, errlen))
			return 2;
		if (failing(&r))
			*s = t;
		probe_result_free(&r);
	}
	/* A nested-signal event as shallow as it still violates (down to a
	 * nested-clock read with no signal inside it), each level as early in
	 * its clock call. */
	for (int i = 0; i < s->n; i++) {
		struct probe_event *e = &s->ev[i];
		while (e->kind == PROBE_EV_NESTED_SIGNAL && e->depth > 1) {
			struct probe_schedule t = *s;
			t.ev[i].depth--;
			if (run_one(f, &t, &r, err, errlen))
				return 2;
			int still = failing(&r);
			probe_result_free(&r);
			if (!still)
				break;
			*s = t;
		}
		if (e->kind == PROBE_EV_NESTED_SIGNAL) {	/* no nested signal at all: a nested-clock read */
			struct probe_schedule t = *s;
			t.ev[i].kind = PROBE_EV_NESTED_CLOCK;
			t.ev[i].depth = 0;
			memset(t.ev[i].inner, 0, sizeof t.ev[i].inner);
			if (run_one(f, &t, &r, err, errlen))
				return 2;
			if (failing(&r))
				*s = t;
			probe_result_free(&r);
		}
		for (int k = 0; e->kind == PROBE_EV_NESTED_SIGNAL && k < e->depth; k++)
			for (uint32_t step = (e->inner[k] + 1) / 2; step; step /= 2)
				while (e->inner[k] >= step) {
					struct probe_schedule t = *s;
					t.ev[i].inner[k] -= step;
					if (run_one(f, &t, &r, err, errlen))
						return 2;
					int still = failing(&r);
					probe_result_free(&r);
					if (!still)
						break;
					*s = t;
				}
	}
	for (int i = 0; i < s->n; i++) {
		uint64_t floor = i ? s->ev[i - 1].index : 0;
		for (uint64_t step = (s->ev[i].index - floor + 1) / 2; step; step /= 2) {
			while (s->ev[i].index >= floor + step) {
				struct probe_schedule t = *s;
				t.ev[i].index -= step;
				if (run_one(f, &t, &r, err, errlen))
					return 2;
				int still = failing(&r);
				probe_result_free(&r);
				if (!still)
					break;
				*s = t;
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

int cmd_fuzz(int argc, char **argv)
{
	const char *arch = NULL, *variant = NULL, *file = NULL, *build_dir = NULL, *corpus = NULL, *json = NULL;
	const char *function = "walltime", *context = "curg", *sigprof = NULL, *seed_arg = NULL, *runs_arg = NULL,
		   *time_arg = NULL;
	char dirbuf[PATH_MAX];
	const struct cli_option options[] = {
		CLI_VALUE("--arch", &arch), CLI_VALUE("--variant", &variant), CLI_VALUE("--function", &function),
		CLI_VALUE("--context", &context), CLI_VALUE("--sigprof", &sigprof), CLI_VALUE("--seed", &seed_arg),
		CLI_VALUE("--runs", &runs_arg), CLI_VALUE("--max-time", &time_arg), CLI_VALUE("--corpus", &corpus),
		CLI_VALUE("--json", &json), CLI_VALUE("--build-dir", &build_dir), CLI_END,
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
	uint64_t seed = 1, runs = DEFAULT_RUNS, max_time = 0;
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

	struct fuzz f;
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
		if (check_build_file(build_dir, ops, file, dir, sizeof dir, image, sizeof image))
			return 2;
		built = 1;
		f.image = image;
	}
	int status = 2;
	FILE *jf = NULL;
	f.feature = calloc(FEATURE_SLOTS, sizeof *f.feature);
	if (!f.feature) {
		cli_fail("out of memory%s%s", "", "");
		goto out;
	}
	if (json && !(jf = strcmp(json, "-") ? fopen(json, "w") : stdout)) {
		cli_fail("fuzz: cannot write %s: %s", json, strerror(errno));
		goto out;
	}
	FILE *text = jf == stdout ? stderr : stdout;

	/* The chain's length and what a lone signal shows already; then the
	 * run with no signal at all. */
	struct probe_result res;
	struct probe_schedule none = { 0 };
	judging = &f;
	if (learn_known(&f, err, sizeof err) || run_one(&f, &none, &res, err, sizeof err)) {
		cli_fail("fuzz: %s%s", err, "");
		goto out;
	}
	int clean = !failing(&res);
	for (int i = 0; i < f.nrun; i++)
		feature_add(&f, f.run_feature[i]);
	probe_result_free(&res);
	if (!clean) {
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
	struct probe_schedule found = { 0 };
	int violated = 0;
	size_t next_seed = 1;
	for (uint64_t run = 0; run < runs && !violated; run++) {
		if (max_time && now_s() - t0 >= (double)max_time)
			break;
		struct probe_schedule s;
		if (next_seed < seeds) {
			s = f.corpus[next_seed++];	/* the corpus as it was given, first */
		} else {
			s = f.corpus[below(&f, f.ncorpus)];
			mutate(&f, &s);
		}
		if (run_one(&f, &s, &res, err, sizeof err)) {
			cli_fail("fuzz: %s%s", err, "");
			goto out;
		}
		int fresh = 0;
		for (int i = 0; i < f.nrun; i++)
			fresh |= feature_add(&f, f.run_feature[i]);
		if (failing(&res)) {
			violated = 1;
			found = s;
		} else if (fresh) {
			if (corpus_add(&f, &s)) {
				probe_result_free(&res);
				cli_fail("out of memory%s%s", "", "");
				goto out;
			}
			if (corpus) {
				char path[PATH_MAX + 64];
				snprintf(path, sizeof path, "%s/%s-%s-%06zu.sched", corpus, ops->name, r->variant, f.ncorpus);
				if (write_schedule(&f, &s, path, "sigstep fuzz: new features"))
					fprintf(stderr, "sigstep: fuzz: cannot write %s\n", path);
			}
		}
		probe_result_free(&res);
		progress(&f, t0, &last, 0);
	}
	uint64_t execs = f.execs;
	double elapsed = now_s() - t0;
	progress(&f, t0, &last, 1);

	if (!violated) {
		fprintf(text, "fuzz %s %s %s %s: no violation: %llu schedules, %llu features, corpus %zu, "
			"%.1f s, %.0f execs/s\n", ops->name, r->variant, function, context, (unsigned long long)execs,
			(unsigned long long)f.nfeatures, f.ncorpus, elapsed, elapsed > 0 ? execs / elapsed : 0);
		if (jf) {
			fprintf(jf, "{\"command\": \"fuzz\", \"arch\": \"%s\", \"variant\": ", ops->name);
			json_string(jf, r->variant);
			fprintf(jf, ", \"function\": \"%s\", \"context\": \"%s\", \"seed\": %llu, \"schedules\": %llu, "
				"\"features\": %llu, \"corpus\": %zu, \"violation\": false}\n", function, context,
				(unsigned long long)seed, (unsigned long long)execs, (unsigned long long)f.nfeatures,
				f.ncorpus);
		}
		status = 0;
		goto out;
	}

	/* A violation: made small, written, replayed. */
	struct probe_schedule first = found;
	if (minimize(&f, &found, err, sizeof err)) {
		cli_fail("fuzz: %s%s", err, "");
		goto out;
	}
	struct schedule s = f.base;
	s.events = found;
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "%s/violation-%s-%s.sched", corpus ? corpus : ".", ops->name, r->variant);
	snprintf(s.row.source, sizeof s.row.source, "%.*s", (int)sizeof s.row.source - 1, path);
	if (write_schedule(&f, &found, path, "sigstep fuzz: a violating schedule, minimized")) {
		cli_fail("fuzz: cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	fprintf(text, "fuzz %s %s %s %s: violation after %llu schedules (%llu features, %.1f s); "
		"minimized from %d events to %d (%llu runs): %s\n", ops->name, r->variant, function, context,
		(unsigned long long)execs, (unsigned long long)f.nfeatures, elapsed, first.n, found.n,
		(unsigned long long)(f.execs - execs), path);
	schedule_write(text, &s);
	if (schedule_replay(&s, build_dir, f.image, NULL, &res, err, sizeof err)) {
		cli_fail("fuzz: %s%s", err, "");
		goto out;
	}
	fputc('\n', text);
	schedule_print_events(text, &s, &res);
	probe_print_summary(text, &res);
	if (jf) {
		char why[320];
		struct report_row row = { .res = &res, .source = path, .met = res.pass,
					  .why = report_why_not_pass(&res, why, sizeof why) };
		report_row_name(&row, NULL);
		report_json(jf, &row, 1);
	}
	status = failing(&res) ? 1 : 2;
	if (status == 2)
		fprintf(stderr, "sigstep: fuzz: the minimized schedule does not replay to a violation\n");
	probe_result_free(&res);
out:
	if (jf && jf != stdout)
		fclose(jf);
	else if (jf)
		fflush(jf);
	if (built)
		check_cleanup(dir, image);
	free(f.feature);
	free(f.corpus);
	return status;
}
