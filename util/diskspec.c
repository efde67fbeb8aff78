// SPDX-License-Identifier: GPL-2.0-only
/*
 * "PATH[,ro][,lun=N]": see diskspec.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diskspec.h"

int disk_spec_parse(const char *spec, struct disk_spec *out,
		    const char **why)
{
	const char *p = strchr(spec, ','), *opt, *end;
	size_t len = p ? (size_t)(p - spec) : strlen(spec);
	unsigned long v;
	char *e;

	memset(out, 0, sizeof(*out));
	if (!len) {
		*why = "names no path";
		return -EINVAL;
	}
	if (spec[0] != '/') {
		*why = "names a path that is not absolute";
		return -EINVAL;
	}
	if (len > DISK_SPEC_PATH_MAX) {
		*why = "names a path longer than 255 bytes";
		return -EINVAL;
	}
	memcpy(out->path, spec, len);
	for (opt = p; opt; opt = end) {
		opt++;
		end = strchr(opt, ',');
		len = end ? (size_t)(end - opt) : strlen(opt);
		if (len == 2 && strncmp(opt, "ro", 2) == 0) {
			out->ro = true;
		} else if (len > 4 && strncmp(opt, "lun=", 4) == 0 &&
			   opt[4] >= '0' && opt[4] <= '9') {
			errno = 0;
			v = strtoul(opt + 4, &e, 10);
			if (errno || e != opt + len || v >= DISK_SPEC_LUNS) {
				*why = "names a LUN that is not 0 to 63";
				return -EINVAL;
			}
			out->lun = (unsigned int)v;
			out->lun_given = true;
		} else {
			*why = "has an option that is neither ro nor lun=N";
			return -EINVAL;
		}
	}
	return 0;
}

int disk_spec_assign_luns(struct disk_spec *d, unsigned int n,
			  unsigned int *lun)
{
	bool used[DISK_SPEC_LUNS] = { false };
	unsigned int i, next = 0;

	if (n > DISK_SPEC_LUNS)
		return -ENOSPC;
	for (i = 0; i < n; i++) {
		if (!d[i].lun_given)
			continue;
		if (used[d[i].lun]) {
			*lun = d[i].lun;
			return -EEXIST;
		}
		used[d[i].lun] = true;
	}
	for (i = 0; i < n; i++) {
		if (d[i].lun_given)
			continue;
		while (used[next])
			next++;
		d[i].lun = next;
		d[i].lun_given = true;
		used[next] = true;
	}
	return 0;
}

void disk_spec_format(const struct disk_spec *d, char *out, unsigned int len)
{
	snprintf(out, len, "%s%s,lun=%u", d->path, d->ro ? ",ro" : "", d->lun);
}
