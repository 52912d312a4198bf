#include "run.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <elf.h>

#include "syscalls.h"
#include "threads.h"

#define PAGE GUEST_PAGE

static int linux_process_setup(struct guest *g, char *err);

int guest_load(struct guest *g, const struct guest_config *cfg, char *err, const char **bad_file)
{
	const struct arch_ops *ops = cfg->ops;
	memset(g, 0, sizeof *g);
	*bad_file = NULL;

	g->mc = machine_create(ops);
	if (!g->mc) {
		snprintf(err, LOADER_ERR_MAX, "cannot create a Unicorn %s machine", ops->name);
		return -1;
	}
	if (loader_load_image(g->mc, cfg->image_path, &g->image, err)) {
		*bad_file = cfg->image_path;
		goto fail;
	}
	if (cfg->vdso_path) {
		g->vdso_base = cfg->vdso_base ? cfg->vdso_base : ops->vdso_base;
		int r = loader_load_vdso(g->mc, cfg->vdso_path, g->vdso_base, &g->vdso, err);
		if (r) {
			if (r != -2)	/* -2: the base, not the file */
				*bad_file = cfg->vdso_path;
			goto fail;
		}
	}
	struct process_extras x = { 0 };
	if (cfg->linux_process) {
		x.envc = cfg->envc;
		x.envp = cfg->envp;
		x.hwcap = ops->hwcap;
	}
	if (loader_build_process_stack(g->mc, &g->image, g->vdso_base, cfg->argc, cfg->argv, &x,
				       &g->initial_sp, err))
		goto fail;
	if (ops->init_cpu(g->mc)) {
		snprintf(err, LOADER_ERR_MAX, "cannot set up the %s CPU", ops->name);
		goto fail;
	}
	g->mc->brk = g->image.hi;
	if (cfg->linux_process && linux_process_setup(g, err))
		goto fail;
	if (syscalls_attach(g->mc, g->vdso_base ? g->vdso_base - PAGE : 0)) {
		snprintf(err, LOADER_ERR_MAX, "out of memory");
		goto fail;
	}
	g->mc->sys->deliver_kills = cfg->linux_process;
	g->entry = g->image.entry;
	g->cfg = *cfg;
	machine_set_reg(g->mc, ops->reg_sp, g->initial_sp);
	machine_set_reg(g->mc, ops->reg_pc, g->entry);
	return 0;
fail:
	guest_free(g);
	return -1;
}

/*
 * What the kernel gives every process beyond the guest images' needs: the
 * sigpage (arm), the CPU as Linux shows it (CPUID), a time-stamp counter
 * that reads the emulated clock in the program's code.
 */
static int linux_process_setup(struct guest *g, char *err)
{
	const struct arch_ops *ops = g->mc->ops;
	if (ops->sigpage_size) {
		if (machine_map(g->mc, ops->sigpage_addr, ops->sigpage_addr + PAGE, UC_PROT_READ | UC_PROT_EXEC,
				REGION_SYSTEM, "sigpage") ||
		    machine_write(g->mc, ops->sigpage_addr, ops->sigpage_code, ops->sigpage_size)) {
			snprintf(err, LOADER_ERR_MAX, "cannot map the sigpage at 0x%llx",
				 (unsigned long long)ops->sigpage_addr);
			return -1;
		}
	}
	if (ops->install_cpu_hooks && ops->install_cpu_hooks(g->mc)) {
		snprintf(err, LOADER_ERR_MAX, "cannot hook the %s CPU's identification", ops->name);
		return -1;
	}
	for (unsigned i = 0; ops->pin_timestamp_counter && i < g->image.nseg; i++) {
		const struct segment *s = &g->image.seg[i];
		if ((s->flags & PF_X) && ops->pin_timestamp_counter(g->mc, s->vaddr, s->vaddr + s->filesz)) {
			snprintf(err, LOADER_ERR_MAX, "cannot hook the time-stamp counter");
			return -1;
		}
	}
	return 0;
}

uc_engine *guest_add_engine(struct guest *g)
{
	struct machine *mc = g->mc;
	const struct arch_ops *ops = mc->ops;
	uc_engine *uc = machine_add_engine(mc), *running = mc->uc;
	if (!uc || !g->cfg.linux_process)
		return uc;
	/* The arch's hooks go on mc->uc: the new engine's, for the while. */
	mc->uc = uc;
	int bad = ops->install_cpu_hooks && ops->install_cpu_hooks(mc);
	for (unsigned i = 0; !bad && ops->pin_timestamp_counter && i < g->image.nseg; i++) {
		const struct segment *s = &g->image.seg[i];
		bad = (s->flags & PF_X) && ops->pin_timestamp_counter(mc, s->vaddr, s->vaddr + s->filesz);
	}
	mc->uc = running;
	return bad ? NULL : uc;
}

void guest_free(struct guest *g)
{
	machine_destroy(g->mc);
	elf_image_free(&g->image);
	elf_image_free(&g->vdso);
	memset(g, 0, sizeof *g);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run_once(struct guest *g, unsigned timeout_s)
{
	double t0 = now_s();
	uint64_t limit = g->cfg.linux_process ? (g->cfg.max_insns ? g->cfg.max_insns : GUEST_DEFAULT_MAX_INSNS) : 0;
	int r = threads_run(g->mc, limit, (uint64_t)timeout_s * 1000000);
	/* Unicorn ends a timed-out run like a finished one. */
	if (r && g->mc->fault.kind == FAULT_STOPPED && timeout_s && now_s() - t0 >= timeout_s)
		g->mc->fault.kind = FAULT_TIMEOUT;
	return r;
}

static void hook_last_insn(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	(void)uc, (void)size;
	*(uint64_t *)user = addr;
}

/* Translated blocks never span more than a page of code. */
#define BLOCK_SPAN 4096

static void replay_for_exact_pc(struct guest *g, unsigned timeout_s)
{
	struct guest again;
	char err[LOADER_ERR_MAX];
	const char *bad;
	uint64_t last = 0, block = g->mc->fault.pc;
	uc_hook h;
	if (guest_load(&again, &g->cfg, err, &bad))
		return;
	if (uc_hook_add(again.mc->uc, &h, UC_HOOK_CODE, (void *)hook_last_insn, &last,
			block, block + BLOCK_SPAN - 1) == UC_ERR_OK &&
	    run_once(&again, timeout_s) && again.mc->fault.kind == g->mc->fault.kind &&
	    again.mc->fault.addr == g->mc->fault.addr && last >= block) {
		g->mc->fault.pc = last;
		g->mc->fault.pc_exact = 1;
	}
	guest_free(&again);
}

int guest_run(struct guest *g, unsigned timeout_s)
{
	int r = run_once(g, timeout_s);
	if (r && !g->mc->fault.pc_exact && g->mc->fault.kind >= FAULT_READ_UNMAPPED &&
	    g->mc->fault.kind <= FAULT_FETCH_PROT)
		replay_for_exact_pc(g, timeout_s);
	return r;
}

void guest_symbolize(const struct guest *g, uint64_t pc, char *buf, size_t n)
{
	uint64_t off;
	if (g->symbolize && !g->symbolize(g->symbolize_ctx, pc, buf, n))
		return;
	const char *name = symtab_lookup(&g->image.syms, pc, &off);
	if (!name && g->vdso_base)
		name = symtab_lookup(&g->vdso.syms, pc, &off);
	if (name)
		snprintf(buf, n, "%s+0x%llx", name, (unsigned long long)off);
	else
		snprintf(buf, n, "0x%llx", (unsigned long long)pc);
}

/* The instruction at pc as text ("hlt"), or "" if it cannot be read. */
static void insn_text(const struct guest *g, uint64_t pc, char *buf, size_t n)
{
	const struct arch_ops *ops = g->mc->ops;
	uint8_t code[16];
	size_t len = sizeof code;
	csh cs;
	cs_insn *insn;
	buf[0] = 0;
	while (len && machine_read(g->mc, pc, code, len))
		len--;
	if (!len || cs_open(ops->cs_arch, ops->cs_mode, &cs) != CS_ERR_OK)
		return;
	if (cs_disasm(cs, code, len, pc, 1, &insn) == 1) {
		snprintf(buf, n, "%s%s%s", insn->mnemonic, insn->op_str[0] ? " " : "", insn->op_str);
		cs_free(insn, 1);
	}
	cs_close(&cs);
}

int guest_fault_line(const struct guest *g, char *buf, size_t n)
{
	const struct fault *f = &g->mc->fault;
	char at[160], what[320] = "", insn[192];
	guest_symbolize(g, f->pc, at, sizeof at);

	switch (f->kind) {
	case FAULT_UNSUPPORTED_SYSCALL: {
		const struct sysent *e = arch_syscall_lookup(g->mc->ops, f->number);
		snprintf(buf, n, "guest made unsupported syscall %llu (%s) at PC %s",
			 (unsigned long long)f->number, e ? e->name : "unknown", at);
		return 2;
	}
	case FAULT_READ_UNMAPPED: case FAULT_WRITE_UNMAPPED:
	case FAULT_READ_PROT: case FAULT_WRITE_PROT: {
		const struct region *r = machine_region(g->mc, f->addr);
		snprintf(what, sizeof what, " (address 0x%llx%s%s)", (unsigned long long)f->addr,
			 r ? ", " : "", r ? r->name : "");
		break;
	}
	case FAULT_FETCH_PROT: {
		const struct region *r = machine_region(g->mc, f->addr);
		if (r)
			snprintf(what, sizeof what, " (%s)", r->name);
		break;
	}
	case FAULT_TRAP:
		insn_text(g, f->pc, insn, sizeof insn);
		snprintf(what, sizeof what, " %llu%s%s%s", (unsigned long long)f->number,
			 insn[0] ? " (" : "", insn, insn[0] ? ")" : "");
		break;
	case FAULT_INVALID_INSN:
		insn_text(g, f->pc, insn, sizeof insn);
		if (insn[0])
			snprintf(what, sizeof what, " (%s)", insn);
		break;
	case FAULT_ENGINE:
		snprintf(what, sizeof what, " (%s)", uc_strerror(f->uc_err));
		break;
	case FAULT_INSN_LIMIT:
		snprintf(what, sizeof what, " (%llu instructions)", (unsigned long long)f->number);
		break;
	case FAULT_TIMEOUT:
		if (g->cfg.linux_process)
			snprintf(what, sizeof what, " (%llu instructions run)", (unsigned long long)threads_insns(g->mc));
		break;
	default:
		break;
	}
	snprintf(buf, n, "guest fault: %s%s %s %s", fault_kind_name(f->kind), what,
		 f->pc_exact ? "at PC" : "in the block at PC", at);
	return 1;
}
