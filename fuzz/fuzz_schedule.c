/*
 * libFuzzer target: the schedule parser (harness/scenarios/schedule.c),
 * over arbitrary text.  A schedule it accepts must write back to one it
 * reads as the same schedule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct schedule s, t;
	char msg[512];
	if (schedule_parse((const char *)data, size, "input", &s, msg, sizeof msg))
		return 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return 0;
	schedule_write(f, &s);
	fclose(f);
	if (schedule_parse(buf, len, "input", &t, msg, sizeof msg) || t.events.n != s.events.n ||
	    memcmp(&t.events, &s.events, sizeof s.events) || t.row.ops != s.row.ops ||
	    strcmp(t.row.variant, s.row.variant) || strcmp(t.row.knobs, s.row.knobs)) {
		fprintf(stderr, "a written schedule does not read back the same: %s\n%s", msg, buf);
		abort();
	}
	free(buf);
	return 0;
}
