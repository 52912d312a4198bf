/*
 * sigstep check and sigstep matrix, through their entry points.
 *
 * The contract: the project's own arch/<arch>/trampoline_<variant>.S,
 * put through `sigstep check` (assembled and linked from the build's
 * toolchain.txt into an image of its own), give exactly the verdicts of
 * the built variant -- so a user's file is held to what the project's
 * files are held to.  Bad files give the tool's message and exit 2;
 * malformed expectations give "FILE:LINE: message" and exit 2.
 *
 * Guest products are read from $SIGSTEP_BUILD_DIR; the sources from the
 * source tree this file was compiled from (SIGSTEP_SOURCE_DIR).
 */
#define _GNU_SOURCE
#include <check.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch_ops.h"
#include "cli.h"
#include "commands.h"
#include "loader.h"
#include "probe.h"
#include "spwrite.h"

static const char *build_dir(void)
{
	const char *d = getenv("SIGSTEP_BUILD_DIR");
	return d ? d : "build";
}

static const char *const arches[] = { "386", "amd64", "arm" };
static const char *const variants[] = { "prefix", "seed", "go119", "master" };
#define NVARIANTS 4
#define NCOMBOS (3 * NVARIANTS)

/* The whole of a file, NUL-terminated (caller frees). */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f, "cannot open %s", path);
	size_t cap = 4096, len = 0;
	char *b = malloc(cap);
	for (size_t got; (got = fread(b + len, 1, cap - len - 1, f)) > 0;) {
		len += got;
		if (cap - len < 2)
			b = realloc(b, cap *= 2);
	}
	fclose(f);
	b[len] = 0;
	return b;
}

static char *scratch_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char *d;
	ck_assert(asprintf(&d, "%s/sigstep-test-cli-XXXXXX", tmp && tmp[0] ? tmp : "/tmp") > 0);
	ck_assert(mkdtemp(d));
	return d;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert(f);
	fputs(text, f);
	ck_assert(fclose(f) == 0);
}

/* Runs a command function with its stderr (and stdout) captured in files
 * under dir; returns its status, *err = what it wrote to stderr. */
static int run_captured(int (*cmd)(int, char **), int argc, char **argv, const char *dir, char **err)
{
	char errpath[512], outpath[512];
	snprintf(errpath, sizeof errpath, "%s/stderr", dir);
	snprintf(outpath, sizeof outpath, "%s/stdout", dir);
	fflush(NULL);
	int save1 = dup(1), save2 = dup(2);
	int fe = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int fo = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert(save1 >= 0 && save2 >= 0 && fe >= 0 && fo >= 0);
	dup2(fe, 2);
	dup2(fo, 1);
	int status = cmd(argc, argv);
	fflush(NULL);
	dup2(save1, 1);
	dup2(save2, 2);
	close(save1);
	close(save2);
	close(fe);
	close(fo);
	*err = slurp(errpath);
	unlink(errpath);
	unlink(outpath);
	return status;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The text of a JSON value after "key": up to the end of the value (an
 * object up to its '}', a number up to ',' or '}'), caller frees. */
static char *json_value(const char *json, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\"", key);
	const char *p = strstr(json, pat);
	ck_assert_msg(p, "no \"%s\" in %s", key, json);
	p = strchr(p + strlen(pat), ':');
	ck_assert(p);
	p++;
	while (*p == ' ')
		p++;
	size_t n = *p == '{' ? strcspn(p, "}") + 1 : strcspn(p, ",}\n");
	return strndup(p, n);
}

/* --- the contract: the project's files through `sigstep check` ----------- */

START_TEST(check_gives_the_verdicts_of_the_built_variant)
{
	const char *arch = arches[_i / NVARIANTS], *variant = variants[_i % NVARIANTS];
	char *dir = scratch_dir();

	/* the built variant, probed directly (what `sigstep run --variant` does) */
	struct probe_config cfg = {
		.ops = arch_ops_find(arch),
		.build_dir = build_dir(),
		.variant = variant,
		.function = "walltime",
		.context = "curg",
		.era = -1,
		.vdso = 1,
	};
	ck_assert(cfg.ops);
	struct probe_result res;
	char perr[256];
	ck_assert_msg(probe_run(&cfg, &res, perr, sizeof perr) == 0, "%s", perr);
	char want_path[512];
	snprintf(want_path, sizeof want_path, "%s/want.json", dir);
	FILE *f = fopen(want_path, "w");
	const struct probe_result *one = &res;
	probe_print_json(f, &one, 1);
	fclose(f);
	char *want = slurp(want_path);

	/* the same source through check */
	char src[512], got_path[512];
	snprintf(src, sizeof src, "%s/arch/%s/trampoline_%s.S", SIGSTEP_SOURCE_DIR, arch, variant);
	snprintf(got_path, sizeof got_path, "%s/got.json", dir);
	char *argv[] = { "check", "--arch", (char *)arch, src, "--build-dir", (char *)build_dir(),
			 "--json", got_path, NULL };
	char *err;
	int status = run_captured(cmd_check, 8, argv, dir, &err);
	ck_assert_msg(status == (res.pass ? 0 : 1), "%s %s: check exit %d, run pass %d; stderr: %s",
		      arch, variant, status, res.pass, err);
	char *got = slurp(got_path);

	const char *keys[] = { "boundaries", "verdicts", "pass", "sigprof" };
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
		char *w = json_value(want, keys[k]), *g = json_value(got, keys[k]);
		ck_assert_msg(!strcmp(w, g), "%s %s: %s differ: run %s, check %s", arch, variant, keys[k], w, g);
		free(w);
		free(g);
	}
	ck_assert_msg(res.boundaries > 0, "%s %s: no boundaries probed", arch, variant);
	/* go119 (era go1.19) and master (modern) stop at their SPWRITE
	 * functions: the same counts through check show that a user's image
	 * gets its SPWRITE table from its code as the build's do. */
	if (!strcmp(variant, "go119") || !strcmp(variant, "master"))
		ck_assert_msg(res.verdicts[VERDICT_TRUNCATED] > 0, "%s %s: no SPWRITE stop", arch, variant);

	probe_result_free(&res);
	free(want);
	free(got);
	free(err);
	unlink(want_path);
	unlink(got_path);
	rmdir(dir);
	free(dir);
}
END_TEST

/* --- bad files ----------------------------------------------------------- */

/* An image whose SPWRITE table was never filled is refused (it would run
 * the go1.19 and modern eras without Go's SPWRITE stops); sigstep-spwrite's
 * fill makes it whole again, with the same flags. */
START_TEST(unfilled_spwrite_table_is_refused)
{
	const char *arch = arches[_i];
	char *dir = scratch_dir(), orig[512], copy[512];
	snprintf(orig, sizeof orig, "%s/guest/%s/sigstep-guest-go119", build_dir(), arch);
	snprintf(copy, sizeof copy, "%s/unfilled", dir);
	FILE *in = fopen(orig, "rb");
	ck_assert_msg(in, "no image %s", orig);
	size_t cap = 1 << 20, len = 0;
	unsigned char *b = malloc(cap);
	for (size_t got; (got = fread(b + len, 1, cap - len, in)) > 0;)
		if ((len += got) == cap)
			b = realloc(b, cap *= 2);
	fclose(in);
	/* the table's magic word, found through the image's symbol table */
	struct elf_image img;
	char lerr[LOADER_ERR_MAX];
	ck_assert_msg(elf_parse(b, len, arch_ops_find(arch), ET_EXEC, 0, &img, lerr) == 0, "%s", lerr);
	size_t at = len;
	for (size_t i = 0; i < img.syms.n; i++)
		if (!strcmp(img.syms.v[i].name, "sigstep_spwrite_table"))
			for (unsigned k = 0; k < img.nseg; k++)
				if (img.syms.v[i].addr >= img.seg[k].vaddr &&
				    img.syms.v[i].addr < img.seg[k].vaddr + img.seg[k].filesz)
					at = img.seg[k].offset + (img.syms.v[i].addr - img.seg[k].vaddr);
	elf_image_free(&img);
	ck_assert_msg(at + 4 <= len && !memcmp(b + at, "SPWT", 4), "%s: no filled table in %s", arch, orig);
	memset(b + at, 0, 4);
	FILE *out = fopen(copy, "wb");
	ck_assert(out && fwrite(b, 1, len, out) == len && fclose(out) == 0);

	char err[400];
	ck_assert_int_eq(spwrite_is_filled(copy, err, sizeof err), 0);
	struct probe_config cfg = {
		.ops = arch_ops_find(arch), .build_dir = build_dir(), .image_path = copy,
		.function = "nanotime", .context = "curg", .era = -1, .vdso = 1,
	};
	struct probe_result res;
	ck_assert_int_ne(probe_run(&cfg, &res, err, sizeof err), 0);
	ck_assert_msg(strstr(err, "SPWRITE table is not filled"), "%s: %s", arch, err);

	ck_assert_msg(spwrite_fill(copy, NULL, err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(spwrite_is_filled(copy, err, sizeof err), 1);
	in = fopen(copy, "rb");
	unsigned char *again = malloc(len);
	ck_assert(in && fread(again, 1, len, in) == len);
	fclose(in);
	ck_assert_msg(!memcmp(again, b + 0, at) && !memcmp(again + at, "SPWT", 4) &&
		      !memcmp(again + at + 4, b + at + 4, len - at - 4),
		      "%s: the refilled image differs from the built one", arch);
	free(again);
	free(b);
	unlink(copy);
	rmdir(dir);
	free(dir);
}
END_TEST

/* The project's seed with one CFI directive added where Go's pcsp would not
 * change (after the restore of SP, an untracked write on every arch): the
 * file breaks the rule of arch/README.md, "pcsp and SPWRITE", and check
 * refuses it with one line naming the instruction and the rule. */
START_TEST(check_cfi_against_gos_pcsp_rule_is_status_2)
{
	const char *arch = arches[_i];
	char *dir = scratch_dir(), orig[512], src[512];
	snprintf(orig, sizeof orig, "%s/arch/%s/trampoline_seed.S", SIGSTEP_SOURCE_DIR, arch);
	snprintf(src, sizeof src, "%s/tracked_restore.S", dir);
	char *text = slurp(orig);
	char *at = strstr(text, "Restore real SP");
	ck_assert_msg(at, "%s: no 'Restore real SP' in %s", arch, orig);
	char *eol = strchr(at, '\n');
	ck_assert(eol);
	FILE *f = fopen(src, "w");
	ck_assert(f);
	fwrite(text, 1, (size_t)(eol + 1 - text), f);
	fputs("\t.cfi_adjust_cfa_offset 8\n", f);
	fputs(eol + 1, f);
	ck_assert(fclose(f) == 0);
	char *argv[] = { "check", "--arch", (char *)arch, src, "--build-dir", (char *)build_dir(), NULL };
	char *err;
	int status = run_captured(cmd_check, 6, argv, dir, &err);
	ck_assert_msg(status == 2, "%s: exit %d, stderr: %s", arch, status, err);
	ck_assert_msg(count_lines(err) == 1 && strstr(err, src) && strstr(err, "Go's pcsp") && strstr(err, "obj"),
		      "%s: want one line naming the file and Go's rule, got: %s", arch, err);
	free(err);
	free(text);
	unlink(src);
	rmdir(dir);
	free(dir);
}
END_TEST

/* A file that assembles but defines no walltime: the callers' reference
 * to it cannot be resolved. */
START_TEST(check_without_walltime_is_a_link_error)
{
	const char *arch = arches[_i];
	char *dir = scratch_dir(), src[512];
	snprintf(src, sizeof src, "%s/no_walltime.S", dir);
	write_file(src,
		   "#include \"variant.h\"\n"
		   "SIGSTEP_VARIANT(no_walltime, ERA_MODERN)\n"
		   "\t.text\n\t.globl nanotime\nnanotime:\n\t.long 0\n"
		   "\t.section .note.GNU-stack,\"\",%progbits\n");
	char *argv[] = { "check", "--arch", (char *)arch, src, "--build-dir", (char *)build_dir(), NULL };
	char *err;
	int status = run_captured(cmd_check, 6, argv, dir, &err);
	ck_assert_msg(status == 2, "%s: exit %d, stderr: %s", arch, status, err);
	ck_assert_msg(strstr(err, "walltime"), "%s: the linker's message should name walltime: %s", arch, err);
	char last[600];
	snprintf(last, sizeof last, "sigstep: %s: link failed\n", src);
	size_t n = strlen(err), m = strlen(last);
	ck_assert_msg(n >= m && !strcmp(err + n - m, last), "%s: last line should be '%s', stderr: %s", arch,
		      last, err);
	free(err);
	unlink(src);
	rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(check_syntax_error_gives_the_assemblers_message)
{
	const char *arch = arches[_i];
	char *dir = scratch_dir(), src[512];
	snprintf(src, sizeof src, "%s/syntax.S", dir);
	write_file(src, "\t.text\n\t.globl walltime\nwalltime:\n\tthis is not an instruction\n");
	char *argv[] = { "check", "--arch", (char *)arch, src, "--build-dir", (char *)build_dir(), NULL };
	char *err;
	int status = run_captured(cmd_check, 6, argv, dir, &err);
	ck_assert_msg(status == 2, "%s: exit %d, stderr: %s", arch, status, err);
	/* GNU as: "FILE:4: Error: ..." for the bad line */
	char where[560];
	snprintf(where, sizeof where, "%s:4: Error:", src);
	ck_assert_msg(strstr(err, where), "%s: no assembler message '%s' in: %s", arch, where, err);
	char last[600];
	snprintf(last, sizeof last, "sigstep: %s: assembly failed\n", src);
	size_t n = strlen(err), m = strlen(last);
	ck_assert_msg(n >= m && !strcmp(err + n - m, last), "%s: last line should be '%s', stderr: %s", arch,
		      last, err);
	free(err);
	unlink(src);
	rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(check_bad_input_is_one_line_and_status_2)
{
	char *dir = scratch_dir(), src[512], missing[512];
	snprintf(src, sizeof src, "%s/arch/amd64/trampoline_master.S", SIGSTEP_SOURCE_DIR);
	snprintf(missing, sizeof missing, "%s/no-such-file.S", dir);
	char *bd = (char *)build_dir();
	char *cases[][9] = {
		{ "check", "--arch", "mips", src, "--build-dir", bd, NULL },
		{ "check", "--arch", "amd64", missing, "--build-dir", bd, NULL },
		{ "check", "--arch", "amd64", dir, "--build-dir", bd, NULL },
		{ "check", src, "--build-dir", bd, NULL },
		{ "check", "--arch", "amd64", "--build-dir", bd, NULL },
		{ "check", "--arch", "amd64", src, "--sigprof", "go1.12", "--build-dir", bd, NULL },
		{ "check", "--arch", "amd64", src, "--function", "cputime", "--build-dir", bd, NULL },
		{ "check", "--arch", "amd64", src, "--context", "goroutine", "--build-dir", bd, NULL },
		{ "check", "--arch", "amd64", src, "--bogus", "--build-dir", bd, NULL },
		{ "check", "--arch", "amd64", src, "--build-dir", dir, NULL },	/* no toolchain.txt */
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		int argc = 0;
		while (cases[c][argc])
			argc++;
		char *err;
		int status = run_captured(cmd_check, argc, cases[c], dir, &err);
		ck_assert_msg(status == 2 && count_lines(err) == 1 && !strncmp(err, "sigstep: ", 9),
			      "case %zu: exit %d, stderr: %s", c, status, err);
		free(err);
	}
	rmdir(dir);
	free(dir);
}
END_TEST

/* --- expectations --------------------------------------------------------- */

static const struct {
	const char *text;
	int line;
	const char *message;
} bad_expectations[] = {
	{ "* * * * pass\nfoo * * * pass\n", 2, "unknown arch 'foo'" },
	{ "# arch variant function era expect\n* * cputime * pass\n", 2, "unknown function 'cputime'" },
	{ "* * * go1.12 pass\n", 1, "unknown sigprof era 'go1.12'" },
	{ "* * * * maybe\n", 1, "expected 'pass' or 'fail', got 'maybe'" },
	{ "* * * *\n", 1, "expected 'ARCH VARIANT FUNCTION ERA" },
	{ "\n\n* seed * * fail wrong bogus\n", 3, "unknown verdict 'bogus'" },
	{ "* seed * * fail !wrong\n", 1, "'fail' needs at least one verdict that must appear" },
	{ "* seed * * fail wrong !wrong\n", 1, "verdict 'wrong' named twice" },
	{ "* * * * pass wrong\n", 1, "'pass' takes no verdicts" },
};

START_TEST(matrix_rejects_malformed_expectations)
{
	char *dir = scratch_dir(), path[512];
	snprintf(path, sizeof path, "%s/expectations.txt", dir);
	write_file(path, bad_expectations[_i].text);
	char *argv[] = { "matrix", "--expectations", path, "--build-dir", (char *)build_dir(), NULL };
	char *err;
	int status = run_captured(cmd_matrix, 5, argv, dir, &err);
	char want[700];
	snprintf(want, sizeof want, "%s:%d: %s", path, bad_expectations[_i].line, bad_expectations[_i].message);
	ck_assert_msg(status == 2, "exit %d, stderr: %s", status, err);
	ck_assert_msg(count_lines(err) == 1 && !strncmp(err, want, strlen(want)), "want '%s...', got: %s", want,
		      err);
	free(err);
	unlink(path);
	rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(matrix_bad_options_are_status_2)
{
	char *dir = scratch_dir();
	char *cases[][6] = {
		{ "matrix", "--jobs", "0", NULL },
		{ "matrix", "--jobs", "many", NULL },
		{ "matrix", "--frobnicate", NULL },
		{ "matrix", "--json", NULL },
		{ "matrix", "--expectations", "/nonexistent/expectations.txt", NULL },
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		int argc = 0;
		while (cases[c][argc])
			argc++;
		char *err;
		int status = run_captured(cmd_matrix, argc, cases[c], dir, &err);
		ck_assert_msg(status == 2 && count_lines(err) == 1, "case %zu: exit %d, stderr: %s", c, status, err);
		free(err);
	}
	rmdir(dir);
	free(dir);
}
END_TEST

/* The one number parser: a digit first, nothing after the number. */
START_TEST(numbers_are_parsed_strictly)
{
	static const char *const bad[] = { " -1", "-1", " 5", "+5", "5 ", "", " ", "0x", "1e3", "5\n", "\t7",
					   "18446744073709551616" };
	uint64_t v = 42;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_msg(cli_parse_u64(bad[i], 0, &v) == -1, "'%s' taken as %llu", bad[i], (unsigned long long)v);
		ck_assert_msg(cli_parse_u64(bad[i], 10, &v) == -1, "'%s' taken as %llu", bad[i], (unsigned long long)v);
	}
	ck_assert_int_eq(cli_parse_u64(NULL, 10, &v), -1);
	ck_assert_int_eq(cli_parse_u64("18446744073709551615", 10, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(cli_parse_u64("0x10", 0, &v), 0);
	ck_assert_uint_eq(v, 16);
	ck_assert_int_eq(cli_parse_u64("0x10", 10, &v), -1);
	ck_assert_int_eq(cli_parse_u64("7", 10, &v), 0);
	ck_assert_uint_eq(v, 7);
}
END_TEST

/* Messages quote input with its control bytes escaped. */
START_TEST(messages_escape_control_bytes)
{
	char *dir = scratch_dir(), path[512];
	snprintf(path, sizeof path, "%s/line", dir);
	FILE *f = fopen(path, "w");
	ck_assert(f);
	cli_put_line(f, "a\033[2Jb\\c\td\x7f");
	ck_assert(fclose(f) == 0);
	char *got = slurp(path);
	ck_assert_str_eq(got, "a\\x1b[2Jb\\\\c\\x09d\\x7f\n");
	free(got);
	unlink(path);
	rmdir(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli");
	TCase *t;

	t = tcase_create("check");
	tcase_set_timeout(t, 600);
	tcase_add_loop_test(t, check_gives_the_verdicts_of_the_built_variant, 0, NCOMBOS);
	tcase_add_loop_test(t, check_without_walltime_is_a_link_error, 0, 3);
	tcase_add_loop_test(t, check_cfi_against_gos_pcsp_rule_is_status_2, 0, 3);
	tcase_add_loop_test(t, unfilled_spwrite_table_is_refused, 0, 3);
	tcase_add_loop_test(t, check_syntax_error_gives_the_assemblers_message, 0, 3);
	tcase_add_test(t, check_bad_input_is_one_line_and_status_2);
	suite_add_tcase(s, t);

	t = tcase_create("expectations");
	tcase_add_loop_test(t, matrix_rejects_malformed_expectations, 0,
			    sizeof bad_expectations / sizeof bad_expectations[0]);
	tcase_add_test(t, matrix_bad_options_are_status_2);
	tcase_add_test(t, numbers_are_parsed_strictly);
	tcase_add_test(t, messages_escape_control_bytes);
	suite_add_tcase(s, t);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
