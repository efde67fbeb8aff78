/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A disk of a synthetic SCSI controller as an administrator writes it,
 * "PATH[,ro][,lun=N]", read in one place for everything that takes one
 * (vmbusctl offer --disk, vmbusd's configuration file and its offer
 * entries, the storage test and benchmark servers).
 */
#ifndef XENVMBUS_UTIL_DISKSPEC_H
#define XENVMBUS_UTIL_DISKSPEC_H

#include <stdbool.h>

/* LUNs 0 to 63 (storvsp's SCSI_MAX_LUNS). */
#define DISK_SPEC_LUNS		64u
#define DISK_SPEC_PATH_MAX	255u

struct disk_spec {
	char path[DISK_SPEC_PATH_MAX + 1];	/* absolute */
	bool ro;
	bool lun_given;
	unsigned int lun;
};

/*
 * 0 with @out filled, or -EINVAL with @why saying what is wrong, to end
 * a sentence ("the path is not absolute", ...).  The LUN is 0 when none
 * is given; disk_spec_assign_luns gives the first free ones instead.
 */
int disk_spec_parse(const char *spec, struct disk_spec *out,
		    const char **why);
/*
 * The disks of one controller: those without a LUN take the lowest free
 * ones, in order.  -EEXIST when two name the same LUN (@lun says which),
 * -ENOSPC when more than DISK_SPEC_LUNS.
 */
int disk_spec_assign_luns(struct disk_spec *d, unsigned int n,
			  unsigned int *lun);
/* "PATH[,ro],lun=N" of @d into @out (at most DISK_SPEC_PATH_MAX + 12). */
void disk_spec_format(const struct disk_spec *d, char *out, unsigned int len);

#endif
