#!/bin/sh
# hardening.sh SIGSTEP SOURCE_DIR BUILD_DIR CASE
# The bad inputs, limits and interrupts of issue 9, one CASE per ctest
# test (harden-CASE), each through the program as a user meets it.  Every
# case works in a scratch directory of its own (TMPDIR too, so that
# nothing sigstep leaves in the temp dir goes unseen) and removes it.
set -u
sigstep=$1 src=$2 build=$3 case=$4
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sigstep-harden-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/t"
TMPDIR=$tmp/t
export TMPDIR
failures=0
fail() {
	echo "harden-$case: FAIL $*" >&2
	failures=$((failures + 1))
}
# run STATUS ARGS...: sigstep ARGS with stdout in $tmp/out, stderr in
# $tmp/err; it must exit STATUS.
run() {
	want=$1; shift
	"$sigstep" "$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		fail "exit $got, not $want: sigstep $*"
		sed 's/^/  stdout: /' "$tmp/out" | head -20 >&2
		sed 's/^/  stderr: /' "$tmp/err" | head -20 >&2
		return 1
	fi
}
one_line() { # one_line WHAT: stderr is exactly one line
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || { fail "$1: not one line on stderr"; cat "$tmp/err" >&2; }
}
err_has() { # err_has FIXED-STRING WHAT
	grep -qF -- "$1" "$tmp/err" || { fail "$2: stderr lacks '$1'"; cat "$tmp/err" >&2; }
}
no_temp_left() { # nothing sigstep made is left in TMPDIR
	left=$(ls -A "$TMPDIR")
	[ -z "$left" ] || { fail "$1: left in the temp dir: $left"; rm -rf "${TMPDIR:?}"/*; }
}
children_of() { # children_of PID: its live children (from /proc: no procps needed)
	cat /proc/[0-9]*/stat 2>/dev/null |
		sed -n 's/^\([0-9]*\) .*) \([A-Za-z]\) \([0-9]*\) .*/\1 \2 \3/p' |
		awk -v p="$1" '$3 == p && $2 != "Z" { print $1 }'
}
dead() { # dead PID: gone, or a zombie waiting for init
	[ ! -e "/proc/$1" ] || [ "$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" = Z ]
}
# wait_for PATH: until it exists (a process we started makes it), at most 60 s.
wait_for() {
	n=0
	while [ ! -s "$1" ] && [ $n -lt 6000 ]; do
		sleep 0.01
		n=$((n + 1))
	done
	[ -s "$1" ]
}
# A build directory of our own (--build-dir), holding one arch's built
# products -- some of them changed by the case.
layout() { # layout ARCH
	mkdir -p "$tmp/b/guest/$1"
	cp "$build/guest/$1/vdso.so" "$build/guest/$1/variants.txt" "$build/guest/$1/toolchain.txt" \
		"$build/guest/$1"/sigstep-guest-* "$tmp/b/guest/$1/"
}
# poke FILE OFFSET OCTAL-BYTE: one byte of FILE changed in place.
poke() {
	printf "\\$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
# offset_of FILE STRING [prefix]: the file offset of the string STRING
# (with "prefix": of the first string that starts with it).
offset_of() {
	strings -a -t d "$1" | awk -v s="$2" -v p="${3:-}" '{
		o = $1; t = $0; sub(/^ *[0-9]+ /, "", t)
		if (t == s || (p != "" && index(t, s) == 1)) { print o; exit } }'
}
signum() { # signum NAME: its number (dash's kill -l does not say)
	case $1 in INT) echo 2 ;; ABRT) echo 6 ;; SEGV) echo 11 ;; TERM) echo 15 ;; esac
}

case $case in

early-exit-stderr)
	# A guest image with two bytes changed exits before the chain's root
	# with an error on stderr that has no newline: the message quotes it,
	# exactly, and nothing after it (the captured output has no NUL of
	# its own; MALLOC_PERTURB_ makes fresh heap bytes non-zero).
	layout amd64
	img=$tmp/b/guest/amd64/sigstep-guest-seed
	at=$(offset_of "$img" "--context") && [ -n "$at" ] || { fail "no --context in the image"; exit 1; }
	poke "$img" $((at + 2)) 170	# "--xontext": the guest refuses --context
	at=$(offset_of "$img" "' (options: --vdso auto" prefix)
	[ -n "$at" ] || { fail "no usage text in the image"; exit 1; }
	poke "$img" "$at" 0		# ... and says so without the usage and its newline
	MALLOC_PERTURB_=165 run 2 run --build-dir "$tmp/b" --arch amd64 --variant seed && one_line "early exit"
	want="sigstep: run: the guest never reached goroutine_root: sigstep-guest: unknown or incomplete option '--context"
	[ "$(cat "$tmp/err")" = "$want" ] || fail "early exit: got '$(cat -v "$tmp/err")', want '$want'"
	;;

no-size-directives)
	# The contract asks for neither .size nor .type: a correct file
	# without them is still correct, with the same verdicts as with them
	# (master under Go 1.11's sigprof passes every boundary).
	for arch in 386 amd64 arm; do
		run 0 check --arch "$arch" "$src/arch/$arch/trampoline_master.S" --sigprof go1.11 || continue
		grep -E '^(boundaries|verdicts)' "$tmp/out" >"$tmp/with"
		for drop in '/\.size/d' '/\.size/d; /\.type/d'; do
			sed "$drop" "$src/arch/$arch/trampoline_master.S" >"$tmp/master_bare.S"
			run 0 check --arch "$arch" "$tmp/master_bare.S" --sigprof go1.11 || continue
			grep -E '^(boundaries|verdicts)' "$tmp/out" >"$tmp/without"
			cmp -s "$tmp/with" "$tmp/without" ||
				fail "$arch: other verdicts after sed '$drop': $(cat "$tmp/without")"
		done
	done
	;;

loop-before-root)
	# An image whose _start jumps to itself never reaches the chain's root:
	# the run stops at its time limit and says so.
	layout amd64
	img=$tmp/b/guest/amd64/sigstep-guest-master
	entry=$(readelf -hW "$img" | awk '/Entry point/ { print $4 }')
	off=
	readelf -lW "$img" | awk '$1 == "LOAD" { print $2, $3, $5 }' >"$tmp/loads"
	while read -r o v n; do
		if [ $((entry)) -ge $((v)) ] && [ $((entry)) -lt $((v + n)) ]; then
			off=$((entry - v + o))
		fi
	done <"$tmp/loads"
	[ -n "$off" ] || { fail "no entry in the image"; exit 1; }
	poke "$img" "$off" 353		# jmp .  (eb fe)
	poke "$img" $((off + 1)) 376
	run 2 run --build-dir "$tmp/b" --arch amd64 --variant master --timeout 2 && one_line "loop before the root"
	err_has "ran out of time (--timeout 2 s)" "loop before the root"
	;;

timeout)
	# A trampoline that never returns: the run stops at --timeout, says
	# so, and fails (exit 1); the option takes seconds, 1 and up.
	sed '/^walltime:/a\
1:	jmp 1b' "$src/arch/amd64/trampoline_master.S" >"$tmp/loops.S"
	grep -q '^1:	jmp 1b' "$tmp/loops.S" || { fail "no loop put in"; exit 1; }
	run 1 check --arch amd64 "$tmp/loops.S" --timeout 2
	grep -qF "time limit (--timeout 2 s)" "$tmp/out" || { fail "looping check: no time limit said"; cat "$tmp/out" >&2; }
	run 1 run --arch amd64 --variant master --timeout 1 --iterations 100000
	grep -qF "time limit (--timeout 1 s)" "$tmp/out" || { fail "long run: no time limit said"; cat "$tmp/out" >&2; }
	for bad in 0 -1 " 1" 1s 86401; do
		run 2 run --arch amd64 --variant master --timeout "$bad" && one_line "--timeout '$bad'"
		run 2 check --arch amd64 "$src/arch/amd64/trampoline_master.S" --timeout "$bad" && one_line "check --timeout '$bad'"
	done
	no_temp_left "timeout"
	;;

tool-timeout|interrupt-check-term|interrupt-check-int)
	# The assembler that never finishes (a cc that runs a child of its
	# own and waits, as cc runs as): stopped at the time limit, or by an
	# interrupt of sigstep -- with its child, and the temp dir removed.
	layout amd64
	cat >"$tmp/slow-cc" <<-EOF
	#!/bin/sh
	sleep 300 &
	echo \$! >"$tmp/child.pid"
	echo \$\$ >"$tmp/cc.pid"
	wait
	EOF
	chmod +x "$tmp/slow-cc"
	sed "s|^cc .*|cc $tmp/slow-cc|" "$build/guest/amd64/toolchain.txt" >"$tmp/b/guest/amd64/toolchain.txt"
	tramp=$src/arch/amd64/trampoline_master.S
	case $case in
	tool-timeout)
		run 2 check --build-dir "$tmp/b" --arch amd64 "$tramp" --timeout 2 && one_line "slow assembler"
		err_has "assembly stopped: the run reached its time limit (--timeout)" "slow assembler"
		;;
	*)
		sig=${case#interrupt-check-}
		sig=$(echo "$sig" | tr a-z A-Z)
		# A shell starts background jobs with SIGINT ignored: perl
		# gives sigstep the default disposition, as a terminal would.
		perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die' \
			"$sigstep" check --build-dir "$tmp/b" --arch amd64 "$tramp" >"$tmp/out" 2>"$tmp/err" &
		pid=$!
		wait_for "$tmp/cc.pid" || fail "the assembler never started"
		kill -"$sig" $pid
		wait $pid
		got=$?
		want=$((128 + $(signum "$sig")))
		[ "$got" -eq "$want" ] || fail "sigstep check exited $got after SIG$sig, not $want"
		;;
	esac
	for f in cc child; do
		p=$(cat "$tmp/$f.pid" 2>/dev/null)
		[ -n "$p" ] || { fail "no $f pid"; continue; }
		dead "$p" || { fail "the assembler's $f ($p) outlived sigstep"; kill -9 "$p"; }
	done
	no_temp_left "$case"
	;;

interrupt-check-probing)
	# SIGTERM while check probes its image (a trampoline that loops): the
	# image and its directory go, and check dies of the signal.
	sed '/^walltime:/a\
1:	jmp 1b' "$src/arch/amd64/trampoline_master.S" >"$tmp/loops.S"
	"$sigstep" check --arch amd64 "$tmp/loops.S" >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	n=0
	while [ -z "$(ls "$TMPDIR"/sigstep-check-*/sigstep-guest-loops 2>/dev/null)" ] && [ $n -lt 6000 ]; do
		sleep 0.01
		n=$((n + 1))
	done
	[ $n -lt 6000 ] || fail "check never linked its image"
	sleep 0.2	# into the probe
	kill -TERM $pid
	wait $pid
	got=$?
	[ "$got" -eq 143 ] || fail "sigstep check exited $got after SIGTERM, not 143"
	no_temp_left "interrupted probe"
	;;

interrupt-matrix)
	# SIGTERM while the matrix builds its mutants: no build directory is
	# left, no child outlives it, and it dies of the signal.
	"$sigstep" matrix --build-dir "$build" --jobs 2 >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	n=0
	while [ -z "$(ls -A "$TMPDIR")" ] && [ $n -lt 6000 ]; do
		sleep 0.01
		n=$((n + 1))
	done
	[ -n "$(ls -A "$TMPDIR")" ] || fail "the matrix built no mutant"
	kids=$(children_of $pid)
	[ -n "$kids" ] || fail "no child of the matrix seen while it built its mutants"
	kill -TERM $pid
	wait $pid
	got=$?
	[ "$got" -eq 143 ] || fail "sigstep matrix exited $got after SIGTERM, not 143"
	for k in $kids; do
		dead "$k" || { fail "matrix child $k outlived it"; kill -9 "$k"; }
	done
	no_temp_left "interrupted matrix"
	;;

expectations-directory)
	# A directory is not an empty file.
	run 2 matrix --build-dir "$build" --expectations "$src/scenarios" && one_line "--expectations DIR"
	err_has "Is a directory" "--expectations DIR"
	run 2 run --scenario "$src/scenarios" --build-dir "$build" && one_line "--scenario DIR"
	err_has "Is a directory" "--scenario DIR"
	;;

matrix-child-crash)
	# A row whose process dies of a signal has no verdict: exit 2 naming
	# the rows and the signal, not 1 ("violation found").  Under ASan a
	# SIGSEGV is the sanitizer's (it reports and exits 1): SIGABRT there.
	sig=SEGV
	if [ -n "${SIGSTEP_SANITIZED:-}" ]; then
		sig=ABRT
		echo "harden-$case: under the sanitizers the child is sent SIGABRT, not SIGSEGV (ASan catches SIGSEGV)"
	fi
	# A worker runs group after group: a kill that lands between two of
	# them (its rows all passed on, the next not yet handed) costs no row
	# -- a new worker takes the groups left, and every row has its
	# verdict -- so the matrix is run again until a kill lands inside a
	# row, at most 8 times.
	attempt=0
	while [ $attempt -lt 8 ]; do
		attempt=$((attempt + 1))
		"$sigstep" matrix --build-dir "$build" --no-scenarios --jobs 2 >"$tmp/out" 2>"$tmp/err" &
		pid=$!
		killed=
		n=0
		# A worker, which runs its rows in its own process: the matrix's
		# launcher forks the workers (harness/commands/run_workers.c).
		while [ -z "$killed" ] && [ $n -lt 20000 ] && kill -0 $pid 2>/dev/null; do
			for l in $(children_of $pid); do
				for w in $(children_of $l); do
					kill -"$sig" "$w" 2>/dev/null && killed=$w && break 2
				done
			done
			n=$((n + 1))
		done
		wait $pid
		got=$?
		if [ -z "$killed" ]; then
			fail "no matrix child to kill"
			break
		fi
		grep -q "its worker ended before it" "$tmp/err" && break
		[ "$got" -le 1 ] || fail "matrix exited $got when a worker died between two groups, not 0 or 1"
		grep -q '^\([0-9]*\) rows, \1 met' "$tmp/out" ||
			{ fail "a worker that died between two groups cost rows"; tail -3 "$tmp/out" >&2; }
		echo "harden-$case: attempt $attempt: the worker was killed between two groups; again"
	done
	if grep -q "its worker ended before it" "$tmp/err"; then
		[ "$got" -eq 2 ] || fail "matrix exited $got with a crashed child, not 2"
		err_has "the harness failed, no verdict: its worker ended before it: killed by signal $(signum "$sig")" "crashed row"
		grep -q "^sigstep: matrix: row [a-z0-9]* [a-z0-9]* [a-z]* [a-z0-9.]*[^:]*: the harness failed" "$tmp/err" ||
			{ fail "the crashed row is not named"; cat "$tmp/err" >&2; }
	elif [ -n "$killed" ]; then
		fail "$attempt kills, none inside a row"
	fi
	;;

json-unwritable)
	# --json to a path that cannot be written: refused before the run,
	# one line, nothing else printed.
	run 2 matrix --build-dir "$build" --json "$tmp/no/such/dir/m.json" && one_line "matrix --json"
	[ ! -s "$tmp/out" ] || fail "matrix ran before refusing its --json path"
	run 2 native --arch amd64 --variant master --inject break --json "$tmp/no/such/dir/n.json" && one_line "native --json"
	[ ! -s "$tmp/out" ] || fail "native ran before refusing its --json path"
	run 2 native --compare --arch amd64 --variant master --json "$tmp/no/such/dir/c.json" && one_line "native --compare --json"
	[ ! -s "$tmp/out" ] || fail "native --compare ran before refusing its --json path"
	;;

json-kept-on-failure)
	# A run or check that fails with no record leaves a --json file that
	# was there as it was, and makes none that was not.
	printf 'keep\n' >"$tmp/old.json"
	printf 'walltime:\n\tnot an instruction\n' >"$tmp/bad.S"
	run 2 check --arch amd64 "$tmp/bad.S" --json "$tmp/old.json"
	[ "$(cat "$tmp/old.json" 2>/dev/null)" = keep ] || fail "check: the existing --json file was changed or removed"
	run 2 check --arch amd64 "$tmp/bad.S" --json "$tmp/new.json"
	[ ! -e "$tmp/new.json" ] || fail "check: a failed run left a --json file"
	layout amd64
	rm "$tmp/b/guest/amd64/vdso.so"
	run 2 run --build-dir "$tmp/b" --arch amd64 --variant master --json "$tmp/old.json"
	[ "$(cat "$tmp/old.json" 2>/dev/null)" = keep ] || fail "run: the existing --json file was changed or removed"
	run 2 run --build-dir "$tmp/b" --arch amd64 --variant master --json "$tmp/new.json"
	[ ! -e "$tmp/new.json" ] || fail "run: a failed run left a --json file"
	# and a run that succeeds replaces it whole
	run 0 run --arch amd64 --variant master --sigprof go1.11 --json "$tmp/old.json"
	grep -q '"arch": "amd64"' "$tmp/old.json" && ! grep -q keep "$tmp/old.json" ||
		fail "run: the --json file is not the record alone"
	no_temp_left "json"
	;;

strict-numbers)
	# One number parser: a number starts with a digit and has nothing
	# after it; blanks and signs are refused.
	for bad in " -1" "-1" " 5" "+5" "5 " "" "0x" "1e3"; do
		run 2 run --arch amd64 --variant master --iterations "$bad" && one_line "--iterations '$bad'"
		run 2 run --arch amd64 --variant master --handler-budget "$bad" && one_line "--handler-budget '$bad'"
		run 2 matrix --build-dir "$build" --jobs "$bad" && one_line "--jobs '$bad'"
		run 2 native --arch arm --variant master --inject itimer --budget-ms "$bad" && one_line "--budget-ms '$bad'"
		run 2 exec --arch amd64 --variant master --timeout "$bad" && one_line "exec --timeout '$bad'"
	done
	# and in the files: a scenario's sample count, an 'at' range's offsets
	for bad in "+5" "-1" "0x"; do
		printf '[n]\narch amd64\nvariant master\ninject sample:%s\nexpect pass\n' "$bad" >"$tmp/n.scn"
		run 2 run --scenario "$tmp/n.scn" --build-dir "$build" && one_line "sample:'$bad'"
		printf '[n]\narch amd64\nvariant seed\nexpect fail wrong at walltime+0x0..%s\n' "$bad" >"$tmp/n.scn"
		run 2 run --scenario "$tmp/n.scn" --build-dir "$build" && one_line "at range ..'$bad'"
		printf '[n]\narch amd64\nvariant seed\nexpect fail wrong at walltime+%s..walltime+0x10\n' "$bad" >"$tmp/n.scn"
		run 2 run --scenario "$tmp/n.scn" --build-dir "$build" && one_line "at range '$bad'.."
	done
	;;

input-bytes)
	# What the input holds is named, never cut silently, and its control
	# bytes are escaped in the messages.
	printf '[n]\nvariant mas\000ter\nexpect pass\n' >"$tmp/nul.scn"
	run 2 run --scenario "$tmp/nul.scn" --build-dir "$build" && one_line "NUL byte"
	err_has "nul.scn:2: a NUL byte at column 12" "NUL byte"
	head -c 1500 /dev/zero | tr '\0' x >"$tmp/long"
	{ printf '// expect: fail wrong !fault %s\n' "$(cat "$tmp/long")"; cat "$src/scenarios/mutants/amd64/no_switch.S"; } \
		>"$tmp/long_expect.S"
	run 2 run --scenario "$tmp/long_expect.S" --arch amd64 --build-dir "$build" && one_line "long expect line"
	err_has "long_expect.S:1: line longer than 1023 bytes" "long expect line"
	printf '* * * * fail wrong\033[2J\n' >"$tmp/esc.txt"
	run 2 matrix --build-dir "$build" --expectations "$tmp/esc.txt" && one_line "escape bytes"
	err_has "unknown verdict 'wrong\\x1b[2J'" "escape bytes"
	if grep -q "$(printf '\033')" "$tmp/err"; then fail "a raw ESC byte reached stderr"; fi
	;;

*)
	echo "hardening.sh: unknown case '$case'" >&2
	exit 2
	;;
esac
[ "$failures" -eq 0 ] || exit 1
echo "harden-$case: ok"
