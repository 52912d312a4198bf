/*
 * sigstep matrix [--json FILE|-] [--build-dir DIR] [--jobs N]
 *                [--expectations FILE] [--vdso-base ADDR] [--no-scenarios]
 *
 * Every built arch x variant x function (nanotime, walltime) x sigprof era
 * (go1.10, go1.11, go1.19, modern), on curg with the synthetic vDSO, each probed at
 * every instruction boundary and held to the one line of
 * scenarios/expectations.txt (scenarios/README.md) that first matches it;
 * then the same table with the vDSO at each arch's second base
 * (arch_ops.vdso_base_alt), held to the same lines: what a row gives must
 * not depend on where the vDSO is, as long as it lies above the text.
 * --vdso-base ADDR puts the vDSO of every row (but a scenario's own
 * vdso_base) at ADDR instead, in one pass.
 *
 * Rows run in parallel (run_workers.h), in --jobs worker processes
 * (default: the online CPUs): the rows of one image, vDSO and knobs make a
 * group, which a worker runs on one boot of the guest before it takes the
 * next group; the parent collects the results and prints in row order, so
 * the report does not depend on which worker finished first.
 * Exit 0 iff every row met its expectation; 1 otherwise; 2 on unusable
 * input (bad option, malformed expectations, a row the probe refused) or
 * when the harness itself failed (a child that crashed is no verdict).
 * Interrupted, it stops its children and removes the mutants it built
 * (cleanup.h); the children die with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arch_ops.h"
#include "cleanup.h"
#include "cli.h"
#include "commands.h"
#include "machine.h"
#include "probe.h"
#include "report.h"
#include "fd_io.h"
#include "run_workers.h"
#include "scenario.h"

static const char usage[] =
	"usage: sigstep matrix [--build-dir DIR] [--jobs N] [--expectations FILE] [--vdso-base ADDR]\n"
	"                      [--no-scenarios] " CLI_ROWS_OUTPUTS_USAGE "\n";

static const char *const functions[] = { "nanotime", "walltime" };	/* sorted */
#define NFUNCTIONS 2

/* --- scenarios/expectations.txt ------------------------------------------ */

#define ANY NULL	/* a "*" field */

struct expectation {
	int line;
	char *arch, *variant, *function;	/* ANY or a name */
	int era;				/* -1: any */
	int pass;				/* 1: "pass"; 0: "fail" + the lists */
	int want[VERDICT_COUNT];		/* +1: count > 0; -1: count == 0; 0: no word */
	char text[160];				/* "fail wrong !external", for the table */
	int used;
};

struct expectations {
	struct expectation *e;
	size_t n;
};

static void expectations_free(struct expectations *x)
{
	for (size_t i = 0; i < x->n; i++) {
		free(x->e[i].arch);
		free(x->e[i].variant);
		free(x->e[i].function);
	}
	free(x->e);
}

static char *field(const char *s)
{
	return strcmp(s, "*") ? strdup(s) : ANY;
}

/* 0; or 2 after "PATH:LINE: message". */
static int expectations_read(const char *path, struct expectations *x)
{
	FILE *f = cli_open_input(path);
	if (!f)
		return cli_fail("%s: %s", path, strerror(errno));
	memset(x, 0, sizeof *x);
	char line[1024], msg[300];
	int lineno = 0;
	msg[0] = 0;
	char *tok[4 + 1 + VERDICT_COUNT + 1];
	int ntok, maxtok = (int)(sizeof tok / sizeof tok[0]);
	while ((ntok = scn_next_words(f, line, sizeof line, &lineno, tok, maxtok, msg, sizeof msg)) >= 0) {
		if (ntok == 0)
			continue;
		if (ntok < 5) {
			snprintf(msg, sizeof msg, "expected 'ARCH VARIANT FUNCTION ERA pass|fail VERDICT... !VERDICT...'");
			break;
		}
		if (strcmp(tok[0], "*") && !arch_ops_find(tok[0])) {
			snprintf(msg, sizeof msg, "unknown arch '%s'", tok[0]);
			break;
		}
		if (strcmp(tok[2], "*") && strcmp(tok[2], "walltime") && strcmp(tok[2], "nanotime")) {
			snprintf(msg, sizeof msg, "unknown function '%s' (walltime, nanotime or *)", tok[2]);
			break;
		}
		int era = -1;
		if (strcmp(tok[3], "*") && (era = cli_era_from_name(tok[3])) < 0) {
			snprintf(msg, sizeof msg, "unknown sigprof era '%s' (go1.10, go1.11, go1.19, modern or *)", tok[3]);
			break;
		}
		struct expectation e = { .line = lineno, .era = era };
		if (!strcmp(tok[4], "pass")) {
			e.pass = 1;
			if (ntok > 5) {
				snprintf(msg, sizeof msg, "'pass' takes no verdicts (got '%s')", tok[5]);
				break;
			}
		} else if (!strcmp(tok[4], "fail")) {
			int positive = 0;
			for (int i = 5; i < ntok; i++) {
				const char *name = tok[i] + (tok[i][0] == '!');
				enum verdict v = verdict_from_name(name);
				if (v == VERDICT_COUNT) {
					snprintf(msg, sizeof msg, "unknown verdict '%s'", name);
					goto out;
				}
				if (e.want[v]) {
					snprintf(msg, sizeof msg, "verdict '%s' named twice", name);
					goto out;
				}
				e.want[v] = tok[i][0] == '!' ? -1 : 1;
				positive += e.want[v] > 0;
			}
			if (!positive) {
				snprintf(msg, sizeof msg, "'fail' needs at least one verdict that must appear");
				break;
			}
		} else {
			snprintf(msg, sizeof msg, "expected 'pass' or 'fail', got '%s'", tok[4]);
			break;
		}
		size_t len = 0;
		e.text[0] = 0;
		for (int i = 4; i < ntok; i++)
			len += (size_t)snprintf(e.text + len, len < sizeof e.text ? sizeof e.text - len : 0,
						"%s%s", i > 4 ? " " : "", tok[i]);
		e.arch = field(tok[0]);
		e.variant = field(tok[1]);
		e.function = field(tok[2]);
		struct expectation *ne = realloc(x->e, (x->n + 1) * sizeof *ne);
		if (!ne) {
			snprintf(msg, sizeof msg, "out of memory");
			break;
		}
		x->e = ne;
		x->e[x->n++] = e;
	}
out:
	fclose(f);
	if (msg[0]) {
		char where[PATH_MAX + 400];
		expectations_free(x);
		snprintf(where, sizeof where, "%s:%d: %s", path, lineno, msg);
		cli_put_line(stderr, where);
		return 2;
	}
	return 0;
}

/* --- rows ------------------------------------------------------------------ */

struct row {
	const struct arch_ops *ops;
	char variant[64];
	const char *function;
	int era;
	struct expectation *expect;	/* NULL: unexpected */
	const struct scn_row *scn;	/* a scenario or mutant row (expect unused) */
	uint64_t vdso_base;		/* where the vDSO goes; 0: the arch's default (or the scenario's) */
	int second;			/* the table's second pass: the vDSO at the arch's second base */
	int state;			/* 0 not run, 1 ran, 2 probe refused, 3 child died */
	char err[256];
	struct probe_result res;
	int met;
	char why[300];			/* why not met */
	const char *image;		/* a mutant built once for all its rows (prebuild) */
};

static int matches(const struct expectation *e, const struct row *r)
{
	return (e->arch == ANY || !strcmp(e->arch, r->ops->name)) &&
	       (e->variant == ANY || !strcmp(e->variant, r->variant)) &&
	       (e->function == ANY || !strcmp(e->function, r->function)) &&
	       (e->era < 0 || e->era == r->era);
}

/* Is the expectation met?  Sets r->met and r->why. */
static void judge(struct row *r)
{
	const struct expectation *e = r->expect;
	const struct probe_result *p = &r->res;

	r->met = 0;
	if (r->scn && r->state == 1) {
		r->met = scn_expect_met(&r->scn->expect, p, r->why, sizeof r->why);
		return;
	}
	if (!e && !r->scn) {
		snprintf(r->why, sizeof r->why, "no line of the expectations matches this row");
		return;
	}
	if (r->state == 2) {
		snprintf(r->why, sizeof r->why, "%s", r->err);
		return;
	}
	if (r->state != 1) {
		snprintf(r->why, sizeof r->why, "the probe did not finish (%s)", r->err);
		return;
	}
	if (e->pass) {
		if (p->pass)
			r->met = 1;
		else if (!p->invariants_ok)
			snprintf(r->why, sizeof r->why, "invariants: %s", p->invariants);
		else
			snprintf(r->why, sizeof r->why, "violations at %llu of %llu boundaries",
				 (unsigned long long)p->nviolations, (unsigned long long)p->boundaries);
		return;
	}
	/* A failure must be the named one: the guest's own checks still hold. */
	if (!p->invariants_ok) {
		snprintf(r->why, sizeof r->why, "invariants: %s", p->invariants);
		return;
	}
	if (p->pass) {
		snprintf(r->why, sizeof r->why, "passed, expected to fail");
		return;
	}
	for (int v = 0; v < VERDICT_COUNT; v++) {
		if (e->want[v] > 0 && p->verdicts[v] == 0) {
			snprintf(r->why, sizeof r->why, "no '%s' verdict", verdict_name((enum verdict)v));
			return;
		}
		if (e->want[v] < 0 && p->verdicts[v] != 0) {
			snprintf(r->why, sizeof r->why, "%llu '%s' verdicts, expected none",
				 (unsigned long long)p->verdicts[v], verdict_name((enum verdict)v));
			return;
		}
	}
	r->met = 1;
}

/*
 * Every mutant has several rows (functions, eras, knobs); building it once
 * for all of them, up to 2 * `jobs` builds at a time, saves most of the
 * building.  (A build keeps half a core busy: its compiler driver, the
 * assembler and the linker wait on one another -- `perf stat` of one
 * compile: 15 ms of CPU in 32 ms.)  A build that fails leaves its rows to build (and report) it
 * themselves.  Returns the built images to remove afterwards.
 */
struct prebuilt {
	char dir[PATH_MAX], image[PATH_MAX + 96];
};

static struct prebuilt *prebuild_mutants(struct row *rows, size_t nrows, const char *build_dir, int jobs,
					 size_t *nbuilt)
{
	struct prebuilt *pb = calloc(nrows ? nrows : 1, sizeof *pb);
	size_t *first = calloc(nrows ? nrows : 1, sizeof *first);	/* row index of each distinct mutant */
	size_t n = 0;
	*nbuilt = 0;
	if (!pb || !first) {
		free(pb);
		free(first);
		return NULL;
	}
	for (size_t i = 0; i < nrows; i++) {
		const struct scn_row *sr = rows[i].scn;
		if (!sr || !sr->mutant[0])
			continue;
		size_t k;
		for (k = 0; k < n; k++)
			if (!strcmp(rows[first[k]].scn->mutant, sr->mutant) && rows[first[k]].scn->ops == sr->ops)
				break;
		if (k == n)
			first[n++] = i;
	}
	/* Each build runs in a child that reports its directory and image
	 * through a pipe: check_build_file picks a fresh private directory.
	 * The child keeps them registered for cleanup, and stays alive, until
	 * the parent has registered them in turn and closed `ack`: at no
	 * moment is a built directory nobody's to remove on an interrupt. */
	size_t next = 0, done = 0;
	int active = 0;
	struct { pid_t pid; int fd, ack; size_t k; } run[64];
	struct pollfd pfd[64];
	if (jobs > 64)
		jobs = 64;
	while (done < n) {
		while (active < jobs && next < n) {
			int fd, ack[2];
			if (pipe(ack))
				goto out;
			fflush(NULL);
			pid_t pid = cleanup_fork_piped(&fd);
			if (pid < 0) {
				close(ack[0]);
				close(ack[1]);
				goto out;
			}
			if (pid == 0) {
				close(ack[1]);
				/* the other builds' ends: each ack must reach EOF
				 * when the parent alone closes it */
				for (int o = 0; o < active; o++) {
					close(run[o].fd);
					close(run[o].ack);
				}
				struct prebuilt b;
				const struct scn_row *sr = rows[first[next]].scn;
				int devnull = open("/dev/null", O_WRONLY);
				if (devnull >= 0) {	/* a failing build speaks again in its rows */
					dup2(devnull, 2);
					close(devnull);
				}
				if (check_build_file(build_dir, sr->ops, sr->mutant, b.dir, sizeof b.dir, b.image,
						     sizeof b.image))
					_exit(1);
				if (fd_write_all(fd, &b, sizeof b))
					_exit(1);
				char c;
				while (read(ack[0], &c, 1) < 0 && errno == EINTR)
					;
				_exit(0);
			}
			close(ack[0]);
			run[active].pid = pid;
			run[active].fd = fd;
			run[active].ack = ack[1];
			run[active].k = next++;
			active++;
		}
		/* the first of the running builds to report (or fail) */
		for (int a = 0; a < active; a++)
			pfd[a] = (struct pollfd){ .fd = run[a].fd, .events = POLLIN };
		if (poll(pfd, (nfds_t)active, -1) < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		int a = 0;
		while (a < active && !pfd[a].revents)
			a++;
		if (a == active)
			continue;
		struct prebuilt b;
		size_t got = 0;
		ssize_t r;
		while (got < sizeof b && (r = read(run[a].fd, (char *)&b + got, sizeof b - got)) != 0) {
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				break;
			got += (size_t)r;
		}
		close(run[a].fd);
		if (got == sizeof b) {
			sigset_t held;
			cleanup_hold(&held);
			pb[*nbuilt] = b;
			cleanup_add_path(b.dir);
			cleanup_add_path(b.image);
			cleanup_release(&held);
		}
		close(run[a].ack);	/* the child may go: the paths are the parent's now */
		while (waitpid(run[a].pid, NULL, 0) < 0 && errno == EINTR)
			;
		cleanup_forget_child(run[a].pid);
		if (got == sizeof b) {	/* written only after a build that worked */
			const struct scn_row *sr = rows[first[run[a].k]].scn;
			for (size_t i = 0; i < nrows; i++)
				if (rows[i].scn && rows[i].scn->ops == sr->ops &&
				    !strcmp(rows[i].scn->mutant, sr->mutant))
					rows[i].image = pb[*nbuilt].image;
			(*nbuilt)++;
		}
		run[a] = run[--active];
		done++;
	}
out:
	while (active > 0) {	/* only after a failure above */
		close(run[--active].fd);
		close(run[active].ack);
		waitpid(run[active].pid, NULL, 0);
	}
	free(first);
	return pb;
}

/* --- running the rows ------------------------------------------------------- */

/* What a row runs: its probe configuration. */
static void row_config(const struct row *r, const char *build_dir, struct probe_config *cfg, const char **build_file)
{
	*build_file = NULL;
	if (r->scn) {
		/* A mutant is built once for all its rows (prebuild_mutants),
		 * or else by the worker that runs them, as `sigstep check`
		 * builds it. */
		scn_row_config(r->scn, build_dir, r->scn->mutant[0] ? r->image : NULL, cfg);
		if (r->scn->mutant[0] && !r->image)
			*build_file = r->scn->mutant;
		if (!cfg->vdso_base && cfg->vdso)	/* the scenario's own base wins over --vdso-base */
			cfg->vdso_base = r->vdso_base;
		return;
	}
	*cfg = (struct probe_config){
		.ops = r->ops,
		.build_dir = build_dir,
		.variant = r->variant,
		.function = r->function,
		.context = "curg",
		.era = r->era,
		.vdso = 1,
		.vdso_base = r->vdso_base,
	};
}

/*
 * Every row, `jobs` at a time (run_workers.h: the rows of one image, vDSO
 * and knobs share a boot).  Longest rows first, so that no job is left
 * finishing a long row alone at the end: nested injection (a trial per
 * boundary), then the mutants, then the rest, in table order.  The report
 * keeps the table's order whatever the order of the runs.  Unless a
 * report of the violations is asked for (violations_read), a row gets
 * only their count, but for a scenario whose expectation names where they
 * must lie ('at' ranges).  0, or -1 if a process could not start.
 */
static int run_rows(struct row *rows, size_t nrows, const char *build_dir, int jobs, int violations_read)
{
	struct worker_run *runs = calloc(nrows ? nrows : 1, sizeof *runs);
	size_t *order = malloc((nrows ? nrows : 1) * sizeof *order), k = 0;
	if (!runs || !order) {
		free(runs);
		free(order);
		return -1;
	}
	for (int pass = 0; pass < 3; pass++)
		for (size_t i = 0; i < nrows; i++) {
			int nested = rows[i].scn && rows[i].scn->inject == PROBE_NESTED;
			int mutant = rows[i].scn && rows[i].scn->mutant[0] && !nested;
			if ((pass == 0 && nested) || (pass == 1 && mutant) || (pass == 2 && !nested && !mutant))
				order[k++] = i;
		}
	for (size_t i = 0; i < nrows; i++) {
		row_config(&rows[i], build_dir, &runs[i].cfg, &runs[i].build_file);
		runs[i].count_violations_only = !violations_read && !(rows[i].scn && rows[i].scn->expect.nat);
	}
	int rc = workers_run(runs, nrows, order, build_dir, jobs);
	for (size_t i = 0; i < nrows; i++) {
		rows[i].state = runs[i].state;
		snprintf(rows[i].err, sizeof rows[i].err, "%s", runs[i].err);
		rows[i].res = runs[i].res;
	}
	free(runs);
	free(order);
	return rc;
}

/* --- the command ----------------------------------------------------------- */

/* The source tree of a CMake build directory (CMAKE_HOME_DIRECTORY). */
static int source_dir_of(const char *build_dir, char *out, size_t n)
{
	char path[PATH_MAX + 32], line[PATH_MAX + 64];
	static const char key[] = "CMAKE_HOME_DIRECTORY:INTERNAL=";
	snprintf(path, sizeof path, "%s/CMakeCache.txt", build_dir);
	FILE *f = fopen(path, "r");
	if (!f) {
		/* An installed sigstep: the scenarios beside the guest images. */
		snprintf(path, sizeof path, "%s/scenarios/expectations.txt", build_dir);
		if (access(path, R_OK) || strlen(build_dir) >= n)
			return -1;
		snprintf(out, n, "%s", build_dir);
		return 0;
	}
	int found = -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, key, sizeof key - 1)) {
			const char *v = line + sizeof key - 1;
			size_t len = strcspn(v, "\r\n");
			if (len < n) {
				memcpy(out, v, len);
				out[len] = 0;
				found = 0;
			}
			break;
		}
	fclose(f);
	return found;
}

/* The scenario and mutant rows: where each comes from, its settings,
 * the verdict counts (probed samples; nested runs probe many per boundary). */
/* The vdso column: yes, absent, or the base a scenario gave. */
static const char *vdso_column(const struct scn_row *s, char *buf, size_t n)
{
	if (!s->vdso)
		return "absent";
	if (!s->vdso_base)
		return "yes";
	snprintf(buf, n, "0x%llx", (unsigned long long)s->vdso_base);
	return buf;
}

static void print_scenario_table(FILE *out, const struct row *rows, size_t nrows)
{
	int ws = 6, wn = 8, wk = 5, we = 8, wv = 7, wd = 6, any = 0;
	char based[24];
	for (size_t i = 0; i < nrows; i++) {
		const struct scn_row *s = rows[i].scn;
		if (!s)
			continue;
		any = 1;
		const char *src = strrchr(s->source, '/') ? strrchr(s->source, '/') + 1 : s->source;
		ws = (int)strlen(src) > ws ? (int)strlen(src) : ws;
		wn = (int)strlen(s->name) > wn ? (int)strlen(s->name) : wn;
		wk = (int)strlen(s->knobs) > wk ? (int)strlen(s->knobs) : wk;
		we = (int)strlen(s->expect.text) > we ? (int)strlen(s->expect.text) : we;
		wv = (int)strlen(s->variant) > wv ? (int)strlen(s->variant) : wv;
		int ld = (int)strlen(vdso_column(s, based, sizeof based));
		wd = ld > wd ? ld : wd;
	}
	if (!any)
		return;
	fprintf(out, "\n%-*s %-*s %-5s %-*s %-8s %-7s %-7s %-*s %-*s %-16s %6s %7s", ws, "source", wn, "scenario",
		"arch", wv, "variant", "function", "context", "sigprof", wd, "vdso", wk, "knobs", "inject", "bounds",
		"probed");
	for (int v = 0; v < VERDICT_COUNT; v++)
		fprintf(out, " %6s", verdict_name((enum verdict)v));
	fprintf(out, "  %-*s %s\n", we, "expected", "met");
	for (size_t i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		const struct scn_row *s = r->scn;
		if (!s)
			continue;
		const char *src = strrchr(s->source, '/') ? strrchr(s->source, '/') + 1 : s->source;
		char inject[40];
		if (s->inject == PROBE_SAMPLE)
			snprintf(inject, sizeof inject, "sample:%llu/%llu", (unsigned long long)s->sample_n,
				 (unsigned long long)s->sample_seed);
		else
			snprintf(inject, sizeof inject, "%s", s->inject == PROBE_NESTED ? "nested" : "every");
		fprintf(out, "%-*s %-*s %-5s %-*s %-8s %-7s %-7s %-*s %-*s %-16s", ws, src, wn, s->name, s->ops->name, wv,
			s->variant, s->function, s->context, s->era < 0 ? "own" : cli_era_names[s->era], wd,
			vdso_column(s, based, sizeof based), wk, s->knobs, inject);
		if (r->state == 1) {
			fprintf(out, " %6llu %7llu", (unsigned long long)r->res.boundaries,
				(unsigned long long)r->res.probed);
			for (int v = 0; v < VERDICT_COUNT; v++)
				fprintf(out, " %6llu", (unsigned long long)r->res.verdicts[v]);
		} else {
			fprintf(out, " %6s %7s", "-", "-");
			for (int v = 0; v < VERDICT_COUNT; v++)
				fprintf(out, " %6s", "-");
		}
		fprintf(out, "  %-*s %s\n", we, s->expect.text, r->met ? "yes" : "NO");
	}
}

static void print_table(FILE *out, const struct row *rows, size_t nrows, int second)
{
	static const char none[] = "(none: unexpected)";
	int w = (int)sizeof none - 1;
	for (size_t i = 0; i < nrows; i++)
		if (rows[i].expect && (int)strlen(rows[i].expect->text) > w)
			w = (int)strlen(rows[i].expect->text);
	fprintf(out, "%-5s %-8s %-8s %-7s %10s", "arch", "variant", "function", "sigprof", "boundaries");
	for (int v = 0; v < VERDICT_COUNT; v++)
		fprintf(out, " %8s", verdict_name((enum verdict)v));
	fprintf(out, "  %-*s %s\n", w, "expected", "met");
	for (size_t i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		if (r->scn || r->second != second)
			continue;
		fprintf(out, "%-5s %-8s %-8s %-7s", r->ops->name, r->variant, r->function, cli_era_names[r->era]);
		if (r->state == 1) {
			fprintf(out, " %10llu", (unsigned long long)r->res.boundaries);
			for (int v = 0; v < VERDICT_COUNT; v++)
				fprintf(out, " %8llu", (unsigned long long)r->res.verdicts[v]);
		} else {
			fprintf(out, " %10s", "-");
			for (int v = 0; v < VERDICT_COUNT; v++)
				fprintf(out, " %8s", "-");
		}
		fprintf(out, "  %-*s %s\n", w, r->expect ? r->expect->text : none,
			r->met ? "yes" : "NO");
	}
}

/* A zeroed row at the end of rows (grown as needed); NULL out of memory. */
static struct row *new_row(struct row **rows, size_t *nrows, size_t *cap)
{
	if (*nrows == *cap) {
		size_t n = *cap ? *cap * 2 : 64;
		struct row *nr = realloc(*rows, n * sizeof *nr);
		if (!nr)
			return NULL;
		*rows = nr;
		*cap = n;
	}
	struct row *r = &(*rows)[(*nrows)++];
	memset(r, 0, sizeof *r);
	return r;
}

int cmd_matrix(int argc, char **argv)
{
	const char *build_dir = NULL, *exp_path = NULL;
	struct cli_outputs out = { 0 };
	char dirbuf[PATH_MAX], expbuf[PATH_MAX + 64], src[PATH_MAX];
	int no_scenarios = 0;
	const char *base_arg = NULL;
	uint64_t vdso_base = 0;
	struct scn_rows scn = { 0 };
	long jobs = sysconf(_SC_NPROCESSORS_ONLN);
	const struct cli_option options[] = {
		CLI_OUTPUTS(&out), CLI_VALUE("--build-dir", &build_dir), CLI_VALUE("--jobs", NULL),
		CLI_VALUE("--expectations", &exp_path), CLI_FLAG("--no-scenarios", &no_scenarios),
		CLI_VALUE("--vdso-base", &base_arg), CLI_END,
	};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (cli_help(a, usage))
			return 0;
		int used = cli_option("matrix", options, a, v);
		if (!used)
			return 2;
		i += used - 1;
		if (!strcmp(a, "--jobs")) {
			uint64_t n;
			if (cli_parse_u64(v, 10, &n) || n < 1 || n > 1024)
				return cli_fail("matrix: bad --jobs '%s' (1 to 1024)%s", v, "");
			jobs = (long)n;
		}
	}
	if (jobs < 1)
		jobs = 1;
	if (base_arg && cli_vdso_base("matrix", base_arg, NULL, &vdso_base))
		return 2;
	if (!build_dir) {
		cli_default_build_dir(dirbuf, sizeof dirbuf);
		build_dir = dirbuf;
	}
	int have_src = !source_dir_of(build_dir, src, sizeof src);
	if (!exp_path) {
		if (!have_src)
			return cli_fail("matrix: %s is not a configured build directory (no CMakeCache.txt); "
					"name the file with --expectations%s", build_dir, "");
		snprintf(expbuf, sizeof expbuf, "%s/scenarios/expectations.txt", src);
		exp_path = expbuf;
	}
	struct expectations x;
	if (expectations_read(exp_path, &x))
		return 2;
	/* The scenario files and mutants of the source tree: extra rows after
	 * the arch x variant x function x era ones. */
	if (!no_scenarios && have_src && scn_read_all(src, build_dir, &scn)) {
		expectations_free(&x);
		scn_rows_free(&scn);
		return 2;
	}

	/* The rows, in report order: arch, variant, function, era. */
	const struct arch_ops *arches[16];
	size_t narch = 0;
	for (const struct arch_ops *const *o = arch_ops_all; *o && narch < 16; o++)
		arches[narch++] = *o;
	cli_sort_arches(arches, narch);
	size_t nrows = 0, cap = 0;
	struct row *rows = NULL;
	for (size_t a = 0; a < narch; a++) {
		char variants[32][64];
		int nv = cli_built_variants(build_dir, arches[a]->name, variants, 32);
		if (nv <= 0) {
			free(rows);
			expectations_free(&x);
			return cli_fail("matrix: no variants built for %s in %s/guest (build the project first)",
					arches[a]->name, build_dir);
		}
		/* The table at the default base (or --vdso-base's); without
		 * --vdso-base, again with the vDSO at the arch's second base. */
		for (int second = 0; second < (base_arg ? 1 : 2); second++)
			for (int v = 0; v < nv; v++)
				for (int fn = 0; fn < NFUNCTIONS; fn++)
					for (int era = 0; era < CLI_NERAS; era++) {
						struct row *r = new_row(&rows, &nrows, &cap);
						if (!r) {
							free(rows);
							expectations_free(&x);
							return cli_fail("out of memory%s%s", "", "");
						}
						r->ops = arches[a];
						memcpy(r->variant, variants[v], sizeof r->variant);
						r->function = functions[fn];
						r->era = era;
						r->second = second;
						r->vdso_base = second ? arches[a]->vdso_base_alt : vdso_base;
						for (size_t e = 0; e < x.n && !r->expect; e++)
							if (matches(&x.e[e], r)) {
								r->expect = &x.e[e];
								x.e[e].used = 1;
							}
					}
	}
	for (size_t i = 0; i < scn.n; i++) {
		struct row *r = new_row(&rows, &nrows, &cap);
		if (!r) {
			free(rows);
			expectations_free(&x);
			scn_rows_free(&scn);
			return cli_fail("out of memory%s%s", "", "");
		}
		r->ops = scn.v[i].ops;
		snprintf(r->variant, sizeof r->variant, "%s", scn.v[i].variant);
		r->function = scn.v[i].function;
		r->era = scn.v[i].era;
		r->scn = &scn.v[i];
		r->vdso_base = vdso_base;
	}

	/* The report files exist before anything runs: a path that cannot
	 * be written is refused now, not after the whole matrix. */
	if (cli_outputs_open("matrix", &out, ~(1u << CLI_OUT_PPROF))) {
		free(rows);
		expectations_free(&x);
		scn_rows_free(&scn);
		return 2;
	}

	cleanup_on_signals();
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	size_t nprebuilt = 0;
	struct prebuilt *prebuilt = prebuild_mutants(rows, nrows, build_dir, 2 * (int)jobs, &nprebuilt);
	int violations_read = 0;	/* the text report reads only their number */
	for (int k = 0; k < CLI_OUT_COUNT; k++)
		violations_read |= out.path[k] != NULL;
	int run_failed = run_rows(rows, nrows, build_dir, (int)jobs, violations_read);
	for (size_t i = 0; prebuilt && i < nprebuilt; i++)
		check_cleanup(prebuilt[i].dir, prebuilt[i].image);
	free(prebuilt);
	if (run_failed) {
		int e = errno;
		cli_outputs_drop(&out);
		for (size_t i = 0; i < nrows; i++)
			free(rows[i].res.violations);
		free(rows);
		expectations_free(&x);
		return cli_fail("matrix: cannot run the rows: %s%s", strerror(e), "");
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	int refused = 0, unmet = 0, crashed = 0;
	uint64_t boundaries = 0;
	for (size_t i = 0; i < nrows; i++) {
		judge(&rows[i]);
		refused += rows[i].state == 2;
		crashed += rows[i].state == 3;
		unmet += !rows[i].met;
		if (rows[i].state == 1)
			boundaries += rows[i].res.boundaries;
	}

	FILE *report = cli_outputs_text(&out);
	print_table(report, rows, nrows, 0);
	if (!base_arg) {
		fputs("\nthe same rows with the vDSO at each arch's second base (", report);
		for (size_t a = 0; a < narch; a++)
			fprintf(report, "%s%s 0x%llx", a ? ", " : "", arches[a]->name,
				(unsigned long long)arches[a]->vdso_base_alt);
		fputs("):\n", report);
		print_table(report, rows, nrows, 1);
	}
	print_scenario_table(report, rows, nrows);
	for (size_t i = 0; i < nrows; i++) {
		char no[PATH_MAX + 600];	/* why may quote the guest's or a tool's words: escaped */
		if (!rows[i].met && rows[i].scn)
			snprintf(no, sizeof no, "NO: %s [%s] %s %s %s: %s", rows[i].scn->source, rows[i].scn->name,
				 rows[i].ops->name, rows[i].variant, rows[i].function, rows[i].why);
		else if (!rows[i].met)
			snprintf(no, sizeof no, "NO: %s %s %s %s%s: %s", rows[i].ops->name, rows[i].variant,
				 rows[i].function, cli_era_names[rows[i].era],
				 rows[i].second ? " (vDSO at the second base)" : "", rows[i].why);
		if (!rows[i].met)
			cli_put_line(report, no);
	}
	for (size_t e = 0; e < x.n; e++)
		if (!x.e[e].used)
			fprintf(report, "note: %s:%d matches no row\n", exp_path, x.e[e].line);
	/* The report is the same, byte for byte, for the same inputs; the
	 * timing goes to stderr. */
	fprintf(report, "%zu rows, %d met, %d not met; %llu boundaries\n",
		nrows, (int)nrows - unmet, unmet, (unsigned long long)boundaries);
	fflush(report);
	fprintf(stderr, "sigstep matrix: %.2f s wall, %.0f boundaries/s, %ld jobs\n",
		wall, wall > 0 ? (double)boundaries / wall : 0.0, jobs);

	/* A row whose child crashed has no verdict: the harness failed. */
	for (size_t i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		char row[PATH_MAX + 400];
		if (r->state != 3)
			continue;
		if (r->scn)
			snprintf(row, sizeof row, "%s [%s] %s %s %s", r->scn->source, r->scn->name, r->ops->name,
				 r->variant, r->function);
		else
			snprintf(row, sizeof row, "%s %s %s %s%s", r->ops->name, r->variant, r->function,
				 cli_era_names[r->era], r->second ? " (vDSO at the second base)" : "");
		cli_fail("matrix: row %s: the harness failed, no verdict: %s", row, r->err);
	}
	int status = refused || crashed ? 2 : unmet ? 1 : 0;
	struct report_row *recs = calloc(nrows ? nrows : 1, sizeof *recs);
	char (*suites)[PATH_MAX + 16] = calloc(nrows ? nrows : 1, sizeof *suites);
	if (!recs || !suites) {
		cli_outputs_drop(&out);
		status = cli_fail("out of memory%s%s", "", "");
	} else {
		for (size_t i = 0; i < nrows; i++) {
			struct row *r = &rows[i];
			if (r->state != 1) {
				/* a row that did not run is still a row of the report */
				memset(&r->res, 0, sizeof r->res);
				snprintf(r->res.arch, sizeof r->res.arch, "%s", r->ops->name);
				snprintf(r->res.variant, sizeof r->res.variant, "%s", r->variant);
				snprintf(r->res.function, sizeof r->res.function, "%s", r->function);
				snprintf(r->res.context, sizeof r->res.context, "%s", r->scn ? r->scn->context : "curg");
				snprintf(r->res.era_name, sizeof r->res.era_name, "%s", r->era < 0 ? "own" : cli_era_names[r->era]);
				snprintf(r->res.invariants, sizeof r->res.invariants, "not run: %.200s", r->why);
			}
			/* the suite: "matrix", its second pass, or the scenario's
			 * file; the name: unique within it (a scenario row's
			 * section or header line) */
			char scn_name[96];
			snprintf(suites[i], sizeof suites[i], "%s",
				 r->scn ? r->scn->source : r->second ? "matrix, second vDSO base" : "matrix");
			char *colon = strrchr(suites[i], ':');
			if (r->scn && colon && colon[1] >= '0' && colon[1] <= '9') {
				snprintf(scn_name, sizeof scn_name, "%.60s:%.20s", r->scn->name, colon + 1);
				*colon = 0;
			} else if (r->scn) {
				snprintf(scn_name, sizeof scn_name, "%.60s", r->scn->name);
			} else if (r->second) {
				snprintf(scn_name, sizeof scn_name, "vdso 0x%llx", (unsigned long long)r->ops->vdso_base_alt);
			}
			recs[i] = (struct report_row){ .res = &r->res, .source = suites[i],
						       .expect = r->scn ? r->scn->expect.text : r->expect ? r->expect->text : NULL,
						       .met = r->met, .why = r->why };
			report_row_name(&recs[i], r->scn || r->second ? scn_name : NULL);
		}
		if (cli_outputs_write("matrix", &out, recs, nrows))
			status = 2;
	}
	free(recs);
	free(suites);
	/* the violations were copied out of the pipe here, not by the probe */
	for (size_t i = 0; i < nrows; i++)
		free(rows[i].res.violations);
	free(rows);
	expectations_free(&x);
	scn_rows_free(&scn);
	return status;
}
