#!/bin/sh
# go_probe.sh SIGSTEP ARCH FIXTURE FUNCTION MODE
# sigstep go on the real Go 1.19 fixture, one trampoline, MODE vdso |
# no-vdso | hostile (the vDSO with the arch's hostile knobs, KNOBS in the
# environment).  Go 1.19's expected verdicts (scenarios/go119-real.md):
# every boundary in the trampoline `truncated` (SPWRITE stops the
# traceback after one frame), every boundary in the vDSO `caller` (the
# stack from vdsoPC/vdsoSP), nothing else; so sigstep exits 1 (truncated
# is a violation), and the JSON record says subject go, go1.19.
# Exit 77 (skip) if the fixture was not built.
sigstep=$1 arch=$2 fixture=$3 function=$4 mode=$5
if [ ! -x "$fixture" ]; then
	echo "SKIP: no Go fixture for $arch at $fixture (Go toolchain missing at configure time)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case $mode in
vdso) flags="" ;;
no-vdso) flags="--no-vdso" ;;
hostile) flags="--knobs $KNOBS" ;;
*) echo "unknown mode $mode" >&2; exit 2 ;;
esac
"$sigstep" go "$fixture" --function "$function" $flags --boundaries --json "$tmp/run.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
cat "$tmp/err"
grep -v '^boundary ' "$tmp/out" | head -20
status=0
if [ "$rc" -ne 1 ]; then
	echo "FAIL: expected exit status 1 (truncated samples are violations), got $rc" >&2
	status=1
fi
grep '^boundary ' "$tmp/out" >"$tmp/b"
total=$(wc -l <"$tmp/b")
in_vdso=$(awk '$3 ~ /^vdso\+/' "$tmp/b" | wc -l)
vdso_caller=$(awk '$3 ~ /^vdso\+/ && $4 == "caller"' "$tmp/b" | wc -l)
tramp_trunc=$(awk '$3 !~ /^vdso\+/ && $4 == "truncated"' "$tmp/b" | wc -l)
echo "$arch $function $mode: $total boundaries, $in_vdso in the vDSO ($vdso_caller caller), $tramp_trunc truncated in the trampoline"
if [ "$total" -eq 0 ]; then
	echo "FAIL: no boundary probed" >&2
	status=1
fi
if [ "$vdso_caller" -ne "$in_vdso" ] || [ $((vdso_caller + tramp_trunc)) -ne "$total" ]; then
	echo "FAIL: a boundary with another verdict:" >&2
	awk '($3 ~ /^vdso\+/ && $4 != "caller") || ($3 !~ /^vdso\+/ && $4 != "truncated")' "$tmp/b" | head >&2
	status=1
fi
if [ "$mode" = no-vdso ] && [ "$in_vdso" -ne 0 ]; then
	echo "FAIL: boundaries in a vDSO that is not there" >&2
	status=1
fi
if [ "$mode" != no-vdso ] && [ "$in_vdso" -eq 0 ]; then
	echo "FAIL: no boundary in the vDSO" >&2
	status=1
fi
if ! grep -q '^invariants ok$' "$tmp/out"; then
	echo "FAIL: the program's run did not hold its invariants" >&2
	status=1
fi
if ! grep -q '"subject": "go", "go_version": "go1.19' "$tmp/run.json" ||
   ! grep -q '"engine": "unicorn"' "$tmp/run.json"; then
	echo "FAIL: the JSON record lacks subject go, the Go version or the engine" >&2
	status=1
fi
# The same input, the same report (timings aside, which go to stderr).
"$sigstep" go "$fixture" --function "$function" $flags --boundaries >"$tmp/out2" 2>/dev/null
if ! cmp -s "$tmp/out" "$tmp/out2"; then
	echo "FAIL: two runs gave different reports" >&2
	diff "$tmp/out" "$tmp/out2" | head >&2
	status=1
fi
exit $status
