/*
 * The clean task's rule engine: a list of rules (select, rename, drop,
 * trim, lower, upper, replace, split, json, strip_chars, truncate,
 * pad_left, bucket, require, default), each with an optional where:
 * clause, compiled once from the task's YAML and applied to every record.
 *
 * Column names are bound to slots once per input (rules_bind), so the
 * per-record work is index lookups, PCRE2 matches with JIT and copies into
 * an arena that is reset for each record.
 */
#ifndef DAG_RULES_H
#define DAG_RULES_H

#include <stddef.h>
#include "node.h"
#include "util.h"

struct rules;

/*
 * Check the shape of a rules: list (every rule's keys and types, every
 * pattern compiles, a column used after a rule removed it) and append
 * each problem to errs with its position in file.  Returns 0 or -EINVAL.
 */
int rules_validate(const char *file, const struct node *list,
	struct errs *errs);

/*
 * Compile a rules: list (NULL or absent: no rules).  Patterns are compiled
 * with JIT.  Returns 0 or -EINVAL with e filled.  The caller frees *out
 * with rules_free.
 */
int rules_compile(const struct node *list, struct rules **out, struct err *e);
void rules_free(struct rules *rs);
/* The source text of the list this was compiled from, for reuse checks. */
int rules_same_source(const struct rules *rs, const struct node *list);

/*
 * Bind the rules to an input header: resolve every column name, compute
 * the output columns.  A rule naming a column that does not exist at its
 * point is an error naming the rule.  Returns 0 or -EINVAL.
 */
int rules_bind(struct rules *rs, const char *const *header, size_t width,
	struct err *e);
/* The output header (valid after rules_bind). */
size_t rules_out_width(const struct rules *rs);
const char *const *rules_out_header(const struct rules *rs);

/*
 * Apply the rules to one record of the bound width; values are valid
 * UTF-8 without NUL bytes (as the reader delivers them).  Returns 0 and fills
 * out/out_lens with rules_out_width values (valid until the next call), 1
 * when the record is rejected (*reason set, valid until the next call), or
 * a negative errno on an internal error with e filled.
 */
int rules_apply(struct rules *rs, char *const *fields, const size_t *lens,
	char ***out, size_t **out_lens, const char **reason, struct err *e);

#endif
