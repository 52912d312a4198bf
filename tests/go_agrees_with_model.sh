#!/bin/sh
# go_agrees_with_model.sh SIGSTEP ARCH FIXTURE MODEL_FUNCTION REAL_FUNCTION
# The model held to reality: the go119 variant under the go1.19 era
# (sigstep run) against the real Go 1.19 fixture (sigstep go), boundary by
# boundary over the trampoline and the vDSO, in execution order: the same
# number of boundaries, the same verdict at each, the same vDSO offset
# where it is in the vDSO, and (arm, whose Go assembly the model copies
# instruction for instruction) the same trampoline offset.  A
# disagreement fails naming the boundary and both verdicts.  Exit 77
# (skip) without a fixture.
sigstep=$1 arch=$2 fixture=$3 mfn=$4 rfn=$5
if [ ! -x "$fixture" ]; then
	echo "SKIP: no Go fixture for $arch at $fixture"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$sigstep" run --arch "$arch" --variant go119 --function "$mfn" --sigprof go1.19 --boundaries >"$tmp/m.all" 2>/dev/null
"$sigstep" go "$fixture" --function "$rfn" --boundaries >"$tmp/r.all" 2>/dev/null
# "T+OFF VERDICT" in the trampoline (the model's helpers count as its
# body), "vdso+OFF VERDICT" in the vDSO; the model's callers left out.
awk -v f="$mfn" '$1 == "boundary" {
	if ($3 ~ /^vdso\+/) print $3, $4
	else if (index($3, f "+") == 1 || index($3, "vdsoCall+") == 1) { sub(/^[A-Za-z_]+\+/, "T+", $3); print $3, $4 } }' \
	"$tmp/m.all" >"$tmp/m"
awk '$1 == "boundary" { if ($3 !~ /^vdso\+/) sub(/^[^+]*\+/, "T+", $3); print $3, $4 }' "$tmp/r.all" >"$tmp/r"
nm=$(wc -l <"$tmp/m") nr=$(wc -l <"$tmp/r")
echo "$arch: model go119 $mfn (go1.19 era) $nm boundaries, real Go 1.19 $rfn $nr"
if [ "$nm" -eq 0 ] || [ "$nr" -eq 0 ]; then
	echo "FAIL: no boundaries (model $nm, real $nr)" >&2
	exit 1
fi
status=0
if [ "$nm" -ne "$nr" ]; then
	echo "FAIL: the model has $nm boundaries in the trampoline and vDSO, the real binary $nr" >&2
	status=1
fi
# x86: the model's m is laid out by its own struct (shorter displacements),
# so trampoline offsets drift; positions and verdicts must still agree.
strict=0
[ "$arch" = arm ] && strict=1
paste -d ' ' "$tmp/m" "$tmp/r" | awk -v strict="$strict" '
	{ n++; mw = $1; mv = $2; rw = $3; rv = $4
	  bad = mv != rv || ((mw ~ /^vdso/ || rw ~ /^vdso/) && mw != rw) || (strict && mw != rw)
	  if (bad) { printf "FAIL: boundary %d: model %s %s, real %s %s\n", n, mw, mv, rw, rv; f++ } }
	END { exit f ? 1 : 0 }' >&2 || status=1
exit $status
