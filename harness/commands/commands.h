/*
 * The subcommands of sigstep beyond exec/run, one file each
 * (cmd_check.c, cmd_matrix.c).  argv[0] is the subcommand's name; each
 * returns the process exit status: 0 every expectation met, 1 a violation
 * or an unmet expectation, 2 unusable input (one line on stderr says why).
 */
#ifndef SIGSTEP_COMMANDS_H
#define SIGSTEP_COMMANDS_H

#include <stddef.h>

/* sigstep check --arch A FILE.S [--function F] [--context C]
 *                [--sigprof ERA] [--no-vdso] [--build-dir DIR] [--json FILE|-] */
int cmd_check(int argc, char **argv);

/* sigstep matrix [--json FILE|-] [--build-dir DIR] [--jobs N]
 *                [--expectations FILE] */
int cmd_matrix(int argc, char **argv);

/* sigstep native --arch A (--variant V | FILE.S) --inject step|break|itimer
 *                [--emulator auto|qemu|host] [--vdso kernel|synthetic]
 *                [--function F] [--context C] [--budget-ms N] [--json FILE|-]
 * sigstep native --compare --arch A (--variant V | FILE.S) [...]
 * sigstep native --host-check --arch A [--vdso kernel]
 * (cmd_native.c): the guest image as a real process, natively or under
 * its qemu-user, with the guest's own injection and oracle. */
int cmd_native(int argc, char **argv);

/* sigstep native --go PROGRAM [--function F] [--root R] [--call N] [...]
 * (cmd_native_go.c): a real Go program on the native Go engine. */
int cmd_native_go(int argc, char **argv);
/* sigstep native --compare --go PROGRAM (cmd_native_go_compare.c): the
 * native Go engine against the Unicorn one, boundary by boundary.
 * `cfg` is a struct go_engine_config, `emulator` an enum go_emulator. */
struct go_engine_config;
int native_go_compare(const struct go_engine_config *cfg, int emulator);

/* sigstep run --scenario FILE [--build-dir DIR] [--json FILE|-]
 * (cmd_scenario.c): every row of one scenario file, or of one mutant. */
int cmd_scenario_run(int argc, char **argv);

/* sigstep go --exec PROGRAM [...] (cmd_go.c): a real Go program in the
 * Unicorn machine on the emulated Linux. */
int cmd_go(int argc, char **argv);

/* sigstep annotate --arch A (--variant V | FILE.S) [--function F]
 *                  [--context C...] [--sigprof ERA...] [--stacks]
 * (cmd_annotate.c): the chain's code with a verdict column per
 * configuration, as perf annotate shows code. */
int cmd_annotate(int argc, char **argv);

/* sigstep run --schedule FILE [--build-dir DIR] [--boundaries] [--json FILE|-]
 * (cmd_schedule.c): one schedule replayed. */
int cmd_schedule_run(int argc, char **argv);

/* sigstep fuzz --arch A (--variant V | FILE.S) ... (cmd_fuzz.c): schedules
 * mutated under coverage of their features, the first violating one
 * minimized. */
int cmd_fuzz(int argc, char **argv);

/* A schedule run (cmd_schedule.c); image: the built trampoline file, or
 * NULL.  probe_run's 0 / 2. */
struct schedule;
struct probe_result;
int schedule_replay(const struct schedule *s, const char *build_dir, const char *image, FILE *boundary_log,
		    struct probe_result *res, char *err, size_t errlen);
/* "schedule NAME: N events, M fired" and its events, one line each. */
void schedule_print_events(FILE *out, const struct schedule *s, const struct probe_result *res);

/* Shared by the commands (defined in cmd_check.c). */

/*
 * check's build of a trampoline file FILE.S for ops (sigstep check, the
 * mutants, sigstep native FILE.S): assembled and linked into an image in a
 * fresh temporary directory (dir, image set).  0; or 2 after one line for
 * a missing or unreadable file, or the tools' messages and one line naming
 * the step.  Remove both
 * with check_cleanup.
 */
struct arch_ops;
int check_build_file(const char *build_dir, const struct arch_ops *ops, const char *file, char *dir, size_t dirlen,
		     char *image, size_t imagelen);
void check_cleanup(const char *dir, const char *image);

#endif
