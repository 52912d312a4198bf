#!/bin/sh
# native_file.sh SIGSTEP SOURCE_DIR ARCH
# sigstep native with a user's trampoline file (FILE.S, built as `sigstep
# check` builds it) on whatever engine runs ARCH here (--emulator auto):
#   - the project's own trampoline_seed.S and trampoline_master.S give
#     exactly the verdicts of the built variants (seed fails), and so does
#     --compare's table;
#   - an assembler error: the tool's messages, one line naming the file,
#     exit 2; a missing file: one line, exit 2;
#   - --emulator auto picks the host exactly when --host-check says the host
#     runs the arch (engine "native"), else qemu.
set -u
sigstep=$1 src=$2 arch=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
	echo "native_file: FAIL $*" >&2
	failures=$((failures + 1))
}
# The lines that carry a run's figures, without timings.
figures() {
	# (a vDSO pc is shown as vdso+OFFSET: where it is mapped varies)
	grep -E '^(boundaries|verdicts|invariants|result) |^  [a-z]+ at ' "$1" | sed 's/^\(  [a-z]* at vdso+[^ ]*\) (0x[0-9a-f]*)/\1/'
}

for v in seed master; do
	"$sigstep" native --arch "$arch" --variant $v --inject break --vdso synthetic >"$tmp/variant" 2>/dev/null
	rc_variant=$?
	"$sigstep" native --arch "$arch" "$src/arch/$arch/trampoline_$v.S" --inject break --vdso synthetic \
		--json "$tmp/json" >"$tmp/file" 2>/dev/null
	rc_file=$?
	[ "$rc_variant" -le 1 ] || fail "--variant $v exited $rc_variant"
	[ "$rc_file" -eq "$rc_variant" ] || fail "trampoline_$v.S exited $rc_file, --variant $v $rc_variant"
	figures "$tmp/variant" >"$tmp/variant.fig"
	figures "$tmp/file" >"$tmp/file.fig"
	[ -s "$tmp/file.fig" ] || fail "no figures from trampoline_$v.S"
	cmp -s "$tmp/variant.fig" "$tmp/file.fig" || {
		fail "trampoline_$v.S and --variant $v differ:"
		diff "$tmp/variant.fig" "$tmp/file.fig" | head -20 >&2
	}
	grep -q "\"variant\": \"sigstep-guest-$v\"" "$tmp/json" || fail "the record does not name the file's image"
	# seed's one-word-off vdsoSP fails wherever it is run.
	[ "$v" != seed ] || [ "$rc_file" -eq 1 ] || fail "trampoline_seed.S exited $rc_file, not 1"
done

# --compare: the same table for the file as for the variant (timings aside).
"$sigstep" native --compare --arch "$arch" --variant seed --budget-ms 20 >"$tmp/cv" 2>/dev/null
"$sigstep" native --compare --arch "$arch" "$src/arch/$arch/trampoline_seed.S" --budget-ms 20 >"$tmp/cf" 2>/dev/null
rc=$?
[ "$rc" -eq 1 ] || fail "--compare trampoline_seed.S exited $rc, not 1"
# The exhaustive rows without their last two columns (time, first violation).
rows() { awk '$1 == "every" || $1 == "step" || $1 == "break" { NF -= 2; print }' "$1"; }
rows "$tmp/cv" >"$tmp/cv.rows"
rows "$tmp/cf" >"$tmp/cf.rows"
[ -s "$tmp/cf.rows" ] || fail "--compare with a file: no rows"
cmp -s "$tmp/cv.rows" "$tmp/cf.rows" || {
	fail "--compare: the file's rows differ from the variant's:"
	diff "$tmp/cv.rows" "$tmp/cf.rows" >&2
}

# An assembler error, and a missing file: exit 2, the step named.
printf '#include "offsets.h"\n\t.text\n\t.globl walltime\nwalltime:\n\tnot_an_instruction\n' >"$tmp/broken.S"
"$sigstep" native --arch "$arch" "$tmp/broken.S" --inject break >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 2 ] || fail "an assembler error exited $rc, not 2"
tail -n 1 "$tmp/err" | grep -q "broken.S: assembly failed" || { fail "no 'assembly failed' line"; cat "$tmp/err" >&2; }
"$src/tests/expect_status.sh" 2 "$sigstep" native --arch "$arch" "$tmp/no-such.S" --inject break ||
	fail "a missing file"

# --emulator auto: the host exactly where it runs the arch.
"$sigstep" native --arch "$arch" --variant master --inject break --json "$tmp/auto.json" >/dev/null 2>&1
if "$sigstep" native --host-check --arch "$arch" >/dev/null 2>&1; then
	grep -q '"engine": "native"' "$tmp/auto.json" || fail "auto: the host runs $arch, but the run was not native"
else
	grep -q '"engine": "qemu"' "$tmp/auto.json" || fail "auto: the host does not run $arch, but the run was not qemu"
fi

if [ "$failures" -ne 0 ]; then
	echo "native_file: $failures failed" >&2
	exit 1
fi
echo "native_file: all checks passed ($arch)"
