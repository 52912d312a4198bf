#!/bin/sh
# Every report the probe makes, saved to a directory, so that a change to
# the probe's mechanics can be shown to leave them byte-identical:
#   ci/report_bytes.sh save DIR     (the build in build/ as it is now)
#   ci/report_bytes.sh compare DIR  (cmp of each file against DIR's)
#   ci/report_bytes.sh compare-symbols DIR  (the same; a file that differs
#       is compared again with every absolute address -- 0x and five hex
#       digits or more, and an x86 instruction's rip-relative displacement
#       -- blanked: for a change of the guest image's code that moves its
#       functions or its data, where symbol+offset, verdicts and stacks
#       must stay as they were)
# The matrix (stdout and --json), `run --boundaries` of every arch x
# variant x function x era x context x vDSO present/absent, `run
# --schedule --boundaries` of a set of schedules per arch (sample, keep,
# nested-clock, nested-signal, by index and by symbol, and the fuzz
# corpus's), `check
# --boundaries` of every mutant file, and `sigstep go --boundaries` on
# each Go fixture.  The exit status is kept beside each output: a report
# is its bytes and its status.  The JSON's timings (elapsed_s,
# boundaries_per_s) are blanked before the cmp.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
b="$root/build"
what=${1:-}
dir=${2:-}
case "$what" in save | compare | compare-symbols) ;; *) echo "usage: $0 save|compare|compare-symbols DIR" >&2; exit 2 ;; esac
[ -n "$dir" ] || { echo "usage: $0 save|compare|compare-symbols DIR" >&2; exit 2; }
out="$dir"
[ "$what" = save ] || out=$(mktemp -d)
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
	# Schedules: each kind of event, alone and together, on master and seed.
	for variant in master seed; do
		for events in "at 5 sample" "at 9 keep" "at 12 nested-clock nanotime" "at 12 nested-clock walltime" \
			"at 3 keep|at 20 sample|at 21 keep|at 40 nested-clock nanotime" "at walltime+0x4@1 keep|at 30 sample" \
			"at 30 nested-signal nanotime 5" "at 25 nested-signal walltime 3 2|at 40 sample"; do
			sched="${TMPDIR:-/tmp}/report-bytes.sched"	# the same path in both runs: the report names it
			printf 'arch      %s\nvariant   %s\nfunction  walltime\nsigprof   go1.11\n' "$arch" "$variant" >"$sched"
			printf '%s\n' "$events" | tr '|' '\n' >>"$sched"
			keep "schedule.$arch.$variant.$(printf '%s' "$events" | tr -c 'a-z0-9' '_')" \
				"$b/sigstep" run --schedule "$sched" --build-dir "$b" --boundaries
			rm -f "$sched"
		done
	done
	for f in "$root"/scenarios/mutants/"$arch"/*.S; do
		keep "check.$arch.$(basename "$f" .S)" "$b/sigstep" check --arch "$arch" "$f" --build-dir "$b" --boundaries
	done
done
cd "$root"	# the report names the file: the same relative path in both runs
for f in fuzz/corpus/fuzz_schedule/*.sched; do
	keep "schedule.corpus.$(basename "$f" .sched)" "$b/sigstep" run --schedule "$f" --build-dir "$b" --boundaries
done

[ "$what" = save ] && { echo "saved $(ls "$out" | wc -l) reports in $out"; exit 0; }
n=0 bad=0 moved=0
blank() { sed -E 's/0x[0-9a-f]{5,}/0x-/g; s/(rip [+-] )0x[0-9a-f]+/\10x-/g' "$1"; }
for f in "$dir"/*; do
	n=$((n + 1))
	g="$out/$(basename "$f")"
	cmp -s "$f" "$g" && continue
	if [ "$what" = compare-symbols ] && [ -f "$g" ] && blank "$f" | cmp -s - "$(blank "$g" >"$out/.blank" && echo "$out/.blank")"; then
		moved=$((moved + 1))
		continue
	fi
	echo "differs: $(basename "$f")"
	bad=$((bad + 1))
done
rm -f "$out/.blank"
[ "$(ls "$out" | wc -l)" = "$n" ] || { echo "not the same set of reports"; bad=$((bad + 1)); }
if [ "$what" = compare-symbols ]; then
	echo "$n reports compared: $((n - moved - bad)) byte-identical, $moved identical but for absolute addresses, $bad differ"
else
	echo "$n reports compared with cmp, $bad differ"
fi
rm -rf "$out"
[ "$bad" = 0 ]
