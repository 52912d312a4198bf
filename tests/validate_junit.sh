#!/bin/sh
# validate_junit.sh XSD JUNIT TESTS FAILURES
# The JUnit file is valid against the schema Jenkins and GitLab read
# (xmllint --schema, Debian's libxml2-utils), and holds TESTS testcases of
# which FAILURES fail (TESTS a file: as many as it has JSON records).  Prints what a CI's test page would show: the
# counts and the first failing testcase.  Exit 77 (skipped) without xmllint.
set -u
xsd=$1 xml=$2 tests=$3 failures=$4
[ -f "$tests" ] && tests=$(grep -c '"expect": ' "$tests")
if ! command -v xmllint >/dev/null; then
	echo "validate_junit: SKIP: xmllint is not installed (libxml2-utils; ci/bootstrap.sh installs it)"
	exit 77
fi
xmllint --noout --schema "$xsd" "$xml" || exit 1
got_tests=$(xmllint --xpath 'count(//testcase)' "$xml")
got_failures=$(xmllint --xpath 'count(//testcase[failure])' "$xml")
echo "validate_junit: $xml: $got_tests testcases, $got_failures failing, in $(xmllint --xpath 'count(//testsuite)' "$xml") suites"
if [ "$got_failures" -gt 0 ]; then
	echo "  first failure: $(xmllint --xpath 'string((//testcase[failure])[1]/@name)' "$xml"):" \
		"$(xmllint --xpath 'string((//failure)[1]/@message)' "$xml")"
fi
[ "$got_tests" -eq "$tests" ] || { echo "validate_junit: $got_tests testcases, expected $tests"; exit 1; }
[ "$got_failures" -eq "$failures" ] || { echo "validate_junit: $got_failures failures, expected $failures"; exit 1; }
