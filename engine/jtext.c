/*
 * JSON values as text, the way a record carries them: a string its text,
 * a number or boolean its JSON text, an object or array its compact JSON
 * (keys in their order, reals printed to round-trip), null nothing.  And
 * the bump arena jansson allocates from while a data task runs.  Used by
 * the json rule and by the JSON lines reader.
 */
#include "config.h"
#include "jtext.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

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

/*
 * A number jansson cannot hold (an integer beyond 64 bits, a real beyond
 * a double's range) travels through its tree as a string: a NUL, then the
 * number's text.  No string of the input can look like that, because
 * jtext_load refuses \u0000 in strings.
 */
static int
is_big_number(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > 1 &&
		json_string_value(v)[0] == '\0';
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
		if (is_big_number(v)) {
			sb_add(sb, json_string_value(v) + 1,
				json_string_length(v) - 1);
			break;
		}
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
/* A block of the arena: a request too big for the main block. */
struct arena_blk {
	struct arena_blk *next;
	size_t used, cap;
	char data[];
};

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
jtext_arena_begin(void)
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
jtext_arena_reset(void)
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
jtext_arena_end(void)
{
	if (!jarena.active)
		return;
	jtext_arena_reset();
	json_set_alloc_funcs(jarena.prev_malloc, jarena.prev_free);
	free(jarena.blk);
	jarena.blk = NULL;
	jarena.cap = 0;
	jarena.active = 0;
}

void
jtext_value(const struct json_t *v, struct strbuf *sb)
{
	if (!v || json_is_null(v))
		return;
	if (json_is_string(v) && !is_big_number(v)) {
		sb_add(sb, json_string_value(v), json_string_length(v));
		return;
	}
	json_compact(v, sb);
}


/* ------------------------------------------------------------ loading */

/* The length of the JSON number at p (0 when there is none). */
static size_t
number_len(const char *p, const char *e)
{
	const char *s = p;

	if (p < e && *p == '-')
		p++;
	if (p < e && *p == '0') {
		p++;
	} else if (p < e && *p >= '1' && *p <= '9') {
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	} else {
		return 0;
	}
	if (p < e && *p == '.') {
		if (++p >= e || *p < '0' || *p > '9')
			return 0;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || *p < '0' || *p > '9')
			return 0;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	}
	return (size_t)(p - s);
}

/* Would jansson refuse this number as out of range? */
static int
number_too_big(const char *p, size_t n)
{
	char buf[512], *end;

	if (n >= sizeof(buf))
		return 1;
	memcpy(buf, p, n);
	buf[n] = 0;
	errno = 0;
	if (strpbrk(buf, ".eE")) {
		double d = strtod(buf, &end);

		return errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL);
	}
	(void)strtoll(buf, &end, 10);
	return errno == ERANGE;
}

/*
 * The text again with every out-of-range number turned into a string
 * holding a NUL and its text; NULL, with err filled, when a string of
 * the input holds \u0000.
 */
static char *
wrap_big_numbers(const char *text, size_t n, size_t *outn, json_error_t *err)
{
	const char *p = text, *e = text + n;
	struct strbuf sb;

	sb_init(&sb);
	while (p < e) {
		size_t k;

		if (*p == '"') {
			const char *s = p++;

			while (p < e && *p != '"') {
				if (*p == '\\' && p + 1 < e) {
					if (p[1] == 'u' && e - p >= 6 &&
					    !memcmp(p + 2, "0000", 4)) {
						snprintf(err->text,
							sizeof(err->text), "%s",
							"\\u0000 is not allowed");
						sb_release(&sb);
						return NULL;
					}
					p++;
				}
				p++;
			}
			if (p < e)
				p++;
			sb_add(&sb, s, (size_t)(p - s));
			continue;
		}
		if ((*p == '-' || (*p >= '0' && *p <= '9')) &&
		    (k = number_len(p, e)) && number_too_big(p, k)) {
			sb_adds(&sb, "\"\\u0000");
			sb_add(&sb, p, k);
			sb_addc(&sb, '"');
			p += k;
			continue;
		}
		sb_addc(&sb, *p++);
	}
	*outn = sb.len;
	return sb.buf ? sb.buf : xstrdup("");
}

static int
is_range_error(const json_error_t *err)
{
	return strstr(err->text, "too big") || strstr(err->text, "overflow");
}

struct json_t *
jtext_load(const char *text, size_t n, size_t flags, json_error_t *err)
{
	json_t *v = json_loadb(text, n, flags, err);
	char *wrapped;
	size_t wn;

	if (v || !is_range_error(err))
		return v;
	wrapped = wrap_big_numbers(text, n, &wn, err);
	if (!wrapped)
		return NULL;
	v = json_loadb(wrapped, wn, flags | JSON_ALLOW_NUL, err);
	free(wrapped);
	return v;
}
