// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the daemons' logging (lib/daemon/dlog.c): a message leaves
 * errno as it was, even when writing it fails, so that a daemon may log a
 * failure and then return -errno.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dlog.h"

/* Run with standard error closed, so that writing to it fails. */
static int stderr_copy = -1;

static void close_stderr(void)
{
	fflush(stderr);
	stderr_copy = dup(STDERR_FILENO);
	ck_assert_int_ge(stderr_copy, 0);
	ck_assert_int_eq(close(STDERR_FILENO), 0);
}

static void reopen_stderr(void)
{
	ck_assert_int_eq(dup2(stderr_copy, STDERR_FILENO), STDERR_FILENO);
	close(stderr_copy);
	clearerr(stderr);
}

START_TEST(test_errno_kept_when_stderr_fails)
{
	close_stderr();
	/* The failure the test relies on: a bare write changes errno. */
	errno = EACCES;
	fprintf(stderr, "lost\n");
	ck_assert_int_ne(errno, EACCES);
	clearerr(stderr);

	dlog_open("dlog-test", DLOG_STDERR, LOG_DEBUG);
	errno = EACCES;
	dlog(LOG_ERR, "failed to do something (%s)", "permission denied");
	ck_assert_int_eq(errno, EACCES);
	errno = ENOENT;
	dlog(LOG_DEBUG, "a debug line");
	ck_assert_int_eq(errno, ENOENT);
	reopen_stderr();
}
END_TEST

START_TEST(test_errno_kept_through_syslog)
{
	/* Whether or not a syslog daemon listens here. */
	dlog_open("dlog-test", DLOG_STDERR | DLOG_SYSLOG, LOG_DEBUG);
	close_stderr();
	errno = EPERM;
	dlog(LOG_WARNING, "to both");
	ck_assert_int_eq(errno, EPERM);
	reopen_stderr();
}
END_TEST

START_TEST(test_errno_kept_when_filtered)
{
	dlog_open("dlog-test", DLOG_STDERR, LOG_INFO);
	errno = EIO;
	dlog(LOG_DEBUG, "dropped");
	ck_assert_int_eq(errno, EIO);
}
END_TEST

static Suite *dlog_suite(void)
{
	Suite *s = suite_create("dlog");
	TCase *tc = tcase_create("dlog");

	tcase_add_test(tc, test_errno_kept_when_stderr_fails);
	tcase_add_test(tc, test_errno_kept_through_syslog);
	tcase_add_test(tc, test_errno_kept_when_filtered);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dlog_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
