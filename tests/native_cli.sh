#!/bin/sh
# native_cli.sh SIGSTEP ARCH QEMU_ARCH
# sigstep native as a user meets it: the JSON record of each method
# (engine, inject, coverage for itimer), exit 0 on master and 1 on seed,
# and --compare's table.  ARCH runs on the host (engine "native"),
# QEMU_ARCH only under qemu (engine "qemu").
set -u
sigstep=$1 arch=$2 qarch=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
	echo "native_cli: FAIL $*" >&2
	failures=$((failures + 1))
}
# run STATUS ARGS...: sigstep native ARGS, JSON into $tmp/json, must exit STATUS
run() {
	want=$1; shift
	"$sigstep" native "$@" --json "$tmp/json" >"$tmp/out" 2>&1
	got=$?
	# "0|1": a statistical run (itimer) of master, whose SPWRITE windows
	# (truncated) may or may not be sampled
	[ "$want" = "0|1" ] && [ "$got" -le 1 ] && return 0
	[ "$got" -eq "$want" ] || { fail "exit $got, not $want: sigstep native $*"; cat "$tmp/out" >&2; return 1; }
}
has() { # has PATTERN WHAT: the JSON matches the extended regex
	grep -Eq "$1" "$tmp/json" || { fail "$2: no match for $1"; cat "$tmp/json" >&2; }
}

# The host.
# master under its own era (modern): Go master's SPWRITE windows, one
# frame each (truncated), are its only violations.
if run 1 --arch "$arch" --variant master --inject step; then
	has '"engine": "native"' "host step engine"
	has '"inject": "step"' "host step inject"
	has '"vdso_kind": "kernel"' "the host's default vDSO"
	has '"verdict": "truncated"' "master's SPWRITE windows"
	grep -Eq '"verdict": "(wrong|vdso|external|system|fault|hang)"' "$tmp/json" && fail "master: a violation besides truncated"
fi
if run 1 --arch "$arch" --variant seed --inject break --vdso synthetic; then
	has '"verdict": "truncated"' "seed's one-frame stacks through the low vdsoSP"
	has '"first_violation_s": [0-9]' "time to the first violation"
	grep -q '^result FAIL' "$tmp/out" || fail "no FAIL summary for seed"
fi
if run "0|1" --arch "$arch" --variant master --inject itimer --budget-ms 100; then
	has '"coverage": (0\.[0-9]*[1-9][0-9]*|1\.0+),' "itimer coverage above 0"
	has '"boundaries_total": [1-9]' "itimer total boundaries"
fi
# The kernel's vDSO takes no breakpoint: its boundaries are skipped, and said to be.
if run 1 --arch "$arch" --variant master --inject break --vdso kernel; then
	has '"skipped_vdso": [1-9]' "kernel vDSO boundaries skipped"
	grep -q '^skipped .* cannot be patched' "$tmp/out" || fail "no line about the skipped vDSO boundaries"
fi

# Under qemu.
if run 1 --arch "$qarch" --variant master --inject break; then
	has '"engine": "qemu"' "qemu engine"
	has '"vdso_kind": "synthetic"' "qemu's vDSO"
fi
if run "0|1" --arch "$qarch" --variant master --inject itimer --budget-ms 100; then
	has '"emulator": "qemu-[a-z0-9_]+ -singlestep"' "itimer under qemu -singlestep"
	has '"coverage": 0\.' "itimer coverage"
fi

# --compare: four rows, exit 1 when a method found violations.
"$sigstep" native --compare --arch "$arch" --variant seed >"$tmp/out" 2>&1
rc=$?
cat "$tmp/out"
[ "$rc" -eq 1 ] || fail "--compare on seed exited $rc, not 1"
for m in every step break itimer; do
	grep -Eq "^$m +(unicorn|native|qemu)" "$tmp/out" || fail "--compare: no row for $m"
done
"$sigstep" native --compare --arch "$qarch" --variant master --budget-ms 50 >"$tmp/out" 2>&1
rc=$?
cat "$tmp/out"
[ "$rc" -eq 1 ] || fail "--compare on master exited $rc, not 1 (its SPWRITE windows)"

if [ "$failures" -ne 0 ]; then
	echo "native_cli: $failures failed" >&2
	exit 1
fi
echo "native_cli: all checks passed"
