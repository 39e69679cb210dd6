/*
 * The process pool.  Two decisions shape it.
 *
 * Starting a child must cost next to nothing beside the child itself: a
 * shell command is started with vfork + execve, which does not copy the
 * scheduler's page tables (a backfill's graph makes fork measurably
 * slower); a built-in kind is forked without exec, so the kind runs with
 * the already-loaded binary and whatever prepare() built.  Between vfork
 * and exec the child only makes system calls: it resets the signal
 * handlers libuv installed (a signal must never run the parent's handler
 * in the child), moves into its own process group, asks to die with the
 * parent, and points its standard streams at the log.
 *
 * Reaping is driven by SIGCHLD through a uv_signal handle: each signal
 * wakes the loop and wait4(pid, WNOHANG) is asked of the running jobs
 * only (at most -j of them), which also yields the peak RSS.
 *
 * Nothing a job started may outlive it.  PR_SET_PDEATHSIG reaches only
 * the job's own child, so the job's process group is killed when the job
 * ends (before it is reaped: until then the group's id cannot be reused),
 * and a scheduler killed with -9 leaves its commands' groups, with a mark
 * in their environment, for the run that takes its leases over.
 */
#include "config.h"
#include "pool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

extern char **environ;

static void on_sigchld(uv_signal_t *h, int signum);
static void on_timer(uv_timer_t *t);

int
pool_init(struct pool *p, uv_loop_t *loop, size_t n_slots,
	pool_exit_cb on_exit, struct err *e)
{
	size_t i;
	int rc;

	memset(p, 0, sizeof(*p));
	p->loop = loop;
	p->n_slots = n_slots ? n_slots : 1;
	p->on_exit = on_exit;
	p->kill_grace_ms = POOL_KILL_GRACE_MS;
	p->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (p->devnull < 0)
		return err_set(e, -errno, "cannot open /dev/null: %s",
			strerror(errno));
	p->reports = mmap(NULL, p->n_slots * sizeof(*p->reports),
		PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p->reports == MAP_FAILED) {
		rc = -errno;
		p->reports = NULL;
		err_set(e, rc, "cannot map job reports: %s", strerror(-rc));
		goto fail;
	}
	/*
	 * The signal watch first: once it is started nothing can fail, so a
	 * failure never leaves timers on the loop.
	 */
	rc = uv_signal_init(loop, &p->sigchld);
	if (rc < 0) {
		err_set(e, rc, "cannot watch SIGCHLD: %s", uv_strerror(rc));
		goto fail;
	}
	p->sigchld.data = p;
	rc = uv_signal_start(&p->sigchld, on_sigchld, SIGCHLD);
	if (rc < 0) {
		err_set(e, rc, "cannot watch SIGCHLD: %s", uv_strerror(rc));
		/* Its memory is p's; the loop forgets it once closed. */
		uv_close((uv_handle_t *)&p->sigchld, NULL);
		goto fail;
	}
	/* The watch keeps the loop alive only while a child runs. */
	uv_unref((uv_handle_t *)&p->sigchld);
	p->jobs = xcalloc(p->n_slots, sizeof(*p->jobs));
	p->free_slots = xcalloc(p->n_slots, sizeof(*p->free_slots));
	for (i = 0; i < p->n_slots; i++) {
		struct pool_job *job = &p->jobs[i];

		job->pool = p;
		job->slot = i;
		/* Cannot fail on an initialised loop. */
		uv_timer_init(loop, &job->timer);
		job->timer.data = job;
		/* Pop order: slot 0 first. */
		p->free_slots[i] = p->n_slots - 1 - i;
	}
	p->n_free = p->n_slots;
	return 0;
fail:
	if (p->reports)
		munmap(p->reports, p->n_slots * sizeof(*p->reports));
	p->reports = NULL;
	close(p->devnull);
	p->devnull = -1;
	return rc;
}

static void
free_env(char **env)
{
	char **v;

	for (v = env; v && *v; v++)
		free(*v);
	free(env);
}

void
pool_set_mark(struct pool *p, const char *entry)
{
	const char *eq = strchr(entry, '=');
	size_t n = 0, k = 0, name = eq ? (size_t)(eq - entry) + 1 : 0;
	char **env;

	while (environ[n])
		n++;
	env = xcalloc(n + 2, sizeof(*env));
	for (n = 0; environ[n]; n++)
		if (!name || strncmp(environ[n], entry, name))
			env[k++] = xstrdup(environ[n]);
	env[k] = xstrdup(entry);
	free_env(p->env);
	p->env = env;
}

static void
on_handle_closed(uv_handle_t *h)
{
	struct pool *p = h->data;

	if (h->type == UV_TIMER)
		p = ((struct pool_job *)h->data)->pool;
	if (--p->closing)
		return;
	munmap(p->reports, p->n_slots * sizeof(*p->reports));
	close(p->devnull);
	free_env(p->env);
	p->env = NULL;
	free(p->jobs);
	free(p->free_slots);
	p->jobs = NULL;
	p->free_slots = NULL;
	p->reports = NULL;
	if (p->on_closed)
		p->on_closed(p);
}

void
pool_close(struct pool *p, void (*on_closed)(struct pool *p))
{
	size_t i;

	p->on_closed = on_closed;
	p->closing = p->n_slots + 1;
	for (i = 0; i < p->n_slots; i++)
		uv_close((uv_handle_t *)&p->jobs[i].timer, on_handle_closed);
	uv_close((uv_handle_t *)&p->sigchld, on_handle_closed);
}

struct pool_job *
pool_job_get(struct pool *p)
{
	struct pool_job *job;

	if (!p->n_free)
		return NULL;
	job = &p->jobs[p->free_slots[--p->n_free]];
	job->pid = 0;
	job->stage = 0;
	job->exit_code = 0;
	job->signal = 0;
	job->timed_out = 0;
	job->duration_ms = 0;
	job->max_rss_kb = -1;
	job->report = NULL;
	return job;
}

void
pool_job_put(struct pool_job *job)
{
	struct pool *p = job->pool;

	job->pid = 0;
	p->free_slots[p->n_free++] = job->slot;
}

/*
 * In a new child (after vfork or fork): the signal handlers the parent's
 * loop installed go back to their defaults, the mask is restored, the
 * child gets its own process group and dies with its parent.  Only system
 * calls: this runs in a vforked child.
 */
static void
child_setup(const sigset_t *oldmask, pid_t parent, int log_fd, int devnull)
{
	static const int sigs[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT,
		SIGPIPE, SIGUSR1, SIGUSR2, SIGWINCH };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < ARRAY_LEN(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	setpgid(0, 0);
#ifdef HAVE_SYS_PRCTL_H
	prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
	/* The parent may have died before prctl took effect. */
	if (getppid() != parent)
		_exit(127);
	dup2(devnull, 0);
	if (log_fd >= 0) {
		dup2(log_fd, 1);
		dup2(log_fd, 2);
	}
	sigprocmask(SIG_SETMASK, oldmask, NULL);
}

static void
job_started(struct pool_job *job, pid_t pid, int64_t timeout_ms)
{
	struct pool *p = job->pool;

	/* Both sides set the group, so a kill right after start finds it. */
	setpgid(pid, pid);
	job->pid = pid;
	job->started_ms = (int64_t)(uv_hrtime() / 1000000);
	job->timeout_ms = timeout_ms;
	if (p->running++ == 0)
		uv_ref((uv_handle_t *)&p->sigchld);
	if (timeout_ms > 0)
		uv_timer_start(&job->timer, on_timer, (uint64_t)timeout_ms, 0);
}

int
pool_job_spawn_shell(struct pool_job *job, const char *cmd, int log_fd,
	int64_t timeout_ms, struct err *e)
{
	struct pool *p = job->pool;
	char *argv[] = { "/bin/sh", "-c", (char *)cmd, NULL };
	sigset_t all, old;
	pid_t parent = getpid(), pid;
	volatile int exec_errno = 0;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = vfork();
	if (pid == 0) {
		child_setup(&old, parent, log_fd, p->devnull);
		execve("/bin/sh", argv, p->env ? p->env : environ);
		exec_errno = errno;
		_exit(127);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0 || exec_errno) {
		int rc = pid < 0 ? -errno : -exec_errno;

		if (pid > 0)
			waitpid(pid, NULL, 0);
		return err_set(e, rc, "cannot start /bin/sh: %s",
			strerror(-rc));
	}
	job_started(job, pid, timeout_ms);
	return 0;
}

int
pool_job_fork(struct pool_job *job, pool_child_fn fn, void *arg,
	int log_fd, int64_t timeout_ms, struct err *e)
{
	struct pool *p = job->pool;
	struct pool_report *rep = &p->reports[job->slot];
	sigset_t all, old;
	pid_t parent = getpid(), pid;

	memset(rep, 0, sizeof(*rep));
	rep->records_in = rep->records_out = rep->records_rejected = -1;
	/* Buffered output would otherwise be written twice, once by the child. */
	fflush(stdout);
	fflush(stderr);
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0) {
		int status;

		child_setup(&old, parent, log_fd, p->devnull);
		status = fn(arg, rep);
		rep->filled = 1;
		fflush(stdout);
		fflush(stderr);
		_exit(status);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		int rc = -errno;

		return err_set(e, rc, "cannot fork: %s", strerror(-rc));
	}
	job->report = rep;
	job_started(job, pid, timeout_ms);
	return 0;
}

static void
job_kill(struct pool_job *job, int sig)
{
	if (job->pid <= 0)
		return;
	/* The group holds whatever the shell started, too. */
	if (kill(-job->pid, sig) < 0)
		kill(job->pid, sig);
}

static void
on_timer(uv_timer_t *t)
{
	struct pool_job *job = t->data;
	struct pool *p = job->pool;

	if (!job->pid)
		return;
	if (job->stage == 0) {
		job->timed_out = 1;
		job->stage = 1;
		job_kill(job, SIGTERM);
		uv_timer_start(&job->timer, on_timer,
			(uint64_t)p->kill_grace_ms, 0);
	} else {
		job->stage = 2;
		job_kill(job, SIGKILL);
	}
}

void
pool_job_stop(struct pool_job *job, int sig)
{
	if (!job->pid || job->stage >= 1)
		return;
	job->stage = 1;
	job_kill(job, sig);
	uv_timer_start(&job->timer, on_timer,
		(uint64_t)job->pool->kill_grace_ms, 0);
}

void
pool_stop_all(struct pool *p, int sig)
{
	size_t i;

	for (i = 0; i < p->n_slots; i++)
		pool_job_stop(&p->jobs[i], sig);
}

static void
job_reaped(struct pool_job *job, int status, const struct rusage *ru)
{
	struct pool *p = job->pool;

	uv_timer_stop(&job->timer);
	job->duration_ms = (int64_t)(uv_hrtime() / 1000000) - job->started_ms;
	job->max_rss_kb = ru->ru_maxrss;
	if (WIFSIGNALED(status)) {
		job->exit_code = -1;
		job->signal = WTERMSIG(status);
	} else {
		job->exit_code = WEXITSTATUS(status);
		job->signal = 0;
	}
	if (job->report && !job->report->filled)
		job->report = NULL;
	job->pid = 0;
	if (--p->running == 0)
		uv_unref((uv_handle_t *)&p->sigchld);
	/* The slot is free before the callback, so it can start the next job. */
	p->free_slots[p->n_free++] = job->slot;
	p->on_exit(job);
}

/* Has pid exited?  Asked without reaping it (WNOWAIT). */
static int
job_exited(pid_t pid)
{
	siginfo_t si;
	int r;

	memset(&si, 0, sizeof(si));
	do {
		r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
	} while (r < 0 && errno == EINTR);
	return r == 0 && si.si_pid == pid;
}

static void
on_sigchld(uv_signal_t *h, int signum)
{
	struct pool *p = h->data;
	size_t i;

	for (i = 0; i < p->n_slots && p->running; i++) {
		struct pool_job *job = &p->jobs[i];
		struct rusage ru;
		int status;
		pid_t r;

		if (!job->pid)
			continue;
		if (!job_exited(job->pid))
			continue;
		/*
		 * The job is a zombie: its pid, and so its group's id, is not
		 * free yet.  What it left in the group goes now.
		 */
		kill(-job->pid, SIGKILL);
		do {
			r = wait4(job->pid, &status, 0, &ru);
		} while (r < 0 && errno == EINTR);
		if (r == job->pid)
			job_reaped(job, status, &ru);
	}
}

/*
 * Does process pid's environment (NUL-separated) hold mark?  Unreadable
 * (gone, another user's, a zombie's): no.
 */
static int
proc_has_mark(const char *pid, const char *mark)
{
	char path[300], *buf = NULL, *e;
	size_t len = 0, cap = 0;
	ssize_t r;
	int fd, found = 0;

	snprintf(path, sizeof(path), "/proc/%s/environ", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	for (;;) {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 16384;
			buf = xrealloc(buf, cap + 1);
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (!buf)
		return 0;
	buf[len] = '\0';
	for (e = buf; e < buf + len && !found; e += strlen(e) + 1)
		found = !strcmp(e, mark);
	free(buf);
	return found;
}

/*
 * Is process pid (a /proc entry) alive in group pgid?  A zombie is not:
 * it runs nothing, and its reaper is not ours.
 */
static int
proc_in_group(const char *pid, long pgid)
{
	char path[300], buf[512], *p, state;
	long ppid, pgrp;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold anything, ')' too: the last one ends it. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3)
		return 0;
	return pgrp == pgid && state != 'Z' && state != 'X';
}

/* Kill the marked live processes of group pgid; how many there were. */
static int
kill_marked(long pgid, const char *mark)
{
	struct dirent *de;
	DIR *d = opendir("/proc");
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		if (!proc_in_group(de->d_name, pgid) ||
		    !proc_has_mark(de->d_name, mark))
			continue;
		kill((pid_t)atol(de->d_name), SIGKILL);
		n++;
	}
	closedir(d);
	return n;
}

int
pool_group_kill_stale(long pgid, const char *mark, int64_t wait_ms)
{
	int64_t t0 = (int64_t)(uv_hrtime() / 1000000);

	if (pgid <= 1)
		return 0;
	/* Killed processes take a moment to exit: look until none is left. */
	while (kill_marked(pgid, mark) > 0) {
		if ((int64_t)(uv_hrtime() / 1000000) - t0 > wait_ms)
			return -EBUSY;
		usleep(10000);
	}
	return 0;
}
