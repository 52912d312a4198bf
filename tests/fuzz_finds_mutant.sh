#!/bin/sh
# fuzz_finds_mutant.sh SIGSTEP ARCH MUTANT.S SEED RUNS [FUZZ-OPTIONS...]
# sigstep fuzz, from an empty corpus with a fixed seed and a bounded number
# of schedules, must find a violation in MUTANT (exit 1) and write the
# minimized schedule; replayed with sigstep run --schedule it must violate
# again (exit 1) with the same verdict counts and failed checks as the
# fuzzer's own replay printed; a second fuzz with the same seed, run by
# two worker processes (--jobs 2), must minimize to the same schedule.
# Then 150 schedules of the same fuzz on the mutant's base (ARCH master)
# must find nothing (exit 0).
set -u
sigstep=$1 arch=$2 mutant=$3 seed=$4 runs=$5
shift 5
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$sigstep" fuzz --arch "$arch" "$mutant" --seed "$seed" --runs "$runs" --corpus "$dir/corpus" "$@" \
	>"$dir/fuzz.out" 2>"$dir/fuzz.err"
rc=$?
cat "$dir/fuzz.out"
if [ "$rc" -ne 1 ]; then
	cat "$dir/fuzz.err" >&2
	echo "sigstep fuzz exited $rc, not 1 (no violation found in $runs schedules)" >&2
	exit 1
fi
sched=$(ls "$dir"/corpus/violation-*.sched 2>/dev/null | head -1)
[ -n "$sched" ] || { echo "no violation-*.sched written" >&2; exit 1; }
"$sigstep" run --schedule "$sched" >"$dir/replay.out" 2>"$dir/replay.err"
rc=$?
cat "$dir/replay.out"
[ "$rc" -eq 1 ] || { cat "$dir/replay.err" >&2; echo "the replay exited $rc, not 1" >&2; exit 1; }
for key in verdicts invariants; do
	a=$(grep "^$key " "$dir/fuzz.out")
	b=$(grep "^$key " "$dir/replay.out")
	if [ -z "$a" ] || [ "$a" != "$b" ]; then
		echo "the replay's '$key' line differs from the fuzzer's: '$b' vs '$a'" >&2
		exit 1
	fi
done
# Deterministic: the same seed and runs give the same minimized schedule,
# whatever the number of workers.
"$sigstep" fuzz --arch "$arch" "$mutant" --seed "$seed" --runs "$runs" --jobs 2 --corpus "$dir/again" "$@" \
	>"$dir/again.out" 2>/dev/null
if ! cmp -s "$sched" "$dir"/again/violation-*.sched; then
	echo "a second fuzz with the same seed (--jobs 2) minimized to another schedule" >&2
	diff "$sched" "$dir"/again/violation-*.sched >&2
	exit 1
fi
"$sigstep" fuzz --arch "$arch" --variant master --seed "$seed" --runs 150 "$@" >"$dir/master.out" 2>&1
rc=$?
cat "$dir/master.out"
[ "$rc" -eq 0 ] || { echo "sigstep fuzz on $arch master exited $rc: a false alarm" >&2; exit 1; }
exit 0
