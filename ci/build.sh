#!/bin/sh
# Installs what is missing, then configures and builds everything into
# build/ at the repository root (host tools and every guest image).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/ci/bootstrap.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j "$(nproc)"
