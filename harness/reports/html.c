/* placeholder */
#include "report.h"
void report_html(FILE *out, const struct report_row *rows, size_t n) { (void)out; (void)rows; (void)n; }
