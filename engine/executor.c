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
#include <jansson.h>
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
	struct node *m;
	char *json, num[32];

	m = instance_node(rq->dag, rq->g, rq->inst, rq->now, rq->tmp_target,
		e);
	if (!m)
		return NULL;
	node_map_set(m, "fsync", node_new_scalar(rq->fsync ? "true" :
		"false"));
	snprintf(num, sizeof(num), "%d", rq->attempt);
	node_map_set(m, "attempt", node_new_scalar(num));
	snprintf(num, sizeof(num), "%lld", (long long)rq->timeout_ms);
	node_map_set(m, "timeout_ms", node_new_scalar(num));
	if (rq->log_path)
		node_map_set(m, "log", node_new_scalar(rq->log_path));
	json = node_to_json(m);
	node_free(m);
	return json;
}

char *
exec_result_to_json(const struct exec_result *r)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "exit_code", json_integer(r->exit_code));
	json_object_set_new(o, "signal", json_integer(r->signal));
	json_object_set_new(o, "timed_out", json_boolean(r->timed_out));
	json_object_set_new(o, "rc", json_integer(r->rc));
	json_object_set_new(o, "error", json_string_nocheck(r->error));
	json_object_set_new(o, "records_in", json_integer(r->records_in));
	json_object_set_new(o, "records_out", json_integer(r->records_out));
	json_object_set_new(o, "records_rejected",
		json_integer(r->records_rejected));
	json_object_set_new(o, "started_ms", json_integer(r->started_ms));
	json_object_set_new(o, "duration_ms", json_integer(r->duration_ms));
	json_object_set_new(o, "max_rss_kb", json_integer(r->max_rss_kb));
	json_object_set_new(o, "published", json_boolean(r->published));
	s = json_dumps(o, JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		abort();
	return s;
}

static int64_t
get_int(json_t *o, const char *k, int64_t fallback)
{
	json_t *v = json_object_get(o, k);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_boolean(v))
		return json_is_true(v);
	return fallback;
}

int
exec_result_from_json(const char *text, struct exec_result *r, struct err *e)
{
	json_error_t je;
	json_t *o = json_loads(text, 0, &je), *v;

	if (!json_is_object(o)) {
		json_decref(o);
		return err_set(e, -EINVAL, "not a result: %s", o ? "not an "
			"object" : je.text);
	}
	exec_result_init(r);
	r->exit_code = (int)get_int(o, "exit_code", -1);
	r->signal = (int)get_int(o, "signal", 0);
	r->timed_out = (int)get_int(o, "timed_out", 0);
	r->rc = (int)get_int(o, "rc", 0);
	v = json_object_get(o, "error");
	if (json_is_string(v))
		snprintf(r->error, sizeof(r->error), "%s", json_string_value(v));
	r->records_in = get_int(o, "records_in", -1);
	r->records_out = get_int(o, "records_out", -1);
	r->records_rejected = get_int(o, "records_rejected", -1);
	r->started_ms = get_int(o, "started_ms", 0);
	r->duration_ms = get_int(o, "duration_ms", 0);
	r->max_rss_kb = get_int(o, "max_rss_kb", -1);
	r->published = (int)get_int(o, "published", 0);
	json_decref(o);
	return 0;
}
