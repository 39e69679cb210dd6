/*
 * Binding a rules: list to an input header: every column a rule names
 * becomes a slot, and select, rename and drop are applied to the column
 * list here, once, so per record they cost nothing.  Bound against an
 * unknown ("open") header the same walk is the load-time validation: a
 * column used after a rule removed it is all that can be known before the
 * input exists.
 */
#include "config.h"
#include "rules_priv.h"

#include <errno.h>

/* ------------------------------------------------------------ binding */

struct binder {
	struct rules *rs;
	int open;		/* header unknown: validation */
	int closed;		/* open, but a select fixed the columns */
	char **gone;		/* open: names removed by drop/rename/select */
	size_t ngone;
	struct pctx *c;		/* open: where errors go */
	struct err *e;		/* bound: the first error */
	int failed;
};

static void bind_err(struct binder *b, const struct rule *r, const char *fmt,
	...) __attribute__((format(printf, 3, 4)));

static void
bind_err(struct binder *b, const struct rule *r, const char *fmt, ...)
{
	char msg[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (b->failed && !b->open)
		return;
	b->failed = 1;
	if (b->open) {
		struct err e;

		err_set_at(&e, -EINVAL, b->c->file, r->line, r->column,
			"rule %zu (%s): %s", r->index, op_names[r->op], msg);
		errs_add(b->c->errs, &e);
		b->c->failed = 1;
	} else if (r->line > 0) {
		err_set(b->e, -EINVAL, "rule %zu (%s) at line %d: %s", r->index,
			op_names[r->op], r->line, msg);
	} else {
		err_set(b->e, -EINVAL, "rule %zu (%s): %s", r->index,
			op_names[r->op], msg);
	}
}

static int
new_slot(struct rules *rs, const char *name)
{
	rs->slot_names = xrealloc(rs->slot_names,
		(rs->nslots + 1) * sizeof(char *));
	rs->slot_names[rs->nslots] = (char *)name;
	return (int)rs->nslots++;
}

static int
live_find(struct rules *rs, const char *name)
{
	size_t i;

	for (i = 0; i < rs->nlive; i++)
		if (!strcmp(rs->slot_names[rs->live[i]], name))
			return (int)i;
	return -1;
}

static void
live_add(struct rules *rs, int slot)
{
	rs->live = xrealloc(rs->live, (rs->nlive + 1) * sizeof(int));
	rs->live[rs->nlive++] = slot;
}

static int
was_gone(struct binder *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->ngone; i++)
		if (!strcmp(b->gone[i], name))
			return 1;
	return 0;
}

static void
mark_gone(struct binder *b, const char *name)
{
	if (!b->open)
		return;
	b->gone = xrealloc(b->gone, (b->ngone + 1) * sizeof(char *));
	b->gone[b->ngone++] = (char *)name;
}

static void
unmark_gone(struct binder *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->ngone; i++)
		if (!strcmp(b->gone[i], name))
			b->gone[i] = "";
}

/* The slot of an existing column, or -1 after an error. */
static int
need_col(struct binder *b, const struct rule *r, const char *name)
{
	struct rules *rs = b->rs;
	int i;

	if (!name)
		return -1;
	i = live_find(rs, name);
	if (i >= 0)
		return rs->live[i];
	if (b->open && !b->closed && !was_gone(b, name)) {
		/* An input column we cannot see yet. */
		int s = new_slot(rs, name);

		live_add(rs, s);
		return s;
	}
	if (b->open && was_gone(b, name)) {
		bind_err(b, r, "column '%s' was removed by an earlier rule",
			name);
	} else if (b->open) {
		bind_err(b, r, "column '%s' is not among the columns an "
			"earlier select kept", name);
	} else {
		struct strbuf sb;
		size_t k;

		sb_init(&sb);
		for (k = 0; k < rs->nlive && sb.len < 300; k++)
			sb_addf(&sb, "%s%s", k ? ", " : "",
				rs->slot_names[rs->live[k]]);
		if (k < rs->nlive)
			sb_adds(&sb, ", ...");
		bind_err(b, r, "no column '%s' (the columns here are: %s)",
			name, sb.buf ? sb.buf : "");
		sb_release(&sb);
	}
	return -1;
}

/* The slot a rule writes: an existing column's, or a new one at the end. */
static int
out_col(struct binder *b, const char *name)
{
	struct rules *rs = b->rs;
	int i = live_find(rs, name);
	int s;

	if (i >= 0)
		return rs->live[i];
	s = new_slot(rs, name);
	live_add(rs, s);
	unmark_gone(b, name);
	return s;
}

static void
bind_rule(struct binder *b, struct rule *r)
{
	struct rules *rs = b->rs;
	size_t i;
	int k;

	if (r->has_where)
		r->wslot = need_col(b, r, r->wcol);
	switch (r->op) {
	case R_SELECT: {
		int *nl = xcalloc(r->nnames + 1, sizeof(int));
		size_t nn = 0;

		for (i = 0; i < r->nnames; i++) {
			int s = need_col(b, r, r->names[i]);
			size_t j;

			if (s < 0)
				continue;
			for (j = 0; j < nn; j++)
				if (nl[j] == s)
					break;
			if (j < nn) {
				bind_err(b, r, "column '%s' is selected twice",
					r->names[i]);
				continue;
			}
			nl[nn++] = s;
		}
		for (i = 0; i < rs->nlive; i++) {
			size_t j;

			for (j = 0; j < nn && nl[j] != rs->live[i]; j++)
				;
			if (j == nn)
				mark_gone(b, rs->slot_names[rs->live[i]]);
		}
		free(rs->live);
		rs->live = nl;
		rs->nlive = nn;
		if (b->open)
			b->closed = 1;
		return;
	}
	case R_DROP:
		for (i = 0; i < r->nnames; i++) {
			if (need_col(b, r, r->names[i]) < 0)
				continue;
			k = live_find(rs, r->names[i]);
			memmove(rs->live + k, rs->live + k + 1,
				(rs->nlive - k - 1) * sizeof(int));
			rs->nlive--;
			mark_gone(b, r->names[i]);
		}
		return;
	case R_RENAME:
		for (i = 0; i < r->nnames; i++) {
			int s = need_col(b, r, r->names[i]);

			if (s < 0)
				continue;
			if (strcmp(r->names[i], r->names2[i]) &&
			    live_find(rs, r->names2[i]) >= 0) {
				bind_err(b, r, "cannot rename '%s' to '%s': "
					"that column exists", r->names[i],
					r->names2[i]);
				continue;
			}
			mark_gone(b, r->names[i]);
			unmark_gone(b, r->names2[i]);
			rs->slot_names[s] = r->names2[i];
		}
		return;
	default:
		break;
	}
	r->slot = need_col(b, r, r->col);
	switch (r->op) {
	case R_SPLIT:
	case R_JSON:
		free(r->slots);
		r->slots = xcalloc(r->nnames + 1, sizeof(int));
		for (i = 0; i < r->nnames; i++)
			r->slots[i] = out_col(b, r->names[i]);
		if (r->op == R_JSON && r->into)
			r->into_slot = out_col(b, r->into);
		break;
	case R_BUCKET:
		r->into_slot = r->into ? out_col(b, r->into) : r->slot;
		break;
	default:
		break;
	}
}

static void
bind_all(struct binder *b, const char *const *header, size_t width)
{
	struct rules *rs = b->rs;
	size_t i;

	free(rs->slot_names);
	free(rs->live);
	rs->slot_names = NULL;
	rs->live = NULL;
	rs->nslots = rs->nlive = 0;
	for (i = 0; i < width; i++)
		live_add(rs, new_slot(rs, header[i]));
	for (i = 0; i < rs->n; i++)
		bind_rule(b, &rs->v[i]);
	free(b->gone);
}

/* ------------------------------------------------------------- public */

int
rules_validate(const char *file, const struct node *list, struct errs *errs)
{
	struct pctx c = { file, errs, 0 };
	struct rules *rs = parse_list(&c, list);
	struct binder b;

	if (!c.failed) {
		memset(&b, 0, sizeof(b));
		b.rs = rs;
		b.open = 1;
		b.c = &c;
		bind_all(&b, NULL, 0);
	}
	rules_free(rs);
	return c.failed ? -EINVAL : 0;
}

int
rules_bind(struct rules *rs, const char *const *header, size_t width,
	struct err *e)
{
	struct binder b;
	size_t i;

	memset(&b, 0, sizeof(b));
	b.rs = rs;
	b.e = e;
	bind_all(&b, header, width);
	if (b.failed)
		return -EINVAL;
	rs->input_width = width;
	free(rs->out_hdr);
	free(rs->vp);
	free(rs->vn);
	free(rs->outp);
	free(rs->outn);
	rs->out_hdr = xcalloc(rs->nlive + 1, sizeof(char *));
	for (i = 0; i < rs->nlive; i++)
		rs->out_hdr[i] = rs->slot_names[rs->live[i]];
	rs->vp = xcalloc(rs->nslots + 1, sizeof(char *));
	rs->vn = xcalloc(rs->nslots + 1, sizeof(size_t));
	rs->outp = xcalloc(rs->nlive + 1, sizeof(char *));
	rs->outn = xcalloc(rs->nlive + 1, sizeof(size_t));
	return 0;
}

size_t
rules_out_width(const struct rules *rs)
{
	return rs->nlive;
}

const char *const *
rules_out_header(const struct rules *rs)
{
	return (const char *const *)rs->out_hdr;
}

