/*
 * arm for the harness: Unicorn's A32 mode, EABI `svc 0` (R7 = number,
 * R0-R5 = arguments, R0 = result), user mode, g in R10.
 */
#include <elf.h>
#include <stdint.h>
#include <string.h>

#include "arch_ops.h"
#include "machine.h"
#include "syscalls.h"
#include "threads.h"

#define CPSR_MODE_USR 0x10	/* and T = 0: ARM state, as the entry point's low bit says */
#define FPEXC_EN (1u << 30)
#define CPACR_CP10_CP11_FULL (0xfu << 20)
#define EXCP_SWI 2		/* Unicorn's interrupt number for SVC */

static int arm_init_cpu(struct machine *mc)
{
	/* Unicorn starts in a privileged mode.  SP is banked per mode, so
	 * the mode goes first: the SP set afterwards is the user SP. */
	machine_set_reg(mc, UC_ARM_REG_CPSR, CPSR_MODE_USR);
	/* Linux enables VFP for every process; the hard-float guest may use
	 * it (a system-mode CPU starts with it off). */
	machine_set_reg(mc, UC_ARM_REG_C1_C0_2, CPACR_CP10_CP11_FULL);
	machine_set_reg(mc, UC_ARM_REG_FPEXC, FPEXC_EN);
	for (int r = UC_ARM_REG_R0; r <= UC_ARM_REG_R12; r++)
		machine_set_reg(mc, r, 0);
	machine_set_reg(mc, UC_ARM_REG_LR, 0);
	return 0;
}

/* --- Signal frames ----------------------------------------------------------- */

/*
 * struct rt_sigframe (arch/arm/kernel/signal.h): struct siginfo info 0,
 * then struct sigframe { struct ucontext uc 128; retcode[4] 872 }, with
 * ucontext = uc_flags 0, uc_link 4, uc_stack 8 (ss_sp, ss_flags,
 * ss_size), uc_mcontext 20 (struct sigcontext, 21 words; arch.h has the
 * same offsets), uc_sigmask 104 (a 128-byte sigset_t), uc_regspace 232
 * (512 bytes), which holds the VFP registers (struct vfp_sigframe)
 * and a zero magic after them.
 */
#define RT_UC		128
#define RT_SIZE		888
#define UC_STACK	8
#define UC_MCONTEXT	20
#define UC_SIGMASK	104
#define SC_OLDMASK	8
#define SC_R0		12	/* r0..r12, sp, lr, pc, cpsr follow word by word */
#define CPSR_T		(1u << 5)
/* What sigreturn takes from the frame's CPSR: the condition flags (NZCVQ)
 * and GE; mode, interrupt masks and state stay the process's. */
#define CPSR_USER_FLAGS	0xf80f0000u

/* The sigcontext's registers in its order; one Unicorn call reads or
 * writes them all (this runs at every probed boundary). */
static const int sc_regs[] = {
	UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R4,
	UC_ARM_REG_R5, UC_ARM_REG_R6, UC_ARM_REG_R7, UC_ARM_REG_R8, UC_ARM_REG_R9,
	UC_ARM_REG_R10, UC_ARM_REG_R11, UC_ARM_REG_R12,
	UC_ARM_REG_SP, UC_ARM_REG_LR, UC_ARM_REG_PC, UC_ARM_REG_CPSR,
};
#define SC_NREGS 17
#define SC_SP 13		/* SP's place among them */

/* struct vfp_sigframe (asm/ucontext.h): magic, size, d0-d31 at 8, fpscr
 * at 264, then fpexc, fpinst, fpinst2 at 272. */
#define UC_REGSPACE	232
#define VFP_MAGIC	0x56465001u
#define VFP_STORAGE_SIZE 288
static const int vfp_regs[34] = {
	UC_ARM_REG_D0, UC_ARM_REG_D1, UC_ARM_REG_D2, UC_ARM_REG_D3, UC_ARM_REG_D4, UC_ARM_REG_D5,
	UC_ARM_REG_D6, UC_ARM_REG_D7, UC_ARM_REG_D8, UC_ARM_REG_D9, UC_ARM_REG_D10, UC_ARM_REG_D11,
	UC_ARM_REG_D12, UC_ARM_REG_D13, UC_ARM_REG_D14, UC_ARM_REG_D15, UC_ARM_REG_D16, UC_ARM_REG_D17,
	UC_ARM_REG_D18, UC_ARM_REG_D19, UC_ARM_REG_D20, UC_ARM_REG_D21, UC_ARM_REG_D22, UC_ARM_REG_D23,
	UC_ARM_REG_D24, UC_ARM_REG_D25, UC_ARM_REG_D26, UC_ARM_REG_D27, UC_ARM_REG_D28, UC_ARM_REG_D29,
	UC_ARM_REG_D30, UC_ARM_REG_D31, UC_ARM_REG_FPSCR, UC_ARM_REG_FPEXC,
};

static int arm_setup_rt_frame(struct machine *mc, const struct sigaction_rec *act, struct sigframe_ctx *ctx)
{
	uint32_t f[RT_SIZE / 4];
	memset(f, 0, sizeof f);
	uint64_t v[SC_NREGS];
	machine_regs(mc, sc_regs, v, SC_NREGS);
	uint64_t sp = sigframe_sp(ctx, v[SC_SP]);
	uint32_t frame = (uint32_t)((sp - RT_SIZE) & ~7ull);	/* AAPCS: SP 8-aligned at a call */

	f[0] = (uint32_t)ctx->sig;	/* si_signo; si_errno 0 */
	f[2] = ctx->code;		/* si_code */
	uint32_t *uc = f + RT_UC / 4;
	uc[UC_STACK / 4] = (uint32_t)ctx->ss_sp;
	uc[UC_STACK / 4 + 1] = (uint32_t)ctx->ss_flags;
	uc[UC_STACK / 4 + 2] = (uint32_t)ctx->ss_size;
	uint32_t *sc = uc + UC_MCONTEXT / 4;
	sc[SC_OLDMASK / 4] = (uint32_t)ctx->oldmask;
	for (unsigned i = 0; i < SC_NREGS; i++)
		sc[SC_R0 / 4 + i] = (uint32_t)v[i];
	memcpy(&uc[UC_SIGMASK / 4], &ctx->oldmask, 8);
	/* uc_regspace: the VFP block (struct vfp_sigframe), then a zero
	 * magic that ends the list. */
	uint8_t *vfp = (uint8_t *)uc + UC_REGSPACE;
	uint32_t magic = VFP_MAGIC, size = VFP_STORAGE_SIZE;
	memcpy(vfp, &magic, 4);
	memcpy(vfp + 4, &size, 4);
	/* Unicorn directly: D registers are 64-bit on a 32-bit arch
	 * (machine_regs keeps a word). */
	uint64_t d[32 + 2] = { 0 };
	void *dp[34];
	for (int i = 0; i < 34; i++)
		dp[i] = &d[i];
	uc_reg_read_batch(mc->uc, (int *)vfp_regs, dp, 34);
	memcpy(vfp + 8, d, 32 * 8);
	uint32_t fpscr = (uint32_t)d[32], fpexc = (uint32_t)d[33];
	memcpy(vfp + 8 + 256, &fpscr, 4);
	memcpy(vfp + 272, &fpexc, 4);
	if (machine_copy_out(mc, frame, f, sizeof f))
		return -1;

	/* handler(sig, &info, &uc) by AAPCS, returning to the restorer, in
	 * one Unicorn call.  Bit 0 of the handler picks Thumb, as for a BX
	 * (CPSR before PC, in this order; cpsr: the last of sc_regs). */
	static const int call[] = {
		UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_SP, UC_ARM_REG_LR, UC_ARM_REG_CPSR, UC_ARM_REG_PC,
	};
	uint64_t cpsr = v[SC_NREGS - 1];
	const uint64_t cv[] = {
		(uint64_t)ctx->sig, frame, frame + RT_UC, frame, act->restorer,
		act->handler & 1 ? cpsr | CPSR_T : cpsr & ~(uint64_t)CPSR_T,
		act->handler & ~1ull,
	};
	machine_set_regs(mc, call, cv, sizeof call / sizeof call[0]);
	return 0;
}

/* The VFP block of the frame's regspace into d (d0-d31, fpscr): 1 if
 * there is one, 0 if the list is empty (the registers stay as they are),
 * -1 if Linux would refuse it (unreadable, a bad size). */
static int read_vfp_block(struct machine *mc, uint64_t frame, uint64_t d[33])
{
	uint8_t vfp[VFP_STORAGE_SIZE];
	uint32_t magic, size, fpscr;
	if (machine_copy_in(mc, frame + RT_UC + UC_REGSPACE, vfp, sizeof vfp))
		return -1;
	memcpy(&magic, vfp, 4);
	memcpy(&size, vfp + 4, 4);
	if (magic != VFP_MAGIC)
		return 0;
	if (size != VFP_STORAGE_SIZE)
		return -1;
	memcpy(d, vfp + 8, 32 * 8);
	memcpy(&fpscr, vfp + 8 + 256, 4);
	d[32] = fpscr;
	return 1;
}

static int arm_restore_rt_frame(struct machine *mc, uint64_t *mask, int pc_only)
{
	/* The restorer is reached by LR, SP untouched: the frame is at SP.
	 * Linux refuses a misaligned one. */
	static const int now[2] = { UC_ARM_REG_SP, UC_ARM_REG_CPSR };
	uint64_t cur[2] = { 0 };
	machine_regs(mc, now, cur, pc_only ? 1 : 2);	/* pc_only: SP finds the frame, that is all */
	uint64_t frame = cur[0], cpsr = cur[1];
	uint32_t uc[(UC_SIGMASK + 8) / 4];
	if (frame & 7 || machine_copy_in(mc, frame + RT_UC, uc, sizeof uc))
		return -1;
	/* Everything read before any register is written: a refused frame
	 * changes nothing, and its fault's stop is not lost to a PC write. */
	uint64_t d[33];
	int vfp = read_vfp_block(mc, frame, d);
	if (vfp < 0)
		return -1;
	const uint32_t *sc = uc + UC_MCONTEXT / 4;
	uint32_t scpsr = sc[SC_R0 / 4 + 16];
	/* CPSR first, then r0..pc, in one Unicorn call.  (Unicorn's PC
	 * write takes the Thumb state from the value's bit 0, which a
	 * frame's PC does not carry: code resumes in ARM state.) */
	static const int back[SC_NREGS] = {
		UC_ARM_REG_CPSR,
		UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3, UC_ARM_REG_R4,
		UC_ARM_REG_R5, UC_ARM_REG_R6, UC_ARM_REG_R7, UC_ARM_REG_R8, UC_ARM_REG_R9,
		UC_ARM_REG_R10, UC_ARM_REG_R11, UC_ARM_REG_R12,
		UC_ARM_REG_SP, UC_ARM_REG_LR, UC_ARM_REG_PC,
	};
	uint64_t v[SC_NREGS];
	v[0] = (cpsr & ~(uint64_t)(CPSR_USER_FLAGS | CPSR_T)) | (scpsr & (CPSR_USER_FLAGS | CPSR_T));
	for (unsigned i = 0; i < SC_NREGS - 1; i++)
		v[1 + i] = sc[SC_R0 / 4 + i];
	memcpy(mask, &uc[UC_SIGMASK / 4], 8);
	if (pc_only) {
		machine_set_reg(mc, UC_ARM_REG_PC, v[SC_NREGS - 1]);
		return 0;
	}
	machine_set_regs(mc, back, v, SC_NREGS);
	if (vfp)
		machine_set_regs(mc, vfp_regs, d, 33);
	return 0;
}

/* --- What a Linux process has besides ------------------------------------------ */

/*
 * The kernel's sigpage (arch/arm/kernel/sigreturn_codes.S): a handler
 * installed without SA_RESTORER (Go's) returns through it.  Slots of 12
 * bytes: ARM sigreturn at 0, Thumb sigreturn at 8, ARM rt_sigreturn at
 * 12, Thumb rt_sigreturn at 20.  Linux places it at a random address;
 * here it is the page above the stack, below TASK_SIZE.
 */
static const uint8_t arm_sigpage[] = {
	0x77, 0x70, 0xa0, 0xe3,	/* mov r7, #119 (sigreturn) */
	0x00, 0x00, 0x00, 0xef,	/* svc 0 */
	0x77, 0x27, 0x00, 0xdf,	/* movs r7, #119; svc 0 (Thumb) */
	0xad, 0x70, 0xa0, 0xe3,	/* mov r7, #173 (rt_sigreturn) */
	0x00, 0x00, 0x00, 0xef,	/* svc 0 */
	0xad, 0x27, 0x00, 0xdf,	/* movs r7, #173; svc 0 (Thumb) */
};

/* CLONE_SETTLS: the child's TLS register (TPIDRURO, what set_tls sets). */
static int arm_clone_set_tls(struct machine *mc, uint64_t tls)
{
	machine_set_reg(mc, UC_ARM_REG_C13_C0_3, tls);
	return 0;
}

/* HWCAP_SWP HALF THUMB FAST_MULT VFP EDSP NEON VFPv3 TLS VFPv4 IDIVA
 * IDIVT VFPD32 LPAE: a Cortex-A15's, as Go's checkgoarm reads it. */
#define ARM_HWCAP 0x1fb0d7u

/* asm/unistd-eabi.h (and __ARM_NR_cacheflush), sorted by number. */
static const struct sysent arm_syscalls[] = {
	{ 1, "exit", sys_exit },
	{ 3, "read", sys_read },
	{ 4, "write", sys_write },
	{ 5, "open", sys_open },
	{ 6, "close", sys_close },
	{ 20, "getpid", sys_getpid },
	{ 37, "kill", sys_kill },
	{ 45, "brk", sys_brk },
	{ 54, "ioctl", NULL },
	{ 55, "fcntl", sys_fcntl },
	{ 78, "gettimeofday", sys_gettimeofday },
	{ 85, "readlink", NULL },
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
	{ 219, "mincore", sys_mincore },
	{ 220, "madvise", sys_madvise },
	{ 221, "fcntl64", sys_fcntl },
	{ 224, "gettid", sys_gettid },
	{ 238, "tkill", sys_tkill },
	{ 240, "futex", sys_futex },
	{ 242, "sched_getaffinity", sys_sched_getaffinity },
	{ 248, "exit_group", sys_exit_group },
	{ 250, "epoll_create", sys_epoll_create },
	{ 251, "epoll_ctl", sys_epoll_ctl },
	{ 252, "epoll_wait", sys_epoll_wait },
	{ 256, "set_tid_address", sys_set_tid_address },
	{ 257, "timer_create", sys_timer_create },
	{ 258, "timer_settime", sys_timer_settime },
	{ 261, "timer_delete", sys_timer_delete },
	{ 263, "clock_gettime", sys_clock_gettime },
	{ 264, "clock_getres", NULL },
	{ 265, "clock_nanosleep", NULL },
	{ 268, "tgkill", sys_tgkill },
	{ 322, "openat", sys_openat },
	{ 346, "epoll_pwait", sys_epoll_pwait },
	{ 357, "epoll_create1", sys_epoll_create1 },
	{ 359, "pipe2", sys_pipe2 },
	{ 369, "prlimit64", sys_prlimit64 },
	{ 384, "getrandom", sys_getrandom },
	{ 0x0f0002, "cacheflush", sys_cacheflush },
	{ 0x0f0005, "set_tls", NULL },
};

/*
 * Go's rule (cmd/internal/obj/arm/obj5.go, preprocess): ADD/SUB $c, R13,
 * MOVW.W Rx, -c(R13) (str with pre-index writeback) and MOVW.P c(R13), Rx
 * (ldr with post-index writeback, the RET MOVW.P c(R13), R15 included)
 * set Spadj and move pcsp; any other instruction whose destination
 * register is R13 sets FuncFlag_SPWRITE (MOVW Rx, R13, BIC $7, R13,
 * MOVW off(Rx), R13).  Go never emits a multi-register push/pop on R13
 * (its MOVM has no Spadj and no R13 destination): neither here.
 */
static enum sp_write arm_sp_write(const cs_insn *insn, const cs_insn *next, int at_entry, long *spadj)
{
	const cs_arm *a = &insn->detail->arm;
	(void)next;
	(void)at_entry;
	switch (insn->id) {
	case ARM_INS_PUSH: case ARM_INS_POP:
		/* capstone's names for str rX, [sp, #-4]! / ldr rX, [sp], #4 */
		if (a->op_count != 1)
			return SP_NONE;
		*spadj = insn->id == ARM_INS_PUSH ? 4 : -4;
		return SP_TRACKED;
	case ARM_INS_STR: case ARM_INS_LDR:
		if (a->writeback && a->op_count >= 2 && a->operands[1].type == ARM_OP_MEM &&
		    a->operands[1].mem.base == ARM_REG_SP) {
			if (a->op_count == 3 && a->operands[2].type == ARM_OP_IMM)	/* post-index: [sp], #c */
				*spadj = a->operands[2].subtracted ? a->operands[2].imm : -(long)a->operands[2].imm;
			else	/* pre-index: [sp, #-c]! */
				*spadj = -(long)a->operands[1].mem.disp;
			return SP_TRACKED;
		}
		break;
	}
	if (a->op_count < 1 || a->operands[0].type != ARM_OP_REG || a->operands[0].reg != ARM_REG_SP ||
	    !(a->operands[0].access & CS_AC_WRITE))
		return SP_NONE;
	if ((insn->id == ARM_INS_ADD || insn->id == ARM_INS_SUB) && a->op_count == 3 &&
	    a->operands[1].type == ARM_OP_REG && a->operands[1].reg == ARM_REG_SP &&
	    a->operands[2].type == ARM_OP_IMM) {
		*spadj = insn->id == ARM_INS_SUB ? a->operands[2].imm : -(long)a->operands[2].imm;
		return SP_TRACKED;
	}
	return SP_UNTRACKED;
}

/* An unconditional branch, or a write of the PC (ldr pc / pop {pc} / bx). */
static int arm_ends_block(const cs_insn *insn)
{
	const cs_arm *a = &insn->detail->arm;
	if (a->cc != ARM_CC_AL && a->cc != ARM_CC_INVALID)
		return 0;
	if (insn->id == ARM_INS_B || insn->id == ARM_INS_BX)
		return 1;
	for (uint8_t i = 0; i < a->op_count; i++)
		if (a->operands[i].type == ARM_OP_REG && a->operands[i].reg == ARM_REG_PC &&
		    (a->operands[i].access & CS_AC_WRITE))
			return 1;
	return insn->id == ARM_INS_POP && a->op_count >= 1 && a->operands[a->op_count - 1].reg == ARM_REG_PC;
}

const struct arch_ops arch_arm_ops = {
	.name = "arm",
	.uc_arch = UC_ARCH_ARM,
	.uc_mode = UC_MODE_ARM,
	.uc_cpu = UC_CPU_ARM_CORTEX_A15,	/* ARMv7-A with VFPv4/NEON, as armhf assumes */
	/* ARMv7-A's VMSA has no 1 KB tiny pages, and QEMU gives a v7 CPU 4 KB
	 * pages; Unicorn 2.0.1 leaves every arm CPU at 1 KB, where the
	 * handler's loops branch across page boundaries. */
	.uc_page_size = 4096,
	.cs_arch = CS_ARCH_ARM,
	.cs_mode = CS_MODE_ARM,
	.sp_write = arm_sp_write,
	.ends_block = arm_ends_block,
	.pcsp_rule = "arm (cmd/internal/obj/arm/obj5.go): ADD/SUB $c, R13 and MOVW.W/MOVW.P on R13 move pcsp, no other write of R13 does",
	.elf_class = ELFCLASS32,
	.elf_machine = EM_ARM,
	.word_size = 4,
	.pc_quantum = 4,
	.reg_pc = UC_ARM_REG_PC,
	.reg_sp = UC_ARM_REG_SP,
	.reg_lr = UC_ARM_REG_LR,
	.reg_ret = UC_ARM_REG_R0,
	.reg_sysno = UC_ARM_REG_R7,
	.reg_arg = { UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2,
		     UC_ARM_REG_R3, UC_ARM_REG_R4, UC_ARM_REG_R5 },
	.reg_g = UC_ARM_REG_R10,
	.syscall_entry = SYSCALL_BY_INTR,
	.syscall_intno = EXCP_SWI,
	.syscall_insn_size = 4,
	.syscall_pc_past = 1,
	/* TASK_SIZE of a 3G/1G arm kernel is 0xbf000000. */
	.stack_top = 0xbefff000u,
	.mmap_base = 0x70000000u,
	.mmap_end = 0xa0000000u,
	.vdso_base = 0xb6fff000u,
	.vdso_base_alt = 0x10000000u,	/* 256 MiB: above the text at 4 MiB, below the mmap arena */
	.address_limit = 0xbf000000u,
	.syscalls = arm_syscalls,
	.nsyscalls = sizeof arm_syscalls / sizeof arm_syscalls[0],
	.init_cpu = arm_init_cpu,
	.after_syscall = NULL,
	.red_zone = 0,
	.setup_rt_frame = arm_setup_rt_frame,
	.restore_rt_frame = arm_restore_rt_frame,
	/* ABI0 on the stack: p +4, tagPtr +8, stk.ptr +12, stk.len +16 */
	.go_stk_reg_ptr = -1,
	.go_stk_reg_len = -1,
	.go_stk_stack_off = 12,
	.epoll_data_offset = 8,
	.uname_machine = "armv7l",
	.hwcap = ARM_HWCAP,
	.clone_tls_arg = 3,
	.clone_set_tls = arm_clone_set_tls,
	.sigpage_addr = 0xbefff000u,
	.sigpage_code = arm_sigpage,
	.sigpage_size = sizeof arm_sigpage,
	.sigpage_rt_offset = 12,
	.qemu_user = "qemu-arm",
	/* An arm kernel runs it, an arm64 one if built with 32-bit compat
	 * on a CPU with AArch32: tried, not assumed (harness/native/host.c). */
	.host_machines = "armv7l armv8l aarch64",
	.go_walltime = "walltime",
};
