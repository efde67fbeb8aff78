/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xenstore helpers.  Values written by the peer are read once, parsed
 * strictly (decimal, no trailing bytes, bounded) and only then used.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

int vmbus_xs_read_uint(struct xs_handle *xs, const char *dir, const char *key,
		       unsigned long max, unsigned long *val)
{
	char path[256], *v, *end;
	unsigned int len = 0;
	unsigned long n;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	v = xs_read(xs, XBT_NULL, path, &len);
	if (!v)
		return -(errno ? errno : ENOENT);
	if (len == 0 || len > 20 || v[0] < '0' || v[0] > '9') {
		rc = -EINVAL;
		goto out;
	}
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end != '\0' || (size_t)(end - v) != len || n > max) {
		rc = -EINVAL;
		goto out;
	}
	*val = n;
out:
	free(v);
	return rc;
}

int vmbus_xs_printf(struct xs_handle *xs, const char *dir, const char *key,
		    const char *fmt, ...)
{
	char path[256], val[256];
	va_list ap;
	int len;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	va_start(ap, fmt);
	len = vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(val))
		return -E2BIG;
	if (!xs_write(xs, XBT_NULL, path, val, (unsigned int)len)) {
		int err = errno ? errno : EIO;

		vmbus_log(LOG_ERR, "failed to write \"%s\" (%s)", path,
			  strerror(err));
		return -err;
	}
	return 0;
}

int vmbus_xs_read_state(struct xs_handle *xs, const char *dir)
{
	unsigned long v;

	if (vmbus_xs_read_uint(xs, dir, "state", XB_RECONFIGURED, &v) < 0)
		return XB_UNKNOWN;
	return (int)v;
}

const char *vmbus_xb_state_name(int state)
{
	static const char *const names[] = {
		"Unknown", "Initialising", "InitWait", "Initialised",
		"Connected", "Closing", "Closed", "Reconfiguring",
		"Reconfigured",
	};

	if (state < 0 || state > XB_RECONFIGURED)
		return "Invalid";
	return names[state];
}

int vmbus_xs_drain_watches(struct xs_handle *xs)
{
	char **w;
	int n = 0;

	while ((w = xs_check_watch(xs)) != NULL) {
		free(w);
		n++;
	}
	return n;
}
