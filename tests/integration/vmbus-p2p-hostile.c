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

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include <xenvmbus/xenstore.h>

#include "vmbus/vmbus_msg.h"
#include "vmbus/vmbus_ring.h"

#define CTL_ORDER	4
#define CTL_PAGES	(1u << CTL_ORDER)

static struct xs_handle *xs;
static xengntshr_handle *gs;
static xenevtchn_handle *xce;
static int port = -1;
static struct vmbus_ring ctl;
static char be[128];
static int failures, checks;

/* What the server offered: the pipe we are after. */
static uint32_t pipe_relid;
static uint16_t pipe_peer_flags, pipe_peer_domid;

static void check(int ok, const char *what)
{
	checks++;
	if (!ok)
		failures++;
	printf("hostile: %s - %s\n", ok ? "ok" : "FAILED", what);
	fflush(stdout);
}

static void die(const char *what)
{
	fprintf(stderr, "hostile: failed to %s (%s)\n", what, strerror(errno));
	exit(2);
}

static void signal_port(void *arg)
{
	(void)arg;
	xenevtchn_notify(xce, (evtchn_port_t)port);
}

static int xs_state(const char *dir)
{
	char path[160], *v;
	int st;

	snprintf(path, sizeof(path), "%s/state", dir);
	v = xs_read(xs, XBT_NULL, path, NULL);
	st = v ? atoi(v) : -1;
	free(v);
	return st;
}

static void xs_put(const char *dir, const char *key, unsigned long v)
{
	char path[160], val[32];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	snprintf(val, sizeof(val), "%lu", v);
	if (!xs_write(xs, XBT_NULL, path, val, (unsigned int)strlen(val)))
		die("write xenstore");
}

static void wait_backend(int state)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (xs_state(be) == state)
			return;
		usleep(10000);
	}
	errno = ETIMEDOUT;
	die("see the backend reach its state");
}

/* The frontend handshake, as any bus driver does it. */
static void bus_connect(void)
{
	const char *fe = "device/vmbus/0";
	uint32_t refs[CTL_PAGES], i;
	char path[64], *v;
	size_t half = CTL_PAGES / 2 * VMBUS_GRANT_PAGE_SIZE;
	void *mem;

	v = xs_read(xs, XBT_NULL, "device/vmbus/0/backend", NULL);
	if (!v)
		die("read device/vmbus/0/backend");
	snprintf(be, sizeof(be), "%s", v);
	free(v);
	xs_put(fe, "state", 1);
	wait_backend(2);
	mem = xengntshr_share_pages(gs, 0, CTL_PAGES, refs, 1);
	if (!mem)
		die("grant the control rings");
	memset(mem, 0, CTL_PAGES * VMBUS_GRANT_PAGE_SIZE);
	vmbus_ring_hdr_init(mem, half, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	vmbus_ring_hdr_init((uint8_t *)mem + half, half,
			    VMBUS_RING_FEAT_PENDING_SEND_SZ);
	port = xenevtchn_bind_unbound_port(xce, 0);
	if (port < 0)
		die("allocate an event channel");
	if (vmbus_ring_init(&ctl, mem, half, (uint8_t *)mem + half, half,
			    signal_port, NULL))
		die("attach the control rings");
	xs_put(fe, "ring-page-order", CTL_ORDER);
	for (i = 0; i < CTL_PAGES; i++) {
		snprintf(path, sizeof(path), "ring-ref%u", i);
		xs_put(fe, path, refs[i]);
	}
	xs_put(fe, "event-channel", (unsigned long)port);
	xs_put(fe, "state", 3);
	wait_backend(4);
	xs_put(fe, "state", 4);
}

static void send_raw(const void *buf, size_t len)
{
	if (vmbus_ring_send_inband(&ctl, buf, len, 0, 0) < 0)
		die("send on the control ring");
}

static void send_msg(struct vmbus_msg *m)
{
	send_raw(&m->u, m->len);
}

/* The next message of type @type within 2 s (others are noted), or 0. */
static int expect(uint32_t type, struct vmbus_msg *out)
{
	uint64_t buf[64];
	struct vmbus_pkt pkt;
	struct vmbus_msg m;
	int i, rc;
	xenevtchn_port_or_error_t p;

	for (i = 0; i < 200; i++) {
		rc = vmbus_ring_recv(&ctl, &pkt, buf, sizeof(buf));
		if (rc == -EAGAIN) {
			struct pollfd pf = { .fd = xenevtchn_fd(xce),
					     .events = POLLIN };

			if (poll(&pf, 1, 10) > 0) {
				p = xenevtchn_pending(xce);
				if (p >= 0)
					xenevtchn_unmask(xce, (evtchn_port_t)p);
			}
			continue;
		}
		if (rc < 0)
			die("receive on the control ring");
		if (vmbus_msg_decode(&m, pkt.data, pkt.data_len,
				     VMBUS_MSG_DIR_S2C) < 0)
			continue;
		if (m.u.hdr.msgtype == VMBUS_MSG_OFFERCHANNEL &&
		    (m.u.offer.peer_flags & VMBUS_OFFER_PEER_VALID)) {
			pipe_relid = m.u.offer.child_relid;
			pipe_peer_flags = m.u.offer.peer_flags;
			pipe_peer_domid = m.u.offer.peer_domid;
		}
		if (m.u.hdr.msgtype == type) {
			if (out)
				*out = m;
			return 1;
		}
	}
	return 0;
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
		send_msg(&msgs[i]);
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
	send_msg(&m);
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
	send_msg(&m);
}

/* The daemon still answers a well-formed request. */
static int alive(void)
{
	struct vmbus_msg m;

	vmbus_msg_init(&m, VMBUS_MSG_REQUESTOFFERS);
	send_msg(&m);
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
	send_msg(&m);
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
	setvbuf(stdout, NULL, _IOLBF, 0);
	xs = xs_open(0);
	gs = xengntshr_open(NULL, 0);
	xce = xenevtchn_open(NULL, 0);
	if (!xs || !gs || !xce)
		die("open the Xen devices");
	bus_connect();
	vmbus_msg_init(&m, VMBUS_MSG_INITIATE_CONTACT);
	m.u.initiate_contact.version_requested = VMBUS_BUS_VERSION_1_1;
	m.u.initiate_contact.version_count = 1;
	m.u.initiate_contact.versions[0] = VMBUS_BUS_VERSION_1_1;
	send_msg(&m);
	if (!expect(VMBUS_MSG_VERSION_RESPONSE, &r) ||
	    !r.u.version_response.version_supported)
		die("negotiate bus version 1.1");
	vmbus_msg_init(&m, VMBUS_MSG_REQUESTOFFERS);
	send_msg(&m);
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
	send_msg(&m);
	check(expect(VMBUS_MSG_UNLOAD_RESPONSE, NULL), "UNLOAD is answered");
	xs_put("device/vmbus/0", "state", 6);
	wait_backend(6);
	printf("hostile: %d of %d checks held\n", checks - failures, checks);
	return failures ? 1 : 0;
}
