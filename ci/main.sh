#!/bin/sh
# The main job: set-up and build, then the full matrix under Unicorn
# (every arch x variant x function x sigprof era, each row held to
# scenarios/), then every guest image as a real process (ci/native.sh's
# table).  Exit 0 iff both met every expectation.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/ci/build.sh" >/dev/null || exit 2
status=0
echo "== sigstep matrix (Unicorn engine, every instruction boundary)"
"$root/build/sigstep" matrix || status=1
echo
echo "== native runs (real processes: host CPU and qemu-user)"
"$root/ci/native.sh" || status=1
exit $status
