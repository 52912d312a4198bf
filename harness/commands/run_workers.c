/*
 * Probe runs in forked workers (run_workers.h).
 *
 * Three generations of processes: the caller; a launcher it forks before
 * any result arrives; and `jobs` workers the launcher forks once.  Each
 * worker waits on its own queue, a pipe from the launcher, for the index
 * of a group of runs that share a boot; it boots once, runs the group one
 * run after another on that boot, rewound to where the boot left it
 * before each (probe_boot_keep), frees the boot (engines and guest memory
 * closed) and the line tables it kept, says the group is done, and waits
 * for the next.  The launcher hands a worker its next group only once the
 * last is done, so it always knows which group a worker is running.
 *
 * A worker sends each result up as one record: the probe's rc, err and
 * result, then the violations (plain arrays: the bytes mean the same in
 * every process), or none when only their count is wanted.  The launcher
 * passes the records on; for a worker that died it sends a "died" record
 * for each run of its group it had not finished, so that a crash is those
 * runs' state, never a verdict, and a record is never half a result; then
 * it starts another worker for the groups left.  Workers die with the
 * launcher, the launcher with the caller (cleanup_after_fork), and with
 * the caller's interrupt (cleanup.h).
 */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "fd_io.h"
#include "machine.h"
#include "report.h"
#include "run_workers.h"

#define MAX_GROUP 12	/* runs per group: more boots, but no core left alone with one long group */
/* A worker's heap: what a group frees is kept for the next one's boot
 * (mallopt), not unmapped and faulted in again. */
#define WORKER_TRIM_THRESHOLD (512 << 20)
#define WORKER_MMAP_THRESHOLD (32 << 20)

struct wire {
	int rc;
	char err[256];
	size_t nsent;			/* violations that follow: res.nviolations, or 0 (counted only) */
	struct probe_result res;	/* res.violations meaningless */
};

enum record_kind {
	RECORD_RESULT,		/* a wire and its violations follow */
	RECORD_DIED,		/* nothing follows; why says what became of the run's worker */
	RECORD_GROUP_DONE,	/* worker to launcher: `run` is the group it finished */
};

struct record {
	size_t run;
	int kind;
	char why[256];
	size_t len;		/* bytes that follow */
};

static void how_it_ended(int status, size_t bytes, char *why, size_t n)
{
	if (WIFSIGNALED(status))
		snprintf(why, n, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(why, n, "exit status %d, %zu bytes of result", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			 bytes);
}

struct group {
	size_t *ids, n;
};

/* --- A run ------------------------------------------------------------------- */

/* Runs cfg from the boot and sends its record (wire, and violations unless
 * only counted) to `out`.  0, or -1 when the worker cannot go on (out is
 * gone). */
static int run_here(struct probe_boot *boot, const struct probe_config *cfg, size_t id, int count_only, int out)
{
	struct probe_config c = *cfg;
	if (!c.deadline)
		c.deadline = probe_deadline_from_now(&c);	/* its time starts now, not at the boot */
	struct wire w;
	memset(&w, 0, sizeof w);
	w.rc = probe_boot_run(boot, &c, &w.res, w.err, sizeof w.err);
	if (w.rc)
		w.res.nviolations = 0;
	w.nsent = count_only ? 0 : w.res.nviolations;
	size_t vbytes = w.nsent * sizeof *w.res.violations;
	struct record rec = { .run = id, .kind = RECORD_RESULT, .len = sizeof w + vbytes };
	int bad = fd_write_all(out, &rec, sizeof rec) || fd_write_all(out, &w, sizeof w) ||
		  (vbytes && fd_write_all(out, w.res.violations, vbytes));
	probe_result_free(&w.res);
	return bad ? -1 : 0;
}

/* --- A worker ------------------------------------------------------------------ */

/*
 * A group's runs, one after another on one boot it keeps and rewinds
 * (probe_boot_keep); a run after which the boot cannot be rewound, or a
 * subject whose boot cannot be kept (one run to a boot), has the next run
 * boot afresh.  Then everything the group made goes -- its boot, the line
 * tables kept for its image, a file it built -- so that the next group
 * starts from what a fresh process would have.  0, or -1 when the worker
 * cannot go on (out is gone).
 */
static int run_group(const struct worker_run *runs, const struct group *g, const char *build_dir, int out)
{
	const struct worker_run *first = &runs[g->ids[0]];
	char dir[PATH_MAX], image[PATH_MAX + 96], refused[256] = "";
	int built = 0, bad = 0;
	if (first->build_file) {
		if (check_build_file(build_dir, first->cfg.ops, first->build_file, dir, sizeof dir, image, sizeof image))
			snprintf(refused, sizeof refused, "%.200s: the mutant did not build", first->build_file);
		else
			built = 1;
	}
	struct probe_config boot_cfg = first->cfg;
	if (built)
		boot_cfg.image_path = image;
	boot_cfg.process_ends = 0;	/* the worker goes on to another group */
	struct probe_boot *boot = NULL;
	int kept = 0;
	for (size_t k = 0; k < g->n && !bad; k++) {
		const struct worker_run *r = &runs[g->ids[k]];
		struct probe_config cfg = r->cfg;
		if (built)
			cfg.image_path = image;
		cfg.process_ends = 0;
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
			bad = run_here(boot, &cfg, g->ids[k], r->count_violations_only, out);
			if (!kept)
				boot = NULL;	/* the run consumed it */
			continue;
		}
		struct wire w;
		memset(&w, 0, sizeof w);
		w.rc = 2;
		snprintf(w.err, sizeof w.err, "%s", refused);
		struct record rec = { .run = g->ids[k], .kind = RECORD_RESULT, .len = sizeof w };
		bad = fd_write_all(out, &rec, sizeof rec) || fd_write_all(out, &w, sizeof w);
	}
	probe_boot_free(boot, &boot_cfg);
	report_lines_forget();
	if (built)
		check_cleanup(dir, image);
	return bad ? -1 : 0;
}

/*
 * A worker's life: the groups its queue names, until the queue ends.
 * Freed memory stays in the heap for the next group's boot rather than
 * going back to the kernel and being faulted in again: every group's boot
 * allocates much the same.
 */
static void worker(const struct worker_run *runs, const struct group *groups, size_t ngroups,
		   const char *build_dir, int queue, int out)
{
	mallopt(M_TRIM_THRESHOLD, WORKER_TRIM_THRESHOLD);
	mallopt(M_MMAP_THRESHOLD, WORKER_MMAP_THRESHOLD);
	size_t g;
	while (!fd_read_all(queue, &g, sizeof g) && g < ngroups) {
		if (run_group(runs, &groups[g], build_dir, out))
			break;
		struct record done = { .run = g, .kind = RECORD_GROUP_DONE };
		if (fd_write_all(out, &done, sizeof done))
			break;
	}
	_exit(0);
}

/* --- The groups ----------------------------------------------------------------- */

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

/* --- Records ------------------------------------------------------------------- */

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
	size_t vbytes = w.nsent * sizeof(struct violation);
	if (w.nsent > w.res.nviolations || len != sizeof w + vbytes) {
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
 * passes each record on to the caller as it comes, hands each worker that
 * finished a group the next one, and, for a worker that ended before
 * passing on all the runs of its group, a died record for each of them.
 */
struct slot {
	pid_t pid;
	int queue;			/* write end of the worker's queue; -1: closed */
	const struct group *group;	/* the group it runs; NULL: none */
	struct stream in;		/* in.fd -1: no worker */
};

struct launcher {
	const struct worker_run *runs;
	size_t n;
	const struct group *groups;
	size_t ngroups, next;		/* groups[next]: the first not handed out */
	const char *build_dir;
	struct slot *slots;
	int jobs;
	int out;
	char *passed;			/* by run: its record went to the caller */
	int failed;			/* the caller is gone */
};

static void pass_on(struct launcher *l, const struct record *rec, const char *payload)
{
	if (rec->run < l->n)
		l->passed[rec->run] = 1;
	if (!l->failed && (fd_write_all(l->out, rec, sizeof *rec) || fd_write_all(l->out, payload, rec->len)))
		l->failed = 1;
}

/* The slot's worker gets the next group, or the end of its queue when
 * none is left (then it leaves).  A worker already gone gets neither: its
 * end is seen on its stream. */
static void hand_next(struct launcher *l, struct slot *s)
{
	s->group = NULL;
	if (s->queue < 0)
		return;
	if (l->next < l->ngroups && !fd_write_all(s->queue, &l->next, sizeof l->next)) {
		s->group = &l->groups[l->next++];
		return;
	}
	close(s->queue);
	s->queue = -1;
}

struct from_worker {
	struct launcher *l;
	struct slot *s;
};

static void take_from_worker(void *ctx, const struct record *rec, const char *payload)
{
	struct from_worker *f = ctx;
	if (rec->kind == RECORD_GROUP_DONE)
		hand_next(f->l, f->s);
	else
		pass_on(f->l, rec, payload);
}

/* A worker into the slot, with the next group: 0, or -1 if it could not start. */
static int start_worker(struct launcher *l, struct slot *s)
{
	int queue[2], fd;
	if (pipe2(queue, O_CLOEXEC))
		return -1;
	pid_t pid = cleanup_fork_piped(&fd);
	if (pid < 0) {
		close(queue[0]);
		close(queue[1]);
		return -1;
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		close(l->out);
		close(queue[1]);
		for (int k = 0; k < l->jobs; k++) {	/* the other workers' ends: theirs alone */
			if (l->slots[k].in.fd >= 0)
				close(l->slots[k].in.fd);
			if (l->slots[k].queue >= 0)
				close(l->slots[k].queue);
		}
		worker(l->runs, l->groups, l->ngroups, l->build_dir, queue[0], fd);
	}
	close(queue[0]);
	*s = (struct slot){ .pid = pid, .queue = queue[1], .in = { .fd = fd } };
	hand_next(l, s);
	return 0;
}

/* The slot's worker has ended: the runs of its group it did not pass on
 * are "died", and another worker takes its place while groups are left.
 * 0, or -1 if that one could not start. */
static int worker_ended(struct launcher *l, struct slot *s)
{
	int status;
	while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
		;
	cleanup_forget_child(s->pid);
	struct record rec = { .kind = RECORD_DIED };
	char why[200];
	how_it_ended(status, s->in.len, why, sizeof why);
	snprintf(rec.why, sizeof rec.why, "its worker ended before it: %s", why);
	for (size_t k = 0; s->group && k < s->group->n; k++)
		if (!l->passed[s->group->ids[k]]) {
			rec.run = s->group->ids[k];
			pass_on(l, &rec, NULL);
		}
	close(s->in.fd);
	free(s->in.buf);
	if (s->queue >= 0)
		close(s->queue);
	*s = (struct slot){ .queue = -1, .in = { .fd = -1 } };
	return l->next < l->ngroups ? start_worker(l, s) : 0;
}

/* The launcher's life: every group through the workers, `jobs` of them.
 * Exits 0, or 4 if a worker could not start. */
static void launcher(struct launcher *l)
{
	struct pollfd *pfd = calloc((size_t)l->jobs, sizeof *pfd);
	struct slot **of = calloc((size_t)l->jobs, sizeof *of);	/* by pfd entry: its slot */
	l->slots = calloc((size_t)l->jobs, sizeof *l->slots);
	l->passed = calloc(l->n ? l->n : 1, 1);
	if (!pfd || !of || !l->slots || !l->passed)
		_exit(4);
	signal(SIGPIPE, SIG_IGN);	/* a worker gone while handed a group: seen at its stream's end */
	for (int i = 0; i < l->jobs; i++)
		l->slots[i] = (struct slot){ .queue = -1, .in = { .fd = -1 } };
	int rc = 0;
	for (int i = 0; i < l->jobs && l->next < l->ngroups && !rc; i++)
		if (start_worker(l, &l->slots[i]))
			rc = 4;
	while (!rc && !l->failed) {
		int np = 0;
		for (int i = 0; i < l->jobs; i++)
			if (l->slots[i].in.fd >= 0) {
				of[np] = &l->slots[i];
				pfd[np++] = (struct pollfd){ .fd = l->slots[i].in.fd, .events = POLLIN };
			}
		if (!np)
			break;
		if (poll(pfd, (nfds_t)np, -1) < 0) {
			if (errno != EINTR)
				rc = 4;
			continue;
		}
		for (int k = 0; k < np && !rc; k++) {
			if (!pfd[k].revents)
				continue;
			struct slot *s = of[k];
			int got = stream_read(&s->in);
			if (got > 0) {
				struct from_worker f = { l, s };
				stream_records(&s->in, take_from_worker, &f);
				continue;
			}
			if (got < 0 || worker_ended(l, s))
				rc = 4;
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
	if (rec->kind == RECORD_DIED) {
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
	if (pid == 0) {
		struct launcher l = { .runs = runs, .n = n, .groups = groups, .ngroups = ngroups,
				      .build_dir = build_dir, .jobs = jobs < 1 ? 1 : jobs, .out = fd };
		launcher(&l);
	}
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
