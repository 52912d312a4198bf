/*
 * Probe runs in forked processes, each result back in its run's slot
 * whatever the order they finish in (sigstep matrix).
 *
 * The runs that share a boot (probe_boot_shares: one image, vDSO and
 * knobs; at most a dozen) make a group.  `jobs` worker processes are
 * forked once, and each takes the next group from a queue the launcher
 * feeds (longest groups first, as `order` gives them): it builds the file
 * the group names if any, boots once (probe_boot), runs the group's runs
 * one after another on that boot (probe_boot_keep, rewound before each
 * run), then frees the boot, its engines and line tables and the built
 * file, and takes the next group.  So the guest's load and set-up and the
 * engines are paid once per group, and a process's start once per job.
 *
 * No state of one group reaches the next: a worker ends each group as it
 * found the process (report_lines_forget).  A worker that dies leaves the
 * runs of its group it had not finished, and only those, with state 3
 * ("its worker ended before it: ..."); another worker takes its place for
 * the groups left.
 */
#ifndef SIGSTEP_RUN_WORKERS_H
#define SIGSTEP_RUN_WORKERS_H

#include <stddef.h>

#include "probe.h"

struct worker_run {
	/* In.  cfg.image_path, when build_file is set: ignored (the built
	 * image's).  build_file: a trampoline file to build first as
	 * `sigstep check` builds one, or NULL.  count_violations_only: the
	 * caller reads no violation but their number, so none is sent:
	 * res.nviolations is their count and res.violations NULL. */
	struct probe_config cfg;
	const char *build_file;
	int count_violations_only;
	/* Out: 1 ran (res), 2 the probe refused it (err), 3 its process
	 * died or the harness failed (err: how). */
	int state;
	char err[256];
	struct probe_result res;
};

/*
 * Runs every run, in the order `order` gives (the longest first keeps a
 * job from finishing a long one alone at the end); the runs of one group
 * in that order too.  0, or -1 if a process could not start.
 */
int workers_run(struct worker_run *runs, size_t n, const size_t *order, const char *build_dir, int jobs);

#endif
