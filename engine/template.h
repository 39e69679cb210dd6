/*
 * Templates: "{root}/out/{date-1d:%Y%m%d}.csv" compiled once at load into
 * literal text and references.  This module only parses; engine/dag.c
 * decides what each name refers to (a param, a task field, a built-in)
 * and expands it for an instance.
 */
#ifndef DAG_TEMPLATE_H
#define DAG_TEMPLATE_H

#include <stddef.h>
#include "util.h"

/* Parse as a regex field: a '{' followed by a digit or ',' is literal. */
#define TEMPLATE_REGEX 0x1

struct tref {
	char *name;	/* the dotted name: "date", "env.HOME", "needs.a.target" */
	size_t pos;	/* byte offset of its '{' in the source */
	long offset;	/* "+6h" is 6, "-1d" is -1; 0 without one */
	char unit;	/* 's', 'm', 'h', 'd', 'w', or 0 */
	char *fmt;	/* strftime format after ':', or NULL */
	int kind;	/* what name refers to, set by the loader */
	long idx;	/* a param, task or need index, by kind */
	int raw;	/* written {name|raw}: spliced into a command as is */
	int quote;	/* in a shell command: enum tquote, set by the loader */
};

/*
 * How a reference's value goes into a shell command (the command kind's
 * run), from the quotes of the literal text before it: outside quotes each
 * value is one single-quoted word (a list, several), inside double or
 * single quotes it is escaped for them.  TQ_NONE: not a shell command, or
 * {name|raw}.
 */
enum tquote {
	TQ_NONE,
	TQ_WORD,
	TQ_DOUBLE,
	TQ_SINGLE,
};

struct tpart {
	char *text;	/* literal text, or NULL for a reference */
	size_t len;
	struct tref ref;
};

struct template {
	char *src;
	struct tpart *parts;
	size_t n;
};

/*
 * Compile s.  On a syntax error returns -EINVAL, fills e's message and
 * sets *err_pos to the byte offset of the problem.  The caller frees *out
 * with template_free.
 */
int template_compile(const char *s, unsigned flags, struct template **out,
	size_t *err_pos, struct err *e);
void template_free(struct template *t);
/* The single reference when the whole template is exactly one, else NULL. */
const struct tref *template_whole_ref(const struct template *t);

#endif
