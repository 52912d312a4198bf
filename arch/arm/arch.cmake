# Build facts for the arm guest.
#   -marm        A32, not Thumb: Go's linux/arm code is A32, and every
#                trampoline's instruction sequence is compared with Go's.
#   -ffixed-r10  R10 is g (Go's REGG); C code must never allocate it, so that
#                g survives every C function the Go-style code calls into
#                and the signal handler reads the interrupted g from it.
set(SIGSTEP_ARCH_CFLAGS -marm -ffixed-r10)
set(SIGSTEP_QEMU qemu-arm)
# Whether the host CPU runs them is found when the tests run (tests/on_host.sh).
# Hostile vDSO knobs the native runs use (emulated_vdso/README.md).
set(SIGSTEP_VDSO_KNOBS "clobber,callee_saved,stack=32768")
# The real-Go fixture (fixtures/go/): Go's GOARCH for this arch and the
# settings it is built with.  GOARM=7: ARMv7 with VFPv3, the CPU the guest images target.
set(SIGSTEP_GOARCH arm)
set(SIGSTEP_GO_ENV GOARM=7)
