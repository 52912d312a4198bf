/*
 * sigstep-spwrite [--explain] IMAGE
 *
 * Fills the SPWRITE table of a linked guest image in place (spwrite.h):
 * the build runs it on every sigstep-guest-<variant> right after the
 * link (arch/CMakeLists.txt), `sigstep check` does the same in-process on
 * a user's image.  --explain prints, for each flagged function, its
 * first untracked SP write.  Exit 0, or 2 with one line on stderr.
 */
#include <stdio.h>
#include <string.h>

#include "spwrite.h"

int main(int argc, char **argv)
{
	int explain = argc == 3 && !strcmp(argv[1], "--explain");
	if (argc != 2 + explain || argv[1 + explain][0] == '-') {
		fprintf(stderr, "usage: sigstep-spwrite [--explain] IMAGE\n");
		return 2;
	}
	char err[300];
	if (spwrite_fill(argv[1 + explain], explain ? stdout : NULL, err, sizeof err)) {
		fprintf(stderr, "sigstep-spwrite: %s\n", err);
		return 2;
	}
	return 0;
}
