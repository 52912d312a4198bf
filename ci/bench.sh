#!/bin/sh
# Benchmarks: figures, never pass/fail.  Set-up and build first, then:
#  - the Unicorn engine's probing rate (boundaries/s) per arch x variant,
#    on a window of 100 calls (start-up excluded: the rate is the window's);
#  - real Go (sigstep go on the fixture): boot cost to the probed call in
#    instructions and time, the window's boundaries/s, the whole run;
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
