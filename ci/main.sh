#!/bin/sh
# The main job: set-up and build, then the full matrix under Unicorn
# (every arch x variant x function x sigprof era, each row held to
# scenarios/), the real-Go table (ci/go.sh: the Go 1.19 fixture's own
# handler at every boundary of its trampolines), then every guest image
# as a real process (ci/native.sh's table).  Exit 0 iff all met every
# expectation.
#
# The reports a CI keeps go to one directory, $SIGSTEP_ARTIFACTS (default
# build/artifacts), whose path is printed last -- upload it as the job's
# artifact: the matrix's page (matrix.html), JUnit (matrix.xml, for the
# CI's test page), SARIF (matrix.sarif, for code scanning) and JSON, and
# the same of `sigstep go` on each arch's Go fixture (go-ARCH.*, its
# profile go-ARCH.pb.gz).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/ci/build.sh" >/dev/null || exit 2
art=${SIGSTEP_ARTIFACTS:-$root/build/artifacts}
mkdir -p "$art" || exit 2
art=$(cd "$art" && pwd)
status=0
echo "== sigstep matrix (Unicorn engine, every instruction boundary)"
"$root/build/sigstep" matrix --html "$art/matrix.html" --junit "$art/matrix.xml" --sarif "$art/matrix.sarif" \
	--json "$art/matrix.json" || status=1
echo
echo "== real Go (sigstep go: the Go 1.19 fixture in Unicorn, its own SIGPROF handler)"
"$root/ci/go.sh" || status=1
# its reports, for the artifact (Go 1.19 fails by design: ci/go.sh judges it)
for arch in amd64 386 arm; do
	fixture="$root/build/go/$arch/sigstep-go-fixture"
	[ -x "$fixture" ] || continue
	"$root/build/sigstep" go "$fixture" --html "$art/go-$arch.html" --junit "$art/go-$arch.xml" \
		--sarif "$art/go-$arch.sarif" --pprof "$art/go-$arch.pb.gz" --json "$art/go-$arch.json" >/dev/null 2>&1
	[ $? -le 1 ] || status=1
done
echo
echo "== native runs (real processes: host CPU and qemu-user)"
"$root/ci/native.sh" || status=1
echo
echo "== artifacts: $art"
exit $status
