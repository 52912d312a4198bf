/*
 * libFuzzer target: scenario files and mutant headers (harness/scenarios/
 * scenario.c: scn_read_file, scn_read_mutant), the expectation words
 * included, over arbitrary text.  The parsers read files, so the input is
 * written to one first (in /tmp, one per process); the first byte picks
 * which parser.  Their error lines go to stderr, as the sanitizers'
 * reports do (libFuzzer's -close_fd_mask=2 hides both).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch_ops.h"
#include "scenario.h"

static char path_scn[64], path_mut[64];

static void remove_files(void)
{
	unlink(path_scn);
	unlink(path_mut);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(path_scn, sizeof path_scn, "/tmp/sigstep-fuzz-%d.scn", (int)getpid());
	snprintf(path_mut, sizeof path_mut, "/tmp/sigstep-fuzz-%d.S", (int)getpid());
	atexit(remove_files);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int mutant = data[0] & 1;
	const char *path = mutant ? path_mut : path_scn;
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data + 1, 1, size - 1, f);
	fclose(f);
	struct scn_rows rows = { 0 };
	int narch = 0;
	while (arch_ops_all[narch])
		narch++;
	if (mutant)
		scn_read_mutant(path, arch_ops_all[(data[0] >> 1) % narch], &rows);
	else
		scn_read_file(path, "/nonexistent-build", &rows);
	scn_rows_free(&rows);
	return 0;
}
