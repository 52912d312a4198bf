/*
 * What a trampoline variant costs a caller, natively: ns per call of
 * walltime and nanotime through the guest image of each variant, on the
 * host CPU with the kernel's own vDSO, on the vDSO path and on the fallback
 * path (clock_gettime hidden from the lookup) -- the table the seed commit
 * reports as ClockVDSOAndFallbackPaths (+1.85 % vDSO, +3.84 % fallback,
 * prefix -> seed).
 *
 *   bench-clock-cost BUILD_DIR ARCH [RUNS]      (RUNS default 10)
 *
 * One measurement is a pair of runs of the same image, --iterations BIG and
 * --iterations SMALL, timed from fork to exit: their difference divided by
 * BIG - SMALL is the cost of one call, start-up and checks cancelled.  BIG
 * is calibrated per configuration so that the difference is ~60 ms.  Each
 * configuration is measured RUNS times; the table gives the median, the
 * order statistics x(2)..x(RUNS-1) -- a distribution-free interval that
 * holds the true median with probability 1 - 2 P(Bin(RUNS, 1/2) <= 1),
 * 97.9 % for 10 runs -- and the change of the median against `prefix`.
 * The variants' pairs run interleaved, so the machine's load drifts over
 * all of them alike.
 *
 * An arch this host does not run (the image does not start) is reported
 * as such and skipped.  Figures only; the exit status says nothing about
 * them (0, or 2 on bad arguments).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <math.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#define MAX_VARIANTS 16
#define MAX_RUNS 64
#define SMALL 1000ull
#define TARGET_NS 60e6

struct config {
	const char *function;	/* walltime | nanotime */
	const char *path;	/* vdso | fallback */
};

static const struct config configs[] = {
	{ "walltime", "vdso" }, { "nanotime", "vdso" },
	{ "walltime", "fallback" }, { "nanotime", "fallback" },
};

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Runs the image once; the wall time in ns, or -1 if it did not exit 0. */
static double run_image(const char *image, const struct config *c, unsigned long long iterations)
{
	char iters[32];
	const char *argv[12];
	int n = 0;

	snprintf(iters, sizeof iters, "%llu", iterations);
	argv[n++] = image;
	/* The fallback path: the synthetic vDSO's lookup misses clock_gettime
	 * (the guest hides symbols of that one only), so no vDSO is called. */
	argv[n++] = "--vdso";
	argv[n++] = strcmp(c->path, "fallback") ? "kernel" : "synthetic";
	argv[n++] = "--context";
	argv[n++] = "curg";
	argv[n++] = "--function";
	argv[n++] = c->function;
	argv[n++] = "--iterations";
	argv[n++] = iters;
	if (!strcmp(c->path, "fallback")) {
		argv[n++] = "--hide-symbol";
		argv[n++] = "__vdso_clock_gettime";
	}
	argv[n] = NULL;

	double t0 = now_ns();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execv(image, (char *const *)argv);
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	double t1 = now_ns();
	/* The amd64 Go 1.10/1.11 fallback nanotime is the wall clock: its
	 * monotonic check fails (exit 1), the timing is still the call's. */
	if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
		return -1;
	return t1 - t0;
}

static double pair_ns_per_call(const char *image, const struct config *c, unsigned long long big)
{
	double tb = run_image(image, c, big), ts = run_image(image, c, SMALL);
	if (tb < 0 || ts < 0)
		return NAN;	/* a difference may be negative on a noisy machine */
	return (tb - ts) / (double)(big - SMALL);
}

static unsigned long long calibrate(const char *image, const struct config *c)
{
	unsigned long long big = 100000;
	for (;;) {
		double per = pair_ns_per_call(image, c, big);
		if (isnan(per))
			return 0;
		double want = per > 0.5 ? TARGET_NS / per : 1e8;
		if (want < 2.0 * big || big >= 50000000ull) {
			big = want > 1e8 ? 100000000ull : (unsigned long long)want;
			return big < 10 * SMALL ? 10 * SMALL : big;
		}
		big *= 8;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int read_variants(const char *build, const char *arch, char names[][32])
{
	char path[4096], line[1024];
	snprintf(path, sizeof path, "%s/guest/%s/variants.txt", build, arch);
	FILE *f = fopen(path, "r");
	if (!f || !fgets(line, sizeof line, f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	int n = 0;
	for (char *tok = strtok(line, ";\n"); tok && n < MAX_VARIANTS; tok = strtok(NULL, ";\n"))
		snprintf(names[n++], 32, "%s", tok);
	return n;
}

int main(int argc, char **argv)
{
	char variants[MAX_VARIANTS][32], image[MAX_VARIANTS][4096];
	int runs = argc > 3 ? atoi(argv[3]) : 10;

	if (argc < 3 || runs < 3 || runs > MAX_RUNS) {
		fprintf(stderr, "bench-clock-cost: usage: bench-clock-cost BUILD_DIR ARCH [RUNS 3..%d]\n", MAX_RUNS);
		return 2;
	}
	int nv = read_variants(argv[1], argv[2], variants);
	if (nv <= 0) {
		fprintf(stderr, "bench-clock-cost: %s/guest/%s/variants.txt: no variants\n", argv[1], argv[2]);
		return 2;
	}
	for (int v = 0; v < nv; v++)
		snprintf(image[v], sizeof image[v], "%s/guest/%s/sigstep-guest-%s", argv[1], argv[2], variants[v]);
	if (run_image(image[0], &configs[0], 1) < 0) {
		printf("%-6s skipped: this host does not run the image natively with the kernel's vDSO\n", argv[2]);
		return 0;
	}

	double coverage = 1 - 2.0 * (1 + runs) / (double)(1ull << runs);
	char ci[32];
	snprintf(ci, sizeof ci, "%.1f%% CI of median", 100 * coverage);
	printf("%-6s %-8s %-8s %-8s %9s %21s %9s %5s\n", "arch", "variant", "function", "path",
	       "ns/op", ci, "vs prefix", "runs");
	for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
		unsigned long long big[MAX_VARIANTS];
		double per[MAX_VARIANTS][MAX_RUNS];
		for (int v = 0; v < nv; v++)
			big[v] = calibrate(image[v], &configs[c]);
		for (int r = 0; r < runs; r++)
			for (int v = 0; v < nv; v++)
				per[v][r] = big[v] ? pair_ns_per_call(image[v], &configs[c], big[v]) : NAN;
		double med[MAX_VARIANTS], base = -1;
		int ok[MAX_VARIANTS];
		for (int v = 0; v < nv; v++) {
			ok[v] = big[v] != 0;
			for (int r = 0; r < runs; r++)
				ok[v] = ok[v] && !isnan(per[v][r]);
			med[v] = ok[v] ? median(per[v], runs) : -1;
			if (ok[v] && !strcmp(variants[v], "prefix"))
				base = med[v];
		}
		for (int v = 0; v < nv; v++) {
			char delta[16] = "";
			if (!ok[v]) {
				printf("%-6s %-8s %-8s %-8s %9s\n", argv[2], variants[v], configs[c].function,
				       configs[c].path, "failed");
				continue;
			}
			if (base > 0)
				snprintf(delta, sizeof delta, "%+.2f%%", 100 * (med[v] - base) / base);
			/* x(2) and x(n-1), 1-based: per[v] is sorted by median(). */
			printf("%-6s %-8s %-8s %-8s %9.2f %10.2f .. %7.2f %9s %5d\n", argv[2], variants[v],
			       configs[c].function, configs[c].path, med[v], per[v][1], per[v][runs - 2],
			       delta, runs);
		}
	}
	return 0;
}
