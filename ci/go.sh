#!/bin/sh
# The real-Go table: `sigstep go` on the Go 1.19 fixture (fixtures/go,
# built per arch) for every arch, nanotime1 and walltime (amd64:
# time.now), with the synthetic vDSO, on the fallback path (--no-vdso)
# and with the arch's hostile vDSO knobs.  Each row is held to Go 1.19's
# measured behaviour (scenarios/go119-real.md): every boundary in the
# trampoline `truncated`, every boundary in the vDSO `caller`, the program
# exits 0.  Exit 0 iff every row meets it; rows without a fixture are
# skipped and said so.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
b="$root/build"
status=0
printf '%-6s %-10s %-8s %10s %8s %10s %6s  %s\n' arch function mode boundaries caller truncated other result
for arch in amd64 386 arm; do
	fixture="$b/go/$arch/sigstep-go-fixture"
	if [ ! -x "$fixture" ]; then
		echo "$arch: no Go fixture ($fixture): skipped"
		continue
	fi
	knobs=$(sed -n 's/^set(SIGSTEP_VDSO_KNOBS "\(.*\)")$/\1/p' "$root/arch/$arch/arch.cmake")
	wall=walltime
	[ "$arch" = amd64 ] && wall=time.now
	for fn in nanotime1 $wall; do
		for mode in vdso no-vdso hostile; do
			case $mode in
			vdso) flags="" ;;
			no-vdso) flags="--no-vdso" ;;
			hostile) flags="--knobs $knobs" ;;
			esac
			out=$("$b/sigstep" go "$fixture" --function "$fn" $flags --boundaries 2>/dev/null)
			rc=$?
			counts=$(printf '%s\n' "$out" | awk '
				/^boundary / { n++; v = ($3 ~ /^vdso\+/);
					if (v && $4 == "caller") c++; else if (!v && $4 == "truncated") t++; else o++ }
				END { printf "%d %d %d %d", n, c, t, o }')
			set -- $counts
			ok=expected
			if [ "$rc" -ne 1 ] || [ "$1" -eq 0 ] || [ "$4" -ne 0 ] ||
			   ! printf '%s\n' "$out" | grep -q '^invariants ok$' ||
			   { [ "$mode" = no-vdso ] && [ "$2" -ne 0 ]; } || { [ "$mode" != no-vdso ] && [ "$2" -eq 0 ]; }; then
				ok=UNEXPECTED
				status=1
			fi
			printf '%-6s %-10s %-8s %10s %8s %10s %6s  %s\n' "$arch" "$fn" "$mode" "$1" "$2" "$3" "$4" "$ok"
		done
	done
done
exit $status
