#!/bin/sh
# qemu_go.sh SIGSTEP BUILD_DIR ARCH QEMU
# The native Go engine under qemu-user (sigstep native --go --emulator
# qemu: the arch's qemu-user driven through its gdbstub) on the real-Go
# fixture (build/go/ARCH/sigstep-go-fixture, Debian's Go 1.19): every
# boundary of the 200th call of runtime.nanotime1 made within time.Since,
# a SIGPROF handed to the program's own handler at each.  qemu gives the
# program no vDSO, so nanotime1 takes its fallback path (the system call)
# and every boundary is in nanotime1 itself.  Go 1.19's nanotime1 is
# SPWRITE: at every one of its instructions the handler records the
# one-frame sample [pc+1] -- `truncated` (reference/go1.19/README.md, and
# `sigstep go --no-vdso` under Unicorn); nothing else, the program exits
# 0, the time limit is not reached, the pcs are the same on a second run.
# Skipped (77), saying why: without the fixture, without the arch's
# qemu-user, or where that qemu-user does not run the program at all,
# tried first without the engine (qemu-i386 7.2 cannot run Go 386
# programs: "fatal error: runtime·unlock: lock count").
set -u
sigstep=$1 build=$2 arch=$3 qemu=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/qemu_go_skip.sh"
failures=0
fail() {
	echo "qemu_go: FAIL $*" >&2
	failures=$((failures + 1))
}
# run OUT: the engine's run, boundaries listed, JSON to OUT.json.  qemu's
# gdbstub cannot stop the program's other threads; they are held under
# host ptrace from the first call of time.Since on, and a stop of one of
# them before that, at the same moment as the profiled thread's, loses the
# protocol (exit 2, "lost the program"): tried again, at most twice, and
# said so.
run() {
	for try in 1 2 3; do
		"$sigstep" native --go "$fixture" --emulator qemu --function nanotime1 --call 200 --list-boundaries \
			--timeout 60 --json "$1.json" >"$1" 2>"$1.err"
		rc=$?
		grep -q 'lost the program\|the time limit' "$1.err" || break
		echo "qemu_go: try $try: $(cat "$1.err")"
	done
	if [ "$rc" -eq 2 ] && grep -q 'cannot run qemu' "$1.err"; then
		echo "skipped: $(sed 's/^sigstep: native: //' "$1.err")"
		exit 77
	fi
	echo "$rc" >"$1.rc"
}
run "$tmp/a"
grep -v '^boundary ' "$tmp/a"
[ "$(cat "$tmp/a.rc")" -eq 1 ] || { fail "exit $(cat "$tmp/a.rc"), not 1"; cat "$tmp/a.err" >&2; }
num() { sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p" "$tmp/a.json" | head -n 1; }
verdict() { sed -n 's/.*"verdicts": {\([^}]*\)}.*/\1/p' "$tmp/a.json" | tr ',' '\n' | sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p"; }
inf=$(num in_function) invdso=$(num in_vdso) else=$(num elsewhere) total=$(num boundaries)
echo "qemu_go: $arch: boundaries=$total in_function=$inf threads_held=$(num threads_held) foreign_stops=$(num foreign_stops)"
[ "${inf:-0}" -gt 0 ] || fail "no boundary in nanotime1"
[ "${invdso:-1}" -eq 0 ] || fail "$invdso boundaries in a vDSO (qemu gives none)"
[ "${else:-1}" -eq 0 ] || fail "$else boundaries outside nanotime1"
short=wrong
[ -n "$(verdict truncated)" ] && short=truncated
[ "$(verdict $short)" = "$inf" ] || fail "$short=$(verdict $short): every nanotime1 boundary must give Go 1.19's one-frame sample ($inf)"
for v in full caller vdso external system fault hang; do
	[ "$(verdict $v)" = 0 ] || fail "$v=$(verdict $v)"
done
[ "$short" = wrong ] || [ "$(verdict wrong)" = 0 ] || fail "wrong=$(verdict wrong)"
grep -q '"engine": "qemu"' "$tmp/a.json" || fail "the record's engine is not qemu"
grep -q '"vdso_kind": "none"' "$tmp/a.json" || fail "the record says there was a vDSO"
grep -q '"limit_reached": false' "$tmp/a.json" || fail "the time limit was reached"
grep -q '"program_status": 0' "$tmp/a.json" || fail "the program did not exit 0"
grep -q '^invariants ok' "$tmp/a" || fail "invariants"
awk '/^  (wrong|truncated) at runtime\.nanotime1/ { getline; getline; n++; if (NF != 2) bad++ }
     END { exit !(n > 0 && !bad) }' "$tmp/a" || fail "a nanotime1 sample is not one frame"
run "$tmp/b"
grep '^boundary ' "$tmp/a" >"$tmp/a.pcs"
grep '^boundary ' "$tmp/b" >"$tmp/b.pcs"
cmp -s "$tmp/a.pcs" "$tmp/b.pcs" || { fail "the boundaries differ between two runs"; diff "$tmp/a.pcs" "$tmp/b.pcs" >&2; }
if [ "$failures" -ne 0 ]; then
	echo "qemu_go: $failures failed" >&2
	exit 1
fi
echo "qemu_go: all checks passed ($arch)"
