/*
 * The rule engine's own header, shared by engine/rules.c (parsing a
 * rules: list), rules_bind.c (binding it to a header), rules_apply.c
 * (applying it to a record) and rules_json.c (the json rule); never
 * included elsewhere.
 */
#ifndef DAG_RULES_PRIV_H
#define DAG_RULES_PRIV_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

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

/* Where parse errors go: a file's errors, or the first one. */
struct pctx {
	const char *file;
	struct errs *errs;
	int failed;
};

/* The per-record arena: values a rule makes live until the next record. */

static inline char *
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
static inline void
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

static inline const char *
arena_copy(struct rules *rs, const char *p, size_t n)
{
	char *d = arena_alloc(rs, n + 1);

	memcpy(d, p, n);
	d[n] = 0;
	return d;
}

/* rules.c */
/*
 * Parse a rules: list (NULL: none) into a new struct rules, reporting
 * each problem through c (c->failed set); the caller frees it with
 * rules_free.
 */
struct rules *parse_list(struct pctx *c, const struct node *list);
/*
 * A number as bucket reads one: optional ASCII whitespace around a
 * decimal (sign, digits, point, exponent); no hex, inf or nan.  0 or
 * -EINVAL.
 */
int parse_number(const char *p, size_t n, double *out);
/* Decode one UTF-8 character at p (valid input); returns its length. */
size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp);
/* The characters (code points) of valid UTF-8 p[0..n). */
size_t utf8_chars(const char *p, size_t n);

/* rules_apply.c */
/* Reject the record for rule r: the reason, formatted into rs->reason. */
const char *reject(struct rules *rs, const struct rule *r, const char *fmt,
	...) __attribute__((format(printf, 3, 4)));

/* rules_json.c */
/* Apply json rule r to slot s: NULL, or the reject reason. */
const char *apply_json(struct rules *rs, struct rule *r, int s);

#endif
