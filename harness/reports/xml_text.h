/* Text inside XML and HTML: the five special characters as entities,
 * and the control characters XML 1.0 cannot hold at all as '?'. */
#ifndef SIGSTEP_XML_TEXT_H
#define SIGSTEP_XML_TEXT_H

#include <stdio.h>

void xml_text(FILE *out, const char *s);

#endif
