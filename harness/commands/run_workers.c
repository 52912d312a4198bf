/*
 * Probe runs in forked workers (run_workers.h).
 *
 * Three generations of processes: the caller; a launcher it forks before
 * any result arrives; and the workers the launcher forks, `jobs` at a
 * time, one per group of runs that share a boot.  A worker boots once
 * and runs its group one run after another on that boot, rewound to where
 * the boot left it before each (probe_boot_keep), so that no run pays for
 * the boot, the engines or the translations of another.  It sends each
 * result up as one record: the probe's rc, err and result, then the
 * violations (plain arrays: the bytes mean the same in every process).
 * The launcher passes the records on; for a worker that died it sends a
 * "died" record for each run the worker had not finished, so that a crash
 * is those runs' state, never a verdict, and a record is never half a
 * result.  Workers die with the launcher, the launcher with the caller
 * (cleanup_after_fork), and with the caller's interrupt (cleanup.h).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "machine.h"
#include "run_workers.h"

#define MAX_GROUP 12	/* runs per worker: more boots, but no core left alone with one long group */

struct wire {
	int rc;
	char err[256];
	struct probe_result res;	/* res.violations meaningless */
};

struct record {
	size_t run;
	int died;		/* 1: no wire follows; why says what became of the run's worker */
	char why[256];
	size_t len;		/* bytes of wire and violations that follow */
};

int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static void how_it_ended(int status, size_t bytes, char *why, size_t n)
{
	if (WIFSIGNALED(status))
		snprintf(why, n, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(why, n, "exit status %d, %zu bytes of result", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			 bytes);
}

/* --- A run ------------------------------------------------------------------- */

/* Runs cfg from the boot and sends its record (wire and violations) to
 * `out`.  0, or -1 when the worker cannot go on (out is gone). */
static int run_here(struct probe_boot *boot, const struct probe_config *cfg, size_t id, int out)
{
	struct probe_config c = *cfg;
	if (!c.deadline)
		c.deadline = probe_deadline_from_now(&c);	/* its time starts now, not at the boot */
	struct wire w;
	memset(&w, 0, sizeof w);
	w.rc = probe_boot_run(boot, &c, &w.res, w.err, sizeof w.err);
	if (w.rc)
		w.res.nviolations = 0;
	size_t vbytes = w.res.nviolations * sizeof *w.res.violations;
	struct record rec = { .run = id, .len = sizeof w + vbytes };
	int bad = write_all(out, &rec, sizeof rec) || write_all(out, &w, sizeof w) ||
		  (vbytes && write_all(out, w.res.violations, vbytes));
	probe_result_free(&w.res);
	return bad ? -1 : 0;
}

/* --- A worker ------------------------------------------------------------------ */

/*
 * The worker's runs, one after another on one boot it keeps and rewinds
 * (probe_boot_keep); a run after which the boot cannot be rewound, or a
 * subject whose boot cannot be kept (one run to a group), has the next run
 * boot afresh.
 */
static void worker(const struct worker_run *runs, const size_t *ids, size_t n, const char *build_dir, int out)
{
	const struct worker_run *first = &runs[ids[0]];
	char dir[PATH_MAX], image[PATH_MAX + 96], refused[256] = "";
	int built = 0;
	if (first->build_file) {
		if (check_build_file(build_dir, first->cfg.ops, first->build_file, dir, sizeof dir, image, sizeof image))
			snprintf(refused, sizeof refused, "%.200s: the mutant did not build", first->build_file);
		else
			built = 1;
	}
	struct probe_config boot_cfg = first->cfg;
	if (built)
		boot_cfg.image_path = image;
	boot_cfg.process_ends = 1;
	struct probe_boot *boot = NULL;
	int kept = 0;
	for (size_t k = 0; k < n; k++) {
		struct probe_config cfg = runs[ids[k]].cfg;
		if (built)
			cfg.image_path = image;
		cfg.process_ends = 1;
		if (boot && probe_boot_rewind(boot)) {
			probe_boot_free(boot, &boot_cfg);
			boot = NULL;
		}
		if (!boot && !refused[0]) {
			if ((boot = probe_boot(&boot_cfg, refused, sizeof refused))) {
				probe_boot_keep_lines(boot);
				kept = probe_boot_keep(boot) == 0;	/* else it serves this run alone */
			} else if (!refused[0]) {
				snprintf(refused, sizeof refused, "the probe could not start");
			}
		}
		if (boot) {
			if (run_here(boot, &cfg, ids[k], out))
				break;
			if (!kept)
				boot = NULL;	/* the run consumed it */
			continue;
		}
		struct wire w;
		memset(&w, 0, sizeof w);
		w.rc = 2;
		snprintf(w.err, sizeof w.err, "%s", refused);
		struct record rec = { .run = ids[k], .len = sizeof w };
		if (write_all(out, &rec, sizeof rec) || write_all(out, &w, sizeof w))
			break;
	}
	if (built)
		check_cleanup(dir, image);
	_exit(0);
}

/* --- The caller --------------------------------------------------------------- */

static int same_boot(const struct worker_run *a, const struct worker_run *b)
{
	if (!a->build_file != !b->build_file)
		return 0;
	if (!a->build_file)
		return probe_boot_shares(&a->cfg, &b->cfg);
	struct probe_config ca = a->cfg, cb = b->cfg;	/* one file: one image, built by the worker */
	ca.image_path = cb.image_path = NULL;
	return !strcmp(a->build_file, b->build_file) && probe_boot_shares(&ca, &cb);
}

struct group {
	size_t *ids, n;
};

/* The groups, in `order`'s order of their first runs; ids point into one array. */
static struct group *make_groups(const struct worker_run *runs, size_t n, const size_t *order, size_t *ngroups,
				 size_t **ids_out)
{
	struct group *g = calloc(n ? n : 1, sizeof *g);
	size_t *ids = malloc((n ? n : 1) * sizeof *ids);
	char *taken = calloc(n ? n : 1, 1);
	size_t ng = 0, used = 0;
	if (!g || !ids || !taken) {
		free(g);
		free(ids);
		free(taken);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		size_t a = order[i];
		if (taken[a])
			continue;
		g[ng].ids = ids + used;
		for (size_t j = i; j < n && g[ng].n < MAX_GROUP; j++) {
			size_t b = order[j];
			if (!taken[b] && (b == a || same_boot(&runs[a], &runs[b]))) {
				taken[b] = 1;
				ids[used++] = b;
				g[ng].n++;
			}
		}
		ng++;
	}
	free(taken);
	*ngroups = ng;
	*ids_out = ids;
	return g;
}

static void take_wire(struct worker_run *r, const char *buf, size_t len)
{
	struct wire w;
	if (len < sizeof w) {
		r->state = 3;
		snprintf(r->err, sizeof r->err, "truncated result (%zu bytes)", len);
		return;
	}
	memcpy(&w, buf, sizeof w);
	if (w.rc) {
		r->state = 2;
		snprintf(r->err, sizeof r->err, "%s", w.err);
		return;
	}
	size_t vbytes = w.res.nviolations * sizeof(struct violation);
	if (len != sizeof w + vbytes) {
		r->state = 3;
		snprintf(r->err, sizeof r->err, "truncated result (%zu bytes)", len);
		return;
	}
	r->res = w.res;
	r->res.violations = NULL;
	if (vbytes && !(r->res.violations = malloc(vbytes))) {
		r->state = 3;
		snprintf(r->err, sizeof r->err, "out of memory");
		r->res.nviolations = 0;
		return;
	}
	if (vbytes)
		memcpy(r->res.violations, buf + sizeof w, vbytes);
	r->state = 1;
}

/* A stream of records being read: what has come of it so far. */
struct stream {
	int fd;
	char *buf;
	size_t len, cap;
};

/* Reads once more from s->fd.  1 data, 0 EOF, -1 out of memory. */
static int stream_read(struct stream *s)
{
	if (s->cap - s->len < 65536) {
		size_t cap = s->cap ? s->cap * 2 : 65536 * 2;
		char *b = realloc(s->buf, cap);
		if (!b)
			return -1;
		s->buf = b;
		s->cap = cap;
	}
	ssize_t got;
	while ((got = read(s->fd, s->buf + s->len, s->cap - s->len)) < 0 && errno == EINTR)
		;
	if (got <= 0)
		return got < 0 ? -1 : 0;
	s->len += (size_t)got;
	return 1;
}

/* Each whole record at the start of the stream, to take(ctx, rec, payload);
 * what is left of a record stays for the next read. */
static void stream_records(struct stream *s, void (*take)(void *, const struct record *, const char *), void *ctx)
{
	size_t at = 0;
	struct record rec;
	while (s->len - at >= sizeof rec) {
		memcpy(&rec, s->buf + at, sizeof rec);
		if (s->len - at - sizeof rec < rec.len)
			break;
		take(ctx, &rec, s->buf + at + sizeof rec);
		at += sizeof rec + rec.len;
	}
	memmove(s->buf, s->buf + at, s->len - at);
	s->len -= at;
}

/* --- The launcher -------------------------------------------------------------- */

/*
 * The workers are forked by a launcher, itself forked before any result
 * arrives: a fork copies the page tables of everything its parent holds,
 * and the caller ends up holding every run's violations (tens of MiB
 * over a matrix), the launcher nothing but the records in transit.  It
 * passes each record on to the caller as it comes, and, for a worker that
 * ended before passing on all its runs, a died record for each of them.
 */
struct slot {
	pid_t pid;
	const struct group *group;
	struct stream in;
};

struct launcher {
	int out;
	char *passed;		/* by run: its record went to the caller */
	size_t n;
	int failed;		/* the caller is gone */
};

static void pass_on(void *ctx, const struct record *rec, const char *payload)
{
	struct launcher *l = ctx;
	if (rec->run < l->n)
		l->passed[rec->run] = 1;
	if (!l->failed && (write_all(l->out, rec, sizeof *rec) || write_all(l->out, payload, rec->len)))
		l->failed = 1;
}

static void worker_ended(struct launcher *l, struct slot *s)
{
	int status;
	while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
		;
	cleanup_forget_child(s->pid);
	struct record rec = { .died = 1 };
	char why[200];
	how_it_ended(status, s->in.len, why, sizeof why);
	snprintf(rec.why, sizeof rec.why, "its worker ended before it: %s", why);
	for (size_t k = 0; k < s->group->n; k++)
		if (!l->passed[s->group->ids[k]]) {
			rec.run = s->group->ids[k];
			pass_on(l, &rec, NULL);
		}
	free(s->in.buf);
	s->in = (struct stream){ .fd = -1 };
}

static pid_t start_worker(const struct worker_run *runs, const struct group *g, const char *build_dir,
			  const struct slot *slots, int jobs, int out, int *fd)
{
	pid_t pid = cleanup_fork_piped(fd);
	if (pid == 0) {
		close(out);
		for (int k = 0; k < jobs; k++)
			if (slots[k].in.fd >= 0)
				close(slots[k].in.fd);
		worker(runs, g->ids, g->n, build_dir, *fd);
	}
	return pid;
}

/* The launcher's life: every group through a worker, `jobs` at a time.
 * Exits 0, or 4 if a worker could not start. */
static void launcher(const struct worker_run *runs, size_t n, const struct group *groups, size_t ngroups,
		     const char *build_dir, int jobs, int out)
{
	struct slot *slots = calloc((size_t)jobs, sizeof *slots);
	struct pollfd *pfd = calloc((size_t)jobs, sizeof *pfd);
	struct launcher l = { .out = out, .passed = calloc(n ? n : 1, 1), .n = n };
	if (!slots || !pfd || !l.passed)
		_exit(4);
	for (int i = 0; i < jobs; i++)
		slots[i].in.fd = -1;
	size_t next = 0;
	int active = 0, rc = 0;
	while (!rc && !l.failed && (next < ngroups || active)) {
		for (int i = 0; i < jobs && next < ngroups; i++) {
			if (slots[i].in.fd >= 0)
				continue;
			int fd;
			pid_t pid = start_worker(runs, &groups[next], build_dir, slots, jobs, out, &fd);
			if (pid < 0) {
				rc = 4;
				break;
			}
			slots[i] = (struct slot){ .pid = pid, .group = &groups[next++], .in = { .fd = fd } };
			active++;
		}
		if (rc || !active)
			break;
		int np = 0;
		for (int i = 0; i < jobs; i++)
			if (slots[i].in.fd >= 0)
				pfd[np++] = (struct pollfd){ .fd = slots[i].in.fd, .events = POLLIN };
		if (poll(pfd, (nfds_t)np, -1) < 0) {
			if (errno != EINTR)
				rc = 4;
			continue;
		}
		for (int i = 0; i < jobs && !rc; i++) {
			struct slot *s = &slots[i];
			int ready = 0;
			for (int k = 0; k < np && s->in.fd >= 0; k++)
				ready |= pfd[k].fd == s->in.fd && pfd[k].revents;
			if (!ready)
				continue;
			int got = stream_read(&s->in);
			if (got > 0) {
				stream_records(&s->in, pass_on, &l);
				continue;
			}
			if (got < 0)
				rc = 4;
			close(s->in.fd);
			active--;
			worker_ended(&l, s);
		}
	}
	_exit(rc);	/* the workers still running die with it (cleanup_after_fork) */
}

/* --- The caller ------------------------------------------------------------------ */

struct take_ctx {
	struct worker_run *runs;
	size_t n;
};

static void take_record(void *ctx, const struct record *rec, const char *payload)
{
	const struct take_ctx *t = ctx;
	if (rec->run >= t->n)
		return;
	struct worker_run *r = &t->runs[rec->run];
	if (r->state)
		return;
	if (rec->died) {
		r->state = 3;
		snprintf(r->err, sizeof r->err, "%s", rec->why);
	} else {
		take_wire(r, payload, rec->len);
	}
}

int workers_run(struct worker_run *runs, size_t n, const size_t *order, const char *build_dir, int jobs)
{
	size_t ngroups = 0, *ids = NULL;
	struct group *groups = make_groups(runs, n, order, &ngroups, &ids);
	if (!groups)
		return -1;
	fflush(NULL);	/* no buffered output duplicated into the launcher */
	int fd;
	pid_t pid = cleanup_fork_piped(&fd);
	if (pid < 0) {
		free(groups);
		free(ids);
		return -1;
	}
	if (pid == 0)
		launcher(runs, n, groups, ngroups, build_dir, jobs, fd);
	struct stream in = { .fd = fd };
	struct take_ctx t = { runs, n };
	int got, rc = 0;
	while ((got = stream_read(&in)) > 0)
		stream_records(&in, take_record, &t);
	close(in.fd);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	cleanup_forget_child(pid);
	/* A launcher that could not start a worker is the caller's failure;
	 * one that died leaves its runs without a verdict, each saying so. */
	if (got < 0 || (WIFEXITED(status) && WEXITSTATUS(status))) {
		rc = -1;
		errno = got < 0 ? ENOMEM : EAGAIN;
	}
	char why[200];
	how_it_ended(status, 0, why, sizeof why);
	for (size_t i = 0; i < n; i++)
		if (!runs[i].state) {
			runs[i].state = 3;
			snprintf(runs[i].err, sizeof runs[i].err, "the launcher of its worker ended before it: %s", why);
		}
	free(in.buf);
	free(groups);
	free(ids);
	return rc;
}
