/*
 * The runs a killed scheduler left behind: a schedule row left `running`
 * is resumed, or, when its child `dag-cli run` outlived the scheduler,
 * adopted (watched until it is gone, its outcome read from the state
 * database).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "daemon_priv.h"
#include "util.h"

/*
 * The start of /proc/PID/NAME into buf (size bytes, NUL-terminated): its
 * length, or -1 when the process is gone.
 */
static long
read_proc(long pid, const char *name, char *buf, size_t size)
{
	char path[64];
	size_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/%s", pid, name);
	if (!(fp = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, size - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return (long)n;
}

/* Is pid a live (not zombie) `dag-cli run SNAPSHOT --date PARTITION`? */
static int
is_our_run(long pid, const char *snapshot, const char *partition)
{
	char buf[8192], st[512];
	const char *argv[6] = { 0 };
	size_t n, i, k = 0;
	long got;
	char *p;

	if (read_proc(pid, "stat", st, sizeof(st)) < 0)
		return 0;
	if ((p = strrchr(st, ')')) && p[1] == ' ' && p[2] == 'Z')
		return 0;
	if ((got = read_proc(pid, "cmdline", buf, sizeof(buf))) < 0)
		return 0;
	n = (size_t)got;
	for (i = 0; i < n && k < 6; i += strlen(buf + i) + 1)
		argv[k++] = buf + i;
	return k >= 5 && !strcmp(argv[1], "run") &&
		!strcmp(argv[2], snapshot) && !strcmp(argv[3], "--date") &&
		!strcmp(argv[4], partition);
}

/* A run of a previous scheduler still going: its pid, or 0. */
static long
find_orphan(const char *snapshot, const char *partition)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	long found = 0;

	if (!dir)
		return 0;
	while (!found && (de = readdir(dir))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || pid == (long)getpid())
			continue;
		if (is_our_run(pid, snapshot, partition))
			found = pid;
	}
	closedir(dir);
	return found;
}

/*
 * The exit status the run of partition by pid recorded in the runs table
 * (its command line names the partition), or -1.
 */
static int
recorded_status(struct daemon *d, long pid, const char *partition)
{
	sqlite3_stmt *st = daemon_prep(d, "SELECT status FROM runs WHERE pid=?1 AND "
		"host=?2 AND instr(args, ?3) > 0 ORDER BY id DESC LIMIT 1");
	char *date = xasprintf(" --date %s ", partition);
	int status = -1;

	if (!st) {
		free(date);
		return -1;
	}
	sqlite3_bind_int64(st, 1, pid);
	sqlite3_bind_text(st, 2, d->st.host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, date, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		status = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	free(date);
	return status;
}

static void
on_adopt_poll(uv_timer_t *t)
{
	struct srun *r = t->data;
	struct sdag *sd = daemon_find_dag(r->d, r->dag);

	if (sd && is_our_run(r->pid, sd->snapshot, r->partition))
		return;
	if (!sd && kill((pid_t)r->pid, 0) == 0)
		return;
	uv_timer_stop(t);
	daemon_run_ended(r->d, r, recorded_status(r->d, r->pid, r->partition), 0);
}

/*
 * Rows left 'running' by a scheduler that died: a child of it still
 * running is adopted (watched until it ends; its outcome read from the
 * runs table), any other is queued again, to be resumed.
 */
void
daemon_recover(struct daemon *d)
{
	sqlite3_stmt *st = daemon_prep(d, "SELECT dag, partition, due, tries, "
		"started FROM schedule WHERE state='running'");
	struct { struct srun **v; size_t n, cap; } found = { 0 };
	size_t i;

	if (!st)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct srun *r = xcalloc(1, sizeof(*r));

		r->d = d;
		r->dag = xstrdup((const char *)sqlite3_column_text(st, 0));
		r->partition = xstrdup((const char *)sqlite3_column_text(st, 1));
		r->due = sqlite3_column_int64(st, 2);
		r->tries = sqlite3_column_int(st, 3);
		r->started = sqlite3_column_int64(st, 4);
		VEC_PUSH(found, r);
	}
	sqlite3_finalize(st);
	for (i = 0; i < found.n; i++) {
		struct srun *r = found.v[i];
		struct sdag *sd = daemon_find_dag(d, r->dag);
		long pid = sd ? find_orphan(sd->snapshot, r->partition) : 0;

		if (!pid) {
			daemon_set_state(d, r->dag, r->partition, "queued", -1, -1);
			daemon_say(d, "%s %s: was running when the scheduler stopped; "
				"queued again (a run resumes: complete targets "
				"are not made again)", r->dag, r->partition);
			free(r->dag);
			free(r->partition);
			free(r);
			continue;
		}
		r->adopted = 1;
		r->pid = pid;
		sd->busy = 1;
		uv_timer_init(&d->loop, &r->poll);
		r->poll.data = r;
		uv_timer_start(&r->poll, on_adopt_poll, ADOPT_POLL_MS,
			ADOPT_POLL_MS);
		r->next = d->runs;
		d->runs = r;
		daemon_say(d, "%s %s: its run (pid %ld) outlived the previous "
			"scheduler; waiting for it", r->dag, r->partition, pid);
	}
	free(found.v);
}
