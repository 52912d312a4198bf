#!/bin/sh
# ptrace_refused.sh SIGSTEP PROGRAM
# Where ptrace is not allowed the ptrace engine says so in one line and
# exits 2.  Made so here by running it under a tracer (strace -f): its
# child is traced already, and PTRACE_TRACEME is refused (EPERM), as in a
# container whose seccomp or Yama policy forbids it.  Skipped (77) without
# strace or the program.
sigstep=$1 program=$2
[ -x "$program" ] || { echo "skipped: no Go fixture $program (no Go toolchain at build time)"; exit 77; }
command -v strace >/dev/null || { echo "skipped: no strace (ci/bootstrap.sh installs it)"; exit 77; }
err=$(mktemp)
trap 'rm -f "$err"' EXIT
strace -f -o /dev/null "$sigstep" native --go "$program" --emulator host >/dev/null 2>"$err"
rc=$?
cat "$err"
[ "$rc" -eq 2 ] || { echo "ptrace_refused: exit $rc, not 2" >&2; exit 1; }
[ "$(wc -l <"$err")" -eq 1 ] || { echo "ptrace_refused: not one line" >&2; exit 1; }
grep -q 'ptrace is not allowed here' "$err" || { echo "ptrace_refused: the line does not say ptrace is refused" >&2; exit 1; }
