// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbus-p2p-hostile: a guest bus client that breaks the protocol on
 * purpose, around a pipe to another guest.  It speaks to the bus daemon
 * through its own control ring (the transport core only, not libvmbus) and
 * checks that every bad request is refused or ignored, and that the daemon
 * answers a well-formed request afterwards.  Speaks TAP lines prefixed
 * with "hostile:" for the calling test.
 *
 * Usage: vmbus-p2p-hostile PIPE-NAME
 *   As the opener of PIPE-NAME: garbage packets and messages, GPADLs that
 *   cannot be rings, OPENCHANNEL naming nothing or out-of-range layouts,
 *   and finally rings whose grant references are made up, which the peer
 *   (a real client in the other guest) must fail to map.
 *   As the acceptor: GPADLs and ring GPADLs where none are allowed.
 * Exit status: 0 when every check held.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xenvmbus/xenstore.h>

#include "raw-guest.h"

/* What the server offered: the pipe we are after. */
static uint32_t pipe_relid;
static uint16_t pipe_peer_flags, pipe_peer_domid;

static void send_raw(const void *buf, size_t len)
{
	if (vmbus_ring_send_inband(&ctl, buf, len, 0, 0) < 0)
		die("send on the control ring");
}

static void put_msg(struct vmbus_msg *m)
{
	send_raw(&m->u, m->len);
}

/* The offer of a pipe to the other guest is the one we are after. */
static void note_peer_offer(const struct vmbus_msg *m)
{
	if (m->u.hdr.msgtype == VMBUS_MSG_OFFERCHANNEL &&
	    (m->u.offer.peer_flags & VMBUS_OFFER_PEER_VALID)) {
		pipe_relid = m->u.offer.child_relid;
		pipe_peer_flags = m->u.offer.peer_flags;
		pipe_peer_domid = m->u.offer.peer_domid;
	}
}

/* Nothing answers within 300 ms but what @type says. */
static int quiet(void)
{
	uint64_t buf[64];
	struct vmbus_pkt pkt;

	usleep(300000);
	return vmbus_ring_recv(&ctl, &pkt, buf, sizeof(buf)) == -EAGAIN;
}

static uint32_t gpadl_status(uint32_t relid, uint32_t id, uint32_t npages,
			     uint32_t offset, uint32_t nranges,
			     const uint32_t *grefs)
{
	struct vmbus_gpa_desc r[2];
	struct vmbus_msg msgs[8], res;
	int n, i;

	for (i = 0; i < (int)nranges; i++)
		r[i] = (struct vmbus_gpa_desc){
			.byte_count = npages * VMBUS_GRANT_PAGE_SIZE - offset,
			.byte_offset = offset, .gref_count = npages,
			.grefs = grefs,
		};
	n = vmbus_gpadl_build(msgs, 8, relid, id, r, nranges);
	if (n < 0) {
		errno = -n;
		die("build a GPADL");
	}
	for (i = 0; i < n; i++)
		put_msg(&msgs[i]);
	if (!expect(VMBUS_MSG_GPADL_CREATED, &res))
		return 0xffff;
	return res.u.gpadl_created.status;
}

static uint32_t open_status(uint32_t relid, uint32_t gpadl, uint32_t down,
			    uint32_t evt)
{
	static uint32_t open_id = 100;
	struct vmbus_msg m, res;

	vmbus_msg_init(&m, VMBUS_MSG_OPENCHANNEL);
	m.u.open.child_relid = relid;
	m.u.open.open_id = ++open_id;
	m.u.open.ring_gpadl = gpadl;
	m.u.open.downstream_page_offset = down;
	m.u.open.event_channel = evt;
	m.u.open.class_version = VMBUS_VERSION(1, 0);
	put_msg(&m);
	if (!expect(VMBUS_MSG_OPENCHANNEL_RESULT, &res) ||
	    res.u.open_result.open_id != open_id)
		return 0xffff;
	return res.u.open_result.status;
}

static void close_chan(uint32_t relid)
{
	struct vmbus_msg m;

	vmbus_msg_init(&m, VMBUS_MSG_CLOSECHANNEL);
	m.u.relid.child_relid = relid;
	put_msg(&m);
}

/* The daemon still answers a well-formed request. */
static int alive(void)
{
	struct vmbus_msg m;

	vmbus_msg_init(&m, VMBUS_MSG_REQUESTOFFERS);
	put_msg(&m);
	return expect(VMBUS_MSG_ALLOFFERS_DELIVERED, NULL);
}

static void garbage(void)
{
	uint8_t junk[240];
	struct vmbus_msg m;
	uint32_t t, i;

	/* Types nobody defines, and the server's own messages. */
	memset(junk, 0xa5, sizeof(junk));
	for (t = 18; t < 40; t++) {
		memcpy(junk, &t, 4);
		send_raw(junk, 16);
		send_raw(junk, 40);
	}
	t = 0xffffffffu;
	memcpy(junk, &t, 4);
	send_raw(junk, 8);
	/* Lengths that are not a message's. */
	t = VMBUS_MSG_OPENCHANNEL;
	memcpy(junk, &t, 4);
	send_raw(junk, 24);
	send_raw(junk, 232);
	vmbus_msg_init(&m, VMBUS_MSG_PEER_OPEN_RESULT);
	m.u.open_result.child_relid = pipe_relid;
	m.u.open_result.open_id = 1;
	send_raw(&m.u, m.len - 8);
	/* Random bytes. */
	srand(7);
	for (i = 0; i < 64; i++) {
		uint32_t j, len = 8 + 8 * (uint32_t)(rand() % 29);

		for (j = 0; j < len; j++)
			junk[j] = (uint8_t)rand();
		send_raw(junk, len);
	}
	check(alive(), "garbage packets and messages are dropped, the bus "
	      "still answers");

	/* An unsolicited PEER_OPEN_RESULT is refused without effect. */
	vmbus_msg_init(&m, VMBUS_MSG_PEER_OPEN_RESULT);
	m.u.open_result.child_relid = pipe_relid;
	m.u.open_result.open_id = 1;
	put_msg(&m);
	check(quiet() && alive(), "an unsolicited PEER_OPEN_RESULT is "
	      "ignored");
}

static void as_opener(void)
{
	uint32_t grefs[8] = { 2, 3, 4, 5, 6, 7, 8, 9 };
	uint32_t st;

	st = gpadl_status(pipe_relid, 11, 8, 0, 2, grefs);
	check(st != VMBUS_STATUS_SUCCESS, "a ring GPADL of two ranges is "
	      "refused");
	st = gpadl_status(pipe_relid, 12, 8, 16, 1, grefs);
	check(st != VMBUS_STATUS_SUCCESS, "a ring GPADL not starting on a "
	      "page is refused");
	st = gpadl_status(pipe_relid, 13, 3, 0, 1, grefs);
	check(st != VMBUS_STATUS_SUCCESS, "a ring GPADL of 3 pages is "
	      "refused");
	st = gpadl_status(pipe_relid + 1000, 14, 8, 0, 1, grefs);
	check(st == VMBUS_STATUS_NOT_FOUND, "a GPADL for a channel that does "
	      "not exist is refused");

	st = open_status(pipe_relid, 99, 4, 5);
	check(st == VMBUS_STATUS_NOT_FOUND, "OPENCHANNEL naming an unknown "
	      "GPADL is refused");
	st = open_status(pipe_relid, 0, 0, 0);
	check(st == VMBUS_STATUS_NOT_FOUND, "OPENCHANNEL without rings from "
	      "the opener is refused");
	/* Made-up grants in a well-formed ring GPADL. */
	st = gpadl_status(pipe_relid, 20, 8, 0, 1, grefs);
	check(st == VMBUS_STATUS_SUCCESS, "a well-formed ring GPADL is kept "
	      "(never mapped by dom0)");
	st = open_status(pipe_relid, 20, 7, 5);
	check(st == VMBUS_STATUS_INVALID, "OPENCHANNEL with a send ring "
	      "leaving the receive ring one page is refused");
	st = open_status(pipe_relid, 20, 1, 5);
	check(st == 0xffff, "OPENCHANNEL with a one-page send ring is "
	      "dropped by the codec");
	close_chan(pipe_relid);
	/*
	 * Now a plausible request with grants that do not exist: the peer
	 * must fail to map them and both ends must hear so.
	 */
	st = open_status(pipe_relid, 20, 4, 5);
	check(st != VMBUS_STATUS_SUCCESS && st != 0xffff,
	      "rings made of grants that do not exist: the peer fails to "
	      "map them and the open fails at both ends");
	check(alive(), "the bus still answers after the failed open");
}

static void as_acceptor(void)
{
	uint32_t grefs[8] = { 2, 3, 4, 5, 6, 7, 8, 9 };
	uint32_t st;

	st = gpadl_status(pipe_relid, 31, 8, 0, 1, grefs);
	check(st != VMBUS_STATUS_SUCCESS, "the acceptor may not send a ring "
	      "GPADL");
	st = open_status(pipe_relid, 31, 4, 5);
	check(st == VMBUS_STATUS_INVALID || st == VMBUS_STATUS_NOT_FOUND,
	      "OPENCHANNEL with rings from the acceptor is refused");
	check(alive(), "the bus still answers");
}

int main(int argc, char **argv)
{
	struct vmbus_msg m, r;

	if (argc != 2) {
		fprintf(stderr, "usage: vmbus-p2p-hostile PIPE-NAME\n");
		return 2;
	}
	raw_open();
	raw_seen = note_peer_offer;
	bus_connect();
	vmbus_msg_init(&m, VMBUS_MSG_INITIATE_CONTACT);
	m.u.initiate_contact.version_requested = VMBUS_BUS_VERSION_1_1;
	m.u.initiate_contact.version_count = 1;
	m.u.initiate_contact.versions[0] = VMBUS_BUS_VERSION_1_1;
	put_msg(&m);
	if (!expect(VMBUS_MSG_VERSION_RESPONSE, &r) ||
	    !r.u.version_response.version_supported)
		die("negotiate bus version 1.1");
	vmbus_msg_init(&m, VMBUS_MSG_REQUESTOFFERS);
	put_msg(&m);
	if (!expect(VMBUS_MSG_ALLOFFERS_DELIVERED, NULL) || !pipe_relid) {
		errno = ENOENT;
		die("find the pipe to the other guest among the offers");
	}
	printf("hostile: pipe \"%s\" is channel %u, %s of a pipe to domain "
	       "%u\n", argv[1], pipe_relid,
	       (pipe_peer_flags & VMBUS_OFFER_PEER_OPENER) ? "opener" :
	       "acceptor", pipe_peer_domid);
	garbage();
	if (pipe_peer_flags & VMBUS_OFFER_PEER_OPENER)
		as_opener();
	else
		as_acceptor();
	/* Leave as a client does. */
	vmbus_msg_init(&m, VMBUS_MSG_UNLOAD);
	put_msg(&m);
	check(expect(VMBUS_MSG_UNLOAD_RESPONSE, NULL), "UNLOAD is answered");
	bus_close();
	return raw_report();
}
