/*
 * The guest's data memory as it was at one moment, to compare with later
 * or to put back: a copy of every page of the chosen regions that the
 * host ever gave a frame (host_pages.h).  An untouched page is zeros, in
 * the guest and in the copy, so neither is read; a page touched only
 * after the snapshot goes back to zeros.  The regions themselves (where,
 * which permissions, which host memory) are part of it: a snapshot can
 * only go back onto the same map.
 */
#ifndef SIGSTEP_MEMORY_SNAPSHOT_H
#define SIGSTEP_MEMORY_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "machine.h"

enum snapshot_scope {
	SNAPSHOT_WRITABLE,	/* what guest code may write: writable, not executable */
	SNAPSHOT_DATA,		/* every mapping that is not code (the harness writes the vvar page) */
};

struct memory_snapshot {
	struct region *map;	/* the regions then */
	size_t n;
	uint8_t **copy;		/* by region: its bytes then (NULL: not in the scope) */
	uint8_t **had;		/* by region, by page: populated then */
	uint8_t *has;		/* scratch: populated now, for the largest region */
};

/* 0, or -1 (out of memory: nothing to free). */
int memory_snapshot_take(const struct machine *mc, enum snapshot_scope scope, struct memory_snapshot *s);
/* Is the machine's map the one of the snapshot? */
int memory_snapshot_same_map(const struct machine *mc, const struct memory_snapshot *s);
/* The first guest address whose byte differs from the
 * snapshot's, outside `skip` (nskip ranges [lo, hi), sorted, disjoint):
 * 1 with *at, or 0.  The map must be the snapshot's. */
int memory_snapshot_differs(const struct machine *mc, const struct memory_snapshot *s, const uint64_t (*skip)[2],
			    int nskip, uint64_t *at);
/* Every page of the snapshot's scope as it was.  The map must be the snapshot's. */
void memory_snapshot_restore(struct machine *mc, const struct memory_snapshot *s);
void memory_snapshot_free(struct memory_snapshot *s);

#endif
