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
 * This file parses; rules_bind.c binds, rules_apply.c and rules_json.c
 * apply.  The same parser serves load-time validation: bound against an unknown
 * ("open") header it reports a column used after a rule removed it, which
 * is all that can be known before the input exists.
 */
#include "config.h"
#include "rules.h"
#include "rules_priv.h"

#include <errno.h>
#include <math.h>

/* ------------------------------------------------------------ parsing */

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
int
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
size_t
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

size_t
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

struct rules *
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

/* ------------------------------------------------------------- public */

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

