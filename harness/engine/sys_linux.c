/*
 * The rest of what a Go runtime asks of Linux between exec and exit, as a
 * minimal system answers it: one CPU, the files Go opens at start (only
 * those; everything else does not exist), timers that are set but never
 * fire (sigstep delivers SIGPROF itself, at the boundaries it chooses),
 * madvise as real page semantics, and fixed resource limits.
 *
 * Everything here is deterministic: no answer depends on the host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syscalls.h"
#include "threads.h"

#define PAGE GUEST_PAGE
#define PAGE_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))

/* Linux's uapi values, the same on amd64, 386 and arm. */
#define L_O_ACCMODE	3
#define L_F_GETFD	1
#define L_F_SETFD	2
#define L_F_GETFL	3
#define L_F_SETFL	4
#define L_O_RDWR	2
#define L_MADV_DONTNEED	4
#define L_MADV_FREE	8
#define L_ITIMER_PROF	2
#define L_RLIMIT_NOFILE	7
#define L_RLIM_NOFILE	1024

/* The files that exist: what Go reads at start on a minimal system. */
static const struct {
	const char *path, *content;
} files[] = {
	/* osinit's getHugePageSize: the x86/arm default with THP. */
	{ "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "2097152\n" },
};

#define FD_FIRST 3
#define FD_MAX 16
#define PIPE_BUF_BYTES 4096
#define EPOLL_MAX 8

enum fd_kind { FD_FREE, FD_FILE, FD_PIPE_READ, FD_PIPE_WRITE, FD_EPOLL };

struct pipe_buf {
	uint8_t data[PIPE_BUF_BYTES];
	size_t len;
};

struct open_file {
	enum fd_kind kind;
	unsigned file;		/* FD_FILE: index in files[]; pipes: index in pipes[] */
	uint64_t offset;
	/* FD_EPOLL: what is registered. */
	struct { int fd; uint32_t events; uint64_t data; } reg[EPOLL_MAX];
	unsigned nreg;
};

/* Open files, pipes and epoll instances, allocated on first use. */
struct fd_table {
	struct open_file fd[FD_MAX];
	struct pipe_buf pipes[FD_MAX / 2];
	unsigned npipes;
};

static struct fd_table *fds(struct machine *mc)
{
	if (!mc->sys->fds)
		mc->sys->fds = calloc(1, sizeof(struct fd_table));
	return mc->sys->fds;
}

static int new_fd(struct machine *mc, enum fd_kind kind, unsigned index)
{
	struct fd_table *t = fds(mc);
	if (!t)
		return -ENOMEM;
	for (int fd = FD_FIRST; fd < FD_MAX; fd++)
		if (t->fd[fd].kind == FD_FREE) {
			memset(&t->fd[fd], 0, sizeof t->fd[fd]);
			t->fd[fd].kind = kind;
			t->fd[fd].file = index;
			return fd;
		}
	return -EMFILE;
}

static int64_t open_path(struct machine *mc, uint64_t path_addr, uint64_t flags)
{
	char path[256];
	size_t n = 0;
	for (; n < sizeof path; n++) {
		if (machine_copy_in(mc, path_addr + n, &path[n], 1))
			return -EFAULT;
		if (!path[n])
			break;
	}
	if (n == sizeof path)
		return -ENAMETOOLONG;
	for (unsigned i = 0; i < sizeof files / sizeof files[0]; i++) {
		if (strcmp(path, files[i].path))
			continue;
		if ((flags & L_O_ACCMODE) != 0)
			return -EACCES;		/* read-only files */
		return new_fd(mc, FD_FILE, i);
	}
	return -ENOENT;
}

int64_t sys_open(struct machine *mc, const uint64_t a[6])
{
	return open_path(mc, a[0], a[1]);
}

int64_t sys_openat(struct machine *mc, const uint64_t a[6])
{
	/* Absolute paths only: there is no working directory to speak of. */
	return open_path(mc, a[1], a[2]);
}

static struct open_file *fd_of(struct machine *mc, uint64_t fd, enum fd_kind kind)
{
	struct fd_table *t = mc->sys->fds;
	if (!t || fd < FD_FIRST || fd >= FD_MAX || t->fd[fd].kind == FD_FREE)
		return NULL;
	if (kind != FD_FREE && t->fd[fd].kind != kind)
		return NULL;
	return &t->fd[fd];
}

static struct open_file *file_of(struct machine *mc, uint64_t fd)
{
	return fd_of(mc, fd, FD_FILE);
}

static int64_t read_at(struct machine *mc, struct open_file *f, uint64_t buf, uint64_t len, uint64_t off)
{
	const char *c = files[f->file].content;
	uint64_t size = strlen(c);
	if (off >= size)
		return 0;
	if (len > size - off)
		len = size - off;
	return machine_copy_out(mc, buf, c + off, len) ? -EFAULT : (int64_t)len;
}

int64_t sys_read(struct machine *mc, const uint64_t a[6])
{
	struct open_file *p = fd_of(mc, a[0], FD_PIPE_READ);
	if (p) {	/* non-blocking, as Go opens its pipe */
		struct pipe_buf *b = &mc->sys->fds->pipes[p->file];
		uint64_t n = a[2] < b->len ? a[2] : b->len;
		if (!n)
			return a[2] ? -EAGAIN : 0;
		if (machine_copy_out(mc, a[1], b->data, n))
			return -EFAULT;
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
		return (int64_t)n;
	}
	struct open_file *f = file_of(mc, a[0]);
	if (!f)
		return a[0] <= 2 ? 0 : -EBADF;	/* stdin: at its end */
	int64_t r = read_at(mc, f, a[1], a[2], f->offset);
	if (r > 0)
		f->offset += (uint64_t)r;
	return r;
}

/* pread64(fd, buf, count, offset): the 64-bit offset is one register on
 * amd64; 386 and arm pass it in two (arm's aligned to an even pair),
 * which the arch's table entry sorts out through its own wrapper. */
int64_t sys_pread64(struct machine *mc, const uint64_t a[6])
{
	struct open_file *f = file_of(mc, a[0]);
	if (!f)
		return -EBADF;
	return read_at(mc, f, a[1], a[2], a[3]);
}

int64_t sys_close(struct machine *mc, const uint64_t a[6])
{
	struct open_file *f = fd_of(mc, a[0], FD_FREE);
	if (f) {
		f->kind = FD_FREE;
		return 0;
	}
	return a[0] <= 2 ? 0 : -EBADF;
}

/* The standard streams are open read-write, blocking; files read-only. */
int64_t sys_fcntl(struct machine *mc, const uint64_t a[6])
{
	int std = a[0] <= 2;
	if (!std && !fd_of(mc, a[0], FD_FREE))
		return -EBADF;
	switch (a[1]) {
	case L_F_GETFD:
	case L_F_SETFD:
	case L_F_SETFL:
		return 0;
	case L_F_GETFL:
		return std ? L_O_RDWR : 0;
	default:
		return -EINVAL;
	}
}

/* The break does not move: a process whose heap is mmap (Go's). */
int64_t sys_brk(struct machine *mc, const uint64_t a[6])
{
	(void)a;
	return (int64_t)mc->brk;
}

/* MADV_DONTNEED (and _FREE, which the kernel may treat alike) drop the
 * pages of a private anonymous mapping: they read back as zero.  Other
 * advice changes nothing the guest can see. */
int64_t sys_madvise(struct machine *mc, const uint64_t a[6])
{
	uint64_t addr = a[0], len = PAGE_UP(a[1]), advice = a[2];
	if (addr % PAGE || addr + len < addr)
		return -EINVAL;
	for (uint64_t p = addr; p < addr + len; p += PAGE)
		if (!machine_region(mc, p))
			return -ENOMEM;
	if (advice == L_MADV_DONTNEED || advice == L_MADV_FREE) {
		for (uint64_t p = addr; p < addr + len; p += PAGE)
			if (machine_region(mc, p)->kind == REGION_MMAP)
				machine_zero(mc, p, p + PAGE);
	}
	return 0;
}

/* Every mapped page is resident. */
int64_t sys_mincore(struct machine *mc, const uint64_t a[6])
{
	uint64_t addr = a[0], len = PAGE_UP(a[1]);
	if (addr % PAGE)
		return -EINVAL;
	for (uint64_t p = addr, i = 0; p < addr + len; p += PAGE, i++) {
		if (!machine_region(mc, p))
			return -ENOMEM;
		uint8_t one = 1;
		if (machine_copy_out(mc, a[2] + i, &one, 1))
			return -EFAULT;
	}
	return 0;
}

/* One CPU: GOMAXPROCS 1, as the measurements in reference/go1.19 ran. */
int64_t sys_sched_getaffinity(struct machine *mc, const uint64_t a[6])
{
	uint64_t len = a[1];
	unsigned w = mc->ops->word_size;
	if (len < w || len % w)
		return -EINVAL;
	uint64_t mask = 1;
	if (machine_copy_out(mc, a[2], &mask, w))
		return -EFAULT;
	return w;	/* bytes of the kernel's cpumask written */
}

/* ITIMER_PROF / timer_create: accepted and recorded, never fired (the
 * caller of the run chooses when SIGPROF arrives). */
int64_t sys_setitimer(struct machine *mc, const uint64_t a[6])
{
	unsigned w = mc->ops->word_size;
	if (a[0] > L_ITIMER_PROF)
		return -EINVAL;
	if (a[2]) {
		uint8_t zero[4 * 8] = { 0 };
		if (machine_copy_out(mc, a[2], zero, 4 * w))
			return -EFAULT;
	}
	mc->sys->itimers_set++;
	return 0;
}

int64_t sys_timer_create(struct machine *mc, const uint64_t a[6])
{
	struct sys_state *s = mc->sys;
	uint32_t id = s->timers_created;
	if (machine_copy_out(mc, a[2], &id, 4))
		return -EFAULT;
	s->timers_created++;
	return 0;
}

int64_t sys_timer_settime(struct machine *mc, const uint64_t a[6])
{
	unsigned w = mc->ops->word_size;
	if (a[0] >= mc->sys->timers_created)
		return -EINVAL;
	if (a[3]) {
		uint8_t zero[4 * 8] = { 0 };
		if (machine_copy_out(mc, a[3], zero, 4 * w))
			return -EFAULT;
	}
	return 0;
}

int64_t sys_timer_delete(struct machine *mc, const uint64_t a[6])
{
	return a[0] < mc->sys->timers_created ? 0 : -EINVAL;
}

/* RLIMIT_NOFILE soft = hard: nothing to raise.  Other limits: infinite. */
static int64_t put_rlimit(struct machine *mc, uint64_t res, uint64_t addr, unsigned w)
{
	uint64_t v = res == L_RLIMIT_NOFILE ? L_RLIM_NOFILE : ~0ull;
	uint8_t buf[16];
	memcpy(buf, &v, 8);
	memcpy(buf + w, &v, 8);
	return machine_copy_out(mc, addr, buf, 2 * w) ? -EFAULT : 0;
}

int64_t sys_prlimit64(struct machine *mc, const uint64_t a[6])
{
	if (a[0] != 0 && a[0] != SYS_PID)
		return -ESRCH;
	if (a[2])
		return -EPERM;
	return a[3] ? put_rlimit(mc, a[1], a[3], 8) : 0;
}

int64_t sys_getrlimit(struct machine *mc, const uint64_t a[6])
{
	return put_rlimit(mc, a[0], a[1], mc->ops->word_size);
}

/* struct utsname: six 65-byte fields. */
int64_t sys_uname(struct machine *mc, const uint64_t a[6])
{
	char u[6][65];
	memset(u, 0, sizeof u);
	snprintf(u[0], 65, "Linux");
	snprintf(u[1], 65, "sigstep");
	snprintf(u[2], 65, "6.1.0");
	snprintf(u[3], 65, "#1 SMP");
	snprintf(u[4], 65, "%s", mc->ops->uname_machine ? mc->ops->uname_machine : mc->ops->name);
	return machine_copy_out(mc, a[0], u, sizeof u) ? -EFAULT : 0;
}

/* Fixed bytes: the same run every time. */
int64_t sys_getrandom(struct machine *mc, const uint64_t a[6])
{
	uint64_t len = a[1] > 256 ? 256 : a[1];
	for (uint64_t i = 0; i < len; i++) {
		uint8_t b = (uint8_t)(0x5a + i * 7);
		if (machine_copy_out(mc, a[0] + i, &b, 1))
			return -EFAULT;
	}
	return (int64_t)len;
}

int64_t sys_tkill(struct machine *mc, const uint64_t a[6])
{
	uint64_t b[6] = { SYS_PID, a[0], a[1], 0, 0, 0 };
	return sys_tgkill(mc, b);
}

/* --- Pipes and epoll: what Go's netpoller needs --------------------------- */

#define L_EPOLL_CTL_ADD 1
#define L_EPOLL_CTL_DEL 2
#define L_EPOLL_CTL_MOD 3
#define L_EPOLLIN 0x001
#define L_EPOLLOUT 0x004

/* pipe2(fds, flags): both ends non-blocking or not, as asked (only
 * non-blocking reads are emulated: a read of an empty pipe is EAGAIN). */
int64_t sys_pipe2(struct machine *mc, const uint64_t a[6])
{
	struct fd_table *t = fds(mc);
	if (!t)
		return -ENOMEM;
	if (t->npipes == sizeof t->pipes / sizeof t->pipes[0])
		return -EMFILE;
	int r = new_fd(mc, FD_PIPE_READ, t->npipes);
	if (r < 0)
		return r;
	int w = new_fd(mc, FD_PIPE_WRITE, t->npipes);
	if (w < 0) {
		t->fd[r].kind = FD_FREE;
		return w;
	}
	int32_t v[2] = { r, w };
	if (machine_copy_out(mc, a[0], v, sizeof v)) {
		t->fd[r].kind = t->fd[w].kind = FD_FREE;
		return -EFAULT;
	}
	t->pipes[t->npipes].len = 0;
	t->npipes++;
	return 0;
}

/* A write to a pipe's write end (sys_write's other half). */
int64_t sys_linux_pipe_write(struct machine *mc, uint64_t fd, uint64_t addr, uint64_t len)
{
	struct open_file *p = fd_of(mc, fd, FD_PIPE_WRITE);
	if (!p)
		return -EBADF;
	struct pipe_buf *b = &mc->sys->fds->pipes[p->file];
	uint64_t n = len < PIPE_BUF_BYTES - b->len ? len : PIPE_BUF_BYTES - b->len;
	if (len && !n)
		return -EAGAIN;
	if (machine_copy_in(mc, addr, b->data + b->len, n))
		return -EFAULT;
	b->len += n;
	if (n)
		threads_wake_pollers(mc);
	return (int64_t)n;
}

int64_t sys_epoll_create1(struct machine *mc, const uint64_t a[6])
{
	(void)a;
	return new_fd(mc, FD_EPOLL, 0);
}

int64_t sys_epoll_create(struct machine *mc, const uint64_t a[6])
{
	if ((int64_t)(int32_t)a[0] <= 0)
		return -EINVAL;
	return new_fd(mc, FD_EPOLL, 0);
}

/* Pipes can be polled; a regular file cannot (EPERM, as Linux says). */
int64_t sys_epoll_ctl(struct machine *mc, const uint64_t a[6])
{
	struct open_file *ep = fd_of(mc, a[0], FD_EPOLL);
	uint64_t op = a[1], fd = a[2];
	if (!ep)
		return -EBADF;
	struct open_file *f = fd_of(mc, fd, FD_FREE);
	if (!f && fd > 2)
		return -EBADF;
	if (!f || f->kind == FD_FILE)
		return -EPERM;
	unsigned off = mc->ops->epoll_data_offset;
	uint8_t ev[16];
	uint32_t events = 0;
	uint64_t data = 0;
	if (op != L_EPOLL_CTL_DEL) {
		if (machine_copy_in(mc, a[3], ev, off + 8))
			return -EFAULT;
		memcpy(&events, ev, 4);
		memcpy(&data, ev + off, 8);
	}
	unsigned i = 0;
	while (i < ep->nreg && ep->reg[i].fd != (int)fd)
		i++;
	if (op == L_EPOLL_CTL_ADD) {
		if (i < ep->nreg)
			return -EEXIST;
		if (ep->nreg == EPOLL_MAX)
			return -ENOSPC;
		ep->reg[ep->nreg].fd = (int)fd;
		ep->reg[ep->nreg].events = events;
		ep->reg[ep->nreg].data = data;
		ep->nreg++;
		return 0;
	}
	if (i == ep->nreg)
		return -ENOENT;
	if (op == L_EPOLL_CTL_DEL) {
		ep->reg[i] = ep->reg[--ep->nreg];
		return 0;
	}
	if (op == L_EPOLL_CTL_MOD) {
		ep->reg[i].events = events;
		ep->reg[i].data = data;
		return 0;
	}
	return -EINVAL;
}

/* The ready events of epfd into the guest's array: their number, or -errno. */
int64_t sys_linux_epoll_collect(struct machine *mc, uint64_t epfd, uint64_t addr, uint64_t max)
{
	struct open_file *ep = fd_of(mc, epfd, FD_EPOLL);
	if (!ep)
		return -EBADF;
	unsigned off = mc->ops->epoll_data_offset;
	int64_t n = 0;
	for (unsigned i = 0; i < ep->nreg && (uint64_t)n < max; i++) {
		struct open_file *f = fd_of(mc, (uint64_t)ep->reg[i].fd, FD_FREE);
		uint32_t ready = 0;
		if (f && f->kind == FD_PIPE_READ && mc->sys->fds->pipes[f->file].len)
			ready = L_EPOLLIN;
		if (f && f->kind == FD_PIPE_WRITE)
			ready = L_EPOLLOUT;
		ready &= ep->reg[i].events;
		if (!ready)
			continue;
		uint8_t ev[16] = { 0 };
		memcpy(ev, &ready, 4);
		memcpy(ev + off, &ep->reg[i].data, 8);
		if (machine_copy_out(mc, addr + (uint64_t)n * (off + 8), ev, off + 8))
			return -EFAULT;
		n++;
	}
	return n;
}

/* epoll_wait(epfd, events, max, timeout ms): ready now, or block until a
 * pipe write or the timeout (-1: none). */
int64_t sys_epoll_wait(struct machine *mc, const uint64_t a[6])
{
	int32_t timeout = (int32_t)a[3];
	if ((int32_t)a[2] <= 0)
		return -EINVAL;
	int64_t n = sys_linux_epoll_collect(mc, a[0], a[1], a[2]);
	if (n != 0 || timeout == 0)
		return n;
	threads_block_poll(mc, a[0], a[1], a[2], timeout < 0 ? 0 : (uint64_t)timeout * 1000000ull, timeout >= 0);
	return 0;
}

/* epoll_pwait: the same with a signal mask, which Go passes as NULL. */
int64_t sys_epoll_pwait(struct machine *mc, const uint64_t a[6])
{
	if (a[4])
		return -EINVAL;		/* a temporary mask is not emulated */
	return sys_epoll_wait(mc, a);
}
