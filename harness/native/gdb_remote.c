/*
 * The gdb remote serial protocol, client side (gdb_remote.h).  No
 * run-length decoding: qemu's stub sends replies plain.  With
 * SIGSTEP_GDB_TRACE set in the environment every packet each way is
 * written to stderr ("> " sent, "< " received; the first 100 bytes).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fd_io.h"
#include "gdb_remote.h"
#include "go_engine.h"

int gdb_connect(struct gdb_remote *g, const char *path, double deadline)
{
	struct sockaddr_un a;
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof a.sun_path)
		return -1;
	strcpy(a.sun_path, path);
	g->nin = 0;
	for (;;) {
		g->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (g->fd < 0)
			return -1;
		if (connect(g->fd, (struct sockaddr *)&a, sizeof a) == 0)
			return 0;
		close(g->fd);
		g->fd = -1;
		if ((errno != ENOENT && errno != ECONNREFUSED) || go_engine_now() > deadline)
			return -1;
		struct timespec ts = { 0, 5000000 };
		nanosleep(&ts, NULL);
	}
}

static int tracing(void)
{
	static int on = -1;
	if (on < 0)
		on = getenv("SIGSTEP_GDB_TRACE") != NULL;
	return on;
}

int gdb_send(struct gdb_remote *g, const char *data)
{
	char pkt[8192];
	unsigned sum = 0;
	size_t n = strlen(data);
	if (n + 5 > sizeof pkt)
		return -1;
	for (size_t i = 0; i < n; i++)
		sum += (unsigned char)data[i];
	int len = snprintf(pkt, sizeof pkt, "$%s#%02x", data, sum & 0xff);
	if (tracing())
		fprintf(stderr, "> %.100s\n", data);
	return fd_write_all(g->fd, pkt, (size_t)len);
}

/* More bytes in, waiting at most until the deadline.  0, -1, -2. */
static int fill(struct gdb_remote *g, double deadline)
{
	if (g->nin == sizeof g->in)
		return -1;
	for (;;) {
		double left = deadline - go_engine_now();
		if (left <= 0)
			return -2;
		struct pollfd p = { g->fd, POLLIN, 0 };
		int r = poll(&p, 1, left > 1 ? 1000 : (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		ssize_t got = read(g->fd, g->in + g->nin, sizeof g->in - g->nin);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		g->nin += (size_t)got;
		return 0;
	}
}

int gdb_recv(struct gdb_remote *g, char *out, size_t outlen, double deadline)
{
	for (;;) {
		/* Acknowledgements and noise before a packet's '$' are passed over. */
		size_t start = 0;
		while (start < g->nin && g->in[start] != '$')
			start++;
		if (start) {
			memmove(g->in, g->in + start, g->nin - start);
			g->nin -= start;
		}
		char *hash = g->nin ? memchr(g->in, '#', g->nin) : NULL;
		if (hash && (size_t)(hash - g->in) + 3 <= g->nin) {
			size_t n = (size_t)(hash - g->in) - 1, total = n + 4;
			if (n + 1 > outlen)
				return -1;
			memcpy(out, g->in + 1, n);
			out[n] = 0;
			memmove(g->in, g->in + total, g->nin - total);
			g->nin -= total;
			if (tracing())
				fprintf(stderr, "< %.100s\n", out);
			if (fd_write_all(g->fd, "+", 1))
				return -1;
			return (int)n;
		}
		int r = fill(g, deadline);
		if (r)
			return r;
	}
}

int gdb_command(struct gdb_remote *g, const char *cmd, char *out, size_t outlen, double deadline)
{
	return gdb_send(g, cmd) ? -1 : gdb_recv(g, out, outlen, deadline);
}

void gdb_close(struct gdb_remote *g)
{
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
}
