/*
 * The native Go engine's ptrace backend (go_engine.h): the program on
 * this machine's CPU with the kernel's own vDSO.  fork, PTRACE_TRACEME,
 * exec; every thread traced (PTRACE_O_TRACECLONE); no address
 * randomisation.  Memory goes through /proc/PID/mem, which writes the
 * text and the vDSO as ptrace's POKE does (copy on write); a breakpoint
 * is the arch's trap instruction written over the code.  Holding the
 * other threads is a SIGSTOP each, swallowed afterwards.
 */
#define _GNU_SOURCE	/* tgkill, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch_ops.h"
#include "go_engine.h"
#include "ptrace_arch.h"

#define MAX_THREADS 64

struct thread {
	pid_t tid;
	int held;		/* in a ptrace-stop we keep */
	int pending;		/* a real signal to pass on when let go */
};

struct ptracer {
	const struct arch_ops *ops;
	const struct ptrace_arch *pa;
	pid_t pid;
	int memfd;
	struct thread th[MAX_THREADS];
	int nth;
	struct sigaction old_sa;
	struct itimerval old_tick;
};

static struct thread *thread_find(struct ptracer *p, pid_t tid)
{
	for (int i = 0; i < p->nth; i++)
		if (p->th[i].tid == tid)
			return &p->th[i];
	return NULL;
}

static struct thread *thread_add(struct ptracer *p, pid_t tid)
{
	struct thread *th = thread_find(p, tid);
	if (th || p->nth == MAX_THREADS)
		return th;
	th = &p->th[p->nth++];
	memset(th, 0, sizeof *th);
	th->tid = tid;
	return th;
}

static void thread_drop(struct ptracer *p, pid_t tid)
{
	for (int i = 0; i < p->nth; i++)
		if (p->th[i].tid == tid) {
			p->th[i] = p->th[--p->nth];
			return;
		}
}

/* waitpid, bounded by the deadline (an interval timer interrupts it).
 * The tid, 0 when the deadline passed, -1 on error. */
static pid_t wait_for(pid_t which, int *status, double deadline)
{
	for (;;) {
		if (go_engine_now() > deadline)
			return 0;
		pid_t got = waitpid(which, status, __WALL);
		if (got >= 0)
			return got;
		if (errno != EINTR)
			return -1;
	}
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* --- the backend's operations ------------------------------------------ */

static uint64_t p_pc(void *c, const void *r) { return ((struct ptracer *)c)->pa->pc(r); }
static uint64_t p_sp(void *c, const void *r) { return ((struct ptracer *)c)->pa->sp(r); }
static void p_set_pc(void *c, void *r, uint64_t pc) { ((struct ptracer *)c)->pa->set_pc(r, pc); }
static uint64_t p_reg(void *c, const void *r, int n) { return ((struct ptracer *)c)->pa->reg(r, n); }

static int p_get_regs(void *c, long tid, void *regs)
{
	(void)c;
	return ptrace(PTRACE_GETREGS, (pid_t)tid, NULL, regs) == 0 ? 0 : -1;
}

static int p_set_regs(void *c, long tid, const void *regs)
{
	(void)c;
	return ptrace(PTRACE_SETREGS, (pid_t)tid, NULL, regs) == 0 ? 0 : -1;
}

static int p_mem_read(void *c, uint64_t addr, void *buf, size_t n)
{
	struct ptracer *p = c;
	return pread(p->memfd, buf, n, (off_t)addr) == (ssize_t)n ? 0 : -1;
}

static int mem_write(struct ptracer *p, uint64_t addr, const void *buf, size_t n)
{
	return pwrite(p->memfd, buf, n, (off_t)addr) == (ssize_t)n ? 0 : -1;
}

static int p_bp_insert(void *c, uint64_t addr, uint8_t *orig)
{
	struct ptracer *p = c;
	return p_mem_read(p, addr, orig, p->pa->bp_size) || mem_write(p, addr, p->pa->bp_insn, p->pa->bp_size) ? -1 : 0;
}

static int p_bp_remove(void *c, uint64_t addr, const uint8_t *orig)
{
	struct ptracer *p = c;
	return mem_write(p, addr, orig, p->pa->bp_size);
}

static int p_resume(void *c, long tid, int sig, int step)
{
	struct ptracer *p = c;
	if (!tid)
		tid = p->pid;
	struct thread *th = thread_find(p, (pid_t)tid);
	if (th)
		th->held = 0;
	return ptrace(step ? PTRACE_SINGLESTEP : PTRACE_CONT, (pid_t)tid, NULL, (void *)(long)sig) == 0 ? 0 : -1;
}

/* The next stop that is the engine's business: clone events are taken
 * here (the new thread traced, the parent resumed), a thread other than
 * the leader ending is dropped. */
static void p_wait(void *c, long tid, struct go_stop *st, double deadline)
{
	struct ptracer *p = c;
	for (;;) {
		int status;
		pid_t got = wait_for(tid ? (pid_t)tid : -1, &status, deadline);
		*st = (struct go_stop){ .kind = GO_STOP_ERROR, .tid = got };
		if (got == 0) {
			st->kind = GO_STOP_DEADLINE;
			return;
		}
		if (got < 0)
			return;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			thread_drop(p, got);
			if (got == p->pid || got == tid) {
				st->kind = GO_STOP_EXITED;
				st->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
				return;
			}
			continue;
		}
		struct thread *th = thread_add(p, got);
		if (!th)
			return;
		int s = WSTOPSIG(status);
		if (s == SIGTRAP && (status >> 16) == PTRACE_EVENT_CLONE) {
			unsigned long nt;
			if (ptrace(PTRACE_GETEVENTMSG, got, NULL, &nt) == 0)
				thread_add(p, (pid_t)nt);
			ptrace(PTRACE_CONT, got, NULL, NULL);
			continue;
		}
		st->kind = s == SIGTRAP ? GO_STOP_TRAP : GO_STOP_SIGNAL;
		st->sig = s;
		th->held = 1;	/* in a stop until resumed */
		return;
	}
}

/* Every thread but tid into a ptrace-stop we hold (SIGSTOP, swallowed). */
static int p_hold_others(void *c, long tid, double deadline)
{
	struct ptracer *p = c;
	struct thread *me = thread_find(p, (pid_t)tid);
	if (!me)
		return -1;
	me->held = 1;
	for (int i = 0; i < p->nth; i++)
		if (p->th[i].tid != tid && !p->th[i].held)
			syscall(SYS_tgkill, p->pid, p->th[i].tid, SIGSTOP);
	for (;;) {
		int all = 1;
		for (int i = 0; i < p->nth; i++)
			all &= p->th[i].held || p->th[i].tid == tid;
		if (all)
			return 0;
		int status;
		pid_t got = wait_for(-1, &status, deadline);
		if (got <= 0)
			return -1;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			thread_drop(p, got);
			if (got == tid)
				return -1;
			continue;
		}
		struct thread *o = thread_add(p, got);	/* a new thread's first stop */
		if (!o)
			return -1;
		int s = WSTOPSIG(status);
		if (s == SIGSTOP) {
			o->held = 1;
			continue;
		}
		if (s == SIGTRAP && (status >> 16) == PTRACE_EVENT_CLONE) {
			unsigned long nt;
			if (ptrace(PTRACE_GETEVENTMSG, got, NULL, &nt) == 0)
				thread_add(p, (pid_t)nt);	/* its own SIGSTOP stop arrives */
			ptrace(PTRACE_CONT, got, NULL, NULL);	/* our SIGSTOP is still pending: it stops next */
			continue;
		}
		uint8_t regs[GO_ENGINE_REGS_MAX];
		if (s == SIGTRAP && ptrace(PTRACE_GETREGS, got, NULL, regs) == 0) {
			/* At one of the breakpoints (the engine's, set at the
			 * trap's pc less trap_pc_after): back to it, to run it
			 * again when resumed.  A single-step trap cannot be
			 * pending here: only the chosen thread steps. */
			uint8_t b;
			uint64_t at = p->pa->pc(regs) - p->pa->trap_pc_after;
			if (p_mem_read(p, at, &b, 1) == 0 && p->pa->bp_size == 1 && b == p->pa->bp_insn[0]) {
				p->pa->set_pc(regs, at);
				ptrace(PTRACE_SETREGS, got, NULL, regs);
			}
		}
		if (s != SIGTRAP && s != SIGPROF)
			o->pending = s;
		ptrace(PTRACE_CONT, got, NULL, NULL);
	}
}

/* The program killed and every thread of it reaped: a traced thread's
 * zombie must be waited for before its leader can be. */
static void p_kill(void *c)
{
	struct ptracer *p = c;
	int status;
	if (p->pid <= 0)
		return;
	kill(p->pid, SIGKILL);
	while (waitpid(-1, &status, __WALL) > 0 || errno == EINTR)
		;
	p->pid = 0;
}

static int p_finish(void *c, double deadline)
{
	struct ptracer *p = c;
	for (int i = 0; i < p->nth; i++)
		if (p->th[i].held)
			ptrace(PTRACE_DETACH, p->th[i].tid, NULL, (void *)(long)p->th[i].pending);
	/* Threads not held (none, normally) are detached when they stop. */
	for (;;) {
		int status;
		pid_t tid = wait_for(-1, &status, deadline);
		if (tid <= 0) {
			p_kill(p);
			return -1;
		}
		if (tid == p->pid && (WIFEXITED(status) || WIFSIGNALED(status))) {
			p->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		if (WIFSTOPPED(status))
			ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)(WSTOPSIG(status) == SIGSTOP ||
								    WSTOPSIG(status) == SIGTRAP ? 0 : WSTOPSIG(status)));
	}
}

/* Where the kernel mapped the vDSO in the program ([vdso] in its maps). */
static void p_vdso(void *c, uint64_t *lo, uint64_t *hi)
{
	struct ptracer *p = c;
	char path[64], line[512];
	*lo = *hi = 0;
	snprintf(path, sizeof path, "/proc/%d/maps", (int)p->pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		unsigned long a, b;
		if (strstr(line, "[vdso]") && sscanf(line, "%lx-%lx", &a, &b) == 2) {
			*lo = a;
			*hi = b;
		}
	}
	fclose(f);
}

static void p_free(void *c)
{
	struct ptracer *p = c;
	if (!p)
		return;
	p_kill(p);
	if (p->memfd >= 0)
		close(p->memfd);
	setitimer(ITIMER_REAL, &p->old_tick, NULL);
	sigaction(SIGALRM, &p->old_sa, NULL);
	free(p);
}

/* --- start ----------------------------------------------------------------- */

int ptrace_backend_start(const char *program, const struct arch_ops *ops, const struct ptrace_arch *pa,
			 double deadline, struct go_backend *be, int *refused, char *err, size_t errlen)
{
	(void)deadline;
	*refused = 0;
	if (!pa->regs_size) {
		*refused = 1;
		snprintf(err, errlen, "the ptrace engine cannot trace %s programs from this machine", ops->name);
		return 2;
	}
	struct ptracer *p = calloc(1, sizeof *p);
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	p->ops = ops;
	p->pa = pa;
	p->memfd = -1;
	int report[2];
	if (pipe2(report, O_CLOEXEC)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		free(p);
		return 2;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(report[0]), close(report[1]);
		free(p);
		return 2;
	}
	if (pid == 0) {
		int e = 0;
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0), dup2(null, 1);
		/* The same addresses every run (a static Go binary has fixed
		 * text; this fixes the stacks and the vDSO too). */
		personality(ADDR_NO_RANDOMIZE);
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			e = errno;
		else {
			char *argv[] = { (char *)program, NULL };
			/* One P unless the caller chose: fewer threads to hold. */
			setenv("GOMAXPROCS", "1", 0);
			execv(program, argv);
			e = -errno;
		}
		if (write(report[1], &e, sizeof e) < 0)
			_exit(127);
		_exit(127);
	}
	close(report[1]);
	p->pid = pid;
	int e = 0, status;
	ssize_t got = read(report[0], &e, sizeof e);
	close(report[0]);
	if (got == (ssize_t)sizeof e) {
		waitpid(pid, &status, 0);
		/* Refused: this machine cannot (no ptrace here, or its kernel
		 * does not run the arch's programs). */
		*refused = e > 0 || e == -ENOEXEC;
		if (e > 0)
			snprintf(err, errlen, "ptrace is not allowed here (PTRACE_TRACEME: %s)", strerror(e));
		else
			snprintf(err, errlen, "cannot run %s: %s", program, strerror(-e));
		free(p);
		return 2;
	}
	/* The exec stop. */
	if (waitpid(pid, &status, __WALL) != pid || !WIFSTOPPED(status)) {
		snprintf(err, errlen, "%s did not start under ptrace", program);
		free(p);
		return 2;
	}
	if (ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)(PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL))) {
		*refused = 1;
		snprintf(err, errlen, "ptrace is not allowed here (PTRACE_SETOPTIONS: %s)", strerror(errno));
		p_kill(p);
		free(p);
		return 2;
	}
	char mem[64];
	snprintf(mem, sizeof mem, "/proc/%d/mem", (int)pid);
	p->memfd = open(mem, O_RDWR | O_CLOEXEC);
	thread_add(p, pid);
	/* waitpid must not block past the deadline: a timer interrupts it. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;	/* no SA_RESTART */
	sigaction(SIGALRM, &sa, &p->old_sa);
	struct itimerval tick = { { 0, 100000 }, { 0, 100000 } };
	setitimer(ITIMER_REAL, &tick, &p->old_tick);
	if (p->memfd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", mem, strerror(errno));
		p_free(p);
		return 2;
	}
	*be = (struct go_backend){
		.name = "ptrace", .ctx = p, .regs_size = pa->regs_size, .bp_size = pa->bp_size,
		.trap_pc_after = pa->trap_pc_after,
		.pc = p_pc, .sp = p_sp, .set_pc = p_set_pc, .reg = p_reg,
		.get_regs = p_get_regs, .set_regs = p_set_regs, .mem_read = p_mem_read,
		.bp_insert = p_bp_insert, .bp_remove = p_bp_remove, .resume = p_resume, .wait = p_wait,
		.hold_others = p_hold_others, .finish = p_finish, .kill = p_kill, .vdso = p_vdso, .free = p_free,
	};
	return 0;
}
