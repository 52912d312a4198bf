#!/bin/sh
# engines_agree.sh SIGSTEP ARCH VARIANT EMULATOR METHOD...
# Boundary by boundary, the Unicorn engine (sigstep run --boundaries) and
# the guest's own injection as a real process (sigstep native --inject
# METHOD --list-boundaries --emulator EMULATOR, with the synthetic vDSO,
# the code Unicorn runs) must give the same verdict at the same boundary,
# for each of the four chains (curg/g0 x walltime/nanotime).
#   step:  every execution of every instruction, so the two sequences
#          must match occurrence by occurrence;
#   break: a breakpoint sees the first execution of a pc only, so the
#          pcs it reached must be exactly the pcs Unicorn probed, each
#          with the verdict of Unicorn's first execution there.
# A boundary is its pc, or vdso+OFFSET in the vDSO (mapped elsewhere by
# each engine).  Any difference fails, naming the boundary.
set -u
sigstep=$1 arch=$2 variant=$3 emulator=$4
shift 4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
compared=0

# "boundary PC WHERE VERDICT" lines into "KEY#OCCURRENCE VERDICT".
keyed() {
	awk '$1 == "boundary" {
		key = ($3 ~ /^vdso\+/) ? $3 : $2
		n = ++seen[key]
		print key "#" n, $4, $3
	}'
}

for context in curg g0; do
	for function in walltime nanotime; do
		chain="$context/$function"
		"$sigstep" run --arch "$arch" --variant "$variant" --context "$context" \
			--function "$function" --boundaries >"$tmp/unicorn.out" 2>&1
		grep '^boundary ' "$tmp/unicorn.out" | keyed >"$tmp/unicorn"
		if [ ! -s "$tmp/unicorn" ]; then
			echo "engines_agree: $chain: no boundary from sigstep run" >&2
			cat "$tmp/unicorn.out" >&2
			exit 1
		fi
		for method in "$@"; do
			"$sigstep" native --arch "$arch" --variant "$variant" --context "$context" \
				--function "$function" --inject "$method" --emulator "$emulator" \
				--vdso synthetic --list-boundaries >"$tmp/native.out" 2>&1
			rc=$?
			if [ "$rc" -gt 1 ]; then
				echo "engines_agree: $chain $method: sigstep native exited $rc" >&2
				cat "$tmp/native.out" >&2
				exit 1
			fi
			grep '^boundary ' "$tmp/native.out" | keyed >"$tmp/native"
			if [ "$method" = break ]; then
				grep '#1 ' "$tmp/unicorn" >"$tmp/expect"
			else
				cp "$tmp/unicorn" "$tmp/expect"
			fi
			# KEY#N UNICORN-VERDICT NATIVE-VERDICT WHERE, "-" where one has none.
			awk 'NR == FNR { u[$1] = $2; w[$1] = $3; next }
			     { n[$1] = $2; w[$1] = $3 }
			     END {
				for (k in u) if (!(k in n)) print k, u[k], "-", w[k]
				for (k in n) print k, ((k in u) ? u[k] : "-"), n[k], w[k]
			     }' "$tmp/expect" "$tmp/native" | sort >"$tmp/joined"
			bad=$(awk '$2 != $3' "$tmp/joined")
			total=$(wc -l <"$tmp/joined")
			compared=$((compared + total))
			if [ -n "$bad" ]; then
				fail=1
				echo "engines_agree: $arch $variant $chain $method ($emulator): disagreements" \
				     "(boundary#occurrence unicorn native where):" >&2
				printf '%s\n' "$bad" | head -40 >&2
			else
				echo "engines_agree: $arch $variant $chain $method ($emulator): $total boundaries agree"
			fi
		done
	done
done
[ "$compared" -gt 0 ] || { echo "engines_agree: nothing compared" >&2; exit 1; }
exit $fail
