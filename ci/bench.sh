#!/bin/sh
# Benchmarks: figures, never pass/fail.  Set-up and build first, then:
#  - the reference: native trap-flag single-stepping on the host CPU (and
#    under qemu-x86_64), real SIGTRAPs counted by a handler, in this run;
#  - the Unicorn engine's probing rate (boundaries/s) per arch x variant,
#    on a window of 100 calls and of one call (start-up excluded: the rate
#    is the window's), and its ratio to native single-stepping;
#  - callgrind's host instructions per boundary (valgrind, where installed):
#    the window's and the handler runs' in it, at one iteration and steady;
#  - real Go (sigstep go on the fixture): boot cost to the probed call in
#    instructions and time, the window's boundaries/s, the whole run;
#  - sigstep fuzz's schedules/s per arch, the libFuzzer targets' execs/s;
#  - the whole `sigstep matrix` wall time on this machine's cores, and
#    its rows' windows at one iteration (on their workers' kept boots);
#  - ns per walltime/nanotime call of each variant natively, vDSO and
#    fallback paths, for each arch the host runs (the seed's own table).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/ci/build.sh" >/dev/null
b="$root/build"

# Rate of a run: "boundaries N" (stdout) over the window's seconds of
# CPU on the probing thread (the "speed ... (C s of CPU)" line on
# stderr: on a shared machine the wall clock also counts the others'
# load), summed over `reps` runs.
rate() {	# reps args...
	reps=$1
	shift
	i=0 nb=0 secs=0
	while [ "$i" -lt "$reps" ]; do
		o=$("$b/sigstep" run "$@" 2>&1 || true)
		nb=$((nb + $(printf '%s\n' "$o" | sed -n 's/^boundaries *//p')))
		secs=$(printf '%s\n' "$o" | sed -n 's/^speed .*(\([0-9.]*\) s of CPU)$/\1/p' |
			awk -v s="$secs" '{ printf "%.6f", s + $1 }')
		i=$((i + 1))
	done
	awk -v n="$nb" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'
}

native=0
if [ -x "$b/bench-trapflag" ]; then
	echo "== native trap-flag single-stepping (reference, this run)"
	line=$("$b/bench-trapflag")
	echo "$line"
	native=$(printf '%s\n' "$line" | sed -n 's/.* = \([0-9]*\) per CPU second$/\1/p')
	echo "-- the same under qemu-x86_64"
	qemu-x86_64 "$b/bench-trapflag"
fi

echo "== probing rate, boundaries per CPU second of the probing thread: --iterations 100 (steady state, one run), 1 iteration"
echo "   (10 runs summed); ratio to native trap-flag's per CPU second"
for arch in amd64 386 arm; do
	for variant in $(tr ";" " " <"$b/guest/$arch/variants.txt"); do
		r100=$(rate 1 --arch "$arch" --variant "$variant" --iterations 100)
		r1=$(rate 10 --arch "$arch" --variant "$variant")
		printf '%-6s %-8s 100 iterations %8s/s (%s x native)   1 iteration %8s/s (%s x native)\n' \
			"$arch" "$variant" "$r100" \
			"$(awk -v a="$r100" -v n="$native" 'BEGIN { f = n > 0 ? "%.2f" : "-"; printf f, a / (n ? n : 1) }')" "$r1" \
			"$(awk -v a="$r1" -v n="$native" 'BEGIN { f = n > 0 ? "%.2f" : "-"; printf f, a / (n ? n : 1) }')"
	done
done

if command -v valgrind >/dev/null 2>&1; then
	echo "== host instructions (callgrind Ir) per boundary, master, walltime: the window, and the handler runs in it"
	echo "   (--handler-budget 1000000000: a handler run stands uncounted when it took less time than any host"
	echo "    needs for its budget; under valgrind every run is ~50x slower, and with the default budget each"
	echo "    would be run again counted -- the figures are the path a boundary takes outside valgrind)"
	ir() {	# toggle args...: Ir collected under the function `toggle`
		t=$1
		shift
		valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect="$t" \
			"$b/sigstep" run --handler-budget 1000000000 "$@" 2>&1 >/dev/null |
			sed -n 's/^==[0-9]*== Collected : *//p'
	}
	for arch in amd64 386 arm; do
		b1=$("$b/sigstep" run --arch "$arch" --variant master 2>/dev/null | sed -n 's/^boundaries *//p')
		b10=$("$b/sigstep" run --arch "$arch" --variant master --iterations 10 2>/dev/null |
			sed -n 's/^boundaries *//p')
		w1=$(ir probe_window --arch "$arch" --variant master)
		w10=$(ir probe_window --arch "$arch" --variant master --iterations 10)
		h1=$(ir run_handler --arch "$arch" --variant master)
		h10=$(ir run_handler --arch "$arch" --variant master --iterations 10)
		awk -v a="$arch" -v b1="$b1" -v b10="$b10" -v w1="$w1" -v w10="$w10" -v h1="$h1" -v h10="$h10" 'BEGIN {
			printf "%-6s 1 iteration: %.1f k Ir/boundary (handler runs %.1f k)   steady (iterations 2-10): %.1f k Ir/boundary (handler runs %.1f k)\n",
				a, w1 / b1 / 1000, h1 / b1 / 1000, (w10 - w1) / (b10 - b1) / 1000, (h10 - h1) / (b10 - b1) / 1000 }'
	done
	echo "   (the handler-alone limit measured for this design: 14.8-21.9 k Ir per sample on read-only pages with hook-made stores;"
	echo "    8.6-14.3 k with a smaller handler: the handler alone, run 2000 times from one delivered state with only"
	echo "    the restorer's stop hook)"
	echo "== host instructions (callgrind Ir) per sample of a nested row (master nanotime, inject nested: a trial per boundary,"
	echo "   each a kept signal reading the clock, then every later boundary probed, then the guest's checks to its exit)"
	scn=$(mktemp)
	for arch in amd64 386 arm; do
		printf '[bench-nested]\nvariant master\narch %s\nfunction nanotime\ninject nested\nexpect fail truncated !fault !hang\n' \
			"$arch" >"$scn"
		n=$("$b/sigstep" run --scenario "$scn" --handler-budget 1000000000 2>/dev/null |
			sed -n 's/^inject *nested: \([0-9]*\) samples judged$/\1/p')
		w=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect=probe_window \
			"$b/sigstep" run --scenario "$scn" --handler-budget 1000000000 2>&1 >/dev/null |
			sed -n 's/^==[0-9]*== Collected : *//p')
		awk -v a="$arch" -v n="$n" -v w="$w" 'BEGIN {
			if (n > 0) printf "%-6s nested row: %d samples, %.1f k Ir/sample\n", a, n, w / n / 1000 }'
	done
	rm -f "$scn"
fi

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
mjson=$(mktemp)
"$b/sigstep" matrix --json "$mjson" 2>&1 >/dev/null | grep '^sigstep matrix:' || true
# One iteration as the matrix runs it: each row's window on its worker's
# kept boot (after the first row, the chain and the handler are translated
# already), boundaries over the windows' seconds, per arch and injection.
if command -v python3 >/dev/null 2>&1; then
	python3 - "$mjson" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
agg = {}
for r in rows:
    if r.get("subject") == "go" or r.get("iterations") != 1:
        continue
    k = (r["arch"], r["inject"].split(":")[0])
    a = agg.setdefault(k, [0, 0.0, 0])
    a[0] += r["probed"]	# samples judged: the boundaries, and a nested row's trials' too
    a[1] += r["elapsed_s"]
    a[2] += 1
for (arch, inject), (n, secs, rows_) in sorted(agg.items()):
    if inject in ("every", "nested"):
        print("%-6s %-7s one iteration, the matrix's windows: %8.0f samples/s (%d rows, %d samples)"
              % (arch, inject, n / secs if secs else 0, rows_, n))
PY
fi
rm -f "$mjson"

if [ -x "$b/bench-clock-cost" ]; then
	echo "== ns per call natively (kernel vDSO; fallback: clock_gettime hidden), 10 runs each"
	for arch in amd64 386 arm; do
		"$b/bench-clock-cost" "$b" "$arch" 10
	done
fi
