/*
 * The matrix's worker processes (harness/commands/run_workers.c): `jobs`
 * workers, each taking group after group of runs that share a boot.
 *
 * Every result lands in its run's slot, the same as the run alone, for
 * more groups than workers and any order; a worker killed in the middle
 * of a group leaves that group's unfinished runs, and only those, without
 * a verdict, and the other groups still run; a run that asks for the
 * violations' count only gets the counts of the full result; and a file's
 * line tables kept for one group do not outlive it.
 *
 * Guest images are read from $SIGSTEP_BUILD_DIR/guest/amd64/.
 */
#define _GNU_SOURCE
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch_ops.h"
#include "probe.h"
#include "report.h"
#include "run_workers.h"

static const char *build_dir(void)
{
	const char *d = getenv("SIGSTEP_BUILD_DIR");
	return d ? d : "build";
}

/* Four variants, so four images: a group each. */
static const char *const variants[] = { "prefix", "seed", "go119", "master" };
static const char *const functions[] = { "nanotime", "walltime" };
static const int eras[] = { 0, 3 };
#define NVARIANTS 4
#define RUNS_PER_GROUP 4	/* functions x eras */
#define NRUNS (NVARIANTS * RUNS_PER_GROUP)

/* Run i: variant i / RUNS_PER_GROUP, so runs of one group are neighbours. */
static struct probe_config run_config(size_t i)
{
	return (struct probe_config){
		.ops = arch_ops_find("amd64"),
		.build_dir = build_dir(),
		.variant = variants[i / RUNS_PER_GROUP],
		.function = functions[i % 2],
		.context = "curg",
		.era = eras[(i / 2) % 2],
		.vdso = 1,
	};
}

static void runs_free(struct worker_run *runs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		probe_result_free(&runs[i].res);
}

static void assert_same_counts(const struct probe_result *alone, const struct probe_result *got, const char *what)
{
	ck_assert_msg(alone->boundaries == got->boundaries, "%s: %llu boundaries, alone %llu", what,
		      (unsigned long long)got->boundaries, (unsigned long long)alone->boundaries);
	ck_assert_msg(!memcmp(alone->verdicts, got->verdicts, sizeof alone->verdicts), "%s: verdict counts differ",
		      what);
	ck_assert_msg(alone->nviolations == got->nviolations, "%s: %zu violations, alone %zu", what,
		      got->nviolations, alone->nviolations);
	ck_assert_uint_eq(alone->violations_dropped, got->violations_dropped);
	ck_assert_int_eq(alone->pass, got->pass);
	ck_assert_int_eq(alone->invariants_ok, got->invariants_ok);
	ck_assert_str_eq(alone->invariants, got->invariants);
	ck_assert_str_eq(alone->variant, got->variant);
	ck_assert_str_eq(alone->function, got->function);
	ck_assert_str_eq(alone->era_name, got->era_name);
}

static void assert_same_result(const struct probe_result *alone, const struct probe_result *got, const char *what)
{
	assert_same_counts(alone, got, what);
	for (size_t v = 0; v < alone->nviolations; v++) {
		const struct violation *a = &alone->violations[v], *b = &got->violations[v];
		ck_assert_msg(a->pc == b->pc && a->verdict == b->verdict && !strcmp(a->symbol, b->symbol),
			      "%s: violation %zu is %s, alone %s", what, v, b->symbol, a->symbol);
		ck_assert_msg(!strcmp(a->file, b->file) && a->line == b->line, "%s: violation %zu at %s:%u, alone %s:%u",
			      what, v, b->file, b->line, a->file, a->line);
	}
}

/* Every run alone, in this process, for comparison. */
static void run_alone(struct probe_result *alone)
{
	for (size_t i = 0; i < NRUNS; i++) {
		struct probe_config cfg = run_config(i);
		char err[256] = "";
		ck_assert_msg(!probe_run(&cfg, &alone[i], err, sizeof err), "run %zu alone: %s", i, err);
	}
}

/* Four groups through two workers, in an order that interleaves them
 * and runs the last group first: each result in its own slot, the same
 * as the run alone (violations, their lines included). */
START_TEST(results_land_in_their_slots_for_more_groups_than_jobs)
{
	static struct probe_result alone[NRUNS];
	static struct worker_run runs[NRUNS];
	size_t order[NRUNS];
	run_alone(alone);
	for (size_t k = 0; k < NRUNS; k++)
		order[k] = (NRUNS - 1 - k) % NVARIANTS * RUNS_PER_GROUP + (NRUNS - 1 - k) / NVARIANTS;
	memset(runs, 0, sizeof runs);
	for (size_t i = 0; i < NRUNS; i++)
		runs[i].cfg = run_config(i);
	ck_assert_int_eq(workers_run(runs, NRUNS, order, build_dir(), 2), 0);
	int some_violations = 0;
	for (size_t i = 0; i < NRUNS; i++) {
		char what[64];
		snprintf(what, sizeof what, "run %zu (%s)", i, variants[i / RUNS_PER_GROUP]);
		ck_assert_msg(runs[i].state == 1, "%s: state %d: %s", what, runs[i].state, runs[i].err);
		assert_same_result(&alone[i], &runs[i].res, what);
		some_violations |= runs[i].res.nviolations > 0;
	}
	ck_assert_msg(some_violations, "no run had violations to compare");
	runs_free(runs, NRUNS);
	for (size_t i = 0; i < NRUNS; i++)
		probe_result_free(&alone[i]);
}
END_TEST

/* The worker that runs it dies at its first sample, as a crash would. */
static void die_here(void *ctx, const struct probe_sample *s)
{
	(void)ctx, (void)s;
	raise(SIGKILL);
}

/* One worker; the second group's third run kills it.  That group's first
 * two runs have their results, its last two say their worker died, and
 * the groups after it (run by the worker started in its place) and the one
 * before it all complete. */
START_TEST(a_worker_killed_mid_group_leaves_that_groups_rest_without_verdict)
{
	static struct worker_run runs[NRUNS];
	size_t order[NRUNS];
	const size_t killer = 1 * RUNS_PER_GROUP + 2;
	for (size_t k = 0; k < NRUNS; k++)
		order[k] = k;
	memset(runs, 0, sizeof runs);
	for (size_t i = 0; i < NRUNS; i++)
		runs[i].cfg = run_config(i);
	runs[killer].cfg.on_sample = die_here;
	ck_assert_int_eq(workers_run(runs, NRUNS, order, build_dir(), 1), 0);
	for (size_t i = 0; i < NRUNS; i++) {
		int dies = i / RUNS_PER_GROUP == killer / RUNS_PER_GROUP && i >= killer;
		if (!dies) {
			ck_assert_msg(runs[i].state == 1, "run %zu: state %d: %s", i, runs[i].state, runs[i].err);
			ck_assert_msg(runs[i].res.boundaries > 20, "run %zu: %llu boundaries", i,
				      (unsigned long long)runs[i].res.boundaries);
			continue;
		}
		ck_assert_msg(runs[i].state == 3, "run %zu: state %d, not died", i, runs[i].state);
		ck_assert_msg(strstr(runs[i].err, "its worker ended before it: killed by signal 9"),
			      "run %zu: '%s'", i, runs[i].err);
	}
	runs_free(runs, NRUNS);
}
END_TEST

/* The same runs with and without count_violations_only: the same counts,
 * and no violation sent when only counted. */
START_TEST(counting_only_gives_the_full_results_counts)
{
	static struct worker_run full[NRUNS], counted[NRUNS];
	size_t order[NRUNS];
	for (size_t k = 0; k < NRUNS; k++)
		order[k] = k;
	memset(full, 0, sizeof full);
	memset(counted, 0, sizeof counted);
	for (size_t i = 0; i < NRUNS; i++) {
		full[i].cfg = counted[i].cfg = run_config(i);
		counted[i].count_violations_only = 1;
	}
	ck_assert_int_eq(workers_run(full, NRUNS, order, build_dir(), 2), 0);
	ck_assert_int_eq(workers_run(counted, NRUNS, order, build_dir(), 2), 0);
	int some_violations = 0;
	for (size_t i = 0; i < NRUNS; i++) {
		char what[64];
		snprintf(what, sizeof what, "run %zu (%s)", i, variants[i / RUNS_PER_GROUP]);
		ck_assert_msg(full[i].state == 1 && counted[i].state == 1, "%s: states %d, %d: %s %s", what,
			      full[i].state, counted[i].state, full[i].err, counted[i].err);
		assert_same_counts(&full[i].res, &counted[i].res, what);
		ck_assert_msg(!counted[i].res.violations, "%s: violations sent though only counted", what);
		ck_assert_msg(!full[i].res.nviolations || full[i].res.violations, "%s: no violations sent", what);
		some_violations |= full[i].res.nviolations > 0;
	}
	ck_assert_msg(some_violations, "no run had violations to count");
	runs_free(full, NRUNS);
	runs_free(counted, NRUNS);
}
END_TEST

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	ck_assert_msg(in && out, "cannot copy %s to %s", from, to);
	char buf[65536];
	for (size_t got; (got = fread(buf, 1, sizeof buf, in)) > 0;)
		ck_assert(fwrite(buf, 1, got, out) == got);
	fclose(in);
	ck_assert(fclose(out) == 0);
}

/* A group's mutant is built at a path another group's may have had: the
 * lines kept for the first file must not serve the second.  One image's
 * lines kept and forgotten, another image at the same path: its
 * violations are given its own lines. */
START_TEST(forgotten_lines_are_not_used_for_a_new_file_at_their_path)
{
	char dir[] = "/tmp/sigstep-test-workers-XXXXXX", path[64], prefix[4096], seed[4096];
	ck_assert(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/image", dir);
	snprintf(prefix, sizeof prefix, "%s/guest/amd64/sigstep-guest-prefix", build_dir());
	snprintf(seed, sizeof seed, "%s/guest/amd64/sigstep-guest-seed", build_dir());
	copy_file(prefix, path);
	struct probe_config cfg = run_config(0);
	cfg.image_path = path;
	cfg.vdso = 0;
	struct probe_result res;
	char err[256] = "";
	ck_assert_msg(!probe_run(&cfg, &res, err, sizeof err), "%s", err);
	ck_assert_msg(res.nviolations > 0 && res.violations[0].line, "no violation with a line to look up");
	struct violation first = res.violations[0];

	copy_file(seed, path);
	report_lines_keep(path, NULL);
	report_lines_forget();
	copy_file(prefix, path);
	report_lines_keep(path, NULL);
	for (size_t v = 0; v < res.nviolations; v++) {
		res.violations[v].file[0] = 0;
		res.violations[v].line = 0;
	}
	report_locate_violations(&res, path, NULL);
	ck_assert_msg(!strcmp(res.violations[0].file, first.file) && res.violations[0].line == first.line,
		      "violation at %s:%u, its own line %s:%u", res.violations[0].file, res.violations[0].line,
		      first.file, first.line);
	report_lines_forget();
	probe_result_free(&res);
	unlink(path);
	rmdir(dir);
}
END_TEST

static Suite *workers_suite(void)
{
	Suite *s = suite_create("workers");
	TCase *t = tcase_create("workers");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, results_land_in_their_slots_for_more_groups_than_jobs);
	tcase_add_test(t, a_worker_killed_mid_group_leaves_that_groups_rest_without_verdict);
	tcase_add_test(t, counting_only_gives_the_full_results_counts);
	tcase_add_test(t, forgotten_lines_are_not_used_for_a_new_file_at_their_path);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(workers_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
