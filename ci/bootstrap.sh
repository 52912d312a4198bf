#!/bin/sh
# Installs the Debian packages sigstep needs, if any is missing.
# Idempotent and non-interactive; runs `apt-get update` at most once.
# Not root and something missing: prints the command to run, exits 2.
# (strace: a tracer to run the ptrace engine under, so that its refusal
# is tested.)
set -eu

# Go 1.19 builds the real-Go fixtures and reads --pprof profiles (go tool
# pprof); zlib inflates Go's DWARF and gzips the profiles; the other report
# consumers the tests run: xmllint (libxml2-utils) for JUnit,
# python3-jsonschema for SARIF, Chromium for the HTML page; clang-14 and
# its libFuzzer runtime build the fuzz/ targets.
PACKAGES="cmake make gcc pkg-config libunicorn-dev libcapstone-dev check qemu-user \
gcc-i686-linux-gnu gcc-arm-linux-gnueabihf binutils-i686-linux-gnu binutils-arm-linux-gnueabihf \
golang-1.19-go zlib1g-dev strace libxml2-utils python3-jsonschema chromium \
clang-14 libclang-rt-14-dev"

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
