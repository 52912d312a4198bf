#!/bin/sh
# The main job (for now): set-up, build, then run every guest image as a
# real process on every engine that can run it, and print one table row per
# run.  Exit 0 if every run passed its checks, 1 otherwise.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/ci/build.sh" >/dev/null
manifest="$root/build/native-runs.txt"

printf '%-6s %-8s %-8s %-12s %-10s %-10s %-10s %-10s %-10s %s\n' \
	arch variant era engine vdso curg/wall curg/nano g0/wall g0/nano result
status=0
while read -r arch variant engine vdso cmd; do
	# shellcheck disable=SC2086
	out=$($cmd 2>&1) && rc=0 || rc=$?
	era=$(printf '%s\n' "$out" | sed -n 's/^guest .* era=\([^ ]*\).*/\1/p')
	cell() { # context function -> ok, or the first failed check
		printf '%s\n' "$out" | awk -v c="$1" -v f="$2" '
			$1 == "check" && $2 == c && $3 == f { n++; if ($4 != "ok" && !bad) bad = $5 }
			END { if (!n) print "-"; else if (bad) print bad; else print "ok" }'
	}
	result=$(printf '%s\n' "$out" | sed -n 's/^result //p')
	[ -n "$result" ] || result="exit $rc: $(printf '%s\n' "$out" | tail -n 1)"
	[ "$rc" -eq 0 ] || status=1
	printf '%-6s %-8s %-8s %-12s %-10s %-10s %-10s %-10s %-10s %s\n' \
		"$arch" "$variant" "${era:--}" "$engine" "$vdso" \
		"$(cell curg walltime)" "$(cell curg nanotime)" \
		"$(cell g0 walltime)" "$(cell g0 nanotime)" "$result"
done <"$manifest"
exit $status
