#include "oracle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Open-addressed table of what the instruction at a PC is.  The probed
 * window runs a few hundred distinct PCs thousands of times; decoding each
 * once keeps capstone out of the per-boundary cost.
 */
#define CACHE_SLOTS 4096	/* a power of two, far above any chain's PC count */

struct insn_cache {
	uint64_t pc[CACHE_SLOTS];
	uint8_t state[CACHE_SLOTS];	/* 0 empty, 1 not a call, 2 a call */
	uint8_t size[CACHE_SLOTS];	/* bytes */
};

int oracle_init(struct oracle *o, const struct arch_ops *ops)
{
	memset(o, 0, sizeof *o);
	o->ops = ops;
	if (cs_open(ops->cs_arch, ops->cs_mode, &o->cs) != CS_ERR_OK)
		return -1;
	cs_option(o->cs, CS_OPT_DETAIL, CS_OPT_ON);
	o->cache = calloc(1, sizeof *o->cache);
	if (!o->cache) {
		cs_close(&o->cs);
		return -1;
	}
	return 0;
}

void oracle_free(struct oracle *o)
{
	if (o->cache)
		cs_close(&o->cs);
	free(o->cache);
	memset(o, 0, sizeof *o);
}

void oracle_reset(struct oracle *o, uint64_t root_entry, uint64_t sp)
{
	o->n = 1;
	o->overflow = 0;
	o->broken[0] = 0;
	o->frame[0] = (struct oracle_frame){ .entry = root_entry, .ret = 0, .sp = sp };
}

/* One instruction at pc, decoded; NULL if unreadable or undecodable. */
static cs_insn *decode(struct oracle *o, const struct machine *mc, uint64_t pc)
{
	uint8_t code[16];
	size_t len = sizeof code;
	cs_insn *insn;
	/* The last instruction of a mapping may be shorter than 16 bytes. */
	while (len && machine_read(mc, pc, code, len))
		len--;
	if (!len || cs_disasm(o->cs, code, len, pc, 1, &insn) != 1)
		return NULL;
	return insn;
}

static int insn_is_call(const struct arch_ops *ops, const cs_insn *insn)
{
	if (insn->detail)
		for (uint8_t i = 0; i < insn->detail->groups_count; i++)
			if (insn->detail->groups[i] == CS_GRP_CALL)
				return 1;
	/* capstone 4 does not put every ARM BL/BLX in the call group. */
	if (ops->cs_arch == CS_ARCH_ARM)
		return insn->id == ARM_INS_BL || insn->id == ARM_INS_BLX;
	return 0;
}

/* Is the instruction at pc a call, and how long is it? */
static int classify(struct oracle *o, const struct machine *mc, uint64_t pc, unsigned *size)
{
	cs_insn *insn = decode(o, mc, pc);
	int call = insn && insn_is_call(o->ops, insn);
	*size = insn ? insn->size : 0;
	if (insn)
		cs_free(insn, 1);
	return call;
}

int oracle_is_call(struct oracle *o, const struct machine *mc, uint64_t pc)
{
	uint64_t h = (pc * 0x9e3779b97f4a7c15ull) >> 52;	/* 12 bits: CACHE_SLOTS */
	unsigned size;
	for (unsigned probe = 0; probe < CACHE_SLOTS; probe++) {
		unsigned i = (unsigned)(h + probe) & (CACHE_SLOTS - 1);
		if (o->cache->state[i] && o->cache->pc[i] == pc) {
			o->last_size = o->cache->size[i];
			return o->cache->state[i] == 2;
		}
		if (!o->cache->state[i]) {
			int call = classify(o, mc, pc, &size);
			o->cache->pc[i] = pc;
			o->cache->state[i] = call ? 2 : 1;
			o->cache->size[i] = (uint8_t)size;
			o->last_size = size;
			return call;
		}
	}
	/* Full (a window of more than CACHE_SLOTS distinct PCs): decode each time. */
	int call = classify(o, mc, pc, &size);
	o->last_size = size;
	return call;
}

void oracle_step(struct oracle *o, const struct machine *mc, uint64_t from, int was_call)
{
	oracle_step_at(o, mc, machine_pc(mc), from, was_call);
}

void oracle_step_at(struct oracle *o, const struct machine *mc, uint64_t pc, uint64_t from, int was_call)
{
	const struct arch_ops *ops = o->ops;
	uint64_t sp = machine_sp(mc);
	/*
	 * A call to the very next instruction is how PIC x86 code reads its
	 * own PC (call 1f; 1: pop %ecx, as in the 386 vDSO): it never returns,
	 * so it is not a frame.
	 */
	if (was_call && pc == from + o->last_size)
		was_call = 0;
	if (was_call) {
		/* The return address is where the call left it: in LR on ARM,
		 * on top of the stack on x86. */
		uint64_t ret = 0;
		if (ops->reg_lr >= 0)
			ret = machine_reg(mc, ops->reg_lr);
		else
			machine_read_word(mc, sp, &ret);
		if (o->n == ORACLE_MAX_FRAMES) {
			o->overflow = 1;
			return;
		}
		uint64_t g = ops->reg_g >= 0 ? machine_reg(mc, ops->reg_g) : 0;
		o->frame[o->n++] = (struct oracle_frame){ .entry = pc, .ret = ret, .sp = sp, .g = g };
		return;
	}
	/*
	 * A return: the PC is the innermost frame's return address, and SP
	 * should be the caller's again (x86: the return address popped; ARM:
	 * SP as at the callee's entry).  While the callee's frame is on the
	 * shadow stack, no instruction of the caller runs but by returning.
	 */
	if (o->n > 1) {
		const struct oracle_frame *top = &o->frame[o->n - 1];
		uint64_t caller_sp = top->sp + (ops->reg_lr >= 0 ? 0 : ops->word_size);
		if (pc == top->ret) {
			/* Back at the return address: the callee returned.  With
			 * another SP or g than the caller had, it broke Go's ABI;
			 * the frame is gone all the same. */
			uint64_t g = ops->reg_g >= 0 ? machine_reg(mc, ops->reg_g) : 0;
			if (sp != caller_sp && !o->broken[0])
				snprintf(o->broken, sizeof o->broken,
					 "the call to 0x%llx returned with SP 0x%llx, not the caller's 0x%llx",
					 (unsigned long long)top->entry, (unsigned long long)sp,
					 (unsigned long long)caller_sp);
			else if (g != top->g && !o->broken[0])
				snprintf(o->broken, sizeof o->broken,
					 "the call to 0x%llx returned with the g register changed (0x%llx, was 0x%llx)",
					 (unsigned long long)top->entry, (unsigned long long)g,
					 (unsigned long long)top->g);
			o->n--;
		}
	}
}

int oracle_truth(const struct oracle *o, uint64_t pc, uint64_t *out, int max)
{
	int k = 0;
	if (k < max)
		out[k++] = pc;
	for (int i = o->n - 1; i >= 1 && k < max; i--)
		out[k++] = o->frame[i].ret;
	return k;
}

void oracle_insn_text(struct oracle *o, const struct machine *mc, uint64_t pc, char *buf, size_t n)
{
	cs_insn *insn = decode(o, mc, pc);
	buf[0] = 0;
	if (!insn)
		return;
	snprintf(buf, n, "%s%s%s", insn->mnemonic, insn->op_str[0] ? " " : "", insn->op_str);
	cs_free(insn, 1);
}

/* got equals truth[k : k + ngot]. */
static int equal_at(const uint64_t *truth, int ntruth, int k, const uint64_t *got, int ngot)
{
	return ngot >= 1 && k + ngot <= ntruth && !memcmp(got, truth + k, (size_t)ngot * sizeof *got);
}

enum verdict oracle_judge(const uint64_t *truth, int ntruth, const uint64_t *got, int ngot,
			  int (*may_drop)(void *ctx, uint64_t addr, int innermost), void *ctx)
{
	if (ngot == ntruth && equal_at(truth, ntruth, 0, got, ngot))
		return VERDICT_FULL;
	/* truth[k:] for the smallest k whose dropped frames may all go. */
	int kmax = 0;
	for (int k = 1; k < ntruth; k++) {
		if (!may_drop(ctx, truth[k - 1], k - 1 == 0))
			break;
		kmax = k;
		if (ngot == ntruth - k && equal_at(truth, ntruth, k, got, ngot))
			return VERDICT_CALLER;
	}
	/* The innermost frames of either, stopping before the root: the
	 * traceback lost callers but blamed nothing that is not there. */
	for (int k = 0; k <= kmax; k++)
		if (ngot < ntruth - k && equal_at(truth, ntruth, k, got, ngot))
			return VERDICT_TRUNCATED;
	return VERDICT_WRONG;
}
