/*
 * libFuzzer target: the rule engine.  The input is a rules: YAML document,
 * a NUL byte, then values one per line.  Rules that compile are bound to
 * the columns a, b, j and applied to records made of those values.  Each
 * value is also put through a fixed json rule, whose answer must equal
 * jansson's own (the fast path may never differ from it).
 */
#include "config.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "node.h"
#include "jtext.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const hdr[] = { "a", "b", "j" };

/* rules_apply takes valid UTF-8 (the reader guarantees it). */
static int
utf8_ok(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t len, k;
		unsigned c = p[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
			c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (!len || i + len > n)
			return 0;
		for (k = 1; k < len; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
		if ((c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] >= 0xa0) ||
		    (c == 0xf0 && p[i + 1] < 0x90) || (c == 0xf4 && p[i + 1] >= 0x90))
			return 0;
		i += len;
	}
	return 1;
}

static void
apply_all(struct rules *rs, const char *vals, size_t n)
{
	const char *p = vals, *end = vals + n;
	struct err e;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *v;

		if (!utf8_ok((const unsigned char *)p, len) || memchr(p, 0, len)) {
			p += len + 1;
			continue;
		}
		v = strndup(p, len);
		char *f[3] = { v, v, v };
		size_t l[3] = { strlen(v), strlen(v), strlen(v) };
		char **out;
		size_t *ol;
		const char *why;

		rules_apply(rs, f, l, &out, &ol, &why, &e);
		free(v);
		p += len + 1;
	}
}

/* The fixed json rule against jansson on value v. */
static void
json_oracle(struct rules *rs, const char *v, size_t n)
{
	char *f[3] = { (char *)v, (char *)v, (char *)v };
	size_t l[3] = { n, n, n };
	char **out;
	size_t *ol;
	const char *why;
	struct err e;
	json_error_t jerr;
	json_t *root;
	struct strbuf sb;
	int rc;

	if (memchr(v, 0, n) || !utf8_ok((const unsigned char *)v, n))
		return;
	rc = rules_apply(rs, f, l, &out, &ol, &why, &e);
	root = n ? jtext_load(v, n, JSON_DECODE_ANY, &jerr) : NULL;
	if (n == 0)
		return;
	if (!root) {
		if (rc != 1)
			abort();
		return;
	}
	if (rc != 0)
		abort();
	sb_init(&sb);
	jtext_value(json_is_object(root) ? json_object_get(root, "k") :
		NULL, &sb);
	if (sb.len != ol[3] || memcmp(sb.buf ? sb.buf : "", out[3], sb.len))
		abort();
	sb_release(&sb);
	json_decref(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char oracle_yaml[] =
		"rules: [{json: {column: j, fields: {k: k}, rest: r}}]\n";
	const uint8_t *nul = memchr(data, 0, size);
	size_t ylen = nul ? (size_t)(nul - data) : size;
	struct errs errs = { 0 };
	struct node *root = NULL;
	struct rules *rs = NULL;
	struct err e;

	if (node_parse_string((const char *)data, ylen, "fuzz.yaml", &root,
	    &errs) == 0) {
		rules_validate("fuzz.yaml", node_get(root, "rules"), &errs);
		if (rules_compile(node_get(root, "rules"), &rs, &e) == 0 &&
		    rules_bind(rs, hdr, 3, &e) == 0 && nul)
			apply_all(rs, (const char *)nul + 1, size - ylen - 1);
		rules_free(rs);
	}
	node_free(root);
	errs_release(&errs);
	root = NULL;
	rs = NULL;
	if (nul && node_parse_string(oracle_yaml, strlen(oracle_yaml), "o",
	    &root, &errs) == 0 && rules_compile(node_get(root, "rules"), &rs,
	    &e) == 0 && rules_bind(rs, hdr, 3, &e) == 0)
		json_oracle(rs, (const char *)nul + 1, size - ylen - 1);
	rules_free(rs);
	node_free(root);
	errs_release(&errs);
	return 0;
}
