#!/bin/sh
# The main job (for now): set-up, build, then run every guest image as a
# real process on every engine that can run it -- with the synthetic vDSO,
# the same made hostile, and the fallback path (clock_gettime hidden) --
# and print one table row per run (ci/native_table.sh).  Exit 0 if every
# run that could run met its expectation, 1 otherwise.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/ci/build.sh" >/dev/null
exec "$root/ci/native_table.sh" "$root/build/native-runs.txt"
