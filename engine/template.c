/*
 * The template parser.  Grammar, inside one pair of braces:
 *
 *	{ NAME ( '.' NAME )* [ ('+'|'-') DIGITS UNIT ] [ ':' FORMAT ] }
 *
 * where NAME is [A-Za-z_][A-Za-z0-9_]*, UNIT one of s m h d w and FORMAT any text
 * without '}'.  "{{" is a literal '{'; a lone '}' is literal.  Regex
 * fields treat '{' before a digit or ',' as literal, so \d{5} and {2,}
 * need no escaping.
 */
#include "config.h"
#include "template.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void
add_text(struct template *t, const char *s, size_t len, size_t *cap)
{
	struct tpart *p;

	if (!len)
		return;
	if (t->n && t->parts[t->n - 1].text) {
		p = &t->parts[t->n - 1];
		p->text = xrealloc(p->text, p->len + len + 1);
		memcpy(p->text + p->len, s, len);
		p->len += len;
		p->text[p->len] = 0;
		return;
	}
	if (t->n == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		t->parts = xrealloc(t->parts, *cap * sizeof(*t->parts));
	}
	p = &t->parts[t->n++];
	memset(p, 0, sizeof(*p));
	p->text = xstrndup(s, len);
	p->len = len;
}

static int
is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Parse the reference whose '{' is at s[pos]; *end gets the offset past '}'. */
static int
parse_ref(const char *s, size_t pos, struct tref *r, size_t *end,
	size_t *err_pos, struct err *e)
{
	size_t i = pos + 1, name_start = i;
	const char *close = strchr(s + pos, '}');

	memset(r, 0, sizeof(*r));
	r->pos = pos;
	if (!close) {
		*err_pos = pos;
		return err_set(e, -EINVAL, "unclosed '{' in template; write '{{' "
			"for a literal brace");
	}
	for (;;) {
		size_t st = i;
		if (isdigit((unsigned char)s[i]))
			goto bad;
		while (is_name_char(s[i]))
			i++;
		if (i == st)
			goto bad;
		if (s[i] != '.')
			break;
		i++;
	}
	r->name = xstrndup(s + name_start, i - name_start);
	if (s[i] == '+' || s[i] == '-') {
		int neg = s[i] == '-';
		size_t st = ++i;
		long v = 0;

		while (isdigit((unsigned char)s[i]) && i - st < 6)
			v = v * 10 + (s[i++] - '0');
		if (i == st || !s[i] || !strchr("smhdw", s[i]) ||
		    isdigit((unsigned char)s[i]))
			goto bad;
		r->offset = neg ? -v : v;
		r->unit = s[i++];
	}
	if (!strncmp(s + i, "|raw", 4) && (s[i + 4] == '}' || s[i + 4] == ':')) {
		r->raw = 1;
		i += 4;
	}
	if (s[i] == ':') {
		size_t st = ++i;
		while (s[i] && s[i] != '}')
			i++;
		if (i == st)
			goto bad;
		r->fmt = xstrndup(s + st, i - st);
	}
	if (s[i] != '}')
		goto bad;
	*end = i + 1;
	return 0;
bad:
	free(r->name);
	free(r->fmt);
	r->name = r->fmt = NULL;
	*err_pos = pos;
	return err_set(e, -EINVAL, "bad reference '%.*s' in template; expected "
		"{name}, {name+1d}, {name:%%Y%%m%%d} or {name|raw} (write '{{' "
		"for a literal brace)", (int)(close - (s + pos) + 1), s + pos);
}

int
template_compile(const char *s, unsigned flags, struct template **out,
	size_t *err_pos, struct err *e)
{
	struct template *t = xcalloc(1, sizeof(*t));
	size_t i = 0, lit = 0, cap = 0;
	int rc;

	*out = NULL;
	t->src = xstrdup(s);
	while (s[i]) {
		struct tref r;
		size_t end = 0;

		if (s[i] != '{') {
			i++;
			continue;
		}
		if (s[i + 1] == '{') {
			add_text(t, s + lit, i + 1 - lit, &cap);
			i += 2;
			lit = i;
			continue;
		}
		if ((flags & TEMPLATE_REGEX) &&
		    (isdigit((unsigned char)s[i + 1]) || s[i + 1] == ',')) {
			i++;
			continue;
		}
		rc = parse_ref(s, i, &r, &end, err_pos, e);
		if (rc < 0) {
			template_free(t);
			return rc;
		}
		add_text(t, s + lit, i - lit, &cap);
		if (t->n == cap) {
			cap = cap ? cap * 2 : 4;
			t->parts = xrealloc(t->parts, cap * sizeof(*t->parts));
		}
		memset(&t->parts[t->n], 0, sizeof(t->parts[t->n]));
		t->parts[t->n++].ref = r;
		i = lit = end;
	}
	add_text(t, s + lit, i - lit, &cap);
	*out = t;
	return 0;
}

void
template_free(struct template *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->parts[i].text);
		free(t->parts[i].ref.name);
		free(t->parts[i].ref.fmt);
	}
	free(t->parts);
	free(t->src);
	free(t);
}

const struct tref *
template_whole_ref(const struct template *t)
{
	if (t->n == 1 && !t->parts[0].text)
		return &t->parts[0].ref;
	return NULL;
}
