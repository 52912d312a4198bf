/*
 * amd64 for the harness: Unicorn's x86-64 mode, the `syscall` instruction
 * (RAX = number, RDI RSI RDX R10 R8 R9 = arguments, as the kernel's
 * entry_SYSCALL_64 takes them), FS_BASE for arch_prctl(ARCH_SET_FS).
 */
#include <elf.h>
#include <errno.h>

#include "../../harness/arch_ops.h"
#include "../../harness/machine.h"
#include "../../harness/syscalls.h"

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
	machine_set_reg(mc, UC_X86_REG_RCX, machine_reg(mc, UC_X86_REG_RIP) + 2);
	machine_set_reg(mc, UC_X86_REG_R11, machine_reg(mc, UC_X86_REG_EFLAGS));
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

/* asm/unistd_64.h, sorted by number. */
static const struct sysent amd64_syscalls[] = {
	{ 0, "read", NULL },
	{ 1, "write", sys_write },
	{ 2, "open", NULL },
	{ 3, "close", NULL },
	{ 5, "fstat", NULL },
	{ 9, "mmap", sys_mmap },
	{ 10, "mprotect", sys_mprotect },
	{ 11, "munmap", sys_munmap },
	{ 12, "brk", NULL },
	{ 13, "rt_sigaction", sys_rt_sigaction },
	{ 14, "rt_sigprocmask", sys_rt_sigprocmask },
	{ 15, "rt_sigreturn", NULL },
	{ 16, "ioctl", NULL },
	{ 20, "writev", NULL },
	{ 24, "sched_yield", NULL },
	{ 28, "madvise", NULL },
	{ 35, "nanosleep", NULL },
	{ 36, "getitimer", NULL },
	{ 38, "setitimer", NULL },
	{ 39, "getpid", sys_getpid },
	{ 56, "clone", NULL },
	{ 60, "exit", NULL },
	{ 62, "kill", sys_kill },
	{ 63, "uname", NULL },
	{ 89, "readlink", NULL },
	{ 96, "gettimeofday", sys_gettimeofday },
	{ 131, "sigaltstack", sys_sigaltstack },
	{ 157, "prctl", NULL },
	{ 158, "arch_prctl", sys_arch_prctl },
	{ 186, "gettid", NULL },
	{ 201, "time", NULL },
	{ 202, "futex", NULL },
	{ 205, "set_thread_area", NULL },
	{ 218, "set_tid_address", NULL },
	{ 228, "clock_gettime", sys_clock_gettime },
	{ 229, "clock_getres", NULL },
	{ 230, "clock_nanosleep", NULL },
	{ 231, "exit_group", sys_exit_group },
	{ 234, "tgkill", sys_tgkill },
	{ 257, "openat", NULL },
	{ 318, "getrandom", NULL },
};

const struct arch_ops arch_amd64_ops = {
	.name = "amd64",
	.uc_arch = UC_ARCH_X86,
	.uc_mode = UC_MODE_64,
	.uc_cpu = -1,
	.cs_arch = CS_ARCH_X86,
	.cs_mode = CS_MODE_64,
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
	.reg_g = -1,	/* g is in memory at -8(FS); R14 is only Go 1.17's copy */
	.syscall_entry = SYSCALL_BY_INSN,
	.syscall_insn = UC_X86_INS_SYSCALL,
	.syscall_insn_size = 2,	/* 0f 05 */
	.syscall_pc_past = 0,
	/* A 47-bit user address space, as with 4-level page tables. */
	.stack_top = 0x7ffffffff000ull,
	.mmap_base = 0x7f0000000000ull,
	.mmap_end = 0x7ff000000000ull,
	.vdso_base = 0x7ffff7fc1000ull,
	.address_limit = 0x800000000000ull,
	.syscalls = amd64_syscalls,
	.nsyscalls = sizeof amd64_syscalls / sizeof amd64_syscalls[0],
	.init_cpu = amd64_init_cpu,
	.after_syscall = amd64_after_syscall,
};
