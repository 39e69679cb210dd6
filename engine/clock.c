/*
 * "Now", for every command and for the tests that pin it: $DAG_NOW when
 * set, else the system clock.  In libdag so the test helper and the unit
 * tests read the same clock the binary does.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "range.h"

int64_t
cli_now(void)
{
	const char *s = getenv("DAG_NOW");
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0, oh = 0, om = 0;
	int64_t t;
	char sign = 0;

	if (!s || !*s)
		return (int64_t)time(NULL);
	if (strspn(s, "0123456789") == strlen(s))
		return strtoll(s, NULL, 10);
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3) {
		fprintf(stderr, "dag-cli: ignoring bad DAG_NOW '%s'; expected unix "
			"seconds or YYYY-MM-DDTHH:MM:SS[Z|+HH:MM]\n", s);
		return (int64_t)time(NULL);
	}
	s += n;
	if ((*s == 'T' || *s == ' ') &&
	    sscanf(s + 1, "%2d:%2d%n", &h, &mi, &n) == 2) {
		s += 1 + n;
		if (*s == ':' && sscanf(s + 1, "%2d%n", &sec, &n) == 1)
			s += 1 + n;
	}
	if ((*s == '+' || *s == '-') && sscanf(s + 1, "%2d:%2d", &oh, &om) == 2)
		sign = *s;
	t = civil_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	if (sign)
		t -= (sign == '+' ? 1 : -1) * (oh * 3600 + om * 60);
	return t;
}
