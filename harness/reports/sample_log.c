/* The samples of one run as a profiler would have recorded them (report.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "code_lines.h"
#include "report.h"

void sample_log_add(void *ctx, const struct probe_sample *in)
{
	struct sample_log *log = ctx;
	if (log->failed)
		return;
	if (log->n == log->cap) {
		size_t cap = log->cap ? log->cap * 2 : 256;
		struct logged_sample *nv = realloc(log->v, cap * sizeof *nv);
		if (!nv) {
			log->failed = 1;
			return;
		}
		log->v = nv;
		log->cap = cap;
	}
	struct logged_sample *s = &log->v[log->n++];
	memset(s, 0, sizeof *s);
	s->pc = in->pc;
	snprintf(s->at, sizeof s->at, "%s", in->at);
	snprintf(s->insn, sizeof s->insn, "%s", in->insn);
	s->verdict = in->verdict;
	s->n = in->n < 0 ? 0 : in->n > PROBE_MAX_FRAMES ? PROBE_MAX_FRAMES : in->n;
	for (int i = 0; i < s->n; i++) {
		s->frame[i].pc = in->pcs[i];
		memcpy(s->frame[i].sym, in->sym[i], PROBE_SYM_MAX);
		s->frame[i].sym[PROBE_SYM_MAX - 1] = 0;
	}
}

static uint32_t file_index(struct sample_log *log, const char *name)
{
	for (size_t i = 0; i < log->nfiles; i++)
		if (!strcmp(log->files[i], name))
			return (uint32_t)i;
	char **nf = realloc(log->files, (log->nfiles + 1) * sizeof *nf);
	char *copy = strdup(name);
	if (!nf || !copy) {
		free(copy);
		if (nf)
			log->files = nf;
		log->failed = 1;
		return 0;
	}
	log->files = nf;
	log->files[log->nfiles] = copy;
	return (uint32_t)log->nfiles++;
}

void sample_log_locate(struct sample_log *log, const char *image, const char *vdso, uint64_t vdso_base)
{
	struct code_lines img, vd = { 0 };
	if (!log->nfiles)
		file_index(log, "");
	code_lines_load(image, &img);
	if (vdso && vdso_base)
		code_lines_load(vdso, &vd);
	for (size_t i = 0; i < log->n; i++) {
		const char *file;
		uint32_t line;
		uint64_t pc = log->v[i].pc;
		if (code_lines_find(&img, pc, &file, &line) ||
		    (vdso_base && pc >= vdso_base && code_lines_find(&vd, pc - vdso_base, &file, &line))) {
			log->v[i].file = file_index(log, file);
			log->v[i].line = line;
		}
		for (int k = 0; k < log->v[i].n; k++) {
			struct logged_frame *f = &log->v[i].frame[k];
			uint64_t at = k || log->pcs_past ? f->pc - 1 : f->pc;
			if (code_lines_find(&img, at, &file, &line) ||
			    (vdso_base && at >= vdso_base && code_lines_find(&vd, at - vdso_base, &file, &line))) {
				f->file = file_index(log, file);
				f->line = line;
			}
		}
	}
	code_lines_free(&img);
	code_lines_free(&vd);
}

void sample_log_free(struct sample_log *log)
{
	for (size_t i = 0; i < log->nfiles; i++)
		free(log->files[i]);
	free(log->files);
	free(log->v);
	memset(log, 0, sizeof *log);
}
