/*
 * Nested injection judges what it runs (harness/probe/probe.c,
 * scenarios/README.md): the clock read the handler makes is checked
 * against the emulated clock and for m.vdsoSP/m.vdsoPC around it, and every
 * trial ends with the guest's own checks of the interrupted call.  Each
 * case is a trampoline whose samples are all right under nesting, so only
 * those checks can fail it; and master, which is re-entrant, passes them.
 *
 * Guest products are read from $SIGSTEP_BUILD_DIR; the mutants from the
 * source tree.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch_ops.h"
#include "commands.h"
#include "probe.h"

static const char *const arches[] = { "386", "amd64", "arm" };

static const char *build_dir(void)
{
	const char *d = getenv("SIGSTEP_BUILD_DIR");
	return d ? d : "build";
}

/* A nested probe of a built variant (image NULL) or of an image. */
static void nested(const char *arch, const char *variant, const char *image, const char *function, int era, int vdso,
		   struct probe_result *r)
{
	struct probe_config cfg = {
		.ops = arch_ops_find(arch), .build_dir = build_dir(), .variant = variant, .image_path = image,
		.function = function, .context = "curg", .era = era, .vdso = vdso, .inject = PROBE_NESTED,
	};
	char err[256] = "";
	ck_assert_msg(probe_run(&cfg, r, err, sizeof err) == 0, "%s %s: %s", arch, variant, err);
}

/* No sample of the run failed: whatever failed, only the checks saw it. */
static int samples_pass(const struct probe_result *r)
{
	for (int v = 0; v < VERDICT_COUNT; v++)
		if (!verdict_passes((enum verdict)v) && r->verdicts[v])
			return 0;
	return 1;
}

/* Go 1.10/1.11 on amd64 read nanotime through gettimeofday when
 * clock_gettime is missing: the handler's clock read is the wall clock.
 * The interrupted walltime itself is right. */
START_TEST(nested_read_result_is_checked)
{
	static const char *const old[] = { "prefix", "seed" };
	for (int i = 0; i < 2; i++) {
		struct probe_result r;
		nested("amd64", old[i], NULL, "walltime", -1, 0, &r);
		ck_assert_msg(!r.invariants_ok && strstr(r.invariants, "nested-time-outside-window"), "%s: %s", old[i],
			      r.invariants);
		/* every trial's read is wrong, and it says so once */
		ck_assert_msg(strstr(r.invariants, "nested trials)") && !strstr(r.invariants, "; "), "%s", r.invariants);
		probe_result_free(&r);
	}
	struct probe_result m;
	nested("amd64", "master", NULL, "walltime", 1 /* go1.11: every sample of master passes */, 0, &m);
	ck_assert_msg(m.pass, "master: %s", m.invariants);
	probe_result_free(&m);
}
END_TEST

/* seed clears vdsoSP on the way out (Go issue 40697): after the nested
 * read it is 0, not the interrupted call's.  Under go1.10, whose sigprof
 * never reads vdsoSP, no sample can show it: only the check does. */
START_TEST(nested_read_restores_vdsosp)
{
	struct probe_result r;
	nested(arches[_i], "seed", NULL, "nanotime", 0 /* go1.10 */, 1, &r);
	ck_assert_msg(!r.invariants_ok && strstr(r.invariants, "nested-vdsoSP-changed"), "%s: %s", arches[_i],
		      r.invariants);
	probe_result_free(&r);
	nested(arches[_i], "master", NULL, "nanotime", 1 /* go1.11 */, 1, &r);
	ck_assert_msg(r.pass, "%s master: %s", arches[_i], r.invariants);
	probe_result_free(&r);
}
END_TEST

/* The re-entrancy mutants: every sample right, the interrupted call's own
 * result (ts_static) or restored vdsoSP (save_static) wrong after a nested
 * read, which only the end-of-trial checks see. */
START_TEST(end_of_trial_checks_kill_the_reentrancy_mutants)
{
	static const struct {
		const char *mutant, *function, *invariant;
		int era;
	} cases[] = {
		{ "ts_static", "walltime", "time-outside-window", 1 /* go1.11 */ },
		{ "save_static", "nanotime", "vdsoSP-changed", 1 /* go1.11 */ },
	};
	const char *arch = arches[_i / 2];
	const struct arch_ops *ops = arch_ops_find(arch);
	char src[PATH_MAX], dir[PATH_MAX], image[PATH_MAX + 96];
	snprintf(src, sizeof src, "%s/scenarios/mutants/%s/%s.S", SIGSTEP_SOURCE_DIR, arch, cases[_i % 2].mutant);
	ck_assert_msg(check_build_file(build_dir(), ops, src, dir, sizeof dir, image, sizeof image) == 0, "%s", src);
	struct probe_result r;
	nested(arch, cases[_i % 2].mutant, image, cases[_i % 2].function, cases[_i % 2].era, 1, &r);
	check_cleanup(dir, image);
	ck_assert_msg(samples_pass(&r), "%s %s: a sample failed", arch, cases[_i % 2].mutant);
	ck_assert_msg(!r.invariants_ok && strstr(r.invariants, "after a nested clock read at boundary") &&
		      strstr(r.invariants, cases[_i % 2].invariant),
		      "%s %s: %s", arch, cases[_i % 2].mutant, r.invariants);
	probe_result_free(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nested");
	TCase *t = tcase_create("nested");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, nested_read_result_is_checked);
	tcase_add_loop_test(t, nested_read_restores_vdsosp, 0, 3);
	tcase_add_loop_test(t, end_of_trial_checks_kill_the_reentrancy_mutants, 0, 6);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
