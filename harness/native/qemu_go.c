/*
 * The native Go engine's qemu backend (go_engine.h): the program under
 * the arch's qemu-user (`qemu_user` of arch/<arch>/unicorn.c), driven
 * through qemu's gdbstub (`-g SOCKET`, the gdb remote protocol,
 * gdb_remote.c).  qemu 7.2 gives the guest no vDSO: the program's clock
 * reads take their fallback path, the system call.
 *
 * What the stub gives, as the engine uses it:
 *   - `g`/`G` the registers (gdb's block; the pc, SP and LR at the word
 *     offsets of arch/<arch>/ptrace.c), `m` memory;
 *   - `Z0`/`z0` breakpoints that are the emulator's own (the code is not
 *     written; the stop's pc is the breakpoint's address);
 *   - `vCont;s:TID` one instruction of one thread, `vCont;c` /
 *     `vCont;C SIG:TID` continue, with a signal: linux-user hands the
 *     signal to the guest in place of the stop's own (a SIGTRAP's siginfo,
 *     si_code TRAP_BRKPT), so the program's own handler runs for it;
 *   - a stop packet `T SIG thread:TID;` for a trap or a signal about to be
 *     delivered (every signal of every thread comes to the stub first),
 *     `W`/`X` the exit.
 * What it does not: stop the other threads.  linux-user's stub talks to
 * whichever guest thread stops, while the others run on, and two threads
 * stopped at once both read its socket: a packet then resumes whichever
 * reads it.  So the other guest threads are held below the stub, by the
 * host's ptrace on the emulator's own threads (q_hold_others).  A stop of
 * a thread not held (a "foreign" stop: before the threads are held, or
 * where host ptrace is refused) is answered at once -- its signal
 * dropped (the ptrace backend's held threads get theirs later; this one
 * never does), a breakpoint stepped over -- and counted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arch_ops.h"
#include "gdb_remote.h"
#include "go_engine.h"
#include "ptrace_arch.h"

#define MAX_ZBPS 8

struct qemu {
	const struct arch_ops *ops;
	const struct ptrace_arch *pa;
	struct go_engine_stats *st;
	struct gdb_remote g;
	pid_t pid;
	char dir[256], sock[300];
	long last_tid;		/* the thread of the last stop */
	long g_tid;		/* the thread `g` reads: the last stop's, or Hg's */
	struct go_stop queued[8];	/* stops that came while waiting for another thread's */
	int nqueued;
	pid_t held[64];		/* the emulator's threads held under host ptrace */
	int nheld;
	int cannot_hold;	/* PTRACE_SEIZE refused: threads run on */
	uint64_t zbp[MAX_ZBPS];	/* the Z0 breakpoints in */
	size_t regs_size;
	char pkt[16384];
};

/* gdb's signal numbers (gdb/signals.def) against this host's. */
static const struct { int gdb, host; } sigmap[] = {
	{ 1, SIGHUP }, { 2, SIGINT }, { 3, SIGQUIT }, { 4, SIGILL }, { 5, SIGTRAP }, { 6, SIGABRT },
	{ 8, SIGFPE }, { 9, SIGKILL }, { 10, SIGBUS }, { 11, SIGSEGV }, { 12, SIGSYS }, { 13, SIGPIPE },
	{ 14, SIGALRM }, { 15, SIGTERM }, { 16, SIGURG }, { 17, SIGSTOP }, { 18, SIGTSTP }, { 19, SIGCONT },
	{ 20, SIGCHLD }, { 21, SIGTTIN }, { 22, SIGTTOU }, { 23, SIGIO }, { 24, SIGXCPU }, { 25, SIGXFSZ },
	{ 26, SIGVTALRM }, { 27, SIGPROF }, { 28, SIGWINCH }, { 30, SIGUSR1 }, { 31, SIGUSR2 }, { 32, SIGPWR },
};

static int sig_from_gdb(int s)
{
	for (size_t i = 0; i < sizeof sigmap / sizeof sigmap[0]; i++)
		if (sigmap[i].gdb == s)
			return sigmap[i].host;
	return s;
}

static int sig_to_gdb(int s)
{
	for (size_t i = 0; i < sizeof sigmap / sizeof sigmap[0]; i++)
		if (sigmap[i].host == s)
			return sigmap[i].gdb;
	return s;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* hex text into bytes; the number of bytes, -1 if not hex. */
static long unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (; s[0] && s[1]; s += 2) {
		int a = hexval(s[0]), b = hexval(s[1]);
		if (a < 0 || b < 0 || n == cap)
			return -1;
		out[n++] = (uint8_t)(a << 4 | b);
	}
	return s[0] ? -1 : (long)n;
}

static void tohex(const uint8_t *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = 0;
}

static void parse_stop(struct qemu *q, const char *p, struct go_stop *st);
static int held(const struct qemu *q, long tid);

/* Is it a stop packet (of some thread), not a command's reply? */
static int is_stop(const char *p)
{
	return ((p[0] == 'T' || p[0] == 'S') && strstr(p, "thread:")) ||
	       ((p[0] == 'W' || p[0] == 'X') && hexval(p[1]) >= 0 && hexval(p[2]) >= 0 && !p[3]);
}

/* cmd's reply into q->pkt.  A stop of another thread that comes first
 * (its signal reached the stub while this one was stopped) is queued;
 * the reply to a ping (below) passed over.  Its length, or -1. */
static int command(struct qemu *q, const char *cmd)
{
	if (gdb_send(&q->g, cmd))
		return -1;
	for (;;) {
		int n = gdb_recv(&q->g, q->pkt, sizeof q->pkt, go_engine_now() + 10);
		if (n < 0)
			return -1;
		if (!is_stop(q->pkt))
			return n;
		if (q->nqueued < (int)(sizeof q->queued / sizeof q->queued[0]))
			parse_stop(q, q->pkt, &q->queued[q->nqueued++]);
		q->g_tid = q->last_tid;	/* the stub now points at that thread */
	}
}

/* A command whose reply is "OK". */
static int ok(struct qemu *q, const char *cmd)
{
	return command(q, cmd) >= 0 && !strcmp(q->pkt, "OK") ? 0 : -1;
}

/* --- registers and memory ---------------------------------------------- */

static uint64_t word_at(struct qemu *q, const void *regs, int n)
{
	uint64_t v = 0;
	memcpy(&v, (const uint8_t *)regs + (size_t)n * q->ops->word_size, q->ops->word_size);	/* little-endian, as the host */
	return v;
}

static uint64_t q_pc(void *c, const void *r) { struct qemu *q = c; return word_at(q, r, q->pa->gdb_pc); }
static uint64_t q_sp(void *c, const void *r) { struct qemu *q = c; return word_at(q, r, q->pa->gdb_sp); }
static uint64_t q_reg(void *c, const void *r, int n) { return word_at(c, r, n); }

static void q_set_pc(void *c, void *r, uint64_t pc)
{
	struct qemu *q = c;
	memcpy((uint8_t *)r + (size_t)q->pa->gdb_pc * q->ops->word_size, &pc, q->ops->word_size);
}

/* The stub's registers are the thread's of the last stop (the engine
 * reads only the thread it has just seen stop). */
static int reg_thread(struct qemu *q, long tid)
{
	char cmd[32];
	if (!tid || tid == q->g_tid)
		return 0;
	snprintf(cmd, sizeof cmd, "Hg%lx", tid);
	if (ok(q, cmd))
		return -1;
	q->g_tid = tid;
	return 0;
}

static int q_get_regs(void *c, long tid, void *regs)
{
	struct qemu *q = c;
	uint8_t tmp[GO_ENGINE_REGS_MAX];
	if (reg_thread(q, tid) || command(q, "g") < 0)
		return -1;
	long n = unhex(q->pkt, tmp, sizeof tmp);
	if (n <= 0 || (q->regs_size && (size_t)n != q->regs_size))
		return -1;
	memcpy(regs, tmp, (size_t)n);
	return 0;
}

static int q_set_regs(void *c, long tid, const void *regs)
{
	struct qemu *q = c;
	char cmd[2 * GO_ENGINE_REGS_MAX + 2];
	if (reg_thread(q, tid))
		return -1;
	cmd[0] = 'G';
	tohex(regs, q->regs_size, cmd + 1);
	return ok(q, cmd);
}

static int q_mem_read(void *c, uint64_t addr, void *buf, size_t n)
{
	struct qemu *q = c;
	char cmd[64];
	snprintf(cmd, sizeof cmd, "m%" PRIx64 ",%zx", addr, n);
	if (command(q, cmd) < 0)
		return -1;
	return unhex(q->pkt, buf, n) == (long)n ? 0 : -1;
}

static int q_bp_insert(void *c, uint64_t addr, uint8_t *orig)
{
	struct qemu *q = c;
	char cmd[64];
	(void)orig;
	snprintf(cmd, sizeof cmd, "Z0,%" PRIx64 ",%x", addr, q->pa->gdb_bp_kind);
	if (ok(q, cmd))
		return -1;
	for (int i = 0; i < MAX_ZBPS; i++)
		if (!q->zbp[i]) {
			q->zbp[i] = addr;
			break;
		}
	return 0;
}

static int q_bp_remove(void *c, uint64_t addr, const uint8_t *orig)
{
	struct qemu *q = c;
	char cmd[64];
	(void)orig;
	for (int i = 0; i < MAX_ZBPS; i++)
		if (q->zbp[i] == addr)
			q->zbp[i] = 0;
	snprintf(cmd, sizeof cmd, "z0,%" PRIx64 ",%x", addr, q->pa->gdb_bp_kind);
	return ok(q, cmd);
}

/* --- running --------------------------------------------------------------- */

static int q_resume(void *c, long tid, int sig, int step)
{
	struct qemu *q = c;
	char cmd[64];
	if (!tid)
		tid = q->last_tid;
	if (sig)
		snprintf(cmd, sizeof cmd, "vCont;%c%02x:%lx", step ? 'S' : 'C', sig_to_gdb(sig), tid);
	else
		snprintf(cmd, sizeof cmd, "vCont;%c:%lx", step ? 's' : 'c', tid);
	return gdb_send(&q->g, cmd);
}

/* A stop packet read: T/S (kind, sig, tid), W/X (exit). */
static void parse_stop(struct qemu *q, const char *p, struct go_stop *st)
{
	*st = (struct go_stop){ .kind = GO_STOP_ERROR, .tid = q->last_tid };
	int a = p[0] ? hexval(p[1]) : -1, b = a >= 0 ? hexval(p[2]) : -1;
	if (a < 0 || b < 0)
		return;
	int s = a << 4 | b;
	if (p[0] == 'W' || p[0] == 'X') {
		st->kind = GO_STOP_EXITED;
		st->status = p[0] == 'W' ? s : -1;
		return;
	}
	if (p[0] != 'T' && p[0] != 'S')
		return;
	const char *t = strstr(p, "thread:");
	if (t) {
		t += 7;
		const char *dot = strchr(t, '.');	/* pPID.TID when multiprocess */
		if (*t == 'p' && dot)
			t = dot + 1;
		st->tid = strtol(t, NULL, 16);
	}
	q->last_tid = st->tid;
	st->sig = sig_from_gdb(s);
	st->kind = st->sig == SIGTRAP ? GO_STOP_TRAP : GO_STOP_SIGNAL;
}

static int is_zbp(const struct qemu *q, uint64_t pc)
{
	for (int i = 0; i < MAX_ZBPS; i++)
		if (q->zbp[i] == pc)
			return 1;
	return 0;
}

/* Another thread stopped while tid is the engine's: let it go on. */
static int foreign(struct qemu *q, const struct go_stop *st, double deadline)
{
	q->st->foreign_stops++;
	char cmd[64];
	if (st->kind == GO_STOP_SIGNAL) {	/* the signal dropped */
		snprintf(cmd, sizeof cmd, "vCont;c:%lx", st->tid);
		return gdb_send(&q->g, cmd);
	}
	uint8_t regs[GO_ENGINE_REGS_MAX];
	if (q_get_regs(q, st->tid, regs))
		return -1;
	uint64_t pc = q_pc(q, regs);
	if (!is_zbp(q, pc)) {
		snprintf(cmd, sizeof cmd, "vCont;c:%lx", st->tid);
		return gdb_send(&q->g, cmd);
	}
	/* At one of our breakpoints: one instruction without it. */
	snprintf(cmd, sizeof cmd, "z0,%" PRIx64 ",%x", pc, q->pa->gdb_bp_kind);
	if (ok(q, cmd))
		return -1;
	snprintf(cmd, sizeof cmd, "vCont;s:%lx", st->tid);
	if (gdb_send(&q->g, cmd))
		return -1;
	for (;;) {	/* its step's stop; any other is queued */
		int n = gdb_recv(&q->g, q->pkt, sizeof q->pkt, deadline);
		if (n < 0)
			return -1;
		if (!is_stop(q->pkt))
			continue;
		struct go_stop s2;
		parse_stop(q, q->pkt, &s2);
		q->g_tid = s2.tid;
		if (s2.tid == st->tid)
			break;
		if (q->nqueued < (int)(sizeof q->queued / sizeof q->queued[0]))
			q->queued[q->nqueued++] = s2;
	}
	snprintf(cmd, sizeof cmd, "Z0,%" PRIx64 ",%x", pc, q->pa->gdb_bp_kind);
	if (ok(q, cmd))
		return -1;
	snprintf(cmd, sizeof cmd, "vCont;c:%lx", st->tid);
	return gdb_send(&q->g, cmd);
}

static void q_wait(void *c, long tid, struct go_stop *st, double deadline)
{
	struct qemu *q = c;
	for (;;) {
		for (int i = 0; i < q->nqueued; i++) {
			if (tid && held(q, q->queued[i].tid))
				continue;	/* answered when it is let go */
			*st = q->queued[i];
			memmove(&q->queued[i], &q->queued[i + 1], (size_t)(--q->nqueued - i) * sizeof q->queued[0]);
			i--;
			q->last_tid = st->tid;
			if (!tid || st->tid == tid || st->kind == GO_STOP_EXITED)
				return;
			if (foreign(q, st, deadline)) {
				st->kind = GO_STOP_ERROR;
				return;
			}
		}
		int n = gdb_recv(&q->g, q->pkt, sizeof q->pkt, deadline);
		if (n == -2) {
			*st = (struct go_stop){ .kind = GO_STOP_DEADLINE, .tid = tid };
			return;
		}
		if (n < 0) {
			/* The stub closes the connection when the program ends. */
			int status;
			*st = (struct go_stop){ .kind = GO_STOP_ERROR, .tid = tid };
			while (q->pid > 0 && go_engine_now() < deadline) {
				pid_t got = waitpid(q->pid, &status, WNOHANG);
				if (got == q->pid) {
					q->pid = 0;
					st->kind = GO_STOP_EXITED;
					st->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
					break;
				}
				if (got < 0)
					break;
				struct timespec ts = { 0, 1000000 };
				nanosleep(&ts, NULL);
			}
			return;
		}
		if (!is_stop(q->pkt))
			continue;	/* a late reply read by another thread than meant: passed over */
		parse_stop(q, q->pkt, st);
		q->g_tid = st->tid;
		if (!tid || st->tid == tid || st->kind == GO_STOP_EXITED || st->kind == GO_STOP_ERROR)
			return;
		if (foreign(q, st, deadline)) {
			st->kind = GO_STOP_ERROR;
			return;
		}
	}
}

static int held(const struct qemu *q, long tid)
{
	for (int i = 0; i < q->nheld; i++)
		if (q->held[i] == tid)
			return 1;
	return 0;
}

/* Was host thread t stopped inside a system call (its
 * /proc/PID/task/TID/syscall names one), not in user code? */
static int in_syscall(const struct qemu *q, pid_t t)
{
	char path[96], line[64] = "";
	snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", (int)q->pid, (int)t);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int ok = fgets(line, sizeof line, f) && line[0] >= '0' && line[0] <= '9';
	fclose(f);
	return ok;
}

/*
 * One more of the emulator's threads stopped where it is, by the host's
 * ptrace (linux-user runs each guest thread on a host thread of the same
 * id).  Only one that was waiting in a system call is kept: one stopped
 * while it ran (guest code, or the emulator's own) would hold up the
 * others, since qemu flushes its translations at every gdbstub stop with
 * every CPU out of guest code (seen: a thread stopped mid-run, and the
 * stepped one never stopped again).  That one is let go, to be held at a
 * later try.  0 held, 1 not now, -1 not allowed.
 */
/* Thread t (seized) into its interrupt stop; a signal it stops for on
 * the way is given back to it.  0, or -1 (it ended). */
static int interrupt_stop(pid_t t)
{
	if (ptrace(PTRACE_INTERRUPT, t, NULL, NULL))
		return -1;
	for (;;) {
		int status;
		if (waitpid(t, &status, __WALL) != t || !WIFSTOPPED(status))
			return -1;
		if (status >> 16 == PTRACE_EVENT_STOP)
			return 0;
		if (ptrace(PTRACE_CONT, t, NULL, (void *)(long)WSTOPSIG(status)))
			return -1;
	}
}

static int hold_thread(struct qemu *q, pid_t t, double deadline)
{
	if (q->nheld == (int)(sizeof q->held / sizeof q->held[0]) || ptrace(PTRACE_SEIZE, t, NULL, NULL))
		return -1;
	/* A thread that runs (a Go M spinning for work) waits in a system
	 * call soon: tried again for a while, then left to a later call. */
	for (int try = 0;; try++) {
		if (interrupt_stop(t))
			return 1;	/* it ended */
		if (in_syscall(q, t)) {
			q->held[q->nheld++] = t;
			return 0;
		}
		if (try == 200 || go_engine_now() > deadline) {
			ptrace(PTRACE_DETACH, t, NULL, NULL);
			return 1;
		}
		if (ptrace(PTRACE_CONT, t, NULL, NULL))
			return 1;
		struct timespec ts = { 0, 500000 };
		nanosleep(&ts, NULL);
	}
}

/*
 * The stub cannot stop the other threads, and two threads stopped at
 * once both read its socket.  So every guest thread but tid (the stub's
 * thread list) is held below it, by the host's ptrace on the emulator's
 * own threads: a held thread runs no guest code, takes no signal, and,
 * if it was stopped in the stub already, reads nothing more.  Where host
 * ptrace is refused the threads run on (foreign stops, above).
 */
static int q_hold_others(void *c, long tid, double deadline)
{
	struct qemu *q = c;
	char list[4096] = "";
	const char *cmd = "qfThreadInfo";
	for (;;) {
		if (command(q, cmd) < 0)
			return -1;
		if (q->pkt[0] != 'm')
			break;
		if (strlen(list) + strlen(q->pkt) + 2 < sizeof list) {
			strcat(list, q->pkt + 1);
			strcat(list, ",");
		}
		cmd = "qsThreadInfo";
	}
	if (q->cannot_hold)
		return 0;
	for (char *p = list; *p;) {
		char *end = strchr(p, ',');
		if (end)
			*end = 0;
		const char *id = *p == 'p' && strchr(p, '.') ? strchr(p, '.') + 1 : p;
		long t = strtol(id, NULL, 16);
		if (t > 0 && t != tid && !held(q, t)) {
			int r = hold_thread(q, (pid_t)t, deadline);
			if (r < 0)
				q->cannot_hold = q->st->threads_unheld = 1;
			else if (r == 0)
				q->st->threads_held++;
		}
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

/* The held threads let go (their stops in the stub, if any, still to be
 * answered). */
static void release_held(struct qemu *q)
{
	for (int i = 0; i < q->nheld; i++)
		ptrace(PTRACE_DETACH, q->held[i], NULL, NULL);
	q->nheld = 0;
}

static void q_kill(void *c)
{
	struct qemu *q = c;
	int status;
	release_held(q);
	if (q->pid > 0) {
		kill(q->pid, SIGKILL);
		waitpid(q->pid, &status, 0);
	}
	q->pid = 0;
}

static int q_finish(void *c, double deadline)
{
	struct qemu *q = c;
	long me = q->last_tid;
	release_held(q);
	if (q_resume(q, me, 0, 0))
		goto killed;
	for (;;) {
		struct go_stop st;
		q_wait(q, 0, &st, deadline);
		if (st.kind == GO_STOP_EXITED)
			return st.status;
		if (st.kind == GO_STOP_DEADLINE || st.kind == GO_STOP_ERROR)
			goto killed;
		/* The program's own signals go on to it; nothing of ours is left. */
		if (q_resume(q, st.tid, st.kind == GO_STOP_SIGNAL ? st.sig : 0, 0))
			goto killed;
	}
killed:
	q_kill(q);
	return -1;
}

static void q_vdso(void *c, uint64_t *lo, uint64_t *hi)
{
	(void)c;
	*lo = *hi = 0;	/* qemu-user 7.2 maps none */
}

static void q_free(void *c)
{
	struct qemu *q = c;
	if (!q)
		return;
	gdb_close(&q->g);
	q_kill(q);
	if (q->sock[0])
		unlink(q->sock);
	if (q->dir[0])
		rmdir(q->dir);
	free(q);
}

/* --- start ----------------------------------------------------------------- */

int qemu_backend_start(const char *program, const struct arch_ops *ops, const struct ptrace_arch *pa,
		       double deadline, struct go_backend *be, struct go_engine_stats *st, char *err, size_t errlen)
{
	if (!ops->qemu_user) {
		snprintf(err, errlen, "no qemu-user emulator is known for %s", ops->name);
		return 2;
	}
	struct qemu *q = calloc(1, sizeof *q);
	if (!q) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	q->ops = ops;
	q->pa = pa;
	q->st = st;
	q->g.fd = -1;
	snprintf(st->emulator, sizeof st->emulator, "%s", ops->qemu_user);
	const char *tmp = getenv("TMPDIR");
	snprintf(q->dir, sizeof q->dir, "%s/sigstep-gdb-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(q->dir)) {
		snprintf(err, errlen, "cannot make a directory in %s: %s", tmp && *tmp ? tmp : "/tmp", strerror(errno));
		q->dir[0] = 0;
		q_free(q);
		return 2;
	}
	snprintf(q->sock, sizeof q->sock, "%s/gdb", q->dir);
	int report[2];
	if (pipe2(report, O_CLOEXEC)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		q_free(q);
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(report[0]), close(report[1]);
		q_free(q);
		return 2;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0), dup2(null, 1), dup2(null, 2);	/* one line of ours says what went wrong */
		setenv("GOMAXPROCS", "1", 0);	/* one P unless the caller chose: fewer threads running */
		char *argv[] = { (char *)ops->qemu_user, "-g", q->sock, (char *)program, NULL };
		execvp(ops->qemu_user, argv);
		int e = errno;
		if (write(report[1], &e, sizeof e) < 0)
			_exit(127);
		_exit(127);
	}
	close(report[1]);
	q->pid = pid;
	int e = 0;
	ssize_t got = read(report[0], &e, sizeof e);
	close(report[0]);
	if (got == (ssize_t)sizeof e) {
		snprintf(err, errlen, "cannot run %s: %s", ops->qemu_user, strerror(e));
		q_free(q);
		return 2;
	}
	struct go_stop s;
	if (gdb_connect(&q->g, q->sock, deadline < go_engine_now() + 10 ? deadline : go_engine_now() + 10) ||
	    gdb_command(&q->g, "?", q->pkt, sizeof q->pkt, go_engine_now() + 10) < 0) {
		snprintf(err, errlen, "%s's gdbstub did not answer at %s", ops->qemu_user, q->sock);
		q_free(q);
		return 2;
	}
	parse_stop(q, q->pkt, &s);
	uint8_t regs[GO_ENGINE_REGS_MAX];
	if (s.kind != GO_STOP_TRAP || q_get_regs(q, s.tid, regs)) {
		snprintf(err, errlen, "%s's gdbstub: no first stop of %s (got '%.40s')", ops->qemu_user, program, q->pkt);
		q_free(q);
		return 2;
	}
	/* The block's size, as the stub gives it for this arch. */
	q->regs_size = strlen(q->pkt) / 2;
	*be = (struct go_backend){
		.name = "qemu", .ctx = q, .regs_size = q->regs_size, .bp_size = 0, .trap_pc_after = 0,
		.hold_from_root = 1,
		.pc = q_pc, .sp = q_sp, .set_pc = q_set_pc, .reg = q_reg,
		.get_regs = q_get_regs, .set_regs = q_set_regs, .mem_read = q_mem_read,
		.bp_insert = q_bp_insert, .bp_remove = q_bp_remove, .resume = q_resume, .wait = q_wait,
		.hold_others = q_hold_others, .finish = q_finish, .kill = q_kill, .vdso = q_vdso, .free = q_free,
	};
	return 0;
}
