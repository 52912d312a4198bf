#!/bin/sh
# reports_cli.sh SIGSTEP SOURCE_DIR
# sigstep as a command-line user meets it: --help and --version on stdout
# with exit 0, options in any order, one line and exit 2 for a report path
# that cannot be written (before anything runs) and for a file that is not
# .S, check --boundaries and --keep-image, JSON records that carry every
# setting, the expectation and met, and source lines on every violation.
set -u
sigstep=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
	echo "reports_cli: FAIL $*" >&2
	failures=$((failures + 1))
}
# status WANT ARGS...: sigstep ARGS exits WANT; stdout in $tmp/out, stderr in $tmp/err
status() {
	want=$1; shift
	"$sigstep" "$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	[ "$got" -eq "$want" ] || { fail "exit $got, not $want: sigstep $*"; sed -n 1,5p "$tmp/err" >&2; return 1; }
}
one_line() { # the error is one line naming the problem
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || { fail "$1: stderr is not one line"; cat "$tmp/err" >&2; return; }
	grep -q -- "$2" "$tmp/err" || { fail "$1: stderr does not say '$2'"; cat "$tmp/err" >&2; }
}

# --help, CMD --help, --version
status 0 --help && grep -q '^usage: sigstep exec' "$tmp/out" || fail "--help: no usage on stdout"
for cmd in exec run check matrix native; do
	status 0 $cmd --help && grep -q "sigstep $cmd" "$tmp/out" || fail "$cmd --help: no usage on stdout"
	[ -s "$tmp/err" ] && fail "$cmd --help wrote to stderr"
done
status 0 run --scenario x --help && grep -q -- "--scenario FILE" "$tmp/out" || fail "run --scenario --help"
status 0 --version && grep -Eq '^sigstep [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out" || fail "--version: $(cat "$tmp/out")"

# Options in any order: --scenario after other options.
mutant="$src/scenarios/mutants/amd64/vdsosp_after_switch.S"
status 0 run --arch amd64 --scenario "$mutant" || true
status 0 run --json "$tmp/s.json" --scenario "$mutant" --arch amd64 && [ -s "$tmp/s.json" ] || fail "run --json F --scenario"

# A report path that cannot be written: one line, exit 2, before the run
# (no summary printed, nothing created).
for opt in --json --junit --sarif --pprof --html; do
	status 2 run --arch amd64 --variant seed $opt "$tmp/no/such/dir/x" && one_line "run $opt" "cannot write $opt"
	[ -s "$tmp/out" ] && fail "run $opt: the run went ahead (stdout: $(head -1 "$tmp/out"))"
done
status 2 matrix --junit "$tmp/no/such/x.xml" && one_line "matrix --junit" "cannot write --junit"
[ -s "$tmp/out" ] && fail "matrix --junit: rows ran before the path was refused"
status 2 check --arch amd64 "$src/arch/amd64/trampoline_seed.S" --json "$tmp/no/x.json" &&
	one_line "check --json" "cannot write --json"
status 2 run --arch amd64 --variant seed --json - --junit - && one_line "two stdout reports" "both go to stdout"
# A file that is not .S
printf 'int x;\n' >"$tmp/tramp.c"
status 2 check --arch amd64 "$tmp/tramp.c" && one_line "check FILE.c" "not a trampoline source"

# check --boundaries and --keep-image DIR
mkdir "$tmp/keep"
if status 1 check --arch amd64 "$src/arch/amd64/trampoline_seed.S" --boundaries --keep-image "$tmp/keep"; then
	n=$(grep -c '^boundary 0x' "$tmp/out")
	[ "$n" -eq 115 ] || fail "check --boundaries: $n boundary lines, not the 115 of amd64 seed walltime"
	[ -x "$tmp/keep/sigstep-guest-seed" ] || fail "check --keep-image: no $tmp/keep/sigstep-guest-seed"
	# the kept image is the one probed: the same code as the built seed
	# variant's (their debug info differs: another build directory)
	objdump -d "$tmp/keep/sigstep-guest-seed" | tail -n +3 >"$tmp/kept.dis"
	objdump -d "$(dirname "$sigstep")/guest/amd64/sigstep-guest-seed" | tail -n +3 >"$tmp/built.dis"
	grep -q '<walltime>:' "$tmp/kept.dis" && cmp -s "$tmp/kept.dis" "$tmp/built.dis" ||
		fail "check --keep-image: the kept image's code is not the seed variant's"
fi
status 2 check --arch amd64 "$src/arch/amd64/trampoline_seed.S" --keep-image "$tmp/none" &&
	one_line "--keep-image missing dir" "keep-image"

# A source line on every violation: text FILE:LINE and JSON file/line.
if status 1 run --arch amd64 --variant seed --json "$tmp/r.json"; then
	grep -Eq '^  [a-z]+ at walltime\+0x[0-9a-f]+ \(0x[0-9a-f]+\) arch/amd64/trampoline_seed\.S:[0-9]+  ' "$tmp/out" ||
		fail "run: no 'VERDICT at walltime+OFF (PC) arch/amd64/trampoline_seed.S:LINE' line"
	nv=$(grep -c '^  [a-z]* at ' "$tmp/out")
	nl=$(grep -Ec '^  [a-z]* at [^ ]+ \(0x[0-9a-f]+\) [^ ]+:[0-9]+  ' "$tmp/out")
	[ "$nv" -gt 0 ] && [ "$nv" -eq "$nl" ] || fail "run: $nl of $nv violations name a source line"
	# the line really holds the instruction: the one at walltime+0x2d is seed's `SUBQ $16, SP`
	line=$(sed -n 's/^  [a-z]* at walltime+0x2d .* arch\/amd64\/trampoline_seed\.S:\([0-9]*\)  .*/\1/p' "$tmp/out")
	sed -n "${line:-0}p" "$src/arch/amd64/trampoline_seed.S" | grep -qi 'sub.*16.*sp' ||
		fail "run: walltime+0x2d is line '$line', which is not seed's SUBQ \$16, SP"
	for key in '"file": "arch/amd64/trampoline_seed.S", "line": [0-9]+' '"knobs": ""' '"vdso_base": "0x[0-9a-f]+"' \
		'"handler_budget": [0-9]+' '"sample_seed": 0' '"expect": "pass"' '"met": false'; do
		grep -Eq "$key" "$tmp/r.json" || fail "run --json: no $key"
	done
fi
# the vDSO's lines too
if status 1 run --arch amd64 --variant prefix --sigprof go1.10; then
	grep -Eq '^  external at [^ ]+ \(0x7[0-9a-f]+\) emulated_vdso/vdso\.c:[0-9]+  ' "$tmp/out" ||
		fail "run prefix: no external sample in the vDSO with an emulated_vdso/vdso.c line"
fi
# A user's file keeps its own name.
cp "$src/arch/arm/trampoline_seed.S" "$tmp/my_trampoline.S"
if (cd "$tmp" && "$sigstep" check --arch arm my_trampoline.S --sigprof go1.11 >"$tmp/out" 2>"$tmp/err"; [ $? -eq 1 ]); then
	grep -Eq '^  wrong at walltime\+0x[0-9a-f]+ \(0x[0-9a-f]+\) my_trampoline\.S:[0-9]+  ' "$tmp/out" ||
		fail "check my_trampoline.S: no my_trampoline.S:LINE"
else
	fail "check my_trampoline.S did not exit 1"; cat "$tmp/err" >&2
fi
# The matrix's JSON: expectation and met on every record, as many as its rows.
status 0 matrix --no-scenarios --json "$tmp/m.json" --jobs 2 || true
rows=$(sed -n 's/^\([0-9]*\) rows, \([0-9]*\) met.*/\1 \2/p' "$tmp/out")
n=$(grep -c '"expect": ' "$tmp/m.json"); m=$(grep -c '"met": true' "$tmp/m.json")
[ "$n $m" = "$rows" ] && [ "$n" -gt 0 ] || fail "matrix --json: $n records with expect, $m met; the table: $rows"

# annotate: a verdict column per era, the source line, the instruction;
# plain when piped, coloured on a terminal unless NO_COLOR.
if status 1 annotate --arch amd64 --variant seed --sigprof go1.10 go1.11; then
	# seed's SUBQ $16, SP: the line it is on, and both eras' verdicts
	subq=$(grep -n '^[[:space:]]*subq[[:space:]]*\$16, %rsp' "$src/arch/amd64/trampoline_seed.S" | head -1 | cut -d: -f1)
	grep -Eq "^system +[a-z]+ +arch/amd64/trampoline_seed\.S:$subq +0x[0-9a-f]+ +sub rsp, 0x10\$" "$tmp/out" ||
		fail "annotate: seed's SUBQ \$16, SP is not 'system ...' at trampoline_seed.S:$subq"
	grep -q "$(printf '\033')" "$tmp/out" && fail "annotate: colour codes in piped output"
	# as many failing cells in the go1.11 column as run gives distinct violating pcs
	cells=$(awk '$2 != "full" && $2 != "caller" && $2 != "-" && $3 ~ /:[0-9]+$/' "$tmp/out" | wc -l)
	"$sigstep" run --arch amd64 --variant seed >"$tmp/run" 2>/dev/null
	pcs=$(grep -E '^  [a-z]+ at ' "$tmp/run" | awk '{ print $4 }' | sort -u | wc -l)
	[ "$cells" -eq "$pcs" ] && [ "$pcs" -gt 0 ] || fail "annotate: $cells failing cells, run has $pcs violating pcs"
fi
if command -v script >/dev/null; then
	script -qc "'$sigstep' annotate --arch amd64 --variant master" /dev/null >"$tmp/tty" 2>&1
	grep -q "$(printf '\033')\[32mfull" "$tmp/tty" || fail "annotate on a terminal: no green 'full'"
	grep -q "$(printf '\033')\[2mnot reached" "$tmp/tty" || fail "annotate on a terminal: no dim 'not reached'"
	NO_COLOR=1 script -qc "'$sigstep' annotate --arch amd64 --variant master" /dev/null >"$tmp/tty" 2>&1
	grep -q "$(printf '\033')" "$tmp/tty" && fail "annotate with NO_COLOR: colour codes"
fi
# (master's g0 chain under go1.11 has truncated samples: exit 1)
status 1 annotate --arch arm --variant master --sigprof go1.11 --context curg g0 --stacks &&
	grep -q '\[go1.11/g0\] got: walltime+0x0 <- time_now' "$tmp/out" || fail "annotate --stacks: no g0 stack"
status 2 annotate --arch amd64 && one_line "annotate without code" "--variant V or a FILE.S"

[ "$failures" -eq 0 ] && echo "reports_cli: all passed"
[ "$failures" -eq 0 ]
