// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbus-pipe-flood: a guest that fills its pipe's ring with packets that
 * carry no data for the service (completions), written at once with one
 * signal, then sends "pingpong" and waits for the echo service's answer.  The
 * daemon passes over such packets, but each one still costs it a receive:
 * they must count against the pipe's per-wake-up budget like data does,
 * or one wake-up of one guest's pipe runs as long as the guest keeps its
 * ring full.  Or, with --storm SECS, that signals its pipe's port in a
 * loop with nothing to move before it sends "pingpong": each signal costs
 * the daemon a wake-up.  The channel then stays open FLOOD_HOLD_S seconds,
 * for the calling test to read the pipe's published counters.
 *
 * Usage: vmbus-pipe-flood NAME PACKETS RING_PAGES
 *        vmbus-pipe-flood --storm SECS NAME
 * Exit status: 0 the packets were written (or the storm made) and the echo
 * came back, 1 otherwise.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libvmbus.h"
#include "private.h"		/* the channel's port, to storm it */

#define FLOOD_WAIT_MS	10000
#define FLOOD_HOLD_S	5

int main(int argc, char **argv)
{
	static uint64_t buf[65536 / 8];
	struct vmbus_bus *bus = NULL;
	struct vmbus_chan *c = NULL;
	struct vmbus_offer off;
	struct vmbus_packet pkt;
	unsigned long n = 0, i, sent = 0, storm_s = 0, signals = 0;
	uint32_t pages = 4;
	int64_t deadline;
	int rc, ret = 1;

	if (argc == 4 && strcmp(argv[1], "--storm") == 0) {
		storm_s = strtoul(argv[2], NULL, 0);
		argv += 2;
	} else if (argc == 4) {
		n = strtoul(argv[2], NULL, 0);
		pages = (uint32_t)strtoul(argv[3], NULL, 0);
	} else {
		fprintf(stderr, "usage: vmbus-pipe-flood NAME PACKETS RING_PAGES\n"
			"       vmbus-pipe-flood --storm SECS NAME\n");
		return 2;
	}
	rc = vmbus_bus_open(&bus, 10000);
	if (rc) {
		fprintf(stderr, "flood: failed to open the bus (%s)\n", strerror(-rc));
		return 1;
	}
	for (i = 0; vmbus_bus_find_pipe(bus, argv[1], &off) != 0; i++) {
		if (i >= 100) {
			fprintf(stderr, "flood: no pipe \"%s\" offered\n", argv[1]);
			goto out;
		}
		vmbus_bus_wait(bus, 100);
	}
	rc = vmbus_chan_open(bus, off.relid, pages, 1, 10000, &c);
	if (rc) {
		fprintf(stderr, "flood: failed to open pipe \"%s\" (%s)\n", argv[1],
			strerror(-rc));
		goto out;
	}
	/* All of them visible to the daemon at once: one publish, one signal. */
	vmbus_chan_batch_begin(c);
	for (i = 0; i < n; i++) {
		if (vmbus_chan_send_comp(c, i + 1, NULL, 0) < 0)
			break;
		sent++;
	}
	vmbus_chan_batch_commit(c);
	printf("flood: %lu completions written at once\n", sent);
	if (storm_s) {
		time_t end = time(NULL) + (time_t)storm_s;

		printf("flood: storming\n");
		fflush(stdout);
		while (time(NULL) < end) {
			xenevtchn_notify(c->evt.xce, (evtchn_port_t)c->evt.local);
			signals++;
		}
		printf("flood: %lu signals in %lu s\n", signals, storm_s);
	}
	/* A multiple of 8 bytes: an in-band payload's length is in 8-byte units. */
	rc = vmbus_chan_send(c, "pingpong", 8, 0, 0);
	if (sent < n || rc) {
		fprintf(stderr, "flood: wrote %lu of %lu packets, pingpong: %s\n", sent, n,
			strerror(-rc));
		goto out;
	}
	deadline = FLOOD_WAIT_MS / 50;
	for (;;) {
		rc = vmbus_chan_recv(c, &pkt, buf, sizeof(buf));
		if (rc == 0 && pkt.type == 6 && pkt.len == 8 &&
		    memcmp(pkt.data, "pingpong", 8) == 0)
			break;
		if (rc == -EAGAIN) {
			if (deadline-- <= 0) {
				fprintf(stderr, "flood: no echo within %d ms\n",
					FLOOD_WAIT_MS);
				goto out;
			}
			vmbus_chan_wait(c, 50);
			vmbus_chan_ack(c);
			continue;
		}
		if (rc < 0) {
			fprintf(stderr, "flood: failed to receive (%s)\n", strerror(-rc));
			goto out;
		}
	}
	printf("flood: the echo came back\n");
	fflush(stdout);
	sleep(FLOOD_HOLD_S);
	ret = 0;
out:
	if (c)
		vmbus_chan_close(c);
	vmbus_bus_close(bus);
	return ret;
}
