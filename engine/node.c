/*
 * YAML to struct node with libyaml's event parser.  We keep positions from
 * libyaml's marks (0-based, so +1) and reject what a pipeline file must not
 * contain: duplicate keys (YAML says they are an error, libyaml does not
 * check), tabs in indentation, and keys that are not scalars.
 *
 * Anchors, aliases and YAML 1.1 merge keys (`<<: *defaults`, `<<: [*a, *b]`)
 * are expanded here, so the rest of the program sees a plain tree: an alias
 * is a copy of its anchor's node, positions and all (an error inside it
 * points at the anchored text).  Two bounds keep hostile input from
 * exhausting the stack or memory: nesting deeper than NODE_MAX_DEPTH, and
 * aliases expanding to more than NODE_MAX_ALIAS_NODES nodes in all (an
 * alias bomb), are positioned errors.
 */
#include "config.h"
#include "node.h"
#include "hash.h"

#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct anchor {
	char *name;
	struct node *node;	/* a copy, owned here */
	size_t size;		/* nodes in it */
	int height;		/* levels in it (a scalar is 1) */
};

struct parse {
	yaml_parser_t parser;
	const char *name;
	struct errs *errs;
	int failed;
	int depth;		/* collections open around the current event */
	size_t expanded;	/* nodes copied by aliases so far */
	struct { struct anchor *v; size_t n, cap; } anchors;
};

static void perr(struct parse *p, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
perr(struct parse *p, const yaml_mark_t *m, const char *fmt, ...)
{
	struct err e;
	va_list ap;

	err_clear(&e);
	e.code = -EINVAL;
	snprintf(e.file, sizeof(e.file), "%s", p->name);
	e.line = (int)m->line + 1;
	e.column = (int)m->column + 1;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	errs_add(p->errs, &e);
	p->failed = 1;
}

static struct node *
node_at(enum node_type type, const yaml_mark_t *m)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->type = type;
	n->line = (int)m->line + 1;
	n->column = (int)m->column + 1;
	return n;
}

static void
push_item(struct node *parent, struct node *key, struct node *value)
{
	size_t cap = parent->n + 1;

	/* Grow by powers of two: the arrays are sized exactly at n when 2^k. */
	if ((parent->n & (parent->n - 1)) == 0) {
		cap = parent->n ? parent->n * 2 : 1;
		parent->items = xrealloc(parent->items, cap * sizeof(*parent->items));
		if (parent->type == NODE_MAP)
			parent->keys = xrealloc(parent->keys, cap * sizeof(*parent->keys));
	}
	if (parent->type == NODE_MAP)
		parent->keys[parent->n] = key;
	parent->items[parent->n++] = value;
}

static int next_event(struct parse *p, yaml_event_t *ev);
static struct node *parse_node(struct parse *p, yaml_event_t *ev);

static int
next_event(struct parse *p, yaml_event_t *ev)
{
	if (yaml_parser_parse(&p->parser, ev))
		return 0;
	perr(p, &p->parser.problem_mark, "%s",
		p->parser.problem ? p->parser.problem : "YAML syntax error");
	if (p->parser.context) {
		/* Keep libyaml's context ("while parsing a block mapping"). */
		struct err *last = &p->errs->v[p->errs->n - 1];
		size_t len = strlen(last->msg);
		snprintf(last->msg + len, sizeof(last->msg) - len, " (%s)",
			p->parser.context);
	}
	return -1;
}

static struct node *
parse_scalar(struct parse *p, yaml_event_t *ev)
{
	struct node *n = node_at(NODE_SCALAR, &ev->start_mark);

	n->str = xstrndup((const char *)ev->data.scalar.value,
		ev->data.scalar.length);
	n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ||
		ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
		ev->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
	return n;
}

static struct node *
parse_seq(struct parse *p, yaml_event_t *start)
{
	struct node *n = node_at(NODE_SEQ, &start->start_mark);
	yaml_event_t ev;

	for (;;) {
		struct node *item;

		if (next_event(p, &ev) < 0)
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return n;
		}
		item = parse_node(p, &ev);
		yaml_event_delete(&ev);
		if (!item)
			goto fail;
		push_item(n, NULL, item);
	}
fail:
	node_free(n);
	return NULL;
}

/*
 * The index of key among map n's keys, or n->n: a scan while the map is
 * small, then a hash (seen, kept in step with n's keys), so a map of
 * forty thousand params costs no more per key than one of four.
 */
static size_t
key_seen(const struct node *n, struct hash *seen, const char *key)
{
	const struct hash_entry *x;
	size_t i;
	int added;

	if (n->n < 16) {
		for (i = 0; i < n->n; i++)
			if (!strcmp(n->keys[i]->str, key))
				return i;
		return n->n;
	}
	/* Keys of one map: far below the table's limit, never full. */
	for (i = seen->n; i < n->n; i++)
		hash_add(seen, n->keys[i]->str, strlen(n->keys[i]->str),
			&added)->num = (int64_t)i;
	x = hash_find(seen, key, strlen(key));
	return x ? (size_t)x->num : n->n;
}

static int
is_merge_key(const struct node *key)
{
	return key->type == NODE_SCALAR && !key->quoted && !strcmp(key->str, "<<");
}

/*
 * A merge key's value: a map, or a list of maps (earlier ones win).  Its
 * pairs join n after n's own keys are known, so explicit keys win wherever
 * they are written.  0, or -1 when value is neither (reported).
 */
static int
merge_check(struct parse *p, const struct node *value)
{
	size_t i;
	const struct node *bad = NULL;

	if (value->type == NODE_SEQ) {
		for (i = 0; i < value->n && !bad; i++)
			if (value->items[i]->type != NODE_MAP)
				bad = value->items[i];
	} else if (value->type != NODE_MAP) {
		bad = value;
	}
	if (!bad)
		return 0;
	yaml_mark_t m = { 0, (size_t)(bad->line > 0 ? bad->line - 1 : 0),
		(size_t)(bad->column > 0 ? bad->column - 1 : 0) };
	perr(p, &m, "a merge key ('<<') takes a map or a list of maps, not %s",
		node_type_name(bad));
	return -1;
}

static void
merge_into(struct node *n, struct hash *seen, struct node *src)
{
	size_t i;

	for (i = 0; i < src->n; i++) {
		if (key_seen(n, seen, src->keys[i]->str) < n->n)
			continue;
		push_item(n, src->keys[i], src->items[i]);
		src->keys[i] = src->items[i] = NULL;
	}
}

static void
merge_apply(struct node *n, struct hash *seen, struct node *value)
{
	size_t i;

	if (value->type == NODE_MAP) {
		merge_into(n, seen, value);
		return;
	}
	for (i = 0; i < value->n; i++)
		merge_into(n, seen, value->items[i]);
}

static struct node *
parse_map(struct parse *p, yaml_event_t *start)
{
	struct node *n = node_at(NODE_MAP, &start->start_mark);
	struct node *merge = NULL;
	int merge_line = 0;
	struct hash seen;
	yaml_event_t ev;

	hash_init(&seen, NULL);
	for (;;) {
		struct node *key, *value;
		size_t i;

		if (next_event(p, &ev) < 0)
			goto fail;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			if (merge) {
				/* What merge_apply moved out is NULL there now. */
				merge_apply(n, &seen, merge);
				node_free(merge);
			}
			hash_release(&seen);
			return n;
		}
		key = parse_node(p, &ev);
		yaml_event_delete(&ev);
		if (!key)
			goto fail;
		if (next_event(p, &ev) < 0) {
			node_free(key);
			goto fail;
		}
		value = parse_node(p, &ev);
		yaml_event_delete(&ev);
		if (!value) {
			node_free(key);
			goto fail;
		}
		if (key->type != NODE_SCALAR) {
			yaml_mark_t m = { 0, (size_t)key->line - 1, (size_t)key->column - 1 };
			perr(p, &m, "a key must be a plain string, not %s",
				node_type_name(key));
			node_free(key);
			node_free(value);
			continue;
		}
		if (is_merge_key(key)) {
			if (merge) {
				yaml_mark_t m = { 0, (size_t)key->line - 1,
					(size_t)key->column - 1 };
				perr(p, &m, "duplicate key '<<' (first at line %d); "
					"merge several maps with '<<: [*a, *b]'",
					merge_line);
				node_free(value);
			} else if (merge_check(p, value) < 0) {
				node_free(value);
			} else {
				merge = value;
				merge_line = key->line;
			}
			node_free(key);
			continue;
		}
		i = key_seen(n, &seen, key->str);
		if (i < n->n) {
			struct err e;

			err_clear(&e);
			snprintf(e.file, sizeof(e.file), "%s", p->name);
			e.code = -EINVAL;
			e.line = key->line;
			e.column = key->column;
			snprintf(e.msg, sizeof(e.msg),
				"duplicate key '%s' (first at line %d)", key->str,
				n->keys[i]->line);
			errs_add(p->errs, &e);
			p->failed = 1;
			node_free(key);
			node_free(value);
			continue;
		}
		push_item(n, key, value);
	}
fail:
	node_free(merge);
	hash_release(&seen);
	node_free(n);
	return NULL;
}

static void
measure(const struct node *n, size_t *size, int *height)
{
	size_t i;
	int h = 0;

	*size += 1;
	for (i = 0; i < n->n; i++) {
		int hi = 0;

		if (n->keys)
			*size += 1;
		measure(n->items[i], size, &hi);
		if (hi > h)
			h = hi;
	}
	*height = h + 1;
}

static void
anchor_set(struct parse *p, const char *name, const struct node *n)
{
	struct anchor a = { 0 };
	size_t i;

	a.node = node_clone(n);
	measure(n, &a.size, &a.height);
	for (i = 0; i < p->anchors.n; i++) {
		if (!strcmp(p->anchors.v[i].name, name)) {
			/* YAML lets a later anchor of the same name replace it. */
			node_free(p->anchors.v[i].node);
			a.name = p->anchors.v[i].name;
			p->anchors.v[i] = a;
			return;
		}
	}
	a.name = xstrdup(name);
	VEC_PUSH(p->anchors, a);
}

static struct node *
parse_alias(struct parse *p, yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	const struct anchor *a = NULL;
	size_t i;

	for (i = p->anchors.n; i > 0; i--) {
		if (!strcmp(p->anchors.v[i - 1].name, name)) {
			a = &p->anchors.v[i - 1];
			break;
		}
	}
	if (!a) {
		perr(p, &ev->start_mark, "unknown alias '*%s'; an alias names an "
			"anchor ('&%s') defined before it", name, name);
		return NULL;
	}
	if (p->depth + a->height > NODE_MAX_DEPTH) {
		perr(p, &ev->start_mark, "alias '*%s' nests deeper than %d "
			"levels", name, NODE_MAX_DEPTH);
		return NULL;
	}
	if (a->size > NODE_MAX_ALIAS_NODES - p->expanded) {
		perr(p, &ev->start_mark, "aliases expand to more than %d nodes "
			"at '*%s'; is this an alias bomb?", NODE_MAX_ALIAS_NODES,
			name);
		return NULL;
	}
	p->expanded += a->size;
	return node_clone(a->node);
}

static struct node *
parse_node(struct parse *p, yaml_event_t *ev)
{
	const char *anchor = NULL;
	struct node *n;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		anchor = (const char *)ev->data.scalar.anchor;
		n = parse_scalar(p, ev);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (p->depth >= NODE_MAX_DEPTH) {
			perr(p, &ev->start_mark, "nesting deeper than %d levels",
				NODE_MAX_DEPTH);
			return NULL;
		}
		p->depth++;
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			anchor = (const char *)ev->data.sequence_start.anchor;
			n = parse_seq(p, ev);
		} else {
			anchor = (const char *)ev->data.mapping_start.anchor;
			n = parse_map(p, ev);
		}
		p->depth--;
		break;
	case YAML_ALIAS_EVENT:
		return parse_alias(p, ev);
	default:
		perr(p, &ev->start_mark, "unexpected YAML event");
		return NULL;
	}
	if (n && anchor)
		anchor_set(p, anchor, n);
	return n;
}

static void
anchors_release(struct parse *p)
{
	size_t i;

	for (i = 0; i < p->anchors.n; i++) {
		free(p->anchors.v[i].name);
		node_free(p->anchors.v[i].node);
	}
	free(p->anchors.v);
}

/*
 * libyaml reports a tab in indentation as "found character that cannot
 * start any token", which does not say what to fix.  Look for tabs in the
 * leading whitespace of every line first and name them.
 */
static void
check_tabs(struct parse *p, const char *text, size_t len)
{
	size_t i = 0;
	int line = 1;

	while (i < len) {
		size_t col = 0;
		while (i < len && (text[i] == ' ' || text[i] == '\t')) {
			if (text[i] == '\t') {
				yaml_mark_t m = { 0, (size_t)line - 1, col };
				perr(p, &m, "tab character in indentation; "
					"indent with spaces");
				break;
			}
			i++;
			col++;
		}
		while (i < len && text[i] != '\n')
			i++;
		i++;
		line++;
	}
}

int
node_parse_string(const char *text, size_t len, const char *name,
	struct node **out, struct errs *errs)
{
	struct parse p = { .name = name, .errs = errs };
	struct node *root = NULL;
	yaml_event_t ev;
	int rc = -EINVAL;

	*out = NULL;
	check_tabs(&p, text, len);
	if (p.failed)
		return -EINVAL;
	if (!yaml_parser_initialize(&p.parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&p.parser, (const unsigned char *)text, len);
	/* STREAM-START, then DOCUMENT-START or STREAM-END. */
	if (next_event(&p, &ev) < 0)
		goto out;
	yaml_event_delete(&ev);
	if (next_event(&p, &ev) < 0)
		goto out;
	if (ev.type != YAML_DOCUMENT_START_EVENT) {
		yaml_mark_t m = ev.start_mark;
		yaml_event_delete(&ev);
		perr(&p, &m, "the file is empty; expected a map with 'dag:' "
			"and 'tasks:'");
		goto out;
	}
	yaml_event_delete(&ev);
	if (next_event(&p, &ev) < 0)
		goto out;
	root = parse_node(&p, &ev);
	yaml_event_delete(&ev);
	if (!root)
		goto out;
	if (next_event(&p, &ev) < 0)
		goto out;
	yaml_event_delete(&ev);
	if (next_event(&p, &ev) < 0)
		goto out;
	if (ev.type != YAML_STREAM_END_EVENT)
		perr(&p, &ev.start_mark, "only one YAML document is allowed "
			"per file");
	yaml_event_delete(&ev);
	if (!p.failed)
		rc = 0;
out:
	yaml_parser_delete(&p.parser);
	anchors_release(&p);
	if (rc < 0 || p.failed) {
		node_free(root);
		return -EINVAL;
	}
	*out = root;
	return 0;
}

int
node_parse_file(const char *path, struct node **out, struct errs *errs)
{
	FILE *fp = fopen(path, "rb");
	struct strbuf sb;
	char buf[65536];
	size_t got;
	int rc;

	*out = NULL;
	if (!fp) {
		rc = -errno;
		errs_addf(errs, rc, path, 0, 0, "cannot read: %s", strerror(-rc));
		return rc;
	}
	sb_init(&sb);
	while ((got = fread(buf, 1, sizeof(buf), fp)) > 0)
		sb_add(&sb, buf, got);
	if (ferror(fp)) {
		rc = -EIO;
		errs_addf(errs, rc, path, 0, 0, "read error");
		fclose(fp);
		sb_release(&sb);
		return rc;
	}
	fclose(fp);
	rc = node_parse_string(sb.buf ? sb.buf : "", sb.len, path, out, errs);
	sb_release(&sb);
	return rc;
}

void
node_free(struct node *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n; i++) {
		node_free(n->items[i]);
		if (n->keys)
			node_free(n->keys[i]);
	}
	free(n->items);
	free(n->keys);
	free(n->str);
	free(n);
}

struct node *
node_new_scalar(const char *s)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->type = NODE_SCALAR;
	n->str = xstrdup(s);
	return n;
}

struct node *
node_new_seq(void)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->type = NODE_SEQ;
	return n;
}

struct node *
node_new_map(void)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->type = NODE_MAP;
	return n;
}

void
node_seq_push(struct node *seq, struct node *item)
{
	push_item(seq, NULL, item);
}

void
node_map_set(struct node *map, const char *key, struct node *value)
{
	size_t i;

	for (i = 0; i < map->n; i++) {
		if (!strcmp(map->keys[i]->str, key)) {
			node_free(map->items[i]);
			map->items[i] = value;
			return;
		}
	}
	push_item(map, node_new_scalar(key), value);
}

struct node *
node_clone(const struct node *n)
{
	struct node *c;
	size_t i;

	if (!n)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->type = n->type;
	c->line = n->line;
	c->column = n->column;
	c->quoted = n->quoted;
	c->str = n->str ? xstrdup(n->str) : NULL;
	for (i = 0; i < n->n; i++)
		push_item(c, n->keys ? node_clone(n->keys[i]) : NULL,
			node_clone(n->items[i]));
	return c;
}

const struct node *
node_get(const struct node *map, const char *key)
{
	size_t i;

	if (!map || map->type != NODE_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (!strcmp(map->keys[i]->str, key))
			return map->items[i];
	return NULL;
}

const char *
node_str(const struct node *n)
{
	return n && n->type == NODE_SCALAR ? n->str : NULL;
}

const char **
node_str_list(const struct node *n, size_t *count)
{
	const char **v;
	size_t i;

	*count = 0;
	if (!n || (n->type != NODE_SCALAR && n->type != NODE_SEQ))
		return NULL;
	if (n->type == NODE_SCALAR) {
		v = xcalloc(1, sizeof(*v));
		v[0] = n->str;
		*count = 1;
		return v;
	}
	v = xcalloc(n->n + 1, sizeof(*v));
	for (i = 0; i < n->n; i++) {
		v[i] = node_str(n->items[i]);
		if (!v[i]) {
			free(v);
			return NULL;
		}
	}
	*count = n->n;
	return v;
}

const char *
node_get_str(const struct node *map, const char *key)
{
	return node_str(node_get(map, key));
}

const char *
node_type_name(const struct node *n)
{
	if (!n)
		return "nothing";
	switch (n->type) {
	case NODE_SCALAR:
		return "a string";
	case NODE_SEQ:
		return "a list";
	case NODE_MAP:
		return "a map";
	}
	return "?";
}

static json_t *
to_json(const struct node *n)
{
	json_t *j;
	size_t i;

	switch (n->type) {
	case NODE_SCALAR:
		return json_string_nocheck(n->str);
	case NODE_SEQ:
		j = json_array();
		for (i = 0; i < n->n; i++)
			json_array_append_new(j, to_json(n->items[i]));
		return j;
	case NODE_MAP:
		j = json_object();
		for (i = 0; i < n->n; i++)
			json_object_set_new_nocheck(j, n->keys[i]->str,
				to_json(n->items[i]));
		return j;
	}
	return json_null();
}

json_t *
node_to_jansson(const struct node *n)
{
	return to_json(n);
}
