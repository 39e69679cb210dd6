/*
 * A YAML document as a small tree that keeps every position: the DAG loader
 * reads it to report file:line:column, and the scheduler hands a task its
 * resolved fields in the same shape (templates expanded), so a task kind
 * reads its configuration one way whether it comes from a file or a pipe.
 */
#ifndef DAG_NODE_H
#define DAG_NODE_H

#include <stddef.h>
#include "util.h"

enum node_type {
	NODE_SCALAR,
	NODE_SEQ,
	NODE_MAP,
};

struct node {
	enum node_type type;
	int line;		/* 1-based position of the node's start; 0 if built */
	int column;
	char *str;		/* NODE_SCALAR: the text (never NULL) */
	int quoted;		/* scalar was quoted: a string, never null/number */
	size_t n;		/* NODE_SEQ items or NODE_MAP pairs */
	struct node **items;	/* NODE_SEQ items; NODE_MAP values */
	struct node **keys;	/* NODE_MAP keys (scalars), parallel to items */
};

/* Deepest nesting of maps and lists a YAML file may have. */
#define NODE_MAX_DEPTH 1000
/* Most nodes all the aliases of one file may copy (alias bombs). */
#define NODE_MAX_ALIAS_NODES 100000

/*
 * Parse a YAML file (one document) into *out; anchors, aliases and merge
 * keys are expanded (an alias is a copy with the anchor's positions).
 * Syntax errors, duplicate keys, tabs in indentation, non-scalar keys,
 * unknown aliases, nesting deeper than NODE_MAX_DEPTH and aliases copying
 * more than NODE_MAX_ALIAS_NODES nodes are appended to errs with positions; the result is -EINVAL if any were found (and *out is
 * NULL), -errno if the file cannot be read.  An empty file gives -EINVAL.
 * The caller owns *out.
 */
int node_parse_file(const char *path, struct node **out, struct errs *errs);
/* The same over a buffer; name is used in messages. */
int node_parse_string(const char *text, size_t len, const char *name,
	struct node **out, struct errs *errs);

/* Free a tree (accepts NULL). */
void node_free(struct node *n);

/* Builders (for resolved instances and tests); each returns a new node. */
struct node *node_new_scalar(const char *s);
struct node *node_new_seq(void);
struct node *node_new_map(void);
/* Append to a sequence; takes ownership of item. */
void node_seq_push(struct node *seq, struct node *item);
/* Set key in a map, replacing a previous value; takes ownership of value. */
void node_map_set(struct node *map, const char *key, struct node *value);
/* Deep copy. */
struct node *node_clone(const struct node *n);

/* The value of key in map, or NULL (map may be NULL or not a map). */
const struct node *node_get(const struct node *map, const char *key);
/* The text of key's value if it is a scalar, else NULL. */
const char *node_get_str(const struct node *map, const char *key);
/* The text of a scalar node, or NULL. */
const char *node_str(const struct node *n);
/*
 * A scalar or a list of scalars as a new array of its texts (borrowed from
 * n; the caller frees the array), their count in *count.  NULL, *count 0,
 * when n is NULL, or neither, or a list holding something else.
 */
const char **node_str_list(const struct node *n, size_t *count);
/* A human name for a node type: "a string", "a list", "a map". */
const char *node_type_name(const struct node *n);

/*
 * Serialise a tree to JSON text (maps keep their key order, every scalar
 * a string); caller frees.  "null" when a string is not UTF-8.
 */
char *node_to_json(const struct node *n);
/* The same appended to sb; -1 (sb holding a part) when not UTF-8. */
int node_json_put(struct strbuf *sb, const struct node *n);
/*
 * The same with every map's keys sorted by their bytes: the canonical
 * text that json_dumps(JSON_SORT_KEYS | JSON_COMPACT) made of the tree.
 */
int node_json_put_sorted(struct strbuf *sb, const struct node *n);
/* One string as JSON appended to sb; -1 when s is not UTF-8. */
int node_json_put_str(struct strbuf *sb, const char *s);
/*
 * The same tree as a jansson value (every scalar a string), a new
 * reference: for a caller that dumps it otherwise (keys sorted).
 */
struct json_t;
struct json_t *node_to_jansson(const struct node *n);
/* Parse JSON text back into a tree (numbers and booleans become scalars). */
int node_from_json(const char *text, struct node **out, struct err *e);

#endif
