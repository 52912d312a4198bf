#include "sigdeliver.h"

#include "syscalls.h"

#define L_SS_ONSTACK 1
#define L_SS_DISABLE 2

static int on_altstack(const struct sys_state *s, uint64_t sp)
{
	return s->altstack_flags != L_SS_DISABLE && sp - s->altstack_sp < s->altstack_size;
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

	/* get_sigframe: below the red zone, unless SA_ONSTACK moves it to
	 * the top of an alternate stack the thread is not already on. */
	uint64_t sp = machine_sp(mc) - ops->red_zone;
	int on = on_altstack(s, sp);
	if (act->flags & L_SA_ONSTACK && s->altstack_flags != L_SS_DISABLE && !on)
		sp = s->altstack_sp + s->altstack_size;
	struct sigframe_ctx ctx = {
		.sig = sig,
		.code = s->deliver_code ? s->deliver_code : 0x80 /* SI_KERNEL */,
		.oldmask = s->sigmask,
		.ss_sp = s->altstack_sp,
		.ss_size = s->altstack_size,
		.ss_flags = s->altstack_flags == L_SS_DISABLE ? L_SS_DISABLE : on ? L_SS_ONSTACK : 0,
	};
	if (ops->setup_rt_frame(mc, sp, act, &ctx))
		return DELIVER_FAULT;
	/* The handler runs with sa_mask and (unless SA_NODEFER) the signal
	 * itself blocked; rt_sigreturn restores the mask from the frame. */
	s->sigmask |= act->mask | (act->flags & L_SA_NODEFER ? 0 : bit);
	return DELIVER_OK;
}
