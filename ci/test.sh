#!/bin/sh
# The test command: set-up, build, then every ctest test (Check suites and
# the native / qemu-user runs of every guest image).  ctest's own results
# go to build/reports/ctest-junit.xml as JUnit (what a CI's test page
# reads), held to the same schema as sigstep's own --junit.  Then the
# sanitizer configuration: the host code built again into build-asan/
# under ASan+UBSan (the guest images as they are), and ctest's `sanitize`
# label there (every Check suite, the CLI tests, a small matrix subset),
# every report fatal.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/ci/build.sh"
cd "$root/build"
mkdir -p reports
status=0
ctest --output-on-failure -j "$(nproc)" --output-junit "$root/build/reports/ctest-junit.xml" || status=$?
if command -v xmllint >/dev/null && [ -f reports/ctest-junit.xml ]; then
	xmllint --noout --schema "$root/tests/schemas/junit.xsd" reports/ctest-junit.xml || status=1
fi

echo "== the sanitizer configuration (ASan+UBSan, build-asan/)"
cmake -S "$root" -B "$root/build-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIGSTEP_SANITIZE=ON >/dev/null
cmake --build "$root/build-asan" -j "$(nproc)"
cd "$root/build-asan"
ctest --output-on-failure -j "$(nproc)" -L sanitize || status=$?
exit $status
