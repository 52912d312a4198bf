#!/bin/sh
# expect_verdicts.sh CONDITIONS COMMAND [ARGS...]
# For a guest run under --inject known to fail at some boundaries: passes
# when COMMAND exits with 1, prints exactly one summary line
# "inject MODE boundaries=N full=.. caller=.. ..." with N > 0 (itimer: N
# samples judged), no failed check (the run's own invariants held: the
# boundaries alone failed), and
# every condition holds on the summary's counts.  CONDITIONS is one
# argument, space separated, each NAME>0 or NAME=0 with NAME a verdict
# (full caller vdso external system truncated wrong fault hang), e.g.
#   expect_verdicts.sh "wrong>0 external=0" qemu-arm IMAGE --inject break
conditions=$1; shift
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
fail() {
	echo "expect_verdicts: $*" >&2
	exit 1
}
[ "$rc" -eq 1 ] || fail "expected exit status 1, got $rc"
summary=$(printf '%s\n' "$out" | grep -E '^inject (step|break|itimer) boundaries=')
[ "$(printf '%s\n' "$summary" | grep -c .)" -eq 1 ] || fail "expected one summary line"
failed=$(printf '%s\n' "$out" | grep -E '^check .* FAIL |^inject-run FAIL')
[ -z "$failed" ] || fail "failed checks besides the boundaries: $failed"
count() { # NAME -> the number after NAME= in the summary, empty if absent
	printf '%s\n' "$summary" | tr ' ' '\n' | sed -n "s/^$1=\([0-9][0-9]*\)\$/\1/p"
}
n=$(count boundaries)
[ -n "$n" ] && [ "$n" -gt 0 ] || fail "no boundaries in: $summary"
for c in $conditions; do
	case $c in
	*'>0') name=${c%>0}; want=gt ;;
	*'=0') name=${c%=0}; want=eq ;;
	*) fail "malformed condition '$c'" ;;
	esac
	case " full caller vdso external system truncated wrong fault hang " in
	*" $name "*) ;;
	*) fail "unknown verdict '$name' in '$c'" ;;
	esac
	v=$(count "$name")
	[ -n "$v" ] || fail "no count for $name in: $summary"
	if [ "$want" = gt ]; then
		[ "$v" -gt 0 ] || fail "expected $name > 0, got $name=$v"
	else
		[ "$v" -eq 0 ] || fail "expected $name = 0, got $name=$v"
	fi
done
echo "expect_verdicts: exit 1 with $conditions, as expected"
