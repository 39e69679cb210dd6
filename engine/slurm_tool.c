/*
 * Running Slurm's commands for the Slurm executor: sbatch, squeue and
 * scancel with their output collected, argv building, shell quoting for
 * --wrap, and job ids as sbatch and squeue print them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "slurm_priv.h"

extern char **environ;

/* Read fd to its end into sb (dropped when sb is NULL). */
static void
drain(int fd, struct strbuf *sb)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (sb)
			sb_add(sb, buf, (size_t)n);
	}
}

/*
 * Run argv (PATH searched) with stdout into out (may be NULL) and stderr
 * into errb (may be NULL); stdin is /dev/null.  Its own process group:
 * ^C at a terminal must not kill an sbatch halfway.  Returns the exit
 * status, or -1 when it could not run or died by a signal (errb says).
 */
int
slurm_run_tool(char *const argv[], struct strbuf *out, struct strbuf *errb)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int po[2], pe[2], status, rc = -1;
	pid_t pid;

	if (pipe2(po, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(pe, O_CLOEXEC) < 0) {
		close(po[0]);
		close(po[1]);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	posix_spawnattr_init(&at);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	if (posix_spawnp(&pid, argv[0], &fa, &at, argv, environ) != 0) {
		if (errb)
			sb_addf(errb, "cannot run %s: %s", argv[0],
				strerror(errno));
		pid = -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(po[1]);
	close(pe[1]);
	if (pid > 0) {
		/* stderr is small (an error line); read stdout to its end. */
		drain(po[0], out);
		drain(pe[0], errb);
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR) {
				status = -1;
				break;
			}
		if (status != -1 && WIFEXITED(status))
			rc = WEXITSTATUS(status);
		else if (errb)
			sb_addf(errb, "%s was killed", argv[0]);
	}
	close(po[0]);
	close(pe[0]);
	return rc;
}


void
slurm_arg_add(struct args *a, char *s)
{
	VEC_GROW(*a, a->n + 2);
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

void
slurm_args_free(struct args *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
}

/* s in single quotes for /bin/sh. */
void
slurm_sh_quote(struct strbuf *sb, const char *s)
{
	sb_addc(sb, '\'');
	for (; *s; s++)
		if (*s == '\'')
			sb_adds(sb, "'\\''");
		else
			sb_addc(sb, *s);
	sb_addc(sb, '\'');
}

/* The job id in "A", "A_K" or "A_[..]": A, and K or -1 (-2: a range). */
int
slurm_parse_id(const char *s, unsigned long *id, long *k)
{
	char *end;

	errno = 0;
	*id = strtoul(s, &end, 10);
	if (errno || end == s)
		return -1;
	*k = -1;
	if (*end == '_') {
		if (end[1] == '[')
			*k = -2;
		else
			*k = strtol(end + 1, &end, 10);
	}
	return 0;
}
