#!/bin/sh
# expect_line.sh STATUS PATTERN COMMAND [ARGS...]
# Passes when COMMAND exits with STATUS and wrote exactly one line to
# stderr, and that line matches PATTERN (grep -E): the right refusal, not
# just any one-line error.
want=$1; pattern=$2; shift 2
err=$(mktemp)
"$@" >/dev/null 2>"$err"
got=$?
lines=$(wc -l <"$err")
cat "$err" >&2
if [ "$got" -ne "$want" ]; then
	echo "expected exit status $want, got $got" >&2
	rm -f "$err"; exit 1
fi
if [ "$lines" -ne 1 ]; then
	echo "expected one line on stderr, got $lines" >&2
	rm -f "$err"; exit 1
fi
if ! grep -Eq -- "$pattern" "$err"; then
	echo "expected the line to match '$pattern'" >&2
	rm -f "$err"; exit 1
fi
rm -f "$err"
