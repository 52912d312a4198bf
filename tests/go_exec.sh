#!/bin/sh
# go_exec.sh SIGSTEP ARCH FIXTURE
# The real Go fixture runs to exit inside Unicorn on the emulated Linux,
# with the synthetic vDSO and without it, and every run is deterministic:
# the same output and the same instruction count (the line sigstep prints
# after the run, host time left out) twice.  Exit 77 (skip) if the
# fixture was not built (no Go toolchain).
sigstep=$1 arch=$2 fixture=$3
if [ ! -x "$fixture" ]; then
	echo "SKIP: no Go fixture for $arch at $fixture (Go toolchain missing at configure time)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for mode in vdso no-vdso; do
	flag=""
	[ "$mode" = no-vdso ] && flag=--no-vdso
	for run in 1 2; do
		"$sigstep" go --exec "$fixture" $flag -- -iterations 200 >"$tmp/out$run" 2>"$tmp/err$run"
		rc=$?
		cat "$tmp/out$run" "$tmp/err$run"
		if [ "$rc" -ne 0 ]; then
			echo "FAIL: $arch $mode run $run: exit status $rc" >&2
			status=1
		fi
		# The instruction count and the rest of the line, without the host time.
		sed -e 's/, [0-9.]* s$//' "$tmp/err$run" >"$tmp/stats$run"
	done
	if ! grep -qx "sigstep-go-fixture: 200 iterations" "$tmp/out1"; then
		echo "FAIL: $arch $mode: the program did not report its 200 iterations" >&2
		status=1
	fi
	if ! grep -q "^sigstep: go: $arch $mode: [1-9][0-9]* instructions, [3-9] threads" "$tmp/stats1"; then
		echo "FAIL: $arch $mode: no instruction count, or fewer than the 3 threads Go starts" >&2
		status=1
	fi
	if ! cmp -s "$tmp/out1" "$tmp/out2" || ! cmp -s "$tmp/stats1" "$tmp/stats2"; then
		echo "FAIL: $arch $mode: two runs differ" >&2
		diff "$tmp/stats1" "$tmp/stats2" >&2
		status=1
	fi
done
exit $status
