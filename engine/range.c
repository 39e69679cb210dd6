/*
 * Partitions and time zones.  A partition is a local day or hour of the
 * DAG's IANA zone.  The zone is read through the C library (TZ, tzset,
 * localtime_r), but only to learn where the UTC offset changes: each span
 * of 2^25 seconds (about a year) is sampled once, with TZ switched for the
 * duration and restored, and its transitions are kept.  After that every
 * question (offset at t, local midnight of a date) is a table look-up and
 * integer arithmetic, so a 10-year plan never touches TZ again and the
 * process's own zone is left as it was.
 *
 * An hourly partition is a local wall-clock hour: it starts on :00 local
 * time or where a change of offset begins a new local hour.  When the
 * clocks go back, the hour that occurs again gets the id YYYY-MM-DDTHH for
 * its first occurrence and YYYY-MM-DDTHHb for the second, which sorts
 * right after the first, even when the repeat is 30 minutes long.  A
 * skipped hour (spring forward) has no partition, so that date holds 23;
 * a skipped half hour shortens its hour.  A daily partition runs from the
 * first instant at or after local midnight to the next one's, so a day the
 * clocks skip (Pacific/Apia 2011-12-30) is empty: no partition.
 */
#include "config.h"
#include "dag.h"
#include "dag_priv.h"
#include "range.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define CHUNK_SHIFT 25
#define CHUNK_SEGS 16
/* Offsets change at most a few times a year; sampling twice a day finds them. */
#define SAMPLE_STEP (12 * 3600)
/* A range longer than this many partitions is a mistake, not a plan. */
#define MAX_PARTITIONS 2000000

struct zseg {
	int64_t at;		/* from this unix time on ... */
	int off;		/* ... the offset is this (seconds east) */
	char abbr[12];
};

struct zchunk {
	int64_t idx;		/* covers [idx << CHUNK_SHIFT, +2^CHUNK_SHIFT) */
	size_t n;
	struct zseg seg[CHUNK_SEGS];
};

struct zone {
	char *name;
	int utc;		/* fast path: offset 0 forever */
	struct zchunk *chunks;	/* sorted by idx */
	size_t n, cap;
	size_t last;		/* chunk of the last look-up */
};

int64_t
civil_days(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

int
civil_month_days(int64_t y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (m < 1 || m > 12)
		return 0;
	return days[m - 1] + (m == 2 && leap);
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/*
 * TZ is process state: switch it for one sampling pass, then put it back,
 * holding the environment's lock (another thread may be reading it).
 */
static char *
tz_enter(const char *name)
{
	const char *old;
	char *saved;

	env_lock(1);
	old = getenv("TZ");
	saved = old ? xstrdup(old) : NULL;
	setenv("TZ", name, 1);
	tzset();
	return saved;
}

static void
tz_leave(char *saved)
{
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	env_unlock();
	free(saved);
}

static int
lib_offset(int64_t t, char *abbr, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm))
		return 0;
	if (abbr)
		snprintf(abbr, n, "%s", tm.tm_zone ? tm.tm_zone : "");
	return (int)tm.tm_gmtoff;
}

static void
chunk_fill(struct zchunk *c, int64_t idx)
{
	int64_t t0 = idx * ((int64_t)1 << CHUNK_SHIFT);
	int64_t t1 = t0 + ((int64_t)1 << CHUNK_SHIFT);
	int64_t t, prev;
	int cur;

	c->idx = idx;
	c->n = 1;
	c->seg[0].at = t0;
	cur = c->seg[0].off = lib_offset(t0, c->seg[0].abbr,
		sizeof(c->seg[0].abbr));
	prev = t0;
	for (t = t0 + SAMPLE_STEP; prev < t1; prev = t, t += SAMPLE_STEP) {
		int64_t lo = prev, hi;
		int o;

		if (t > t1)
			t = t1;
		if (lib_offset(t, NULL, 0) == cur)
			continue;
		/* The change lies in (lo, t]: find its first second. */
		hi = t;
		while (hi - lo > 1) {
			int64_t mid = lo + (hi - lo) / 2;
			if (lib_offset(mid, NULL, 0) == cur)
				lo = mid;
			else
				hi = mid;
		}
		o = lib_offset(hi, NULL, 0);
		if (c->n < CHUNK_SEGS) {
			struct zseg *s = &c->seg[c->n++];
			s->at = hi;
			s->off = o;
			lib_offset(hi, s->abbr, sizeof(s->abbr));
		}
		cur = o;
	}
}

/*
 * Where chunk idx is in z's sorted chunks, or would go: the first one not
 * below it.
 */
static size_t
chunk_at(const struct zone *z, int64_t idx)
{
	size_t lo = 0, hi = z->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (z->chunks[mid].idx < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct zchunk *
zone_chunk(struct zone *z, int64_t t)
{
	int64_t idx = t >> CHUNK_SHIFT;
	size_t lo, i;
	char *saved;
	int64_t k;

	if (z->n && z->chunks[z->last].idx == idx)
		return &z->chunks[z->last];
	lo = chunk_at(z, idx);
	if (lo < z->n && z->chunks[lo].idx == idx) {
		z->last = lo;
		return &z->chunks[lo];
	}
	/* Miss: sample this span and the next few under one TZ switch. */
	saved = tz_enter(z->name);
	for (k = idx; k < idx + 4; k++) {
		lo = chunk_at(z, k);
		if (lo < z->n && z->chunks[lo].idx == k)
			continue;
		if (z->n == z->cap) {
			z->cap = z->cap ? z->cap * 2 : 16;
			z->chunks = xrealloc(z->chunks, z->cap * sizeof(*z->chunks));
		}
		memmove(&z->chunks[lo + 1], &z->chunks[lo],
			(z->n - lo) * sizeof(*z->chunks));
		z->n++;
		chunk_fill(&z->chunks[lo], k);
	}
	tz_leave(saved);
	for (i = 0; i < z->n; i++)
		if (z->chunks[i].idx == idx)
			break;
	z->last = i;
	return &z->chunks[i];
}

static const struct zseg *
zone_seg(struct zone *z, int64_t t, int64_t *next)
{
	const struct zchunk *c = zone_chunk(z, t);
	size_t i = c->n - 1;

	while (i > 0 && c->seg[i].at > t)
		i--;
	if (next)
		*next = i + 1 < c->n ? c->seg[i + 1].at :
			(c->idx + 1) * ((int64_t)1 << CHUNK_SHIFT);
	return &c->seg[i];
}

int
zone_offset(struct zone *z, int64_t t)
{
	if (z->utc)
		return 0;
	return zone_seg(z, t, NULL)->off;
}

int
zone_span(struct zone *z, int64_t t, int64_t *from, int64_t *to)
{
	const struct zseg *s;

	if (z->utc) {
		*from = INT64_MIN / 2;
		*to = INT64_MAX / 2;
		return 0;
	}
	s = zone_seg(z, t, to);
	*from = s->at;
	return s->off;
}

const char *
zone_abbr(struct zone *z, int64_t t)
{
	if (z->utc)
		return "UTC";
	return zone_seg(z, t, NULL)->abbr;
}

/* No zone is, or was, this far from UTC: a window that holds every answer. */
#define MAX_OFFSET (26 * 3600)

int64_t
zone_to_utc(struct zone *z, int64_t local)
{
	int64_t t = local - MAX_OFFSET;

	if (z->utc)
		return local;
	/*
	 * The first instant whose local time is at or after local: walk the
	 * spans of constant offset in order; in each, local time grows with t.
	 */
	for (;;) {
		int64_t a, b, c;
		int o = zone_span(z, t, &a, &b);

		c = local - o > t ? local - o : t;
		if (c < b)
			return c;
		t = b;
	}
}

/* The civil fields of tm from local seconds since 1970-01-01T00:00. */
static void
fill_civil(struct tm *tm, int64_t local)
{
	int64_t days = floor_div(local, 86400), y;
	int64_t secs = local - days * 86400;
	int m, d;

	civil_from_days(days, &y, &m, &d);
	tm->tm_year = (int)(y - 1900);
	tm->tm_mon = m - 1;
	tm->tm_mday = d;
	tm->tm_hour = (int)(secs / 3600);
	tm->tm_min = (int)(secs / 60 % 60);
	tm->tm_sec = (int)(secs % 60);
	tm->tm_wday = (int)((days % 7 + 11) % 7);	/* 1970-01-01 was a Thursday */
	tm->tm_yday = (int)(days - civil_days(y, 1, 1));
}

void
zone_tm(struct zone *z, int64_t t, struct tm *tm)
{
	int off = zone_offset(z, t);

	memset(tm, 0, sizeof(*tm));
	fill_civil(tm, t + off);
	tm->tm_gmtoff = off;
	tm->tm_zone = zone_abbr(z, t);
	tm->tm_isdst = 0;
}

int64_t
zone_tm_days(struct zone *z, int64_t t, int64_t days, struct tm *tm)
{
	int64_t local = t + zone_offset(z, t) + days * 86400;
	int64_t u = zone_to_utc(z, local);

	/* zone_tm of the civil time itself, as if at offset 0, then the zone. */
	zone_tm(z, u, tm);
	fill_civil(tm, local);
	return u;
}

void
zone_iso(struct zone *z, int64_t t, char *buf, size_t n)
{
	struct tm tm;
	int off, a;

	zone_tm(z, t, &tm);
	off = (int)tm.tm_gmtoff;
	a = off < 0 ? -off : off;
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
}

static int
zone_file_exists(const char *name)
{
	const char *dir = getenv("TZDIR");
	struct stat st;
	char *path;
	int ok;

	path = xasprintf("%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo",
		name);
	ok = stat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	return ok;
}

int
zone_open(const char *name, struct zone **out, struct err *e)
{
	struct zone *z;
	const char *s;

	*out = NULL;
	for (s = name; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("/_+-", *s))
			break;
	if (!*name || *s || name[0] == '/' || strstr(name, "..") ||
	    (!zone_file_exists(name) && strcmp(name, "UTC")))
		return err_set(e, -EINVAL, "unknown time zone '%s'; expected an "
			"IANA name like 'UTC' or 'Europe/Berlin'", name);
	z = xcalloc(1, sizeof(*z));
	z->name = xstrdup(name);
	z->utc = !strcmp(name, "UTC") || !strcmp(name, "Etc/UTC") ||
		!strcmp(name, "Etc/UCT") || !strcmp(name, "UCT") ||
		!strcmp(name, "Zulu") || !strcmp(name, "Etc/Zulu");
	*out = z;
	return 0;
}

void
zone_free(struct zone *z)
{
	if (!z)
		return;
	free(z->name);
	free(z->chunks);
	free(z);
}

/* ---- partitions ---- */

static struct zone *
dag_zone(const struct dag *dag)
{
	return ((struct dag_priv *)dag->params)->zone;
}

/*
 * The local day days: from the first instant whose local time is at or
 * after its midnight to the same for the next day.  A day the clocks skip
 * entirely (Pacific/Apia 2011-12-30) comes out empty: 0 if it exists.
 */
static int
daily_part(const struct dag *dag, int64_t days, struct partition *p)
{
	struct zone *z = dag_zone(dag);
	int64_t y;
	int m, d;

	civil_from_days(days, &y, &m, &d);
	p->start = zone_to_utc(z, days * 86400);
	p->end = zone_to_utc(z, (days + 1) * 86400);
	snprintf(p->id, sizeof(p->id), "%04d-%02d-%02d", (int)y, m, d);
	return p->start < p->end ? 0 : -ENOENT;
}

static int64_t
local_at(struct zone *z, int64_t t)
{
	return t + zone_offset(z, t);
}

/*
 * Hour boundaries.  Inside a span of constant offset an hour starts where
 * local time is on :00.  Where the offset changes (at s), a new hour starts
 * when the local hour's name changes or local time goes back; a change
 * that keeps both (30 minutes forward inside one hour) is no boundary.
 */
static int
is_boundary(struct zone *z, int64_t s)
{
	int64_t now = local_at(z, s), before = local_at(z, s - 1);

	return now <= before || floor_div(now, 3600) != floor_div(before, 3600);
}

/* The start of the hourly partition holding t. */
static int64_t
hour_start(struct zone *z, int64_t t)
{
	for (;;) {
		int64_t a, b, c;
		int o = zone_span(z, t, &a, &b);

		c = t - (t + o - floor_div(t + o, 3600) * 3600);
		if (c >= a)
			return c;
		if (is_boundary(z, a))
			return a;
		t = a - 1;
	}
}

/* The start of the hourly partition after the one starting at t. */
static int64_t
hour_next(struct zone *z, int64_t t)
{
	for (;;) {
		int64_t a, b, c;
		int o = zone_span(z, t, &a, &b);

		c = t + 3600 - (t + o - floor_div(t + o, 3600) * 3600);
		if (c < b)
			return c;
		if (is_boundary(z, b))
			return b;
		t = b;
	}
}

/*
 * Whether local hour h (hours since 1970-01-01T00 local) already occurred
 * in the two days before t: then the partition starting at t repeats it.
 * Local time only goes back by less than a day, so two days are enough.
 */
static int
hour_seen(struct zone *z, int64_t t, int64_t h)
{
	int64_t end = t, u = t - 1;

	for (;;) {
		int64_t a, b;
		int o = zone_span(z, u, &a, &b);

		if (a + o < (h + 1) * 3600 && end + o > h * 3600)
			return 1;
		if (a <= t - 2 * 86400)
			return 0;
		end = a;
		u = a - 1;
	}
}

/* The hour partition starting at t (t a boundary). */
static void
hourly_part(const struct dag *dag, int64_t t, struct partition *p)
{
	struct zone *z = dag_zone(dag);
	int64_t a, b, local, days, y;
	int o = zone_span(z, t, &a, &b), m, d, h, seen;

	local = t + o;
	days = floor_div(local, 86400);
	h = (int)((local - days * 86400) / 3600);
	civil_from_days(days, &y, &m, &d);
	p->start = t;
	/* Fast path: no change of offset for two days before nor in the hour. */
	if (local % 3600 == 0 && t - 2 * 86400 >= a && t + 3600 < b) {
		p->end = t + 3600;
		seen = 0;
	} else {
		p->end = hour_next(z, t);
		seen = hour_seen(z, t, floor_div(local, 3600));
	}
	snprintf(p->id, sizeof(p->id), "%04d-%02d-%02dT%02d%s", (int)y, m, d, h,
		seen ? "b" : "");
}

/* The start of the partition k hourly partitions after (before) t. */
static int64_t
hour_step(struct zone *z, int64_t t, int k)
{
	int64_t a, b, u = t + (int64_t)k * 3600;
	int o = zone_span(z, t, &a, &b);

	/* Inside one span of constant offset, hours are 3600 s apart. */
	if ((t + o) % 3600 == 0 && u >= a && u < b)
		return u;
	for (; k > 0; k--)
		t = hour_next(z, t);
	for (; k < 0; k++)
		t = hour_start(z, t - 1);
	return t;
}

static int64_t
local_days(const struct dag *dag, int64_t t)
{
	return floor_div(local_at(dag_zone(dag), t), 86400);
}

int
dag_partition_at(const struct dag *dag, int64_t t, struct partition *out)
{
	int64_t days;

	if (dag->schedule == SCHEDULE_HOURLY) {
		hourly_part(dag, hour_start(dag_zone(dag), t), out);
		return 0;
	}
	/* Local time can go back across midnight: t may lie in a later day. */
	days = local_days(dag, t);
	while (daily_part(dag, days, out) < 0 || out->end <= t)
		days++;
	return 0;
}

/* The partition after p (a skipped day is no partition). */
static void
next_part(const struct dag *dag, const struct partition *p,
	struct partition *out)
{
	if (dag->schedule == SCHEDULE_HOURLY) {
		hourly_part(dag, p->end, out);
		return;
	}
	dag_partition_at(dag, p->end, out);
}

static int64_t
id_days(const char *s)
{
	int y, m, d;

	/* Ids are ours, YYYY-MM-DD: read the digits directly (hot path). */
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
		(s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	return civil_days(y, m, d);
}

int
dag_partition_step(const struct dag *dag, const struct partition *p, int k,
	struct partition *out)
{
	struct zone *z = dag_zone(dag);
	int64_t t = p->start;

	if (dag->schedule == SCHEDULE_DAILY) {
		/* Calendar arithmetic: the day may not exist. */
		if (daily_part(dag, id_days(p->id) + k, out) < 0)
			return -ENOENT;
	} else {
		hourly_part(dag, hour_step(z, t, k), out);
	}
	return out->start < dag->start_epoch ? -ERANGE : 0;
}

/* Parse YYYY-MM-DD (the whole of s, or followed by 'T'); days or -1. */
static int
parse_date(const char *s, int64_t *days, const char **rest)
{
	int y, m, d, n = 0;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
	    !isdigit((unsigned char)s[0]) || s[4] != '-' || s[7] != '-' ||
	    m < 1 || m > 12 || d < 1 || d > civil_month_days(y, m))
		return -1;
	*days = civil_days(y, m, d);
	*rest = s + 10;
	return 0;
}

/*
 * The hour spec names (days, hour h, repeated when b): the partition of
 * its first occurrence, or for b the next partition of the same name.
 */
static int
parse_hour(const struct dag *dag, const char *spec, int64_t days, int h,
	int b, struct partition *out, struct err *e)
{
	struct zone *z = dag_zone(dag);
	int64_t t = zone_to_utc(z, days * 86400 + h * 3600);

	hourly_part(dag, hour_start(z, t), out);
	/* A repeat follows within a day of the first occurrence. */
	while (out->start < t + 86400) {
		if (!strcmp(out->id, spec))
			return 0;
		if (!b)
			break;
		hourly_part(dag, out->end, out);
	}
	return err_set(e, -EINVAL, "hour '%s' does not exist in %s (the clocks "
		"%s it)", spec, dag->timezone, b ? "do not repeat" : "skip");
}

/*
 * One end of a range: the first (or, with last set, the last) partition
 * that spec names.  A day the clocks skip ends a range at the day before
 * it and starts one at the day after it.
 */
static int
parse_spec(const struct dag *dag, const char *spec, int last, int64_t now,
	struct partition *out, struct err *e)
{
	struct zone *z = dag_zone(dag);
	const char *rest;
	int64_t days;

	if (!strcmp(spec, "today") || !strcmp(spec, "yesterday")) {
		days = local_days(dag, now) - (spec[0] == 'y');
		rest = "";
	} else if (parse_date(spec, &days, &rest) < 0) {
		goto bad;
	}
	if (!*rest) {
		int64_t t;

		daily_part(dag, days, out);
		t = last ? out->end - 1 : out->start;
		if (dag->schedule == SCHEDULE_HOURLY)
			hourly_part(dag, hour_start(z, t), out);
		else
			dag_partition_at(dag, t, out);
		return 0;
	}
	if (dag->schedule == SCHEDULE_DAILY)
		return err_set(e, -EINVAL, "'%s' names an hour, but DAG '%s' is "
			"daily; expected YYYY-MM-DD", spec, dag->name);
	if (rest[0] == 'T' && isdigit((unsigned char)rest[1]) &&
	    isdigit((unsigned char)rest[2]) && (!rest[3] ||
	    (rest[3] == 'b' && !rest[4]))) {
		int h = (rest[1] - '0') * 10 + (rest[2] - '0');

		if (h > 23)
			goto bad;
		return parse_hour(dag, spec, days, h, rest[3] == 'b', out, e);
	}
bad:
	return err_set(e, -EINVAL, "bad date '%s'; expected YYYY-MM-DD%s, "
		"'today' or 'yesterday'", spec,
		dag->schedule == SCHEDULE_HOURLY ? ", YYYY-MM-DDTHH" : "");
}

int
dag_partitions(const struct dag *dag, const char *from, const char *to,
	int64_t now, struct partition **out, size_t *n, struct err *e)
{
	struct partition a, b, p;
	struct { struct partition *v; size_t n, cap; } v = { 0 };
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = parse_spec(dag, from, 0, now, &a, e)) < 0 ||
	    (rc = parse_spec(dag, to, 1, now, &b, e)) < 0)
		return rc;
	if (b.start < a.start && !strcmp(from, to))
		return err_set(e, -EINVAL, "day '%s' does not exist in %s (the "
			"clocks skip it)", from, dag->timezone);
	if (b.start < a.start)
		return err_set(e, -EINVAL, "the range ends ('%s') before it "
			"starts ('%s')", to, from);
	if (b.start < dag->start_epoch)
		return err_set(e, -EINVAL, "'%s' is before the start of DAG '%s' "
			"(%s)", to, dag->name, dag->start);
	if (a.start < dag->start_epoch)
		dag_partition_at(dag, dag->start_epoch, &a);
	if ((b.start - a.start) / (dag->schedule == SCHEDULE_DAILY ? 86400 :
	    3600) > MAX_PARTITIONS)
		return err_set(e, -EINVAL, "the range '%s'..'%s' holds more than "
			"%d partitions", from, to, MAX_PARTITIONS);
	for (p = a; p.start <= b.start; ) {
		VEC_PUSH(v, p);
		next_part(dag, &p, &p);
	}
	*out = v.v;
	*n = v.n;
	return 0;
}

void
dag_partition_info(const struct dag *dag, const struct partition *p,
	struct partition_info *out)
{
	struct zone *z = dag_zone(dag);
	struct tm tm;

	zone_tm(z, p->start, &tm);
	if (dag->schedule == SCHEDULE_DAILY)
		snprintf(out->date, sizeof(out->date), "%.10s", p->id);
	else
		snprintf(out->date, sizeof(out->date), "%04d-%02d-%02d",
			(tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
			tm.tm_mday % 100);
	snprintf(out->hour, sizeof(out->hour), "%02d", tm.tm_hour % 100);
	zone_iso(z, p->start, out->start_iso, sizeof(out->start_iso));
	zone_iso(z, p->end, out->end_iso, sizeof(out->end_iso));
}
