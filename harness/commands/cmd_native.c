/*
 * sigstep native: the guest image as a real process -- on this machine's
 * CPU where it runs the arch (amd64 on x86-64), else under the arch's
 * qemu-user -- with the guest's own injection (fixtures/inject.h: step,
 * break, itimer) and oracle.  The guest prints a line per violating
 * boundary and a summary; this reads them back into the record `sigstep
 * run` gives (harness/probe/probe.h), with engine "native" or "qemu".
 *
 * --compare puts the methods side by side for one configuration: Unicorn
 * at every boundary, step, break, and itimer given the time the slowest
 * exhaustive method took (or --budget-ms).
 *
 * Which emulator runs an arch is a fact of the arch (arch_ops.qemu_user);
 * whether this machine's CPU runs it is found by trying the image
 * (harness/native/host.h); whether an arch can step is the guest's to say
 * (it exits 2 with one line: no trap flag).
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "host.h"
#include "json.h"
#include "report.h"
#include "loader.h"
#include "probe.h"

#define DEFAULT_BUDGET_MS 1000
#define DEFAULT_TIMEOUT_S 600

enum emulator { EMU_AUTO, EMU_QEMU, EMU_HOST };

struct native_config {
	const struct arch_ops *ops;
	const char *build_dir, *variant, *function, *context;
	const char *image_path;		/* a user's FILE.S built as `sigstep check` builds it; NULL: the variant's */
	const char *inject;		/* "step", "break", "itimer" */
	enum emulator emulator;
	const char *vdso;		/* "kernel", "synthetic"; NULL: kernel on the host, else synthetic */
	uint64_t budget_ms;		/* itimer, per chain; 0: the guest's default */
	int singlestep;			/* itimer under qemu: -singlestep */
	int list;			/* --list-boundaries: keep the guest's boundary lines */
	unsigned timeout_s;
};

/* One run's record: probe_result's fields plus what only native runs have. */
struct native_result {
	struct probe_result r;
	char inject[16], engine[8], emulator[48], vdso_kind[16];
	int itimer;
	uint64_t sampled, total, extra, signals, budget_ms;
	int64_t first_violation_us;	/* -1: none */
	uint64_t skipped_vdso;
	size_t violating_pcs;		/* distinct pcs among the violations */
	char *out, *err;		/* what the guest printed */
	size_t outlen, errlen;
	int status;			/* exit status; 128 + n: killed by signal n */
	int timed_out;
};

static int die(const char *fmt, const char *a, const char *b)
{
	return cli_fail_in("native", fmt, a, b);
}

/* strcpy cut to n bytes (texts that may be cut on purpose). */
static void copy(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);
	if (len >= n)
		len = n - 1;
	memcpy(dst, src, len);
	dst[len] = 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- Running the guest ---------------------------------------------------- */

/* Is `name` an executable in PATH (or a path)? */
static int in_path(const char *name)
{
	if (strchr(name, '/'))
		return access(name, X_OK) == 0;
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, name);
		if (n && access(buf, X_OK) == 0)
			return 1;
		p += n + (p[n] == ':');
	}
	return 0;
}

static int append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : 8192;
		while (*len + n + 1 > c)
			c *= 2;
		char *p = realloc(*buf, c);
		if (!p)
			return -1;
		*buf = p;
		*cap = c;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = 0;
	return 0;
}

/* Runs argv, collecting stdout and stderr; kills it after timeout_s. */
static int spawn(char *const *argv, unsigned timeout_s, struct native_result *nr, char *err, size_t errlen)
{
	int po[2], pe[2];
	if (pipe(po) || pipe(pe)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	size_t ocap = 0, ecap = 0;
	struct pollfd fds[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
	int open_fds = 2;
	double deadline = now_s() + timeout_s;
	while (open_fds) {
		int left = (int)((deadline - now_s()) * 1000);
		if (left <= 0) {
			nr->timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(fds, 2, left) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char chunk[65536];
			ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
			if (n <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 0 ? append(&nr->out, &nr->outlen, &ocap, chunk, (size_t)n)
				   : append(&nr->err, &nr->errlen, &ecap, chunk, (size_t)n)) {
				snprintf(err, errlen, "out of memory");
				kill(pid, SIGKILL);
				open_fds = 0;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	int ws;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	nr->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	if (!nr->out)
		append(&nr->out, &nr->outlen, &ocap, "", 0);
	if (!nr->err)
		append(&nr->err, &nr->errlen, &ecap, "", 0);
	return err[0] ? -1 : 0;
}

/* --- Reading what the guest printed -------------------------------------- */

/* The value of " name=" in line, as a number; 0 if absent. */
static int field(const char *line, const char *name, int64_t *v)
{
	char key[48];
	snprintf(key, sizeof key, " %s=", name);
	const char *p = strstr(line, key);
	if (!p)
		return 0;
	*v = strtoll(p + strlen(key), NULL, 10);
	return 1;
}

/* "[0x1,0x2]" into pcs; the count. */
static int parse_pcs(const char *p, uint64_t *pcs)
{
	int n = 0;
	if (*p++ != '[')
		return 0;
	while (*p && *p != ']' && n < PROBE_MAX_FRAMES) {
		char *end;
		pcs[n++] = strtoull(p, &end, 0);
		if (end == p)
			break;
		p = end + (*end == ',');
	}
	return n;
}

/* The guest image's symbols and code, for the violations' frames. */
struct image_info {
	uint8_t *buf;
	size_t len;
	struct elf_image img;
	int ok;
};

static void image_open(struct image_info *ii, const struct arch_ops *ops, const char *path)
{
	char err[LOADER_ERR_MAX];
	FILE *f = fopen(path, "rb");
	memset(ii, 0, sizeof *ii);
	if (!f)
		return;
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && st.st_size > 0 && (ii->buf = malloc((size_t)st.st_size)) &&
	    fread(ii->buf, 1, (size_t)st.st_size, f) == (size_t)st.st_size) {
		ii->len = (size_t)st.st_size;
		ii->ok = elf_parse(ii->buf, ii->len, ops, ET_EXEC, 0, &ii->img, err) == 0;
	}
	fclose(f);
}

static void image_close(struct image_info *ii)
{
	if (ii->ok)
		elf_image_free(&ii->img);
	free(ii->buf);
}

static void symbolize(const struct image_info *ii, uint64_t pc, char *buf, size_t n)
{
	uint64_t off;
	const char *name = ii->ok ? symtab_lookup(&ii->img.syms, pc, &off) : NULL;
	if (name)
		snprintf(buf, n, "%s+0x%" PRIx64, name, off);
	else
		snprintf(buf, n, "0x%" PRIx64, pc);
}

static void disassemble(const struct image_info *ii, const struct arch_ops *ops, uint64_t pc, char *buf, size_t n)
{
	buf[0] = 0;
	if (!ii->ok)
		return;
	for (unsigned i = 0; i < ii->img.nseg; i++) {
		const struct segment *s = &ii->img.seg[i];
		if (pc < s->vaddr || pc >= s->vaddr + s->filesz)
			continue;
		csh cs;
		cs_insn *insn;
		size_t off = (size_t)(s->offset + (pc - s->vaddr)), len = 16;
		if (off + len > ii->len)
			len = ii->len - off;
		if (cs_open(ops->cs_arch, ops->cs_mode, &cs) != CS_ERR_OK)
			return;
		if (cs_disasm(cs, ii->buf + off, len, pc, 1, &insn) == 1) {
		{
			char text[256];
			snprintf(text, sizeof text, "%.31s %.200s", insn->mnemonic, insn->op_str);
			copy(buf, n, text);
		}
			cs_free(insn, 1);
		}
		cs_close(&cs);
		return;
	}
}

static void invariant(struct probe_result *r, const char *what, size_t len)
{
	size_t have = strlen(r->invariants);
	r->invariants_ok = 0;
	snprintf(r->invariants + have, sizeof r->invariants - have, "%s%.*s", have ? "; " : "", (int)len, what);
}

static int parse_violation(const char *line, struct native_result *nr, const struct image_info *ii,
			   const struct arch_ops *ops)
{
	struct violation v;
	char sym[64], verdict[16];
	memset(&v, 0, sizeof v);
	if (sscanf(line, "violation %" SCNx64 " %63s %15s", &v.pc, sym, verdict) != 3)
		return 0;
	v.verdict = verdict_from_name(verdict);
	if (v.verdict == VERDICT_COUNT)
		return 0;
	snprintf(v.symbol, sizeof v.symbol, "%s", sym);
	disassemble(ii, ops, v.pc, v.insn, sizeof v.insn);
	const char *e = strstr(line, " expected="), *g = strstr(line, " got=");
	if (e)
		v.nexpected = parse_pcs(e + 10, v.expected);
	if (g)
		v.ngot = parse_pcs(g + 5, v.got);
	for (int i = 0; i < v.nexpected; i++)
		symbolize(ii, v.expected[i], v.expected_sym[i], PROBE_SYM_MAX);
	for (int i = 0; i < v.ngot; i++)
		symbolize(ii, v.got[i], v.got_sym[i], PROBE_SYM_MAX);
	if (!strncmp(sym, "vdso+", 5) && v.nexpected)	/* the guest knows where it mapped it */
		copy(v.expected_sym[0], PROBE_SYM_MAX, sym);
	if (v.verdict == VERDICT_FAULT)
		snprintf(v.detail, sizeof v.detail, "the handler faulted (SIGSEGV/SIGBUS caught in the guest)");

	struct probe_result *r = &nr->r;
	struct violation *nv = realloc(r->violations, (r->nviolations + 1) * sizeof *nv);
	if (!nv)
		return -1;
	r->violations = nv;
	int seen = 0;
	for (size_t i = 0; i < r->nviolations; i++)
		seen |= nv[i].pc == v.pc;
	nr->violating_pcs += !seen;
	nv[r->nviolations++] = v;
	return 0;
}

/* The guest's output into the record; 0, -1 out of memory. */
static int parse_output(struct native_result *nr, const struct image_info *ii, const struct arch_ops *ops)
{
	struct probe_result *r = &nr->r;
	int summary = 0;
	char head[64];

	r->invariants_ok = 1;
	snprintf(head, sizeof head, "inject %s boundaries=", nr->inject);
	for (char *line = nr->out, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		size_t len = next ? (size_t)(next - line) : strlen(line);
		if (next)
			*next++ = 0;
		int64_t x;
		if (!strncmp(line, "violation ", 10)) {
			if (parse_violation(line, nr, ii, ops))
				return -1;
		} else if (!strncmp(line, head, strlen(head))) {
			summary = 1;
			field(line, "boundaries", &x), r->boundaries = (uint64_t)x;
			for (int v = 0; v < VERDICT_COUNT; v++)
				if (field(line, verdict_name((enum verdict)v), &x))
					r->verdicts[v] = (uint64_t)x;
			nr->first_violation_us = field(line, "first-violation-us", &x) ? x : -1;
			if (nr->itimer) {
				field(line, "sampled", &x), nr->sampled = (uint64_t)x;
				field(line, "total", &x), nr->total = (uint64_t)x;
				field(line, "extra", &x), nr->extra = (uint64_t)x;
				field(line, "signals", &x), nr->signals = (uint64_t)x;
				field(line, "budget-ms", &x), nr->budget_ms = (uint64_t)x;
			}
		} else if (!strncmp(line, "inject-break ", 13)) {
			if (field(line, "skipped-vdso", &x))
				nr->skipped_vdso += (uint64_t)x;
		} else if (!strncmp(line, "guest ", 6)) {
			const char *era = strstr(line, " era=");
			if (era)
				sscanf(era + 5, "%7s", r->era_name);
		} else if ((!strncmp(line, "check ", 6) && strstr(line, " FAIL ")) ||
			   !strncmp(line, "inject-run FAIL", 15) || !strncmp(line, "inject: ", 8)) {
			invariant(r, line, len);
		}
		if (next)
			next[-1] = '\n';	/* the output stays printable */
	}
	if (nr->timed_out)
		invariant(r, "the guest did not finish in time (a handler that hangs?)", 57);
	else if (nr->status >= 128) {
		char what[64];
		snprintf(what, sizeof what, "the guest died of signal %d", nr->status - 128);
		invariant(r, what, strlen(what));
	} else if (!summary)
		invariant(r, "no summary line from the guest", 30);
	if (r->boundaries == 0)
		invariant(r, "no boundary was judged", 22);
	int all = 1;
	for (int v = 0; v < VERDICT_COUNT; v++)
		if (!verdict_passes((enum verdict)v) && r->verdicts[v])
			all = 0;
	r->pass = all && r->invariants_ok && nr->status == 0;
	return 0;
}

/* The guest's first stderr line (its reason for exit 2). */
static void first_line(const char *s, char *buf, size_t n)
{
	const char *p = s && *s ? s : "(no message)";
	if (!strncmp(p, "sigstep-guest: ", 15))
		p += 15;
	snprintf(buf, n, "%.*s", (int)strcspn(p, "\n"), p);
}

/*
 * One native run.  0: ran (nr filled); 2: unusable input or nothing could
 * run, with one line in err.
 */
static int native_run(const struct native_config *c, struct native_result *nr, char *err, size_t errlen)
{
	const struct arch_ops *ops = c->ops;
	char image[PATH_MAX + 96];

	memset(nr, 0, sizeof *nr);
	nr->first_violation_us = -1;
	err[0] = 0;
	if (c->image_path)
		copy(image, sizeof image, c->image_path);
	else
		snprintf(image, sizeof image, "%s/guest/%s/sigstep-guest-%s", c->build_dir, ops->name, c->variant);
	if (access(image, R_OK | X_OK)) {
		if (c->image_path)
			snprintf(err, errlen, "no image %.400s", image);
		else
			snprintf(err, errlen, "unknown variant '%.60s' (no image for it in %.400s)", c->variant,
				 c->build_dir);
		return 2;
	}
	const struct host_support *hs = c->emulator == EMU_QEMU ? NULL : host_support(ops, image);
	int host = c->emulator == EMU_HOST || (c->emulator == EMU_AUTO && hs->runs);
	if (host && !hs->runs) {
		snprintf(err, errlen, "--emulator host: %.200s; use --emulator qemu", hs->why);
		return 2;
	}
	if (!host && !in_path(ops->qemu_user)) {
		snprintf(err, errlen, "%s is not installed (ci/bootstrap.sh installs it)", ops->qemu_user);
		return 2;
	}
	/* On the host the kernel's vDSO unless it gives this arch none. */
	const char *vdso = c->vdso ? c->vdso : host && hs->kernel_vdso ? "kernel" : "synthetic";
	if (!host && !strcmp(vdso, "kernel")) {
		snprintf(err, errlen, "--vdso kernel: %s gives its guests no vDSO; only the host has one", ops->qemu_user);
		return 2;
	}
	if (host && !strcmp(vdso, "kernel") && !hs->kernel_vdso) {
		snprintf(err, errlen, "--vdso kernel: this machine's kernel gives %s programs no vDSO", ops->name);
		return 2;
	}

	char budget[24], *argv[32];
	int n = 0;
	int itimer = !strcmp(c->inject, "itimer");
	if (!host) {
		argv[n++] = (char *)ops->qemu_user;
		/* A signal reaches a qemu guest only between translated blocks;
		 * -singlestep makes every instruction one, so a sample can land
		 * on any boundary, as on hardware. */
		if (itimer && c->singlestep)
			argv[n++] = "-singlestep";
	}
	argv[n++] = image;
	argv[n++] = "--vdso", argv[n++] = (char *)vdso;
	argv[n++] = "--context", argv[n++] = (char *)c->context;
	argv[n++] = "--function", argv[n++] = (char *)c->function;
	argv[n++] = "--inject", argv[n++] = (char *)c->inject;
	if (itimer && c->budget_ms) {
		snprintf(budget, sizeof budget, "%" PRIu64, c->budget_ms);
		argv[n++] = "--budget-ms", argv[n++] = budget;
	}
	if (!itimer)
		argv[n++] = "--iterations", argv[n++] = "1";	/* every boundary once is the point */
	if (c->list)
		argv[n++] = "--list-boundaries";
	argv[n] = NULL;

	struct probe_result *r = &nr->r;
	snprintf(r->arch, sizeof r->arch, "%s", ops->name);
	snprintf(r->variant, sizeof r->variant, "%s", c->variant ? c->variant : strrchr(image, '/') + 1);
	snprintf(r->function, sizeof r->function, "%s", c->function);
	snprintf(r->context, sizeof r->context, "%s", c->context);
	snprintf(r->era_name, sizeof r->era_name, "?");
	r->vdso = 1;
	snprintf(nr->inject, sizeof nr->inject, "%s", c->inject);
	snprintf(nr->engine, sizeof nr->engine, "%s", host ? "native" : "qemu");
	snprintf(nr->emulator, sizeof nr->emulator, "%s%s", host ? "host" : ops->qemu_user,
		 !host && itimer && c->singlestep ? " -singlestep" : "");
	snprintf(nr->vdso_kind, sizeof nr->vdso_kind, "%s", vdso);
	nr->itimer = itimer;

	double t0 = now_s();
	if (spawn(argv, c->timeout_s, nr, err, errlen))
		return 2;
	r->elapsed_s = now_s() - t0;
	if (nr->status == 127 && strstr(nr->err, "cannot run ")) {
		first_line(nr->err, err, errlen);
		return 2;
	}
	if (nr->status == 2) {
		first_line(nr->err, err, errlen);
		return 2;
	}
	struct image_info ii;
	image_open(&ii, ops, image);
	int rc = parse_output(nr, &ii, ops);
	image_close(&ii);
	if (rc) {
		snprintf(err, errlen, "out of memory");
		return 2;
	}
	r->boundaries_per_s = r->elapsed_s > 0 ? r->boundaries / r->elapsed_s : 0;
	return 0;
}

static void native_result_free(struct native_result *nr)
{
	probe_result_free(&nr->r);
	free(nr->out);
	free(nr->err);
}

/* --- Reports --------------------------------------------------------------- */

static double coverage(const struct native_result *nr)
{
	return nr->total ? (double)nr->sampled / (double)nr->total : 0;
}

static void print_stack(FILE *out, const char *label, int n, const char (*sym)[PROBE_SYM_MAX])
{
	fprintf(out, "      %-9s", label);
	if (!n)
		fputs(" (no frames)", out);
	for (int i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? " <- " : " ", sym[i]);
	fputc('\n', out);
}

static void print_summary(FILE *out, const struct native_result *nr)
{
	const struct probe_result *r = &nr->r;
	fprintf(out, "sigstep native: arch=%s variant=%s function=%s context=%s sigprof=%s inject=%s engine=%s (%s) vdso=%s\n",
		r->arch, r->variant, r->function, r->context, r->era_name, nr->inject, nr->engine, nr->emulator,
		nr->vdso_kind);
	fprintf(out, "boundaries %" PRIu64 "%s\n", r->boundaries, nr->itimer ? " (samples judged)" : "");
	fputs("verdicts  ", out);
	for (int v = 0; v < VERDICT_COUNT; v++)
		fprintf(out, " %s %" PRIu64, verdict_name((enum verdict)v), r->verdicts[v]);
	fputc('\n', out);
	if (nr->itimer)
		fprintf(out, "coverage   %.4f: %" PRIu64 " of %" PRIu64 " boundaries sampled (%" PRIu64
			" more outside the list), %" PRIu64 " SIGPROFs in %" PRIu64 " ms\n",
			coverage(nr), nr->sampled, nr->total, nr->extra, nr->signals, nr->budget_ms);
	if (nr->skipped_vdso)
		fprintf(out, "skipped    %" PRIu64 " vDSO boundaries: the kernel's vDSO cannot be patched\n",
			nr->skipped_vdso);
	if (nr->first_violation_us >= 0)
		fprintf(out, "first      violation after %.6f s\n", nr->first_violation_us / 1e6);
	fprintf(out, "invariants %s%s\n", r->invariants_ok ? "ok" : "FAIL: ", r->invariants);
	for (size_t i = 0; i < r->nviolations; i++) {
		const struct violation *v = &r->violations[i];
		fprintf(out, "  %s at %s (0x%" PRIx64 ")  %s\n", verdict_name(v->verdict), v->symbol, v->pc,
			v->insn[0] ? v->insn : "?");
		print_stack(out, "expected", v->nexpected, v->expected_sym);
		if (v->verdict != VERDICT_FAULT)
			print_stack(out, "got", v->ngot, v->got_sym);
	}
	fflush(out);
	fprintf(stderr, "speed      %.0f boundaries/s (%.3f s)\n", r->boundaries_per_s, r->elapsed_s);
	fprintf(out, "result %s\n", r->pass ? "pass" : "FAIL");
}

/* One record of the shape probe_print_json writes; nr->engine is
 * "native", "qemu" or "unicorn" (compare), and itimer adds its coverage. */
static void json_record(FILE *out, const struct native_result *nr)
{
	const struct probe_result *r = &nr->r;
	fputc('{', out);
	json_record_head(out, r);
	fputs(", \"inject\": ", out), json_str(out, nr->inject);
	fputs(", \"engine\": ", out), json_str(out, nr->engine);
	fputs(",\n  \"emulator\": ", out), json_str(out, nr->emulator);
	fputs(", \"vdso_kind\": ", out), json_str(out, nr->vdso_kind);
	fprintf(out, ",\n  \"boundaries\": %" PRIu64 ", \"verdicts\": ", r->boundaries);
	json_verdicts(out, r);
	if (nr->itimer)
		fprintf(out, ",\n  \"coverage\": %.4f, \"boundaries_sampled\": %" PRIu64 ", \"boundaries_total\": %" PRIu64
			", \"sampled_outside\": %" PRIu64 ", \"signals\": %" PRIu64 ", \"budget_ms\": %" PRIu64,
			coverage(nr), nr->sampled, nr->total, nr->extra, nr->signals, nr->budget_ms);
	if (nr->skipped_vdso)
		fprintf(out, ", \"skipped_vdso\": %" PRIu64, nr->skipped_vdso);
	if (nr->first_violation_us >= 0)
		fprintf(out, ", \"first_violation_s\": %.6f", nr->first_violation_us / 1e6);
	else
		fputs(", \"first_violation_s\": null", out);
	json_record_tail(out, r);
}

static void json_array(FILE *out, const struct native_result *const *nr, size_t n)
{
	fputs("[", out);
	for (size_t k = 0; k < n; k++) {
		fputs(k ? ",\n " : "\n ", out);
		json_record(out, nr[k]);
	}
	fputs(n ? "\n]\n" : "]\n", out);
}

/* --- --compare ------------------------------------------------------------- */

struct row {
	const char *method;
	struct native_result nr;
	int ran;
	char why[200];		/* why it did not run */
	uint64_t distinct;	/* distinct pcs judged */
	double first_s;		/* -1: no violation */
	int first_estimated;	/* Unicorn: from the first violation's position */
};

/* Distinct pcs and the position of the first failing one among
 * "boundary PC WHERE VERDICT" lines. */
static void scan_boundaries(const char *text, uint64_t *distinct, int64_t *first_bad, uint64_t *count)
{
	size_t cap = 1024, n = 0;
	uint64_t *seen = malloc(cap * sizeof *seen);
	*distinct = 0;
	*first_bad = -1;
	*count = 0;
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		uint64_t pc;
		char where[64], verdict[16];
		if (sscanf(line, "boundary %" SCNx64 " %63s %15s", &pc, where, verdict) != 3)
			continue;
		if (*first_bad < 0 && !verdict_passes(verdict_from_name(verdict)))
			*first_bad = (int64_t)*count;
		(*count)++;
		size_t i;
		for (i = 0; i < n && seen[i] != pc; i++)
			;
		if (i < n || !seen)
			continue;
		if (n == cap) {
			uint64_t *p = realloc(seen, 2 * cap * sizeof *seen);
			if (!p)
				continue;
			seen = p;
			cap *= 2;
		}
		seen[n++] = pc;
	}
	*distinct = n;
	free(seen);
}

static uint64_t failing(const struct probe_result *r)
{
	uint64_t n = 0;
	for (int v = 0; v < VERDICT_COUNT; v++)
		if (!verdict_passes((enum verdict)v))
			n += r->verdicts[v];
	return n;
}

/* rep: the --json file, opened by the caller before the run; written and
 * closed here once there are records (left open otherwise: the caller
 * drops it). */
static int cmd_compare(struct native_config *c, struct cli_outputs *rep)
{
	struct row rows[4] = { { .method = "every" }, { .method = "step" }, { .method = "break" },
			       { .method = "itimer" } };
	char err[512];
	int status = 0;

	/* Unicorn, at every boundary, its boundaries listed to a buffer. */
	{
		struct row *w = &rows[0];
		char *log = NULL;
		size_t loglen = 0;
		FILE *lf = open_memstream(&log, &loglen);
		struct probe_config pc = {
			.ops = c->ops, .build_dir = c->build_dir, .variant = c->variant, .image_path = c->image_path,
			.function = c->function,
			.context = c->context, .era = -1, .vdso = 1, .iterations = 1, .boundary_log = lf,
		};
		memset(&w->nr, 0, sizeof w->nr);
		if (!lf)
			return die("out of memory%s%s", "", "");
		if (probe_run(&pc, &w->nr.r, err, sizeof err)) {
			fclose(lf);
			free(log);
			return die("%s%s", err, "");
		}
		fclose(lf);
		int64_t first_bad;
		uint64_t count;
		scan_boundaries(log, &w->distinct, &first_bad, &count);
		free(log);
		w->ran = 1;
		w->first_s = first_bad < 0 || !count ? -1 : w->nr.r.elapsed_s * (double)(first_bad + 1) / (double)count;
		w->first_estimated = 1;
		w->nr.first_violation_us = -1;
		snprintf(w->nr.inject, sizeof w->nr.inject, "every");
		snprintf(w->nr.engine, sizeof w->nr.engine, "unicorn");
		snprintf(w->nr.emulator, sizeof w->nr.emulator, "unicorn");
		snprintf(w->nr.vdso_kind, sizeof w->nr.vdso_kind, "synthetic");
	}

	/* The native methods, the same chain, the synthetic vDSO (the code
	 * Unicorn runs) unless --vdso says otherwise. */
	double slowest = rows[0].nr.r.elapsed_s;
	if (!c->vdso)
		c->vdso = "synthetic";
	for (int k = 1; k < 4; k++) {
		struct row *w = &rows[k];
		c->inject = w->method;
		c->list = k < 3;
		if (k == 3 && !c->budget_ms)
			c->budget_ms = (uint64_t)(slowest * 1000) + 1;	/* the same time as the slowest exhaustive one */
		int rc = native_run(c, &w->nr, err, sizeof err);
		if (rc) {
			copy(w->why, sizeof w->why, err);
			native_result_free(&w->nr);
			memset(&w->nr, 0, sizeof w->nr);
			if (k == 1)
				continue;	/* no trap flag: step does not exist here */
			return die("%s%s", err, "");
		}
		w->ran = 1;
		if (k < 3) {
			int64_t first_bad;
			uint64_t count;
			scan_boundaries(w->nr.out, &w->distinct, &first_bad, &count);
			if (w->nr.r.elapsed_s > slowest)
				slowest = w->nr.r.elapsed_s;
		} else {
			w->distinct = w->nr.sampled + w->nr.extra;
		}
		w->first_s = w->nr.first_violation_us < 0 ? -1 : w->nr.first_violation_us / 1e6;
	}

	const struct probe_result *u = &rows[0].nr.r;
	FILE *out = cli_outputs_text(rep);
	fprintf(out, "sigstep native --compare: arch=%s variant=%s function=%s context=%s vdso=%s\n",
		u->arch, u->variant, u->function, u->context, c->vdso);
	fprintf(out, "%-7s %-30s %8s %9s %10s %8s %9s %16s\n", "method", "engine", "judged", "covered",
		"violations", "bad pcs", "time s", "first violation");
	for (int k = 0; k < 4; k++) {
		const struct row *w = &rows[k];
		const struct native_result *nr = &w->nr;
		char engine[64], covered[32], first[32], badpcs[16];
		if (!w->ran) {
			fprintf(out, "%-7s %-30s %s\n", w->method, "-", w->why);
			continue;
		}
		snprintf(engine, sizeof engine, "%s%s%s%s", nr->engine, k ? " (" : "", k ? nr->emulator : "", k ? ")" : "");
		if (k == 3)
			snprintf(covered, sizeof covered, "%" PRIu64 "/%" PRIu64, nr->sampled, nr->total);
		else
			snprintf(covered, sizeof covered, "%" PRIu64, w->distinct);
		if (w->first_s < 0)
			snprintf(first, sizeof first, "none");
		else
			snprintf(first, sizeof first, "%s%.6f", w->first_estimated ? "~" : "", w->first_s);
		size_t bad = 0;
		if (k == 0) {
			for (size_t i = 0; i < u->nviolations; i++) {
				size_t j;
				for (j = 0; j < i && u->violations[j].pc != u->violations[i].pc; j++)
					;
				bad += j == i;
			}
		} else {
			bad = nr->violating_pcs;
		}
		snprintf(badpcs, sizeof badpcs, "%zu", bad);
		fprintf(out, "%-7s %-30s %8" PRIu64 " %9s %10" PRIu64 " %8s %9.4f %16s\n", w->method, engine,
			nr->r.boundaries, covered, failing(&nr->r), badpcs, nr->r.elapsed_s, first);
		/* A short budget may judge no sample at all: not a violation. */
		if (failing(&nr->r) || (!nr->r.invariants_ok && (k < 3 || nr->r.boundaries)))
			status = 1;
	}
	fprintf(out, "judged: signals judged (itimer: samples in the chain); covered: distinct pcs (itimer: of the\n"
		     "boundaries one run executes); violations: failing judgements, at `bad pcs` distinct pcs;\n"
		     "time: the whole run; first violation: seconds from the start (~ Unicorn: estimated from the\n"
		     "first failing boundary's position; itimer: from the start of sampling)\n");

	if (rep->f[CLI_OUT_JSON]) {
		FILE *jf = cli_outputs_begin("native", rep, CLI_OUT_JSON);
		if (!jf)
			status = 2;
		else {
			const struct native_result *recs[4];
			size_t n = 0;
			for (int k = 0; k < 4; k++)
				if (rows[k].ran)
					recs[n++] = &rows[k].nr;
			json_array(jf, recs, n);
			if (cli_outputs_end("native", rep, CLI_OUT_JSON))
				status = 2;
		}
	}
	for (int k = 0; k < 4; k++)
		native_result_free(&rows[k].nr);
	return status;
}

/* --- The command ------------------------------------------------------------ */

static const char usage[] =
	"usage: sigstep native --arch {386,amd64,arm} (--variant NAME | FILE.S) --inject step|break|itimer\n"
	"                      [--emulator auto|qemu|host] [--vdso kernel|synthetic]\n"
	"                      [--function walltime|nanotime|both] [--context curg|g0|both]\n"
	"                      [--budget-ms N] [--no-singlestep] [--list-boundaries] [--timeout SECONDS]\n"
	"                      [--json FILE|-] [--junit FILE] [--sarif FILE] [--build-dir DIR]\n"
	"       sigstep native --compare --arch A (--variant V | FILE.S) [--function F] [--context C]\n"
	"                      [--emulator E] [--vdso V] [--budget-ms N] [--json FILE|-]\n"
	"       sigstep native --host-check --arch A [--vdso kernel|synthetic] [--build-dir DIR]\n"
	"       sigstep native --go PROGRAM [--function F] [--root R] [--call N] [--timeout S]\n"
	"                      [--list-boundaries] [--json FILE|-]\n";

/* --host-check: one line, whether this CPU runs the arch's images (and
 * gives them the kernel's vDSO, with --vdso kernel); 0 yes, 2 no.  The
 * tests skip their host rows on it. */
static int host_check(const struct native_config *c)
{
	char names[16][64], image[PATH_MAX + 96];
	if (cli_built_variants(c->build_dir, c->ops->name, names, 16) < 1)
		return die("no %s guest image in %s (build the project first)", c->ops->name, c->build_dir);
	snprintf(image, sizeof image, "%s/guest/%s/sigstep-guest-%s", c->build_dir, c->ops->name, names[0]);
	const struct host_support *hs = host_support(c->ops, image);
	if (!hs->runs)
		return die("%s%s", hs->why, "");
	if (c->vdso && !strcmp(c->vdso, "kernel") && !hs->kernel_vdso)
		return die("this machine's kernel gives %s programs no vDSO%s", c->ops->name, "");
	printf("this machine runs %s images natively%s\n", c->ops->name,
	       hs->kernel_vdso ? ", with the kernel's vDSO" : " (the kernel gives them no vDSO)");
	return 0;
}

/* One run, or --compare, of c's variant or image; rep: its --json, --junit
 * and --sarif, opened already (what is left open the caller drops). */
static int native_with_image(struct native_config *c, int compare, struct cli_outputs *rep)
{
	if (compare)
		return cmd_compare(c, rep);

	struct native_result nr;
	char err[512];
	if (native_run(c, &nr, err, sizeof err)) {
		native_result_free(&nr);
		cli_outputs_drop(rep);
		return die("%s%s", err, "");
	}
	int status = nr.r.pass ? 0 : 1;
	if (c->list) {	/* the guest's boundary lines, before the summary */
		FILE *lo = cli_outputs_text(rep);
		for (const char *line = nr.out; line && *line;) {
			const char *end = strchr(line, '\n');
			size_t len = end ? (size_t)(end - line) : strlen(line);
			if (!strncmp(line, "boundary ", 9))
				fprintf(lo, "%.*s\n", (int)len, line);
			line = end ? end + 1 : NULL;
		}
	}
	print_summary(cli_outputs_text(rep), &nr);
	if (rep->f[CLI_OUT_JSON]) {
		FILE *jf = cli_outputs_begin("native", rep, CLI_OUT_JSON);
		if (!jf)
			status = 2;
		else {
			const struct native_result *one = &nr;
			json_array(jf, &one, 1);
			if (cli_outputs_end("native", rep, CLI_OUT_JSON))
				status = 2;
		}
	}
	if (rep->path[CLI_OUT_JUNIT] || rep->path[CLI_OUT_SARIF]) {
		/* the guest image's own lines (the vDSO is mapped elsewhere natively) */
		char image[PATH_MAX + 128], source[64], why[320];
		if (c->image_path)
			snprintf(image, sizeof image, "%s", c->image_path);
		else
			snprintf(image, sizeof image, "%s/guest/%s/sigstep-guest-%s", c->build_dir, c->ops->name, c->variant);
		report_locate_violations(&nr.r, image, NULL);
		snprintf(source, sizeof source, "native %s %s", nr.inject, nr.engine);
		struct report_row row = { .res = &nr.r, .source = source, .met = nr.r.pass,
					  .why = report_why_not_pass(&nr.r, why, sizeof why) };
		report_row_name(&row, nr.inject);
		if (cli_outputs_write("native", rep, &row, 1))
			status = 2;
	}
	native_result_free(&nr);
	return status;
}

int cmd_native(int argc, char **argv)
{
	struct native_config c = {
		.function = "walltime", .context = "curg", .timeout_s = DEFAULT_TIMEOUT_S,
	};
	const char *arch = NULL, *emulator = "auto";
	const char *file = NULL;
	struct cli_outputs rep = { 0 };	/* --json, --junit, --sarif */
	int compare = 0, no_singlestep = 0, check_host = 0;
	char dirbuf[PATH_MAX];
	for (int i = 1; i < argc; i++)	/* a real Go program: the ptrace engine */
		if (!strcmp(argv[i], "--go"))
			return cmd_native_go(argc, argv);
	const struct cli_option options[] = {
		CLI_VALUE("--arch", &arch), CLI_VALUE("--variant", &c.variant), CLI_VALUE("--inject", &c.inject),
		CLI_VALUE("--emulator", &emulator), CLI_VALUE("--vdso", &c.vdso), CLI_VALUE("--function", &c.function),
		CLI_VALUE("--context", &c.context), CLI_VALUE("--json", &rep.path[CLI_OUT_JSON]),
		CLI_VALUE("--build-dir", &c.build_dir),
		CLI_VALUE("--budget-ms", NULL), CLI_VALUE("--timeout", NULL), CLI_FLAG("--compare", &compare),
		CLI_FLAG("--no-singlestep", &no_singlestep), CLI_FLAG("--list-boundaries", &c.list),
		CLI_FLAG("--host-check", &check_host), CLI_VALUE("--junit", &rep.path[CLI_OUT_JUNIT]),
		CLI_VALUE("--sarif", &rep.path[CLI_OUT_SARIF]), CLI_END,
	};

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (cli_help(a, usage))
			return 0;
		if (a[0] != '-' || !strcmp(a, "-")) {
			if (file)
				return die("more than one file ('%s', '%s')", file, a);
			file = a;
			continue;
		}
		int used = cli_option("native", options, a, v);
		if (!used)
			return 2;
		i += used - 1;
		int budget = !strcmp(a, "--budget-ms");
		uint64_t x;
		if (!budget && strcmp(a, "--timeout"))
			continue;
		if (cli_parse_u64(v, 10, &x) || x == 0 || x > (budget ? 3600000ull : 86400ull))
			return die("bad %s '%s'", a, v);
		if (budget)
			c.budget_ms = x;
		else
			c.timeout_s = (unsigned)x;
	}
	c.singlestep = !no_singlestep;
	if (!arch)
		return die("--arch is required (386, amd64 or arm)%s%s", "", "");
	if (!(c.ops = cli_arch("native", arch)))
		return 2;
	if (!c.build_dir) {
		cli_default_build_dir(dirbuf, sizeof dirbuf);
		c.build_dir = dirbuf;
	}
	if (check_host)
		return host_check(&c);
	/* A built variant, or a trampoline file built as `sigstep check` builds it. */
	if (file && c.variant)
		return die("--variant %s or a file (%s), not both", c.variant, file);
	if (!file && (!c.variant || !c.variant[0] || strchr(c.variant, '/')))
		return die("--variant is required (a name such as master), or a trampoline file FILE.S%s%s", "", "");
	if (compare ? c.inject != NULL : !c.inject || (strcmp(c.inject, "step") && strcmp(c.inject, "break") &&
						       strcmp(c.inject, "itimer")))
		return die(compare ? "--compare runs every method: no --inject%s%s"
				   : "--inject step, break or itimer is required%s%s", "", "");
	if (!strcmp(emulator, "auto"))
		c.emulator = EMU_AUTO;
	else if (!strcmp(emulator, "qemu"))
		c.emulator = EMU_QEMU;
	else if (!strcmp(emulator, "host"))
		c.emulator = EMU_HOST;
	else
		return die("unknown --emulator '%s' (auto, qemu or host)%s", emulator, "");
	if (c.vdso && strcmp(c.vdso, "kernel") && strcmp(c.vdso, "synthetic"))
		return die("unknown --vdso '%s' (kernel or synthetic)%s", c.vdso, "");
	if (strcmp(c.function, "walltime") && strcmp(c.function, "nanotime") && (compare || strcmp(c.function, "both")))
		return die("unknown function '%s' (walltime or nanotime%s)", c.function, compare ? "" : ", or both");
	if (strcmp(c.context, "curg") && strcmp(c.context, "g0") && (compare || strcmp(c.context, "both")))
		return die("unknown context '%s' (curg or g0%s)", c.context, compare ? "" : ", or both");
	if (compare && (rep.path[CLI_OUT_JUNIT] || rep.path[CLI_OUT_SARIF]))
		return die("--compare writes --json only%s%s", "", "");
	/* The report files are opened before the build and the run: a path
	 * that cannot be written costs nothing. */
	if (cli_outputs_open("native", &rep, 1u << CLI_OUT_JSON | 1u << CLI_OUT_JUNIT | 1u << CLI_OUT_SARIF))
		return 2;
	char dir[PATH_MAX], image[PATH_MAX + 96];
	if (file) {
		int rc = check_build_file(c.build_dir, c.ops, file, dir, sizeof dir, image, sizeof image);
		if (rc) {
			cli_outputs_drop(&rep);	/* no record: an existing file kept */
			return rc;
		}
		c.image_path = image;
	}
	int status = native_with_image(&c, compare, &rep);
	cli_outputs_drop(&rep);	/* still open: no record was written */
	if (file)
		check_cleanup(dir, image);
	return status;
}

