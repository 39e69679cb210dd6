/*
 * JSON values as the text a record holds (the json rule's columns, a JSON
 * lines field), and the arena jansson allocates from during a data task.
 */
#ifndef DAG_JTEXT_H
#define DAG_JTEXT_H

#include "util.h"

struct json_t;

/*
 * Append the text a JSON value stands for: a string its text, a number or
 * boolean its JSON text, an object or array its compact JSON, null nothing.
 */
void jtext_value(const struct json_t *v, struct strbuf *sb);

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
