#include "sigdeliver.h"

#include "syscalls.h"

#define L_SS_ONSTACK 1
#define L_SS_DISABLE 2

uint64_t sigframe_sp(struct sigframe_ctx *ctx, uint64_t sp)
{
	sp -= ctx->red_zone;
	int on = ctx->altstack && sp - ctx->ss_sp < ctx->ss_size;
	ctx->ss_flags = !ctx->altstack ? L_SS_DISABLE : on ? L_SS_ONSTACK : 0;
	return ctx->onstack && ctx->altstack && !on ? ctx->ss_sp + ctx->ss_size : sp;
}

enum deliver_result engine_deliver_signal(struct machine *mc, int sig)
{
	const struct arch_ops *ops = mc->ops;
	struct sys_state *s = mc->sys;
	if (sig < 1 || sig > SYS_NSIG)
		return DELIVER_IGNORED;
	const struct sigaction_rec *act = &s->action[sig];
	uint64_t bit = 1ull << (sig - 1);
	if (act->handler <= 1)		/* SIG_DFL 0, SIG_IGN 1 */
		return DELIVER_IGNORED;
	if (s->sigmask & bit)
		return DELIVER_BLOCKED;
	/* Without a restorer Linux x86 would fault on the handler's return
	 * (not emulated); arm returns through its sigpage, if mapped. */
	struct sigaction_rec via_sigpage;
	if (!ops->setup_rt_frame)
		return DELIVER_UNSUPPORTED;
	if (!(act->flags & L_SA_RESTORER)) {
		const struct region *r = ops->sigpage_size ? machine_region(mc, ops->sigpage_addr) : NULL;
		if (!r || r->kind != REGION_SYSTEM)
			return DELIVER_UNSUPPORTED;
		via_sigpage = *act;
		via_sigpage.restorer = ops->sigpage_addr + ops->sigpage_rt_offset;
		act = &via_sigpage;
	}

	struct sigframe_ctx ctx = {
		.sig = sig,
		.code = s->deliver_code ? s->deliver_code : 0x80 /* SI_KERNEL */,
		.oldmask = s->sigmask,
		.ss_sp = s->altstack_sp,
		.ss_size = s->altstack_size,
		.altstack = s->altstack_flags != L_SS_DISABLE,
		.onstack = (act->flags & L_SA_ONSTACK) != 0,
		.red_zone = ops->red_zone,
	};
	if (ops->setup_rt_frame(mc, act, &ctx))
		return DELIVER_FAULT;
	/* The handler runs with sa_mask and (unless SA_NODEFER) the signal
	 * itself blocked; rt_sigreturn restores the mask from the frame. */
	s->sigmask |= act->mask | (act->flags & L_SA_NODEFER ? 0 : bit);
	return DELIVER_OK;
}
