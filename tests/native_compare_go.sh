#!/bin/sh
# native_compare_go.sh SIGSTEP BUILD_DIR ARCH EMULATOR QEMU
# sigstep native --compare --go on the Go fixture: the native Go engine
# (EMULATOR: host, the kernel's vDSO; qemu, none) against the Unicorn
# engine on the same binary, boundary by boundary; they must agree (exit
# 0, "agreement yes"), the table must name both engines, and its rows
# must count the same boundaries outside the vDSO.
# Skipped (77), saying why, without the fixture, or where the native
# engine cannot run here (ptrace refused, no qemu-user, a qemu-user that
# does not run the program at all, tried first without the engine).
set -u
sigstep=$1 build=$2 arch=$3 emulator=$4 qemu=$5
fixture=$build/go/$arch/sigstep-go-fixture
[ -x "$fixture" ] || { echo "skipped: no Go fixture $fixture (no Go toolchain at build time)"; exit 77; }
out=$(mktemp)
trap 'rm -f "$out" "$out.err"' EXIT
if [ "$emulator" = qemu ]; then
	command -v "$qemu" >/dev/null || { echo "skipped: no $qemu (ci/bootstrap.sh installs qemu-user)"; exit 77; }
	"$qemu" "$fixture" -iterations 1 >/dev/null 2>"$out.err" ||
		{ echo "skipped: $qemu does not run $fixture at all ($(grep -m1 -i 'fatal\|error\|panic' "$out.err"))"; exit 77; }
fi
for try in 1 2 3; do	# qemu: a stop lost before the threads are held is tried again (qemu_go.sh)
	"$sigstep" native --compare --go "$fixture" --emulator "$emulator" >"$out" 2>"$out.err"
	rc=$?
	grep -q 'lost the program\|the time limit' "$out.err" || break
	echo "native_compare_go: try $try: $(cat "$out.err")"
done
cat "$out" "$out.err"
if [ "$rc" -eq 2 ] && grep -q 'ptrace is not allowed\|cannot run qemu\|cannot trace' "$out.err"; then
	echo "skipped: $(sed 's/^sigstep: native: //' "$out.err")"
	exit 77
fi
[ "$rc" -eq 0 ] || { echo "native_compare_go: exit $rc, not 0" >&2; exit 1; }
grep -q '^agreement yes$' "$out" || { echo "native_compare_go: no agreement line" >&2; exit 1; }
grep -q '^unicorn ' "$out" || { echo "native_compare_go: no unicorn row" >&2; exit 1; }
want=ptrace
[ "$emulator" = qemu ] && want=qemu
grep -q "^$want " "$out" || { echo "native_compare_go: no $want row" >&2; exit 1; }
# boundaries - in vdso: the same on both rows.
awk '/^(unicorn|ptrace|qemu) / { out[$1] = $4 - $5 } END { n = 0; for (k in out) { v[n++] = out[k] } exit !(n == 2 && v[0] == v[1] && v[0] > 0) }' "$out" ||
	{ echo "native_compare_go: the rows' boundaries outside the vDSO differ" >&2; exit 1; }
echo "native_compare_go: $arch ($emulator): agreement"
