/*
 * The clean task's rule engine.
 */
#include "config.h"
#include "rules.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
