#!/bin/sh
# Every report the probe makes, saved to a directory, so that a change to
# the probe's mechanics can be shown to leave them byte-identical:
#   ci/report_bytes.sh save DIR     (the build in build/ as it is now)
#   ci/report_bytes.sh compare DIR  (cmp of each file against DIR's)
# The matrix (stdout and --json), `run --boundaries` of every arch x
# variant x function x era x context x vDSO present/absent, and
# `sigstep go --boundaries` on each Go fixture.  The exit status is kept
# beside each output: a report is its bytes and its status.  The JSON's
# timings (elapsed_s, boundaries_per_s) are blanked before the cmp.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
b="$root/build"
what=${1:-}
dir=${2:-}
[ "$what" = save ] || [ "$what" = compare ] || { echo "usage: $0 save|compare DIR" >&2; exit 2; }
[ -n "$dir" ] || { echo "usage: $0 save|compare DIR" >&2; exit 2; }
out="$dir"
[ "$what" = compare ] && out=$(mktemp -d)
mkdir -p "$out"

keep() {	# name command...: stdout into $out/name, the status after it
	name=$1
	shift
	"$@" >"$out/$name" 2>/dev/null
	echo "status $?" >>"$out/$name"
}

keep matrix "$b/sigstep" matrix --build-dir "$b"
keep matrix.json "$b/sigstep" matrix --build-dir "$b" --json -
# The JSON's timings are the machine's, not the report's.
sed -E 's/"(elapsed_s|boundaries_per_s)": [0-9.e+-]+/"\1": -/g' "$out/matrix.json" >"$out/matrix.json.t" &&
	mv "$out/matrix.json.t" "$out/matrix.json"
for arch in amd64 386 arm; do
	for variant in $(tr ";" " " <"$b/guest/$arch/variants.txt"); do
		for function in walltime nanotime; do
			for era in default go1.10 go1.11 go1.19 modern; do
				for context in curg g0 gsignal; do
					for vdso in vdso no-vdso; do
						set -- --arch "$arch" --variant "$variant" --function "$function" --context "$context"
						[ "$era" = default ] || set -- "$@" --sigprof "$era"
						[ "$vdso" = vdso ] || set -- "$@" --no-vdso
						keep "run.$arch.$variant.$function.$era.$context.$vdso" \
							"$b/sigstep" run --build-dir "$b" --boundaries "$@"
					done
				done
			done
		done
	done
	fixture="$b/go/$arch/sigstep-go-fixture"
	[ -x "$fixture" ] && keep "go.$arch" "$b/sigstep" go --boundaries "$fixture"
done

[ "$what" = save ] && { echo "saved $(ls "$out" | wc -l) reports in $out"; exit 0; }
n=0 bad=0
for f in "$dir"/*; do
	n=$((n + 1))
	cmp -s "$f" "$out/$(basename "$f")" || { echo "differs: $(basename "$f")"; bad=$((bad + 1)); }
done
[ "$(ls "$out" | wc -l)" = "$n" ] || { echo "not the same set of reports"; bad=$((bad + 1)); }
echo "$n reports compared with cmp, $bad differ"
rm -rf "$out"
[ "$bad" = 0 ]
