/*
 * The json rule: members of a JSON column into columns of their own, the
 * rest as compact JSON.  A fast path scans the common case (a flat object
 * of canonical strings and plain numbers) in one pass without building a
 * tree; anything else goes through jansson, which also words the reject
 * reason.
 */
#include "config.h"
#include "jtext.h"
#include "rules_priv.h"

#include <jansson.h>

static const json_t *
json_walk(const json_t *v, char *const *path)
{
	for (; v && *path; path++) {
		if (json_is_object(v)) {
			v = json_object_get(v, *path);
		} else if (json_is_array(v)) {
			char *end;
			unsigned long i = strtoul(*path, &end, 10);

			v = *end || **path < '0' || **path > '9' ? NULL :
				json_array_get(v, i);
		} else {
			return NULL;
		}
	}
	return v;
}

static void
set_text(struct rules *rs, int slot, const json_t *v)
{
	sb_reset(&rs->tmp);
	jtext_value(v, &rs->tmp);
	if (rs->tmp.len == 0) {
		rs->vp[slot] = "";
		rs->vn[slot] = 0;
		return;
	}
	rs->vp[slot] = arena_copy(rs, rs->tmp.buf, rs->tmp.len);
	rs->vn[slot] = rs->tmp.len;
}

/*
 * The json rule's fast path.  jansson builds a tree of allocated nodes and
 * re-parses every number through strtod; for a 200-byte object per record
 * that costs more than everything else clean does.  This scanner validates
 * the JSON grammar in one pass, writing the compact form as it goes, and
 * handles only the inputs whose result is certain to equal the jansson
 * path's byte for byte: an object root, strings whose escapes are the
 * canonical ones (\" \\ \n \r \t \b \f), integers of up to 18 digits other
 * than -0, reals printed the way jtext_value prints them, no duplicate
 * keys.  Anything else (or anything invalid) returns -1 and the record
 * takes the jansson path, which also words the reject reason.  The fuzz
 * target fuzz-rules checks that both paths agree.
 */
/*
 * Unchecked appends: js_root grows the buffer to the input's length first,
 * and the compact form only ever drops bytes.
 */
#define JS_PUT(sb, p, n) do { \
	memcpy((sb)->buf + (sb)->len, (p), (n)); \
	(sb)->len += (n); \
} while (0)
#define JS_PUTC(sb, c) ((sb)->buf[(sb)->len++] = (c))

static const char *
js_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/*
 * The first quote, backslash or control character in [p, e), or e.
 * Eight bytes at a time: string text is most of a JSON column.  The
 * lowest flagged byte is exact (a borrow only flags bytes above it).
 */
static inline const char *
js_plain(const char *p, const char *e)
{
	const uint64_t ones = 0x0101010101010101ull;
	const uint64_t highs = 0x8080808080808080ull;

	while (e - p >= 8) {
		uint64_t w, q, b, hit;

		memcpy(&w, p, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		hit = ((q - ones) & ~q) | ((b - ones) & ~b) |
			((w - ones * 0x20) & ~w);
		hit &= highs;
		if (hit)
			return p + (__builtin_ctzll(hit) >> 3);
		p += 8;
	}
	while (p < e && (unsigned char)*p >= 0x20 && *p != '"' && *p != '\\')
		p++;
	return p;
}

static int
js_string(const char **pp, const char *e, struct strbuf *out)
{
	const char *p = *pp + 1;

	for (;;) {
		p = js_plain(p, e);
		if (p >= e || (unsigned char)*p < 0x20)
			return -1;
		if (*p == '"')
			break;
		if (p + 1 >= e || !strchr("\"\\nrtbf", p[1]) || !p[1])
			return -1;
		p += 2;
	}
	JS_PUT(out, *pp, (size_t)(p + 1 - *pp));
	*pp = p + 1;
	return 0;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
js_number(const char **pp, const char *e, struct strbuf *out)
{
	const char *p = *pp, *f;
	size_t intd = 0, fracd = 0;
	int zero = 0;

	if (p < e && *p == '-')
		p++;
	if (p < e && *p == '0') {
		p++;
		intd = 1;
		zero = 1;
	} else {
		while (p < e && is_digit(*p)) {
			p++;
			intd++;
		}
	}
	if (!intd)
		return -1;
	if (p < e && *p == '.') {
		f = ++p;
		while (p < e && is_digit(*p))
			p++;
		fracd = (size_t)(p - f);
		/* Only reals that jtext_value prints back the same. */
		if (!fracd || p[-1] == '0' || fracd > 9 || intd > 11 ||
		    intd + fracd > 15 || (zero && f[0] == '0'))
			return -1;
	} else if (intd > 18 || (zero && **pp == '-')) {
		return -1;
	}
	if (p < e && (*p == 'e' || *p == 'E' || is_digit(*p)))
		return -1;
	JS_PUT(out, *pp, (size_t)(p - *pp));
	*pp = p;
	return 0;
}

static int js_value(const char **pp, const char *e, struct strbuf *out,
	int depth, char *type, struct jfast *top);

static int
js_object(const char **pp, const char *e, struct strbuf *out, int depth,
	struct jfast *top)
{
	const char *p = js_ws(*pp + 1, e);
	struct { const char *k; size_t n; } keys[32];
	size_t nk = 0, i;

	JS_PUTC(out, '{');
	if (p < e && *p == '}') {
		JS_PUTC(out, '}');
		*pp = p + 1;
		return 0;
	}
	for (;;) {
		struct jmem m;

		if (p >= e || *p != '"' || nk == ARRAY_LEN(keys))
			return -1;
		m.ks = out->len;
		m.k = p + 1;
		if (js_string(&p, e, out) < 0)
			return -1;
		m.kn = (size_t)(p - 1 - m.k);
		for (i = 0; i < nk; i++)
			if (keys[i].n == m.kn && !memcmp(keys[i].k, m.k, m.kn))
				return -1;	/* jansson keeps the last: leave it to it */
		keys[nk].k = m.k;
		keys[nk++].n = m.kn;
		p = js_ws(p, e);
		if (p >= e || *p != ':')
			return -1;
		JS_PUTC(out, ':');
		p = js_ws(p + 1, e);
		m.v = p;
		m.vs = out->len;
		if (js_value(&p, e, out, depth + 1, &m.t, NULL) < 0)
			return -1;
		m.vn = (size_t)(p - m.v);
		m.oe = out->len;
		if (top) {
			if (top->n == JF_MAX_MEMBERS)
				return -1;
			top->m[top->n++] = m;
		}
		p = js_ws(p, e);
		if (p < e && *p == ',') {
			JS_PUTC(out, ',');
			p = js_ws(p + 1, e);
			continue;
		}
		if (p < e && *p == '}') {
			JS_PUTC(out, '}');
			*pp = p + 1;
			return 0;
		}
		return -1;
	}
}

static int
js_array(const char **pp, const char *e, struct strbuf *out, int depth)
{
	const char *p = js_ws(*pp + 1, e);
	char t;

	JS_PUTC(out, '[');
	if (p < e && *p == ']') {
		JS_PUTC(out, ']');
		*pp = p + 1;
		return 0;
	}
	for (;;) {
		if (js_value(&p, e, out, depth + 1, &t, NULL) < 0)
			return -1;
		p = js_ws(p, e);
		if (p < e && *p == ',') {
			JS_PUTC(out, ',');
			p = js_ws(p + 1, e);
			continue;
		}
		if (p < e && *p == ']') {
			JS_PUTC(out, ']');
			*pp = p + 1;
			return 0;
		}
		return -1;
	}
}

static int
js_literal(const char **pp, const char *e, const char *word,
	struct strbuf *out)
{
	size_t n = strlen(word);

	if ((size_t)(e - *pp) < n || memcmp(*pp, word, n))
		return -1;
	JS_PUT(out, word, n);
	*pp += n;
	return 0;
}

static int
js_value(const char **pp, const char *e, struct strbuf *out, int depth,
	char *type, struct jfast *top)
{
	if (*pp >= e || depth > JF_MAX_DEPTH)
		return -1;
	switch (**pp) {
	case '"':
		*type = 's';
		return js_string(pp, e, out);
	case '{':
		*type = 'o';
		return js_object(pp, e, out, depth, top);
	case '[':
		*type = 'a';
		return js_array(pp, e, out, depth);
	case 't':
		*type = 't';
		return js_literal(pp, e, "true", out);
	case 'f':
		*type = 'f';
		return js_literal(pp, e, "false", out);
	case 'n':
		*type = 'z';
		return js_literal(pp, e, "null", out);
	default:
		*type = 'n';
		return js_number(pp, e, out);
	}
}

/* Scan an object text into jf and out; 0, or -1 to use jansson. */
static int
js_root(const char *v, size_t n, struct strbuf *out, struct jfast *jf)
{
	const char *p = js_ws(v, v + n), *e = v + n;
	char t;

	jf->n = 0;
	sb_reset(out);
	/* The compact form is never longer than the text: grow once. */
	sb_grow(out, n + 1);
	if (p >= e || *p != '{')
		return -1;
	if (js_value(&p, e, out, 0, &t, jf) < 0)
		return -1;
	return js_ws(p, e) == e ? 0 : -1;
}

/* The member called key (keys with escapes never match: use jansson). */
static const struct jmem *
js_find(const struct jfast *jf, const char *key, int *fallback)
{
	size_t i, n = strlen(key);

	for (i = 0; i < jf->n; i++) {
		if (memchr(jf->m[i].k, '\\', jf->m[i].kn))
			*fallback = 1;
		if (jf->m[i].kn == n && !memcmp(jf->m[i].k, key, n))
			return &jf->m[i];
	}
	return NULL;
}

/* A member's text as jtext_value gives it, into the arena. */
static void
js_set(struct rules *rs, int slot, const struct jmem *m,
	const struct strbuf *out)
{
	const char *src;
	size_t n, i;
	char *d;

	if (!m || m->t == 'z') {
		rs->vp[slot] = "";
		rs->vn[slot] = 0;
		return;
	}
	if (m->t == 'n' || m->t == 't' || m->t == 'f') {
		rs->vp[slot] = m->v;
		rs->vn[slot] = m->vn;
		return;
	}
	if (m->t == 'o' || m->t == 'a') {
		rs->vp[slot] = arena_copy(rs, out->buf + m->vs, m->oe - m->vs);
		rs->vn[slot] = m->oe - m->vs;
		return;
	}
	/* A string: its text, the canonical escapes decoded. */
	src = m->v + 1;
	n = m->vn - 2;
	d = arena_alloc(rs, n + 1);
	rs->vp[slot] = d;
	for (i = 0; i < n; i++) {
		if (src[i] != '\\') {
			*d++ = src[i];
			continue;
		}
		switch (src[++i]) {
		case 'n': *d++ = '\n'; break;
		case 'r': *d++ = '\r'; break;
		case 't': *d++ = '\t'; break;
		case 'b': *d++ = '\b'; break;
		case 'f': *d++ = '\f'; break;
		default: *d++ = src[i]; break;
		}
	}
	*d = 0;
	rs->vn[slot] = (size_t)(d - rs->vp[slot]);
}

/* The json rule without jansson: 0 when done, -1 to take the jansson path. */
static int
apply_json_fast(struct rules *rs, struct rule *r, int s)
{
	struct jfast *jf = &rs->jf, *sub = &rs->jf2;
	const struct jmem *m;
	struct strbuf *out = &rs->tmp;
	size_t i, k, len;
	int fallback = 0;
	char *d;

	if (js_root(rs->vp[s], rs->vn[s], out, jf) < 0)
		return -1;
	for (i = 0; i < r->nnames; i++) {
		char *const *path = r->paths[i];

		m = js_find(jf, path[0], &fallback);
		if (fallback)
			return -1;
		if (m && path[1]) {
			/* Deeper: scan each level's object on its own. */
			struct jmem cur = *m;
			const struct jmem *x = &cur;

			for (k = 1; x && path[k]; k++) {
				if (x->t == 'a')
					return -1;
				if (x->t != 'o') {
					x = NULL;
					break;
				}
				if (js_root(x->v, x->vn, &rs->tmp2, sub) < 0)
					return -1;
				x = js_find(sub, path[k], &fallback);
				if (fallback)
					return -1;
				if (x) {
					cur = *x;
					x = &cur;
				}
			}
			js_set(rs, r->slots[i], x, &rs->tmp2);
			continue;
		}
		js_set(rs, r->slots[i], m, out);
	}
	if (r->into_slot < 0)
		return 0;
	/* rest: the members not taken whole, in their order. */
	len = 2;
	for (i = 0; i < jf->n; i++)
		len += jf->m[i].oe - jf->m[i].ks + 1;
	d = arena_alloc(rs, len + 1);
	rs->vp[r->into_slot] = d;
	*d++ = '{';
	for (i = 0; i < jf->n; i++) {
		const struct jmem *x = &jf->m[i];

		for (k = 0; k < r->nnames; k++)
			if (!r->paths[k][1] && strlen(r->paths[k][0]) == x->kn &&
			    !memcmp(r->paths[k][0], x->k, x->kn))
				break;
		if (k < r->nnames)
			continue;
		if (d[-1] != '{')
			*d++ = ',';
		memcpy(d, out->buf + x->ks, x->oe - x->ks);
		d += x->oe - x->ks;
	}
	*d++ = '}';
	*d = 0;
	rs->vn[r->into_slot] = (size_t)(d - rs->vp[r->into_slot]);
	return 0;
}

const char *
apply_json(struct rules *rs, struct rule *r, int s)
{
	json_error_t jerr;
	json_t *root;
	size_t i;

	if (rs->vn[s] == 0) {
		for (i = 0; i < r->nnames; i++) {
			rs->vp[r->slots[i]] = "";
			rs->vn[r->slots[i]] = 0;
		}
		if (r->into_slot >= 0) {
			rs->vp[r->into_slot] = "";
			rs->vn[r->into_slot] = 0;
		}
		return NULL;
	}
	if (apply_json_fast(rs, r, s) == 0)
		return NULL;
	root = jtext_load(rs->vp[s], rs->vn[s], JSON_DECODE_ANY, &jerr);
	if (!root)
		return reject(rs, r, "column '%s' is not JSON: %s", r->col,
			jerr.text);
	for (i = 0; i < r->nnames; i++)
		set_text(rs, r->slots[i], json_walk(root, r->paths[i]));
	if (r->into_slot >= 0) {
		if (json_is_object(root)) {
			/* rest: the object without the keys taken whole. */
			for (i = 0; i < r->nnames; i++)
				if (r->paths[i][0] && !r->paths[i][1])
					json_object_del(root, r->paths[i][0]);
		}
		set_text(rs, r->into_slot, root);
	}
	json_decref(root);
	return NULL;
}

