/*
 * Scenario files and mutant headers: parsing, expansion into rows, and the
 * judgement of a row's result against its expectation.
 *
 * A scenario file is a list of sections:
 *
 *	[name]
 *	arch      386 arm            (default *: every arch)
 *	variant   master             (required; * every built variant)
 *	function  nanotime           (default *: both)
 *	context   g0                 (default curg)
 *	vdso      present | absent   (default present)
 *	vdso_base 0x200000           (default: the arch's; the vvar page one below)
 *	knobs     callee_saved stack=70000   (default none)
 *	sigprof   go1.11             (default own: the variant's era)
 *	inject    every | nested | sample:N [seed=S]   (default every)
 *	expect    fail wrong !fault at nanotime+0x3f..nanotime+0x75
 *
 * and a mutant file carries its rows in its header, one per line:
 *
 *	// expect: [key=value ...] pass | fail WORDS...
 */
#include "scenario.h"
#include "scn_settings.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "loader.h"
#include "probe_internal.h"

/* --- expectations ------------------------------------------------------------ */

/* "walltime+0x31" into sym and offset; -1 if it is not SYM+OFF. */
static int sym_off(const char *s, char *sym, size_t symlen, uint64_t *off)
{
	const char *plus = strrchr(s, '+');
	if (!plus || plus == s || (size_t)(plus - s) >= symlen)
		return -1;
	if (cli_parse_u64(plus + 1, 0, off))
		return -1;
	memcpy(sym, s, (size_t)(plus - s));
	sym[plus - s] = 0;
	return 0;
}

static int parse_range(const char *w, struct scn_expect *e, char *msg, size_t msglen)
{
	if (e->nat == SCN_MAX_AT) {
		snprintf(msg, msglen, "more than %d 'at' ranges", SCN_MAX_AT);
		return -1;
	}
	typeof(e->at[0]) *a = &e->at[e->nat];
	const char *dots = strstr(w, "..");
	if (!dots) {
		if (!w[0] || strchr(w, '+') || strlen(w) >= sizeof a->sym) {
			snprintf(msg, msglen, "bad 'at' range '%s' (SYMBOL or SYMBOL+OFF..SYMBOL+OFF)", w);
			return -1;
		}
		snprintf(a->sym, sizeof a->sym, "%s", w);
		a->whole = 1;
		e->nat++;
		return 0;
	}
	char left[64], sym2[48];
	if ((size_t)(dots - w) >= sizeof left)
		goto bad;
	memcpy(left, w, (size_t)(dots - w));
	left[dots - w] = 0;
	if (sym_off(left, a->sym, sizeof a->sym, &a->lo))
		goto bad;
	const char *right = dots + 2;
	if (sym_off(right, sym2, sizeof sym2, &a->hi)) {
		/* "SYM+A..B": B in the same symbol */
		if (cli_parse_u64(right, 0, &a->hi))
			goto bad;
	} else if (strcmp(sym2, a->sym)) {
		snprintf(msg, msglen, "'at' range '%s' spans two symbols", w);
		return -1;
	}
	if (a->hi < a->lo)
		goto bad;
	e->nat++;
	return 0;
bad:
	snprintf(msg, msglen, "bad 'at' range '%s' (SYMBOL or SYMBOL+OFF..SYMBOL+OFF)", w);
	return -1;
}

int scn_expect_parse(char **tok, int ntok, struct scn_expect *e, char *msg, size_t msglen)
{
	memset(e, 0, sizeof *e);
	if (ntok < 1) {
		snprintf(msg, msglen, "expected 'pass' or 'fail VERDICT... [!VERDICT...] [invariant=TEXT] [at RANGE...]'");
		return -1;
	}
	if (!strcmp(tok[0], "pass")) {
		e->pass = 1;
		if (ntok > 1) {
			snprintf(msg, msglen, "'pass' takes nothing after it (got '%s')", tok[1]);
			return -1;
		}
	} else if (!strcmp(tok[0], "fail")) {
		int positive = 0, in_at = 0;
		for (int i = 1; i < ntok; i++) {
			const char *w = tok[i];
			if (!strcmp(w, "at")) {
				in_at = 1;
				if (i + 1 == ntok) {
					snprintf(msg, msglen, "'at' needs a range");
					return -1;
				}
				continue;
			}
			if (in_at) {
				if (parse_range(w, e, msg, msglen))
					return -1;
				continue;
			}
			if (!strncmp(w, "invariant=", 10)) {
				if (!w[10] || strlen(w + 10) >= sizeof e->invariant) {
					snprintf(msg, msglen, "bad '%s' (invariant=TEXT, TEXT a word of the failure)", w);
					return -1;
				}
				snprintf(e->invariant, sizeof e->invariant, "%s", w + 10);
				positive++;
				continue;
			}
			const char *name = w + (w[0] == '!');
			enum verdict v = verdict_from_name(name);
			if (v == VERDICT_COUNT) {
				snprintf(msg, msglen, "unknown verdict '%s'", name);
				return -1;
			}
			if (e->want[v]) {
				snprintf(msg, msglen, "verdict '%s' named twice", name);
				return -1;
			}
			e->want[v] = w[0] == '!' ? -1 : 1;
			positive += e->want[v] > 0;
		}
		if (!positive) {
			snprintf(msg, msglen, "'fail' needs a verdict that must appear (or invariant=TEXT)");
			return -1;
		}
	} else {
		snprintf(msg, msglen, "expected 'pass' or 'fail', got '%s'", tok[0]);
		return -1;
	}
	size_t len = 0;
	for (int i = 0; i < ntok && len < sizeof e->text; i++)
		len += (size_t)snprintf(e->text + len, sizeof e->text - len, "%s%s", i ? " " : "", tok[i]);
	return 0;
}

static int in_ranges(const struct scn_expect *e, const char *symbol)
{
	char sym[48];
	uint64_t off;
	int has_off = !sym_off(symbol, sym, sizeof sym, &off);
	for (int i = 0; i < e->nat; i++) {
		if (e->at[i].whole) {
			size_t n = strlen(e->at[i].sym);
			if (!strncmp(symbol, e->at[i].sym, n) && (symbol[n] == 0 || symbol[n] == '+'))
				return 1;
		} else if (has_off && !strcmp(sym, e->at[i].sym) && off >= e->at[i].lo && off <= e->at[i].hi) {
			return 1;
		}
	}
	return 0;
}

int scn_expect_met(const struct scn_expect *e, const struct probe_result *r, char *why, size_t whylen)
{
	if (e->pass) {
		if (r->pass)
			return 1;
		if (!r->invariants_ok)
			snprintf(why, whylen, "invariants: %s", r->invariants);
		else
			snprintf(why, whylen, "violations at %zu of %llu probed boundaries", r->nviolations,
				 (unsigned long long)r->probed);
		return 0;
	}
	if (e->invariant[0]) {
		if (r->invariants_ok) {
			snprintf(why, whylen, "the invariants held, expected a failure naming '%s'", e->invariant);
			return 0;
		}
		if (!strstr(r->invariants, e->invariant)) {
			snprintf(why, whylen, "invariants failed, but not with '%s': %s", e->invariant, r->invariants);
			return 0;
		}
	} else if (!r->invariants_ok) {
		/* A failure must be the named one: the guest's own checks hold. */
		snprintf(why, whylen, "invariants: %s", r->invariants);
		return 0;
	}
	if (r->pass) {
		snprintf(why, whylen, "passed, expected to fail");
		return 0;
	}
	for (int v = 0; v < VERDICT_COUNT; v++) {
		if (e->want[v] > 0 && r->verdicts[v] == 0) {
			snprintf(why, whylen, "no '%s' verdict", verdict_name((enum verdict)v));
			return 0;
		}
		if (e->want[v] < 0 && r->verdicts[v] != 0) {
			snprintf(why, whylen, "%llu '%s' verdicts, expected none",
				 (unsigned long long)r->verdicts[v], verdict_name((enum verdict)v));
			return 0;
		}
	}
	if (e->nat && r->violations_dropped) {
		snprintf(why, whylen, "%llu violations beyond the %d kept: the 'at' ranges cannot be checked",
			 (unsigned long long)r->violations_dropped, PROBE_MAX_VIOLATIONS);
		return 0;
	}
	if (e->nat)
		for (size_t i = 0; i < r->nviolations; i++)
			if (!in_ranges(e, r->violations[i].symbol)) {
				snprintf(why, whylen, "a '%s' violation at %s, outside the 'at' ranges",
					 verdict_name(r->violations[i].verdict), r->violations[i].symbol);
				return 0;
			}
	return 1;
}

/* --- settings shared by sections and mutant headers ------------------------------ */


void scn_settings_default(struct settings *s)
{
	memset(s, 0, sizeof *s);
	snprintf(s->context, sizeof s->context, "curg");
	s->era = -1;
	s->vdso = 1;
	snprintf(s->knobs, sizeof s->knobs, "-");
	s->sample_seed = 1;
}

static const char *const keys[] = {
	"about", "arch", "variant", "function", "context", "vdso", "knobs", "sigprof", "inject", "expect",
	"vdso_base", NULL,
};

/*
 * One setting: key and its words.  `mutant` forbids what a mutant file
 * fixes itself (arch, variant).  0, or -1 with msg.
 */
int scn_setting(struct settings *s, const char *key, char **w, int nw, int mutant, char *msg, size_t msglen)
{
	int k;
	for (k = 0; keys[k] && strcmp(keys[k], key); k++)
		;
	if (!keys[k]) {
		snprintf(msg, msglen, "unknown setting '%s' (arch, variant, function, context, vdso, vdso_base, "
			 "knobs, sigprof, inject, expect, about)", key);
		return -1;
	}
	if (mutant && (k == 1 || k == 2)) {
		snprintf(msg, msglen, "a mutant's %s is fixed by its file", key);
		return -1;
	}
	if (s->seen & (1u << k)) {
		snprintf(msg, msglen, "'%s' given twice", key);
		return -1;
	}
	s->seen |= 1u << k;
	if (k == 0)
		return 0;
	if (k == 9) {
		if (scn_expect_parse(w, nw, &s->expect, msg, msglen))
			return -1;
		s->have_expect = 1;
		return 0;
	}
	if (nw == 0) {
		snprintf(msg, msglen, "'%s' needs a value", key);
		return -1;
	}
	switch (k) {
	case 1:		/* arch */
		for (int i = 0; i < nw; i++) {
			if (!strcmp(w[i], "*") && nw == 1)
				return 0;
			if (!arch_ops_find(w[i]) || s->narch == 8) {
				snprintf(msg, msglen, "unknown arch '%s'", w[i]);
				return -1;
			}
			snprintf(s->arch[s->narch++], sizeof s->arch[0], "%s", w[i]);
		}
		return 0;
	case 2:		/* variant */
		for (int i = 0; i < nw; i++) {
			if (s->nvariant == 16 || strlen(w[i]) >= sizeof s->variant[0] || strchr(w[i], '/')) {
				snprintf(msg, msglen, "bad variant '%s'", w[i]);
				return -1;
			}
			snprintf(s->variant[s->nvariant++], sizeof s->variant[0], "%s", w[i]);
		}
		return 0;
	case 3:		/* function */
		for (int i = 0; i < nw; i++) {
			if (!strcmp(w[i], "*") && nw == 1)
				return 0;
			/* The real Go fixture's trampolines are named as Go names
			 * them (checked against the variant in expand). */
			if ((strcmp(w[i], "walltime") && strcmp(w[i], "nanotime") && strcmp(w[i], "nanotime1") &&
			     strcmp(w[i], "time.now")) || s->nfunction == 2) {
				snprintf(msg, msglen, "unknown function '%s' (walltime, nanotime or *; "
					 "for go-fixture: nanotime1, walltime, time.now)", w[i]);
				return -1;
			}
			snprintf(s->function[s->nfunction++], sizeof s->function[0], "%s", w[i]);
		}
		return 0;
	case 4:		/* context */
		if (nw != 1 || (strcmp(w[0], "curg") && strcmp(w[0], "g0") && strcmp(w[0], "gsignal"))) {
			snprintf(msg, msglen, "unknown context '%s' (curg, g0 or gsignal)", w[0]);
			return -1;
		}
		snprintf(s->context, sizeof s->context, "%s", w[0]);
		return 0;
	case 5:		/* vdso */
		if (nw != 1 || (strcmp(w[0], "present") && strcmp(w[0], "absent"))) {
			snprintf(msg, msglen, "vdso is 'present' or 'absent' (the fallback path), not '%s'", w[0]);
			return -1;
		}
		s->vdso = !strcmp(w[0], "present");
		return 0;
	case 6: {	/* knobs: words, or one comma-separated word */
		char all[128] = "";
		for (int i = 0; i < nw; i++)
			snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", i ? "," : "", w[i]);
		if (!strcmp(all, "none"))
			return 0;
		char *save, *t;
		char copy[128];
		snprintf(copy, sizeof copy, "%s", all);
		for (t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			uint64_t n;
			if (!strcmp(t, "clobber"))
				s->clobber = 1;
			else if (!strcmp(t, "callee_saved"))
				s->callee_saved = 1;
			else if (!strcmp(t, "sse_align"))
				s->sse_align = 1;
			else if (!strncmp(t, "stack=", 6) && !cli_parse_u64(t + 6, 0, &n) && n > 0 && n < (1u << 24))
				s->stack_bytes = (uint32_t)n;
			else {
				snprintf(msg, msglen, "unknown knob '%s' (none, clobber, callee_saved, stack=BYTES, sse_align)", t);
				return -1;
			}
		}
		snprintf(s->knobs, sizeof s->knobs, "%s", all);
		return 0;
	}
	case 7:		/* sigprof */
		if (nw != 1 || (strcmp(w[0], "own") && cli_era_from_name(w[0]) < 0)) {
			snprintf(msg, msglen, "unknown sigprof era '%s' (own, go1.10, go1.11, go1.19 or modern)", w[0]);
			return -1;
		}
		s->era = strcmp(w[0], "own") ? cli_era_from_name(w[0]) : -1;
		return 0;
	case 8:		/* inject */
		if (nw == 1 && !strcmp(w[0], "every")) {
			s->inject = PROBE_EVERY;
			return 0;
		}
		if (nw == 1 && !strcmp(w[0], "nested")) {
			s->inject = PROBE_NESTED;
			return 0;
		}
		if (!strncmp(w[0], "sample:", 7) && nw <= 2 && !cli_parse_u64(w[0] + 7, 0, &s->sample_n) &&
		    s->sample_n > 0 &&
		    (nw == 1 || (!strncmp(w[1], "seed=", 5) && !cli_parse_u64(w[1] + 5, 0, &s->sample_seed)))) {
			s->inject = PROBE_SAMPLE;
			return 0;
		}
		snprintf(msg, msglen, "bad inject '%s%s%s' (every, nested, or sample:N [seed=S])", w[0],
			 nw > 1 ? " " : "", nw > 1 ? w[1] : "");
		return -1;
	case 10:	/* vdso_base: checked against each arch's layout once the arches are known */
		if (nw != 1 || cli_parse_u64(w[0], 0, &s->vdso_base) || !s->vdso_base) {
			snprintf(msg, msglen, "bad vdso_base '%s' (an address, e.g. 0x200000)", w[0]);
			return -1;
		}
		return 0;
	}
	return 0;
}

/* A vdso_base must suit every arch its rows run on, and a vDSO that is
 * there.  0, or -1 with msg. */
int scn_vdso_base_fits(const struct settings *s, const struct arch_ops *ops, char *msg, size_t msglen)
{
	char err[LOADER_ERR_MAX];
	if (!s->vdso_base)
		return 0;
	if (!s->vdso) {
		snprintf(msg, msglen, "vdso_base with vdso absent: there is no vDSO to place");
		return -1;
	}
	if (loader_vdso_base_usable(ops, s->vdso_base, err)) {
		snprintf(msg, msglen, "vdso_base on %s: %s", ops->name, err);
		return -1;
	}
	return 0;
}

/* --- rows ---------------------------------------------------------------------- */

static int push_row(struct scn_rows *rows, const struct scn_row *r)
{
	struct scn_row *n = realloc(rows->v, (rows->n + 1) * sizeof *n);
	if (!n)
		return -1;
	rows->v = n;
	rows->v[rows->n++] = *r;
	return 0;
}

void scn_row_from(struct scn_row *r, const struct settings *s)
{
	snprintf(r->context, sizeof r->context, "%s", s->context);
	r->era = s->era;
	r->vdso = s->vdso;
	r->vdso_base = s->vdso_base;
	r->knob_clobber = s->clobber;
	r->knob_callee_saved = s->callee_saved;
	r->knob_stack_bytes = s->stack_bytes;
	r->knob_sse_align = s->sse_align;
	snprintf(r->knobs, sizeof r->knobs, "%s", s->knobs);
	r->inject = s->inject;
	r->sample_n = s->sample_n;
	r->sample_seed = s->sample_seed;
	r->expect = s->expect;
}

/*
 * variant go-fixture: the real Go program of fixtures/go, as `sigstep go`
 * probes it (its 200th call of each trampoline): functions nanotime1 and
 * walltime, which is time.now where the arch says so (arch_ops
 * go_walltime: amd64's Go 1.19 has no runtime.walltime).  An arch whose fixture was not built (no Go toolchain) has no
 * rows.
 */
static int expand_go(const struct settings *s, const char *name, const char *path, int line, const char *build_dir,
		     const struct arch_ops *const *arches, int narch, struct scn_rows *rows, char *msg, size_t msglen)
{
	for (int a = 0; a < narch; a++) {
		char program[PATH_MAX + 64];
		snprintf(program, sizeof program, "%s/go/%s/sigstep-go-fixture", build_dir, arches[a]->name);
		if (access(program, X_OK))
			continue;
		const char *wall = arches[a]->go_walltime;
		int wall_is_time_now = !strcmp(wall, "time.now");
		const char *def[2] = { "nanotime1", wall };
		int nf = s->nfunction ? s->nfunction : 2;
		for (int f = 0; f < nf; f++) {
			const char *fn = s->nfunction ? s->function[f] : def[f];
			if (!strcmp(fn, "walltime") && wall_is_time_now)
				continue;	/* this arch's is time.now */
			if (!strcmp(fn, "nanotime") || (!strcmp(fn, "time.now") && !wall_is_time_now)) {
				snprintf(msg, msglen, "function '%s' is not a trampoline of the Go fixture on %s", fn,
					 arches[a]->name);
				return -1;
			}
			struct scn_row r;
			memset(&r, 0, sizeof r);
			snprintf(r.source, sizeof r.source, "%s:%d", path, line);
			snprintf(r.name, sizeof r.name, "%s", name);
			r.ops = arches[a];
			snprintf(r.variant, sizeof r.variant, "%s", SCN_GO_FIXTURE);
			snprintf(r.program, sizeof r.program, "%s", program);
			snprintf(r.function, sizeof r.function, "%s", fn);
			scn_row_from(&r, s);
			if (push_row(rows, &r)) {
				snprintf(msg, msglen, "out of memory");
				return -1;
			}
		}
	}
	return 0;
}

/* A finished section: its rows (arch x variant x function). */
static int expand(const struct settings *s, const char *name, const char *path, int line, const char *build_dir,
		  struct scn_rows *rows, char *msg, size_t msglen)
{
	if (!s->nvariant) {
		snprintf(msg, msglen, "section [%s] has no 'variant'", name);
		return -1;
	}
	if (!s->have_expect) {
		snprintf(msg, msglen, "section [%s] has no 'expect'", name);
		return -1;
	}
	const struct arch_ops *arches[16];
	int narch = 0;
	if (s->narch)
		for (int i = 0; i < s->narch; i++)
			arches[narch++] = arch_ops_find(s->arch[i]);
	else
		for (const struct arch_ops *const *o = arch_ops_all; *o && narch < 16; o++)
			arches[narch++] = *o;
	cli_sort_arches(arches, (size_t)narch);		/* report order: by name */
	for (int a = 0; a < narch; a++)
		if (scn_vdso_base_fits(s, arches[a], msg, msglen))
			return -1;
	static const char *const both[] = { "nanotime", "walltime" };
	if (s->nvariant == 1 && !strcmp(s->variant[0], SCN_GO_FIXTURE))
		return expand_go(s, name, path, line, build_dir, arches, narch, rows, msg, msglen);
	for (int f = 0; f < s->nfunction; f++)
		if (strcmp(s->function[f], "walltime") && strcmp(s->function[f], "nanotime")) {
			snprintf(msg, msglen, "function '%s' is the real Go fixture's (variant %s)", s->function[f],
				 SCN_GO_FIXTURE);
			return -1;
		}
	for (int a = 0; a < narch; a++) {
		char built[32][64];
		int nb = cli_built_variants(build_dir, arches[a]->name, built, 32);
		if (nb <= 0) {
			snprintf(msg, msglen, "no variants built for %s in %s/guest (build the project first)",
				 arches[a]->name, build_dir);
			return -1;
		}
		int all = s->nvariant == 1 && !strcmp(s->variant[0], "*");
		for (int v = 0; v < (all ? nb : s->nvariant); v++) {
			const char *variant = all ? built[v] : s->variant[v];
			int known = 0;
			for (int b = 0; b < nb; b++)
				known |= !strcmp(built[b], variant);
			if (!known) {
				snprintf(msg, msglen, "unknown variant '%s' for %s", variant, arches[a]->name);
				return -1;
			}
			int nf = s->nfunction ? s->nfunction : 2;
			for (int f = 0; f < nf; f++) {
				struct scn_row r;
				memset(&r, 0, sizeof r);
				snprintf(r.source, sizeof r.source, "%s:%d", path, line);
				snprintf(r.name, sizeof r.name, "%s", name);
				r.ops = arches[a];
				snprintf(r.variant, sizeof r.variant, "%s", variant);
				snprintf(r.function, sizeof r.function, "%s", s->nfunction ? s->function[f] : both[f]);
				scn_row_from(&r, s);
				if (push_row(rows, &r)) {
					snprintf(msg, msglen, "out of memory");
					return -1;
				}
			}
		}
	}
	return 0;
}

/* Splits a line into words; -1 if more than max. */
static int words(char *line, char **tok, int max)
{
	int n = 0;
	for (char *save, *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return -1;
		tok[n++] = t;
	}
	return n;
}

/*
 * One line of f into line (n bytes), whole: 0; 1 at the end of the file;
 * -1 with msg for a line longer than n - 1 bytes, a NUL byte in it (a text
 * file has none) or a read error.
 */
static int read_line(FILE *f, char *line, size_t n, char *msg, size_t msglen)
{
	size_t len = 0;
	int c;
	while ((c = getc(f)) != EOF) {
		if (c == 0) {
			line[len] = 0;
			snprintf(msg, msglen, "a NUL byte at column %zu (not a text file?)", len + 1);
			return -1;
		}
		if (len + 1 == n) {
			line[len] = 0;
			snprintf(msg, msglen, "line longer than %zu bytes", n - 1);
			return -1;
		}
		line[len++] = (char)c;
		if (c == '\n')
			break;
	}
	line[len] = 0;
	if (ferror(f)) {
		snprintf(msg, msglen, "cannot read: %s", strerror(errno));
		return -1;
	}
	return len == 0 ? 1 : 0;
}

int scn_next_words(FILE *f, char *line, size_t n, int *lineno, char **tok, int max, char *msg, size_t msglen)
{
	int r = read_line(f, line, n, msg, msglen);
	if (r > 0)
		return -1;
	++*lineno;
	if (r < 0)
		return -2;
	line[strcspn(line, "#\n")] = 0;
	int k = words(line, tok, max);
	if (k < 0) {
		snprintf(msg, msglen, "too many words");
		return -2;
	}
	return k;
}

/* "PATH:LINE: message" on stderr, escaped (the message may quote input). */
static void scn_put_error(const char *path, int lineno, const char *msg)
{
	char where[PATH_MAX + 600];
	snprintf(where, sizeof where, "%s:%d: %s", path, lineno, msg);
	cli_put_line(stderr, where);
}

/* The file name as the messages give it: relative to scenarios/ when under it. */
static const char *shown(const char *path)
{
	const char *p = strstr(path, "scenarios/");
	return p ? p : path;
}

int scn_read_file(const char *path, const char *build_dir, struct scn_rows *rows)
{
	FILE *f = cli_open_input(path);
	if (!f) {
		cli_fail("%s: %s", path, strerror(errno));
		return 2;
	}
	char line[1024], msg[400] = "", name[64] = "";
	int lineno = 0, section_line = 0, in_section = 0, sections = 0;
	struct settings s;
	scn_settings_default(&s);
	char *tok[64];
	int n;
	while ((n = scn_next_words(f, line, sizeof line, &lineno, tok, 64, msg, sizeof msg)) >= 0) {
		if (n == 0)
			continue;
		if (tok[0][0] == '[') {
			size_t len = strlen(tok[0]);
			if (n != 1 || len < 3 || tok[0][len - 1] != ']' || len - 2 >= sizeof name) {
				snprintf(msg, sizeof msg, "expected '[name]'");
				break;
			}
			if (in_section && expand(&s, name, shown(path), section_line, build_dir, rows, msg, sizeof msg)) {
				lineno = section_line;
				break;
			}
			memcpy(name, tok[0] + 1, len - 2);
			name[len - 2] = 0;
			scn_settings_default(&s);
			in_section = 1;
			section_line = lineno;
			sections++;
			continue;
		}
		if (!in_section) {
			snprintf(msg, sizeof msg, "'%s' outside a [section]", tok[0]);
			break;
		}
		if (scn_setting(&s, tok[0], tok + 1, n - 1, 0, msg, sizeof msg))
			break;
	}
	if (!msg[0] && ferror(f))
		snprintf(msg, sizeof msg, "read error");
	if (!msg[0] && in_section && expand(&s, name, shown(path), section_line, build_dir, rows, msg, sizeof msg))
		lineno = section_line;
	if (!msg[0] && !sections)
		snprintf(msg, sizeof msg, "no [section] in the file");
	fclose(f);
	if (msg[0]) {
		scn_put_error(path, lineno, msg);
		return 2;
	}
	return 0;
}

int scn_read_mutant(const char *path, const struct arch_ops *ops, struct scn_rows *rows)
{
	FILE *f = cli_open_input(path);
	if (!f) {
		cli_fail("%s: %s", path, strerror(errno));
		return 2;
	}
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char stem[64];
	snprintf(stem, sizeof stem, "%.*s", (int)strcspn(base, "."), base);
	char line[1024], msg[400] = "";
	int lineno = 0, found = 0;
	static const char tag[] = "// expect:";
	for (int r; (r = read_line(f, line, sizeof line, msg, sizeof msg)) <= 0;) {
		lineno++;
		if (r < 0) {
			/* a long line elsewhere in the file is the assembler's business */
			if (strncmp(line, tag, sizeof tag - 1) && !strstr(msg, "NUL")) {
				msg[0] = 0;
				for (int c; (c = getc(f)) != EOF && c != '\n';)
					;
				continue;
			}
			break;
		}
		if (strncmp(line, tag, sizeof tag - 1))
			continue;
		char *tok[64];
		int n = words(line + sizeof tag - 1, tok, 64);
		if (n < 0) {
			snprintf(msg, sizeof msg, "too many words");
			break;
		}
		struct settings s;
		scn_settings_default(&s);
		int i = 0, seed_given = 0;
		for (; i < n && strchr(tok[i], '='); i++) {
			char *eq = strchr(tok[i], '=');
			*eq = 0;
			/* "inject=sample:N seed=S", as a section writes "inject
			 * sample:N seed=S": the seed is the inject's second word. */
			if (!strcmp(tok[i], "seed")) {
				if (s.inject != PROBE_SAMPLE || seed_given) {
					snprintf(msg, sizeof msg, "'seed=' %s", seed_given ? "given twice" :
						 "belongs to inject=sample:N (after it)");
					break;
				}
				if (cli_parse_u64(eq + 1, 0, &s.sample_seed)) {
					snprintf(msg, sizeof msg, "bad seed '%s' (a whole number)", eq + 1);
					break;
				}
				seed_given = 1;
				continue;
			}
			char *val[16];
			int nv = 0;
			for (char *save, *t = strtok_r(eq + 1, ",", &save); t && nv < 16; t = strtok_r(NULL, ",", &save))
				val[nv++] = t;
			if (scn_setting(&s, tok[i], val, nv, 1, msg, sizeof msg))
				break;
			seed_given |= s.inject == PROBE_SAMPLE && nv > 1;
		}
		if (msg[0])
			break;
		if (scn_expect_parse(tok + i, n - i, &s.expect, msg, sizeof msg))
			break;
		if (scn_vdso_base_fits(&s, ops, msg, sizeof msg))
			break;
		struct scn_row r;
		memset(&r, 0, sizeof r);
		snprintf(r.source, sizeof r.source, "%s:%d", shown(path), lineno);
		snprintf(r.name, sizeof r.name, "%s", stem);
		r.ops = ops;
		snprintf(r.variant, sizeof r.variant, "%s", stem);
		snprintf(r.mutant, sizeof r.mutant, "%s", path);
		static const char *const both[] = { "nanotime", "walltime" };
		int nf = s.nfunction ? s.nfunction : 2;
		scn_row_from(&r, &s);
		for (int k = 0; k < nf; k++) {
			snprintf(r.function, sizeof r.function, "%s", s.nfunction ? s.function[k] : both[k]);
			if (push_row(rows, &r)) {
				snprintf(msg, sizeof msg, "out of memory");
				break;
			}
		}
		found++;
	}
	if (!msg[0] && !found) {
		lineno = 1;
		snprintf(msg, sizeof msg, "no '// expect:' line: a mutant must say what it breaks");
	}
	fclose(f);
	if (msg[0]) {
		scn_put_error(path, lineno, msg);
		return 2;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir ending in `suffix`, sorted; -1 if dir cannot be read. */
static int list_dir(const char *dir, const char *suffix, char ***out)
{
	DIR *d = opendir(dir);
	*out = NULL;
	if (!d)
		return -1;
	int n = 0, cap = 0;
	char **v = NULL;
	size_t sl = strlen(suffix);
	for (struct dirent *e; (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (len <= sl || strcmp(e->d_name + len - sl, suffix) || e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			char **nv = realloc(v, (size_t)cap * sizeof *nv);
			if (!nv)
				break;
			v = nv;
		}
		v[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(v, (size_t)n, sizeof *v, cmp_str);
	*out = v;
	return n;
}

int scn_read_all(const char *src_dir, const char *build_dir, struct scn_rows *rows)
{
	char dir[PATH_MAX], path[PATH_MAX * 2];
	char **names;
	int rc = 0;
	snprintf(dir, sizeof dir, "%s/scenarios", src_dir);
	int n = list_dir(dir, ".scn", &names);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (!rc)
			rc = scn_read_file(path, build_dir, rows);
		free(names[i]);
	}
	free(names);
	const struct arch_ops *arches[16];
	int narch = 0;
	for (const struct arch_ops *const *o = arch_ops_all; *o && narch < 16; o++)
		arches[narch++] = *o;
	cli_sort_arches(arches, (size_t)narch);
	for (int a = 0; a < narch && !rc; a++) {
		snprintf(dir, sizeof dir, "%s/scenarios/mutants/%s", src_dir, arches[a]->name);
		n = list_dir(dir, ".S", &names);
		for (int i = 0; i < n; i++) {
			snprintf(path, sizeof path, "%s/%s", dir, names[i]);
			if (!rc)
				rc = scn_read_mutant(path, arches[a], rows);
			free(names[i]);
		}
		free(names);
	}
	return rc;
}

void scn_rows_free(struct scn_rows *rows)
{
	free(rows->v);
	rows->v = NULL;
	rows->n = 0;
}

void scn_row_config(const struct scn_row *r, const char *build_dir, const char *image, struct probe_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->ops = r->ops;
	cfg->build_dir = build_dir;
	cfg->variant = r->variant;
	cfg->image_path = image;
	cfg->function = r->function;
	cfg->context = r->context;
	cfg->era = r->era;
	cfg->vdso = r->vdso;
	cfg->vdso_base = r->vdso_base;
	cfg->knob_clobber = r->knob_clobber;
	cfg->knob_callee_saved = r->knob_callee_saved;
	cfg->knob_stack_bytes = r->knob_stack_bytes;
	cfg->knob_sse_align = r->knob_sse_align;
	cfg->inject = r->inject;
	cfg->sample_n = r->sample_n;
	cfg->sample_seed = r->sample_seed;
	if (!strcmp(r->variant, SCN_GO_FIXTURE)) {
		cfg->subject = &probe_subject_go;
		cfg->program = r->program;
		cfg->variant = NULL;
		cfg->call = SCN_GO_CALL;
		static const char *const args[] = { "-iterations", SCN_GO_ITERATIONS };
		cfg->program_args = args;
		cfg->nprogram_args = 2;
	}
}
