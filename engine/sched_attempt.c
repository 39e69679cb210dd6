/*
 * What an attempt needs before it starts: its log (opened, stamped lines
 * of dag-cli's own written into it), its target's directory, and for a
 * command the request the executor runs, with the command line resolved
 * and a temporary beside the target.
 */
#include "config.h"
#include "sched_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "dag.h"
#include "graph.h"
#include "executor.h"
#include "state.h"
#include "target.h"
#include "task_kind.h"

/* Make the directory for a target, remembering the last one per task. */
static int
target_dir(struct sched *s, uint32_t i, const char *target)
{
	const char *slash;
	char **last = &s->last_dir[s->g->inst[i].task];
	size_t n;
	int rc;

	n = strlen(target);
	while (n > 1 && target[n - 1] == '/')
		n--;
	slash = memrchr(target, '/', n);
	if (!slash)
		return 0;
	n = (size_t)(slash - target);
	if (*last && strlen(*last) == n && !memcmp(*last, target, n))
		return 0;
	free(*last);
	*last = xstrndup(target, n);
	rc = mkdir_p(*last, 0777);
	if (rc < 0) {
		free(*last);
		*last = NULL;
	}
	return rc;
}

int
sched_open_log(struct sched *s, uint32_t i, struct err *e)
{
	char *path = sched_log_path(s, i);
	int fd;

	/*
	 * O_APPEND: a remote executor's job appends to the same file through
	 * a descriptor of its own; what the scheduler adds must follow it.
	 */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
		0644);
	if (fd < 0 && errno == ENOENT && mkdir_parent(path) == 0)
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
			O_CLOEXEC, 0644);
	if (fd < 0)
		err_set(e, -errno, "cannot create log '%s': %s", path,
			strerror(errno));
	free(path);
	return fd;
}

/*
 * One line of dag-cli's own in an attempt's log, stamped with the run's
 * wall clock (UTC, ms), so a log tells when its attempt started, ended
 * and why, around whatever the command wrote.  The line goes out in one
 * write(2): an O_APPEND write lands whole after what the command wrote,
 * and one system call per line is all a small attempt pays for it.
 */
void
sched_log_say(struct sched *s, int fd, const char *fmt, ...)
{
	int64_t ms = sched_now_ms(s);
	time_t t = (time_t)(ms / 1000);
	struct strbuf sb;
	struct tm tm;
	char stamp[32];
	va_list ap;

	if (fd < 0)
		return;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	sb_init(&sb);
	sb_addf(&sb, "%s.%03dZ dag-cli: ", stamp, (int)(ms % 1000));
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	sb_addc(&sb, '\n');
	write_full(fd, sb.buf, sb.len);
	sb_release(&sb);
}

/*
 * A command instance's request: its command resolved with {target} naming
 * a temporary beside the target (unless it writes in place), the
 * target's directory made.  *cmd and *tmp are the caller's to free.
 */
int
sched_command_request(struct sched *s, uint32_t i, struct exec_request *rq,
	char **cmd, char **tmp, struct err *e)
{
	const struct task *t = sched_task_of(s, i);
	const struct instance *in = &s->g->inst[i];
	struct resolve_env env;
	struct node *fields = NULL;
	const char *c;
	int rc;

	graph_resolve_env(s->g, &env);
	env.now = s->now;
	if (in->target) {
		if (!t->writes_in_place) {
			*tmp = atomic_tmp_path(in->target, s->tmp_seq++);
			env.tmp_target = *tmp;
		}
		rc = target_dir(s, i, in->target);
		if (rc < 0)
			return err_set(e, rc, "cannot create the directory of "
				"'%s': %s", in->target, strerror(-rc));
	}
	rc = dag_resolve(s->dag, in->task, &s->g->parts[in->part], &env,
		&fields, NULL, e);
	if (rc < 0)
		return rc;
	c = node_get_str(fields, t->kind->command_field);
	if (!c)
		rc = err_set(e, -EINVAL, "task '%s' has no '%s'", t->name,
			t->kind->command_field);
	else
		*cmd = xstrdup(c);
	node_free(fields);
	/*
	 * A command that writes its target in place has no temporary: there
	 * is nothing to publish, and an empty temporary directory must not
	 * replace what it wrote.
	 */
	rq->command = *cmd;
	rq->tmp_target = *tmp;
	return rc;
}
