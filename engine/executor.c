/*
 * What every executor shares: the verdict on a result, the line recorded
 * for a failure, and the two messages as data (the request as the
 * resolved instance's JSON, the result as one line of JSON), so an
 * executor that runs instances in another process or on another machine
 * needs no format of its own.
 */
#include "config.h"
#include "executor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "instance.h"
#include "node.h"

int
exec_result_ok(const struct exec_result *r)
{
	return r->exit_code == 0 && !r->signal && !r->timed_out && r->rc == 0;
}

char *
exec_result_failure(const struct exec_result *r, int64_t timeout_ms)
{
	if (r->timed_out)
		return xasprintf("timed out after %lld ms",
			(long long)timeout_ms);
	if (r->rc < 0 && r->error[0])
		return xstrdup(r->error);
	if (r->signal)
		return xasprintf("killed by signal %d (%s)", r->signal,
			strsignal(r->signal));
	return xasprintf("exit status %d", r->exit_code);
}

const char *
exec_result_permanent(const struct exec_result *r)
{
	if (r->rc != -EINVAL || r->timed_out || r->signal)
		return NULL;
	return "the definition or the data is wrong, so every attempt "
		"would fail the same way";
}

void
exec_result_init(struct exec_result *r)
{
	memset(r, 0, sizeof(*r));
	r->records_in = r->records_out = r->records_rejected = -1;
	r->max_rss_kb = -1;
}

char *
exec_request_json(const struct exec_request *rq, struct err *e)
{
	struct strbuf sb;
	int rc;

	sb_init(&sb);
	rc = instance_json_open(&sb, rq->dag, rq->g, rq->inst, rq->now,
		rq->tmp_target, e);
	if (rc < 0) {
		sb_release(&sb);
		return NULL;
	}
	if (rc == 0)
		sb_addf(&sb, ",\"fsync\":\"%s\",\"attempt\":\"%d\","
			"\"timeout_ms\":\"%lld\"", rq->fsync ? "true" : "false",
			rq->attempt, (long long)rq->timeout_ms);
	if (rc == 0 && rq->log_path) {
		sb_adds(&sb, ",\"log\":");
		rc = node_json_put_str(&sb, rq->log_path) < 0;
	}
	if (rc) {
		/* A text that is not UTF-8: what node_to_json gave for it. */
		sb_release(&sb);
		return xstrdup("null");
	}
	sb_addc(&sb, '}');
	return sb_detach(&sb);
}

/*
 * The result's JSON, written and read here without jansson: a worker
 * answers once per instance, and a jansson object and its dump, then its
 * parse on the other side, cost more than the rest of the answer.  The
 * text is what json_dumps(JSON_PRESERVE_ORDER) wrote ("key": value, ", "
 * between), so a result file reads the same.  An error that is not UTF-8
 * (a file name's bytes) has those bytes as '?', where jansson could not
 * write it at all.
 */
static void
put_error(struct strbuf *sb, const char *error)
{
	char *fixed = xstrdup(error);
	size_t i;

	for (i = 0; fixed[i]; i++)
		if ((unsigned char)fixed[i] >= 0x80)
			fixed[i] = '?';
	node_json_put_str(sb, fixed);
	free(fixed);
}

char *
exec_result_to_json(const struct exec_result *r)
{
	struct strbuf sb;
	size_t mark;

	sb_init(&sb);
	sb_addf(&sb, "{\"exit_code\": %d, \"signal\": %d, \"timed_out\": %s, "
		"\"rc\": %d, \"error\": ", r->exit_code, r->signal,
		r->timed_out ? "true" : "false", r->rc);
	mark = sb.len;
	if (node_json_put_str(&sb, r->error) < 0) {
		sb.len = mark;
		sb.buf[mark] = '\0';
		put_error(&sb, r->error);
	}
	sb_addf(&sb, ", \"records_in\": %lld, \"records_out\": %lld, "
		"\"records_rejected\": %lld, \"started_ms\": %lld, "
		"\"duration_ms\": %lld, \"max_rss_kb\": %lld, \"published\": %s}",
		(long long)r->records_in, (long long)r->records_out,
		(long long)r->records_rejected, (long long)r->started_ms,
		(long long)r->duration_ms, (long long)r->max_rss_kb,
		r->published ? "true" : "false");
	return sb_detach(&sb);
}

/*
 * key's value in o as json_integer_value or a boolean's 0 or 1 did;
 * fallback when it is neither (a string, a real, missing).
 */
static int64_t
get_int(const struct node *o, const char *k, int64_t fallback)
{
	const struct node *v = node_get(o, k);
	long long n;
	char *end;

	if (!v || v->type != NODE_SCALAR || v->quoted || !*v->str)
		return fallback;
	if (!strcmp(v->str, "true"))
		return 1;
	if (!strcmp(v->str, "false"))
		return 0;
	errno = 0;
	n = strtoll(v->str, &end, 10);
	if (*end || errno)
		return fallback;
	return n;
}

int
exec_result_from_json(const char *text, struct exec_result *r, struct err *e)
{
	struct node *o = NULL;
	const struct node *v;
	struct err pe;

	err_clear(&pe);
	if (node_from_json(text, &o, &pe) < 0 || o->type != NODE_MAP) {
		node_free(o);
		return err_set(e, -EINVAL, "not a result: %s", o ? "not an "
			"object" : pe.msg);
	}
	exec_result_init(r);
	r->exit_code = (int)get_int(o, "exit_code", -1);
	r->signal = (int)get_int(o, "signal", 0);
	r->timed_out = (int)get_int(o, "timed_out", 0);
	r->rc = (int)get_int(o, "rc", 0);
	v = node_get(o, "error");
	if (v && v->type == NODE_SCALAR && v->quoted)
		snprintf(r->error, sizeof(r->error), "%s", v->str);
	r->records_in = get_int(o, "records_in", -1);
	r->records_out = get_int(o, "records_out", -1);
	r->records_rejected = get_int(o, "records_rejected", -1);
	r->started_ms = get_int(o, "started_ms", 0);
	r->duration_ms = get_int(o, "duration_ms", 0);
	r->max_rss_kb = get_int(o, "max_rss_kb", -1);
	r->published = (int)get_int(o, "published", 0);
	node_free(o);
	return 0;
}
