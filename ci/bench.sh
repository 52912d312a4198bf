#!/bin/sh
# Benchmarks: figures, never pass/fail.  Set-up and build first, then:
#  - the Unicorn engine's probing rate (boundaries/s) per arch x variant,
#    on a window of 100 calls (start-up excluded: the rate is the window's);
#  - real Go (sigstep go on the fixture): boot cost to the probed call in
#    instructions and time, the window's boundaries/s, the whole run;
#  - sigstep fuzz's schedules/s per arch, the libFuzzer targets' execs/s;
#  - the whole `sigstep matrix` wall time on this machine's cores;
#  - the reference: native trap-flag single-stepping on the host CPU (and
#    under qemu-x86_64), real SIGTRAPs counted by a handler;
#  - ns per walltime/nanotime call of each variant natively, vDSO and
#    fallback paths, for each arch the host runs (the seed's own table).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/ci/build.sh" >/dev/null
b="$root/build"

echo "== probing rate (sigstep run --iterations 100, one core)"
for arch in amd64 386 arm; do
	for variant in $(tr ";" " " <"$b/guest/$arch/variants.txt"); do
		rate=$("$b/sigstep" run --arch "$arch" --variant "$variant" --iterations 100 2>&1 >/dev/null |
			sed -n 's/^speed *//p')
		printf '%-6s %-8s %s\n' "$arch" "$variant" "$rate"
	done
done

echo "== real Go: boot to the probed call, then every boundary of it (sigstep go, one core)"
for arch in amd64 386 arm; do
	fixture="$b/go/$arch/sigstep-go-fixture"
	[ -x "$fixture" ] || { echo "$arch: no Go fixture"; continue; }
	start=$(date +%s.%N)
	lines=$("$b/sigstep" go "$fixture" 2>&1 >/dev/null || true)	# exit 1: Go 1.19's truncated samples
	end=$(date +%s.%N)
	boot=$(printf '%s\n' "$lines" | sed -n 's/^boot *//p')
	rate=$(printf '%s\n' "$lines" | sed -n 's/^speed *//p')
	printf '%-6s nanotime1 call 200: boot %s; window %s; whole run %s s\n' "$arch" "$boot" "$rate" \
		"$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')"
done

echo "== sigstep fuzz: schedules per second on each arch's master (--runs 300, seed 1, one core)"
for arch in amd64 386 arm; do
	"$b/sigstep" fuzz --arch "$arch" --variant master --runs 300 --seed 1 2>/dev/null || true
done

echo "== libFuzzer targets (fuzz/build.sh, clang-14 + ASan/UBSan): execs/s from the seed corpora"
if command -v clang-14 >/dev/null 2>&1 && OUT="$b/fuzz" CC=clang-14 "$root/fuzz/build.sh" >/dev/null 2>&1; then
	for t in "$b"/fuzz/fuzz_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		name=$(basename "$t")
		tmp=$(mktemp -d)
		cp "$root/fuzz/corpus/$name/"* "$tmp/" 2>/dev/null || true
		secs=10
		SIGSTEP_BUILD_DIR="$b" "$t" -max_total_time=$secs -seed=1 "$tmp" >"$tmp.log" 2>&1 || true
		runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 \2/p' "$tmp.log")
		printf '%-20s %s\n' "$name" "$(echo "$runs" | awk '{ if ($2 > 0) printf "%d execs/s (%d runs in %d s)", $1 / $2, $1, $2; else print $1 " runs" }')"
		rm -rf "$tmp" "$tmp.log"
	done
else
	echo "no clang-14 / libFuzzer: skipped"
fi

echo "== sigstep matrix ($(nproc) cores)"
"$b/sigstep" matrix 2>&1 >/dev/null | grep '^sigstep matrix:' || true

if [ -x "$b/bench-trapflag" ]; then
	echo "== native trap-flag single-stepping (reference)"
	"$b/bench-trapflag"
	echo "-- the same under qemu-x86_64"
	qemu-x86_64 "$b/bench-trapflag"
fi

if [ -x "$b/bench-clock-cost" ]; then
	echo "== ns per call natively (kernel vDSO; fallback: clock_gettime hidden), 10 runs each"
	for arch in amd64 386 arm; do
		"$b/bench-clock-cost" "$b" "$arch" 10
	done
fi
