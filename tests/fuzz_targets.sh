#!/bin/sh
# fuzz_targets.sh SOURCE-DIR OUT-DIR: builds the libFuzzer targets with
# fuzz/build.sh (clang-14, -fsanitize=fuzzer,address,undefined) into
# OUT-DIR, then runs each briefly from a copy of its seed corpus (a fixed
# -runs, so the time is bounded by the work, not a clock): they must keep
# building and stay free of crashes, leaks and sanitizer reports.  Skipped
# (77), with the reason, where clang-14 or its libFuzzer runtime is missing.
set -u
src=$1 out=$2
if ! command -v clang-14 >/dev/null 2>&1; then
	echo "SKIP: clang-14 is not installed (Debian: clang-14)"
	exit 77
fi
rt=$(clang-14 -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null)
if [ ! -f "$rt" ] && [ -z "$(find /usr/lib/llvm-14 -name 'libclang_rt.fuzzer-*.a' 2>/dev/null | head -1)" ]; then
	echo "SKIP: clang-14's libFuzzer runtime is missing (Debian: libclang-rt-14-dev)"
	exit 77
fi
OUT=$out CC=clang-14 "$src/fuzz/build.sh" || { echo "fuzz/build.sh failed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
for t in "$out"/fuzz_*; do
	[ -x "$t" ] && [ -f "$t" ] || continue
	name=$(basename "$t")
	case "$name" in *.zip|*.dict) continue ;; esac
	runs=20000
	[ "$name" = fuzz_schedule_run ] && runs=40	# each input is a whole probe run
	mkdir -p "$work/$name"
	cp "$src/fuzz/corpus/$name/"* "$work/$name/" 2>/dev/null
	dict=""
	[ -f "$src/fuzz/$name.dict" ] && dict="-dict=$src/fuzz/$name.dict"
	# shellcheck disable=SC2086
	SIGSTEP_BUILD_DIR=$(dirname "$out") "$t" -runs=$runs -seed=1 $dict "$work/$name" >"$work/$name.log" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] || grep -q "ERROR: \|SUMMARY: " "$work/$name.log"; then
		tail -40 "$work/$name.log" >&2
		echo "$name: exit $rc" >&2
		fails=$((fails + 1))
	else
		echo "$name: $(grep -E '^#[0-9]+.*DONE' "$work/$name.log" | tail -1)"
	fi
done
[ "$fails" -eq 0 ]
