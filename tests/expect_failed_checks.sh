#!/bin/sh
# expect_failed_checks.sh REGEX COMMAND [ARGS...]
# For a guest run known to fail specific checks: passes when COMMAND exits
# with 1, prints at least one failed check, and every failed check line
# matches REGEX (an extended regular expression) -- so a new, different
# failure still fails the test.
want=$1; shift
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
failed=$(printf '%s\n' "$out" | grep '^check .* FAIL ')
if [ "$rc" -ne 1 ] || [ -z "$failed" ]; then
	echo "expected exit status 1 with failed checks, got $rc" >&2
	exit 1
fi
unexpected=$(printf '%s\n' "$failed" | grep -Ev -- "$want")
if [ -n "$unexpected" ]; then
	echo "unexpected failed checks:" >&2
	printf '%s\n' "$unexpected" >&2
	exit 1
fi
