#!/bin/sh
# The table of ci/native.sh: native-runs.txt MANIFEST (tests/CMakeLists.txt
# writes it into the build: one run per line, its fields and the words of
# its command each ended by a tab, so a path with spaces stays one word)
# run line by line, one table row each.  `expected` is what the run must
# show: `pass`, or the one known failure of Go 1.10/1.11 on amd64 (nanotime
# on the fallback path reads the wall clock).  The host rows run where this
# machine's CPU runs the arch (`sigstep native --host-check` tries an
# image, sigstep being the one beside the manifest); elsewhere they are
# shown as `skip` with the reason below the table.  Exit 0 if every run
# that could run met its expectation, 1 otherwise.
set -eu
manifest=$1
sigstep=$(dirname "$manifest")/sigstep
tab=$(printf '\t')

row() {
	printf '%-6s %-8s %-7s %-12s %-10s %-9s %-9s %-9s %-9s %-11s %-8s %s\n' "$@"
}
row arch variant era engine vdso curg/wall curg/nano g0/wall g0/nano result expected met
status=0
skipped=""
while IFS=$tab read -r arch variant engine vdso expect cmd; do
	if [ "$engine" = host ]; then
		if ! why=$("$sigstep" native --host-check --arch "$arch" --vdso "$vdso" 2>&1); then
			row "$arch" "$variant" - "$engine" "$vdso" - - - - skipped \
				"$([ "$expect" = pass ] && echo pass || echo wall-nano)" skip
			case $skipped in *"$arch/$vdso: "*) ;; *)
				skipped="$skipped$arch/$vdso: ${why#sigstep: native: }
" ;; esac
			continue
		fi
	fi
	# the command's words: split at tabs only, never globbed
	# shellcheck disable=SC2086
	out=$(IFS=$tab; set -f; $cmd 2>&1) && rc=0 || rc=$?
	era=$(printf '%s\n' "$out" | sed -n 's/^guest .* era=\([^ ]*\).*/\1/p')
	cell() { # context function -> ok, or the first failed check
		printf '%s\n' "$out" | awk -v c="$1" -v f="$2" '
			$1 == "check" && $2 == c && $3 == f { n++; if ($4 != "ok" && !bad) bad = $5 }
			END { if (!n) print "-"; else if (bad) print bad; else print "ok" }' |
			sed 's/time-outside-window/bad-time/; s/went-backwards/backwards/; s/-changed//'
	}
	result=$(printf '%s\n' "$out" | sed -n 's/^result //p' | tr ' ' ':')
	[ -n "$result" ] || result="exit:$rc"
	failed=$(printf '%s\n' "$out" | grep '^check .* FAIL ' || true)
	case $expect in
	pass) [ "$rc" -eq 0 ] && met=yes || met=NO ;;
	nanotime-is-wall-clock)
		if [ "$rc" -eq 1 ] && [ -n "$failed" ] &&
		   [ -z "$(printf '%s\n' "$failed" | grep -v 'nanotime FAIL time-outside-window')" ]; then
			met=yes
		else
			met=NO
		fi ;;
	*) met=NO ;;
	esac
	[ "$met" = yes ] || status=1
	row "$arch" "$variant" "${era:--}" "$engine" "$vdso" \
		"$(cell curg walltime)" "$(cell curg nanotime)" \
		"$(cell g0 walltime)" "$(cell g0 nanotime)" "$result" \
		"$([ "$expect" = pass ] && echo pass || echo wall-nano)" "$met"
done <"$manifest"
[ -z "$skipped" ] || printf 'skipped host rows:\n%s' "$skipped"
exit $status
