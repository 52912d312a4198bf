/*
 * libFuzzer target over schedules themselves: bytes decoded into a
 * schedule of the sigstep guest image (arch, variant master or seed,
 * function, era, then up to 8 events of two bytes: the boundary, and the
 * kind -- sample, keep, nested-clock nanotime or walltime; with bit 2 set a
 * nested-signal, its clock bit 0, one or two levels bit 3, each level at
 * the boundary of the bits 4-7 in its clock call), run through
 * the probe as sigstep run --schedule does (on a kept boot per arch and
 * variant, rewound before each input: probe_run_on_boots).  The coverage libFuzzer sees
 * is the subject's as sigstep fuzz defines it (cmd_fuzz.c): each judged
 * sample's (boundary, verdict, kept signals before it, frame count) and
 * each failed check, fed through libFuzzer's extra counters -- not the
 * harness's branches alone.  A violation is not a crash: the target looks
 * for the harness failing (a sanitizer report, an abort), and its
 * counters lead libFuzzer to the schedules sigstep fuzz would keep.
 * The guest images come from $SIGSTEP_BUILD_DIR (default: build/).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch_ops.h"
#include "probe.h"
#include "schedule.h"

#define NCOUNTERS 8192
__attribute__((section("__libfuzzer_extra_counters"))) static uint8_t counters[NCOUNTERS];

static const char *build_dir;
static const struct probe_schedule *current;

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static void count(uint64_t h)
{
	uint8_t *c = &counters[(h >> 17) % NCOUNTERS];
	if (*c < 255)
		++*c;
}

static void on_sample(void *ctx, const struct probe_sample *s)
{
	(void)ctx;
	int i = s->event >= 0 && s->event < current->n ? s->event : current->n, kept = 0;
	for (int k = 0; k < i; k++)
		kept += current->ev[k].kind != PROBE_EV_SAMPLE;
	count(mix(mix(mix(mix(mix(1, s->pc), (uint64_t)s->verdict), (uint64_t)(kept > 3 ? 3 : kept)), (uint64_t)s->n),
		  (uint64_t)s->depth));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	build_dir = getenv("SIGSTEP_BUILD_DIR");
	if (!build_dir)
		build_dir = "build";
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	int narch = 0;
	while (arch_ops_all[narch])
		narch++;
	struct schedule s;
	memset(&s, 0, sizeof s);
	struct scn_row *r = &s.row;
	r->ops = arch_ops_all[data[0] % narch];
	snprintf(r->variant, sizeof r->variant, "%s", (data[0] >> 2) & 1 ? "seed" : "master");
	snprintf(r->function, sizeof r->function, "%s", (data[0] >> 3) & 1 ? "nanotime" : "walltime");
	snprintf(r->context, sizeof r->context, "curg");
	snprintf(r->knobs, sizeof r->knobs, "-");
	r->era = (int)((data[0] >> 4) % 5) - 1;	/* own, go1.10 .. modern */
	r->vdso = 1;
	r->inject = PROBE_SCHEDULE;
	unsigned base = data[1];
	for (size_t i = 2; i + 1 < size && s.events.n < 8; i += 2) {
		struct probe_event *e = &s.events.ev[s.events.n++];
		e->index = base + data[i];
		uint8_t k = data[i + 1];
		if (k & 4) {
			e->kind = PROBE_EV_NESTED_SIGNAL;
			e->clock = k & 1 ? PROBE_CLOCK_WALLTIME : PROBE_CLOCK_NANOTIME;
			e->depth = 1 + (k >> 3 & 1);
			for (int l = 0; l < e->depth; l++)
				e->inner[l] = k >> 4;
			continue;
		}
		e->kind = k % 4 == 0 ? PROBE_EV_SAMPLE : k % 4 == 1 ? PROBE_EV_KEEP : PROBE_EV_NESTED_CLOCK;
		e->clock = e->kind != PROBE_EV_NESTED_CLOCK ? PROBE_CLOCK_NONE
			   : k % 4 == 2 ? PROBE_CLOCK_NANOTIME : PROBE_CLOCK_WALLTIME;
	}
	struct probe_config cfg;
	schedule_config(&s, build_dir, NULL, &cfg);
	cfg.on_sample = on_sample;
	current = &s.events;
	struct probe_result res;
	char err[512];
	static struct probe_boots boots;	/* one per arch x variant, rewound before each input */
	if (probe_run_on_boots(&boots, &cfg, &res, err, sizeof err)) {
		fprintf(stderr, "sigstep: %s\n", err);	/* the images are missing: nothing can run */
		abort();
	}
	if (!res.invariants_ok) {
		uint64_t h = 7;
		for (const char *t = res.invariants; *t && *t != '='; t++)
			if (*t < '0' || *t > '9')
				h = mix(h, (uint64_t)(unsigned char)*t);
		count(h);
	}
	probe_result_free(&res);
	return 0;
}
