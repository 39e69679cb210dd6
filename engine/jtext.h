/*
 * JSON values as the text a record holds (the json rule's columns, a JSON
 * lines field), and the arena jansson allocates from during a data task.
 */
#ifndef DAG_JTEXT_H
#define DAG_JTEXT_H

#include "util.h"

#include <jansson.h>

/*
 * Append the text a JSON value stands for: a string its text, a number or
 * boolean its JSON text, an object or array its compact JSON, null nothing.
 */
void jtext_value(const struct json_t *v, struct strbuf *sb);

/*
 * Parse JSON text like json_loadb, but keep numbers beyond jansson's range
 * (integers past 64 bits, reals past a double's range): jtext_value gives
 * them back as their own text.  \u0000 in a string is refused, as
 * json_loadb refuses it: a record's values are C strings.
 */
struct json_t *jtext_load(const char *text, size_t n, size_t flags,
	json_error_t *err);

/*
 * Route jansson's allocations to a bump arena while a data task runs:
 * parsing a small JSON object costs a dozen mallocs, more than the
 * parse.  jansson's allocator is process-wide, so begin/end bracket the
 * task; reset (between records, when no JSON value is alive) recycles
 * the arena.  end restores the previous allocator.  Only the thread that
 * called begin uses the arena; call begin before starting other threads
 * that use jansson (a reader), and end after they stopped.
 */
void jtext_arena_begin(void);
void jtext_arena_reset(void);
void jtext_arena_end(void);

#endif
