#!/bin/sh
# schedule_errors.sh SIGSTEP: malformed schedules are refused with one line,
# FILE:LINE: message, and exit 2, before anything runs.
set -u
sigstep=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0
# want LINE TEXT-IN-MESSAGE, then the file's content on stdin
want() {
	cat >"$dir/s.sched"
	"$sigstep" run --schedule "$dir/s.sched" >/dev/null 2>"$dir/err"
	rc=$?
	msg=$(cat "$dir/err")
	n=$(wc -l <"$dir/err")
	case "$msg" in
	"$dir/s.sched:$1: "*"$2"*) ;;
	*) echo "want '$dir/s.sched:$1: ...$2...', got '$msg'" >&2; fails=$((fails + 1)); return ;;
	esac
	[ "$rc" -eq 2 ] && [ "$n" -eq 1 ] || { echo "want exit 2 and one line, got $rc and $n ($msg)" >&2; fails=$((fails + 1)); }
}
printf 'arch amd64\nvariant master\nat 5 explode\n' | want 3 "unknown event"
printf 'arch amd64\nvariant master\nat 100001 sample\n' | want 3 "bad boundary index"
printf 'arch amd64\nvariant master\nat walltime+0x4@0 keep\n' | want 3 "bad occurrence"
printf 'arch amd64\nvariant master\nat walltime+zz keep\n' | want 3 "bad place"
printf 'arch amd64\nvariant master\nat 3 nested-clock sundial\n' | want 3 "nested-clock reads"
printf 'arch amd64\nvariant master\nat 3 keep extra\n' | want 3 "takes nothing"
printf 'arch amd64\nvariant master\ninject every\n' | want 3 "a schedule has no 'inject'"
printf 'arch amd64\narch 386\nvariant master\n' | want 2 "given twice"
printf 'arch amd64 386\nvariant master\n' | want 1 "one value"
printf 'variant master\nat 1 sample\n' | want 2 "no 'arch'"
printf 'arch amd64\nat 1 sample\n' | want 2 "no 'variant' or 'file'"
printf 'arch amd64\nvariant master\nknobs bogus\n' | want 3 "unknown knob"
printf 'arch amd64\nvariant master\nvdso absent\nvdso_base 0x200000\n' | want 4 "vdso_base with vdso absent"
printf 'arch amd64\nvariant master\nfunction nanotime1\n' | want 3 "unknown function"
printf 'arch amd64\nvariant m\0aster\n' | want 2 "NUL byte"
printf 'arch amd64\nvariant master\nat 3 nested-signal 5\n' | want 3 "nested-signal reads"
printf 'arch amd64\nvariant master\nat 3 nested-signal nanotime\n' | want 3 "nested-signal reads"
printf 'arch amd64\nvariant master\nat 3 nested-signal nanotime 1 2 3 4 5\n' | want 3 "nested-signal reads"
printf 'arch amd64\nvariant master\nat 3 nested-signal walltime 10001\n' | want 3 "bad boundary '10001' of a clock call"
printf 'arch amd64\nvariant master\nat 3 nested-signal walltime 4 -1\n' | want 3 "bad boundary '-1' of a clock call"
i=0; { echo 'arch amd64'; echo 'variant master'; while [ $i -lt 33 ]; do echo "at $i sample"; i=$((i + 1)); done; } | want 35 "more than 32 events"
# A symbol the image does not have: one line, exit 2, when it runs.
printf 'arch amd64\nvariant master\nat no_such_fn+0x0 sample\n' >"$dir/s.sched"
"$sigstep" run --schedule "$dir/s.sched" >/dev/null 2>"$dir/err"
rc=$?
grep -q "no symbol 'no_such_fn'" "$dir/err" && [ "$rc" -eq 2 ] || { echo "unknown symbol: rc $rc, $(cat "$dir/err")" >&2; fails=$((fails + 1)); }
# A good one replays and says what fired: an event by index and one by SYMBOL+OFF#N.
printf 'arch amd64\nvariant master\nsigprof go1.11\nat 3 keep\nat walltime+0x0 sample\nat nanotime+0x0@1 sample\n' >"$dir/s.sched"
"$sigstep" run --schedule "$dir/s.sched" >"$dir/out" 2>&1
rc=$?
grep -q "3 events, 2 fired" "$dir/out" && [ "$rc" -eq 0 ] || { cat "$dir/out" >&2; echo "good schedule: rc $rc" >&2; fails=$((fails + 1)); }
# Nested signals, each level judged against the clock call it interrupted:
# master's levels in its trampoline pass; in the vDSO, with nothing
# traceable left but the handler's C code, sigprof answers _VDSO.
printf 'arch amd64\nvariant master\nsigprof go1.11\nat 40 nested-signal nanotime 16 16\n' >"$dir/s.sched"
"$sigstep" run --schedule "$dir/s.sched" >"$dir/out" 2>&1
rc=$?
grep -q "schedule: 3 samples judged" "$dir/out" && grep -q "^verdicts   full 2 caller 1 vdso 0 " "$dir/out" && [ "$rc" -eq 0 ] ||
	{ cat "$dir/out" >&2; echo "nested-signal in the trampoline: rc $rc" >&2; fails=$((fails + 1)); }
printf 'arch amd64\nvariant master\nsigprof go1.11\nat 40 nested-signal nanotime 30 30\n' >"$dir/s.sched"
"$sigstep" run --schedule "$dir/s.sched" >"$dir/out" 2>&1
rc=$?
grep -q "^verdicts   full 0 caller 1 vdso 2 " "$dir/out" && grep -q "^invariants ok" "$dir/out" && [ "$rc" -eq 1 ] ||
	{ cat "$dir/out" >&2; echo "nested-signal in the vDSO: rc $rc" >&2; fails=$((fails + 1)); }
[ "$fails" -eq 0 ]
