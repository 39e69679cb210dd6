/*
 * A tiny unit-test harness.  Each case runs in its own forked process with
 * a timeout, so a crash or a hang fails that case alone; results are TAP.
 *
 *	UNIT_TEST(parses_durations) { CHECK_INT(f(), ==, 3); }
 *	UNIT_MAIN(parses_durations, other_case)
 */
#ifndef DAG_UNIT_H
#define DAG_UNIT_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define UNIT_TIMEOUT_S 30

struct unit_case {
	const char *name;
	void (*fn)(void);
};

#define UNIT_TEST(name) static void name(void)

#define UNIT_FAIL(...) do { \
	fprintf(stderr, "# %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); \
	fprintf(stderr, "\n"); \
	exit(1); \
} while (0)

#define CHECK(cond) do { \
	if (!(cond)) UNIT_FAIL("check failed: %s", #cond); \
} while (0)

#define CHECK_INT(a, op, b) do { \
	long long a_ = (long long)(a), b_ = (long long)(b); \
	if (!(a_ op b_)) \
		UNIT_FAIL("expected %s %s %s, got %lld and %lld", #a, #op, #b, a_, b_); \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *a_ = (a), *b_ = (b); \
	if (!a_ || !b_ || strcmp(a_, b_)) \
		UNIT_FAIL("expected %s == %s: got \"%s\", want \"%s\"", #a, #b, \
			a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
} while (0)

static inline int
unit_run(const struct unit_case *cases, size_t n)
{
	size_t i;
	int failed = 0;

	printf("1..%zu\n", n);
	fflush(stdout);
	for (i = 0; i < n; i++) {
		int status = 0;
		pid_t pid = fork();

		if (pid == 0) {
			alarm(UNIT_TIMEOUT_S);
			cases[i].fn();
			/* exit, not _exit: LeakSanitizer checks the case at exit. */
			exit(0);
		}
		waitpid(pid, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			printf("ok %zu - %s\n", i + 1, cases[i].name);
		} else {
			failed++;
			if (WIFSIGNALED(status))
				printf("not ok %zu - %s (signal %d%s)\n", i + 1,
					cases[i].name, WTERMSIG(status),
					WTERMSIG(status) == SIGALRM ? ", timed out" : "");
			else
				printf("not ok %zu - %s\n", i + 1, cases[i].name);
		}
		fflush(stdout);
	}
	return failed ? 1 : 0;
}

#define UNIT_CASE_(fn) { #fn, fn }
#define UNIT_MAIN(...) \
	int main(void) { \
		static void (*const fns_[])(void) = { __VA_ARGS__ }; \
		static const char names_[] = #__VA_ARGS__; \
		struct unit_case cases_[sizeof(fns_) / sizeof(fns_[0])]; \
		char *copy_ = strdup(names_), *save_ = NULL, *tok_; \
		size_t i_ = 0; \
		for (tok_ = strtok_r(copy_, ", \t\n", &save_); tok_ && \
		     i_ < sizeof(fns_) / sizeof(fns_[0]); \
		     tok_ = strtok_r(NULL, ", \t\n", &save_), i_++) { \
			cases_[i_].name = tok_; \
			cases_[i_].fn = fns_[i_]; \
		} \
		int rc_ = unit_run(cases_, i_); \
		free(copy_); \
		return rc_; \
	}

#endif
