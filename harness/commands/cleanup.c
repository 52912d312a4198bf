/* Undoing what an interrupted command leaves behind (cleanup.h). */
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * Fixed tables: the handler may only read what it finds, with calls that
 * are async-signal-safe (kill, waitpid, nanosleep, unlink, rmdir).  An
 * entry's `used` is set after its contents and cleared before they change.
 */
#define MAX_PATHS 96
#define MAX_CHILDREN 1100	/* matrix --jobs goes to 1024 */

static struct {
	volatile sig_atomic_t used;
	int scratch;	/* a directory whose files are emptied first */
	char path[PATH_MAX];
} paths[MAX_PATHS];

static struct {
	volatile sig_atomic_t used;
	pid_t pid;
	int group;
} children[MAX_CHILDREN];

static const int signals[] = { SIGINT, SIGTERM, SIGHUP };

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void stop_children(void)
{
	static char reaped[MAX_CHILDREN];
	for (int i = 0; i < MAX_CHILDREN; i++) {
		reaped[i] = 0;
		if (children[i].used)
			kill(children[i].group ? -children[i].pid : children[i].pid, SIGTERM);
	}
	/* Two seconds to clean up after themselves (a matrix row removes
	 * its own build directory), then they are killed. */
	for (int tick = 0; tick < 200; tick++) {
		int left = 0;
		for (int i = 0; i < MAX_CHILDREN; i++) {
			if (!children[i].used)
				continue;
			if (!reaped[i]) {
				if (waitpid(children[i].pid, NULL, WNOHANG) == 0)
					left = 1;
				else
					reaped[i] = 1;
			}
			/* A group outlives its leader while the rest clean up
			 * (collect2 removes its temporaries on SIGTERM after the
			 * driver has gone): wait for the group to empty too. */
			if (reaped[i] && children[i].group && kill(-children[i].pid, 0) == 0)
				left = 1;
		}
		if (!left)
			break;
		pause_ms(10);
	}
	for (int i = 0; i < MAX_CHILDREN; i++) {
		if (!children[i].used)
			continue;
		/* a group: whatever its leader left running goes too */
		if (!reaped[i] || children[i].group)
			kill(children[i].group ? -children[i].pid : children[i].pid, SIGKILL);
		if (!reaped[i])
			waitpid(children[i].pid, NULL, 0);
		children[i].used = 0;
	}
}

static void on_signal(int sig)
{
	stop_children();
	for (int i = MAX_PATHS; i-- > 0;)
		if (paths[i].used) {
			if (paths[i].scratch)
				cleanup_empty_dir(paths[i].path);
			if (unlink(paths[i].path))
				rmdir(paths[i].path);
			paths[i].used = 0;
		}
	/* The default action, as if nothing had caught the signal. */
	signal(sig, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}

void cleanup_on_signals(void)
{
	static int installed;
	if (installed)
		return;
	installed = 1;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
		sigaddset(&sa.sa_mask, signals[i]);
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
		struct sigaction old;
		/* A signal ignored from the start (nohup) stays ignored. */
		if (!sigaction(signals[i], NULL, &old) && old.sa_handler == SIG_IGN)
			continue;
		sigaction(signals[i], &sa, NULL);
	}
}

void cleanup_add_path(const char *path)
{
	for (int i = 0; i < MAX_PATHS; i++)
		if (!paths[i].used) {
			snprintf(paths[i].path, sizeof paths[i].path, "%s", path);
			paths[i].scratch = 0;
			paths[i].used = 1;
			return;
		}
}

void cleanup_add_scratch_dir(const char *path)
{
	for (int i = 0; i < MAX_PATHS; i++)
		if (!paths[i].used) {
			snprintf(paths[i].path, sizeof paths[i].path, "%s", path);
			paths[i].scratch = 1;
			paths[i].used = 1;
			return;
		}
}

/* getdents64 into a static buffer and unlinkat: nothing that allocates,
 * so it is safe in the signal handler. */
void cleanup_empty_dir(const char *path)
{
	static char buf[4096];
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
		if (n <= 0)
			break;
		for (long off = 0; off < n;) {
			/* struct linux_dirent64: ino 8, off 8, reclen 2, type 1, name */
			unsigned short reclen;
			memcpy(&reclen, buf + off + 16, sizeof reclen);
			const char *name = buf + off + 19;
			if (strcmp(name, ".") && strcmp(name, ".."))
				unlinkat(fd, name, 0);
			off += reclen;
		}
	}
	close(fd);
}

void cleanup_forget_path(const char *path)
{
	for (int i = MAX_PATHS; i-- > 0;)
		if (paths[i].used && !strcmp(paths[i].path, path)) {
			paths[i].used = 0;
			return;
		}
}

void cleanup_add_child(pid_t pid, int group)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (!children[i].used) {
			children[i].pid = pid;
			children[i].group = group;
			children[i].used = 1;
			return;
		}
}

void cleanup_forget_child(pid_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i].used && children[i].pid == pid)
			children[i].used = 0;
}

void cleanup_after_fork(void)
{
	for (int i = 0; i < MAX_PATHS; i++)
		paths[i].used = 0;
	for (int i = 0; i < MAX_CHILDREN; i++)
		children[i].used = 0;
	pid_t parent = getppid();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)	/* the parent died before prctl */
		_exit(1);
}

static void interrupt_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
		sigaddset(set, signals[i]);
}

void cleanup_hold(sigset_t *old)
{
	sigset_t set;
	interrupt_set(&set);
	sigprocmask(SIG_BLOCK, &set, old);
}

void cleanup_release(const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
}

void cleanup_exec_defaults(void)
{
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
		struct sigaction old;
		if (!sigaction(signals[i], NULL, &old) && old.sa_handler == on_signal)
			signal(signals[i], SIG_DFL);
	}
}

pid_t cleanup_fork_piped(int *fd)
{
	int p[2];
	if (pipe(p))
		return -1;
	sigset_t held;
	cleanup_hold(&held);	/* no interrupt between fork and cleanup_add_child */
	pid_t pid = fork();
	if (pid < 0) {
		cleanup_release(&held);
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		cleanup_after_fork();
		cleanup_release(&held);
		close(p[0]);
		*fd = p[1];
		return 0;
	}
	close(p[1]);
	cleanup_add_child(pid, 0);
	cleanup_release(&held);
	*fd = p[0];
	return pid;
}
