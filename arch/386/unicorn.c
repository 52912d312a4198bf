/*
 * 386 for the harness: Unicorn's 32-bit x86 mode, `int $0x80` (EAX =
 * number, EBX ECX EDX ESI EDI EBP = arguments), and the TLS segment.
 *
 * Unicorn 2.0.1 cannot write the GS base in 32-bit mode, so TLS is done as
 * the hardware does it: the harness keeps a GDT in guest memory (GDTR
 * points at it) and set_thread_area writes a descriptor there; the guest
 * then loads the selector into GS itself, as Go's settls does.
 */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch_ops.h"
#include "machine.h"
#include "syscalls.h"
#include "threads.h"
#include "../x86/x86_state.h"

#define GDT_ADDR 0xbffff000u
#define GDT_ENTRIES 32
/* A 64-bit kernel gives 32-bit processes TLS slots 12..14
 * (GDT_ENTRY_TLS_MIN); set_thread_area(-1) picks the first. */
#define GDT_TLS_MIN 12
#define GDT_TLS_MAX 14

/* struct user_desc flag bits (asm/ldt.h). */
#define UD_SEG_32BIT (1u << 0)
#define UD_CONTENTS(f) (((f) >> 1) & 3)
#define UD_READ_EXEC_ONLY (1u << 3)
#define UD_LIMIT_IN_PAGES (1u << 4)
#define UD_SEG_NOT_PRESENT (1u << 5)
#define UD_USEABLE (1u << 6)

/* The 8-byte segment descriptor Linux's fill_ldt() makes of a user_desc. */
static uint64_t descriptor(uint32_t base, uint32_t limit, uint32_t flags)
{
	uint32_t type = UD_CONTENTS(flags) << 2 | (flags & UD_READ_EXEC_ONLY ? 0 : 2) | 1;	/* accessed */
	uint32_t access = (flags & UD_SEG_NOT_PRESENT ? 0 : 0x80) | 0x60 /* DPL 3 */ | 0x10 /* code/data */ | type;
	uint32_t gran = (flags & UD_LIMIT_IN_PAGES ? 8 : 0) | (flags & UD_SEG_32BIT ? 4 : 0) |
			(flags & UD_USEABLE ? 1 : 0);
	uint32_t lo = (base & 0xffff) << 16 | (limit & 0xffff);
	uint32_t hi = (base & 0xff000000) | gran << 20 | (limit & 0xf0000) | access << 8 | ((base >> 16) & 0xff);
	return (uint64_t)hi << 32 | lo;
}

/*
 * struct user_desc { u32 entry_number, base_addr, limit; u32 flags; }
 * into the descriptor for TLS slot *entry (-1: the first, written back).
 * The GDT's TLS entries are per thread: threads.c swaps them at each
 * switch (i386_thread_state_*), as Linux's switch_to loads each task's
 * tls_array into the GDT.
 */
static int64_t read_user_desc(struct machine *mc, uint64_t addr, uint32_t *entry, uint64_t *d)
{
	uint32_t ud[4];
	if (machine_copy_in(mc, addr, ud, sizeof ud))
		return -EFAULT;
	*entry = ud[0];
	if (*entry == 0xffffffffu) {
		*entry = GDT_TLS_MIN;
		ud[0] = *entry;
		if (machine_copy_out(mc, addr, &ud[0], 4))
			return -EFAULT;
	}
	if (*entry < GDT_TLS_MIN || *entry > GDT_TLS_MAX)
		return -EINVAL;
	*d = descriptor(ud[1], ud[2], ud[3]);
	return 0;
}

static int64_t sys_set_thread_area(struct machine *mc, const uint64_t a[6])
{
	uint32_t entry;
	uint64_t d;
	int64_t r = read_user_desc(mc, a[0], &entry, &d);
	if (r)
		return r;
	machine_write(mc, GDT_ADDR + 8 * entry, &d, sizeof d);
	return 0;
}

#define TLS_BYTES (8 * (GDT_TLS_MAX - GDT_TLS_MIN + 1))

static void i386_thread_state_save(struct machine *mc, uint8_t *state)
{
	machine_read(mc, GDT_ADDR + 8 * GDT_TLS_MIN, state, TLS_BYTES);
}

static void i386_thread_state_restore(struct machine *mc, const uint8_t *state)
{
	machine_write(mc, GDT_ADDR + 8 * GDT_TLS_MIN, state, TLS_BYTES);
}

/* CLONE_SETTLS: tls is a struct user_desc, for the child's GDT. */
static int i386_clone_set_tls(struct machine *mc, uint64_t tls)
{
	uint64_t a[6] = { tls, 0, 0, 0, 0, 0 };
	return sys_set_thread_area(mc, a) ? -1 : 0;
}

/* --- The CPU a Linux process sees ------------------------------------------ */

/*
 * CPUID as a plain x86 CPU with SSE2 and no AVX answers it, the same on
 * every run.  Unicorn 2.0.1's 32-bit CPU reports no MMX or SSE, and Go
 * 386 refuses to start without them.  Only features Unicorn's TCG
 * implements are claimed.
 */
#define CPUID1_EDX 0x078bfbffu	/* FPU..CMOV, CLFSH, MMX, FXSR, SSE, SSE2 */
#define CPUID1_ECX 0x00002001u	/* SSE3, CX16: what the default CPU model decodes (Unicorn checks the model, not CPUID) */

static int hook_cpuid(uc_engine *uc, void *user)
{
	struct machine *mc = user;
	static const char brand[48] = "sigstep emulated x86 CPU";
	uint32_t leaf = (uint32_t)machine_reg(mc, UC_X86_REG_EAX), r[4] = { 0, 0, 0, 0 };
	(void)uc;
	switch (leaf) {
	case 0:
		r[0] = 7;
		memcpy(&r[1], "Genu", 4), memcpy(&r[3], "ineI", 4), memcpy(&r[2], "ntel", 4);
		break;
	case 1:
		r[0] = 0x000306c3;
		r[1] = 0x00000800;
		r[2] = CPUID1_ECX;
		r[3] = CPUID1_EDX;
		break;
	case 0x80000000:
		r[0] = 0x80000004;
		break;
	case 0x80000002: case 0x80000003: case 0x80000004:
		memcpy(r, brand + 16 * (leaf - 0x80000002), 16);
		break;
	default:
		break;
	}
	static const int regs[4] = { UC_X86_REG_EAX, UC_X86_REG_EBX, UC_X86_REG_ECX, UC_X86_REG_EDX };
	for (int i = 0; i < 4; i++)
		machine_set_reg(mc, regs[i], r[i]);
	return 1;
}

static int i386_install_cpu_hooks(struct machine *mc)
{
	if (mc->narch_hooks == sizeof mc->arch_hooks / sizeof mc->arch_hooks[0])
		return -1;
	return uc_hook_add(mc->uc, &mc->arch_hooks[mc->narch_hooks++], UC_HOOK_INSN, (void *)hook_cpuid, mc,
			   1, 0, UC_X86_INS_CPUID) == UC_ERR_OK ? 0 : -1;
}

/*
 * Linux's flat user segments: __USER32_CS (entry 4) and __USER_DS (entry
 * 5), base 0, 4 GiB, 32-bit.  Loading any segment register makes the CPU
 * recompute its 32-bit stack flag from SS's descriptor, so SS must hold a
 * real 32-bit descriptor before the guest's `movw %ax, %gs`, or every
 * push would wrap SP at 64 KiB.
 */
#define GDT_USER_CS 4
#define GDT_USER_DS 5
#define GDT_RING0_SS 3
#define SEL(entry) ((entry) << 3 | 3)	/* GDT, RPL 3 */

static int i386_init_cpu(struct machine *mc)
{
	/* Read-only to the guest; the CPU reads descriptors through it. */
	if (machine_map(mc, GDT_ADDR, GDT_ADDR + 0x1000, UC_PROT_READ, REGION_SYSTEM, "gdt"))
		return -1;
	uint64_t code = descriptor(0, 0xfffff, UD_SEG_32BIT | UD_LIMIT_IN_PAGES | 2u << 1 /* code */);
	uint64_t data = descriptor(0, 0xfffff, UD_SEG_32BIT | UD_LIMIT_IN_PAGES);
	machine_write(mc, GDT_ADDR + 8 * GDT_USER_CS, &code, 8);
	machine_write(mc, GDT_ADDR + 8 * GDT_USER_DS, &data, 8);
	uc_x86_mmr gdtr = { .base = GDT_ADDR, .limit = GDT_ENTRIES * 8 - 1 };
	if (uc_reg_write(mc->uc, UC_X86_REG_GDTR, &gdtr) != UC_ERR_OK)
		return -1;
	/*
	 * Unicorn's CPU stays at CPL 0 whatever CS holds, and SS's DPL and
	 * RPL must equal the CPL: SS gets a ring-0 twin of the user data
	 * segment (entry 3, Linux's __KERNEL_DS slot).  Nothing the guest
	 * does depends on SS's selector value.
	 */
	uint64_t ring0_data = data & ~(3ull << 45);	/* DPL bits 45-46 */
	machine_write(mc, GDT_ADDR + 8 * GDT_RING0_SS, &ring0_data, 8);
	static const struct { int reg; uint64_t sel; } segs[] = {
		{ UC_X86_REG_CS, SEL(GDT_USER_CS) },
		{ UC_X86_REG_SS, GDT_RING0_SS << 3 },
		{ UC_X86_REG_DS, SEL(GDT_USER_DS) },
		{ UC_X86_REG_ES, SEL(GDT_USER_DS) },
	};
	for (unsigned i = 0; i < sizeof segs / sizeof segs[0]; i++)
		if (uc_reg_write(mc->uc, segs[i].reg, &segs[i].sel) != UC_ERR_OK)
			return -1;
	static const int regs[] = {
		UC_X86_REG_EAX, UC_X86_REG_EBX, UC_X86_REG_ECX, UC_X86_REG_EDX,
		UC_X86_REG_ESI, UC_X86_REG_EDI, UC_X86_REG_EBP,
	};
	for (unsigned i = 0; i < sizeof regs / sizeof regs[0]; i++)
		machine_set_reg(mc, regs[i], 0);
	machine_set_reg(mc, UC_X86_REG_EFLAGS, 0x202);
	return 0;
}

/* The FPU/SSE state: FXSAVE layout (arch/x86/x86_state.h), 8 XMM registers. */
#define FX_NXMM 8

/* --- Signal frames ----------------------------------------------------------- */

/*
 * The i386 struct rt_sigframe (arch/x86/include/asm/sigframe.h):
 *   pretcode 0, sig 4, pinfo 8, puc 12 (the handler's stack arguments),
 *   struct siginfo info 16, struct ucontext uc 144, retcode[8] 260,
 * with ucontext = uc_flags 0, uc_link 4, uc_stack 8 (ss_sp, ss_flags,
 * ss_size), uc_mcontext 20 (struct sigcontext, 88 bytes; arch.h has the
 * same offsets), uc_sigmask 108.  The FPU state (struct _fpstate_32, FXSAVE
 * image included) lies above the frame; sigcontext.fpstate points at it.
 */
#define RT_SIG		4
#define RT_INFO		16
#define RT_UC		144
#define RT_SIZE		268
#define UC_STACK	8
#define UC_MCONTEXT	20
#define UC_SIGMASK	108
#define SC_OLDMASK	80
#define SC_FPSTATE	76
/* struct _fpstate_32: the 112-byte fsave header, then a full FXSAVE image. */
#define FPSTATE_LEGACY	112
#define FPSTATE_SIZE	(FPSTATE_LEGACY + FXSAVE_SIZE)
#define FIX_EFLAGS	0x40dd5u	/* AC OF DF TF SF ZF AF PF CF RF: what sigreturn takes from the frame */

/* struct sigcontext, word by word from offset 0; -1: not restored
 * (trapno, err, esp_at_signal, fpstate, oldmask, cr2). */
static const int sc_regs[] = {
	UC_X86_REG_GS, UC_X86_REG_FS, UC_X86_REG_ES, UC_X86_REG_DS,
	UC_X86_REG_EDI, UC_X86_REG_ESI, UC_X86_REG_EBP, UC_X86_REG_ESP,
	UC_X86_REG_EBX, UC_X86_REG_EDX, UC_X86_REG_ECX, UC_X86_REG_EAX,
	-1, -1, UC_X86_REG_EIP, UC_X86_REG_CS, UC_X86_REG_EFLAGS, -1, UC_X86_REG_SS,
};
#define SC_NREGS (sizeof sc_regs / sizeof sc_regs[0])
#define SC_EFLAGS	64
#define SC_EIP		56
/* The registers sc_regs saves, in its order: one Unicorn call reads them
 * all at a frame's set-up (at every probed boundary). */
static const int sc_saved[] = {
	UC_X86_REG_GS, UC_X86_REG_FS, UC_X86_REG_ES, UC_X86_REG_DS,
	UC_X86_REG_EDI, UC_X86_REG_ESI, UC_X86_REG_EBP, UC_X86_REG_ESP,
	UC_X86_REG_EBX, UC_X86_REG_EDX, UC_X86_REG_ECX, UC_X86_REG_EAX,
	UC_X86_REG_EIP, UC_X86_REG_CS, UC_X86_REG_EFLAGS, UC_X86_REG_SS,
};
#define SC_NSAVED (sizeof sc_saved / sizeof sc_saved[0])
#define SC_SAVED_ESP 7		/* ESP's place among them */
/* The selectors among them, read before rt_sigreturn writes any. */
static const int sc_segments[] = {
	UC_X86_REG_GS, UC_X86_REG_FS, UC_X86_REG_ES, UC_X86_REG_DS, UC_X86_REG_CS, UC_X86_REG_SS,
};
#define SC_NSEGMENTS (sizeof sc_segments / sizeof sc_segments[0])

static int i386_setup_rt_frame(struct machine *mc, const struct sigaction_rec *act, struct sigframe_ctx *ctx)
{
	uint32_t f[RT_SIZE / 4];
	uint8_t fps[FPSTATE_SIZE];
	memset(f, 0, sizeof f);
	uint64_t v[SC_NSAVED];
	machine_regs(mc, sc_saved, v, SC_NSAVED);
	uint64_t sp = sigframe_sp(ctx, v[SC_SAVED_ESP]);
	/* The FPU state above the frame, 64-aligned (get_sigframe); then
	 * align_sigframe: ((sp + 4) & -16) - 4, so the handler's stack is
	 * aligned as after a call. */
	uint32_t fp = (uint32_t)((sp - FPSTATE_SIZE) & ~63ull);
	uint32_t frame = (uint32_t)((((fp - RT_SIZE) + 4) & ~15ull) - 4);
	memset(fps, 0, FPSTATE_LEGACY);
	uint16_t tag = x86_fxsave(mc, fps + FPSTATE_LEGACY, FX_NXMM), cw, sw;
	memcpy(&cw, fps + FPSTATE_LEGACY, 2);
	memcpy(&sw, fps + FPSTATE_LEGACY + 2, 2);
	uint32_t legacy[3] = { cw, sw, tag };
	memcpy(fps, legacy, sizeof legacy);	/* cw, sw, tag; magic 0 at 110: the FXSAVE image follows */
	if (machine_copy_out(mc, fp, fps, sizeof fps))
		return -1;

	f[0] = (uint32_t)act->restorer;
	f[RT_SIG / 4] = (uint32_t)ctx->sig;
	f[RT_SIG / 4 + 1] = frame + RT_INFO;
	f[RT_SIG / 4 + 2] = frame + RT_UC;
	f[RT_INFO / 4] = (uint32_t)ctx->sig;		/* si_signo; si_errno 0 */
	f[RT_INFO / 4 + 2] = ctx->code;			/* si_code */
	uint32_t *uc = f + RT_UC / 4;
	uc[UC_STACK / 4] = (uint32_t)ctx->ss_sp;
	uc[UC_STACK / 4 + 1] = (uint32_t)ctx->ss_flags;
	uc[UC_STACK / 4 + 2] = (uint32_t)ctx->ss_size;
	uint32_t *sc = uc + UC_MCONTEXT / 4;
	for (unsigned i = 0, k = 0; i < SC_NREGS; i++)
		if (sc_regs[i] >= 0)
			sc[i] = (uint32_t)v[k++];
	sc[68 / 4] = sc[28 / 4];			/* esp_at_signal */
	sc[SC_OLDMASK / 4] = (uint32_t)ctx->oldmask;
	sc[SC_FPSTATE / 4] = fp;
	memcpy(&uc[UC_SIGMASK / 4], &ctx->oldmask, 8);
	if (machine_copy_out(mc, frame, f, sizeof f))
		return -1;

	/* Arguments on the stack (above the return address) and, for
	 * regparm(3) handlers, in EAX EDX ECX as Linux also sets them. */
	static const int call[] = {
		UC_X86_REG_EAX, UC_X86_REG_EDX, UC_X86_REG_ECX, UC_X86_REG_ESP, UC_X86_REG_EIP, UC_X86_REG_EFLAGS,
	};
	const uint64_t cv[] = {
		(uint64_t)ctx->sig, frame + RT_INFO, frame + RT_UC, frame, act->handler,
		sc[SC_EFLAGS / 4] & ~0x500ull,	/* DF, TF clear */
	};
	machine_set_regs(mc, call, cv, sizeof call / sizeof call[0]);
	return 0;
}

/* Where `reg` is in sc_segments (and so in rt_sigreturn's reading of the
 * selectors as they are), -1 for a register that is no selector. */
static int segment_index(int reg)
{
	for (unsigned i = 0; i < SC_NSEGMENTS; i++)
		if (sc_segments[i] == reg)
			return (int)i;
	return -1;
}

/* The sigcontext's words back into the registers, in sc_regs' order, a
 * batch at a time: a changed selector is written on its own, in its
 * place (Unicorn refuses a bad one, and a refused register must not
 * cost the ones after it).  cur: SP, EFLAGS and the selectors as they
 * are (in sc_segments' order). */
static void write_sigcontext(struct machine *mc, const uint32_t *sc, const uint64_t *cur)
{
	int regs[SC_NREGS];
	uint64_t v[SC_NREGS];
	int n = 0;
	for (unsigned i = 0; i < SC_NREGS; i++) {
		int reg = sc_regs[i];
		uint64_t w = sc[i];
		if (reg < 0)
			continue;
		if (reg == UC_X86_REG_EFLAGS)
			w = (cur[1] & ~(uint64_t)FIX_EFLAGS) | (w & FIX_EFLAGS);
		int seg = segment_index(reg);
		if (seg < 0) {
			regs[n] = reg, v[n++] = w;
			continue;
		}
		/* Loading a selector reloads its descriptor (and SS is the
		 * harness's ring-0 twin): only a changed one is written. */
		if ((w & 0xffff) == cur[2 + seg])
			continue;
		machine_set_regs(mc, regs, v, n);
		n = 0;
		machine_set_reg(mc, reg, w & 0xffff);
	}
	machine_set_regs(mc, regs, v, n);
}

static int i386_restore_rt_frame(struct machine *mc, uint64_t *mask, int pc_only)
{
	/* SP, EFLAGS and the selectors as they are (in sc_segments' order), in
	 * one Unicorn call. */
	static const int now[2 + SC_NSEGMENTS] = {
		UC_X86_REG_ESP, UC_X86_REG_EFLAGS,
		UC_X86_REG_GS, UC_X86_REG_FS, UC_X86_REG_ES, UC_X86_REG_DS, UC_X86_REG_CS, UC_X86_REG_SS,
	};
	uint64_t cur[2 + SC_NSEGMENTS] = { 0 };
	machine_regs(mc, now, cur, pc_only ? 1 : 2 + SC_NSEGMENTS);	/* pc_only: SP finds the frame, that is all */
	/* The handler's `ret` popped pretcode: the frame is one word below. */
	uint64_t frame = cur[0] - 4;
	uint32_t uc[(UC_SIGMASK + 8) / 4];
	if (machine_copy_in(mc, frame + RT_UC, uc, sizeof uc))
		return -1;
	const uint32_t *sc = uc + UC_MCONTEXT / 4;
	/* The FPU state the frame points at (NULL: none, left as it is),
	 * read before any register is written: a refused frame changes
	 * nothing, and its fault's stop is not lost to a PC write. */
	uint32_t fp = sc[SC_FPSTATE / 4];
	uint8_t fx[FXSAVE_SIZE];
	if (fp && (pc_only ? machine_can_read(mc, fp + FPSTATE_LEGACY, sizeof fx)
		   : machine_copy_in(mc, fp + FPSTATE_LEGACY, fx, sizeof fx)))
		return -1;	/* pc_only takes no FPU state, but refuses the same frames */
	memcpy(mask, &uc[UC_SIGMASK / 4], 8);
	if (pc_only) {
		machine_set_reg(mc, UC_X86_REG_EIP, sc[SC_EIP / 4]);
		return 0;
	}
	write_sigcontext(mc, sc, cur);
	if (fp)
		x86_fxrstor(mc, fx, FX_NXMM);
	return 0;
}

/* asm/unistd_32.h, sorted by number. */
static const struct sysent i386_syscalls[] = {
	{ 1, "exit", sys_exit },
	{ 3, "read", sys_read },
	{ 4, "write", sys_write },
	{ 5, "open", sys_open },
	{ 6, "close", sys_close },
	{ 13, "time", NULL },
	{ 20, "getpid", sys_getpid },
	{ 37, "kill", sys_kill },
	{ 45, "brk", sys_brk },
	{ 54, "ioctl", NULL },
	{ 55, "fcntl", sys_fcntl },
	{ 78, "gettimeofday", sys_gettimeofday },
	{ 85, "readlink", NULL },
	{ 90, "mmap", NULL },	/* old_mmap: arguments in memory; Go uses mmap2 */
	{ 91, "munmap", sys_munmap },
	{ 104, "setitimer", sys_setitimer },
	{ 105, "getitimer", NULL },
	{ 108, "fstat", NULL },
	{ 119, "sigreturn", NULL },
	{ 120, "clone", sys_clone },
	{ 122, "uname", sys_uname },
	{ 125, "mprotect", sys_mprotect },
	{ 146, "writev", NULL },
	{ 158, "sched_yield", sys_sched_yield },
	{ 162, "nanosleep", sys_nanosleep },
	{ 172, "prctl", NULL },
	{ 173, "rt_sigreturn", sys_rt_sigreturn },
	{ 174, "rt_sigaction", sys_rt_sigaction },
	{ 175, "rt_sigprocmask", sys_rt_sigprocmask },
	{ 180, "pread64", NULL },
	{ 186, "sigaltstack", sys_sigaltstack },
	{ 191, "ugetrlimit", sys_getrlimit },
	{ 192, "mmap2", sys_mmap },	/* page offset; anonymous maps use 0 */
	{ 218, "mincore", sys_mincore },
	{ 219, "madvise", sys_madvise },
	{ 221, "fcntl64", sys_fcntl },
	{ 224, "gettid", sys_gettid },
	{ 238, "tkill", sys_tkill },
	{ 240, "futex", sys_futex },
	{ 242, "sched_getaffinity", sys_sched_getaffinity },
	{ 243, "set_thread_area", sys_set_thread_area },
	{ 252, "exit_group", sys_exit_group },
	{ 254, "epoll_create", sys_epoll_create },
	{ 255, "epoll_ctl", sys_epoll_ctl },
	{ 256, "epoll_wait", sys_epoll_wait },
	{ 258, "set_tid_address", sys_set_tid_address },
	{ 259, "timer_create", sys_timer_create },
	{ 260, "timer_settime", sys_timer_settime },
	{ 263, "timer_delete", sys_timer_delete },
	{ 265, "clock_gettime", sys_clock_gettime },
	{ 266, "clock_getres", NULL },
	{ 267, "clock_nanosleep", NULL },
	{ 270, "tgkill", sys_tgkill },
	{ 295, "openat", sys_openat },
	{ 319, "epoll_pwait", sys_epoll_pwait },
	{ 329, "epoll_create1", sys_epoll_create1 },
	{ 331, "pipe2", sys_pipe2 },
	{ 340, "prlimit64", sys_prlimit64 },
	{ 355, "getrandom", sys_getrandom },
	{ 384, "arch_prctl", NULL },
};

/*
 * Go's rule (cmd/internal/obj/x86/obj6.go, preprocess): PUSH/POP and
 * ADJSP set Spadj and move pcsp; any other instruction whose destination
 * is SP (CMP aside) sets FuncFlag_SPWRITE.  In machine code an ADJSP is a
 * SUB/ADD of a constant, so it is known by where Go's assembler puts
 * one: the frame's prologue (the first instruction of a NOSPLIT
 * function) and its epilogue (the instruction before a RET).  A
 * hand-written SUBQ $16, SP, ANDQ $~15, SP or MOVQ Rx, SP anywhere else
 * is what Go flags.
 */
static enum sp_write x86_32_sp_write(const cs_insn *insn, const cs_insn *next, int at_entry, long *spadj)
{
	const cs_x86 *x = &insn->detail->x86;
	switch (insn->id) {
	case X86_INS_PUSH: case X86_INS_PUSHF: case X86_INS_PUSHFD: case X86_INS_PUSHFQ:
		*spadj = 4;
		return SP_TRACKED;
	case X86_INS_POP: case X86_INS_POPF: case X86_INS_POPFD: case X86_INS_POPFQ:
		*spadj = -4;
		return SP_TRACKED;
	case X86_INS_CMP:
		return SP_NONE;
	}
	int writes_sp = 0;
	for (uint8_t i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_REG && x->operands[i].reg == X86_REG_ESP &&
		    (x->operands[i].access & CS_AC_WRITE))
			writes_sp = 1;
	if (!writes_sp)
		return SP_NONE;
	int by_constant = x->op_count == 2 && x->operands[1].type == X86_OP_IMM;
	long c = by_constant ? (long)x->operands[1].imm : 0;
	if (by_constant && insn->id == X86_INS_SUB && at_entry) {
		*spadj = c;
		return SP_TRACKED;	/* the prologue's ADJSP $frame */
	}
	if (by_constant && insn->id == X86_INS_ADD && next && next->id == X86_INS_RET) {
		*spadj = -c;
		return SP_TRACKED;	/* the epilogue's ADJSP $-frame */
	}
	return SP_UNTRACKED;
}

/* RET and JMP never fall through (obj6.go: after a RET the frame is the
 * one a branch brings, Spadj +autoffset). */
static int x86_32_ends_block(const cs_insn *insn)
{
	return insn->id == X86_INS_RET || insn->id == X86_INS_JMP || insn->id == X86_INS_LJMP;
}

const struct arch_ops arch_386_ops = {
	.name = "386",
	.uc_arch = UC_ARCH_X86,
	.uc_mode = UC_MODE_32,
	.uc_cpu = -1,
	.cs_arch = CS_ARCH_X86,
	.cs_mode = CS_MODE_32,
	.sp_write = x86_32_sp_write,
	.ends_block = x86_32_ends_block,
	.pcsp_rule = "x86 (cmd/internal/obj/x86/obj6.go): only PUSH/POP and the frame's own prologue SUB / epilogue ADD before RET move pcsp",
	.elf_class = ELFCLASS32,
	.elf_machine = EM_386,
	.word_size = 4,
	.pc_quantum = 1,
	.reg_pc = UC_X86_REG_EIP,
	.reg_sp = UC_X86_REG_ESP,
	.reg_lr = -1,
	.reg_ret = UC_X86_REG_EAX,
	.reg_sysno = UC_X86_REG_EAX,
	.reg_arg = { UC_X86_REG_EBX, UC_X86_REG_ECX, UC_X86_REG_EDX,
		     UC_X86_REG_ESI, UC_X86_REG_EDI, UC_X86_REG_EBP },
	.reg_g = -1,	/* g is in memory at -4(GS:0) */
	.syscall_entry = SYSCALL_BY_INTR,
	.syscall_intno = 0x80,
	.syscall_insn_size = 2,	/* cd 80 */
	.syscall_pc_past = 1,
	/* A 3 GiB user address space (a 32-bit kernel's split); the GDT
	 * page sits just above the stack. */
	.stack_top = 0xbfffe000u,
	.mmap_base = 0x70000000u,
	.mmap_end = 0xa0000000u,
	.vdso_base = 0xb7fff000u,
	.vdso_base_alt = 0x10000000u,	/* 256 MiB: above the text at 4 MiB, below the mmap arena */
	.address_limit = 0xc0000000u,
	.syscalls = i386_syscalls,
	.nsyscalls = sizeof i386_syscalls / sizeof i386_syscalls[0],
	.init_cpu = i386_init_cpu,
	.after_syscall = NULL,
	.red_zone = 0,
	.setup_rt_frame = i386_setup_rt_frame,
	.restore_rt_frame = i386_restore_rt_frame,
	/* ABI0 on the stack: p +4, tagPtr +8, stk.ptr +12, stk.len +16 */
	.go_stk_reg_ptr = -1,
	.go_stk_reg_len = -1,
	.go_stk_stack_off = 12,
	.epoll_data_offset = 4,
	.uname_machine = "i686",
	.hwcap = CPUID1_EDX,	/* Linux x86's AT_HWCAP: CPUID.1:EDX */
	.clone_tls_arg = 3,
	.clone_set_tls = i386_clone_set_tls,
	.thread_state_save = i386_thread_state_save,
	.thread_state_restore = i386_thread_state_restore,
	.install_cpu_hooks = i386_install_cpu_hooks,
	.pin_timestamp_counter = x86_pin_timestamp_counter,
	.qemu_user = "qemu-i386",
	/* An x86-64 kernel runs it if its IA-32 emulation is on: tried,
	 * not assumed (harness/native/host.c). */
	.host_machines = "x86_64 i686 i586 i386",
	.go_walltime = "walltime",
};
