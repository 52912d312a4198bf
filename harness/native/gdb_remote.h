/*
 * A client of the gdb remote serial protocol, as much of it as the native
 * Go engine drives qemu-user's gdbstub with: packets `$data#ck` with their
 * `+` acknowledgements, over a unix socket, every wait bounded by a
 * deadline.
 */
#ifndef SIGSTEP_GDB_REMOTE_H
#define SIGSTEP_GDB_REMOTE_H

#include <stddef.h>

struct gdb_remote {
	int fd;
	char in[65536];		/* bytes read, not yet taken */
	size_t nin;
};

/* Connects to the stub listening at path, retrying until the deadline
 * (the emulator creates the socket when it starts).  0 or -1. */
int gdb_connect(struct gdb_remote *g, const char *path, double deadline);

/* Sends one packet.  0 or -1. */
int gdb_send(struct gdb_remote *g, const char *data);

/* The next packet's data into out (NUL-terminated), acknowledged.
 * Its length; -1 error or connection closed; -2 the deadline passed. */
int gdb_recv(struct gdb_remote *g, char *out, size_t outlen, double deadline);

/* Sends cmd, returns the reply as gdb_recv does. */
int gdb_command(struct gdb_remote *g, const char *cmd, char *out, size_t outlen, double deadline);

void gdb_close(struct gdb_remote *g);

#endif
