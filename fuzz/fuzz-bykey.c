/*
 * Fuzz by-key's file naming: every value gets a name that is safe (no
 * '/', no leading '.', not too long), that maps back to the value (or, when
 * cut, to its prefix), and no name that bykey_file_name does not make is
 * accepted by the reverse mapping as a different value.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tasks/by_key.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf name, back, again;
	int rc;

	sb_init(&name);
	sb_init(&back);
	sb_init(&again);
	bykey_file_name(&name, (const char *)data, size);
	if (memchr(name.buf, '/', name.len) || name.buf[0] == '.' ||
	    name.len > 255 || strlen(name.buf) != name.len)
		abort();
	rc = bykey_value_of_name(name.buf, &back);
	if (rc < 0)
		abort();
	if (rc == 0 && (back.len != size || (size &&
	    memcmp(back.buf, data, size))))
		abort();
	if (rc == 1 && (back.len > size || memcmp(back.buf, data, back.len)))
		abort();
	/* The input read as a name: if accepted, it is the one spelling. */
	if (size < 4096 && !memchr(data, '\0', size)) {
		char *s = xstrndup((const char *)data, size);

		sb_reset(&back);
		if (bykey_value_of_name(s, &back) == 0) {
			bykey_file_name(&again, back.buf ? back.buf : "",
				back.len);
			if (strcmp(again.buf, s))
				abort();
		}
		free(s);
	}
	sb_release(&name);
	sb_release(&back);
	sb_release(&again);
	return 0;
}
