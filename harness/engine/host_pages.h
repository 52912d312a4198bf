/*
 * Which pages of the harness's own anonymous memory the host kernel has
 * ever given a frame (resident or swapped), from /proc/self/pagemap.  A
 * page of a private anonymous mapping that has neither has never been
 * touched and reads as zeros: a copy of it, or a comparison with one,
 * needs no read of it (which would fault it in).
 */
#ifndef SIGSTEP_HOST_PAGES_H
#define SIGSTEP_HOST_PAGES_H

#include <stddef.h>
#include <stdint.h>

#define HOST_PAGE 4096u

/* out[i] = 1 if the i-th page of [p, p + len) (p page-aligned) is
 * populated, 0 if it is untouched.  Where the kernel does not say (no
 * pagemap, another page size), every page is marked populated: the
 * caller then reads them all, as without this.  Returns 0, or -1 then. */
int host_pages_populated(const void *p, size_t len, uint8_t *out);

#endif
