/*
 * Struct member offsets from a Go binary's DWARF (.debug_info with its
 * .debug_abbrev, DWARF 2-4 as Go's linker writes them): where the runtime's
 * g and m keep the fields that signal-time traceback reads.
 *
 * The sections are untrusted: every read is bounds-checked, and a malformed
 * unit, abbreviation or form makes the lookup fail, never read outside.
 */
#ifndef SIGSTEP_DWARF_INFO_H
#define SIGSTEP_DWARF_INFO_H

#include <stddef.h>
#include <stdint.h>

struct dwarf_info;

/* The offsets (bytes from the start of the struct) sigstep needs. */
struct go_layout {
	uint64_t g_stack_lo, g_stack_hi;	/* runtime.g.stack.lo / .hi */
	uint64_t g_m;				/* runtime.g.m */
	uint64_t g_sched_sp, g_sched_pc;	/* runtime.g.sched.sp / .pc */
	uint64_t m_g0, m_gsignal, m_curg;	/* runtime.m.g0 / .gsignal / .curg */
	uint64_t m_profilehz;			/* runtime.m.profilehz */
	uint64_t m_vdsoSP, m_vdsoPC;		/* runtime.m.vdsoSP / .vdsoPC */
};

/* info and abbrev: the decompressed section bytes; they must outlive the
 * result.  0, or 2 with one line in err. */
int dwarf_info_open(const uint8_t *info, size_t info_len, const uint8_t *abbrev, size_t abbrev_len,
		    struct dwarf_info **out, char *err, size_t errlen);
void dwarf_info_close(struct dwarf_info *d);

/*
 * The offset of member `path` in the struct type named `type`; path may
 * go through nested structs ("sched.sp": member sched, then its type's sp).
 * 0 found, -1 not (no such type or member, or the DWARF is malformed).
 */
int dwarf_member_offset(const struct dwarf_info *d, const char *type, const char *path, uint64_t *off);
/* DW_AT_byte_size of the struct type named `type`.  0 found, -1 not. */
int dwarf_struct_size(const struct dwarf_info *d, const char *type, uint64_t *size);

/* Fills every field of l.  0, or 2 with one line naming the first member
 * not found. */
int dwarf_go_layout(const struct dwarf_info *d, struct go_layout *l, char *err, size_t errlen);

#endif
