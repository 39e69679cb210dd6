/*
 * Keeping an attempt's log under its cap by cutting it back from the
 * outside (see logcap.h for why not a pipe through the scheduler: every
 * attempt would pay for a cap that few reach).
 */
#include "config.h"
#include "logcap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int64_t
log_cap_max(void)
{
	const char *v = getenv("DAG_LOG_MAX");
	char *end;
	long long n;
	int shift = 0;

	if (!v || !*v)
		return LOG_MAX_DEFAULT;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (errno || end == v || *end || n < 0 || n > (INT64_MAX >> shift))
		return LOG_MAX_DEFAULT;
	return (int64_t)n << shift;
}

void
log_cap_init(struct log_cap *c, int log_fd, int64_t max)
{
	c->fd = max > 0 && log_fd >= 0 ? fcntl(log_fd, F_DUPFD_CLOEXEC, 0) : -1;
	c->max = max;
	c->cut = 0;
}

void
log_cap_check(struct log_cap *c)
{
	struct stat st;

	if (c->fd < 0 || fstat(c->fd, &st) < 0 || st.st_size <= c->max)
		return;
	/*
	 * The child appends (O_APPEND), so what it writes next follows the
	 * cut; what it wrote between fstat and here is dropped uncounted.
	 */
	if (ftruncate(c->fd, (off_t)c->max) == 0)
		c->cut += (int64_t)st.st_size - c->max;
}

void
log_cap_finish(struct log_cap *c)
{
	if (c->fd < 0)
		return;
	log_cap_check(c);
	if (c->cut > 0)
		dprintf(c->fd, "\ndag-cli: log cut at %lld bytes (DAG_LOG_MAX): "
			"%lld more bytes of output were dropped\n",
			(long long)c->max, (long long)c->cut);
	close(c->fd);
	c->fd = -1;
}
