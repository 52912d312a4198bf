#!/bin/sh
# ptrace_agree.sh SIGSTEP BUILD_DIR ARCH
# The ptrace engine (sigstep native --go: the host CPU, the kernel's vDSO)
# and the Unicorn engine (sigstep go: the synthetic vDSO) on the same
# binary, the Go fixture, boundary by boundary over the call of
# runtime.nanotime1 each steps: every boundary outside the vDSO must be
# the same pc, in the same order (occurrence by occurrence), with the same
# verdict.  The two vDSOs are different code, so their boundaries are
# compared by verdict only: the verdicts seen there must be the same set.
# Skipped (77), saying why, without the fixture, without `sigstep go` in
# this build, where this CPU does not run ARCH, or where ptrace is refused.
set -u
sigstep=$1 build=$2 arch=$3
fixture=$build/go/$arch/sigstep-go-fixture
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x "$fixture" ] || { echo "skipped: no Go fixture $fixture (no Go toolchain at build time)"; exit 77; }
"$sigstep" go --help >/dev/null 2>&1 || { echo "skipped: no sigstep go (the Unicorn engine for Go programs) in this build"; exit 77; }
if ! why=$("$sigstep" native --host-check --arch "$arch" --vdso kernel 2>&1); then
	echo "skipped: ${why#sigstep: native: }"
	exit 77
fi
"$sigstep" go "$fixture" --function nanotime1 --boundaries >"$tmp/u" 2>"$tmp/u.err"
rc=$?
[ "$rc" -le 1 ] || { echo "ptrace_agree: sigstep go exited $rc" >&2; cat "$tmp/u.err" >&2; exit 1; }
"$sigstep" native --go "$fixture" --function nanotime1 --boundaries >"$tmp/p" 2>"$tmp/p.err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q 'ptrace is not allowed' "$tmp/p.err"; then
	echo "skipped: $(sed 's/^sigstep: native: //' "$tmp/p.err")"
	exit 77
fi
[ "$rc" -le 1 ] || { echo "ptrace_agree: sigstep native --go exited $rc" >&2; cat "$tmp/p.err" >&2; exit 1; }

# "boundary PC WHERE VERDICT": outside the vDSO PC#N VERDICT WHERE, in order.
# WHERE without an ABI suffix: sigstep go names functions from the pclntab
# ("runtime.nanotime1"), the ptrace engine from the ELF symbols (amd64's
# assembly ones carry ".abi0").
outside() { awk '$1 == "boundary" && $3 !~ /^vdso\+/ { n = ++seen[$2]; sub(/\.abi0\+/, "+", $3); print $2 "#" n, $4, $3 }' "$1"; }
inside() { awk '$1 == "boundary" && $3 ~ /^vdso\+/ { print $4 }' "$1" | sort -u | tr '\n' ' '; }
outside "$tmp/u" >"$tmp/u.out"
outside "$tmp/p" >"$tmp/p.out"
[ -s "$tmp/u.out" ] || { echo "ptrace_agree: no boundary from sigstep go" >&2; cat "$tmp/u" "$tmp/u.err" >&2; exit 1; }
fail=0
if ! cmp -s "$tmp/u.out" "$tmp/p.out"; then
	echo "ptrace_agree: $arch: the boundaries outside the vDSO differ (< unicorn, > ptrace):" >&2
	diff "$tmp/u.out" "$tmp/p.out" | head -40 >&2
	fail=1
fi
uv=$(inside "$tmp/u") pv=$(inside "$tmp/p")
if [ -z "$pv" ] || [ "$uv" != "$pv" ]; then
	echo "ptrace_agree: $arch: the vDSO's verdicts differ: unicorn {$uv} ptrace {$pv}" >&2
	fail=1
fi
[ "$fail" -eq 0 ] || exit 1
echo "ptrace_agree: $arch: $(wc -l <"$tmp/u.out") boundaries outside the vDSO agree;" \
     "vDSO: unicorn $(grep -c ' vdso+' "$tmp/u") boundaries, ptrace $(grep -c ' vdso+' "$tmp/p"), verdicts {$pv}"
