#!/bin/sh
# The test command: set-up, build, then every ctest test (Check suites and
# the native / qemu-user runs of every guest image).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/ci/build.sh"
cd "$root/build"
ctest --output-on-failure -j "$(nproc)"
