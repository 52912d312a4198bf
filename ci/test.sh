#!/bin/sh
# The test command: set-up, build, then every ctest test (Check suites and
# the native / qemu-user runs of every guest image).  ctest's own results
# go to build/reports/ctest-junit.xml as JUnit (what a CI's test page
# reads), held to the same schema as sigstep's own --junit; it and the
# matrix's reports (HTML, JUnit, SARIF, JSON, written by ctest's `matrix`
# test) are copied to $SIGSTEP_ARTIFACTS (default build/artifacts), whose
# path is printed: the directory a CI uploads.  Then the
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
# The files a CI uploads, in one directory: the matrix's page, JUnit,
# SARIF and JSON (written by ctest's `matrix` test) and ctest's JUnit.
art=${SIGSTEP_ARTIFACTS:-$root/build/artifacts}
mkdir -p "$art"
for f in matrix.html matrix.xml matrix.sarif matrix.json ctest-junit.xml; do
	if [ -f "reports/$f" ]; then cp "reports/$f" "$art/"; else echo "artifacts: no reports/$f"; status=1; fi
done
echo "== artifacts: $(cd "$art" && pwd)"

echo "== the sanitizer configuration (ASan+UBSan, build-asan/)"
cmake -S "$root" -B "$root/build-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIGSTEP_SANITIZE=ON >/dev/null
cmake --build "$root/build-asan" -j "$(nproc)"
cd "$root/build-asan"
ctest --output-on-failure -j "$(nproc)" -L sanitize || status=$?
exit $status
