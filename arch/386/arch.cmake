# 386 build facts.  The cross compiler already targets i686 (CMOV, no
# SSE), which is all the guest needs, so no extra code-generation flags.
set(SIGSTEP_ARCH_CFLAGS "")
set(SIGSTEP_QEMU qemu-i386)
# Whether the host CPU runs 386 images (an x86-64 kernel with its IA-32
# emulation on) is found when the tests run, by trying one
# (tests/on_host.sh, harness/native/host.c): never a build fact.
# Hostile vDSO knobs the native runs use (emulated_vdso/README.md).
set(SIGSTEP_VDSO_KNOBS "clobber,callee_saved,stack=32768,sse_align")
# The real-Go fixture (fixtures/go/): Go's GOARCH for this arch and the
# settings it is built with.  GO386=sse2 is Go 1.19's default, stated so that a user's
# environment cannot change the object code (softfloat would).
set(SIGSTEP_GOARCH 386)
set(SIGSTEP_GO_ENV GO386=sse2)
