#include "syscalls.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "threads.h"
#include "vvar.h"

#define PAGE GUEST_PAGE
#define PAGE_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))

/* Linux's uapi values: the same on amd64, 386 and arm. */
#define L_PROT_READ 1
#define L_PROT_WRITE 2
#define L_PROT_EXEC 4
#define L_MAP_SHARED 0x01
#define L_MAP_PRIVATE 0x02
#define L_MAP_FIXED 0x10
#define L_MAP_ANONYMOUS 0x20
#define L_SIG_BLOCK 0
#define L_SIG_UNBLOCK 1
#define L_SIG_SETMASK 2
#define L_SIGKILL 9
#define L_SIGSTOP 19
#define L_SS_ONSTACK 1
#define L_SS_DISABLE 2
#define L_MINSIGSTKSZ 2048

static uint64_t word_mask(const struct machine *mc)
{
	return mc->ops->word_size == 8 ? ~0ull : 0xffffffffull;
}

/* --- The state ------------------------------------------------------------ */

/* Process-wide, not per state: a state put back whole to an older copy
 * goes back to that copy's version, and the versions it takes after
 * must still be new. */
static void tables_changed(struct sys_state *s)
{
	static _Atomic uint64_t last;
	s->tables_version = atomic_fetch_add(&last, 1) + 1;
}

void sys_state_copy(struct sys_state *to, const struct sys_state *from)
{
	const size_t tables = offsetof(struct sys_state, tables_version);
	memcpy(to, from, tables);
	if (to->tables_version != from->tables_version)
		memcpy((char *)to + tables, (const char *)from + tables, sizeof *to - tables);
}

/* --- The clock ------------------------------------------------------------- */

void sys_clock_now(const struct sys_state *s, int monotonic, int64_t *sec, int64_t *nsec)
{
	int64_t ns = (int64_t)s->clock_ticks * CLOCK_STEP_NS + (int64_t)s->slept_ns;
	*sec = (monotonic ? CLOCK_MONOTONIC_ORIGIN_SEC : CLOCK_REALTIME_ORIGIN_SEC) + ns / 1000000000;
	*nsec = ns % 1000000000;
}

/*
 * What the kernel's timekeeper does: bump seq to odd, write the time,
 * bump seq to even.  The guest never runs between the steps here, but a
 * vDSO reading the page sees the same protocol it would on Linux.
 */
void syscalls_publish_time(struct machine *mc)
{
	struct sys_state *s = mc->sys;
	struct vvar v;
	if (!s->vvar_addr || machine_read(mc, s->vvar_addr, &v, sizeof v))
		return;
	v.seq = ++s->vvar_seq;
	machine_write(mc, s->vvar_addr + VVAR_seq, &v.seq, sizeof v.seq);
	int64_t sec, nsec;
	sys_clock_now(s, 0, &sec, &nsec);
	v.realtime_sec = sec, v.realtime_nsec = nsec;
	sys_clock_now(s, 1, &sec, &nsec);
	v.mono_sec = sec, v.mono_nsec = nsec;
	v.seq = ++s->vvar_seq;
	/* Knobs are the guest's (or a later layer's) to set: kept as read. */
	machine_write(mc, s->vvar_addr, &v, sizeof v);
}

static void clock_advance(struct machine *mc)
{
	mc->sys->clock_ticks++;
	syscalls_publish_time(mc);
}

/* --- Guest memory on the kernel's behalf ----------------------------------- */

static int put_words(struct machine *mc, uint64_t addr, const uint64_t *w, unsigned n)
{
	uint8_t buf[8 * 8];
	unsigned ws = mc->ops->word_size;
	for (unsigned i = 0; i < n; i++)
		memcpy(buf + i * ws, &w[i], ws);	/* little-endian: low bytes first */
	return machine_copy_out(mc, addr, buf, n * ws);
}

static int get_words(struct machine *mc, uint64_t addr, uint64_t *w, unsigned n)
{
	uint8_t buf[8 * 8];
	unsigned ws = mc->ops->word_size;
	if (machine_copy_in(mc, addr, buf, n * ws))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		w[i] = 0;
		memcpy(&w[i], buf + i * ws, ws);
	}
	return 0;
}

/* --- Handlers ---------------------------------------------------------------- */

int64_t sys_write(struct machine *mc, const uint64_t a[6])
{
	int fd = (int)a[0];
	uint64_t addr = a[1], len = a[2];
	if (fd != 1 && fd != 2)
		return sys_linux_pipe_write(mc, a[0], addr, len);
	if (len > (1u << 20))
		len = 1u << 20;		/* a short write, as for a pipe */
	char *buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	if (machine_copy_in(mc, addr, buf, len)) {
		free(buf);
		return -EFAULT;
	}
	machine_capture(mc, fd, buf, len);
	free(buf);
	return (int64_t)len;
}

int64_t sys_exit_group(struct machine *mc, const uint64_t a[6])
{
	mc->exited = 1;
	mc->exit_status = (int)(a[0] & 0xff);
	machine_stop(mc);
	return 0;
}

static uint32_t uc_perms(uint64_t prot)
{
	return (prot & L_PROT_READ ? UC_PROT_READ : 0) | (prot & L_PROT_WRITE ? UC_PROT_WRITE : 0) |
	       (prot & L_PROT_EXEC ? UC_PROT_EXEC : 0);
}

/* Is all of [begin, end) mapped by anonymous mmap regions? */
static int all_anonymous(const struct machine *mc, uint64_t begin, uint64_t end)
{
	for (uint64_t p = begin; p < end;) {
		const struct region *r = machine_region(mc, p);
		if (!r || r->kind != REGION_MMAP)
			return 0;
		p = r->end;
	}
	return 1;
}

/*
 * Anonymous private mappings only.  Without MAP_FIXED a free hint is
 * taken; else the next free range of a fixed arena is used, so the same
 * run gets the same addresses every time.  (mmap2's page offset and
 * mmap's byte offset agree at 0, the only offset an anonymous map uses.)
 */
int64_t sys_mmap(struct machine *mc, const uint64_t a[6])
{
	uint64_t addr = a[0], len = a[1], prot = a[2], flags = a[3];
	if (!(flags & L_MAP_ANONYMOUS))
		return -ENODEV;		/* no files in this process */
	if ((flags & (L_MAP_SHARED | L_MAP_PRIVATE)) == 0 || len == 0 || prot & ~7ull)
		return -EINVAL;
	len = PAGE_UP(len);
	if (len == 0 || len > mc->ops->address_limit)
		return -ENOMEM;

	if (flags & L_MAP_FIXED) {
		if (addr % PAGE || addr + len > mc->ops->address_limit || addr + len < addr)
			return -EINVAL;
		/* Over anonymous memory only (a runtime committing part of
		 * what it reserved): fresh zero pages with the new protection,
		 * without remapping -- Unicorn 2.0.1 flushes its jump cache
		 * page by page on an unmap, which dominates a Go boot. */
		if (all_anonymous(mc, addr, addr + len)) {
			if (machine_zero(mc, addr, addr + len) ||
			    machine_protect(mc, addr, addr + len, uc_perms(prot)))
				return -ENOMEM;
			return (int64_t)addr;
		}
		if (machine_unmap(mc, addr, addr + len))
			return -ENOMEM;
	} else if (addr && !(addr % PAGE) && addr + len > addr && addr + len <= mc->ops->address_limit &&
		   addr >= PAGE * 16 && machine_range_free(mc, addr, addr + len)) {
		/* A free hint is taken, as Linux takes it (Go's arena hints). */
	} else {
		addr = mc->mmap_next;
		while (addr + len <= mc->ops->mmap_end && !machine_range_free(mc, addr, addr + len))
			addr += PAGE;
		if (addr + len > mc->ops->mmap_end)
			return -ENOMEM;
		mc->mmap_next = addr + len;
	}
	if (machine_map(mc, addr, addr + len, uc_perms(prot), REGION_MMAP, "mmap"))
		return -ENOMEM;
	return (int64_t)addr;
}

int64_t sys_munmap(struct machine *mc, const uint64_t a[6])
{
	uint64_t addr = a[0], len = PAGE_UP(a[1]);
	if (addr % PAGE || len == 0 || addr + len > mc->ops->address_limit || addr + len < addr)
		return -EINVAL;
	return machine_unmap(mc, addr, addr + len) ? -ENOMEM : 0;
}

int64_t sys_mprotect(struct machine *mc, const uint64_t a[6])
{
	uint64_t addr = a[0], len = PAGE_UP(a[1]), prot = a[2];
	if (addr % PAGE || prot & ~7ull)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (addr + len > mc->ops->address_limit || addr + len < addr)
		return -ENOMEM;
	return machine_protect(mc, addr, addr + len, uc_perms(prot)) ? -ENOMEM : 0;
}

/* CLOCK_REALTIME 0, _MONOTONIC 1, _PROCESS/THREAD_CPUTIME 2/3, _MONOTONIC_RAW 4,
 * _REALTIME_COARSE 5, _MONOTONIC_COARSE 6, _BOOTTIME 7: which clock each reads. */
static int clock_is_monotonic(uint64_t id, int *mono)
{
	static const signed char kind[] = { 0, 1, 1, 1, 1, 0, 1, 1 };
	if (id >= sizeof kind)
		return -1;
	*mono = kind[id];
	return 0;
}

int64_t sys_clock_gettime(struct machine *mc, const uint64_t a[6])
{
	int mono;
	if (clock_is_monotonic(a[0] & 0xffffffffu, &mono))
		return -EINVAL;
	clock_advance(mc);
	int64_t sec, nsec;
	sys_clock_now(mc->sys, mono, &sec, &nsec);
	uint64_t ts[2] = { (uint64_t)sec & word_mask(mc), (uint64_t)nsec };
	return put_words(mc, a[1], ts, 2) ? -EFAULT : 0;
}

int64_t sys_gettimeofday(struct machine *mc, const uint64_t a[6])
{
	clock_advance(mc);
	int64_t sec, nsec;
	sys_clock_now(mc->sys, 0, &sec, &nsec);
	uint64_t tv[2] = { (uint64_t)sec & word_mask(mc), (uint64_t)(nsec / 1000) };
	if (a[0] && put_words(mc, a[0], tv, 2))
		return -EFAULT;
	uint32_t tz[2] = { 0, 0 };	/* UTC, no DST */
	if (a[1] && machine_copy_out(mc, a[1], tz, sizeof tz))
		return -EFAULT;
	return 0;
}

/*
 * struct kernel_sigaction is { handler, flags, restorer, mask } in words,
 * with a 64-bit mask, on all three arches (rt_sigaction, sigsetsize 8).
 */
int64_t sys_rt_sigaction(struct machine *mc, const uint64_t a[6])
{
	uint64_t sig = a[0], act = a[1], oact = a[2];
	struct sys_state *s = mc->sys;
	unsigned w = mc->ops->word_size;
	if (a[3] != 8 || sig < 1 || sig > SYS_NSIG)
		return -EINVAL;
	if (act && (sig == L_SIGKILL || sig == L_SIGSTOP))
		return -EINVAL;
	struct sigaction_rec old = s->action[sig], neu;
	if (act) {
		uint64_t v[3];
		if (get_words(mc, act, v, 3) || machine_copy_in(mc, act + 3 * w, &neu.mask, 8))
			return -EFAULT;
		neu.handler = v[0], neu.flags = v[1], neu.restorer = v[2];
		neu.mask &= ~((1ull << (L_SIGKILL - 1)) | (1ull << (L_SIGSTOP - 1)));
	}
	if (oact) {
		uint64_t v[3] = { old.handler, old.flags, old.restorer };
		if (put_words(mc, oact, v, 3) || machine_copy_out(mc, oact + 3 * w, &old.mask, 8))
			return -EFAULT;
	}
	if (act) {
		s->action[sig] = neu;
		tables_changed(s);
	}
	return 0;
}

int64_t sys_rt_sigprocmask(struct machine *mc, const uint64_t a[6])
{
	struct sys_state *s = mc->sys;
	uint64_t how = a[0], set = a[1], oset = a[2], newmask = 0;
	if (a[3] != 8)
		return -EINVAL;
	if (set && how > L_SIG_SETMASK)
		return -EINVAL;
	if (set && machine_copy_in(mc, set, &newmask, 8))
		return -EFAULT;
	uint64_t old = s->sigmask;
	if (oset && machine_copy_out(mc, oset, &old, 8))
		return -EFAULT;
	if (set) {
		if (how == L_SIG_BLOCK)
			s->sigmask |= newmask;
		else if (how == L_SIG_UNBLOCK)
			s->sigmask &= ~newmask;
		else
			s->sigmask = newmask;
		s->sigmask &= ~((1ull << (L_SIGKILL - 1)) | (1ull << (L_SIGSTOP - 1)));
	}
	return 0;
}

/* stack_t: { void *ss_sp; int ss_flags; size_t ss_size; } — words at 0, w, 2w. */
int64_t sys_sigaltstack(struct machine *mc, const uint64_t a[6])
{
	struct sys_state *s = mc->sys;
	uint64_t ss = a[0], oss = a[1], sp = machine_sp(mc);
	int on = s->altstack_flags != L_SS_DISABLE && sp - s->altstack_sp < s->altstack_size;
	uint64_t v[3];
	if (ss) {
		if (get_words(mc, ss, v, 3))
			return -EFAULT;
		int32_t flags = (int32_t)v[1];
		if (on)
			return -EPERM;
		if (flags != 0 && flags != L_SS_DISABLE && flags != L_SS_ONSTACK)
			return -EINVAL;
	}
	if (oss) {
		uint64_t o[3] = { s->altstack_sp, (uint64_t)(on ? L_SS_ONSTACK : s->altstack_flags), s->altstack_size };
		if (put_words(mc, oss, o, 3))
			return -EFAULT;
	}
	if (ss) {
		if ((int32_t)v[1] == L_SS_DISABLE) {
			s->altstack_sp = s->altstack_size = 0;
			s->altstack_flags = L_SS_DISABLE;
		} else {
			if (v[2] < L_MINSIGSTKSZ)
				return -ENOMEM;
			s->altstack_sp = v[0];
			s->altstack_size = v[2];
			s->altstack_flags = 0;
		}
	}
	return 0;
}

/*
 * The frame's ucontext becomes the registers and mask again, edits the
 * handler made included.  Like Linux's, it returns the restored return
 * register and none of the syscall exit's clobbers (the kernel leaves by
 * iret, not sysret).  A frame that cannot be read is the kernel's
 * SIGSEGV: here a fault at the syscall.
 */
int64_t sys_rt_sigreturn(struct machine *mc, const uint64_t a[6])
{
	const struct arch_ops *ops = mc->ops;
	struct sys_state *s = mc->sys;
	uint64_t mask;
	(void)a;
	if (!ops->restore_rt_frame) {
		machine_fault(mc, FAULT_UNSUPPORTED_SYSCALL, machine_pc(mc), 0, machine_reg(mc, ops->reg_sysno));
		return 0;
	}
	/* A refused frame changes no register: the PC read after it is
	 * still the syscall's. */
	if (ops->restore_rt_frame(mc, &mask, mc->sigreturn_pc_only)) {
		machine_fault(mc, FAULT_WRITE_UNMAPPED, machine_pc(mc), machine_sp(mc), 0);
		return 0;
	}
	s->sigmask = mask & ~((1ull << (L_SIGKILL - 1)) | (1ull << (L_SIGSTOP - 1)));
	/* Where PC is still at the syscall instruction, the frame's PC was
	 * written less the size Unicorn adds after the hook. */
	s->sigreturn_pc = machine_pc(mc) + (ops->syscall_pc_past ? 0 : ops->syscall_insn_size);
	s->sigreturns++;
	s->regs_restored = 1;
	s->sigreturn_pending = 1;
	return 0;
}

int64_t sys_getpid(struct machine *mc, const uint64_t a[6])
{
	(void)mc, (void)a;
	return SYS_PID;
}

/* Signals are recorded; a full Linux process (sys_state.deliver_kills)
 * also gets them delivered to the target thread (threads_send); a guest
 * image's are only recorded: delivery is engine_deliver_signal
 * (sigdeliver.c), at a point its caller chooses. */
static int64_t record_kill(struct machine *mc, uint64_t pid, uint64_t sig)
{
	struct sys_state *s = mc->sys;
	if (sig > SYS_NSIG)
		return -EINVAL;
	if ((uint32_t)pid != SYS_PID)
		return -ESRCH;
	if (sig && s->nkills < sizeof s->kills / sizeof s->kills[0]) {
		s->kills[s->nkills++] = (uint32_t)sig;
		tables_changed(s);
	}
	return 0;
}

int64_t sys_kill(struct machine *mc, const uint64_t a[6])
{
	int64_t r = record_kill(mc, a[0], a[1]);
	if (!r && a[1] && mc->sys->deliver_kills)
		threads_send(mc, NULL, (int)a[1]);
	return r;
}

int64_t sys_tgkill(struct machine *mc, const uint64_t a[6])
{
	struct thread *t = threads_find(mc, (uint32_t)a[1]);
	if ((uint32_t)a[0] != SYS_PID || !t)
		return -ESRCH;
	int64_t r = record_kill(mc, a[0], a[2]);
	if (!r && a[2] && mc->sys->deliver_kills)
		threads_send(mc, t, (int)a[2]);
	return r;
}

/* arm's cacheflush(start, end, 0): drop stale translations of patched code. */
int64_t sys_cacheflush(struct machine *mc, const uint64_t a[6])
{
	if (a[1] < a[0])
		return -EINVAL;
	machine_drop_code(mc, a[0], a[1]);
	return 0;
}

/* --- Dispatch ---------------------------------------------------------------- */

const struct sysent *arch_syscall_lookup(const struct arch_ops *ops, uint64_t nr)
{
	size_t lo = 0, hi = ops->nsyscalls;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ops->syscalls[mid].nr == nr)
			return &ops->syscalls[mid];
		if (ops->syscalls[mid].nr < nr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void on_syscall(struct machine *mc)
{
	const struct arch_ops *ops = mc->ops;
	uint64_t nr = machine_reg(mc, ops->reg_sysno), arg[6] = { 0 };
	mc->sys->nsyscalls++;

	const struct sysent *e = arch_syscall_lookup(ops, nr);
	if (!e || !e->fn) {
		uint64_t at = machine_pc(mc) - (ops->syscall_pc_past ? ops->syscall_insn_size : 0);
		machine_fault(mc, FAULT_UNSUPPORTED_SYSCALL, at, 0, nr);
		return;
	}
	/* rt_sigreturn takes none, and a handler's comes here at every probed
	 * boundary: six register reads it would not use. */
	if (e->fn != sys_rt_sigreturn)
		machine_regs(mc, ops->reg_arg, arg, 6);
	int64_t r = e->fn(mc, arg);
	if (mc->sys->regs_restored) {
		mc->sys->regs_restored = 0;
		return;
	}
	/* A run stopped to switch threads still returns from the syscall
	 * (a thread that blocked gets its real result when it wakes). */
	if (mc->stopped && !(mc->threads && mc->threads->switch_pending))
		return;
	machine_set_reg(mc, ops->reg_ret, (uint64_t)r & word_mask(mc));
	if (ops->after_syscall)
		ops->after_syscall(mc);
}

int syscalls_attach(struct machine *mc, uint64_t vvar_addr)
{
	struct sys_state *s = calloc(1, sizeof *s);
	if (!s)
		return -1;
	s->vvar_addr = vvar_addr;
	s->altstack_flags = L_SS_DISABLE;
	mc->sys = s;
	if (!mc->threads && threads_attach(mc))
		return -1;
	mc->on_syscall = on_syscall;
	syscalls_publish_time(mc);
	return 0;
}
