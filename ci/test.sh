#!/bin/sh
# The test command: set-up, build, then every ctest test (Check suites and
# the native / qemu-user runs of every guest image); then the sanitizer
# configuration: the host code built again into build-asan/ under
# ASan+UBSan (the guest images as they are), and ctest's `sanitize` label
# there (every Check suite, the CLI tests, a small matrix subset), every
# report fatal.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/ci/build.sh"
cd "$root/build"
ctest --output-on-failure -j "$(nproc)"

echo "== the sanitizer configuration (ASan+UBSan, build-asan/)"
cmake -S "$root" -B "$root/build-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIGSTEP_SANITIZE=ON >/dev/null
cmake --build "$root/build-asan" -j "$(nproc)"
cd "$root/build-asan"
ctest --output-on-failure -j "$(nproc)" -L sanitize
