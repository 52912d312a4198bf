/*
 * /proc/self/pagemap: one 64-bit entry per virtual page; bit 63 the page
 * is present, bit 62 it is swapped (both readable without privilege;
 * only the frame numbers are hidden).  Read in one pread per call.
 */
#include "host_pages.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)

static int all_populated(uint8_t *out, size_t n)
{
	memset(out, 1, n);
	return -1;
}

int host_pages_populated(const void *p, size_t len, uint8_t *out)
{
	size_t n = (len + HOST_PAGE - 1) / HOST_PAGE;
	if (!n)
		return 0;
	if (sysconf(_SC_PAGESIZE) != HOST_PAGE || (uintptr_t)p % HOST_PAGE)
		return all_populated(out, n);
	uint64_t *e = malloc(n * sizeof *e);
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ssize_t want = (ssize_t)(n * sizeof *e), got = -1;
	if (e && fd >= 0)
		got = pread(fd, e, (size_t)want, (off_t)((uintptr_t)p / HOST_PAGE * sizeof *e));
	if (fd >= 0)
		close(fd);
	if (got != want) {
		free(e);
		return all_populated(out, n);
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (e[i] & (PM_PRESENT | PM_SWAPPED)) != 0;
	free(e);
	return 0;
}
