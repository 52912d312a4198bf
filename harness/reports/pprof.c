/*
 * --pprof: the samples of a run as Go's CPU profiler would have recorded
 * them, in pprof's profile.proto (github.com/google/pprof, proto/
 * profile.proto), gzip-compressed as `go tool pprof` reads it.
 *
 * One sample per judged boundary, its stack the one the guest's handler
 * built (innermost first, a marker such as _ExternalCode as its own
 * frame), values [1 sample, one 10 ms period of CPU]: what SIGPROF at
 * that instruction would have put in the profile.  Labels say which
 * boundary and verdict ("verdict", "boundary", its symbol+offset "at" and
 * source line "source", "row"), so -tagfocus picks
 * them apart.  Functions are the symbols without their offsets, locations
 * the pcs with their source lines.  A sample whose handler faulted or
 * hung records nothing, as in a real process.
 *
 * The protobuf encoding is written by hand (varints and length-delimited
 * fields: all profile.proto needs); no timestamps, so the same run gives
 * the same bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "report.h"

#define PERIOD_NS 10000000	/* SIGPROF at Go's default 100 Hz */

struct buf {
	uint8_t *p;
	size_t n, cap;
	int bad;
};

static void put(struct buf *b, const void *data, size_t n)
{
	if (b->bad)
		return;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->n + n)
			cap *= 2;
		uint8_t *np = realloc(b->p, cap);
		if (!np) {
			b->bad = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
}

static void varint(struct buf *b, uint64_t v)
{
	uint8_t x[10];
	int n = 0;
	do {
		x[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			x[n] |= 0x80;
		n++;
	} while (v);
	put(b, x, (size_t)n);
}

/* field `f` as a varint (wire type 0); 0 is left out, as proto3 does */
static void field_u(struct buf *b, unsigned f, uint64_t v)
{
	if (!v)
		return;
	varint(b, (uint64_t)f << 3);
	varint(b, v);
}

/* field `f` length-delimited (wire type 2): bytes, a string, a message */
static void field_bytes(struct buf *b, unsigned f, const void *data, size_t n)
{
	varint(b, (uint64_t)f << 3 | 2);
	varint(b, n);
	put(b, data, n);
}

static void field_msg(struct buf *b, unsigned f, struct buf *m)
{
	b->bad |= m->bad;
	field_bytes(b, f, m->p ? m->p : (const uint8_t *)"", m->n);
	m->n = 0;
}

/* --- the string, function and location tables ------------------------- */

struct tables {
	char **str;
	size_t nstr;
	struct func { uint64_t name, file; } *fn;
	size_t nfn;
	struct loc { uint64_t pc, fn, line; } *loc;
	size_t nloc;
	int bad;
};

static uint64_t str_id(struct tables *t, const char *s)
{
	for (size_t i = 0; i < t->nstr; i++)
		if (!strcmp(t->str[i], s))
			return i;
	char **ns = realloc(t->str, (t->nstr + 1) * sizeof *ns);
	char *copy = strdup(s);
	if (!ns || !copy) {
		free(copy);
		if (ns)
			t->str = ns;
		t->bad = 1;
		return 0;
	}
	t->str = ns;
	t->str[t->nstr] = copy;
	return t->nstr++;
}

/* 1-based ids, as profile.proto wants (0: none) */
static uint64_t fn_id(struct tables *t, const char *sym, const char *file)
{
	char name[PROBE_SYM_MAX];
	snprintf(name, sizeof name, "%s", sym);
	char *plus = strchr(name, '+');
	if (plus && plus != name)
		*plus = 0;
	uint64_t ns = str_id(t, name), fs = str_id(t, file);
	for (size_t i = 0; i < t->nfn; i++)
		if (t->fn[i].name == ns && t->fn[i].file == fs)
			return i + 1;
	struct func *nf = realloc(t->fn, (t->nfn + 1) * sizeof *nf);
	if (!nf) {
		t->bad = 1;
		return 1;
	}
	t->fn = nf;
	t->fn[t->nfn] = (struct func){ ns, fs };
	return ++t->nfn;
}

static uint64_t loc_id(struct tables *t, const struct logged_frame *f, const struct sample_log *log)
{
	const char *file = f->file < log->nfiles ? log->files[f->file] : "";
	uint64_t fn = fn_id(t, f->sym, file);
	for (size_t i = 0; i < t->nloc; i++)
		if (t->loc[i].pc == f->pc && t->loc[i].fn == fn && t->loc[i].line == f->line)
			return i + 1;
	struct loc *nl = realloc(t->loc, (t->nloc + 1) * sizeof *nl);
	if (!nl) {
		t->bad = 1;
		return 1;
	}
	t->loc = nl;
	t->loc[t->nloc] = (struct loc){ f->pc, fn, f->line };
	return ++t->nloc;
}

static void label(struct buf *sample, struct buf *tmp, struct tables *t, const char *key, const char *value)
{
	field_u(tmp, 1, str_id(t, key));
	field_u(tmp, 2, str_id(t, value));
	field_msg(sample, 3, tmp);
}

static void value_type(struct buf *out, unsigned f, struct buf *tmp, struct tables *t, const char *type,
		       const char *unit)
{
	field_u(tmp, 1, str_id(t, type));
	field_u(tmp, 2, str_id(t, unit));
	field_msg(out, f, tmp);
}

/* The profile, uncompressed, into out. */
static void encode(struct buf *out, const struct report_row *rows, size_t n, struct tables *t)
{
	struct buf sample = { 0 }, tmp = { 0 }, ids = { 0 };
	str_id(t, "");	/* string 0 is always "" */
	value_type(out, 1, &tmp, t, "samples", "count");
	value_type(out, 1, &tmp, t, "cpu", "nanoseconds");
	for (size_t r = 0; r < n; r++) {
		const struct sample_log *log = rows[r].samples;
		for (size_t i = 0; log && i < log->n; i++) {
			const struct logged_sample *s = &log->v[i];
			if (s->verdict == VERDICT_FAULT || s->verdict == VERDICT_HANG || !s->n)
				continue;
			for (int k = 0; k < s->n; k++)
				varint(&ids, loc_id(t, &s->frame[k], log));
			field_msg(&sample, 1, &ids);	/* location_id, packed */
			varint(&ids, 1);
			varint(&ids, PERIOD_NS);
			field_msg(&sample, 2, &ids);	/* value, packed */
			char pc[24];
			snprintf(pc, sizeof pc, "0x%" PRIx64, s->pc);
			label(&sample, &tmp, t, "verdict", verdict_name(s->verdict));
			label(&sample, &tmp, t, "boundary", pc);
			/* where the signal landed, by name and line: a vDSO boundary
			 * is in no frame of its sample (vdsoPC/vdsoSP give the caller) */
			label(&sample, &tmp, t, "at", s->at);
			if (s->line && s->file < log->nfiles) {
				char src[PROBE_SYM_MAX + 160];
				snprintf(src, sizeof src, "%s:%u", log->files[s->file], s->line);
				label(&sample, &tmp, t, "source", src);
			}
			label(&sample, &tmp, t, "row", rows[r].name);
			field_msg(out, 2, &sample);
		}
	}
	/* one mapping for everything: the guest's address space */
	field_u(&tmp, 1, 1);
	field_u(&tmp, 2, 0);
	field_u(&tmp, 3, UINT64_MAX >> 1);
	/* a real Go program by its name, as its own profile names it */
	int go = n && !strcmp(rows[0].res->subject, "go");
	field_u(&tmp, 5, str_id(t, go ? rows[0].res->variant : "sigstep-guest"));
	field_u(&tmp, 7, 1);	/* has_functions */
	field_u(&tmp, 8, 1);	/* has_filenames */
	field_u(&tmp, 9, 1);	/* has_line_numbers */
	field_msg(out, 3, &tmp);
	for (size_t i = 0; i < t->nloc; i++) {
		field_u(&tmp, 1, i + 1);
		field_u(&tmp, 2, 1);
		field_u(&tmp, 3, t->loc[i].pc);
		field_u(&ids, 1, t->loc[i].fn);
		field_u(&ids, 2, t->loc[i].line);
		field_msg(&tmp, 4, &ids);	/* one Line */
		field_msg(out, 4, &tmp);
	}
	for (size_t i = 0; i < t->nfn; i++) {
		field_u(&tmp, 1, i + 1);
		field_u(&tmp, 2, t->fn[i].name);
		field_u(&tmp, 3, t->fn[i].name);
		field_u(&tmp, 4, t->fn[i].file);
		field_msg(out, 5, &tmp);
	}
	/* the strings last: every table above has added its own */
	uint64_t cpu = str_id(t, "cpu"), ns = str_id(t, "nanoseconds");
	for (size_t i = 0; i < t->nstr; i++)
		field_bytes(out, 6, t->str[i], strlen(t->str[i]));
	field_u(&tmp, 1, cpu);
	field_u(&tmp, 2, ns);
	field_msg(out, 11, &tmp);	/* period_type */
	field_u(out, 12, PERIOD_NS);	/* period */
	out->bad |= sample.bad | tmp.bad | ids.bad | t->bad;
	free(sample.p);
	free(tmp.p);
	free(ids.p);
}

int report_pprof(FILE *out, const struct report_row *rows, size_t n)
{
	struct buf raw = { 0 };
	struct tables t = { 0 };
	encode(&raw, rows, n, &t);
	for (size_t i = 0; i < t.nstr; i++)
		free(t.str[i]);
	free(t.str);
	free(t.fn);
	free(t.loc);
	int rc = -1;
	for (size_t i = 0; i < n; i++)
		if (rows[i].samples && rows[i].samples->failed)
			raw.bad = 1;
	if (raw.bad) {
		errno = ENOMEM;
		free(raw.p);
		return -1;
	}
	/* gzip (windowBits 15 + 16), header without a time or a name */
	z_stream z = { 0 };
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(raw.p);
		errno = ENOMEM;
		return -1;
	}
	uLong bound = deflateBound(&z, (uLong)raw.n);
	uint8_t *gz = malloc(bound);
	if (gz) {
		z.next_in = raw.p ? raw.p : (uint8_t *)"";
		z.avail_in = (uInt)raw.n;
		z.next_out = gz;
		z.avail_out = (uInt)bound;
		if (deflate(&z, Z_FINISH) == Z_STREAM_END && fwrite(gz, 1, z.total_out, out) == z.total_out)
			rc = 0;
	} else {
		errno = ENOMEM;
	}
	deflateEnd(&z);
	free(gz);
	free(raw.p);
	return rc;
}
