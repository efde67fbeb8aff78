/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dlog - where a dom0 daemon's messages go: standard error, prefixed with
 * the daemon's name, syslog, or both.  xensimd, vmbusd and xen-kdrelay log
 * through it.
 */
#ifndef DLOG_H
#define DLOG_H

#include <syslog.h>

#define DLOG_STDERR	1u	/* "name: message" lines on standard error */
#define DLOG_SYSLOG	2u	/* syslog(3), facility LOG_DAEMON, with the pid */

/*
 * Send later messages to @to (DLOG_* flags), dropping those less urgent
 * than @max_prio (LOG_INFO drops LOG_DEBUG).  May be called again, e.g.
 * once the daemon has left the terminal; @name must stay valid.
 */
void dlog_open(const char *name, unsigned int to, int max_prio);

/* Log one message; errno is as it was before the call. */
void dlog(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* DLOG_H */
