/*
 * amd64 for the harness: Unicorn's x86-64 mode, the `syscall` instruction
 * (RAX = number, RDI RSI RDX R10 R8 R9 = arguments, as the kernel's
 * entry_SYSCALL_64 takes them), FS_BASE for arch_prctl(ARCH_SET_FS).
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch_ops.h"
#include "machine.h"
#include "syscalls.h"
#include "threads.h"
#include "../x86/x86_state.h"

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

/* Go's settls: FS base is &m.tls[1], so g is at -8(FS). */
static int64_t sys_arch_prctl(struct machine *mc, const uint64_t a[6])
{
	uint64_t code = a[0], addr = a[1];
	switch (code) {
	case ARCH_SET_FS:
	case ARCH_SET_GS:
		if (addr >= mc->ops->address_limit)
			return -EPERM;
		machine_set_reg(mc, code == ARCH_SET_FS ? UC_X86_REG_FS_BASE : UC_X86_REG_GS_BASE, addr);
		return 0;
	case ARCH_GET_FS:
	case ARCH_GET_GS: {
		uint64_t v = machine_reg(mc, code == ARCH_GET_FS ? UC_X86_REG_FS_BASE : UC_X86_REG_GS_BASE);
		return machine_copy_out(mc, addr, &v, 8) ? -EFAULT : 0;
	}
	default:
		return -EINVAL;
	}
}

/* SYSCALL leaves the return address in RCX and RFLAGS in R11; SYSRET
 * returns with them there, so the guest sees both clobbered.  (RIP is
 * still at the instruction while the hook runs.) */
static void amd64_after_syscall(struct machine *mc)
{
	static const int from[2] = { UC_X86_REG_RIP, UC_X86_REG_EFLAGS }, to[2] = { UC_X86_REG_RCX, UC_X86_REG_R11 };
	uint64_t v[2];
	machine_regs(mc, from, v, 2);
	v[0] += 2;
	machine_set_regs(mc, to, v, 2);
}

static int amd64_init_cpu(struct machine *mc)
{
	/* Linux starts a process with every general register zero and
	 * RFLAGS = IF (bit 1 is always set). */
	static const int regs[] = {
		UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX,
		UC_X86_REG_RSI, UC_X86_REG_RDI, UC_X86_REG_RBP, UC_X86_REG_R8,
		UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11, UC_X86_REG_R12,
		UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
	};
	for (unsigned i = 0; i < sizeof regs / sizeof regs[0]; i++)
		machine_set_reg(mc, regs[i], 0);
	machine_set_reg(mc, UC_X86_REG_EFLAGS, 0x202);
	return 0;
}

/* --- The CPU a Linux process sees ------------------------------------------ */

/*
 * CPUID as a plain x86-64 CPU without AVX answers it, the same on every
 * run: Unicorn 2.0.1's own answer leaves out features Go checks, and a
 * host-independent one keeps runs byte-identical.  Only features
 * Unicorn's TCG implements are claimed (no AVX, no AES, no XSAVE).
 */
#define CPUID1_EDX 0x078bfbffu	/* FPU..CMOV, CLFSH, MMX, FXSR, SSE, SSE2 */
#define CPUID1_ECX 0x00002001u	/* SSE3, CX16: what the default CPU model decodes (Unicorn checks the model, not CPUID) */

static int hook_cpuid(uc_engine *uc, void *user)
{
	struct machine *mc = user;
	static const char brand[48] = "sigstep emulated x86-64 CPU";
	uint32_t leaf = (uint32_t)machine_reg(mc, UC_X86_REG_RAX), r[4] = { 0, 0, 0, 0 };
	(void)uc;
	switch (leaf) {
	case 0:
		r[0] = 7;
		memcpy(&r[1], "Genu", 4), memcpy(&r[3], "ineI", 4), memcpy(&r[2], "ntel", 4);
		break;
	case 1:
		r[0] = 0x000306c3;	/* family 6 */
		r[1] = 0x00000800;	/* 64-byte CLFLUSH line, one logical CPU */
		r[2] = CPUID1_ECX;
		r[3] = CPUID1_EDX;
		break;
	case 0x80000000:
		r[0] = 0x80000008;
		break;
	case 0x80000001:
		r[2] = 1;				/* LAHF/SAHF in 64-bit mode */
		r[3] = 1u << 11 | 1u << 20 | 1u << 29;	/* SYSCALL, NX, LM */
		break;
	case 0x80000002: case 0x80000003: case 0x80000004:
		memcpy(r, brand + 16 * (leaf - 0x80000002), 16);
		break;
	case 0x80000008:
		r[0] = 0x3027;	/* 39 physical, 48 virtual address bits */
		break;
	default:
		break;		/* leaf 7 and the rest: nothing */
	}
	static const int regs[4] = { UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX };
	for (int i = 0; i < 4; i++)
		machine_set_reg(mc, regs[i], r[i]);
	return 1;	/* the instruction is done */
}

static int amd64_install_cpu_hooks(struct machine *mc)
{
	if (mc->narch_hooks == sizeof mc->arch_hooks / sizeof mc->arch_hooks[0])
		return -1;
	return uc_hook_add(mc->uc, &mc->arch_hooks[mc->narch_hooks++], UC_HOOK_INSN, (void *)hook_cpuid, mc,
			   1, 0, UC_X86_INS_CPUID) == UC_ERR_OK ? 0 : -1;
}

/* CLONE_SETTLS: the child's FS base. */
static int amd64_clone_set_tls(struct machine *mc, uint64_t tls)
{
	if (tls >= mc->ops->address_limit)
		return -1;
	machine_set_reg(mc, UC_X86_REG_FS_BASE, tls);
	return 0;
}

/* The FPU/SSE state: FXSAVE layout (arch/x86/x86_state.h), 16 XMM registers. */
#define FX_NXMM 16

/* --- Signal frames ----------------------------------------------------------- */

/*
 * struct rt_sigframe (arch/x86/include/asm/sigframe.h):
 *   pretcode 0, struct ucontext uc 8, struct siginfo info 312,
 * with ucontext = uc_flags 0, uc_link 8, uc_stack 16 (ss_sp, ss_flags,
 * ss_size), uc_mcontext 40 (struct sigcontext, 256 bytes), uc_sigmask 296.
 * The FPU state (FXSAVE layout, no XSAVE header: the CPUID here has no
 * XSAVE) lies above the frame, and sigcontext.fpstate points at it.
 */
#define RT_UC		8
#define RT_INFO		312
#define RT_SIZE		(RT_INFO + 128)
#define UC_STACK	16
#define UC_MCONTEXT	40
#define UC_SIGMASK	296
#define UC_SIGCONTEXT_SS	0x2	/* uc_flags: sigcontext.ss is valid (asm/ucontext.h) */
#define UC_STRICT_RESTORE_SS	0x4

/* struct sigcontext in order, one word each from r8 (offset 0) to eflags
 * (offset 136); cs/gs/fs/ss are four u16 at 144 (read with the words, in
 * one Unicorn call; rt_sigreturn writes back the words only); fpstate at
 * 184. */
static const int sc_regs[] = {
	UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
	UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
	UC_X86_REG_RDI, UC_X86_REG_RSI, UC_X86_REG_RBP, UC_X86_REG_RBX,
	UC_X86_REG_RDX, UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RSP,
	UC_X86_REG_RIP, UC_X86_REG_EFLAGS,
	UC_X86_REG_CS, UC_X86_REG_GS, UC_X86_REG_FS, UC_X86_REG_SS,
};
#define SC_NREGS 18		/* the words */
#define SC_RSP 15		/* RSP's and RIP's places among them */
#define SC_RIP 16
#define SC_NSEGS 4
#define SC_SEGS		144
#define SC_FPSTATE	184
/* RFLAGS bits sigreturn takes from the frame (FIX_EFLAGS: AC OF DF TF SF
 * ZF AF PF CF RF). */
#define FIX_EFLAGS	0x40dd5u

static int amd64_setup_rt_frame(struct machine *mc, const struct sigaction_rec *act, struct sigframe_ctx *ctx)
{
	uint8_t f[RT_SIZE], fx[FXSAVE_SIZE];
	memset(f, 0, sizeof f);
	/* A batch per Unicorn call, not a call per register: this runs at
	 * every probed boundary. */
	uint64_t v[SC_NREGS + SC_NSEGS];
	machine_regs(mc, sc_regs, v, SC_NREGS + SC_NSEGS);
	uint64_t sp = sigframe_sp(ctx, v[SC_RSP]);
	/* The FPU state above the frame, 64-aligned (get_sigframe); then
	 * align_sigframe: (rsp + 8) % 16 == 0 at entry, as after a call. */
	uint64_t fp = (sp - FXSAVE_SIZE) & ~63ull;
	uint64_t frame = ((fp - RT_SIZE) & ~15ull) - 8;
	uint64_t w;
	x86_fxsave(mc, fx, FX_NXMM);
	if (machine_copy_out(mc, fp, fx, sizeof fx))
		return -1;

	memcpy(f, &act->restorer, 8);	/* the handler's `ret` goes there */
	w = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	memcpy(f + RT_UC, &w, 8);
	memcpy(f + RT_UC + UC_STACK, &ctx->ss_sp, 8);
	memcpy(f + RT_UC + UC_STACK + 8, &ctx->ss_flags, 4);
	memcpy(f + RT_UC + UC_STACK + 16, &ctx->ss_size, 8);
	uint8_t *sc = f + RT_UC + UC_MCONTEXT;
	memcpy(sc, v, SC_NREGS * 8);
	const uint64_t *sv = v + SC_NREGS;
	uint16_t segs[4] = { (uint16_t)sv[0], (uint16_t)sv[1], (uint16_t)sv[2], (uint16_t)sv[3] };
	memcpy(sc + SC_SEGS, segs, sizeof segs);
	memcpy(sc + SC_SEGS + 8 + 16, &ctx->oldmask, 8);	/* sigcontext.oldmask, after err, trapno */
	memcpy(sc + SC_FPSTATE, &fp, 8);
	memcpy(f + RT_UC + UC_SIGMASK, &ctx->oldmask, 8);
	int32_t si[3] = { ctx->sig, 0, ctx->code };	/* si_signo, si_errno, si_code */
	memcpy(f + RT_INFO, si, sizeof si);
	if (machine_copy_out(mc, frame, f, sizeof f))
		return -1;

	/* The SysV ABI call the kernel fakes: handler(sig, &info, &uc). */
	static const int call[] = {
		UC_X86_REG_RDI, UC_X86_REG_RSI, UC_X86_REG_RDX, UC_X86_REG_RAX,
		UC_X86_REG_RSP, UC_X86_REG_RIP, UC_X86_REG_EFLAGS,
	};
	const uint64_t cv[] = {
		(uint64_t)ctx->sig, frame + RT_INFO, frame + RT_UC,
		0,		/* RAX: no vector registers in the call */
		frame, act->handler,
		/* eflags (the last word of sc_regs): the handler starts with DF
		 * and TF clear, as the ABI wants */
		v[SC_NREGS - 1] & ~0x500ull,
	};
	machine_set_regs(mc, call, cv, sizeof call / sizeof call[0]);
	return 0;
}

static int amd64_restore_rt_frame(struct machine *mc, uint64_t *mask, int pc_only)
{
	/* The handler's `ret` popped pretcode: the frame is one word below. */
	static const int now[2] = { UC_X86_REG_RSP, UC_X86_REG_EFLAGS };
	uint64_t cur[2] = { 0 };
	machine_regs(mc, now, cur, pc_only ? 1 : 2);	/* pc_only: SP finds the frame, that is all */
	uint64_t frame = cur[0] - 8, eflags = cur[1];
	uint8_t uc[UC_SIGMASK + 8];
	if (machine_copy_in(mc, frame + RT_UC, uc, sizeof uc))
		return -1;
	const uint8_t *sc = uc + UC_MCONTEXT;
	/* The FPU state the frame points at (NULL: none, left as it is),
	 * read before any register is written: a refused frame changes
	 * nothing, and its fault's stop is not lost to a PC write. */
	uint64_t fp;
	uint8_t fx[FXSAVE_SIZE];
	memcpy(&fp, sc + SC_FPSTATE, 8);
	if (fp && (pc_only ? machine_can_read(mc, fp, sizeof fx) : machine_copy_in(mc, fp, fx, sizeof fx)))
		return -1;	/* pc_only takes no FPU state, but refuses the same frames */
	uint64_t v[SC_NREGS];
	memcpy(v, sc, sizeof v);
	for (unsigned i = 0; i < SC_NREGS; i++)
		if (sc_regs[i] == UC_X86_REG_EFLAGS)
			v[i] = (eflags & ~(uint64_t)FIX_EFLAGS) | (v[i] & FIX_EFLAGS);
	/* CS and SS stay the flat user segments; FS/GS selectors are not
	 * restored by 64-bit sigreturn (their bases are the thread's). */
	memcpy(mask, uc + UC_SIGMASK, 8);
	/* The syscall hook runs with RIP at `syscall`, and Unicorn adds its
	 * size afterwards (syscall_pc_past 0): RIP is written less that. */
	v[SC_RIP] -= mc->ops->syscall_insn_size;
	if (pc_only) {
		machine_set_reg(mc, UC_X86_REG_RIP, v[SC_RIP]);
		return 0;
	}
	machine_set_regs(mc, sc_regs, v, SC_NREGS);
	if (fp)
		x86_fxrstor(mc, fx, FX_NXMM);
	return 0;
}

/* asm/unistd_64.h, sorted by number. */
static const struct sysent amd64_syscalls[] = {
	{ 0, "read", sys_read },
	{ 1, "write", sys_write },
	{ 2, "open", sys_open },
	{ 3, "close", sys_close },
	{ 5, "fstat", NULL },
	{ 9, "mmap", sys_mmap },
	{ 10, "mprotect", sys_mprotect },
	{ 11, "munmap", sys_munmap },
	{ 12, "brk", sys_brk },
	{ 13, "rt_sigaction", sys_rt_sigaction },
	{ 14, "rt_sigprocmask", sys_rt_sigprocmask },
	{ 15, "rt_sigreturn", sys_rt_sigreturn },
	{ 16, "ioctl", NULL },
	{ 17, "pread64", sys_pread64 },
	{ 20, "writev", NULL },
	{ 24, "sched_yield", sys_sched_yield },
	{ 27, "mincore", sys_mincore },
	{ 28, "madvise", sys_madvise },
	{ 35, "nanosleep", sys_nanosleep },
	{ 36, "getitimer", NULL },
	{ 38, "setitimer", sys_setitimer },
	{ 39, "getpid", sys_getpid },
	{ 56, "clone", sys_clone },
	{ 60, "exit", sys_exit },
	{ 62, "kill", sys_kill },
	{ 63, "uname", sys_uname },
	{ 72, "fcntl", sys_fcntl },
	{ 89, "readlink", NULL },
	{ 96, "gettimeofday", sys_gettimeofday },
	{ 97, "getrlimit", sys_getrlimit },
	{ 131, "sigaltstack", sys_sigaltstack },
	{ 157, "prctl", NULL },
	{ 158, "arch_prctl", sys_arch_prctl },
	{ 160, "setrlimit", NULL },
	{ 186, "gettid", sys_gettid },
	{ 200, "tkill", sys_tkill },
	{ 201, "time", NULL },
	{ 202, "futex", sys_futex },
	{ 204, "sched_getaffinity", sys_sched_getaffinity },
	{ 205, "set_thread_area", NULL },
	{ 213, "epoll_create", sys_epoll_create },
	{ 218, "set_tid_address", sys_set_tid_address },
	{ 222, "timer_create", sys_timer_create },
	{ 223, "timer_settime", sys_timer_settime },
	{ 226, "timer_delete", sys_timer_delete },
	{ 228, "clock_gettime", sys_clock_gettime },
	{ 229, "clock_getres", NULL },
	{ 230, "clock_nanosleep", NULL },
	{ 231, "exit_group", sys_exit_group },
	{ 232, "epoll_wait", sys_epoll_wait },
	{ 233, "epoll_ctl", sys_epoll_ctl },
	{ 234, "tgkill", sys_tgkill },
	{ 257, "openat", sys_openat },
	{ 281, "epoll_pwait", sys_epoll_pwait },
	{ 291, "epoll_create1", sys_epoll_create1 },
	{ 293, "pipe2", sys_pipe2 },
	{ 302, "prlimit64", sys_prlimit64 },
	{ 318, "getrandom", sys_getrandom },
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
static enum sp_write amd64_sp_write(const cs_insn *insn, const cs_insn *next, int at_entry, long *spadj)
{
	const cs_x86 *x = &insn->detail->x86;
	switch (insn->id) {
	case X86_INS_PUSH: case X86_INS_PUSHF: case X86_INS_PUSHFD: case X86_INS_PUSHFQ:
		*spadj = 8;
		return SP_TRACKED;
	case X86_INS_POP: case X86_INS_POPF: case X86_INS_POPFD: case X86_INS_POPFQ:
		*spadj = -8;
		return SP_TRACKED;
	case X86_INS_CMP:
		return SP_NONE;
	}
	int writes_sp = 0;
	for (uint8_t i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_REG && x->operands[i].reg == X86_REG_RSP &&
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
static int amd64_ends_block(const cs_insn *insn)
{
	return insn->id == X86_INS_RET || insn->id == X86_INS_JMP || insn->id == X86_INS_LJMP;
}

const struct arch_ops arch_amd64_ops = {
	.name = "amd64",
	.uc_arch = UC_ARCH_X86,
	.uc_mode = UC_MODE_64,
	.uc_cpu = -1,
	.cs_arch = CS_ARCH_X86,
	.cs_mode = CS_MODE_64,
	.sp_write = amd64_sp_write,
	.ends_block = amd64_ends_block,
	.pcsp_rule = "x86 (cmd/internal/obj/x86/obj6.go): only PUSH/POP and the frame's own prologue SUB / epilogue ADD before RET move pcsp",
	.elf_class = ELFCLASS64,
	.elf_machine = EM_X86_64,
	.word_size = 8,
	.pc_quantum = 1,
	.reg_pc = UC_X86_REG_RIP,
	.reg_sp = UC_X86_REG_RSP,
	.reg_lr = -1,
	.reg_ret = UC_X86_REG_RAX,
	.reg_sysno = UC_X86_REG_RAX,
	.reg_arg = { UC_X86_REG_RDI, UC_X86_REG_RSI, UC_X86_REG_RDX,
		     UC_X86_REG_R10, UC_X86_REG_R8, UC_X86_REG_R9 },
	/* g is in memory at -8(FS); from Go 1.17 on R14 holds it too, and the
	 * callers keep it there for every variant: a call must give it back. */
	.reg_g = UC_X86_REG_R14,
	.syscall_entry = SYSCALL_BY_INSN,
	.syscall_insn = UC_X86_INS_SYSCALL,
	.syscall_insn_size = 2,	/* 0f 05 */
	.syscall_pc_past = 0,
	/* A 47-bit user address space, as with 4-level page tables. */
	.stack_top = 0x7ffffffff000ull,
	.mmap_base = 0x7f0000000000ull,
	.mmap_end = 0x7ff000000000ull,
	.vdso_base = 0x7ffff7fc1000ull,
	.vdso_base_alt = 0x10000000ull,	/* 256 MiB: above the text at 4 MiB, in the low 4 GiB */
	.address_limit = 0x800000000000ull,
	.syscalls = amd64_syscalls,
	.nsyscalls = sizeof amd64_syscalls / sizeof amd64_syscalls[0],
	.init_cpu = amd64_init_cpu,
	.after_syscall = amd64_after_syscall,
	.red_zone = 128,
	.setup_rt_frame = amd64_setup_rt_frame,
	.restore_rt_frame = amd64_restore_rt_frame,
	/* ABIInternal: add(p AX, tagPtr BX, stk.ptr CX, stk.len DI, stk.cap SI) */
	.go_stk_reg_ptr = UC_X86_REG_RCX,
	.go_stk_reg_len = UC_X86_REG_RDI,
	.epoll_data_offset = 4,
	.uname_machine = "x86_64",
	.hwcap = CPUID1_EDX,	/* Linux x86's AT_HWCAP: CPUID.1:EDX */
	.clone_tls_arg = 4,
	.clone_set_tls = amd64_clone_set_tls,
	.install_cpu_hooks = amd64_install_cpu_hooks,
	.pin_timestamp_counter = x86_pin_timestamp_counter,
	.qemu_user = "qemu-x86_64",
	/* A 64-bit x86 host runs it as it is, with the kernel's vDSO. */
	.host_machines = "x86_64",
	.go_walltime = "time.now",
};
