/*
 * Applying bound rules to one record: values are (pointer, length) pairs
 * into the reader's buffer or into the per-record arena, so a rule that
 * leaves a value alone never copies it; patterns match with PCRE2's JIT.
 * The json rule is rules_json.c.
 */
#include "config.h"
#include "rules_priv.h"

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

const char *
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
