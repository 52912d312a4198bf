/*
 * Probe runs in forked processes, `jobs` at a time, each result back in
 * its run's slot whatever the order they finish in (sigstep matrix).
 *
 * The runs that share a boot (probe_boot_shares: one image, vDSO and
 * knobs) go to one worker, which builds the file they name if any, boots
 * once (probe_boot) and forks a child per run from the booted machine: the
 * child goes on with its run's config (probe_boot_run) and sends the
 * result up.  So the guest's load and set-up, and the engines the worker
 * opens, are paid once per image rather than once per run.
 */
#ifndef SIGSTEP_RUN_WORKERS_H
#define SIGSTEP_RUN_WORKERS_H

#include <stddef.h>

#include "probe.h"

struct worker_run {
	/* In.  cfg.image_path, when build_file is set: ignored (the built
	 * image's).  build_file: a trampoline file to build first as
	 * `sigstep check` builds one, or NULL. */
	struct probe_config cfg;
	const char *build_file;
	/* Out: 1 ran (res), 2 the probe refused it (err), 3 its process
	 * died or the harness failed (err: how). */
	int state;
	char err[256];
	struct probe_result res;
};

/*
 * Runs every run, in the order `order` gives (the longest first keeps a
 * job from finishing a long one alone at the end); the runs of one worker
 * in that order too.  0, or -1 if a process could not start.
 */
int workers_run(struct worker_run *runs, size_t n, const size_t *order, const char *build_dir, int jobs);

/* Every byte to fd, through EINTR and short writes: 0, or -1. */
int write_all(int fd, const void *p, size_t n);

#endif
