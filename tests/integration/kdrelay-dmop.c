// SPDX-License-Identifier: GPL-2.0-only
/*
 * kdrelay-dmop - XEN_DMOP_syndbg_backend as xen-kdrelay issues it (kd-dmop.c),
 * for kdrelay-relay.sh on the simulated host:
 *
 *   kdrelay-dmop attach|detach|query DOMID [RESTRICT_DOMID]
 *
 * prints "0 BACKEND" (the backend attached afterwards) or "-1 ERRNO_NAME".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenvmbus/syndbg-port.h>

#include "kd-dmop.h"

static const char *errname(int err)
{
	switch (err) {
	case EPERM: return "EPERM";
	case ESRCH: return "ESRCH";
	case EBUSY: return "EBUSY";
	case EINVAL: return "EINVAL";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return strerror(err);
	}
}

int main(int argc, char **argv)
{
	unsigned int op;
	uint32_t backend = 0;
	int fd, rc;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s attach|detach|query DOMID [RESTRICT_DOMID]\n", argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "attach"))
		op = SYNDBG_DMOP_ATTACH;
	else if (!strcmp(argv[1], "detach"))
		op = SYNDBG_DMOP_DETACH;
	else if (!strcmp(argv[1], "query"))
		op = SYNDBG_DMOP_QUERY;
	else
		return 2;
	fd = kd_privcmd_open();
	if (fd < 0) {
		printf("-1 %s\n", errname(errno));
		return 1;
	}
	if (argc == 4 && kd_privcmd_restrict(fd, (uint32_t)strtoul(argv[3], NULL, 0)) < 0) {
		printf("-1 %s\n", errname(errno));
		close(fd);
		return 1;
	}
	rc = kd_dm_syndbg(fd, (uint32_t)strtoul(argv[2], NULL, 0), op, &backend);
	if (rc < 0)
		printf("-1 %s\n", errname(errno));
	else
		printf("0 %u\n", backend);
	close(fd);
	return 0;
}
