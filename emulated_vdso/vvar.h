/*
 * The vvar page: the data the synthetic vDSO reads, one page below its ELF
 * header, as the kernel maps its vvar/vdso pair.  Shared by the vDSO
 * (reads it), the guest (writes it when it maps the vDSO itself and acts as
 * the kernel's timekeeper) and the host harness (writes it into the
 * emulated guest's memory).
 *
 * One layout on every architecture: only 32- and 64-bit fields, each 64-bit
 * field at a multiple of 8, so that i386 (which aligns long long to 4 inside
 * structures) lays it out as amd64 and arm do.  The VVAR_* offsets are for
 * assembly; C checks them against the structure below.
 *
 * Included by C and by assembly.  No libc headers.
 */
#ifndef SIGSTEP_VVAR_H
#define SIGSTEP_VVAR_H

#define VVAR_PAGE_SIZE		4096

/*
 * What the hostile knobs write into registers: the base ORed with the
 * register's DWARF number, so a leaked value names the register it came
 * from (amd64 rbx = 3 gives 0xdeadbeefdead0003; arm r10 gives 0xdead000a).
 */
#define VVAR_POISON32		0xdead0000
#define VVAR_POISON64		0xdeadbeefdead0000

/* Byte offsets of struct vvar, for vdso_entry.S. */
#define VVAR_seq		0
#define VVAR_clobber		4
#define VVAR_use_callee_saved	8
#define VVAR_stack_bytes	12
#define VVAR_sse_align		16
#define VVAR_realtime_sec	24
#define VVAR_realtime_nsec	32
#define VVAR_mono_sec		40
#define VVAR_mono_nsec		48
#define VVAR_SIZE		56

#ifndef __ASSEMBLER__

/*
 * Knobs: 0 everywhere is a well-behaved vDSO.  Any other value makes it
 * hostile in one way, each a way some real vDSO has behaved.
 */
struct vvar_knobs {
	/* Before returning, write poison into every caller-saved register
	 * except the return value register (x86 also the XMM registers,
	 * arm also LR and d0-d7). */
	unsigned int clobber;
	/* The entry stub saves the callee-saved registers, writes poison into
	 * them, and restores them on return (arm: r4-r11, r10 included: the
	 * vDSO of Go issue 32912).  In between, a register the C code uses for
	 * itself holds the C code's values instead, as in a real vDSO: either
	 * way the caller's values are gone until the return. */
	unsigned int use_callee_saved;
	/* Use this many bytes of stack below the caller's SP, touching every
	 * page (a deep-stack vDSO: a small g0 stack overflows). */
	unsigned int stack_bytes;
	/* x86 only: an aligned SSE store (movaps) to a stack slot the C ABI
	 * promises is 16-byte aligned; faults if the caller misaligned SP. */
	unsigned int sse_align;
};

struct vvar {
	/* Seqlock: odd while the timekeeper writes, bumped again when done. */
	unsigned int seq;
	struct vvar_knobs knobs;
	unsigned int reserved;
	/* The time the vDSO returns, as stored (no hardware counter: the same
	 * inputs give the same results under every engine). */
	long long realtime_sec;
	long long realtime_nsec;
	long long mono_sec;
	long long mono_nsec;
};

#define VVAR_CHECK(field, off) \
	_Static_assert(__builtin_offsetof(struct vvar, field) == (off), "vvar.h: " #field)
VVAR_CHECK(seq, VVAR_seq);
VVAR_CHECK(knobs.clobber, VVAR_clobber);
VVAR_CHECK(knobs.use_callee_saved, VVAR_use_callee_saved);
VVAR_CHECK(knobs.stack_bytes, VVAR_stack_bytes);
VVAR_CHECK(knobs.sse_align, VVAR_sse_align);
VVAR_CHECK(realtime_sec, VVAR_realtime_sec);
VVAR_CHECK(realtime_nsec, VVAR_realtime_nsec);
VVAR_CHECK(mono_sec, VVAR_mono_sec);
VVAR_CHECK(mono_nsec, VVAR_mono_nsec);
_Static_assert(sizeof(struct vvar) == VVAR_SIZE, "vvar.h: size");
#undef VVAR_CHECK

#endif /* !__ASSEMBLER__ */

#endif
