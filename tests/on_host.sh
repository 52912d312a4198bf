#!/bin/sh
# on_host.sh SIGSTEP ARCH VDSO COMMAND [ARGS...]
# Runs COMMAND if this machine's CPU runs ARCH's guest images (with the
# kernel's vDSO when VDSO is `kernel`), as `sigstep native --host-check`
# finds out by trying one; else prints why and exits 77, which ctest
# reports as skipped (SKIP_RETURN_CODE).
sigstep=$1 arch=$2 vdso=$3
shift 3
if ! why=$("$sigstep" native --host-check --arch "$arch" --vdso "$vdso" 2>&1); then
	echo "skipped: ${why#sigstep: native: }"
	exit 77
fi
exec "$@"
