#!/bin/sh
# ptrace_go.sh SIGSTEP BUILD_DIR ARCH
# The ptrace engine on the real-Go fixture (build/go/ARCH/sigstep-go-fixture,
# Debian's Go 1.19) natively, with the kernel's vDSO: every boundary of
# the 200th call of runtime.nanotime1 made within time.Since.
# What Go 1.19 does there (reference/go1.19/README.md, measured):
#   - nanotime1 is SPWRITE: a SIGPROF at any of its instructions gives
#     the one-frame sample [pc+1] -- truncated (wrong where the verdicts
#     have no truncated);
#   - in the vDSO findfunc fails and the sample is the caller's stack
#     from vdsoPC -- caller at every vDSO boundary;
#   - nothing else (no marker, no fault, no hang), the program exits 0,
#     and the run is not cut by its time limit.
# The pcs outside the vDSO are the same on a second run.  Skipped (77),
# saying why, without the fixture (no Go toolchain), where this CPU does
# not run ARCH, or where ptrace is not allowed.
set -u
sigstep=$1 build=$2 arch=$3
fixture=$build/go/$arch/sigstep-go-fixture
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x "$fixture" ] || { echo "skipped: no Go fixture $fixture (no Go toolchain at build time)"; exit 77; }
if ! why=$("$sigstep" native --host-check --arch "$arch" --vdso kernel 2>&1); then
	echo "skipped: ${why#sigstep: native: }"
	exit 77
fi
failures=0
fail() {
	echo "ptrace_go: FAIL $*" >&2
	failures=$((failures + 1))
}
run() { # run OUT: the engine's run, boundaries listed, JSON to OUT.json
	"$sigstep" native --go "$fixture" --function nanotime1 --call 200 --list-boundaries \
		--json "$1.json" >"$1" 2>"$1.err"
	rc=$?
	if [ "$rc" -eq 2 ] && grep -q 'ptrace is not allowed' "$1.err"; then
		echo "skipped: $(sed 's/^sigstep: native: //' "$1.err")"
		exit 77
	fi
	echo "$rc" >"$1.rc"
}
run "$tmp/a"
cat "$tmp/a"
[ "$(cat "$tmp/a.rc")" -eq 1 ] || { fail "exit $(cat "$tmp/a.rc"), not 1"; cat "$tmp/a.err" >&2; }
num() { sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p" "$tmp/a.json" | head -n 1; }
verdict() { sed -n 's/.*"verdicts": {\([^}]*\)}.*/\1/p' "$tmp/a.json" | tr ',' '\n' | sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p"; }
inf=$(num in_function) invdso=$(num in_vdso) else=$(num elsewhere) total=$(num boundaries)
full=$(verdict full) caller=$(verdict caller) wrong=$(verdict wrong)
echo "ptrace_go: $arch: boundaries=$total in_function=$inf in_vdso=$invdso retries=$(num vdso_retries)"
[ "${inf:-0}" -gt 0 ] || fail "no boundary in nanotime1"
[ "${invdso:-0}" -gt 0 ] || fail "no boundary in the kernel's vDSO"
[ "${else:-1}" -eq 0 ] || fail "$else boundaries outside nanotime1 and the vDSO"
[ "$total" -eq $((inf + invdso)) ] || fail "boundaries $total != $inf + $invdso"
# The one-frame sample is `truncated` where the verdicts have it.
short=wrong
[ -n "$(verdict truncated)" ] && short=truncated
[ "$(verdict $short)" = "$inf" ] || fail "$short=$(verdict $short): every nanotime1 boundary must give Go 1.19's one-frame sample ($inf)"
[ "$short" = wrong ] || [ "$wrong" = 0 ] || fail "wrong=$wrong"
[ "$caller" = "$invdso" ] || fail "caller=$caller: every vDSO boundary must give the caller's stack ($invdso)"
[ "$full" = 0 ] || fail "full=$full"
for v in vdso external system fault hang; do
	[ "$(verdict $v)" = 0 ] || fail "$v=$(verdict $v)"
done
grep -q '"engine": "ptrace"' "$tmp/a.json" || fail "the record's engine is not ptrace"
grep -q '"limit_reached": false' "$tmp/a.json" || fail "the time limit was reached"
grep -q '"program_status": 0' "$tmp/a.json" || fail "the program did not exit 0"
grep -q '^invariants ok' "$tmp/a" || fail "invariants"
# Each nanotime1 violation's sample is one frame: the boundary's pc + 1.
awk '/^  (wrong|truncated) at runtime\.nanotime1/ { getline; getline; n++; if (NF != 2) bad++ }
     END { exit !(n > 0 && !bad) }' "$tmp/a" || fail "a nanotime1 sample is not one frame"

# The same pcs outside the vDSO on a second run (the vDSO's may differ
# with its seqlock retries).
run "$tmp/b"
grep '^boundary ' "$tmp/a" | grep -v ' vdso+' >"$tmp/a.pcs"
grep '^boundary ' "$tmp/b" | grep -v ' vdso+' >"$tmp/b.pcs"
cmp -s "$tmp/a.pcs" "$tmp/b.pcs" || { fail "the nanotime1 boundaries differ between two runs"; diff "$tmp/a.pcs" "$tmp/b.pcs" >&2; }

# Bad input: one line, exit 2.
"$(dirname "$0")/expect_status.sh" 2 "$sigstep" native --go "$fixture" --function no_such_function ||
	fail "an unknown function"
"$(dirname "$0")/expect_status.sh" 2 "$sigstep" native --go "$tmp/a" || fail "a file that is not a program"

if [ "$failures" -ne 0 ]; then
	echo "ptrace_go: $failures failed" >&2
	exit 1
fi
echo "ptrace_go: all checks passed ($arch)"
