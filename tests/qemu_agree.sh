#!/bin/sh
# qemu_agree.sh SIGSTEP BUILD_DIR ARCH QEMU
# The native Go engine under qemu-user (sigstep native --go --emulator
# qemu: no vDSO, the fallback path) and the Unicorn engine on the fallback
# path (sigstep go --no-vdso) on the same binary, the Go fixture, boundary
# by boundary over the call of runtime.nanotime1 each steps: the same pcs
# in the same order (occurrence by occurrence), each with the same verdict.
# Skipped (77), saying why, as qemu_go.sh skips, or without `sigstep go`.
set -u
sigstep=$1 build=$2 arch=$3 qemu=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/qemu_go_skip.sh"
"$sigstep" go --help >/dev/null 2>&1 || { echo "skipped: no sigstep go (the Unicorn engine for Go programs) in this build"; exit 77; }
for try in 1 2 3; do	# as qemu_go.sh: a stop lost before the threads are held is tried again
	"$sigstep" native --go "$fixture" --emulator qemu --function nanotime1 --boundaries >"$tmp/q" 2>"$tmp/q.err"
	rc=$?
	grep -q 'lost the program\|the time limit' "$tmp/q.err" || break
	echo "qemu_agree: try $try: $(cat "$tmp/q.err")"
done
[ "$rc" -le 1 ] || { echo "qemu_agree: sigstep native --go --emulator qemu exited $rc" >&2; cat "$tmp/q.err" >&2; exit 1; }
"$sigstep" go "$fixture" --function nanotime1 --no-vdso --boundaries >"$tmp/u" 2>"$tmp/u.err"
rc=$?
[ "$rc" -le 1 ] || { echo "qemu_agree: sigstep go --no-vdso exited $rc" >&2; cat "$tmp/u.err" >&2; exit 1; }
# "boundary PC WHERE VERDICT" as PC#N VERDICT WHERE, in order; WHERE
# without an ABI suffix (the ELF symbols of amd64's assembly carry
# ".abi0", sigstep go names functions from the pclntab).
norm() { awk '$1 == "boundary" { n = ++seen[$2]; sub(/\.abi0\+/, "+", $3); print $2 "#" n, $4, $3 }' "$1"; }
norm "$tmp/u" >"$tmp/u.b"
norm "$tmp/q" >"$tmp/q.b"
[ -s "$tmp/u.b" ] || { echo "qemu_agree: no boundary from sigstep go" >&2; exit 1; }
if ! cmp -s "$tmp/u.b" "$tmp/q.b"; then
	echo "qemu_agree: $arch: the boundaries differ (< unicorn --no-vdso, > qemu):" >&2
	diff "$tmp/u.b" "$tmp/q.b" | head -40 >&2
	exit 1
fi
echo "qemu_agree: $arch: $(wc -l <"$tmp/u.b") boundaries agree (pc, occurrence, verdict):" \
     "$(awk '{ print $2 }' "$tmp/u.b" | sort | uniq -c | awk '{ printf "%s%s %s", sep, $1, $2; sep = ", " }')"
