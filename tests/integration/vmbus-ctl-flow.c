// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbus-ctl-flow: a libvmbus client whose control messages do not fit the
 * control ring at once.  It opens pipe NAME, says "ready", waits for a line
 * on its standard input (the test stops the bus daemon meanwhile), then
 * creates a GPADL of PAGES pages: more GPADL_BODY messages than the ring
 * holds, so some must wait for the daemon to make room.  Whatever the
 * daemon answers (created or refused), the answer must come: a full ring
 * is not a failure of the bus.
 *
 * Usage: vmbus-ctl-flow NAME PAGES
 * Exit status: 0 answered and the bus still works, 1 otherwise.
 */
#include "config.h"

#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libvmbus.h"

/* The daemon answered a request: created or refused, not lost. */
static bool answered(int rc)
{
	return rc != -EAGAIN && rc != -ETIMEDOUT && rc != -ENOTCONN &&
	       rc != -EPROTO && rc != -ENOBUFS;
}

int main(int argc, char **argv)
{
	struct vmbus_bus *bus = NULL;
	struct vmbus_chan *c = NULL;
	struct vmbus_gpadl *g = NULL;
	struct vmbus_offer off;
	unsigned long pages;
	char line[16];
	int rc, ret = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: vmbus-ctl-flow NAME PAGES\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	pages = strtoul(argv[2], NULL, 0);
	rc = vmbus_bus_open(&bus, 10000);
	if (!rc)
		rc = vmbus_bus_find_pipe(bus, argv[1], &off);
	if (!rc)
		rc = vmbus_chan_open(bus, off.relid, 4, 1, 10000, &c);
	if (rc) {
		fprintf(stderr, "flow: failed to open pipe \"%s\" (%s)\n",
			argv[1], strerror(-rc));
		goto out;
	}
	printf("flow: ready\n");
	if (!fgets(line, sizeof(line), stdin))
		goto out;
	rc = vmbus_gpadl_create(c, pages * 4096, 0, 20000, &g);
	/* Created or refused by the daemon: both are its answer. */
	printf("flow: GPADL of %lu pages: %s (%s)\n", pages,
	       rc == 0 ? "created" : "refused", strerror(-rc));
	if (!answered(rc)) {
		fprintf(stderr, "flow: the GPADL was not answered (%s)\n",
			strerror(-rc));
		goto out;
	}
	if (g)
		vmbus_gpadl_destroy(g, 10000);
	g = NULL;
	/*
	 * The bus still carries a request and its answer (a pipe's offer
	 * takes no data GPADL, so the answer may be a refusal).
	 */
	rc = vmbus_gpadl_create(c, 4096, 0, 10000, &g);
	if (!answered(rc)) {
		fprintf(stderr, "flow: a 1-page GPADL afterwards was not "
			"answered (%s)\n", strerror(-rc));
		goto out;
	}
	if (g)
		vmbus_gpadl_destroy(g, 10000);
	printf("flow: the bus still answers\n");
	ret = 0;
out:
	if (c)
		vmbus_chan_close(c);
	vmbus_bus_close(bus);
	return ret;
}
