#!/bin/sh
# expect_status.sh STATUS COMMAND [ARGS...]
# Passes when COMMAND exits with STATUS and wrote exactly one line to stderr
# (the one clear error line every bad input must get).
want=$1; shift
err=$(mktemp)
"$@" >/dev/null 2>"$err"
got=$?
lines=$(wc -l <"$err")
cat "$err" >&2
rm -f "$err"
if [ "$got" -ne "$want" ]; then
	echo "expected exit status $want, got $got" >&2
	exit 1
fi
if [ "$lines" -ne 1 ]; then
	echo "expected one line on stderr, got $lines" >&2
	exit 1
fi
