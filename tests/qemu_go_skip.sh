# Sourced by qemu_go.sh and qemu_agree.sh once sigstep, build, arch, qemu
# and tmp are set: exits 77, saying why, without the Go fixture, without
# the arch's qemu-user, or where that qemu-user does not run the program
# at all, tried first without the engine (qemu-i386 7.2 cannot run Go 386
# programs); else sets fixture.
fixture=$build/go/$arch/sigstep-go-fixture
[ -x "$fixture" ] || { echo "skipped: no Go fixture $fixture (no Go toolchain at build time)"; exit 77; }
command -v "$qemu" >/dev/null || { echo "skipped: no $qemu (ci/bootstrap.sh installs qemu-user)"; exit 77; }
if ! "$qemu" "$fixture" -iterations 1 >/dev/null 2>"$tmp/plain.err"; then
	echo "skipped: $qemu does not run $fixture at all ($(grep -m1 -i 'fatal\|error\|panic' "$tmp/plain.err"))"
	exit 77
fi
