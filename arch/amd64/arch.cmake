# Build facts for amd64 guests.
# No extra C flags: g lives in TLS (-8(FS)), and R14, the Go >= 1.17 g
# register, is loaded only by the assembly (chain_run), never by C code.
set(SIGSTEP_ARCH_CFLAGS "")
set(SIGSTEP_QEMU qemu-x86_64)
# Whether the host CPU runs them (with the kernel's real vDSO) is found
# when the tests run, by trying an image (tests/on_host.sh).
# Hostile vDSO knobs the native runs use (emulated_vdso/README.md).
set(SIGSTEP_VDSO_KNOBS "clobber,callee_saved,stack=32768,sse_align")
# The real-Go fixture (fixtures/go/): Go's GOARCH for this arch and the
# settings it is built with.  GOAMD64=v1 is Go's default baseline, stated so that a user's
# environment cannot change the object code.
set(SIGSTEP_GOARCH amd64)
set(SIGSTEP_GO_ENV GOAMD64=v1)
