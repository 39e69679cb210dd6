/*
 * Parsing records out of the reader's buffer: RFC 4180 CSV and TSV
 * (fields scanned eight bytes at a time), JSON lines (one object a line,
 * its members the columns), the text checks every value passes (valid
 * UTF-8, no NUL) and the per-record field store.
 */
#include "config.h"
#include "csv_priv.h"

#include <jansson.h>
#include <string.h>

#include "jtext.h"

/* ------------------------------------------------------------- checks */

/*
 * 0 when buf holds valid UTF-8 without NUL, 1 for a NUL byte, 2 for
 * invalid UTF-8 (overlong forms, surrogates and code points past U+10FFFF
 * included).  ASCII runs are checked eight bytes at a time.
 */
int
text_check(const unsigned char *p, size_t n)
{
	const unsigned char *end = p + n;

	while (p < end) {
		while (end - p >= 8) {
			uint64_t w;

			memcpy(&w, p, 8);
			if ((w & 0x8080808080808080ull) ||
			    ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull))
				break;
			p += 8;
		}
		if (p >= end)
			break;
		if (*p < 0x80) {
			if (*p == 0)
				return 1;
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf) {
			if (end - p < 2 || (p[1] & 0xc0) != 0x80)
				return 2;
			p += 2;
		} else if (*p >= 0xe0 && *p <= 0xef) {
			if (end - p < 3 || (p[1] & 0xc0) != 0x80 ||
			    (p[2] & 0xc0) != 0x80)
				return 2;
			if (*p == 0xe0 && p[1] < 0xa0)
				return 2;
			if (*p == 0xed && p[1] >= 0xa0)
				return 2;
			p += 3;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			if (end - p < 4 || (p[1] & 0xc0) != 0x80 ||
			    (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80)
				return 2;
			if (*p == 0xf0 && p[1] < 0x90)
				return 2;
			if (*p == 0xf4 && p[1] >= 0x90)
				return 2;
			p += 4;
		} else {
			return 2;
		}
	}
	return 0;
}

/* ------------------------------------------------------- record store */

static void
fields_reset(struct rec_reader *r)
{
	if (!r->fb.buf)
		sb_grow(&r->fb, 4096);
	r->fb.len = 0;
	r->nf = 0;
}

static void
fields_grow(struct rec_reader *r)
{
	r->fcap = r->fcap ? r->fcap * 2 : 32;
	r->offs = xrealloc(r->offs, r->fcap * sizeof(*r->offs));
	r->flens = xrealloc(r->flens, r->fcap * sizeof(*r->flens));
	r->fptrs = xrealloc(r->fptrs, r->fcap * sizeof(*r->fptrs));
}

/* The hot path: one memcpy per field, growth checks out of line. */
static inline void
field_add(struct rec_reader *r, const char *p, size_t n)
{
	if (r->nf == r->fcap)
		fields_grow(r);
	if (r->fb.cap - r->fb.len < n + 1)
		sb_grow(&r->fb, n + 1);
	r->offs[r->nf] = r->fb.len;
	memcpy(r->fb.buf + r->fb.len, p, n);
	r->fb.len += n;
	r->fb.buf[r->fb.len++] = 0;
	r->flens[r->nf] = n;
	r->nf++;
}

/* Append to the last field (quoted fields arrive in pieces). */
static inline void
field_append(struct rec_reader *r, const char *p, size_t n)
{
	r->fb.len--;		/* drop the NUL */
	if (r->fb.cap - r->fb.len < n + 1)
		sb_grow(&r->fb, n + 1);
	memcpy(r->fb.buf + r->fb.len, p, n);
	r->fb.len += n;
	r->fb.buf[r->fb.len++] = 0;
	r->flens[r->nf - 1] += n;
}

static void
fields_finish(struct rec_reader *r, struct record *rec)
{
	size_t i;

	for (i = 0; i < r->nf; i++)
		r->fptrs[i] = r->fb.buf + r->offs[i];
	rec->n = r->nf;
	rec->fields = r->fptrs;
	rec->lens = r->flens;
}

/* ------------------------------------------------------- CSV and TSV */

enum parse_result {
	PARSE_MORE,		/* the record runs past the buffered bytes */
	PARSE_OK,		/* a record (maybe rejected) */
};

static size_t
count_nl(const char *p, size_t n)
{
	const char *end = p + n;
	size_t c = 0;

	while ((p = memchr(p, '\n', end - p)) != NULL) {
		c++;
		p++;
	}
	return c;
}

/*
 * The record starting at buf[pos] ended badly at buf[at].  If it already
 * crossed a line break (inside quotes), reject just its first physical
 * line; else reject up to the end of the line holding at.
 */
static enum parse_result
csv_reject(struct rec_reader *r, struct record *rec, size_t at,
	const char *why)
{
	const char *s = r->buf + r->pos, *lim = r->buf + r->end;
	const char *nl = memchr(s, '\n', at - r->pos);
	size_t rawlen;

	if (!nl) {
		nl = memchr(r->buf + at, '\n', lim - (r->buf + at));
		if (!nl && !r->eof)
			return PARSE_MORE;
	}
	rawlen = nl ? (size_t)(nl - s) : (size_t)(lim - s);
	rec->raw = s;
	rec->raw_len = rawlen;
	if (rawlen && s[rawlen - 1] == '\r')
		rec->raw_len--;
	rec->line = r->line;
	snprintf(r->reason, sizeof(r->reason), "%s", why);
	rec->reject = r->reason;
	fields_finish(r, rec);
	r->line++;
	r->pos += nl ? rawlen + 1 : rawlen;
	return PARSE_OK;
}

/*
 * The first delimiter, quote or line feed in [p, e), or e.  Eight bytes
 * at a time: fields are short, so one call per field must be cheap, which
 * three memchr calls are not.
 */
static inline const char *
scan_special(const char *p, const char *e, char delim, char quote)
{
	const uint64_t d = ONES * (unsigned char)delim;
	const uint64_t q = ONES * (unsigned char)quote;
	const uint64_t n = ONES * '\n';

	while (e - p >= 8) {
		uint64_t w, hit;

		memcpy(&w, p, 8);
		hit = HAS_ZERO(w ^ d) | HAS_ZERO(w ^ q) | HAS_ZERO(w ^ n);
		if (hit)
			return p + (__builtin_ctzll(hit) >> 3);
		p += 8;
	}
	while (p < e && *p != delim && *p != quote && *p != '\n')
		p++;
	return p;
}

/*
 * Parse one record at buf[pos].  On PARSE_OK, rec is filled and pos/line
 * advanced past it.
 */
static enum parse_result
csv_parse(struct rec_reader *r, struct record *rec)
{
	char *const base = r->buf;
	const char *s = base + r->pos, *lim = base + r->end;
	const char *p = s, *q;
	const char delim = r->delim;
	size_t nls = 0;		/* line breaks inside quoted fields */

	fields_reset(r);
	rec->reject = NULL;
	for (;;) {
		if (r->quoting && p < lim && *p == '"') {
			/* Quoted field: runs to a quote not doubled. */
			const char *fs = ++p;

			field_add(r, p, 0);
			for (;;) {
				q = memchr(p, '"', lim - p);
				if (!q) {
					/*
					 * A quote left open for this long is
					 * a stray one: give up on its line.
					 */
					if (!r->eof && (size_t)(lim - s) >= REC_MAX &&
					    memchr(s, '\n', lim - s))
						return csv_reject(r, rec, r->end,
							"bad quoting: unterminated quoted field");
					if (!r->eof)
						return PARSE_MORE;
					nls += count_nl(p, lim - p);
					return csv_reject(r, rec, r->end,
						"bad quoting: unterminated quoted field");
				}
				if (q + 1 == lim && !r->eof)
					return PARSE_MORE;
				if (q + 1 < lim && q[1] == '"') {
					/* The run and one quote of the pair. */
					field_append(r, p, q - p + 1);
					p = q + 2;
					continue;
				}
				field_append(r, p, q - p);
				/* Line breaks in the field, once it is whole. */
				nls += count_nl(fs, q - fs);
				p = q + 1;
				break;
			}
			if (p == lim) {
				if (!r->eof)
					return PARSE_MORE;
				goto record_end;
			}
			if (*p == delim) {
				p++;
				continue;
			}
			if (*p == '\n') {
				p++;
				goto record_end;
			}
			if (*p == '\r' && p + 1 < lim && p[1] == '\n') {
				p += 2;
				goto record_end;
			}
			if (*p == '\r' && p + 1 == lim && !r->eof)
				return PARSE_MORE;
			return csv_reject(r, rec, p - base,
				"bad quoting: characters after a closing quote");
		}
		/* Unquoted field: up to the delimiter or the line end. */
		q = scan_special(p, lim, delim, r->quoting ? '"' : delim);
		if (q == lim && !r->eof)
			return PARSE_MORE;
		if (q < lim && *q == '"')
			return csv_reject(r, rec, p - base,
				"bad quoting: a quote inside an unquoted field");
		if (q == lim || *q == '\n') {
			const char *fe = q;

			if (fe > p && fe[-1] == '\r')
				fe--;
			field_add(r, p, fe - p);
			p = q < lim ? q + 1 : q;
			goto record_end;
		}
		field_add(r, p, q - p);
		p = q + 1;
	}
record_end:
	rec->raw = s;
	rec->raw_len = p - s;
	if (rec->raw_len && s[rec->raw_len - 1] == '\n')
		rec->raw_len--;
	if (rec->raw_len && s[rec->raw_len - 1] == '\r')
		rec->raw_len--;
	rec->line = r->line;
	r->line += 1 + nls;
	r->pos = p - base;
	fields_finish(r, rec);
	return PARSE_OK;
}

/* --------------------------------------------------------- JSON lines */

/* 0 scalar (or null), 1 object, 2 array. */
static int
json_class(const json_t *v)
{
	return json_is_object(v) ? 1 : json_is_array(v) ? 2 : 0;
}

static const char *const class_names[] = { "a scalar", "an object", "an array" };

/* Parse one JSON line at buf[pos]; fills fields in header order. */
static enum parse_result
jsonl_parse(struct rec_reader *r, struct record *rec, int header)
{
	const char *s = r->buf + r->pos, *lim = r->buf + r->end;
	const char *nl = memchr(s, '\n', lim - s);
	size_t n, i, len;
	json_error_t jerr;
	json_t *o;
	struct strbuf tmp;

	if (!nl && !r->eof)
		return PARSE_MORE;
	len = nl ? (size_t)(nl - s) : (size_t)(lim - s);
	n = len;
	if (n && s[n - 1] == '\r')
		n--;
	fields_reset(r);
	rec->raw = s;
	rec->raw_len = n;
	rec->line = r->line;
	rec->reject = NULL;
	r->line++;
	r->pos += nl ? len + 1 : len;
	switch (text_check((const unsigned char *)s, n)) {
	case 1:
		rec->reject = "NUL byte in the record";
		goto out;
	case 2:
		rec->reject = "invalid UTF-8";
		goto out;
	}
	for (i = 0; i < n && strchr(" \t\r", s[i]); i++)
		;
	if (i == n) {
		rec->reject = "empty line";
		goto out;
	}
	o = jtext_load(s, n, 0, &jerr);
	if (!o) {
		snprintf(r->reason, sizeof(r->reason), "invalid JSON: %s "
			"(column %d)", jerr.text, jerr.column);
		rec->reject = r->reason;
		goto out;
	}
	if (!json_is_object(o)) {
		rec->reject = "not a JSON object";
		json_decref(o);
		goto out;
	}
	sb_init(&tmp);
	if (header) {
		const char *k;
		json_t *v;

		r->width = json_object_size(o);
		r->hdr = xcalloc(r->width + 1, sizeof(*r->hdr));
		r->jkind = xcalloc(r->width + 1, sizeof(*r->jkind));
		i = 0;
		json_object_foreach(o, k, v) {
			r->hdr[i] = xstrdup(k);
			r->jkind[i] = json_class(v);
			i++;
		}
	}
	for (i = 0; i < r->width; i++) {
		json_t *v = json_object_get(o, r->hdr[i]);

		if (!v) {
			snprintf(r->reason, sizeof(r->reason),
				"missing key '%s'", r->hdr[i]);
			rec->reject = r->reason;
			break;
		}
		if (!json_is_null(v) && json_class(v) != r->jkind[i]) {
			snprintf(r->reason, sizeof(r->reason), "key '%s' holds "
				"%s, expected %s", r->hdr[i],
				class_names[json_class(v)],
				class_names[r->jkind[i]]);
			rec->reject = r->reason;
			break;
		}
		sb_reset(&tmp);
		jtext_value(v, &tmp);
		field_add(r, tmp.buf ? tmp.buf : "", tmp.len);
	}
	if (!rec->reject && json_object_size(o) > r->width) {
		const char *k;
		json_t *v;

		json_object_foreach(o, k, v) {
			for (i = 0; i < r->width; i++)
				if (!strcmp(k, r->hdr[i]))
					break;
			if (i == r->width) {
				snprintf(r->reason, sizeof(r->reason),
					"unexpected key '%s'", k);
				rec->reject = r->reason;
				break;
			}
		}
	}
	sb_release(&tmp);
	json_decref(o);
out:
	fields_finish(r, rec);
	return PARSE_OK;
}

/* ------------------------------------------------------------- records */

/* Parse the next record, refilling as needed: 1, 0 at end of file, -errno. */
int
next_raw(struct rec_reader *r, struct record *rec, int header, struct err *e)
{
	enum parse_result pr;
	long got;

	for (;;) {
		if (r->pos == r->end) {
			if (r->eof)
				return 0;
			got = reader_fill(r, e);
			if (got < 0)
				return (int)got;
			continue;
		}
		/*
		 * A blank line after the header is no record (as most readers
		 * have it), in every format: skipped and counted.  A CR at the
		 * buffer's end waits for the refill that shows what follows.
		 */
		if (r->line > 1 && (r->buf[r->pos] == '\n' ||
		    (r->buf[r->pos] == '\r' && r->pos + 1 < r->end &&
		    r->buf[r->pos + 1] == '\n'))) {
			r->pos += r->buf[r->pos] == '\r' ? 2 : 1;
			r->line++;
			r->blank++;
			continue;
		}
		if (r->fmt == REC_JSONL)
			pr = jsonl_parse(r, rec, header);
		else
			pr = csv_parse(r, rec);
		if (pr == PARSE_OK)
			return 1;
		got = reader_fill(r, e);
		if (got < 0)
			return (int)got;
	}
}

/* Check a parsed CSV/TSV record's text and width. */
void
check_record(struct rec_reader *r, struct record *rec)
{
	if (rec->reject)
		return;
	switch (text_check((const unsigned char *)rec->raw, rec->raw_len)) {
	case 1:
		rec->reject = "NUL byte in the record";
		return;
	case 2:
		rec->reject = "invalid UTF-8";
		return;
	}
	if (rec->n != r->width) {
		snprintf(r->reason, sizeof(r->reason),
			"expected %zu fields, found %zu", r->width, rec->n);
		rec->reject = r->reason;
	}
}
