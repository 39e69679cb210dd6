/*
 * The clean task's rule engine.
 *
 * A rules: list is parsed once into struct rule entries (patterns compiled
 * with PCRE2 and JIT, match data allocated once per pattern), then bound
 * to an input header: every column a rule names becomes a slot index, and
 * the schema rules (select, rename, drop) are applied to the column list
 * at bind time, so per record they cost nothing.  A record's values are
 * (pointer, length) pairs into the reader's buffer or into an arena reset
 * for each record, so rules that leave a value alone never copy it.
 *
 * The same parser serves load-time validation: bound against an unknown
 * ("open") header it reports a column used after a rule removed it, which
 * is all that can be known before the input exists.
 */
#include "config.h"
#include "rules.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum rule_op {
	R_SELECT, R_RENAME, R_DROP, R_TRIM, R_LOWER, R_UPPER, R_REPLACE,
	R_SPLIT, R_JSON, R_STRIP, R_TRUNCATE, R_PAD, R_BUCKET, R_REQUIRE,
	R_DEFAULT,
};

static const char *const op_names[] = {
	"select", "rename", "drop", "trim", "lower", "upper", "replace",
	"split", "json", "strip_chars", "truncate", "pad_left", "bucket",
	"require", "default",
};

struct pat {
	char *src;
	pcre2_code *code;
	pcre2_match_data *md;
	uint32_t ncap;		/* capture groups */
};

struct rule {
	enum rule_op op;
	size_t index;		/* 1-based position in the list */
	int line, column;	/* of the rule in the YAML */
	char *col;		/* the column it reads (most rules) */
	int slot;
	struct pat pat;
	char *str;		/* replace: with; default: value; strip: chars */
	char **names;		/* select/drop/rename-old/split-into/json-newcols/bucket labels */
	char **names2;		/* rename-new / json paths */
	size_t nnames;
	int *slots;		/* bound slots of names (outputs or inputs) */
	char *into;		/* bucket: output column; json: rest */
	int into_slot;
	double *bounds;		/* bucket */
	size_t nbounds;
	size_t width;		/* truncate, pad_left */
	char *pad;		/* pad_left: the character (UTF-8) */
	unsigned char strip_ascii[256];	/* strip_chars: ASCII members */
	uint32_t *strip_cp;	/* strip_chars: non-ASCII code points */
	size_t nstrip_cp;
	char ***paths;		/* json: each path split on '.' */
	int has_where;
	char *wcol;
	int wslot;
	struct pat wpat;
};

#define JF_MAX_MEMBERS 64
#define JF_MAX_DEPTH 64

struct jmem {
	const char *k;		/* key text, without quotes (canonical escapes) */
	size_t kn;
	const char *v;		/* the value's input text */
	size_t vn;
	size_t ks, oe;		/* compact "key":value in the output */
	size_t vs;		/* compact value start in the output */
	char t;			/* s n t f z o a */
};

struct jfast {
	struct jmem m[JF_MAX_MEMBERS];
	size_t n;
};

struct arena_blk {
	struct arena_blk *next;
	size_t used, cap;
	char data[];
};

struct rules {
	struct rule *v;
	size_t n;
	char *source;		/* JSON of the list compiled */
	/* Bound schema. */
	char **slot_names;	/* borrowed from the header or the rules */
	size_t nslots, input_width;
	int *live;		/* output order: slots */
	size_t nlive;
	char **out_hdr;
	/* Per record. */
	const char **vp;
	size_t *vn;
	char **outp;
	size_t *outn;
	struct arena_blk *arena;
	struct strbuf tmp;
	struct strbuf tmp2;	/* the json fast path's nested levels */
	struct jfast jf, jf2;
	char reason[512];
};

/* ------------------------------------------------------------- arena */

static char *
arena_alloc(struct rules *rs, size_t n)
{
	struct arena_blk *b = rs->arena;
	char *p;

	if (!b || b->cap - b->used < n) {
		size_t cap = n > 65536 ? n : 65536;

		b = xmalloc(sizeof(*b) + cap);
		b->used = 0;
		b->cap = cap;
		b->next = rs->arena;
		rs->arena = b;
	}
	p = b->data + b->used;
	b->used += n;
	return p;
}

/* Keep the newest block, drop the rest: one record's values at a time. */
static void
arena_reset(struct rules *rs)
{
	struct arena_blk *b = rs->arena, *next;

	if (!b)
		return;
	next = b->next;
	b->next = NULL;
	b->used = 0;
	while (next) {
		struct arena_blk *x = next->next;

		free(next);
		next = x;
	}
}

static const char *
arena_copy(struct rules *rs, const char *p, size_t n)
{
	char *d = arena_alloc(rs, n + 1);

	memcpy(d, p, n);
	d[n] = 0;
	return d;
}

/* ------------------------------------------------------------ parsing */

struct pctx {
	const char *file;
	struct errs *errs;
	int failed;
};

static void perr(struct pctx *c, const struct node *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
perr(struct pctx *c, const struct node *at, const char *fmt, ...)
{
	struct err e;
	va_list ap;
	char msg[900];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set_at(&e, -EINVAL, c->file, at ? at->line : 0,
		at ? at->column : 0, "%s", msg);
	errs_add(c->errs, &e);
	c->failed = 1;
}

static int
pat_compile(struct pctx *c, const struct node *at, const char *what,
	const char *src, struct pat *p)
{
	int ecode;
	PCRE2_SIZE eoff;
	PCRE2_UCHAR msg[256];

	p->src = xstrdup(src);
	p->code = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
		PCRE2_UTF, &ecode, &eoff, NULL);
	if (!p->code) {
		struct err e;
		int col = at->column + (int)eoff + (at->quoted ? 1 : 0);

		pcre2_get_error_message(ecode, msg, sizeof(msg));
		err_set_at(&e, -EINVAL, c->file, at->line, col,
			"%s '%s' does not compile: %s (at offset %zu)", what,
			src, (char *)msg, (size_t)eoff);
		errs_add(c->errs, &e);
		c->failed = 1;
		return -EINVAL;
	}
	/* Without JIT (unsupported CPU) matching still works, only slower. */
	pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE);
	p->md = pcre2_match_data_create_from_pattern(p->code, NULL);
	pcre2_pattern_info(p->code, PCRE2_INFO_CAPTURECOUNT, &p->ncap);
	return 0;
}

static void
pat_release(struct pat *p)
{
	free(p->src);
	if (p->md)
		pcre2_match_data_free(p->md);
	if (p->code)
		pcre2_code_free(p->code);
	memset(p, 0, sizeof(*p));
}

/* The scalar value of key in m, required or optional; NULL if absent/bad. */
static const char *
get_scalar(struct pctx *c, const struct node *rule, const struct node *m,
	const char *key, int required, const char *opname)
{
	const struct node *v = node_get(m, key);

	if (!v) {
		if (required)
			perr(c, m, "%s: missing '%s'", opname, key);
		return NULL;
	}
	if (v->type != NODE_SCALAR) {
		perr(c, v, "%s: '%s' must be a string, not %s", opname, key,
			node_type_name(v));
		return NULL;
	}
	(void)rule;
	return v->str;
}

/* A list of scalars (a scalar counts as a list of one). */
static char **
get_list(struct pctx *c, const struct node *v, const char *opname,
	const char *what, size_t *n)
{
	char **out;
	size_t i;

	*n = 0;
	if (!v)
		return NULL;
	if (v->type == NODE_SCALAR) {
		out = xcalloc(2, sizeof(*out));
		out[0] = xstrdup(v->str);
		*n = 1;
		return out;
	}
	if (v->type != NODE_SEQ) {
		perr(c, v, "%s: %s must be a list, not %s", opname, what,
			node_type_name(v));
		return NULL;
	}
	out = xcalloc(v->n + 1, sizeof(*out));
	for (i = 0; i < v->n; i++) {
		if (v->items[i]->type != NODE_SCALAR) {
			perr(c, v->items[i], "%s: every item of %s must be a "
				"string, not %s", opname, what,
				node_type_name(v->items[i]));
			out[i] = xstrdup("");
		} else {
			out[i] = xstrdup(v->items[i]->str);
		}
	}
	*n = v->n;
	return out;
}

/* Check m's keys against the allowed ones. */
static void
check_keys(struct pctx *c, const struct node *m, const char *opname,
	const char *const *allowed)
{
	size_t i, j;

	for (i = 0; i < m->n; i++) {
		const char *k = m->keys[i]->str;

		for (j = 0; allowed[j]; j++)
			if (!strcmp(k, allowed[j]))
				break;
		if (!allowed[j]) {
			struct strbuf sb;

			sb_init(&sb);
			for (j = 0; allowed[j]; j++)
				sb_addf(&sb, "%s%s", j ? ", " : "", allowed[j]);
			perr(c, m->keys[i], "%s: unknown key '%s' (expected %s)",
				opname, k, sb.buf);
			sb_release(&sb);
		}
	}
}

static int
parse_uint(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end || errno || v > (1u << 30))
		return -EINVAL;
	*out = (size_t)v;
	return 0;
}

/*
 * A number as bucket reads one: optional ASCII whitespace around a
 * decimal (sign, digits, point, exponent); no hex, inf or nan.
 */
static int
parse_number(const char *p, size_t n, double *out)
{
	char buf[64];
	char *end;
	size_t i = 0, j;

	while (n && strchr(" \t\r\n\f\v", p[n - 1]) && p[n - 1])
		n--;
	while (i < n && strchr(" \t\r\n\f\v", p[i]) && p[i])
		i++;
	if (i == n || n - i >= sizeof(buf))
		return -EINVAL;
	for (j = i; j < n; j++)
		if (!strchr("0123456789+-.eE", p[j]) || !p[j])
			return -EINVAL;
	memcpy(buf, p + i, n - i);
	buf[n - i] = 0;
	*out = strtod(buf, &end);
	if (*end || end == buf || !isfinite(*out))
		return -EINVAL;
	return 0;
}

/* Decode one UTF-8 character at p (valid input); returns its length. */
static size_t
utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	if (p[0] < 0x80 || n < 2) {
		*cp = p[0];
		return 1;
	}
	if (p[0] < 0xe0) {
		*cp = ((uint32_t)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
		return 2;
	}
	if (p[0] < 0xf0 || n < 4) {
		if (n < 3) {
			*cp = p[0];
			return 1;
		}
		*cp = ((uint32_t)(p[0] & 0x0f) << 12) |
			((uint32_t)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
		return 3;
	}
	*cp = ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3f) << 12) |
		((uint32_t)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
	return 4;
}

static size_t
utf8_chars(const char *p, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)p[i] & 0xc0) != 0x80)
			c++;
	return c;
}

/* Check $N / ${N} references in a replacement against the groups. */
static void
check_replacement(struct pctx *c, const struct node *at, const char *with,
	uint32_t ncap)
{
	const char *p;

	for (p = with; (p = strchr(p, '$')) != NULL; ) {
		unsigned long g;
		char *end;

		p++;
		if (*p == '$') {
			p++;
			continue;
		}
		if (*p == '{')
			p++;
		if (*p < '0' || *p > '9')
			continue;
		g = strtoul(p, &end, 10);
		if (g > ncap) {
			perr(c, at, "replace: 'with' refers to group $%lu but "
				"the pattern has %u capture group%s", g, ncap,
				ncap == 1 ? "" : "s");
			return;
		}
		p = end;
	}
}

static const char *const k_col[] = { "column", NULL };
static const char *const k_replace[] = { "column", "pattern", "with", NULL };
static const char *const k_split[] = { "column", "pattern", "into", NULL };
static const char *const k_json[] = { "column", "fields", "rest", NULL };
static const char *const k_strip[] = { "column", "chars", NULL };
static const char *const k_trunc[] = { "column", "width", NULL };
static const char *const k_pad[] = { "column", "width", "char", NULL };
static const char *const k_bucket[] = { "column", "into", "bounds", "labels",
	"default", NULL };
static const char *const k_require[] = { "column", "pattern", NULL };
static const char *const k_default[] = { "column", "value", NULL };
static const char *const k_where[] = { "column", "matches", NULL };

/* The argument must be a map; returns it or NULL after an error. */
static const struct node *
want_map(struct pctx *c, const struct node *arg, const char *opname,
	const char *const *keys)
{
	if (arg->type != NODE_MAP) {
		perr(c, arg, "%s: expected a map with %s..., not %s", opname,
			keys[0], node_type_name(arg));
		return NULL;
	}
	check_keys(c, arg, opname, keys);
	return arg;
}

static void
parse_args(struct pctx *c, struct rule *r, const struct node *arg)
{
	const char *name = op_names[r->op], *s;
	const struct node *m, *v;
	size_t i;

	switch (r->op) {
	case R_SELECT:
	case R_DROP:
		r->names = get_list(c, arg, name, "the columns", &r->nnames);
		if (r->names && r->nnames == 0)
			perr(c, arg, "%s: the list of columns is empty", name);
		return;
	case R_RENAME:
		if (arg->type != NODE_MAP || arg->n == 0) {
			perr(c, arg, "rename: expected a map {old: new}, not %s",
				node_type_name(arg));
			return;
		}
		r->nnames = arg->n;
		r->names = xcalloc(arg->n + 1, sizeof(char *));
		r->names2 = xcalloc(arg->n + 1, sizeof(char *));
		for (i = 0; i < arg->n; i++) {
			r->names[i] = xstrdup(arg->keys[i]->str);
			if (arg->items[i]->type != NODE_SCALAR ||
			    !*arg->items[i]->str) {
				perr(c, arg->items[i], "rename: the new name of "
					"'%s' must be a non-empty string",
					arg->keys[i]->str);
				r->names2[i] = xstrdup("");
			} else {
				r->names2[i] = xstrdup(arg->items[i]->str);
			}
		}
		return;
	case R_TRIM:
	case R_LOWER:
	case R_UPPER:
		if (arg->type == NODE_MAP) {
			check_keys(c, arg, name, k_col);
			s = get_scalar(c, arg, arg, "column", 1, name);
		} else if (arg->type == NODE_SCALAR) {
			s = arg->str;
		} else {
			perr(c, arg, "%s: expected a column name, not %s", name,
				node_type_name(arg));
			return;
		}
		r->col = s ? xstrdup(s) : NULL;
		return;
	default:
		break;
	}
	m = want_map(c, arg, name, r->op == R_REPLACE ? k_replace :
		r->op == R_SPLIT ? k_split : r->op == R_JSON ? k_json :
		r->op == R_STRIP ? k_strip : r->op == R_TRUNCATE ? k_trunc :
		r->op == R_PAD ? k_pad : r->op == R_BUCKET ? k_bucket :
		r->op == R_REQUIRE ? k_require : k_default);
	if (!m)
		return;
	s = get_scalar(c, arg, m, "column", 1, name);
	r->col = s ? xstrdup(s) : NULL;
	switch (r->op) {
	case R_REPLACE:
	case R_SPLIT:
	case R_REQUIRE:
		v = node_get(m, "pattern");
		s = get_scalar(c, arg, m, "pattern", 1, name);
		if (s && pat_compile(c, v, "pattern", s, &r->pat) < 0)
			return;
		if (r->op == R_REPLACE) {
			s = get_scalar(c, arg, m, "with", 0, name);
			r->str = xstrdup(s ? s : "");
			if (r->pat.code)
				check_replacement(c, node_get(m, "with") ?
					node_get(m, "with") : m, r->str,
					r->pat.ncap);
		}
		if (r->op == R_SPLIT) {
			v = node_get(m, "into");
			if (!v) {
				perr(c, m, "split: missing 'into'");
				return;
			}
			r->names = get_list(c, v, name, "into", &r->nnames);
			if (r->pat.code && r->names &&
			    r->nnames > r->pat.ncap)
				perr(c, v, "split: 'into' names %zu columns but "
					"the pattern has %u capture group%s",
					r->nnames, r->pat.ncap,
					r->pat.ncap == 1 ? "" : "s");
		}
		return;
	case R_JSON:
		v = node_get(m, "fields");
		s = get_scalar(c, arg, m, "rest", 0, name);
		r->into = s ? xstrdup(s) : NULL;
		if (!v && !s) {
			perr(c, m, "json: missing 'fields' (a map {newcol: "
				"dotted.path})");
			return;
		}
		if (!v)
			return;
		if (v->type != NODE_MAP || v->n == 0) {
			perr(c, v, "json: 'fields' must be a map {newcol: "
				"dotted.path}, not %s", node_type_name(v));
			return;
		}
		r->nnames = v->n;
		r->names = xcalloc(v->n + 1, sizeof(char *));
		r->names2 = xcalloc(v->n + 1, sizeof(char *));
		r->paths = xcalloc(v->n + 1, sizeof(char **));
		for (i = 0; i < v->n; i++) {
			const struct node *pv = v->items[i];
			char *dup, *tok, *save = NULL;
			size_t k = 0;

			r->names[i] = xstrdup(v->keys[i]->str);
			if (pv->type != NODE_SCALAR || !*pv->str) {
				perr(c, pv, "json: the path of '%s' must be a "
					"non-empty string", v->keys[i]->str);
				r->names2[i] = xstrdup("");
				r->paths[i] = xcalloc(1, sizeof(char *));
				continue;
			}
			r->names2[i] = xstrdup(pv->str);
			r->paths[i] = xcalloc(strlen(pv->str) + 2,
				sizeof(char *));
			dup = xstrdup(pv->str);
			for (tok = strtok_r(dup, ".", &save); tok;
			     tok = strtok_r(NULL, ".", &save))
				r->paths[i][k++] = xstrdup(tok);
			free(dup);
		}
		return;
	case R_STRIP:
		s = get_scalar(c, arg, m, "chars", 1, name);
		if (!s)
			return;
		r->str = xstrdup(s);
		for (i = 0; s[i]; ) {
			uint32_t cp;
			size_t l = utf8_decode((const unsigned char *)s + i,
				strlen(s + i), &cp);

			if (cp < 0x80) {
				r->strip_ascii[cp] = 1;
			} else {
				r->strip_cp = xrealloc(r->strip_cp,
					(r->nstrip_cp + 1) * sizeof(uint32_t));
				r->strip_cp[r->nstrip_cp++] = cp;
			}
			i += l;
		}
		return;
	case R_TRUNCATE:
	case R_PAD:
		s = get_scalar(c, arg, m, "width", 1, name);
		if (s && parse_uint(s, &r->width) < 0)
			perr(c, node_get(m, "width"), "%s: width '%s' is not "
				"a non-negative integer", name, s);
		if (r->op == R_PAD) {
			s = get_scalar(c, arg, m, "char", 0, name);
			if (!s)
				s = " ";
			if (utf8_chars(s, strlen(s)) != 1)
				perr(c, node_get(m, "char"), "pad_left: char "
					"'%s' must be one character", s);
			r->pad = xstrdup(s);
		}
		return;
	case R_BUCKET:
		s = get_scalar(c, arg, m, "into", 0, name);
		r->into = s ? xstrdup(s) : NULL;
		s = get_scalar(c, arg, m, "default", 0, name);
		r->str = xstrdup(s ? s : "");
		v = node_get(m, "bounds");
		if (!v || v->type != NODE_SEQ || v->n == 0) {
			perr(c, v ? v : m, "bucket: 'bounds' must be a "
				"non-empty list of numbers");
			return;
		}
		r->nbounds = v->n;
		r->bounds = xcalloc(v->n, sizeof(double));
		for (i = 0; i < v->n; i++) {
			const struct node *b = v->items[i];

			if (b->type != NODE_SCALAR || parse_number(b->str,
			    strlen(b->str), &r->bounds[i]) < 0) {
				perr(c, b, "bucket: bound '%s' is not a number",
					b->type == NODE_SCALAR ? b->str : "");
				return;
			}
			if (i && r->bounds[i] <= r->bounds[i - 1]) {
				perr(c, b, "bucket: bounds must increase: "
					"'%s' follows a bound not below it",
					b->str);
				return;
			}
		}
		v = node_get(m, "labels");
		if (!v) {
			perr(c, m, "bucket: missing 'labels'");
			return;
		}
		r->names = get_list(c, v, name, "labels", &r->nnames);
		if (r->names && r->nnames != r->nbounds + 1)
			perr(c, v, "bucket: %zu bounds need %zu labels, found %zu",
				r->nbounds, r->nbounds + 1, r->nnames);
		return;
	case R_DEFAULT:
		s = get_scalar(c, arg, m, "value", 1, name);
		r->str = xstrdup(s ? s : "");
		return;
	default:
		return;
	}
}

static void
parse_rule(struct pctx *c, struct rule *r, const struct node *item)
{
	const struct node *arg = NULL, *where = NULL;
	size_t i, j;
	int found = 0;

	r->line = item->line;
	r->column = item->column;
	r->slot = r->wslot = r->into_slot = -1;
	if (item->type != NODE_MAP) {
		perr(c, item, "rule %zu: expected a map like {trim: column}, "
			"not %s", r->index, node_type_name(item));
		return;
	}
	for (i = 0; i < item->n; i++) {
		const char *k = item->keys[i]->str;

		if (!strcmp(k, "where")) {
			where = item->items[i];
			continue;
		}
		for (j = 0; j < ARRAY_LEN(op_names); j++)
			if (!strcmp(k, op_names[j]))
				break;
		if (j == ARRAY_LEN(op_names)) {
			const char *best = NULL;
			int bd = 3;

			for (j = 0; j < ARRAY_LEN(op_names); j++) {
				int d = edit_distance(k, op_names[j]);

				if (d < bd) {
					bd = d;
					best = op_names[j];
				}
			}
			if (best)
				perr(c, item->keys[i], "rule %zu: unknown rule "
					"'%s' (did you mean '%s'?)", r->index,
					k, best);
			else
				perr(c, item->keys[i], "rule %zu: unknown rule "
					"'%s'", r->index, k);
			return;
		}
		if (found) {
			perr(c, item->keys[i], "rule %zu: one rule per list "
				"item: '%s' follows '%s'", r->index, k,
				op_names[r->op]);
			return;
		}
		found = 1;
		r->op = (enum rule_op)j;
		arg = item->items[i];
	}
	if (!found) {
		perr(c, item, "rule %zu: no rule key (expected one of select, "
			"rename, drop, trim, lower, upper, replace, split, json, "
			"strip_chars, truncate, pad_left, bucket, require, "
			"default)", r->index);
		return;
	}
	parse_args(c, r, arg);
	if (!where)
		return;
	if (r->op == R_SELECT || r->op == R_RENAME || r->op == R_DROP) {
		perr(c, where, "%s: 'where' does not apply to a rule that "
			"changes the columns", op_names[r->op]);
		return;
	}
	if (!want_map(c, where, "where", k_where))
		return;
	{
		const char *wc = get_scalar(c, where, where, "column", 1, "where");
		const char *wm = get_scalar(c, where, where, "matches", 1, "where");

		r->has_where = 1;
		r->wcol = wc ? xstrdup(wc) : NULL;
		if (wm)
			pat_compile(c, node_get(where, "matches"), "where "
				"pattern", wm, &r->wpat);
	}
}

static void
rule_release(struct rule *r)
{
	size_t i, k;

	free(r->col);
	pat_release(&r->pat);
	pat_release(&r->wpat);
	free(r->str);
	for (i = 0; i < r->nnames; i++) {
		free(r->names ? r->names[i] : NULL);
		free(r->names2 ? r->names2[i] : NULL);
		if (r->paths && r->paths[i]) {
			for (k = 0; r->paths[i][k]; k++)
				free(r->paths[i][k]);
			free(r->paths[i]);
		}
	}
	free(r->names);
	free(r->names2);
	free(r->paths);
	free(r->slots);
	free(r->into);
	free(r->bounds);
	free(r->pad);
	free(r->strip_cp);
	free(r->wcol);
}

static struct rules *
parse_list(struct pctx *c, const struct node *list)
{
	struct rules *rs = xcalloc(1, sizeof(*rs));
	size_t i;

	sb_init(&rs->tmp);
	sb_init(&rs->tmp2);
	if (!list)
		return rs;
	if (list->type != NODE_SEQ) {
		perr(c, list, "rules: expected a list of rules, not %s",
			node_type_name(list));
		return rs;
	}
	rs->n = list->n;
	rs->v = xcalloc(list->n + 1, sizeof(*rs->v));
	for (i = 0; i < list->n; i++) {
		rs->v[i].index = i + 1;
		parse_rule(c, &rs->v[i], list->items[i]);
	}
	rs->source = node_to_json(list);
	return rs;
}

void
rules_free(struct rules *rs)
{
	size_t i;

	if (!rs)
		return;
	for (i = 0; i < rs->n; i++)
		rule_release(&rs->v[i]);
	free(rs->v);
	free(rs->source);
	free(rs->slot_names);
	free(rs->live);
	free(rs->out_hdr);
	free(rs->vp);
	free(rs->vn);
	free(rs->outp);
	free(rs->outn);
	arena_reset(rs);
	free(rs->arena);
	sb_release(&rs->tmp);
	sb_release(&rs->tmp2);
	free(rs);
}

/* ------------------------------------------------------------ binding */

struct binder {
	struct rules *rs;
	int open;		/* header unknown: validation */
	int closed;		/* open, but a select fixed the columns */
	char **gone;		/* open: names removed by drop/rename/select */
	size_t ngone;
	struct pctx *c;		/* open: where errors go */
	struct err *e;		/* bound: the first error */
	int failed;
};

static void bind_err(struct binder *b, const struct rule *r, const char *fmt,
	...) __attribute__((format(printf, 3, 4)));

static void
bind_err(struct binder *b, const struct rule *r, const char *fmt, ...)
{
	char msg[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (b->failed && !b->open)
		return;
	b->failed = 1;
	if (b->open) {
		struct err e;

		err_set_at(&e, -EINVAL, b->c->file, r->line, r->column,
			"rule %zu (%s): %s", r->index, op_names[r->op], msg);
		errs_add(b->c->errs, &e);
		b->c->failed = 1;
	} else if (r->line > 0) {
		err_set(b->e, -EINVAL, "rule %zu (%s) at line %d: %s", r->index,
			op_names[r->op], r->line, msg);
	} else {
		err_set(b->e, -EINVAL, "rule %zu (%s): %s", r->index,
			op_names[r->op], msg);
	}
}

static int
new_slot(struct rules *rs, const char *name)
{
	rs->slot_names = xrealloc(rs->slot_names,
		(rs->nslots + 1) * sizeof(char *));
	rs->slot_names[rs->nslots] = (char *)name;
	return (int)rs->nslots++;
}

static int
live_find(struct rules *rs, const char *name)
{
	size_t i;

	for (i = 0; i < rs->nlive; i++)
		if (!strcmp(rs->slot_names[rs->live[i]], name))
			return (int)i;
	return -1;
}

static void
live_add(struct rules *rs, int slot)
{
	rs->live = xrealloc(rs->live, (rs->nlive + 1) * sizeof(int));
	rs->live[rs->nlive++] = slot;
}

static int
was_gone(struct binder *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->ngone; i++)
		if (!strcmp(b->gone[i], name))
			return 1;
	return 0;
}

static void
mark_gone(struct binder *b, const char *name)
{
	if (!b->open)
		return;
	b->gone = xrealloc(b->gone, (b->ngone + 1) * sizeof(char *));
	b->gone[b->ngone++] = (char *)name;
}

static void
unmark_gone(struct binder *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->ngone; i++)
		if (!strcmp(b->gone[i], name))
			b->gone[i] = "";
}

/* The slot of an existing column, or -1 after an error. */
static int
need_col(struct binder *b, const struct rule *r, const char *name)
{
	struct rules *rs = b->rs;
	int i;

	if (!name)
		return -1;
	i = live_find(rs, name);
	if (i >= 0)
		return rs->live[i];
	if (b->open && !b->closed && !was_gone(b, name)) {
		/* An input column we cannot see yet. */
		int s = new_slot(rs, name);

		live_add(rs, s);
		return s;
	}
	if (b->open && was_gone(b, name)) {
		bind_err(b, r, "column '%s' was removed by an earlier rule",
			name);
	} else if (b->open) {
		bind_err(b, r, "column '%s' is not among the columns an "
			"earlier select kept", name);
	} else {
		struct strbuf sb;
		size_t k;

		sb_init(&sb);
		for (k = 0; k < rs->nlive && sb.len < 300; k++)
			sb_addf(&sb, "%s%s", k ? ", " : "",
				rs->slot_names[rs->live[k]]);
		if (k < rs->nlive)
			sb_adds(&sb, ", ...");
		bind_err(b, r, "no column '%s' (the columns here are: %s)",
			name, sb.buf ? sb.buf : "");
		sb_release(&sb);
	}
	return -1;
}

/* The slot a rule writes: an existing column's, or a new one at the end. */
static int
out_col(struct binder *b, const char *name)
{
	struct rules *rs = b->rs;
	int i = live_find(rs, name);
	int s;

	if (i >= 0)
		return rs->live[i];
	s = new_slot(rs, name);
	live_add(rs, s);
	unmark_gone(b, name);
	return s;
}

static void
bind_rule(struct binder *b, struct rule *r)
{
	struct rules *rs = b->rs;
	size_t i;
	int k;

	if (r->has_where)
		r->wslot = need_col(b, r, r->wcol);
	switch (r->op) {
	case R_SELECT: {
		int *nl = xcalloc(r->nnames + 1, sizeof(int));
		size_t nn = 0;

		for (i = 0; i < r->nnames; i++) {
			int s = need_col(b, r, r->names[i]);
			size_t j;

			if (s < 0)
				continue;
			for (j = 0; j < nn; j++)
				if (nl[j] == s)
					break;
			if (j < nn) {
				bind_err(b, r, "column '%s' is selected twice",
					r->names[i]);
				continue;
			}
			nl[nn++] = s;
		}
		for (i = 0; i < rs->nlive; i++) {
			size_t j;

			for (j = 0; j < nn && nl[j] != rs->live[i]; j++)
				;
			if (j == nn)
				mark_gone(b, rs->slot_names[rs->live[i]]);
		}
		free(rs->live);
		rs->live = nl;
		rs->nlive = nn;
		if (b->open)
			b->closed = 1;
		return;
	}
	case R_DROP:
		for (i = 0; i < r->nnames; i++) {
			if (need_col(b, r, r->names[i]) < 0)
				continue;
			k = live_find(rs, r->names[i]);
			memmove(rs->live + k, rs->live + k + 1,
				(rs->nlive - k - 1) * sizeof(int));
			rs->nlive--;
			mark_gone(b, r->names[i]);
		}
		return;
	case R_RENAME:
		for (i = 0; i < r->nnames; i++) {
			int s = need_col(b, r, r->names[i]);

			if (s < 0)
				continue;
			if (strcmp(r->names[i], r->names2[i]) &&
			    live_find(rs, r->names2[i]) >= 0) {
				bind_err(b, r, "cannot rename '%s' to '%s': "
					"that column exists", r->names[i],
					r->names2[i]);
				continue;
			}
			mark_gone(b, r->names[i]);
			unmark_gone(b, r->names2[i]);
			rs->slot_names[s] = r->names2[i];
		}
		return;
	default:
		break;
	}
	r->slot = need_col(b, r, r->col);
	switch (r->op) {
	case R_SPLIT:
	case R_JSON:
		free(r->slots);
		r->slots = xcalloc(r->nnames + 1, sizeof(int));
		for (i = 0; i < r->nnames; i++)
			r->slots[i] = out_col(b, r->names[i]);
		if (r->op == R_JSON && r->into)
			r->into_slot = out_col(b, r->into);
		break;
	case R_BUCKET:
		r->into_slot = r->into ? out_col(b, r->into) : r->slot;
		break;
	default:
		break;
	}
}

static void
bind_all(struct binder *b, const char *const *header, size_t width)
{
	struct rules *rs = b->rs;
	size_t i;

	free(rs->slot_names);
	free(rs->live);
	rs->slot_names = NULL;
	rs->live = NULL;
	rs->nslots = rs->nlive = 0;
	for (i = 0; i < width; i++)
		live_add(rs, new_slot(rs, header[i]));
	for (i = 0; i < rs->n; i++)
		bind_rule(b, &rs->v[i]);
	free(b->gone);
}

/* ------------------------------------------------------------- public */

int
rules_validate(const char *file, const struct node *list, struct errs *errs)
{
	struct pctx c = { file, errs, 0 };
	struct rules *rs = parse_list(&c, list);
	struct binder b;

	if (!c.failed) {
		memset(&b, 0, sizeof(b));
		b.rs = rs;
		b.open = 1;
		b.c = &c;
		bind_all(&b, NULL, 0);
	}
	rules_free(rs);
	return c.failed ? -EINVAL : 0;
}

int
rules_compile(const struct node *list, struct rules **out, struct err *e)
{
	struct errs errs = { 0 };
	struct pctx c = { NULL, &errs, 0 };
	struct rules *rs = parse_list(&c, list);

	*out = NULL;
	if (c.failed) {
		if (errs.n) {
			*e = errs.v[0];
			if (e->line > 0) {
				char *msg = xasprintf("line %d: %s", e->line,
					errs.v[0].msg);
				size_t l = strlen(msg);

				if (l >= sizeof(e->msg))
					l = sizeof(e->msg) - 1;
				memcpy(e->msg, msg, l);
				e->msg[l] = 0;
				free(msg);
			}
		}
		errs_release(&errs);
		rules_free(rs);
		return -EINVAL;
	}
	errs_release(&errs);
	*out = rs;
	return 0;
}

int
rules_same_source(const struct rules *rs, const struct node *list)
{
	char *json;
	int same;

	if (!list)
		return rs->n == 0;
	json = node_to_json(list);
	same = rs->source && !strcmp(json, rs->source);
	free(json);
	return same;
}

int
rules_bind(struct rules *rs, const char *const *header, size_t width,
	struct err *e)
{
	struct binder b;
	size_t i;

	memset(&b, 0, sizeof(b));
	b.rs = rs;
	b.e = e;
	bind_all(&b, header, width);
	if (b.failed)
		return -EINVAL;
	rs->input_width = width;
	free(rs->out_hdr);
	free(rs->vp);
	free(rs->vn);
	free(rs->outp);
	free(rs->outn);
	rs->out_hdr = xcalloc(rs->nlive + 1, sizeof(char *));
	for (i = 0; i < rs->nlive; i++)
		rs->out_hdr[i] = rs->slot_names[rs->live[i]];
	rs->vp = xcalloc(rs->nslots + 1, sizeof(char *));
	rs->vn = xcalloc(rs->nslots + 1, sizeof(size_t));
	rs->outp = xcalloc(rs->nlive + 1, sizeof(char *));
	rs->outn = xcalloc(rs->nlive + 1, sizeof(size_t));
	return 0;
}

size_t
rules_out_width(const struct rules *rs)
{
	return rs->nlive;
}

const char *const *
rules_out_header(const struct rules *rs)
{
	return (const char *const *)rs->out_hdr;
}

/* --------------------------------------------------------- JSON text */

static void
json_string_out(const char *s, size_t n, struct strbuf *sb)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	sb_addc(sb, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[6];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sb_add(sb, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		}
		if (esc) {
			sb_adds(sb, esc);
		} else {
			memcpy(u, "\\u00", 4);
			u[4] = hex[c >> 4];
			u[5] = hex[c & 15];
			sb_add(sb, u, 6);
		}
	}
	sb_add(sb, s + run, n - run);
	sb_addc(sb, '"');
}

/* The shortest text that reads back as the same double. */
static void
real_out(double d, struct strbuf *sb)
{
	char buf[40];
	int prec;

	if (!isfinite(d)) {
		sb_adds(sb, "null");
		return;
	}
	/*
	 * Most reals in exports have a few decimals (coordinates, prices):
	 * find the fewest decimals k for which the integer d*10^k divided
	 * back gives d exactly; that decimal text then reads back as d too,
	 * and printing an integer is far cheaper than %g.
	 */
	if (fabs(d) >= 1e-3 && fabs(d) < 1e12) {
		static const double p10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6,
			1e7, 1e8, 1e9 };
		int k;

		for (k = 1; k < 10; k++) {
			double m = d * p10[k];
			long long iv;

			if (fabs(m) >= 9e15)
				break;
			iv = llround(m);
			if ((double)iv / p10[k] == d) {
				unsigned long long a = iv < 0 ? -(unsigned long long)iv :
					(unsigned long long)iv;
				char digits[32];
				int nd = 0, i;

				do {
					digits[nd++] = (char)('0' + a % 10);
					a /= 10;
				} while (a);
				while (nd <= k)
					digits[nd++] = '0';
				if (iv < 0)
					sb_addc(sb, '-');
				for (i = nd - 1; i >= k; i--)
					sb_addc(sb, digits[i]);
				sb_addc(sb, '.');
				/* Trailing zeros were ruled out by the smallest k. */
				for (; i >= 0; i--)
					sb_addc(sb, digits[i]);
				return;
			}
		}
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	/* Keep it a JSON real: 1.0 stays 1.0, not 1. */
	if (!strpbrk(buf, ".eE"))
		strcat(buf, ".0");
	sb_adds(sb, buf);
}

static void
json_compact(const json_t *v, struct strbuf *sb)
{
	const char *k;
	json_t *x;
	size_t i;
	int first = 1;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		sb_addc(sb, '{');
		json_object_foreach((json_t *)v, k, x) {
			if (!first)
				sb_addc(sb, ',');
			first = 0;
			json_string_out(k, strlen(k), sb);
			sb_addc(sb, ':');
			json_compact(x, sb);
		}
		sb_addc(sb, '}');
		break;
	case JSON_ARRAY:
		sb_addc(sb, '[');
		json_array_foreach((json_t *)v, i, x) {
			if (i)
				sb_addc(sb, ',');
			json_compact(x, sb);
		}
		sb_addc(sb, ']');
		break;
	case JSON_STRING:
		json_string_out(json_string_value(v), json_string_length(v), sb);
		break;
	case JSON_INTEGER:
		sb_addf(sb, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		real_out(json_real_value(v), sb);
		break;
	case JSON_TRUE:
		sb_adds(sb, "true");
		break;
	case JSON_FALSE:
		sb_adds(sb, "false");
		break;
	case JSON_NULL:
		sb_adds(sb, "null");
		break;
	}
}

/*
 * jansson's allocator is a process-wide hook, so its arena is necessarily
 * a file-level variable; it is only set between begin and end.
 */
static struct {
	int active;
	pthread_t owner;	/* the thread whose allocations use the arena */
	json_malloc_t prev_malloc;
	json_free_t prev_free;
	char *blk;		/* the main block */
	size_t used, cap;
	struct arena_blk *big;	/* requests that did not fit, freed at reset */
} jarena;

static void *
jarena_malloc(size_t n)
{
	struct arena_blk *b;
	void *p;

	/*
	 * Other threads (a reader parsing JSON lines) keep the ordinary
	 * allocator: the arena is the owner's alone, reset between its
	 * records.
	 */
	if (!pthread_equal(pthread_self(), jarena.owner))
		return jarena.prev_malloc(n);
	n = (n + 15) & ~(size_t)15;
	if (jarena.cap - jarena.used >= n) {
		p = jarena.blk + jarena.used;
		jarena.used += n;
		return p;
	}
	b = malloc(sizeof(*b) + n + 16);
	if (!b)
		return NULL;
	b->next = jarena.big;
	jarena.big = b;
	/* Keep 16-byte alignment past the header. */
	return (char *)b + ((sizeof(*b) + 15) & ~(size_t)15);
}

static void
jarena_free(void *p)
{
	if (!pthread_equal(pthread_self(), jarena.owner))
		jarena.prev_free(p);
}

void
rules_json_arena_begin(void)
{
	if (jarena.active)
		return;
	json_get_alloc_funcs(&jarena.prev_malloc, &jarena.prev_free);
	jarena.owner = pthread_self();
	jarena.cap = 1 << 20;
	jarena.blk = xmalloc(jarena.cap);
	jarena.used = 0;
	jarena.big = NULL;
	jarena.active = 1;
	json_set_alloc_funcs(jarena_malloc, jarena_free);
}

void
rules_json_arena_reset(void)
{
	struct arena_blk *b, *next;

	if (!jarena.active)
		return;
	jarena.used = 0;
	for (b = jarena.big; b; b = next) {
		next = b->next;
		free(b);
	}
	jarena.big = NULL;
}

void
rules_json_arena_end(void)
{
	if (!jarena.active)
		return;
	rules_json_arena_reset();
	json_set_alloc_funcs(jarena.prev_malloc, jarena.prev_free);
	free(jarena.blk);
	jarena.blk = NULL;
	jarena.cap = 0;
	jarena.active = 0;
}

void
rules_json_text(const struct json_t *v, struct strbuf *sb)
{
	if (!v || json_is_null(v))
		return;
	if (json_is_string(v)) {
		sb_add(sb, json_string_value(v), json_string_length(v));
		return;
	}
	json_compact(v, sb);
}

/* ------------------------------------------------------------ applying */

/* >0 on a match, 0 on none, <0 on a matching error (limits). */
static int
pat_match(struct pat *p, const char *s, size_t n)
{
	int rc = pcre2_match(p->code, (PCRE2_SPTR)s, n, 0, PCRE2_NO_UTF_CHECK,
		p->md, NULL);

	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	return rc;
}

static const char *
reject(struct rules *rs, const struct rule *r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static const char *
reject(struct rules *rs, const struct rule *r, const char *fmt, ...)
{
	int l = snprintf(rs->reason, sizeof(rs->reason), "rule %zu (%s): ",
		r->index, op_names[r->op]);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rs->reason + l, sizeof(rs->reason) - l, fmt, ap);
	va_end(ap);
	return rs->reason;
}

/* At most max bytes of p, cut at a character boundary, for messages. */
static int
clip(const char *p, size_t n, size_t max)
{
	if (n <= max)
		return (int)n;
	while (max > 0 && ((unsigned char)p[max] & 0xc0) == 0x80)
		max--;
	return (int)max;
}

static const char *
match_error(struct rules *rs, const struct rule *r, int rc)
{
	PCRE2_UCHAR msg[200];

	pcre2_get_error_message(rc, msg, sizeof(msg));
	return reject(rs, r, "pattern matching failed: %s", (char *)msg);
}

static const char *
apply_replace(struct rules *rs, struct rule *r, int s)
{
	const char *v = rs->vp[s];
	size_t n = rs->vn[s], outlen;
	uint32_t opts = PCRE2_SUBSTITUTE_GLOBAL | PCRE2_NO_UTF_CHECK |
		PCRE2_SUBSTITUTE_OVERFLOW_LENGTH | PCRE2_SUBSTITUTE_MATCHED;
	char *out;
	int rc = pat_match(&r->pat, v, n);

	if (rc < 0)
		return match_error(rs, r, rc);
	if (rc == 0)
		return NULL;
	outlen = n * 2 + 64;
	out = arena_alloc(rs, outlen);
	rc = pcre2_substitute(r->pat.code, (PCRE2_SPTR)v, n, 0, opts,
		r->pat.md, NULL, (PCRE2_SPTR)r->str, PCRE2_ZERO_TERMINATED,
		(PCRE2_UCHAR *)out, &outlen);
	if (rc == PCRE2_ERROR_NOMEMORY) {
		out = arena_alloc(rs, outlen);
		/* The match data was overwritten: match again first. */
		rc = pat_match(&r->pat, v, n);
		if (rc > 0)
			rc = pcre2_substitute(r->pat.code, (PCRE2_SPTR)v, n, 0,
				opts, r->pat.md, NULL, (PCRE2_SPTR)r->str,
				PCRE2_ZERO_TERMINATED, (PCRE2_UCHAR *)out,
				&outlen);
	}
	if (rc < 0)
		return match_error(rs, r, rc);
	rs->vp[s] = out;
	rs->vn[s] = outlen;
	return NULL;
}

static const char *
apply_split(struct rules *rs, struct rule *r, int s)
{
	const char *v = rs->vp[s];
	int rc = pat_match(&r->pat, v, rs->vn[s]);
	PCRE2_SIZE *ov;
	size_t i;

	if (rc < 0)
		return match_error(rs, r, rc);
	ov = pcre2_get_ovector_pointer(r->pat.md);
	for (i = 0; i < r->nnames; i++) {
		int o = r->slots[i];

		if (rc > 0 && (int)(i + 1) < rc &&
		    ov[2 * (i + 1)] != PCRE2_UNSET) {
			rs->vp[o] = v + ov[2 * (i + 1)];
			rs->vn[o] = ov[2 * (i + 1) + 1] - ov[2 * (i + 1)];
		} else {
			rs->vp[o] = "";
			rs->vn[o] = 0;
		}
	}
	return NULL;
}

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
	rules_json_text(v, &rs->tmp);
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
 * than -0, reals printed the way rules_json_text prints them, no duplicate
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

static int
js_string(const char **pp, const char *e, struct strbuf *out)
{
	const char *p = *pp + 1;

	for (;;) {
		while (p < e && (unsigned char)*p >= 0x20 && *p != '"' &&
		    *p != '\\')
			p++;
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
		/* Only reals that rules_json_text prints back the same. */
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

/* A member's text as rules_json_text gives it, into the arena. */
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

static const char *
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
	root = json_loadb(rs->vp[s], rs->vn[s], JSON_DECODE_ANY, &jerr);
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

static int
strip_member(const struct rule *r, uint32_t cp)
{
	size_t i;

	if (cp < 0x80)
		return r->strip_ascii[cp];
	for (i = 0; i < r->nstrip_cp; i++)
		if (r->strip_cp[i] == cp)
			return 1;
	return 0;
}

static void
apply_strip(struct rules *rs, struct rule *r, int s)
{
	const unsigned char *v = (const unsigned char *)rs->vp[s];
	size_t n = rs->vn[s], i = 0, o = 0;
	char *out = arena_alloc(rs, n + 1);

	while (i < n) {
		uint32_t cp;
		size_t l = utf8_decode(v + i, n - i, &cp);

		if (!strip_member(r, cp)) {
			memcpy(out + o, v + i, l);
			o += l;
		}
		i += l;
	}
	out[o] = 0;
	rs->vp[s] = out;
	rs->vn[s] = o;
}

static void
apply_truncate(struct rules *rs, struct rule *r, int s)
{
	const char *v = rs->vp[s];
	size_t n = rs->vn[s], i, c = 0;

	for (i = 0; i < n; i++) {
		if (((unsigned char)v[i] & 0xc0) != 0x80) {
			if (c == r->width)
				break;
			c++;
		}
	}
	rs->vn[s] = i;
}

static void
apply_pad(struct rules *rs, struct rule *r, int s)
{
	size_t n = rs->vn[s], c = utf8_chars(rs->vp[s], n), pl, i;
	char *out;

	if (c >= r->width)
		return;
	pl = strlen(r->pad);
	out = arena_alloc(rs, (r->width - c) * pl + n + 1);
	for (i = 0; i < r->width - c; i++)
		memcpy(out + i * pl, r->pad, pl);
	memcpy(out + i * pl, rs->vp[s], n);
	out[i * pl + n] = 0;
	rs->vp[s] = out;
	rs->vn[s] = i * pl + n;
}

static void
apply_bucket(struct rules *rs, struct rule *r, int s)
{
	const char *label = r->str;
	double x;
	size_t i;

	if (parse_number(rs->vp[s], rs->vn[s], &x) == 0) {
		for (i = 0; i < r->nbounds && x >= r->bounds[i]; i++)
			;
		label = r->names[i];
	}
	rs->vp[r->into_slot] = label;
	rs->vn[r->into_slot] = strlen(label);
}

static void
apply_case(struct rules *rs, int s, int upper)
{
	size_t n = rs->vn[s], i;
	const char *v = rs->vp[s];
	char *out = arena_alloc(rs, n + 1);

	for (i = 0; i < n; i++) {
		char ch = v[i];

		if (upper && ch >= 'a' && ch <= 'z')
			ch -= 32;
		else if (!upper && ch >= 'A' && ch <= 'Z')
			ch += 32;
		out[i] = ch;
	}
	out[n] = 0;
	rs->vp[s] = out;
}

static int
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
		ch == '\f' || ch == '\v';
}

/* One rule on the current record: NULL, or why the record is rejected. */
static const char *
apply_rule(struct rules *rs, struct rule *r)
{
	int s = r->slot, rc;

	if (r->has_where) {
		rc = pat_match(&r->wpat, rs->vp[r->wslot], rs->vn[r->wslot]);
		if (rc < 0)
			return match_error(rs, r, rc);
		if (rc == 0)
			return NULL;
	}
	switch (r->op) {
	case R_SELECT:
	case R_RENAME:
	case R_DROP:
		return NULL;
	case R_TRIM:
		while (rs->vn[s] && is_space(rs->vp[s][0])) {
			rs->vp[s]++;
			rs->vn[s]--;
		}
		while (rs->vn[s] && is_space(rs->vp[s][rs->vn[s] - 1]))
			rs->vn[s]--;
		return NULL;
	case R_LOWER:
	case R_UPPER:
		apply_case(rs, s, r->op == R_UPPER);
		return NULL;
	case R_REPLACE:
		return apply_replace(rs, r, s);
	case R_SPLIT:
		return apply_split(rs, r, s);
	case R_JSON:
		return apply_json(rs, r, s);
	case R_STRIP:
		apply_strip(rs, r, s);
		return NULL;
	case R_TRUNCATE:
		apply_truncate(rs, r, s);
		return NULL;
	case R_PAD:
		apply_pad(rs, r, s);
		return NULL;
	case R_BUCKET:
		apply_bucket(rs, r, s);
		return NULL;
	case R_REQUIRE:
		rc = pat_match(&r->pat, rs->vp[s], rs->vn[s]);
		if (rc < 0)
			return match_error(rs, r, rc);
		if (rc == 0)
			return reject(rs, r, "column '%s' value '%.*s%s' does "
				"not match '%s'", r->col,
				clip(rs->vp[s], rs->vn[s], 60), rs->vp[s],
				rs->vn[s] > 60 ? "..." : "", r->pat.src);
		return NULL;
	case R_DEFAULT:
		if (rs->vn[s] == 0) {
			rs->vp[s] = r->str;
			rs->vn[s] = strlen(r->str);
		}
		return NULL;
	}
	return NULL;
}

int
rules_apply(struct rules *rs, char *const *fields, const size_t *lens,
	char ***out, size_t **out_lens, const char **reason, struct err *e)
{
	size_t i;

	(void)e;
	*reason = NULL;
	arena_reset(rs);
	for (i = 0; i < rs->input_width; i++) {
		rs->vp[i] = fields[i];
		rs->vn[i] = lens[i];
	}
	for (; i < rs->nslots; i++) {
		rs->vp[i] = "";
		rs->vn[i] = 0;
	}
	for (i = 0; i < rs->n; i++) {
		*reason = apply_rule(rs, &rs->v[i]);
		if (*reason)
			return 1;
	}
	for (i = 0; i < rs->nlive; i++) {
		rs->outp[i] = (char *)rs->vp[rs->live[i]];
		rs->outn[i] = rs->vn[rs->live[i]];
	}
	*out = rs->outp;
	*out_lens = rs->outn;
	return 0;
}
