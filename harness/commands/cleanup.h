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

#include <sys/types.h>

/* Installs the handlers (once; later calls do nothing). */
void cleanup_on_signals(void);

/* A file or an empty directory to remove if interrupted (copied). */
void cleanup_add_path(const char *path);
/* Forgets it (the command removed it, or handed it on). */
void cleanup_forget_path(const char *path);

/* A child to stop if interrupted: the process, or with `group` its whole
 * process group (pid is the group's leader: a tool and its own children). */
void cleanup_add_child(pid_t pid, int group);
void cleanup_forget_child(pid_t pid);

/* In a child just forked: no entries of the parent's, and death with it. */
void cleanup_after_fork(void);

#endif
