#!/bin/sh
# Installs the Debian packages sigstep needs, if any is missing.
# Idempotent and non-interactive; runs `apt-get update` at most once.
# Not root and something missing: prints the command to run, exits 2.
set -eu

# The report consumers the tests run: xmllint (libxml2-utils) for JUnit,
# python3-jsonschema for SARIF, Go's pprof (golang-1.19-go) for the
# profile (written with zlib1g-dev), Chromium for the HTML page; dpkg-deb
# (dpkg-dev's cpack use) for the package.
PACKAGES="cmake make gcc pkg-config libunicorn-dev libcapstone-dev check qemu-user \
gcc-i686-linux-gnu gcc-arm-linux-gnueabihf binutils-i686-linux-gnu binutils-arm-linux-gnueabihf \
libxml2-utils python3-jsonschema zlib1g-dev golang-1.19-go chromium"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "sigstep: missing packages:$missing; run as root: apt-get update && apt-get install -y$missing" >&2
	exit 2
fi

echo "sigstep: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
