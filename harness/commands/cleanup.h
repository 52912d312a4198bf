/*
 * What an interrupted command would leave behind, undone.  Temporary
 * files and directories (sigstep check's build directory, the matrix's
 * prebuilt mutants) and child processes are registered while they exist;
 * on SIGINT, SIGTERM or SIGHUP the children are stopped (SIGTERM, then
 * SIGKILL after two seconds) and reaped, the paths removed, newest first,
 * and the signal then takes its default action, so the exit status still
 * says which signal it was.
 *
 * A forked child of sigstep calls cleanup_after_fork: the parent's
 * entries are the parent's to undo; it also dies with its parent.
 */
#ifndef SIGSTEP_CLEANUP_H
#define SIGSTEP_CLEANUP_H

#include <signal.h>
#include <sys/types.h>

/* Installs the handlers (once; later calls do nothing). */
void cleanup_on_signals(void);

/* A file or an empty directory to remove if interrupted (copied). */
void cleanup_add_path(const char *path);
/* A directory given to tools as their TMPDIR: on an interrupt, once the
 * tools are stopped, the files they left in it are removed, then it. */
void cleanup_add_scratch_dir(const char *path);
/* Removes every file in the directory (async-signal-safe). */
void cleanup_empty_dir(const char *path);
/* Forgets it (the command removed it, or handed it on). */
void cleanup_forget_path(const char *path);

/* A child to stop if interrupted: the process, or with `group` its whole
 * process group (pid is the group's leader: a tool and its own children). */
void cleanup_add_child(pid_t pid, int group);
void cleanup_forget_child(pid_t pid);

/* In a child just forked: no entries of the parent's, and death with it. */
void cleanup_after_fork(void);

/*
 * A child forked and registered with no interrupt in between
 * (cleanup_hold), with a pipe from it: in the child 0 (*fd the write end;
 * cleanup_after_fork done), in the parent its pid (*fd the read end), -1
 * if it could not start.
 */
pid_t cleanup_fork_piped(int *fd);

/*
 * Holds SIGINT/SIGTERM/SIGHUP while a thing is made and registered
 * (mkdtemp then cleanup_add_path, fork then cleanup_add_child), so that no
 * interrupt falls between the two; one that came meanwhile is handled at
 * cleanup_release.  A child forked while held releases it itself (after
 * cleanup_after_fork, or after cleanup_exec_defaults before an exec).
 */
void cleanup_hold(sigset_t *old);
void cleanup_release(const sigset_t *old);
/* In a child about to exec: the parent's handlers go (exec would drop them
 * anyway; until then a signal must not run the parent's cleanup). */
void cleanup_exec_defaults(void);

#endif
