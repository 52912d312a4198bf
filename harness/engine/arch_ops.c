#include "arch_ops.h"

#include <string.h>

const struct arch_ops *arch_ops_find(const char *name)
{
	for (const struct arch_ops *const *o = arch_ops_all; *o; o++)
		if (!strcmp((*o)->name, name))
			return *o;
	return NULL;
}
