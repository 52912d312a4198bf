/*
 * vDSO placement (harness/engine/loader.c, scenarios/README.md): the bases
 * the layout cannot take are refused with one line -- vvar at 0, not
 * page-aligned, outside the address space, over the stack or the image --
 * by the loader, the commands (--vdso-base) and the scenario parsers
 * (vdso_base); a second base above the text gives every verdict the
 * default gives; below the text Go 1.10's _ExternalCode becomes _System.
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
#include "loader.h"
#include "probe.h"
#include "run.h"
#include "scenario.h"

#define PAGE 4096ull

static const char *const arches[] = { "386", "amd64", "arm" };
static const char *const variants[] = { "prefix", "seed", "master" };

static const char *build_dir(void)
{
	const char *d = getenv("SIGSTEP_BUILD_DIR");
	return d ? d : "build";
}

/* Runs fn(arg) with stderr in a file: its status, *err what it wrote. */
static int stderr_of(int (*fn)(void *), void *arg, char **err)
{
	char tmpl[] = "/tmp/sigstep-test-placement-XXXXXX";
	int fd = mkstemp(tmpl);
	ck_assert(fd >= 0);
	fflush(NULL);
	int saved = dup(2), saved1 = dup(1), null = open("/dev/null", O_WRONLY);
	dup2(fd, 2);
	dup2(null, 1);
	int status = fn(arg);
	fflush(NULL);
	dup2(saved, 2);
	dup2(saved1, 1);
	close(saved);
	close(saved1);
	close(null);
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

START_TEST(bases_the_layout_refuses)
{
	const struct arch_ops *ops = arch_ops_find(arches[_i]);
	char err[LOADER_ERR_MAX];
	static const struct {
		uint64_t base;
		const char *why;
	} bad[] = {
		{ 0, "puts the vvar page" },
		{ PAGE, "at address 0x0, which the kernel reads as no vvar" },
		{ 0x10000001, "not page-aligned" },
		{ 0x10000800, "not page-aligned" },
	};
	for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
		ck_assert_msg(loader_vdso_base_usable(ops, bad[c].base, err) == -1, "%s 0x%llx accepted", ops->name,
			      (unsigned long long)bad[c].base);
		ck_assert_msg(strstr(err, bad[c].why) && !strchr(err, '\n'), "%s: %s", ops->name, err);
	}
	ck_assert(loader_vdso_base_usable(ops, ops->address_limit, err) == -1 && strstr(err, "address space"));
	ck_assert(loader_vdso_base_usable(ops, ops->stack_top - PAGE, err) == -1 && strstr(err, "process stack"));
	ck_assert(loader_vdso_base_usable(ops, ops->stack_top - LOADER_STACK_SIZE - PAGE, err) == -1);
	ck_assert_msg(loader_vdso_base_usable(ops, ops->vdso_base, err) == 0, "%s", err);
	ck_assert_msg(loader_vdso_base_usable(ops, ops->vdso_base_alt, err) == 0, "%s", err);
	ck_assert_msg(loader_vdso_base_usable(ops, 2 * PAGE, err) == 0, "%s", err);	/* vvar at 0x1000 */
	/* the second base is far from the default and above the text (4 MiB) */
	ck_assert(ops->vdso_base_alt != ops->vdso_base && ops->vdso_base_alt > 0x400000);
}
END_TEST

/* Over the image: the loader sees the extent and names what it hits;
 * it is the base's fault, not the vDSO file's. */
START_TEST(base_over_the_image_is_refused)
{
	const struct arch_ops *ops = arch_ops_find(arches[_i]);
	char image[512], vdso[512], err[LOADER_ERR_MAX];
	snprintf(image, sizeof image, "%s/guest/%s/sigstep-guest-master", build_dir(), ops->name);
	snprintf(vdso, sizeof vdso, "%s/guest/%s/vdso.so", build_dir(), ops->name);
	const char *argv[] = { "sigstep-guest-master", NULL };
	/* the image's extent, from a load at the default base */
	struct guest g0;
	const char *bad0;
	struct guest_config gc0 = { .ops = ops, .image_path = image, .vdso_path = vdso, .argc = 1, .argv = argv };
	ck_assert_msg(guest_load(&g0, &gc0, err, &bad0) == 0, "%s", err);
	uint64_t lo = g0.image.lo, hi = g0.image.hi;
	guest_free(&g0);
	/* its first page, a page inside, the vvar page alone on its last page */
	const uint64_t over[] = { lo, lo + PAGE, hi };
	for (size_t c = 0; c < sizeof over / sizeof over[0]; c++) {
		struct guest_config gc = { .ops = ops, .image_path = image, .vdso_path = vdso, .vdso_base = over[c],
					   .argc = 1, .argv = argv };
		struct guest g;
		const char *bad = "unset";
		ck_assert_msg(guest_load(&g, &gc, err, &bad) == -1, "%s 0x%llx accepted", ops->name,
			      (unsigned long long)over[c]);
		ck_assert_msg(bad == NULL && strstr(err, "overlap") && !strchr(err, '\n'), "%s: %s", ops->name, err);
	}
	/* and below the text, clear of it, is fine */
	struct guest_config gc = { .ops = ops, .image_path = image, .vdso_path = vdso, .vdso_base = 0x200000,
				   .argc = 1, .argv = argv };
	struct guest g;
	const char *bad;
	ck_assert_msg(guest_load(&g, &gc, err, &bad) == 0, "%s", err);
	ck_assert_uint_eq(g.vdso_base, 0x200000);
	guest_free(&g);
}
END_TEST

static void probe_at(const char *arch, const char *variant, int era, uint64_t base, struct probe_result *r)
{
	struct probe_config cfg = {
		.ops = arch_ops_find(arch), .build_dir = build_dir(), .variant = variant, .function = "walltime",
		.context = "curg", .era = era, .vdso = 1, .vdso_base = base,
	};
	char err[256] = "";
	ck_assert_msg(probe_run(&cfg, r, err, sizeof err) == 0, "%s %s 0x%llx: %s", arch, variant,
		      (unsigned long long)base, err);
}

/* What a row gives does not depend on where the vDSO is, above the text. */
START_TEST(second_base_gives_the_same_verdicts)
{
	const char *arch = arches[_i / 3], *variant = variants[_i % 3];
	const struct arch_ops *ops = arch_ops_find(arch);
	struct probe_result a, b;
	probe_at(arch, variant, -1, 0, &a);
	probe_at(arch, variant, -1, ops->vdso_base_alt, &b);
	ck_assert_uint_eq(a.vdso_base, ops->vdso_base);
	ck_assert_uint_eq(b.vdso_base, ops->vdso_base_alt);
	ck_assert_uint_eq(a.boundaries, b.boundaries);
	for (int v = 0; v < VERDICT_COUNT; v++)
		ck_assert_msg(a.verdicts[v] == b.verdicts[v], "%s %s %s: %llu at the default base, %llu at the second",
			      arch, variant, verdict_name((enum verdict)v), (unsigned long long)a.verdicts[v],
			      (unsigned long long)b.verdicts[v]);
	ck_assert(a.pass == b.pass && a.invariants_ok && b.invariants_ok);
	probe_result_free(&a);
	probe_result_free(&b);
}
END_TEST

/* Go 1.10 says _ExternalCode only for pc > etext
 * (reference/go-source/prefix-2018-02-sigprof.go:135): with the vDSO below
 * the text, each of its samples is the raw pc and _System instead. */
START_TEST(below_the_text_external_becomes_system)
{
	struct probe_result a, b;
	probe_at(arches[_i], "master", 0 /* go1.10 */, 0, &a);
	probe_at(arches[_i], "master", 0, 0x200000, &b);
	ck_assert_uint_gt(a.verdicts[VERDICT_EXTERNAL], 0);
	ck_assert_uint_eq(b.verdicts[VERDICT_EXTERNAL], 0);
	ck_assert_uint_eq(b.verdicts[VERDICT_SYSTEM], a.verdicts[VERDICT_SYSTEM] + a.verdicts[VERDICT_EXTERNAL]);
	ck_assert_uint_eq(b.verdicts[VERDICT_FULL], a.verdicts[VERDICT_FULL]);
	ck_assert(b.invariants_ok);
	probe_result_free(&a);
	probe_result_free(&b);
}
END_TEST

struct cmd_args {
	int (*cmd)(int, char **);
	char **argv;
};

static int run_cmd(void *a)
{
	struct cmd_args *c = a;
	int argc = 0;
	while (c->argv[argc])
		argc++;
	return c->cmd(argc, c->argv);
}

START_TEST(commands_refuse_bad_bases_in_one_line)
{
	char src[600];
	snprintf(src, sizeof src, "%s/arch/386/trampoline_master.S", SIGSTEP_SOURCE_DIR);
	char *bd = (char *)build_dir();
	struct {
		int (*cmd)(int, char **);
		char *argv[10];
		const char *why;
	} cases[] = {
		{ cmd_check, { "check", "--arch", "386", src, "--vdso-base", "0x1000", "--build-dir", bd }, "vvar" },
		{ cmd_check, { "check", "--arch", "386", src, "--vdso-base", "0x10000010", "--build-dir", bd },
		  "not page-aligned" },
		{ cmd_check, { "check", "--arch", "386", src, "--vdso-base", "0x400000", "--build-dir", bd }, "overlap" },
		{ cmd_check, { "check", "--arch", "386", src, "--vdso-base", "0x1000000", "--no-vdso", "--build-dir", bd },
		  "exclude" },
		{ cmd_check, { "check", "--arch", "386", src, "--vdso-base", "-4096", "--build-dir", bd }, "bad --vdso-base" },
		/* the matrix checks every arch before it runs anything */
		{ cmd_matrix, { "matrix", "--vdso-base", "0x1000", "--build-dir", bd }, "vvar" },
		{ cmd_matrix, { "matrix", "--vdso-base", "0x100000000", "--build-dir", bd }, "(on 386)" },
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		struct cmd_args a = { cases[c].cmd, cases[c].argv };
		char *err;
		int status = stderr_of(run_cmd, &a, &err);
		ck_assert_msg(status == 2 && lines(err) == 1 && strstr(err, cases[c].why) && !strncmp(err, "sigstep: ", 9),
			      "case %zu: status %d, stderr: %s", c, status, err);
		free(err);
	}
}
END_TEST

struct read_args {
	const char *path;
	int mutant;
	struct scn_rows rows;
};

static int read_file(void *a)
{
	struct read_args *r = a;
	return r->mutant ? scn_read_mutant(r->path, arch_ops_find("arm"), &r->rows)
			 : scn_read_file(r->path, build_dir(), &r->rows);
}

START_TEST(scenario_keys_refuse_bad_bases)
{
	static const struct {
		int mutant;
		const char *text;
		int line;
		const char *message;
	} cases[] = {
		{ 0, "[a]\nvariant master\nvdso_base zz\nexpect pass\n", 3, "bad vdso_base 'zz'" },
		{ 0, "[a]\nvariant master\nvdso_base 0x1000\nexpect pass\n", 1,
		  "vdso_base on 386: vDSO base 0x1000 puts the vvar page (one page below) at address 0x0" },
		{ 0, "[a]\narch arm\nvariant master\nvdso_base 0x200800\nexpect pass\n", 1,
		  "vdso_base on arm: vDSO base 0x200800 is not page-aligned" },
		{ 0, "[a]\nvariant master\nvdso absent\nvdso_base 0x200000\nexpect pass\n", 1,
		  "vdso_base with vdso absent" },
		{ 0, "[a]\nvariant master\nvdso_base 0x200000\nvdso_base 0x200000\nexpect pass\n", 4,
		  "'vdso_base' given twice" },
		{ 1, "// mutant: x\n// expect: pass\n// expect: vdso_base=0x1000 pass\n", 3,
		  "vdso_base on arm: vDSO base 0x1000 puts the vvar page" },
		{ 1, "// mutant: x\n// expect: vdso_base=0xbeffe000 pass\n", 2, "vdso_base on arm: vDSO base 0xbeffe000 overlaps the process stack" },
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		char tmpl[] = "/tmp/sigstep-test-placement-scn-XXXXXX";
		int fd = mkstemp(tmpl);
		ck_assert(fd >= 0 && write(fd, cases[c].text, strlen(cases[c].text)) == (ssize_t)strlen(cases[c].text));
		close(fd);
		struct read_args a = { .path = tmpl, .mutant = cases[c].mutant };
		char *err, want[600];
		int status = stderr_of(read_file, &a, &err);
		snprintf(want, sizeof want, "%s:%d: %s", tmpl, cases[c].line, cases[c].message);
		ck_assert_msg(status == 2 && lines(err) == 1 && !strncmp(err, want, strlen(want)),
			      "case %zu: status %d, want '%s...', got: %s", c, status, want, err);
		free(err);
		scn_rows_free(&a.rows);
		unlink(tmpl);
	}
	/* a good one reaches the row and the probe's configuration */
	char tmpl[] = "/tmp/sigstep-test-placement-scn-XXXXXX";
	int fd = mkstemp(tmpl);
	static const char good[] = "[a]\narch amd64\nvariant master\nfunction walltime\nvdso_base 0x200000\nexpect pass\n";
	ck_assert(fd >= 0 && write(fd, good, sizeof good - 1) == (ssize_t)(sizeof good - 1));
	close(fd);
	struct scn_rows rows = { 0 };
	ck_assert_int_eq(scn_read_file(tmpl, build_dir(), &rows), 0);
	ck_assert_uint_eq(rows.n, 1);
	struct probe_config cfg;
	scn_row_config(&rows.v[0], build_dir(), NULL, &cfg);
	ck_assert_uint_eq(cfg.vdso_base, 0x200000);
	scn_rows_free(&rows);
	unlink(tmpl);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("placement");
	TCase *t = tcase_create("placement");
	tcase_set_timeout(t, 60);
	tcase_add_loop_test(t, bases_the_layout_refuses, 0, 3);
	tcase_add_loop_test(t, base_over_the_image_is_refused, 0, 3);
	tcase_add_loop_test(t, second_base_gives_the_same_verdicts, 0, 9);
	tcase_add_loop_test(t, below_the_text_external_becomes_system, 0, 3);
	tcase_add_test(t, commands_refuse_bad_bases_in_one_line);
	tcase_add_test(t, scenario_keys_refuse_bad_bases);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
