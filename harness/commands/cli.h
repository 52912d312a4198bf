/*
 * What the subcommands of sigstep share on their command lines: the one
 * line on stderr before exit status 2, option values, numbers, arch and
 * era names, the build directory and the variants built in it.
 */
#ifndef SIGSTEP_CLI_H
#define SIGSTEP_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct arch_ops;

/* `line` and a newline, every control byte and backslash of it escaped
 * (\\x1b, \\\\): bytes from the input never reach a terminal raw. */
void cli_put_line(FILE *out, const char *line);

/* "sigstep: " and fmt (two %s: a, b) on one line of stderr, escaped as
 * cli_put_line does; returns 2. */
int cli_fail(const char *fmt, const char *a, const char *b);
/* The same with the subcommand's name after "sigstep: " ("sigstep: native: ..."). */
int cli_fail_in(const char *cmd, const char *fmt, const char *a, const char *b);

/* An option of a command line and where it goes: a value option's word
 * after it into *value (both NULL: the command reads it itself), a flag's
 * 1 into *flag. */
struct cli_option {
	const char *name;
	const char **value;
	int *flag;
};
#define CLI_VALUE(name, value) { name, value, NULL }
#define CLI_FLAG(name, flag) { name, NULL, flag }
#define CLI_END { NULL, NULL, NULL }

/*
 * Option `a` of subcommand cmd, v the word after it (NULL at the end),
 * stored as its entry in opts (ended by a NULL name) says.  The number of
 * words it takes, 1 for a flag and 2 for a value option; 0 after
 * "sigstep: CMD: unknown option 'A'" or "sigstep: CMD: option 'A' needs a
 * value".
 */
int cli_option(const char *cmd, const struct cli_option *opts, const char *a, const char *v);

/* Is `a` --help or -h?  Then usage went to stdout. */
int cli_help(const char *a, const char *usage);

/* The one parser of every number sigstep reads (options, scenario files,
 * mutant headers): a whole number in `base` (0: C's prefixes) that starts
 * with a digit -- no blank, no sign -- and has nothing after it: 0 with *v
 * set; -1 if s is anything else or out of range. */
int cli_parse_u64(const char *s, int base, uint64_t *v);

/* fopen(path, "r") for a file sigstep reads; a directory is refused
 * (NULL, errno EISDIR) rather than read as an empty file. */
FILE *cli_open_input(const char *path);

/*
 * The value of --vdso-base for CMD: a number (C's prefixes) that puts the
 * vDSO where the arch's layout lets it go (loader_vdso_base_usable), for
 * `ops`, or for every arch when ops is NULL (the matrix).  0 with *base;
 * 2 after one line saying why not.
 */
int cli_vdso_base(const char *cmd, const char *v, const struct arch_ops *ops, uint64_t *base);

/* The function and context of `sigstep run` and `sigstep check`: 0; or 2
 * after "sigstep: CMD: unknown function ..." or "... unknown context ...". */
int cli_function_context(const char *cmd, const char *function, const char *context);

/* The arch named, or NULL after "sigstep: [CMD: ]unknown arch 'NAME'
 * (known: ...)" (cmd NULL: no subcommand's name). */
const struct arch_ops *cli_arch(const char *cmd, const char *name);

/* The arches v[0..n) in report order: by name. */
void cli_sort_arches(const struct arch_ops **v, size_t n);

/* The sigprof eras by name, in order: "go1.10", "go1.11", "go1.19",
 * "modern"; the index is the era's number (ERA_GO110, ERA_GO111,
 * ERA_GO119, ERA_MODERN of fixtures/variant.h). */
extern const char *const cli_era_names[];
#define CLI_NERAS 4
/* The era's number, or -1 if the name is unknown. */
int cli_era_from_name(const char *name);

/* The directory holding the running executable: the top build directory. */
void cli_default_build_dir(char *buf, size_t n);

/* The variants built for one arch (DIR/guest/<arch>/variants.txt, a CMake
 * list), sorted, at most max (and 64) of them.  Number found, or -1 when
 * there is no such file. */
int cli_built_variants(const char *build_dir, const char *arch, char names[][64], int max);

#endif

/* --- report files ---------------------------------------------------------- */

struct report_row;

/* The report formats a judging command writes, each to its own file. */
enum cli_output { CLI_OUT_JSON, CLI_OUT_JUNIT, CLI_OUT_SARIF, CLI_OUT_PPROF, CLI_OUT_HTML, CLI_OUT_COUNT };

struct cli_outputs {
	const char *path[CLI_OUT_COUNT];	/* NULL: not asked for; "-": stdout */
	FILE *f[CLI_OUT_COUNT];
	unsigned char created[CLI_OUT_COUNT];	/* made by cli_outputs_open: removed by _drop */
};

/* The options naming them, for a command's option table. */
#define CLI_OUTPUTS(o)                                                                              \
	CLI_VALUE("--json", &(o)->path[CLI_OUT_JSON]), CLI_VALUE("--junit", &(o)->path[CLI_OUT_JUNIT]),  \
		CLI_VALUE("--sarif", &(o)->path[CLI_OUT_SARIF]),                                    \
		CLI_VALUE("--pprof", &(o)->path[CLI_OUT_PPROF]), CLI_VALUE("--html", &(o)->path[CLI_OUT_HTML])
/* Their line of a usage text. */
#define CLI_OUTPUTS_USAGE "[--json FILE|-] [--junit FILE] [--sarif FILE] [--pprof FILE] [--html FILE]"
/* ... for a command of many rows: a profile is of one run */
#define CLI_ROWS_OUTPUTS_USAGE "[--json FILE|-] [--junit FILE] [--sarif FILE] [--html FILE]"

/*
 * Opens every file asked for, before anything runs, so that a path that
 * cannot be written is one line and exit 2 before the run rather than
 * after it.  `allowed` is a bit mask of (1 << enum cli_output): a format
 * the command does not write is refused.  At most one may be "-".  0, or
 * 2 after one line (nothing left open or created).  An existing file is
 * opened, not truncated: it is truncated only when its report is written
 * (cli_outputs_write, cli_outputs_begin), so a run that fails with no
 * record leaves it as it was.
 */
int cli_outputs_open(const char *cmd, struct cli_outputs *o, unsigned allowed);

/* Where the text report goes: stderr when a report file is stdout. */
FILE *cli_outputs_text(const struct cli_outputs *o);

/* Writes every report asked for from rows[0..n) and closes the files.
 * `command` names the command for the formats that say who made them.
 * 0, or 2 after one line for the first that could not be written. */
int cli_outputs_write(const char *cmd, struct cli_outputs *o, const struct report_row *rows, size_t n);

/* Closes the files and removes the ones cli_outputs_open created: a run
 * that produced no record leaves no new file behind and an existing one
 * as it was. */
void cli_outputs_drop(struct cli_outputs *o);

/* For a command that writes format k itself (native's and go's --json):
 * the open file, truncated now that there is a record to write; NULL if k
 * was not asked for, or after one line when it cannot be truncated (the
 * file closed).  cli_outputs_end then closes it: 0, or 2 after one line. */
FILE *cli_outputs_begin(const char *cmd, struct cli_outputs *o, enum cli_output k);
int cli_outputs_end(const char *cmd, struct cli_outputs *o, enum cli_output k);
