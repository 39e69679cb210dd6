/*
 * libFuzzer target: the web server's request path decoding
 * (web_path_parse, web_url_decode).  The input, up to its first NUL, is
 * a raw request path.  Whatever it is, an accepted path must have only
 * segments that web_segment_ok accepts (never "." or "..", never a '/',
 * '\\', '%' or control byte), within the limits, and decoding must never
 * write past its output.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct web_path p;
	char *s = malloc(size + 1), *out = malloc(size + 1);
	int i, n;

	memcpy(s, data, size);
	s[size] = '\0';
	if (web_path_parse(s, &p) == 0) {
		if (p.n > WEB_SEGS_MAX)
			abort();
		for (i = 0; i < p.n; i++)
			if (!web_segment_ok(p.seg[i]) || strchr(p.seg[i], '/'))
				abort();
	}
	n = web_url_decode(s, strlen(s), out, 1);
	if (n > (int)strlen(s) || (n >= 0 && (int)strlen(out) != n))
		abort();
	free(out);
	free(s);
	return 0;
}
