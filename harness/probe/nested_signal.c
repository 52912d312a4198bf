/*
 * The nested-signal event of a schedule (scenarios/README.md, "Schedules"):
 * a signal delivered at a boundary of a handler's own clock call.
 *
 *	at 30 nested-signal nanotime 12 7
 *
 * Level 0 is a kept SIGPROF at chain boundary 30 whose handler samples and
 * then reads the clock (nanotime here) as a nested-clock event's does.  Its
 * handler runs at full speed to the clock function's first instruction;
 * from there the clock call is stepped, boundary by boundary, on a shadow
 * stack of its own; at its 12th boundary (from 0) level 1 arrives: a
 * SIGURG -- SIGPROF is blocked in the handler, SIGURG (installed on the
 * same handler with SA_NODEFER, fixtures/native_main.c) is not -- on the
 * same signal stack, below the interrupted handler's frames.  Its handler
 * is the same model handler: it samples, then reads the same clock; with
 * a level to come its clock call is stepped in turn (level 2 at its 7th
 * boundary), else it runs to its rt_sigreturn.  Every level's effects are
 * kept.
 *
 * Each level's sample is judged as a sample at a chain boundary is, against
 * the true stack of what it interrupted: level k >= 1 interrupted a clock
 * call made by the handler, so its truth is that call's shadow stack, rooted
 * at the clock function's entry -- the interrupted pc and the return
 * addresses of the calls made since.  The truth stops at the clock
 * function's frame: its caller is the handler's C code
 * (arch_call_nanotime / arch_call_walltime, sighandler), which has no frame
 * tables and is no Go function (Go's own traceback of a handler stops at
 * sigtramp, a TOPFRAME).  A traceback that goes on has read garbage
 * (`wrong`); one that stops earlier lost frames (`truncated`); in the vDSO
 * (a leaf the design lets a traceback drop) nothing traceable is left
 * beyond it, so sigprof can answer no more than a marker (`vdso`).  Each level's clock read is checked as
 * a nested-clock read is (its time, m.vdsoSP/vdsoPC around it).
 *
 * A level whose boundary lies past the end of its clock call is not
 * delivered; a handler that reads no clock (no g: Go's sigprofNonGoPC)
 * runs to its rt_sigreturn with no level inside it.
 */
#include <string.h>

#include "probe_internal.h"

/* Boundaries one clock call may take before it counts as one that never
 * returns (a clock call takes tens). */
#define CLOCK_CALL_MAX_BOUNDARIES 100000

/* The clock call that starts at the current pc (the clock function's
 * entry), stepped to its return, with level p->nest_level + 1 delivered at
 * its boundary `at`.  HANDLER_RETURNED when the call returned (the handler
 * goes on), else what stopped it. */
static enum handler_result step_clock_call(struct probe *p, uint32_t at)
{
	struct machine *mc = p->mc;
	const struct arch_ops *ops = mc->ops;
	struct oracle o = p->o;		/* the capstone handle and cache are shared */
	uint64_t entry = machine_pc(mc), sp = machine_sp(mc), ret = 0;
	/* The return address the entry's call left: in LR on ARM, on top of
	 * the stack on x86 -- as the chain's oracle reads it. */
	if (ops->reg_lr >= 0)
		ret = machine_reg(mc, ops->reg_lr);
	else
		machine_read_word(mc, sp, &ret);
	oracle_reset(&o, entry, sp);	/* the root: its return address is not in the truth */

	for (uint32_t i = 0; i < CLOCK_CALL_MAX_BOUNDARIES; i++) {
		if (i == at) {
			/* The next level: its own context slot for probe_boundary's
			 * put-back; the subject's note of the sample, the kernel
			 * state, the store log's recording and the truth all come
			 * back as they were. */
			uc_context *outer_ctx = p->ctx, *ctx = NULL;
			struct sys_state outer_sys = p->sys_saved;
			uint32_t seq0 = p->seq0;
			int recording = p->recording;	/* this level's stores stay logged after the next one's */
			struct oracle *outer_truth = p->truth_oracle;
			if (uc_context_alloc(mc->uc, &ctx) != UC_ERR_OK)
				return HANDLER_FAULT;
			p->ctx = ctx;
			p->truth_oracle = &o;
			p->nest_level++;
			int r = probe_deliver(p, 1, p->nest->clock);
			p->nest_level--;
			p->truth_oracle = outer_truth;
			p->ctx = outer_ctx;
			p->sys_saved = outer_sys;
			p->seq0 = seq0;
			p->recording = recording;
			uc_context_free(ctx);
			if (r < 0)
				return HANDLER_FAULT;
		}
		uint64_t pc = machine_pc(mc);
		int was_call = oracle_is_call(&o, mc, pc);
		p->left_chain = 0;
		int r = probe_step(p);
		if (r == 0)
			return HANDLER_EXITED;
		if (p->left_chain) {
			/* Back in the handler's C world: where the call returns, or
			 * a jump out of the probed code (a fault of the handler). */
			p->left_chain = 0;
			if (machine_pc(mc) == ret && o.n == 1 && mc->fault.kind == FAULT_STOPPED) {
				mc->fault = (struct fault){ 0 };
				if (i + 1 > p->res->clock_call_boundaries)
					p->res->clock_call_boundaries = i + 1;
				return HANDLER_RETURNED;
			}
			return HANDLER_FAULT;
		}
		if (mc->fault.kind != FAULT_STOPPED)
			return HANDLER_FAULT;
		mc->fault = (struct fault){ 0 };
		oracle_step(&o, mc, pc, was_call);
		if (o.overflow)
			return HANDLER_FAULT;
	}
	return HANDLER_BUDGET;
}

enum handler_result nested_signal_handler(struct probe *p)
{
	struct machine *mc = p->mc;
	unsigned w = mc->ops->word_size;
	uint64_t entry = p->nest->clock == PROBE_CLOCK_WALLTIME ? p->drop_fn[0] : p->drop_fn[1];

	p->handler_stop_at = entry;
	enum handler_result hr = probe_handler_run(p);
	p->handler_stop_at = 0;
	if (hr != HANDLER_FAULT || mc->fault.kind != FAULT_STOPPED || machine_pc(mc) != entry)
		return hr;	/* back without a clock call, or it failed on the way */
	mc->fault = (struct fault){ 0 };

	/* This level's sample is complete (the handler samples first); the
	 * next level's handler writes its own over it, so it is put back for
	 * this level's judge once this handler is over. */
	uint8_t sample[SAMPLE_SIZE(8)];
	int have_sample = !machine_read(mc, p->sample_addr, sample, SAMPLE_SIZE(w));

	hr = step_clock_call(p, p->nest->inner[p->nest_level]);
	if (hr != HANDLER_RETURNED)
		return hr;
	hr = probe_handler_run(p);
	if (hr == HANDLER_RETURNED && have_sample)
		machine_write(mc, p->sample_addr, sample, SAMPLE_SIZE(w));
	return hr;
}
