/*
 * A tree of struct node to JSON text and back, without building a jansson
 * value on the way: every built-in instance crosses this twice (the
 * scheduler writes its request, the worker reads it), and going through
 * jansson's objects (a hash table and a malloc per value, then a dump or
 * a conversion) cost more instructions than the rest of starting the
 * instance.
 *
 * The text is what jansson wrote before (json_dumps with JSON_COMPACT,
 * JSON_PRESERVE_ORDER and JSON_ENCODE_ANY over every scalar as a string):
 * '"', '\\' and control characters escaped, \b \f \n \r \t by name, the
 * others as \u00XX; everything else, UTF-8 included, as it is.  A string
 * that is not UTF-8 cannot be written, and the whole text is then "null",
 * as it was.  The reader accepts what json_loads accepted with
 * JSON_DECODE_ANY | JSON_ALLOW_NUL and makes the same tree: numbers and
 * booleans become scalars with the text jansson's values printed to
 * (integers as integers, reals with %.17g), null an empty scalar, a
 * string cut at a \u0000, and a key given twice keeps its first place
 * with its last value.  t/unit/test-util.c compares the two on tricky
 * texts.
 */
#include "config.h"
#include "node.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deepest nesting the reader takes (jansson's JSON_PARSER_MAX_DEPTH). */
#define JSON_MAX_DEPTH 2048

/*
 * Length of the UTF-8 sequence at s (n bytes left), or 0 when it is not
 * one: overlong forms, surrogates and code points past U+10FFFF are not.
 * *cp gets its code point.
 */
static size_t
utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t v;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] < 0xC2)
		return 0;
	if (s[0] < 0xE0) {
		len = 2;
		v = s[0] & 0x1F;
	} else if (s[0] < 0xF0) {
		len = 3;
		v = s[0] & 0x0F;
	} else if (s[0] < 0xF5) {
		len = 4;
		v = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) ||
	    (len == 4 && (v < 0x10000 || v > 0x10FFFF)))
		return 0;
	*cp = v;
	return len;
}

/* s as a JSON string; -1 when s is not UTF-8. */
static int
put_str(struct strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;
	size_t n = strlen(s);
	const unsigned char *end = p + n;
	char esc[8];
	uint32_t cp;

	sb_grow(sb, n + 2);
	sb_addc(sb, '"');
	while (p < end) {
		size_t len;

		if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
			p++;
			continue;
		}
		if (*p >= 0x80) {
			len = utf8_seq(p, (size_t)(end - p), &cp);
			if (!len)
				return -1;
			p += len;
			continue;
		}
		sb_add(sb, run, (size_t)(p - run));
		switch (*p) {
		case '"': sb_add(sb, "\\\"", 2); break;
		case '\\': sb_add(sb, "\\\\", 2); break;
		case '\b': sb_add(sb, "\\b", 2); break;
		case '\f': sb_add(sb, "\\f", 2); break;
		case '\n': sb_add(sb, "\\n", 2); break;
		case '\r': sb_add(sb, "\\r", 2); break;
		case '\t': sb_add(sb, "\\t", 2); break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)*p);
			sb_adds(sb, esc);
			break;
		}
		run = ++p;
	}
	sb_add(sb, run, (size_t)(p - run));
	sb_addc(sb, '"');
	return 0;
}

int
node_json_put(struct strbuf *sb, const struct node *n)
{
	size_t i;

	switch (n->type) {
	case NODE_SCALAR:
		return put_str(sb, n->str);
	case NODE_SEQ:
		sb_addc(sb, '[');
		for (i = 0; i < n->n; i++) {
			if (i)
				sb_addc(sb, ',');
			if (node_json_put(sb, n->items[i]) < 0)
				return -1;
		}
		sb_addc(sb, ']');
		return 0;
	case NODE_MAP:
		sb_addc(sb, '{');
		for (i = 0; i < n->n; i++) {
			if (i)
				sb_addc(sb, ',');
			if (put_str(sb, n->keys[i]->str) < 0)
				return -1;
			sb_addc(sb, ':');
			if (node_json_put(sb, n->items[i]) < 0)
				return -1;
		}
		sb_addc(sb, '}');
		return 0;
	}
	return -1;
}

struct keyat {
	const char *key;
	size_t at;
};

static int
keyat_cmp(const void *a, const void *b)
{
	return strcmp(((const struct keyat *)a)->key,
		((const struct keyat *)b)->key);
}

int
node_json_put_sorted(struct strbuf *sb, const struct node *n)
{
	struct keyat *order;
	size_t i;
	int rc = 0;

	if (n->type == NODE_SCALAR)
		return put_str(sb, n->str);
	if (n->type == NODE_SEQ) {
		sb_addc(sb, '[');
		for (i = 0; i < n->n && rc == 0; i++) {
			if (i)
				sb_addc(sb, ',');
			rc = node_json_put_sorted(sb, n->items[i]);
		}
		sb_addc(sb, ']');
		return rc;
	}
	order = xmalloc((n->n ? n->n : 1) * sizeof(*order));
	for (i = 0; i < n->n; i++) {
		order[i].key = n->keys[i]->str;
		order[i].at = i;
	}
	/* Keys compare as jansson's JSON_SORT_KEYS compares them: bytes. */
	qsort(order, n->n, sizeof(*order), keyat_cmp);
	sb_addc(sb, '{');
	for (i = 0; i < n->n && rc == 0; i++) {
		if (i)
			sb_addc(sb, ',');
		rc = put_str(sb, order[i].key);
		sb_addc(sb, ':');
		if (rc == 0)
			rc = node_json_put_sorted(sb, n->items[order[i].at]);
	}
	sb_addc(sb, '}');
	free(order);
	return rc;
}

int
node_json_put_str(struct strbuf *sb, const char *s)
{
	return put_str(sb, s);
}

char *
node_to_json(const struct node *n)
{
	struct strbuf sb;

	sb_init(&sb);
	if (node_json_put(&sb, n) < 0) {
		sb_release(&sb);
		return xstrdup("null");
	}
	return sb_detach(&sb);
}

/* ---- reading ---- */

struct jread {
	const char *text;	/* the start, for the position of an error */
	const char *p, *end;
	struct strbuf buf;	/* a string with escapes, decoded */
	struct err *e;
	int depth;
};

static int
jfail(struct jread *r, const char *what)
{
	const char *q;
	int line = 1, column = 0;

	for (q = r->text; q < r->p; q++) {
		if (*q == '\n') {
			line++;
			column = 0;
		} else {
			column++;
		}
	}
	err_set(r->e, -EINVAL, "invalid JSON at %d:%d: %s", line, column,
		what);
	return -EINVAL;
}

static void
skip_space(struct jread *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
	    *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int
hex4(const char *s, uint32_t *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		char c = s[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

static void
put_utf8(struct strbuf *sb, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (char)(0xF0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	sb_add(sb, b, n);
}

/* A \u escape at r->p (after the backslash and 'u') into r->buf. */
static int
read_uescape(struct jread *r)
{
	uint32_t cp, lo;

	if (r->end - r->p < 4 || hex4(r->p, &cp) < 0)
		return jfail(r, "invalid \\u escape");
	r->p += 4;
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return jfail(r, "invalid Unicode: a lone low surrogate");
	if (cp >= 0xD800 && cp <= 0xDBFF) {
		if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' ||
		    hex4(r->p + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
			return jfail(r, "invalid Unicode: a lone high surrogate");
		r->p += 6;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	}
	put_utf8(&r->buf, cp);
	return 0;
}

/*
 * The string at r->p (its opening quote); *out a new copy, cut at a NUL
 * (a node's text is a C string), *nul set when it held one.
 */
static int
read_string(struct jread *r, char **out, int *nul)
{
	const char *start = ++r->p;
	uint32_t cp;

	*nul = 0;
	/* Most strings have no escape: copied in one piece. */
	while (r->p < r->end) {
		unsigned char c = (unsigned char)*r->p;

		if (c == '"') {
			*out = xstrndup(start, (size_t)(r->p - start));
			r->p++;
			return 0;
		}
		if (c == '\\' || c < 0x20)
			break;
		if (c < 0x80) {
			r->p++;
		} else {
			size_t len = utf8_seq((const unsigned char *)r->p,
				(size_t)(r->end - r->p), &cp);

			if (!len)
				return jfail(r, "invalid UTF-8 in a string");
			r->p += len;
		}
	}
	sb_reset(&r->buf);
	sb_add(&r->buf, start, (size_t)(r->p - start));
	while (r->p < r->end) {
		unsigned char c = (unsigned char)*r->p;

		if (c == '"') {
			r->p++;
			*nul = r->buf.len && memchr(r->buf.buf, '\0',
				r->buf.len) != NULL;
			*out = xstrdup(r->buf.len ? r->buf.buf : "");
			return 0;
		}
		if (c < 0x20)
			return jfail(r, "control character in a string");
		if (c == '\\') {
			if (r->end - r->p < 2)
				break;
			r->p += 2;
			switch (r->p[-1]) {
			case '"': sb_addc(&r->buf, '"'); break;
			case '\\': sb_addc(&r->buf, '\\'); break;
			case '/': sb_addc(&r->buf, '/'); break;
			case 'b': sb_addc(&r->buf, '\b'); break;
			case 'f': sb_addc(&r->buf, '\f'); break;
			case 'n': sb_addc(&r->buf, '\n'); break;
			case 'r': sb_addc(&r->buf, '\r'); break;
			case 't': sb_addc(&r->buf, '\t'); break;
			case 'u':
				if (read_uescape(r) < 0)
					return -EINVAL;
				break;
			default:
				r->p--;
				return jfail(r, "invalid escape");
			}
			continue;
		}
		if (c < 0x80) {
			sb_addc(&r->buf, (char)c);
			r->p++;
		} else {
			size_t len = utf8_seq((const unsigned char *)r->p,
				(size_t)(r->end - r->p), &cp);

			if (!len)
				return jfail(r, "invalid UTF-8 in a string");
			sb_add(&r->buf, r->p, len);
			r->p += len;
		}
	}
	return jfail(r, "premature end of input in a string");
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The number at r->p, as the text jansson's value printed to. */
static int
read_number(struct jread *r, char **out)
{
	const char *s = r->p, *q = s;
	int real = 0;
	char *text, buf[64];

	if (q < r->end && *q == '-')
		q++;
	if (q >= r->end || !is_digit(*q))
		return jfail(r, "invalid number");
	if (*q == '0') {
		q++;
		if (q < r->end && is_digit(*q))
			return jfail(r, "invalid number: a leading zero");
	} else {
		while (q < r->end && is_digit(*q))
			q++;
	}
	if (q < r->end && *q == '.') {
		real = 1;
		q++;
		if (q >= r->end || !is_digit(*q))
			return jfail(r, "invalid number");
		while (q < r->end && is_digit(*q))
			q++;
	}
	if (q < r->end && (*q == 'e' || *q == 'E')) {
		real = 1;
		q++;
		if (q < r->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= r->end || !is_digit(*q))
			return jfail(r, "invalid number");
		while (q < r->end && is_digit(*q))
			q++;
	}
	text = xstrndup(s, (size_t)(q - s));
	if (!real && q - s - (*s == '-') <= 18 && strcmp(text, "-0")) {
		/* Already the text %lld prints: no round trip. */
		r->p = q;
		*out = text;
		return 0;
	}
	errno = 0;
	if (real) {
		double d = strtod(text, NULL);

		if (errno == ERANGE && (d > 1.0 || d < -1.0)) {
			free(text);
			return jfail(r, "real number overflow");
		}
		snprintf(buf, sizeof(buf), "%.17g", d);
	} else {
		long long v = strtoll(text, NULL, 10);

		if (errno == ERANGE) {
			free(text);
			return jfail(r, "too big integer");
		}
		snprintf(buf, sizeof(buf), "%lld", v);
	}
	free(text);
	r->p = q;
	*out = xstrdup(buf);
	return 0;
}

/* Room for n entries as push_item in node.c leaves it: 2^k at least n. */
static size_t
cap_for(size_t n)
{
	size_t c = 1;

	while (c < n)
		c *= 2;
	return c;
}

static int read_value(struct jread *r, struct node **out);

struct kv {
	char *key;
	struct node *val;
	size_t at;	/* order of appearance */
};

static int
kv_cmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x->at < y->at ? -1 : x->at > y->at;
}

/*
 * A key given twice keeps its first place and takes its last value, as a
 * jansson object did.  Sorting finds them (maps are small, and a hostile
 * one with many keys is no quadratic).
 */
static void
merge_duplicates(struct kv *v, size_t *n)
{
	struct kv *s;
	size_t i, j, k;
	int dup = 0;

	if (*n < 2)
		return;
	if (*n <= 16) {
		/* Small (every request and result): no sort, no copy. */
		for (i = 1; i < *n; i++)
			for (j = 0; j < i; j++)
				if (!strcmp(v[i].key, v[j].key))
					dup = 1;
		if (!dup)
			return;
	}
	s = xmalloc(*n * sizeof(*s));
	memcpy(s, v, *n * sizeof(*s));
	qsort(s, *n, sizeof(*s), kv_cmp);
	for (i = 0; i < *n; i = j) {
		for (j = i + 1; j < *n && !strcmp(s[j].key, s[i].key); j++)
			;
		if (j - i == 1)
			continue;
		dup = 1;
		/* The first place gets the last value; the others go. */
		node_free(v[s[i].at].val);
		v[s[i].at].val = v[s[j - 1].at].val;
		for (k = i + 1; k < j; k++) {
			free(v[s[k].at].key);
			v[s[k].at].key = NULL;
			if (k < j - 1)
				node_free(v[s[k].at].val);
			v[s[k].at].val = NULL;
		}
	}
	free(s);
	if (!dup)
		return;
	for (i = k = 0; i < *n; i++)
		if (v[i].key)
			v[k++] = v[i];
	*n = k;
}

static struct node *
new_node(enum node_type type)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->type = type;
	return n;
}

static int
read_map(struct jread *r, struct node **out)
{
	struct { struct kv *v; size_t n, cap; } kv = { NULL, 0, 0 };
	struct node *m;
	size_t i;
	int rc = 0, nul;

	r->p++;
	skip_space(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
	} else {
		for (;;) {
			struct kv x;

			skip_space(r);
			if (r->p >= r->end || *r->p != '"') {
				rc = jfail(r, "string or '}' expected");
				break;
			}
			if ((rc = read_string(r, &x.key, &nul)) < 0)
				break;
			if (nul) {
				free(x.key);
				rc = jfail(r, "NUL byte in object key not "
					"supported");
				break;
			}
			skip_space(r);
			if (r->p >= r->end || *r->p != ':') {
				free(x.key);
				rc = jfail(r, "':' expected");
				break;
			}
			r->p++;
			if ((rc = read_value(r, &x.val)) < 0) {
				free(x.key);
				break;
			}
			x.at = kv.n;
			VEC_PUSH(kv, x);
			skip_space(r);
			if (r->p < r->end && *r->p == ',') {
				r->p++;
				continue;
			}
			if (r->p < r->end && *r->p == '}') {
				r->p++;
				break;
			}
			rc = jfail(r, "'}' expected");
			break;
		}
	}
	if (rc < 0) {
		for (i = 0; i < kv.n; i++) {
			free(kv.v[i].key);
			node_free(kv.v[i].val);
		}
		free(kv.v);
		return rc;
	}
	merge_duplicates(kv.v, &kv.n);
	m = new_node(NODE_MAP);
	if (kv.n) {
		m->keys = xmalloc(cap_for(kv.n) * sizeof(*m->keys));
		m->items = xmalloc(cap_for(kv.n) * sizeof(*m->items));
	}
	for (i = 0; i < kv.n; i++) {
		struct node *k = new_node(NODE_SCALAR);

		k->str = kv.v[i].key;
		m->keys[i] = k;
		m->items[i] = kv.v[i].val;
	}
	m->n = kv.n;
	free(kv.v);
	*out = m;
	return 0;
}

static int
read_seq(struct jread *r, struct node **out)
{
	struct { struct node **v; size_t n, cap; } it = { NULL, 0, 0 };
	struct node *s;
	size_t i;
	int rc = 0;

	r->p++;
	skip_space(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
	} else {
		for (;;) {
			struct node *v;

			if ((rc = read_value(r, &v)) < 0)
				break;
			VEC_PUSH(it, v);
			skip_space(r);
			if (r->p < r->end && *r->p == ',') {
				r->p++;
				continue;
			}
			if (r->p < r->end && *r->p == ']') {
				r->p++;
				break;
			}
			rc = jfail(r, "']' expected");
			break;
		}
	}
	if (rc < 0) {
		for (i = 0; i < it.n; i++)
			node_free(it.v[i]);
		free(it.v);
		return rc;
	}
	s = new_node(NODE_SEQ);
	if (it.n) {
		s->items = xmalloc(cap_for(it.n) * sizeof(*s->items));
		memcpy(s->items, it.v, it.n * sizeof(*s->items));
	}
	s->n = it.n;
	free(it.v);
	*out = s;
	return 0;
}

static int
literal(struct jread *r, const char *word, const char *text, struct node **out)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n))
		return jfail(r, "invalid token");
	r->p += n;
	*out = node_new_scalar(text);
	return 0;
}

static int
read_value(struct jread *r, struct node **out)
{
	struct node *n;
	char *s;
	int rc, nul;

	*out = NULL;
	skip_space(r);
	if (r->p >= r->end)
		return jfail(r, "premature end of input");
	switch (*r->p) {
	case '{':
	case '[':
		if (++r->depth > JSON_MAX_DEPTH)
			return jfail(r, "maximum parsing depth reached");
		rc = *r->p == '{' ? read_map(r, out) : read_seq(r, out);
		r->depth--;
		return rc;
	case '"':
		if ((rc = read_string(r, &s, &nul)) < 0)
			return rc;
		n = new_node(NODE_SCALAR);
		n->str = s;
		n->quoted = 1;
		*out = n;
		return 0;
	case 't':
		return literal(r, "true", "true", out);
	case 'f':
		return literal(r, "false", "false", out);
	case 'n':
		return literal(r, "null", "", out);
	default:
		if ((rc = read_number(r, &s)) < 0)
			return rc;
		n = new_node(NODE_SCALAR);
		n->str = s;
		*out = n;
		return 0;
	}
}

int
node_from_json(const char *text, struct node **out, struct err *e)
{
	struct jread r;
	struct node *n = NULL;
	int rc;

	*out = NULL;
	memset(&r, 0, sizeof(r));
	r.text = r.p = text;
	r.end = text + strlen(text);
	r.e = e;
	sb_init(&r.buf);
	rc = read_value(&r, &n);
	if (rc == 0) {
		skip_space(&r);
		if (r.p < r.end) {
			rc = jfail(&r, "end of file expected");
			node_free(n);
			n = NULL;
		}
	}
	sb_release(&r.buf);
	*out = n;
	return rc;
}
