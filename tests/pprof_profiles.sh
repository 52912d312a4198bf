#!/bin/sh
# pprof_profiles.sh SIGSTEP ARCH...
# `sigstep run --pprof` read by Go's own pprof (Debian's golang-1.19-go):
# the view of Go's TestTimePprof, but complete -- one sample at every
# boundary.  For each arch, with the chain's own sigprof era:
#   seed:   most failing samples are cut off at time_now -- [time_now]
#           (truncated) on x86, [time_now time_now] (wrong) on ARM: the
#           trampoline, the vDSO and every caller above time_now lost --
#           and every such sample is one sigstep judged failing;
#   master: no such sample;
#   prefix (go1.10): _ExternalCode in the profile, which is what
#           TestTimePprof looks for; seed and master: none.
# Exit 77 (skipped) without Go.
set -u
sigstep=$1; shift
go=$(command -v go || true)
[ -n "$go" ] || [ ! -x /usr/lib/go-1.19/bin/go ] || go=/usr/lib/go-1.19/bin/go
if [ -z "$go" ]; then
	echo "pprof_profiles: SKIP: no go (golang-1.19-go; ci/bootstrap.sh installs it)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME="$tmp" GOCACHE="$tmp/gocache" GOFLAGS=-mod=mod GOTOOLCHAIN=local
failures=0
fail() {
	echo "pprof_profiles: FAIL $*" >&2
	failures=$((failures + 1))
}
# cut_off RAW: per sample whose frames are all time_now -- the stack cut
# off at the trampoline's caller, everything above it lost -- its frame
# count and its verdict label, one line each, as many as the sample
# counts (pprof -raw's Samples and Locations; the file read twice:
# locations first)
cut_off() {
	awk 'FNR == 1 { pass++ }
	     /^Samples:/ { s = 1; next } /^Locations/ { s = 0; l = 1; next } /^Mappings/ { l = 0 }
	     pass == 1 && l && /^ +[0-9]+: / { id = $1; sub(":", "", id); fn[id] = $4 }
	     pass == 2 && s && want && /verdict:\[/ {
		v = $0; sub(/.*verdict:\[/, "", v); sub(/\].*/, "", v)
		for (k = 0; k < want; k++) print frames, v
		want = 0
	     }
	     pass == 2 && s && /^ +[0-9]+ +[0-9]+: / {
		n = split($0, w, " "); ok = n > 2
		for (i = 3; i <= n; i++) if (fn[w[i]] != "time_now") ok = 0
		want = ok ? w[1] : 0; frames = n - 2
	     }' "$1" "$1"
}
# samples RAW: the samples' total count
samples() {
	awk '/^Samples:/ { s = 1; next } /^Locations/ { s = 0 } s && /^ +[0-9]+ +[0-9]+: / { n += $1 } END { print n + 0 }' "$1"
}
for arch in "$@"; do
	for v in seed master prefix; do
		era=""
		[ "$v" = prefix ] && era="--sigprof go1.10"
		# shellcheck disable=SC2086
		"$sigstep" run --arch "$arch" --variant $v $era --pprof "$tmp/$v.pb.gz" >"$tmp/$v.txt" 2>/dev/null
		[ -s "$tmp/$v.pb.gz" ] || { fail "$arch $v: no profile"; continue; }
		"$go" tool pprof -raw "$tmp/$v.pb.gz" >"$tmp/$v.raw" 2>"$tmp/err" || { fail "$arch $v: pprof -raw: $(cat "$tmp/err")"; continue; }
		"$go" tool pprof -top "$tmp/$v.pb.gz" >"$tmp/$v.top" 2>"$tmp/err" || { fail "$arch $v: pprof -top: $(cat "$tmp/err")"; continue; }
		samples=$(samples "$tmp/$v.raw")
		boundaries=$(sed -n 's/^boundaries \([0-9]*\)$/\1/p' "$tmp/$v.txt")
		[ "$samples" -eq "$boundaries" ] || fail "$arch $v: $samples samples for $boundaries boundaries"
		[ "$v" = seed ] && cp "$tmp/seed.top" "$tmp/seed-$arch.top"
	done
	failing=$(sed -n 's/^verdicts .* truncated \([0-9]*\) wrong \([0-9]*\) .*/\1 \2/p' "$tmp/seed.txt" |
		awk '{ print $1 + $2 }')
	cut_off "$tmp/seed.raw" | sort | uniq -c >"$tmp/seed.cut"
	n=$(awk '{ n += $1 } END { print n + 0 }' "$tmp/seed.cut")
	# every cut-off sample is one sigstep judged failing (its verdict
	# label), and they are most of seed's failures
	awk '$3 != "truncated" && $3 != "wrong"' "$tmp/seed.cut" | grep -q . &&
		fail "$arch seed: a sample cut off at time_now that passed: $(cat "$tmp/seed.cut")"
	[ "$n" -gt 0 ] && [ $((2 * n)) -gt "$failing" ] ||
		fail "$arch seed: $n samples cut off at time_now of $failing failing"
	m=$(cut_off "$tmp/master.raw" | wc -l)
	[ "$m" -eq 0 ] || fail "$arch master: $m samples cut off at time_now"
	grep -q '_ExternalCode' "$tmp/prefix.top" || fail "$arch prefix go1.10: no _ExternalCode in pprof -top"
	for v in seed master; do
		grep -q '_ExternalCode' "$tmp/$v.top" && fail "$arch $v: _ExternalCode in the profile"
	done
	echo "pprof_profiles: $arch: seed: $n of $(samples "$tmp/seed.raw") samples cut off at time_now" \
		"($(awk '{ printf "%s%d %s with %d frames", (NR > 1 ? ", " : ""), $1, $3, $2 }' "$tmp/seed.cut");" \
		"$failing failing in all);" \
		"master: 0; prefix go1.10 pprof -top:$(grep -m1 '_ExternalCode' "$tmp/prefix.top" | sed 's/  */ /g')"
done
[ "$failures" -eq 0 ]
