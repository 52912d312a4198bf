/* The guest's data memory at one moment (memory_snapshot.h). */
#include <stdlib.h>
#include <string.h>

#include "host_pages.h"
#include "memory_snapshot.h"

static int in_scope(const struct region *r, enum snapshot_scope scope)
{
	if (!r->host || (r->perms & UC_PROT_EXEC) || !r->perms)
		return 0;	/* code, or nothing anyone may touch (a Go heap's PROT_NONE reservations) */
	return scope == SNAPSHOT_DATA || (r->perms & UC_PROT_WRITE);
}

static size_t pages_of(const struct region *r)
{
	return (size_t)((r->end - r->begin + HOST_PAGE - 1) / HOST_PAGE);
}

/* Bytes of page pg of region r (the last may be short). */
static size_t page_len(const struct region *r, size_t pg)
{
	size_t len = (size_t)(r->end - r->begin);
	return len - pg * HOST_PAGE < HOST_PAGE ? len - pg * HOST_PAGE : HOST_PAGE;
}

int memory_snapshot_take(const struct machine *mc, enum snapshot_scope scope, struct memory_snapshot *s)
{
	size_t n = mc->nregions, most = 1;
	memset(s, 0, sizeof *s);
	s->n = n;
	s->map = malloc((n ? n : 1) * sizeof *s->map);
	s->copy = calloc(n ? n : 1, sizeof *s->copy);
	s->had = calloc(n ? n : 1, sizeof *s->had);
	if (!s->map || !s->copy || !s->had)
		goto fail;
	memcpy(s->map, mc->regions, n * sizeof *s->map);
	for (size_t i = 0; i < n; i++) {
		const struct region *r = &s->map[i];
		if (!in_scope(r, scope))
			continue;
		size_t pages = pages_of(r);
		most = pages > most ? pages : most;
		/* calloc: the pages never copied stay untouched zeros here too */
		if (!(s->copy[i] = calloc(1, (size_t)(r->end - r->begin))) || !(s->had[i] = malloc(pages)))
			goto fail;
		host_pages_populated(r->host, (size_t)(r->end - r->begin), s->had[i]);
		for (size_t pg = 0; pg < pages; pg++)
			if (s->had[i][pg])
				memcpy(s->copy[i] + pg * HOST_PAGE, r->host + pg * HOST_PAGE, page_len(r, pg));
	}
	if (!(s->has = malloc(most)))
		goto fail;
	return 0;
fail:
	memory_snapshot_free(s);
	return -1;
}

int memory_snapshot_same_map(const struct machine *mc, const struct memory_snapshot *s)
{
	if (mc->nregions != s->n)
		return 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct region *a = &mc->regions[i], *b = &s->map[i];
		if (a->begin != b->begin || a->end != b->end || a->perms != b->perms || a->host != b->host)
			return 0;
	}
	return 1;
}

/* The first byte in [a, b) of region i that differs: 1 with *at. */
static int range_differs(const struct memory_snapshot *s, size_t i, uint64_t a, uint64_t b, uint64_t *at)
{
	const struct region *r = &s->map[i];
	for (uint64_t x = a, y; x < b; x = y) {
		size_t pg = (size_t)((x - r->begin) / HOST_PAGE);
		y = r->begin + (uint64_t)(pg + 1) * HOST_PAGE;
		y = y < b ? y : b;
		if (!s->had[i][pg] && !s->has[pg])
			continue;	/* untouched then and now: zeros both */
		const uint8_t *now = r->host + (x - r->begin), *then = s->copy[i] + (x - r->begin);
		if (!memcmp(now, then, (size_t)(y - x)))
			continue;
		for (uint64_t j = 0; j < y - x; j++)
			if (now[j] != then[j]) {
				*at = x + j;
				return 1;
			}
	}
	return 0;
}

int memory_snapshot_differs(const struct machine *mc, const struct memory_snapshot *s, const uint64_t (*skip)[2],
			    int nskip, uint64_t *at)
{
	(void)mc;
	for (size_t i = 0; i < s->n; i++) {
		const struct region *r = &s->map[i];
		if (!s->copy[i])
			continue;
		host_pages_populated(r->host, (size_t)(r->end - r->begin), s->has);
		uint64_t from = r->begin;
		for (int k = 0; k <= nskip; k++) {
			uint64_t to = k < nskip ? skip[k][0] : r->end;
			to = to > r->end ? r->end : to;
			if (from < to && range_differs(s, i, from, to, at))
				return 1;
			if (k < nskip && skip[k][1] > from)
				from = skip[k][1];
		}
	}
	return 0;
}

void memory_snapshot_restore(struct machine *mc, const struct memory_snapshot *s)
{
	(void)mc;
	for (size_t i = 0; i < s->n; i++) {
		const struct region *r = &s->map[i];
		if (!s->copy[i])
			continue;
		host_pages_populated(r->host, (size_t)(r->end - r->begin), s->has);
		for (size_t pg = 0; pg < pages_of(r); pg++)
			if (s->had[i][pg] || s->has[pg])
				memcpy(r->host + pg * HOST_PAGE, s->copy[i] + pg * HOST_PAGE, page_len(r, pg));
	}
}

void memory_snapshot_free(struct memory_snapshot *s)
{
	for (size_t i = 0; s->copy && s->had && i < s->n; i++) {
		free(s->copy[i]);
		free(s->had[i]);
	}
	free(s->copy);
	free(s->had);
	free(s->has);
	free(s->map);
	memset(s, 0, sizeof *s);
}
