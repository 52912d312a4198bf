/*
 * Whole records through a pipe or socket: every byte, through EINTR and
 * short reads and writes (the matrix's workers and launcher, a Go run's
 * finish copy).
 */
#ifndef SIGSTEP_FD_IO_H
#define SIGSTEP_FD_IO_H

#include <stddef.h>

/* n bytes from p to fd: 0, or -1 (fd refused one or is gone). */
int fd_write_all(int fd, const void *p, size_t n);

/* n bytes from fd into p: 0, or -1 (an error, or the end before n). */
int fd_read_all(int fd, void *p, size_t n);

#endif
