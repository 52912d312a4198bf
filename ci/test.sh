#!/bin/sh
# The test command: set-up, build, then every ctest test (Check suites and
# the native / qemu-user runs of every guest image).  ctest's own results
# go to build/reports/ctest-junit.xml as JUnit (what a CI's test page
# reads), held to the same schema as sigstep's own --junit.
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
exit $status
