/*
 * Scenario files and mutant headers (harness/scenarios/scenario.c, scenarios/README.md):
 * a malformed file is one line "FILE:LINE: message" and status 2, through
 * the parser and through `sigstep run --scenario`; a good file expands
 * into the rows it names; expectations judge results as documented; the
 * sample injection is reproducible and the nested one tells seed from
 * master.
 *
 * Guest products are read from $SIGSTEP_BUILD_DIR.
 */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch_ops.h"
#include "commands.h"
#include "probe.h"
#include "scenario.h"

static const char *build_dir(void)
{
	const char *d = getenv("SIGSTEP_BUILD_DIR");
	return d ? d : "build";
}

static char *scratch_file(const char *name, const char *text)
{
	const char *tmp = getenv("TMPDIR");
	char *dir, *path;
	ck_assert(asprintf(&dir, "%s/sigstep-test-scenario-XXXXXX", tmp && tmp[0] ? tmp : "/tmp") > 0);
	ck_assert(mkdtemp(dir));
	ck_assert(asprintf(&path, "%s/%s", dir, name) > 0);
	FILE *f = fopen(path, "w");
	ck_assert(f);
	fputs(text, f);
	fclose(f);
	free(dir);
	return path;
}

static void drop_file(char *path)
{
	unlink(path);
	*strrchr(path, '/') = 0;
	rmdir(path);
	free(path);
}

/* Runs fn with stderr going to a file; returns its status, *err what it wrote. */
static int stderr_of(int (*fn)(void *), void *arg, char **err)
{
	char tmpl[] = "/tmp/sigstep-test-stderr-XXXXXX";
	int fd = mkstemp(tmpl);
	ck_assert(fd >= 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	int status = fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	off_t len = lseek(fd, 0, SEEK_END);
	*err = calloc(1, (size_t)len + 1);
	ck_assert(pread(fd, *err, (size_t)len, 0) == len);
	close(fd);
	unlink(tmpl);
	return status;
}

static int lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

struct read_args {
	const char *path;
	struct scn_rows rows;
};

static int read_scn(void *a)
{
	struct read_args *r = a;
	return scn_read_file(r->path, build_dir(), &r->rows);
}

static const struct {
	const char *text;
	int line;
	const char *message;
} bad_files[] = {
	{ "arch 386\n", 1, "'arch' outside a [section]" },
	{ "[a]\nvariant master\nexpect pass\n[b\n", 4, "expected '[name]'" },
	{ "[a]\nvariant master\nfrobnicate 1\n", 3, "unknown setting 'frobnicate'" },
	{ "[a]\narch mips\n", 2, "unknown arch 'mips'" },
	{ "[a]\nfunction gettime\n", 2, "unknown function 'gettime'" },
	{ "[a]\ncontext g1\n", 2, "unknown context 'g1'" },
	{ "[a]\nvdso maybe\n", 2, "vdso is 'present' or 'absent'" },
	{ "[a]\nknobs clobber turbo\n", 2, "unknown knob 'turbo'" },
	{ "[a]\nsigprof go1.12\n", 2, "unknown sigprof era 'go1.12'" },
	{ "[a]\ninject sometimes\n", 2, "bad inject 'sometimes'" },
	{ "[a]\ninject sample:0\n", 2, "bad inject 'sample:0'" },
	{ "[a]\ninject sample:5 seed=x\n", 2, "bad inject 'sample:5 seed=x'" },
	{ "[a]\nexpect fail wrongg\n", 2, "unknown verdict 'wrongg'" },
	{ "[a]\nexpect fail !wrong\n", 2, "'fail' needs a verdict that must appear" },
	{ "[a]\nexpect fail wrong !wrong\n", 2, "verdict 'wrong' named twice" },
	{ "[a]\nexpect pass wrong\n", 2, "'pass' takes nothing after it" },
	{ "[a]\nexpect maybe\n", 2, "expected 'pass' or 'fail', got 'maybe'" },
	{ "[a]\nexpect fail wrong at\n", 2, "'at' needs a range" },
	{ "[a]\nexpect fail wrong at walltime+0x10..nanotime+0x20\n", 2, "'at' range 'walltime+0x10..nanotime+0x20' spans two symbols" },
	{ "[a]\nexpect fail wrong at walltime+0x20..walltime+0x10\n", 2, "bad 'at' range" },
	{ "[a]\nvariant seed\nvariant master\n", 3, "'variant' given twice" },
	{ "\n# only a comment\n[a]\nexpect pass\n", 3, "section [a] has no 'variant'" },
	{ "[a]\nvariant master\n\n[b]\nvariant master\nexpect pass\n", 1, "section [a] has no 'expect'" },
	{ "[a]\nvariant nosuch\nexpect pass\n", 1, "unknown variant 'nosuch'" },
	{ "# nothing\n", 1, "no [section] in the file" },
};

START_TEST(malformed_scenario_is_file_line_message)
{
	char *path = scratch_file("bad.scn", bad_files[_i].text);
	struct read_args a = { .path = path };
	char *err;
	int status = stderr_of(read_scn, &a, &err);
	char want[600];
	snprintf(want, sizeof want, "%s:%d: %s", path, bad_files[_i].line, bad_files[_i].message);
	ck_assert_msg(status == 2, "case %d: status %d", _i, status);
	ck_assert_msg(lines(err) == 1 && !strncmp(err, want, strlen(want)), "case %d: want '%s...', got: %s", _i,
		      want, err);
	free(err);
	scn_rows_free(&a.rows);
	drop_file(path);
}
END_TEST

static int run_cmd(void *a)
{
	char **argv = a;
	int argc = 0;
	while (argv[argc])
		argc++;
	return cmd_scenario_run(argc, argv);
}

START_TEST(run_scenario_bad_file_is_status_2)
{
	char *path = scratch_file("bad.scn", "[a]\nvariant master\nexpect fail nothing\n");
	char *argv[] = { "run", "--scenario", path, "--build-dir", (char *)build_dir(), NULL };
	char *err;
	int status = stderr_of(run_cmd, argv, &err);
	char want[600];
	snprintf(want, sizeof want, "%s:3: unknown verdict 'nothing'", path);
	ck_assert_msg(status == 2 && lines(err) == 1 && !strncmp(err, want, strlen(want)), "status %d, stderr: %s",
		      status, err);
	free(err);
	char *missing[] = { "run", "--scenario", "/nonexistent/x.scn", NULL };
	status = stderr_of(run_cmd, missing, &err);
	ck_assert_msg(status == 2 && lines(err) == 1, "status %d, stderr: %s", status, err);
	free(err);
	drop_file(path);
}
END_TEST

struct mutant_args {
	const char *path;
	struct scn_rows rows;
};

static int read_mutant(void *a)
{
	struct mutant_args *m = a;
	return scn_read_mutant(m->path, arch_ops_find("amd64"), &m->rows);
}

START_TEST(malformed_mutant_header_is_file_line_message)
{
	static const struct {
		const char *text;
		int line;
		const char *message;
	} cases[] = {
		{ "// mutant: no expectation\n\tnop\n", 1, "no '// expect:' line" },
		{ "// mutant: x\n// expect: fail wrongg\n", 2, "unknown verdict 'wrongg'" },
		{ "// mutant: x\n// expect: variant=seed fail wrong\n", 2, "a mutant's variant is fixed by its file" },
		{ "// mutant: x\n// expect: pass\n// expect: context=g9 pass\n", 3, "unknown context 'g9'" },
		{ "// mutant: x\n// expect: seed=5 pass\n", 2, "'seed=' belongs to inject=sample:N" },
		{ "// mutant: x\n// expect: inject=sample:3 seed=x pass\n", 2, "bad seed 'x'" },
		{ "// mutant: x\n// expect: inject=sample:3 seed=1 seed=2 pass\n", 2, "'seed=' given twice" },
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		char *path = scratch_file("m.S", cases[c].text);
		struct mutant_args a = { .path = path };
		char *err;
		int status = stderr_of(read_mutant, &a, &err);
		char want[600];
		snprintf(want, sizeof want, "%s:%d: %s", path, cases[c].line, cases[c].message);
		ck_assert_msg(status == 2 && lines(err) == 1 && !strncmp(err, want, strlen(want)),
			      "case %zu: status %d, want '%s...', got: %s", c, status, want, err);
		free(err);
		scn_rows_free(&a.rows);
		drop_file(path);
	}
}
END_TEST

/* A header takes every key a section takes, the sample's seed included. */
START_TEST(mutant_header_takes_the_sample_seed)
{
	char *path = scratch_file("m.S", "// mutant: x\n// expect: function=nanotime inject=sample:7 seed=99 pass\n");
	struct mutant_args a = { .path = path };
	ck_assert_int_eq(read_mutant(&a), 0);
	ck_assert_uint_eq(a.rows.n, 1);
	ck_assert_int_eq(a.rows.v[0].inject, PROBE_SAMPLE);
	ck_assert_uint_eq(a.rows.v[0].sample_n, 7);
	ck_assert_uint_eq(a.rows.v[0].sample_seed, 99);
	scn_rows_free(&a.rows);
	drop_file(path);
}
END_TEST

START_TEST(good_file_expands_into_rows)
{
	char *path = scratch_file("good.scn",
				  "# every arch, variant and function\n"
				  "[all]\nvariant *\nexpect pass\n\n"
				  "[one]   # a comment\n"
				  "about     the settings, each given\n"
				  "arch      arm\nvariant   master seed\nfunction  nanotime\ncontext   g0\n"
				  "vdso      absent\nknobs     callee_saved stack=4096\nsigprof   go1.11\n"
				  "inject    sample:7 seed=99\n"
				  "expect    fail wrong !fault invariant=x at vdsoCall+0x40..0x88 clock_gettime\n");
	struct scn_rows rows = { 0 };
	ck_assert_int_eq(scn_read_file(path, build_dir(), &rows), 0);
	ck_assert_uint_eq(rows.n, 24 + 2);	/* 3 arches x 4 variants x 2 functions, + 2 */
	const struct scn_row *r = &rows.v[0];
	ck_assert_str_eq(r->name, "all");
	ck_assert_str_eq(r->ops->name, "386");
	ck_assert_str_eq(r->context, "curg");
	ck_assert_int_eq(r->era, -1);
	ck_assert_int_eq(r->vdso, 1);
	ck_assert_int_eq(r->inject, PROBE_EVERY);
	ck_assert(r->expect.pass);
	r = &rows.v[24];
	ck_assert_str_eq(r->name, "one");
	ck_assert_str_eq(r->ops->name, "arm");
	ck_assert_str_eq(r->variant, "master");
	ck_assert_str_eq(rows.v[25].variant, "seed");
	ck_assert_str_eq(r->function, "nanotime");
	ck_assert_str_eq(r->context, "g0");
	ck_assert_int_eq(r->vdso, 0);
	ck_assert_uint_eq(r->knob_callee_saved, 1);
	ck_assert_uint_eq(r->knob_stack_bytes, 4096);
	ck_assert_uint_eq(r->knob_clobber, 0);
	ck_assert_int_eq(r->era, 1);
	ck_assert_int_eq(r->inject, PROBE_SAMPLE);
	ck_assert_uint_eq(r->sample_n, 7);
	ck_assert_uint_eq(r->sample_seed, 99);
	ck_assert(!r->expect.pass);
	ck_assert_int_eq(r->expect.want[VERDICT_WRONG], 1);
	ck_assert_int_eq(r->expect.want[VERDICT_FAULT], -1);
	ck_assert_str_eq(r->expect.invariant, "x");
	ck_assert_int_eq(r->expect.nat, 2);
	ck_assert_str_eq(r->source + strlen(r->source) - 2, ":6");
	scn_rows_free(&rows);
	drop_file(path);
}
END_TEST

/* A result with one violation at `symbol`. */
static struct probe_result result_with(enum verdict v, const char *symbol, int invariants_ok, const char *inv)
{
	static struct violation viol;
	struct probe_result r;
	memset(&r, 0, sizeof r);
	memset(&viol, 0, sizeof viol);
	viol.verdict = v;
	snprintf(viol.symbol, sizeof viol.symbol, "%s", symbol);
	r.verdicts[VERDICT_FULL] = 10;
	r.verdicts[v]++;
	r.violations = &viol;
	r.nviolations = 1;
	r.invariants_ok = invariants_ok;
	snprintf(r.invariants, sizeof r.invariants, "%s", inv);
	r.pass = 0;
	return r;
}

static int met(const char *expect, const struct probe_result *r)
{
	char buf[256], *tok[32], why[300];
	int n = 0;
	snprintf(buf, sizeof buf, "%s", expect);
	for (char *save, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		tok[n++] = t;
	struct scn_expect e;
	ck_assert_int_eq(scn_expect_parse(tok, n, &e, why, sizeof why), 0);
	return scn_expect_met(&e, r, why, sizeof why);
}

START_TEST(expectations_judge_verdicts_places_and_invariants)
{
	struct probe_result r = result_with(VERDICT_WRONG, "nanotime+0x40", 1, "");
	ck_assert(met("fail wrong", &r));
	ck_assert(met("fail wrong !fault", &r));
	ck_assert(!met("fail fault", &r));
	ck_assert(!met("fail wrong !full", &r));
	ck_assert(!met("pass", &r));
	ck_assert(met("fail wrong at nanotime+0x3f..nanotime+0x75", &r));
	ck_assert(met("fail wrong at nanotime+0x40..0x40", &r));
	ck_assert(met("fail wrong at walltime nanotime", &r));
	ck_assert(!met("fail wrong at nanotime+0x41..nanotime+0x75", &r));
	ck_assert(!met("fail wrong at walltime+0x3f..walltime+0x75", &r));
	ck_assert(!met("fail wrong at nano", &r));	/* a whole symbol, not a prefix */
	ck_assert(!met("fail wrong invariant=vdsoSP", &r));	/* the invariants held */

	struct probe_result broken = result_with(VERDICT_WRONG, "walltime+0x8", 0, "check curg walltime FAIL vdsoSP-changed");
	ck_assert(!met("fail wrong", &broken));	/* a failure must be the named one */
	ck_assert(met("fail wrong invariant=vdsoSP-changed", &broken));
	ck_assert(met("fail invariant=vdsoSP-changed", &broken));
	ck_assert(!met("fail invariant=time-outside-window", &broken));

	struct probe_result ok;
	memset(&ok, 0, sizeof ok);
	ok.verdicts[VERDICT_FULL] = 5;
	ok.invariants_ok = ok.pass = 1;
	ck_assert(met("pass", &ok));
	ck_assert(!met("fail full", &ok));	/* passed, expected to fail */
}
END_TEST

static struct probe_result probe(const char *arch, const char *variant, enum probe_inject inject, uint64_t n,
				 uint64_t seed)
{
	struct probe_config cfg = {
		.ops = arch_ops_find(arch), .build_dir = build_dir(), .variant = variant, .function = "nanotime",
		.context = "curg", .era = -1, .vdso = 1, .inject = inject, .sample_n = n, .sample_seed = seed,
	};
	struct probe_result r;
	char err[256];
	ck_assert_msg(probe_run(&cfg, &r, err, sizeof err) == 0, "%s", err);
	return r;
}

START_TEST(sample_is_a_reproducible_subset)
{
	struct probe_result all = probe("amd64", "seed", PROBE_EVERY, 0, 0);
	struct probe_result a = probe("amd64", "seed", PROBE_SAMPLE, 20, 7);
	struct probe_result b = probe("amd64", "seed", PROBE_SAMPLE, 20, 7);
	struct probe_result c = probe("amd64", "seed", PROBE_SAMPLE, 20, 8);
	ck_assert_uint_eq(a.boundaries, all.boundaries);
	ck_assert_uint_eq(a.probed, 20);
	ck_assert_str_eq(a.inject, "sample:20 seed=7");
	ck_assert_uint_eq(a.nviolations, b.nviolations);
	for (size_t i = 0; i < a.nviolations; i++)
		ck_assert_uint_eq(a.violations[i].pc, b.violations[i].pc);
	/* a different seed picks a different subset (of 115 boundaries, 20) */
	int same = a.nviolations == c.nviolations;
	for (size_t i = 0; same && i < a.nviolations; i++)
		same = a.violations[i].pc == c.violations[i].pc;
	ck_assert_msg(!same || memcmp(a.verdicts, c.verdicts, sizeof a.verdicts), "seeds 7 and 8 chose alike");
	/* more than there are: every boundary, once */
	struct probe_result d = probe("amd64", "seed", PROBE_SAMPLE, 100000, 1);
	ck_assert_uint_eq(d.probed, all.boundaries);
	ck_assert(!memcmp(d.verdicts, all.verdicts, sizeof d.verdicts));
	probe_result_free(&all);
	probe_result_free(&a);
	probe_result_free(&b);
	probe_result_free(&c);
	probe_result_free(&d);
}
END_TEST

START_TEST(nested_clock_read_breaks_seed_not_master)
{
	struct probe_result seed = probe("386", "seed", PROBE_NESTED, 0, 0);
	struct probe_result plain = probe("386", "seed", PROBE_EVERY, 0, 0);
	struct probe_result master = probe("386", "master", PROBE_NESTED, 0, 0);
	/* every k: the nested signal, then k and every later boundary again */
	ck_assert_uint_eq(seed.probed, seed.boundaries * (seed.boundaries + 3) / 2);
	/* seed's nested read leaves vdsoSP 0 under the outer call (tests/test_nested.c) */
	ck_assert(!seed.invariants_ok && strstr(seed.invariants, "nested-vdsoSP-changed") && master.invariants_ok);
	/* without nesting seed's samples are wrong, never _VDSO: a nested
	 * read that clears vdsoSP under the outer call makes them so */
	ck_assert_uint_eq(plain.verdicts[VERDICT_VDSO], 0);
	ck_assert_uint_gt(seed.verdicts[VERDICT_VDSO], 0);
	ck_assert_int_eq(seed.violations[0].nested_at > 0, 1);
	/* master: re-entrant; only its SPWRITE windows fail (truncated) */
	ck_assert_uint_eq(master.verdicts[VERDICT_VDSO] + master.verdicts[VERDICT_SYSTEM] +
				  master.verdicts[VERDICT_WRONG],
			  0);
	probe_result_free(&seed);
	probe_result_free(&plain);
	probe_result_free(&master);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("scenario");
	TCase *t = tcase_create("scenario");
	tcase_set_timeout(t, 60);
	tcase_add_loop_test(t, malformed_scenario_is_file_line_message, 0, sizeof bad_files / sizeof bad_files[0]);
	tcase_add_test(t, run_scenario_bad_file_is_status_2);
	tcase_add_test(t, malformed_mutant_header_is_file_line_message);
	tcase_add_test(t, mutant_header_takes_the_sample_seed);
	tcase_add_test(t, good_file_expands_into_rows);
	tcase_add_test(t, expectations_judge_verdicts_places_and_invariants);
	tcase_add_test(t, sample_is_a_reproducible_subset);
	tcase_add_test(t, nested_clock_read_breaks_seed_not_master);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
