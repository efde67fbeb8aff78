// SPDX-License-Identifier: GPL-2.0-only
/*
 * dlog - where a dom0 daemon's messages go (see dlog.h).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "dlog.h"

static const char *dlog_name = "daemon";
static unsigned int dlog_to = DLOG_STDERR;
static int dlog_max = LOG_INFO;
static bool dlog_syslog_open;

void dlog_open(const char *name, unsigned int to, int max_prio)
{
	dlog_name = name;
	dlog_to = to;
	dlog_max = max_prio;
	if ((to & DLOG_SYSLOG) && !dlog_syslog_open) {
		openlog(name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		dlog_syslog_open = true;
	}
}

void dlog(int prio, const char *fmt, ...)
{
	/* Callers log a failure, then return -errno: keep it for them. */
	int saved = errno;
	va_list ap;

	if (prio > dlog_max)
		return;
	va_start(ap, fmt);
	if (dlog_to & DLOG_STDERR) {
		va_list aq;

		va_copy(aq, ap);
		fprintf(stderr, "%s: ", dlog_name);
		vfprintf(stderr, fmt, aq);
		fputc('\n', stderr);
		va_end(aq);
	}
	if (dlog_to & DLOG_SYSLOG)
		vsyslog(prio, fmt, ap);
	va_end(ap);
	errno = saved;
}
