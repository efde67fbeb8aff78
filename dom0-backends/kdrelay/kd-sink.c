// SPDX-License-Identifier: GPL-2.0-only
/*
 * kd-sink.c - what the network sinks share: HOST:PORT on the command line.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dlog.h"

#include "kd-sink.h"

/*
 * [HOST:]PORT on the command line: the port is a decimal number from 1 to
 * 65535 (getaddrinfo() alone would take 99999 as port 34463), a HOST
 * before the colon is not empty.  0 or -EINVAL, logged.
 */
int kd_sink_check_addr(const char *opt, const char *arg)
{
	const char *colon = strrchr(arg, ':'), *portstr = colon ? colon + 1 : arg;
	unsigned long port;
	char *end;

	if (colon && (colon == arg || colon - arg >= 256)) {
		dlog(LOG_ERR, "failed to parse %s \"%s\" (%s)", opt, arg,
		     colon == arg ? "empty host" : "host name too long");
		return -EINVAL;
	}
	errno = 0;
	if (*portstr < '0' || *portstr > '9' || (port = strtoul(portstr, &end, 10), errno) ||
	    *end || port < 1 || port > 65535) {
		dlog(LOG_ERR, "failed to parse %s \"%s\" (the port must be a number from 1 "
		     "to 65535)", opt, arg);
		return -EINVAL;
	}
	return 0;
}

/* [HOST:]PORT (HOST defaults to defhost) as one IPv4 address. */
int kd_sink_resolve(const char *opt, const char *arg, const char *defhost, int socktype,
		    bool passive, struct addrinfo **res)
{
	char host[256];
	const char *colon = strrchr(arg, ':');
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = socktype,
				  .ai_flags = AI_NUMERICSERV };
	int rc;

	if (kd_sink_check_addr(opt, arg) < 0)
		return -EINVAL;
	if (passive)
		hints.ai_flags |= AI_PASSIVE;
	if (colon)
		snprintf(host, sizeof(host), "%.*s", (int)(colon - arg), arg);
	else
		snprintf(host, sizeof(host), "%s", defhost);
	rc = getaddrinfo(host, colon ? colon + 1 : arg, &hints, res);
	if (rc) {
		dlog(LOG_ERR, "failed to resolve %s \"%s\" (%s)", opt, arg, gai_strerror(rc));
		return -EINVAL;
	}
	return 0;
}
