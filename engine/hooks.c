/*
 * Task hooks (see hooks.h).  A hook runs in a grandchild of the caller:
 * the child forks the hook's keeper and exits at once, so the caller
 * waits only for that instant and the keeper, orphaned, is reaped by
 * init.  The caller (the scheduler) reaps only its own pids, so a process
 * it forgot to wait for would stay a zombie; and waiting for the hook
 * itself would stall every other instance behind a slow curl.  The keeper
 * waits for the hook and appends a line to the attempt's log when it
 * fails: a hook's failure is reported, never the instance's.
 *
 * Everything the grandchildren need is prepared before the fork: the
 * scheduler's process may hold allocator locks in other threads.
 */
#include "config.h"
#include "hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

static const char *const names[] = {
	"DAG_NAME=", "DAG_TASK=", "DAG_PARTITION=", "DAG_ATTEMPT=",
	"DAG_STATE=", "DAG_ERROR=", "DAG_LOG=", "DAG_HOOK=",
};

static int
ours(const char *var)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(names); i++)
		if (!strncmp(var, names[i], strlen(names[i])))
			return 1;
	return 0;
}

/* environ without our names, then ours; the strings in own[] are new. */
static char **
hook_env(const struct hook_event *ev, char **own)
{
	size_t n = 0, i, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = xcalloc(n + ARRAY_LEN(names) + 1, sizeof(*env));
	for (i = 0; i < n; i++)
		if (!ours(environ[i]))
			env[k++] = environ[i];
	own[0] = xasprintf("DAG_NAME=%s", ev->dag);
	own[1] = xasprintf("DAG_TASK=%s", ev->task);
	own[2] = xasprintf("DAG_PARTITION=%s", ev->partition);
	own[3] = xasprintf("DAG_ATTEMPT=%d", ev->attempt);
	own[4] = xasprintf("DAG_STATE=%s", ev->state);
	own[5] = xasprintf("DAG_ERROR=%s", ev->error ? ev->error : "");
	own[6] = xasprintf("DAG_LOG=%s", ev->log ? ev->log : "");
	own[7] = xasprintf("DAG_HOOK=%s", ev->field);
	for (i = 0; i < ARRAY_LEN(names); i++)
		env[k++] = own[i];
	return env;
}

/* The keeper: run the hook, wait, report a failure.  Never returns. */
static void
keep(const char *cmd, char **env, const char *log, const char *field)
{
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)cmd, NULL };
	char line[160];
	sigset_t none;
	pid_t c;
	int fd = log && *log ? open(log, O_WRONLY | O_APPEND | O_CREAT |
		O_CLOEXEC, 0644) : -1;
	int st, n;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGCHLD, SIG_DFL);
	c = fork();
	if (c == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0)
			dup2(null, 0);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execve("/bin/sh", argv, env);
		_exit(127);
	}
	if (c < 0)
		_exit(1);
	while (waitpid(c, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		_exit(0);
	if (WIFEXITED(st))
		n = snprintf(line, sizeof(line), "dag-cli: the %s hook failed "
			"(exit %d); the instance's outcome stands\n", field,
			WEXITSTATUS(st));
	else
		n = snprintf(line, sizeof(line), "dag-cli: the %s hook was "
			"killed by signal %d; the instance's outcome stands\n",
			field, WTERMSIG(st));
	if (fd >= 0 && n > 0)
		(void)!write(fd, line, (size_t)n);
	_exit(1);
}

int
hook_run(const char *cmd, const struct hook_event *ev)
{
	char *own[ARRAY_LEN(names)];
	char **env = hook_env(ev, own);
	pid_t a;
	size_t i;
	int rc = 0;

	fflush(NULL);
	a = fork();
	if (a == 0) {
		pid_t b = fork();

		if (b == 0)
			keep(cmd, env, ev->log, ev->field);
		_exit(b < 0 ? 1 : 0);
	}
	if (a < 0)
		rc = -errno;
	else
		while (waitpid(a, NULL, 0) < 0 && errno == EINTR)
			;
	for (i = 0; i < ARRAY_LEN(names); i++)
		free(own[i]);
	free(env);
	return rc;
}
