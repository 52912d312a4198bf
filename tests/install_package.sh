#!/bin/sh
# install_package.sh BUILD_DIR SOURCE_DIR
# `cmake --install BUILD --prefix P` gives a P/bin/sigstep that works from
# anywhere: it finds its guest images, toolchain file and headers for
# `check`, and the scenarios for the matrix, under P/lib/sigstep.  Then
# `cpack -G DEB` makes a .deb whose files, unpacked (dpkg-deb -x), run the
# same way, and whose dependencies are installed on this machine.
# Exit 77 (skipped) without dpkg-deb.
set -u
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
	echo "install_package: FAIL $*" >&2
	failures=$((failures + 1))
}
# works PREFIX: the installed sigstep, run from an unrelated directory
works() {
	p=$1
	mkdir -p "$tmp/cwd" && cd "$tmp/cwd" || return
	"$p/bin/sigstep" --version | grep -q '^sigstep [0-9]' || fail "$p: --version"
	"$p/bin/sigstep" run --arch amd64 --variant seed >out 2>err
	[ $? -eq 1 ] && grep -q 'arch/amd64/trampoline_seed.S:' out || { fail "$p: run seed"; cat err >&2; }
	cp "$src/arch/arm/trampoline_master.S" mine.S
	"$p/bin/sigstep" check --arch arm mine.S --sigprof go1.11 >out 2>err ||
		{ fail "$p: check mine.S (arm master, go1.11)"; cat err >&2; }
	"$p/bin/sigstep" matrix --no-scenarios --jobs 2 >out 2>err || { fail "$p: matrix"; tail -3 out err >&2; }
	grep -Eq '^([0-9]+) rows, \1 met, 0 not met' out || fail "$p: matrix: $(tail -1 out)"
	# the mutants through the installed toolchain file
	"$p/bin/sigstep" run --scenario "$p/lib/sigstep/scenarios/mutants/386/no_align.S" >out 2>err ||
		{ fail "$p: run --scenario an installed mutant"; tail -3 out err >&2; }
	cd "$tmp" || return
}

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null || fail "cmake --install"
works "$tmp/prefix"
echo "install_package: cmake --install: $(find "$tmp/prefix" -type f | wc -l) files"

if ! command -v dpkg-deb >/dev/null; then
	echo "install_package: SKIP the package: no dpkg-deb"
	[ "$failures" -eq 0 ] && exit 77
	exit 1
fi
(cd "$tmp" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/pkg" >/dev/null) || fail "cpack -G DEB"
deb=$(ls "$tmp"/pkg/*.deb 2>/dev/null | head -1)
if [ -n "$deb" ]; then
	dpkg-deb -I "$deb" | sed -n 's/^ \(Package\|Version\|Architecture\|Depends\):/  \1:/p'
	for dep in $(dpkg-deb -f "$deb" Depends | tr -d ' ' | tr ',' ' '); do
		dpkg-query -W -f='${Status}' "$dep" 2>/dev/null | grep -q "install ok installed" ||
			fail "the package depends on $dep, which this machine lacks"
	done
	dpkg-deb -x "$deb" "$tmp/root" || fail "dpkg-deb -x"
	[ -x "$tmp/root/usr/bin/sigstep" ] || fail "the package has no /usr/bin/sigstep"
	works "$tmp/root/usr"
	echo "install_package: $(basename "$deb"): $(dpkg-deb -c "$deb" | wc -l) entries"
else
	fail "cpack made no .deb"
fi
[ "$failures" -eq 0 ] && echo "install_package: all passed"
[ "$failures" -eq 0 ]
