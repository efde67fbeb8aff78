// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbus-gpadl-hostile: a guest bus client that floods the bus daemon with
 * GPADLs.  It speaks through its own control ring (the transport core
 * only, not libvmbus) to a daemon offering pipes (offers that take no data
 * GPADLs) and checks what is refused: a GPADL naming one grant twice, a
 * GPADL that cannot be rings, a second GPADL on an offer, rings beyond
 * the guest's mapping budget.  Two GPADLs reassembled at once, their
 * bodies interleaved, are both taken.  Speaks TAP lines prefixed with
 * "hostile:" for the calling test.
 *
 * Usage: vmbus-gpadl-hostile GO-FILE
 *   Once it holds its GPADLs it prints "hostile: holding" and waits (up
 *   to 20 s) for GO-FILE to exist, so that the test can count dom0's
 *   mappings meanwhile.
 * Exit status: 0 when every check held.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenvmbus/xenstore.h>

#include "raw-guest.h"

#define MAX_OFFERS	16
#define BIG_PAGES	600		/* 11 messages per GPADL */

/* The pipes offered, by name. */
static struct {
	uint32_t relid;
	char name[32];
} offers[MAX_OFFERS];
static unsigned int noffers;

/* Send, waiting (bounded) for room: a GPADL is many messages. */
static void send_wait(struct vmbus_msg *m)
{
	int i, rc;

	for (i = 0; i < 500; i++) {
		rc = send_msg(m);
		if (rc != -EAGAIN)
			break;
		usleep(2000);
	}
	if (rc < 0) {
		errno = -rc;
		die("send on the control ring");
	}
}

/* Every offer that goes by is noted. */
static void note_offer(const struct vmbus_msg *m)
{
	if (m->u.hdr.msgtype != VMBUS_MSG_OFFERCHANNEL || noffers >= MAX_OFFERS)
		return;
	offers[noffers].relid = m->u.offer.child_relid;
	snprintf(offers[noffers].name, sizeof(offers[noffers].name), "%.31s",
		 (const char *)m->u.offer.user_data + 4);
	noffers++;
}

static bool is_gpadl(const struct vmbus_msg *m, void *arg)
{
	return m->u.gpadl_created.gpadl_id == *(const uint32_t *)arg;
}

/*
 * The next message of type @type (and, for GPADL_CREATED, of GPADL @id)
 * within 2 s.  1 or 0.
 */
static int expect_id(uint32_t type, uint32_t id, struct vmbus_msg *out)
{
	return expect_match(type, type == VMBUS_MSG_GPADL_CREATED ?
			    is_gpadl : NULL, &id, out);
}

static uint32_t relid_of(const char *name)
{
	unsigned int i;

	for (i = 0; i < noffers; i++)
		if (strcmp(offers[i].name, name) == 0)
			return offers[i].relid;
	fprintf(stderr, "hostile: no pipe \"%s\" offered\n", name);
	exit(2);
}

/* Build a one-range GPADL of @n pages over @grefs into @msgs. */
static int build(struct vmbus_msg *msgs, uint32_t max, uint32_t relid,
		 uint32_t id, uint32_t n, const uint32_t *grefs)
{
	struct vmbus_gpa_desc r = {
		.byte_count = n * VMBUS_GRANT_PAGE_SIZE, .byte_offset = 0,
		.gref_count = n, .grefs = grefs,
	};
	int rc = vmbus_gpadl_build(msgs, max, relid, id, &r, 1);

	if (rc < 0) {
		errno = -rc;
		die("build a GPADL");
	}
	return rc;
}

/* GPADL_CREATED's status for a one-range GPADL, 0xffff if none came. */
static uint32_t gpadl_status(uint32_t relid, uint32_t id, uint32_t n,
			     const uint32_t *grefs)
{
	static struct vmbus_msg msgs[64];
	struct vmbus_msg res;
	int count, i;

	count = build(msgs, 64, relid, id, n, grefs);
	for (i = 0; i < count; i++)
		send_wait(&msgs[i]);
	if (!expect_id(VMBUS_MSG_GPADL_CREATED, id, &res))
		return 0xffff;
	return res.u.gpadl_created.status;
}

static void gpadl_teardown(uint32_t relid, uint32_t id)
{
	struct vmbus_msg m;

	vmbus_msg_init(&m, VMBUS_MSG_GPADL_TEARDOWN);
	m.u.gpadl_teardown.child_relid = relid;
	m.u.gpadl_teardown.gpadl_id = id;
	send_wait(&m);
	expect_id(VMBUS_MSG_GPADL_TORNDOWN, 0, NULL);
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
	send_wait(&m);
	if (!expect_id(VMBUS_MSG_OPENCHANNEL_RESULT, 0, &res) ||
	    res.u.open_result.open_id != open_id)
		return 0xffff;
	return res.u.open_result.status;
}

/* The daemon still answers a well-formed request. */
static int alive(void)
{
	struct vmbus_msg m;

	vmbus_msg_init(&m, VMBUS_MSG_REQUESTOFFERS);
	send_wait(&m);
	return expect_id(VMBUS_MSG_ALLOFFERS_DELIVERED, 0, NULL);
}

/* @n pages granted to dom0, rings initialised in both halves. */
static uint32_t *grant_rings(uint32_t n)
{
	uint32_t *refs = calloc(n, sizeof(*refs));
	size_t half = (size_t)n / 2 * VMBUS_GRANT_PAGE_SIZE;
	void *mem;

	if (!refs)
		die("allocate grant references");
	mem = xengntshr_share_pages(gs, 0, (int)n, refs, 1);
	if (!mem)
		die("grant pages");
	memset(mem, 0, (size_t)n * VMBUS_GRANT_PAGE_SIZE);
	vmbus_ring_hdr_init(mem, half, 0);
	vmbus_ring_hdr_init((uint8_t *)mem + half, half, 0);
	return refs;
}

static void wait_go(const char *go)
{
	int i;

	printf("hostile: holding\n");
	fflush(stdout);
	for (i = 0; i < 2000 && access(go, F_OK) != 0; i++)
		usleep(10000);
}

static void flood(const char *go)
{
	static struct vmbus_msg a[16], b[16];
	uint32_t *big = grant_rings(BIG_PAGES), *big2 = grant_rings(BIG_PAGES);
	uint32_t *r40 = grant_rings(40), *r16 = grant_rings(16);
	uint32_t p0 = relid_of("p0"), p1 = relid_of("p1");
	uint32_t p2 = relid_of("p2"), p3 = relid_of("p3");
	uint32_t dup[4] = { big[0], big[0], big[1], big[2] };
	uint32_t st, id, held = 0, taken[MAX_OFFERS] = { 0 };
	int na, nb, i, evt;
	unsigned int k;
	struct vmbus_msg res;
	int ok_a, ok_b;

	st = gpadl_status(p0, 10, 4, dup);
	check(st == VMBUS_STATUS_INVALID, "a GPADL naming one grant twice is "
	      "refused");
	st = gpadl_status(p0, 11, 1, big);
	check(st == VMBUS_STATUS_INVALID, "a one-page GPADL on a pipe (no "
	      "data GPADLs) is refused: it cannot be rings");

	/* Two GPADLs at once: headers first, then B's bodies, then A's. */
	na = build(a, 16, p0, 20, BIG_PAGES, big);
	nb = build(b, 16, p1, 21, BIG_PAGES, big2);
	send_wait(&a[0]);
	send_wait(&b[0]);
	for (i = 1; i < nb; i++)
		send_wait(&b[i]);
	for (i = 1; i < na; i++)
		send_wait(&a[i]);
	ok_b = expect_id(VMBUS_MSG_GPADL_CREATED, 21, &res) &&
	       res.u.gpadl_created.status == VMBUS_STATUS_SUCCESS;
	ok_a = expect_id(VMBUS_MSG_GPADL_CREATED, 20, &res) &&
	       res.u.gpadl_created.status == VMBUS_STATUS_SUCCESS;
	check(ok_a && ok_b, "two GPADLs of 600 pages with interleaved bodies "
	      "are both created");

	st = gpadl_status(p0, 22, 16, r16);
	check(st == VMBUS_STATUS_NO_RESOURCES, "a second GPADL on a pipe "
	      "offer is refused");

	/* Every pipe offered, GPADLs until refused: one each. */
	id = 100;
	for (k = 0; k < noffers; k++) {
		uint32_t r = offers[k].relid;

		do {
			st = gpadl_status(r, ++id, 4, r16 + 4 * (k % 4));
			if (st == VMBUS_STATUS_SUCCESS) {
				held++;
				taken[k] = id;
			}
		} while (st == VMBUS_STATUS_SUCCESS && id < 1000);
	}
	printf("hostile: %u more GPADLs taken of the flood over %u pipes\n",
	       held, noffers);
	check(held + 2 == noffers, "the flood is refused after one GPADL per "
	      "pipe offer");
	wait_go(go);

	/* Rings past the guest's budget are not mapped; small ones are. */
	evt = xenevtchn_bind_unbound_port(xce, 0);
	if (evt < 0)
		die("allocate an event channel");
	/* Make room on p2 and p3: the flood's GPADLs go. */
	for (k = 0; k < noffers; k++)
		if (taken[k] && (offers[k].relid == p2 || offers[k].relid == p3))
			gpadl_teardown(offers[k].relid, taken[k]);
	st = gpadl_status(p2, 30, 40, r40);
	check(st == VMBUS_STATUS_SUCCESS, "a 40-page ring GPADL is created "
	      "(not mapped)");
	st = open_status(p2, 30, 20, (uint32_t)evt);
	check(st == VMBUS_STATUS_NO_RESOURCES, "opening it would pass the "
	      "guest's budget: refused with no resources");
	st = open_status(p0, 20, 300, (uint32_t)evt);
	check(st == VMBUS_STATUS_NO_RESOURCES, "opening the 600-page rings "
	      "is refused too");
	st = gpadl_status(p3, 31, 16, r16);
	check(st == VMBUS_STATUS_SUCCESS, "a 16-page ring GPADL is created");
	st = open_status(p3, 31, 8, (uint32_t)evt);
	check(st == VMBUS_STATUS_SUCCESS, "16-page rings within the budget "
	      "open");
	check(alive(), "the bus still answers");
	/* The grants end with the process; the lists are ours to free. */
	free(big);
	free(big2);
	free(r40);
	free(r16);
}

int main(int argc, char **argv)
{
	struct vmbus_msg m, r;

	if (argc != 2) {
		fprintf(stderr, "usage: vmbus-gpadl-hostile GO-FILE\n");
		return 2;
	}
	raw_open();
	raw_seen = note_offer;
	bus_connect();
	vmbus_msg_init(&m, VMBUS_MSG_INITIATE_CONTACT);
	m.u.initiate_contact.version_requested = VMBUS_BUS_VERSION_1_1;
	m.u.initiate_contact.version_count = 1;
	m.u.initiate_contact.versions[0] = VMBUS_BUS_VERSION_1_1;
	send_wait(&m);
	if (!expect_id(VMBUS_MSG_VERSION_RESPONSE, 0, &r) ||
	    !r.u.version_response.version_supported)
		die("negotiate bus version 1.1");
	vmbus_msg_init(&m, VMBUS_MSG_REQUESTOFFERS);
	send_wait(&m);
	if (!expect_id(VMBUS_MSG_ALLOFFERS_DELIVERED, 0, NULL) || noffers < 4) {
		errno = ENOENT;
		die("find pipes p0 to p3 among the offers");
	}
	flood(argv[1]);
	/* Leave as a client does. */
	vmbus_msg_init(&m, VMBUS_MSG_UNLOAD);
	send_wait(&m);
	check(expect_id(VMBUS_MSG_UNLOAD_RESPONSE, 0, NULL), "UNLOAD is answered");
	bus_close();
	return raw_report();
}
