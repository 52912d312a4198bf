/*
 * What the two x86 folders (arch/386, arch/amd64) share word for word:
 * the FPU/SSE state in FXSAVE layout, and RDTSC pinned to the emulated
 * clock.  Included by each folder's unicorn.c; the folders keep every
 * fact that differs (CPUID's answer, the signal frame, registers).  Not
 * an architecture of its own: it has no toolchain.cmake or unicorn.c.
 */
#ifndef SIGSTEP_X86_STATE_H
#define SIGSTEP_X86_STATE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"
#include "threads.h"

/*
 * The FPU/SSE state in FXSAVE layout (what the kernel saves for a CPU
 * without XSAVE, and restores with FXRSTOR at rt_sigreturn): FCW 0, FSW 2,
 * the abridged tag 4, MXCSR 24, MXCSR_MASK 28, ST0-7 from 32 (16 bytes
 * each), XMM from 160.  A handler uses these registers (Go's does).
 * nxmm: 8 XMM registers in 32-bit mode, 16 in 64-bit mode.  Each of the
 * two runs at every probed boundary (the frame's set-up, rt_sigreturn),
 * so each is one Unicorn call for the whole state.
 */
#define FXSAVE_SIZE 512
#define FX_MAX_XMM 16
#define FX_CONTROL_MAX 4

/* A batch of the control words `control` (their values in `ctl`,
 * zero-extended), then ST0-7 and XMM, which land in the FXSAVE image. */
static int x86_fx_batch(uint8_t *fx, int nxmm, const int *control, int ncontrol, uint64_t *ctl, int *regs,
			void **vals)
{
	int n = 0;
	for (int i = 0; i < ncontrol; i++)
		regs[n] = control[i], vals[n++] = &ctl[i];
	for (int i = 0; i < 8; i++)
		regs[n] = UC_X86_REG_ST0 + i, vals[n++] = fx + 32 + 16 * i;
	for (int i = 0; i < nxmm; i++)
		regs[n] = UC_X86_REG_XMM0 + i, vals[n++] = fx + 160 + 16 * i;
	return n;
}

/* The FXSAVE image of the CPU's state; returns the full x87 tag word
 * (the image holds only its abridged form). */
static uint16_t x86_fxsave(struct machine *mc, uint8_t *fx, int nxmm)
{
	static const int control[] = { UC_X86_REG_FPCW, UC_X86_REG_FPSW, UC_X86_REG_FPTAG, UC_X86_REG_MXCSR };
	int regs[FX_CONTROL_MAX + 8 + FX_MAX_XMM];
	void *vals[FX_CONTROL_MAX + 8 + FX_MAX_XMM];
	uint64_t ctl[FX_CONTROL_MAX] = { 0 };
	memset(fx, 0, FXSAVE_SIZE);
	uc_reg_read_batch(mc->uc, regs, vals, x86_fx_batch(fx, nxmm, control, 4, ctl, regs, vals));
	uint16_t cw = (uint16_t)ctl[0], sw = (uint16_t)ctl[1], tag = (uint16_t)ctl[2];
	uint32_t mxcsr = (uint32_t)ctl[3], mask = 0xffff;
	uint8_t abridged = 0;
	for (int i = 0; i < 8; i++)
		if (((tag >> (2 * i)) & 3) != 3)	/* not empty */
			abridged |= (uint8_t)(1u << i);
	memcpy(fx, &cw, 2);
	memcpy(fx + 2, &sw, 2);
	fx[4] = abridged;
	memcpy(fx + 24, &mxcsr, 4);
	memcpy(fx + 28, &mask, 4);
	return tag;
}

/* What rt_sigreturn takes back from an FXSAVE image, in this order: FCW,
 * FSW, MXCSR, ST0-7, XMM (the tag word is not restored). */
static void x86_fxrstor(struct machine *mc, const uint8_t *fx, int nxmm)
{
	static const int control[] = { UC_X86_REG_FPCW, UC_X86_REG_FPSW, UC_X86_REG_MXCSR };
	int regs[FX_CONTROL_MAX + 8 + FX_MAX_XMM];
	void *vals[FX_CONTROL_MAX + 8 + FX_MAX_XMM];
	uint64_t ctl[FX_CONTROL_MAX] = { 0 };
	uint16_t cw, sw;
	uint32_t mxcsr;
	memcpy(&cw, fx, 2);
	memcpy(&sw, fx + 2, 2);
	memcpy(&mxcsr, fx + 24, 4);
	ctl[0] = cw, ctl[1] = sw, ctl[2] = mxcsr & 0xffff;
	uc_reg_write_batch(mc->uc, regs, vals, x86_fx_batch((uint8_t *)fx, nxmm, control, 3, ctl, regs, vals));
}

/*
 * RDTSC (0f 31) / RDTSCP (0f 01 f9) at a hooked address read the
 * emulated clock (1 GHz) plus the reads so far, and go on past.  The
 * registers by the mode's width: Unicorn's 32-bit register ids write
 * only the low half in 64-bit mode, where RDTSC zeroes the high one.
 */
static void x86_hook_rdtsc(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	struct machine *mc = user;
	int wide = mc->ops->word_size == 8;
	uint8_t b[3];
	(void)uc, (void)size;
	if (machine_read(mc, addr, b, 3) || b[0] != 0x0f || (b[1] != 0x31 && !(b[1] == 0x01 && b[2] == 0xf9)))
		return;		/* not an instruction boundary after all */
	uint64_t tsc = threads_now_ns(mc) + 64 * ++mc->sys->tsc_reads;
	machine_set_reg(mc, wide ? UC_X86_REG_RAX : UC_X86_REG_EAX, tsc & 0xffffffffu);
	machine_set_reg(mc, wide ? UC_X86_REG_RDX : UC_X86_REG_EDX, tsc >> 32);
	if (b[1] == 0x01)
		machine_set_reg(mc, wide ? UC_X86_REG_RCX : UC_X86_REG_ECX, 0);	/* TSC_AUX: CPU 0 */
	machine_set_reg(mc, wide ? UC_X86_REG_RIP : UC_X86_REG_EIP, addr + (b[1] == 0x31 ? 2 : 3));
}

/*
 * Every place in [begin, end) with RDTSC's or RDTSCP's bytes gets a hook
 * on that one address: one that is not an instruction's start is never
 * reached, so the byte search is exact where it matters.
 */
static int x86_pin_timestamp_counter(struct machine *mc, uint64_t begin, uint64_t end)
{
	uint8_t *code;
	size_t len = end - begin;
	if (end <= begin || !(code = malloc(len)))
		return -1;
	if (machine_read(mc, begin, code, len)) {
		free(code);
		return -1;
	}
	int r = 0;
	for (size_t i = 0; i + 1 < len && !r; i++) {
		if (code[i] != 0x0f || (code[i + 1] != 0x31 && !(code[i + 1] == 0x01 && i + 2 < len && code[i + 2] == 0xf9)))
			continue;
		uc_hook h;
		if (uc_hook_add(mc->uc, &h, UC_HOOK_CODE, (void *)x86_hook_rdtsc, mc, begin + i, begin + i) != UC_ERR_OK)
			r = -1;
	}
	free(code);
	return r;
}

#endif
