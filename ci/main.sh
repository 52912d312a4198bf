#!/bin/sh
# The main job: set-up and build, then the full matrix under Unicorn
# (every arch x variant x function x sigprof era, each row held to
# scenarios/), the real-Go table (ci/go.sh: the Go 1.19 fixture's own
# handler at every boundary of its trampolines), then every guest image
# as a real process (ci/native.sh's table).  Exit 0 iff all met every
# expectation.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/ci/build.sh" >/dev/null || exit 2
status=0
echo "== sigstep matrix (Unicorn engine, every instruction boundary)"
"$root/build/sigstep" matrix || status=1
echo
echo "== real Go (sigstep go: the Go 1.19 fixture in Unicorn, its own SIGPROF handler)"
"$root/ci/go.sh" || status=1
echo
echo "== native runs (real processes: host CPU and qemu-user)"
"$root/ci/native.sh" || status=1
exit $status
