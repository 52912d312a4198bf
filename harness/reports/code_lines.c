/* Source lines from a Go program's pclntab or an ELF file's .debug_line (code_lines.h). */
#include <string.h>

#include "code_lines.h"
#include "gobinary.h"

void code_lines_load(const char *path, struct code_lines *c)
{
	char err[GOBINARY_ERR_MAX];
	memset(c, 0, sizeof *c);
	/* A Go program first: its pclntab is Go's own answer, and Go 1.19
	 * compresses its DWARF into .zdebug_line, which is not a line table
	 * the DWARF reader takes. */
	if (!gobinary_open(path, &c->go, err, sizeof err))
		return;
	c->go = NULL;
	if (line_table_load(path, &c->dwarf, err, sizeof err))
		memset(&c->dwarf, 0, sizeof c->dwarf);
}

int code_lines_find(const struct code_lines *c, uint64_t pc, const char **file, uint32_t *line)
{
	if (!c->go)
		return line_table_find(&c->dwarf, pc, file, line);
	struct go_func f;
	int64_t ln;
	const struct pclntab *t = gobinary_pclntab(c->go);
	if (!t || pclntab_func_at(t, pc, &f) || pclntab_line(t, &f, pc, file, &ln) || ln <= 0 || ln > UINT32_MAX)
		return 0;
	*line = (uint32_t)ln;
	return 1;
}

int code_lines_is_go(const struct code_lines *c)
{
	return c->go != NULL;
}

void code_lines_free(struct code_lines *c)
{
	if (c->go)
		gobinary_close(c->go);
	line_table_free(&c->dwarf);
	memset(c, 0, sizeof *c);
}
