/*
 * Trying a guest image on the host (host.h).  The child reports a failed
 * execve through a close-on-exec pipe, so "the kernel refused the ELF"
 * (ENOEXEC: no 32-bit support) is told apart from "it ran and failed".
 */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host.h"

#define TRY_TIMEOUT_MS 30000	/* one iteration takes milliseconds; this only bounds a wedged image */

struct cached {
	const struct arch_ops *ops;
	struct host_support s;
};
static struct cached cache[8];

/* Is `machine` a word of the space-separated `list`? */
static int listed(const char *list, const char *machine)
{
	size_t n = strlen(machine);
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, " ");
		if (len == n && !strncmp(p, machine, n))
			return 1;
		p += len;
		p += strspn(p, " ");
	}
	return 0;
}

static void try_image(const struct arch_ops *ops, const char *image, const char *machine, struct host_support *s)
{
	int out[2], report[2];
	if (pipe(out) || pipe2(report, O_CLOEXEC)) {
		snprintf(s->why, sizeof s->why, "pipe: %s", strerror(errno));
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(s->why, sizeof s->why, "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(out[1], 1);
		dup2(null, 2);
		close(out[0]);
		close(report[0]);
		char *argv[] = { (char *)image, "--vdso", "auto", "--iterations", "1", NULL };
		execv(image, argv);
		int e = errno;
		if (write(report[1], &e, sizeof e) < 0)
			_exit(127);
		_exit(127);
	}
	close(out[1]);
	close(report[1]);
	char buf[4096];
	size_t len = 0;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long left = TRY_TIMEOUT_MS - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		struct pollfd p = { out[0], POLLIN, 0 };
		if (left <= 0 || (poll(&p, 1, (int)left) == 0)) {
			kill(pid, SIGKILL);
			break;
		}
		char chunk[1024];
		ssize_t n = read(out[0], chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		size_t keep = (size_t)n < sizeof buf - 1 - len ? (size_t)n : sizeof buf - 1 - len;
		memcpy(buf + len, chunk, keep);
		len += keep;
	}
	buf[len] = 0;
	close(out[0]);
	int exec_errno = 0;
	ssize_t got = read(report[0], &exec_errno, sizeof exec_errno);
	close(report[0]);
	int ws;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (got == (ssize_t)sizeof exec_errno) {
		snprintf(s->why, sizeof s->why, "this machine (%s) cannot execute %s images: %s%s", machine, ops->name,
			 strerror(exec_errno),
			 exec_errno == ENOEXEC ? " (no support for the image's ELF class in this kernel)" : "");
		return;
	}
	if (WIFSIGNALED(ws)) {
		snprintf(s->why, sizeof s->why, "a %s image on this machine (%s) died of signal %d", ops->name, machine,
			 WTERMSIG(ws));
		return;
	}
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0 || !strstr(buf, "guest arch=")) {
		snprintf(s->why, sizeof s->why, "a %s image on this machine (%s) exited with status %d", ops->name,
			 machine, WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
		return;
	}
	s->runs = 1;
	s->kernel_vdso = strstr(buf, " vdso=kernel ") != NULL;
}

const struct host_support *host_support(const struct arch_ops *ops, const char *image)
{
	size_t i;
	for (i = 0; i < sizeof cache / sizeof cache[0] && cache[i].ops; i++)
		if (cache[i].ops == ops)
			return &cache[i].s;
	static struct host_support scratch;
	struct host_support *s = i < sizeof cache / sizeof cache[0] ? &cache[i].s : &scratch;
	memset(s, 0, sizeof *s);
	struct utsname u;
	if (uname(&u)) {
		snprintf(s->why, sizeof s->why, "uname: %s", strerror(errno));
	} else if (!listed(ops->host_machines, u.machine)) {
		snprintf(s->why, sizeof s->why, "this machine (%s) does not run %s images", u.machine, ops->name);
	} else {
		try_image(ops, image, u.machine, s);
	}
	if (s != &scratch)
		cache[i].ops = ops;
	return s;
}
