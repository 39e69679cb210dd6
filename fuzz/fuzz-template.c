/*
 * libFuzzer target: the template parser.  The first byte picks the
 * flags (regex or not); the rest, up to its first NUL, is the template.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct template *t = NULL;
	struct err e;
	size_t pos = 0, i, total = 0;
	char *s;

	if (!size)
		return 0;
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	if (template_compile(s, data[0] & 1 ? TEMPLATE_REGEX : 0, &t, &pos,
	    &e) == 0) {
		/* Every part must lie within the source. */
		for (i = 0; i < t->n; i++)
			total += t->parts[i].text ? t->parts[i].len :
				strlen(t->parts[i].ref.name);
		if (total > strlen(s))
			abort();
		template_free(t);
	} else if (pos > strlen(s)) {
		abort();
	}
	free(s);
	return 0;
}
