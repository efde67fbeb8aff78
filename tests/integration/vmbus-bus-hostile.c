// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbus-bus-hostile: a guest bus client that loads the bus daemon the way a
 * hostile or merely busy guest can, through its own control ring (the
 * transport core only, not libvmbus).  Each mode checks that the daemon
 * keeps serving this guest afterwards.  Speaks TAP-like lines prefixed with
 * "hostile:" for the calling test.
 *
 * Usage: vmbus-bus-hostile MODE [ARG]
 *   burst N      N requests without a reply written at once (one signal),
 *                then one that is answered: the daemon must get to it
 *   oversize     in-band packets too large to be a control message, then
 *                a request: the daemon drops them and answers
 *   replies N    N requests, each answered, written faster than they are
 *                read: every answer must arrive, none dropped
 *   storm SECS   signal the bus's event channel in a loop for SECS
 *                seconds, then a request: it is answered
 *   die          negotiate, then exit without a word (the peer dies)
 * Exit status: 0 when every check held, 1 when one failed, 2 on a setup
 * failure.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "raw-guest.h"

/* The daemon still answers a well-formed request. */
static int alive(void)
{
	struct vmbus_msg m;

	vmbus_msg_init(&m, VMBUS_MSG_REQUESTOFFERS);
	if (send_msg(&m) < 0)
		return 0;
	return expect(VMBUS_MSG_ALLOFFERS_DELIVERED, NULL);
}

static void negotiate(void)
{
	struct vmbus_msg m, r;

	vmbus_msg_init(&m, VMBUS_MSG_INITIATE_CONTACT);
	m.u.initiate_contact.version_requested = VMBUS_BUS_VERSION_1_1;
	m.u.initiate_contact.version_count = 1;
	m.u.initiate_contact.versions[0] = VMBUS_BUS_VERSION_1_1;
	if (send_msg(&m) < 0 || !expect(VMBUS_MSG_VERSION_RESPONSE, &r) ||
	    !r.u.version_response.version_supported)
		die("negotiate bus version 1.1");
	if (!alive())
		die("see the offers delivered");
}

/*
 * More requests than the daemon takes in one turn, written as one batch:
 * the guest signals once, for the empty -> non-empty transition, and never
 * again for these.  Each names a channel that does not exist, so nothing
 * is answered; the last one is answered.
 */
static void burst(unsigned int n)
{
	struct vmbus_msg m;
	unsigned int i;

	/* Let the daemon finish its turn for what came before. */
	usleep(200000);
	vmbus_ring_tx_begin(&ctl);
	for (i = 0; i < n; i++) {
		vmbus_msg_init(&m, VMBUS_MSG_CLOSECHANNEL);
		m.u.relid.child_relid = 0x7fff0000u + i;
		if (send_msg(&m) < 0)
			die("write the burst (ring too small for it)");
	}
	vmbus_msg_init(&m, VMBUS_MSG_REQUESTOFFERS);
	if (send_msg(&m) < 0)
		die("write the burst (ring too small for it)");
	vmbus_ring_tx_commit(&ctl);
	printf("hostile: wrote %u requests and one REQUESTOFFERS with %llu "
	       "signal(s)\n", n, (unsigned long long)ctl.tx_signals);
	check(expect(VMBUS_MSG_ALLOFFERS_DELIVERED, NULL),
	      "a burst over the daemon's per-turn budget is all read: the "
	      "request at its end is answered");
}

/* In-band packets of more than a control message, then a request. */
static void oversize(void)
{
	static uint8_t big[4096];
	uint32_t t = VMBUS_MSG_REQUESTOFFERS;
	size_t sizes[] = { VMBUS_MSG_MAX_SIZE + 8, 1024, sizeof(big) };
	unsigned int i;

	memcpy(big, &t, sizeof(t));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (vmbus_ring_send_inband(&ctl, big, sizes[i], 0, 0) < 0)
			die("write an oversized packet");
	check(alive(), "oversized control packets are dropped, the bus "
	      "still answers");
	check(backend_state() == 4, "the backend stays Connected");
}

/*
 * @n requests that are each answered, written without reading until the
 * ring pushes back, then read while the rest is written: every answer must
 * come, in a bounded time, whatever the daemon had to hold back.
 */
static void replies(unsigned int n)
{
	uint64_t buf[64];
	struct vmbus_pkt pkt;
	struct vmbus_msg m;
	unsigned int sent = 0, got = 0, stuck = 0;
	long long idle_since = now_ms();
	bool reading = false;
	int rc;

	while (got < n && now_ms() - idle_since < 3000) {
		bool progress = false;

		vmbus_ring_tx_begin(&ctl);
		while (sent < n) {
			vmbus_msg_init(&m, VMBUS_MSG_REQUESTOFFERS);
			if (send_msg(&m) < 0)
				break;
			sent++;
			progress = true;
		}
		vmbus_ring_tx_commit(&ctl);
		if (!reading) {
			/*
			 * Not reading yet: the daemon fills our receive ring
			 * and must hold the rest of its answers back.  Read
			 * once writing no longer gets anywhere.
			 */
			if (!progress && ++stuck >= 3)
				reading = true;
			usleep(100000);
			continue;
		}
		for (;;) {
			rc = vmbus_ring_recv(&ctl, &pkt, buf, sizeof(buf));
			if (rc < 0)
				break;
			if (vmbus_msg_decode(&m, pkt.data, pkt.data_len,
					     VMBUS_MSG_DIR_S2C) == 0 &&
			    m.u.hdr.msgtype == VMBUS_MSG_ALLOFFERS_DELIVERED)
				got++;
			progress = true;
		}
		if (rc != -EAGAIN)
			die("receive on the control ring");
		if (progress)
			idle_since = now_ms();
		else
			wait_event(50);
	}
	printf("hostile: %u requests written, %u answers read\n", sent, got);
	check(sent == n && got == n, "every answer arrives although the "
	      "guest read none for a while: nothing is dropped");
	check(alive(), "the bus still answers");
}

static void storm(unsigned int secs)
{
	long long end = now_ms() + (long long)secs * 1000;
	unsigned long long sent = 0;

	printf("hostile: storming for up to %u s\n", secs);
	for (;;) {
		xenevtchn_notify(xce, (evtchn_port_t)port);
		/* Take our own events too, as a busy guest's driver would. */
		if (++sent % 64 == 0) {
			wait_event(0);
			if (now_ms() >= end)
				break;
		}
	}
	printf("hostile: %llu signals sent\n", sent);
	check(alive(), "after a storm of signals the bus still answers");
}

int main(int argc, char **argv)
{
	unsigned int arg;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: vmbus-bus-hostile MODE [ARG]\n");
		return 2;
	}
	arg = argc > 2 ? (unsigned int)strtoul(argv[2], NULL, 0) : 0;
	raw_open();
	bus_connect();
	negotiate();
	if (strcmp(argv[1], "die") == 0) {
		printf("hostile: negotiated, exiting without a word\n");
		_exit(0);
	} else if (strcmp(argv[1], "burst") == 0) {
		burst(arg ? arg : 300);
	} else if (strcmp(argv[1], "oversize") == 0) {
		oversize();
	} else if (strcmp(argv[1], "replies") == 0) {
		replies(arg ? arg : 2000);
	} else if (strcmp(argv[1], "storm") == 0) {
		storm(arg);
	} else {
		fprintf(stderr, "hostile: unknown mode \"%s\"\n", argv[1]);
		return 2;
	}
	/* Leave as a client does. */
	{
		struct vmbus_msg m;

		vmbus_msg_init(&m, VMBUS_MSG_UNLOAD);
		send_msg(&m);
		check(expect(VMBUS_MSG_UNLOAD_RESPONSE, NULL),
		      "UNLOAD is answered");
	}
	bus_close();
	return raw_report();
}
