// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the VMBus channel-message codec (lib/vmbus/msg.c): round
 * trips of every message, refusal of truncated, oversized, misdirected and
 * garbage messages, GPADLs of one and of many pages, and version
 * negotiation between old and new peers.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/vmbus_msg.h"

#define C2S VMBUS_MSG_DIR_C2S
#define S2C VMBUS_MSG_DIR_S2C

/* Encode @m, decode it as sent in @dir, and check nothing changed. */
static void roundtrip(const struct vmbus_msg *m, unsigned int dir)
{
	uint8_t wire[VMBUS_MSG_MAX_SIZE];
	struct vmbus_msg out;
	int len;

	len = vmbus_msg_encode(m, wire, sizeof(wire));
	ck_assert_int_eq(len, (int)m->len);
	ck_assert_int_eq(vmbus_msg_decode(&out, wire, (size_t)len, dir), 0);
	ck_assert_uint_eq(out.len, m->len);
	ck_assert_mem_eq(&out.u, &m->u, m->len);
	/* The other direction is refused. */
	ck_assert_int_eq(vmbus_msg_decode(&out, wire, (size_t)len,
					  dir == C2S ? S2C : C2S), -EPROTO);
	/* Truncated by one word, by one byte; grown by one word. */
	ck_assert_int_eq(vmbus_msg_decode(&out, wire, (size_t)len - 8, dir) < 0, 1);
	ck_assert_int_eq(vmbus_msg_decode(&out, wire, (size_t)len - 1, dir), -EMSGSIZE);
	if ((size_t)len + 8 <= VMBUS_MSG_MAX_SIZE) {
		memset(wire + len, 0, 8);
		ck_assert_int_eq(vmbus_msg_decode(&out, wire, (size_t)len + 8, dir) < 0, 1);
	}
}

static void fill_guid(struct vmbus_guid *g, uint8_t seed)
{
	int i;

	for (i = 0; i < 16; i++)
		g->b[i] = (uint8_t)(seed + i);
}

START_TEST(test_roundtrip_all)
{
	struct vmbus_msg m;
	uint32_t pipe = VMBUS_PIPE_TYPE_MESSAGE;

	ck_assert_int_eq(vmbus_msg_init(&m, VMBUS_MSG_INITIATE_CONTACT), 0);
	ck_assert_uint_eq(m.len, 56);
	m.u.initiate_contact.version_requested = VMBUS_VERSION(1, 3);
	m.u.initiate_contact.version_count = 2;
	m.u.initiate_contact.versions[0] = VMBUS_VERSION(1, 3);
	m.u.initiate_contact.versions[1] = VMBUS_VERSION(0, 9);
	m.u.initiate_contact.target_vcpu = 3;
	roundtrip(&m, C2S);

	vmbus_msg_init(&m, VMBUS_MSG_VERSION_RESPONSE);
	m.u.version_response.version_supported = 1;
	m.u.version_response.version = VMBUS_VERSION(1, 0);
	roundtrip(&m, S2C);

	vmbus_msg_init(&m, VMBUS_MSG_REQUESTOFFERS);
	ck_assert_uint_eq(m.len, 8);
	roundtrip(&m, C2S);

	vmbus_msg_init(&m, VMBUS_MSG_OFFERCHANNEL);
	ck_assert_uint_eq(m.len, 232);
	fill_guid(&m.u.offer.if_type, 1);
	fill_guid(&m.u.offer.if_instance, 100);
	m.u.offer.channel_flags = VMBUS_OFFER_NAMED_PIPE_MODE;
	memcpy(m.u.offer.user_data, &pipe, sizeof(pipe));
	memcpy(m.u.offer.user_data + 4, "echo", 4);
	m.u.offer.child_relid = 7;
	m.u.offer.class_version_count = 2;
	m.u.offer.class_versions[0] = VMBUS_VERSION(2, 1);
	m.u.offer.class_versions[1] = VMBUS_VERSION(1, 4);
	roundtrip(&m, S2C);
	/* Our own offer flags, known or not, travel at bytes 44-45. */
	m.u.offer.xen_flags = VMBUS_OFFER_X_REOPEN | 0x8000;
	ck_assert_uint_eq(((const uint8_t *)&m.u.offer)[44],
			  VMBUS_OFFER_X_REOPEN);
	roundtrip(&m, S2C);

	vmbus_msg_init(&m, VMBUS_MSG_ALLOFFERS_DELIVERED);
	roundtrip(&m, S2C);

	vmbus_msg_init(&m, VMBUS_MSG_OPENCHANNEL);
	ck_assert_uint_eq(m.len, 160);
	m.u.open.child_relid = 7;
	m.u.open.open_id = 99;
	m.u.open.ring_gpadl = 0x1000;
	m.u.open.downstream_page_offset = 5;
	m.u.open.class_version = VMBUS_VERSION(2, 0);
	m.u.open.event_channel = 42;
	memcpy(m.u.open.user_data, "hello", 5);
	roundtrip(&m, C2S);

	vmbus_msg_init(&m, VMBUS_MSG_OPENCHANNEL_RESULT);
	m.u.open_result.child_relid = 7;
	m.u.open_result.open_id = 99;
	m.u.open_result.status = VMBUS_STATUS_BUSY;
	roundtrip(&m, S2C);

	vmbus_msg_init(&m, VMBUS_MSG_CLOSECHANNEL);
	m.u.relid.child_relid = 7;
	roundtrip(&m, C2S);

	vmbus_msg_init(&m, VMBUS_MSG_RESCIND_CHANNELOFFER);
	m.u.relid.child_relid = 7;
	roundtrip(&m, S2C);

	vmbus_msg_init(&m, VMBUS_MSG_RELID_RELEASED);
	m.u.relid.child_relid = 7;
	roundtrip(&m, C2S);

	vmbus_msg_init(&m, VMBUS_MSG_GPADL_CREATED);
	m.u.gpadl_created.child_relid = 7;
	m.u.gpadl_created.gpadl_id = 0x1000;
	roundtrip(&m, S2C);

	vmbus_msg_init(&m, VMBUS_MSG_GPADL_TEARDOWN);
	m.u.gpadl_teardown.child_relid = 7;
	m.u.gpadl_teardown.gpadl_id = 0x1000;
	roundtrip(&m, C2S);

	vmbus_msg_init(&m, VMBUS_MSG_GPADL_TORNDOWN);
	m.u.gpadl_torndown.gpadl_id = 0x1000;
	roundtrip(&m, S2C);

	vmbus_msg_init(&m, VMBUS_MSG_UNLOAD);
	roundtrip(&m, C2S);
	vmbus_msg_init(&m, VMBUS_MSG_UNLOAD_RESPONSE);
	roundtrip(&m, S2C);
}
END_TEST

START_TEST(test_table)
{
	ck_assert_str_eq(vmbus_msg_name(VMBUS_MSG_OFFERCHANNEL), "OFFERCHANNEL");
	ck_assert_str_eq(vmbus_msg_name(VMBUS_MSG_UNLOAD_RESPONSE), "UNLOAD_RESPONSE");
	ck_assert_ptr_null(vmbus_msg_name(VMBUS_MSG_INVALID));
	ck_assert_ptr_null(vmbus_msg_name(22));	/* MODIFYCHANNEL: not here */
	ck_assert_ptr_null(vmbus_msg_name(0xffffffff));
	ck_assert_uint_eq(vmbus_msg_dir(VMBUS_MSG_TL_CONNECT_REQUEST), C2S);
	ck_assert_uint_eq(vmbus_msg_dir(VMBUS_MSG_TL_CONNECT_RESULT), S2C);
	ck_assert_uint_eq(vmbus_msg_dir(VMBUS_MSG_GPADL_BODY), C2S);
	ck_assert_uint_eq(vmbus_msg_dir(VMBUS_MSG_GPADL_TORNDOWN), S2C);
	ck_assert_uint_eq(vmbus_msg_dir(99), 0);
}
END_TEST

/* hv_sock's messages: a request round-trips; a result is only a refusal. */
START_TEST(test_tl_connect)
{
	struct vmbus_msg m;

	ck_assert_int_eq(vmbus_msg_init(&m, VMBUS_MSG_TL_CONNECT_REQUEST), 0);
	ck_assert_uint_eq(m.len, 40);
	memset(&m.u.tl_connect.host_service_id, 0x5a, 16);
	roundtrip(&m, C2S);
	ck_assert_int_eq(vmbus_msg_init(&m, VMBUS_MSG_TL_CONNECT_RESULT), 0);
	ck_assert_uint_eq(m.len, 48);
	ck_assert_int_eq(vmbus_msg_check(&m, S2C), -EINVAL);
	m.u.tl_result.status = VMBUS_TL_CONNREFUSED;
	roundtrip(&m, S2C);
}
END_TEST

START_TEST(test_garbage_rejected)
{
	uint8_t wire[512];
	struct vmbus_msg m;
	uint32_t t;

	memset(wire, 0, sizeof(wire));
	/* Unknown and reserved types. */
	for (t = 0; t < 64; t++) {
		if (vmbus_msg_name(t))
			continue;
		memcpy(wire, &t, 4);
		ck_assert_int_eq(vmbus_msg_decode(&m, wire, 8, 0), -EINVAL);
		ck_assert_int_eq(vmbus_msg_decode(&m, wire, 232, 0), -EINVAL);
	}
	t = 0xffffffffu;
	memcpy(wire, &t, 4);
	ck_assert_int_eq(vmbus_msg_decode(&m, wire, 16, 0), -EINVAL);
	/* Lengths outside the envelope. */
	t = VMBUS_MSG_REQUESTOFFERS;
	memcpy(wire, &t, 4);
	ck_assert_int_eq(vmbus_msg_decode(&m, wire, 0, 0), -EMSGSIZE);
	ck_assert_int_eq(vmbus_msg_decode(&m, wire, 4, 0), -EMSGSIZE);
	ck_assert_int_eq(vmbus_msg_decode(&m, wire, 248, 0), -EMSGSIZE);
	ck_assert_int_eq(vmbus_msg_decode(&m, wire, 512, 0), -EMSGSIZE);
	ck_assert_int_eq(vmbus_msg_decode(&m, wire, 8, C2S), 0);
	ck_assert_int_eq(vmbus_msg_decode(&m, wire, 16, C2S), -EMSGSIZE);
}
END_TEST

/* Decode a modified copy of @m as sent in @dir. */
static int decode_mod(const struct vmbus_msg *m, unsigned int dir)
{
	struct vmbus_msg out;

	return vmbus_msg_decode(&out, &m->u, m->len, dir);
}

START_TEST(test_bad_fields)
{
	struct vmbus_msg m;
	uint32_t pipe = 3;

	vmbus_msg_init(&m, VMBUS_MSG_INITIATE_CONTACT);
	m.u.initiate_contact.version_count = 0;
	ck_assert_int_eq(decode_mod(&m, C2S), -EINVAL);
	m.u.initiate_contact.version_count = 9;
	ck_assert_int_eq(decode_mod(&m, C2S), -EINVAL);
	m.u.initiate_contact.version_count = 1;
	m.u.initiate_contact.versions[0] = VMBUS_VERSION(1, 0);
	ck_assert_int_eq(decode_mod(&m, C2S), -EINVAL);	/* requested != [0] */
	m.u.initiate_contact.version_requested = VMBUS_VERSION(1, 0);
	ck_assert_int_eq(decode_mod(&m, C2S), 0);

	vmbus_msg_init(&m, VMBUS_MSG_VERSION_RESPONSE);
	m.u.version_response.version_supported = 2;
	ck_assert_int_eq(decode_mod(&m, S2C), -EINVAL);

	vmbus_msg_init(&m, VMBUS_MSG_OFFERCHANNEL);
	m.u.offer.class_version_count = 1;
	ck_assert_int_eq(decode_mod(&m, S2C), -EINVAL);	/* relid 0 */
	m.u.offer.child_relid = 1;
	ck_assert_int_eq(decode_mod(&m, S2C), 0);
	m.u.offer.class_version_count = 0;
	ck_assert_int_eq(decode_mod(&m, S2C), -EINVAL);
	m.u.offer.class_version_count = 9;
	ck_assert_int_eq(decode_mod(&m, S2C), -EINVAL);
	m.u.offer.class_version_count = 1;
	m.u.offer.channel_flags = VMBUS_OFFER_NAMED_PIPE_MODE;
	memcpy(m.u.offer.user_data, &pipe, 4);
	ck_assert_int_eq(decode_mod(&m, S2C), -EINVAL);	/* unknown pipe mode */

	vmbus_msg_init(&m, VMBUS_MSG_OPENCHANNEL);
	m.u.open.child_relid = 1;
	m.u.open.ring_gpadl = 1;
	m.u.open.event_channel = 5;
	m.u.open.downstream_page_offset = 1;
	ck_assert_int_eq(decode_mod(&m, C2S), -EINVAL);
	m.u.open.downstream_page_offset = 2;
	ck_assert_int_eq(decode_mod(&m, C2S), 0);
	m.u.open.event_channel = 0;
	ck_assert_int_eq(decode_mod(&m, C2S), -EINVAL);

	vmbus_msg_init(&m, VMBUS_MSG_OPENCHANNEL_RESULT);
	m.u.open_result.child_relid = 1;
	m.u.open_result.status = VMBUS_STATUS_MAX + 1;
	ck_assert_int_eq(decode_mod(&m, S2C), -EINVAL);

	vmbus_msg_init(&m, VMBUS_MSG_CLOSECHANNEL);
	ck_assert_int_eq(decode_mod(&m, C2S), -EINVAL);
	vmbus_msg_init(&m, VMBUS_MSG_GPADL_TORNDOWN);
	ck_assert_int_eq(decode_mod(&m, S2C), -EINVAL);
	vmbus_msg_init(&m, VMBUS_MSG_GPADL_TEARDOWN);
	m.u.gpadl_teardown.child_relid = 1;
	ck_assert_int_eq(decode_mod(&m, C2S), -EINVAL);

	/* Encoding refuses the same things. */
	{
		uint8_t wire[VMBUS_MSG_MAX_SIZE];

		ck_assert_int_eq(vmbus_msg_encode(&m, wire, sizeof(wire)), -EINVAL);
		m.u.gpadl_teardown.gpadl_id = 3;
		ck_assert_int_eq(vmbus_msg_encode(&m, wire, 8), -ENOBUFS);
		ck_assert_int_eq(vmbus_msg_encode(&m, wire, sizeof(wire)), 16);
	}
}
END_TEST

/* Bus 1.1: offers naming a peer guest and the messages that join two guests. */
START_TEST(test_peer_messages)
{
	struct vmbus_msg m;

	vmbus_msg_init(&m, VMBUS_MSG_OFFERCHANNEL);
	m.u.offer.child_relid = 3;
	m.u.offer.class_version_count = 1;
	m.u.offer.class_versions[0] = VMBUS_VERSION(1, 0);
	m.u.offer.peer_domid = 7;
	m.u.offer.peer_flags = VMBUS_OFFER_PEER_VALID | VMBUS_OFFER_PEER_OPENER;
	roundtrip(&m, S2C);
	m.u.offer.peer_flags = VMBUS_OFFER_PEER_OPENER;	/* opener of nobody */
	ck_assert_int_eq(decode_mod(&m, S2C), -EINVAL);
	m.u.offer.peer_flags = VMBUS_OFFER_PEER_VALID | 0x4;	/* unknown bit */
	ck_assert_int_eq(decode_mod(&m, S2C), -EINVAL);
	m.u.offer.peer_flags = VMBUS_OFFER_PEER_VALID;
	m.u.offer.peer_domid = VMBUS_PEER_DOMID_MAX + 1;	/* DOMID_SELF etc. */
	ck_assert_int_eq(decode_mod(&m, S2C), -EINVAL);
	m.u.offer.peer_domid = VMBUS_PEER_DOMID_MAX;
	ck_assert_int_eq(decode_mod(&m, S2C), 0);

	/* The acceptor opens without rings; half a ring description is refused. */
	vmbus_msg_init(&m, VMBUS_MSG_OPENCHANNEL);
	m.u.open.child_relid = 3;
	m.u.open.open_id = 1;
	roundtrip(&m, C2S);
	m.u.open.event_channel = 9;
	ck_assert_int_eq(decode_mod(&m, C2S), -EINVAL);

	vmbus_msg_init(&m, VMBUS_MSG_PEER_OPEN);
	ck_assert_uint_eq(m.len, 40);
	m.u.peer_open.child_relid = 3;
	m.u.peer_open.open_id = 1;
	m.u.peer_open.ring_gpadl = 0x2000;
	m.u.peer_open.downstream_page_offset = 8;
	m.u.peer_open.event_channel = 11;
	m.u.peer_open.class_version = VMBUS_VERSION(1, 0);
	m.u.peer_open.peer_domid = 7;
	roundtrip(&m, S2C);
	m.u.peer_open.downstream_page_offset = 1;
	ck_assert_int_eq(decode_mod(&m, S2C), -EINVAL);
	m.u.peer_open.downstream_page_offset = 8;
	m.u.peer_open.event_channel = 0;
	ck_assert_int_eq(decode_mod(&m, S2C), -EINVAL);
	m.u.peer_open.event_channel = 11;
	m.u.peer_open.peer_domid = 0xffff;
	ck_assert_int_eq(decode_mod(&m, S2C), -EINVAL);

	vmbus_msg_init(&m, VMBUS_MSG_PEER_OPEN_RESULT);
	m.u.open_result.child_relid = 3;
	m.u.open_result.open_id = 1;
	roundtrip(&m, C2S);
	m.u.open_result.status = VMBUS_STATUS_MAX + 1;
	ck_assert_int_eq(decode_mod(&m, C2S), -EINVAL);

	/* A forwarded GPADL travels only from the server, as its own types. */
	ck_assert_uint_eq(vmbus_msg_dir(VMBUS_MSG_PEER_GPADL_HEADER), S2C);
	ck_assert_uint_eq(vmbus_msg_dir(VMBUS_MSG_PEER_GPADL_BODY), S2C);
}
END_TEST

START_TEST(test_random_garbage)
{
	uint8_t wire[VMBUS_MSG_MAX_SIZE];
	struct vmbus_msg m;
	unsigned int seed = 12345, i, j, accepted = 0;

	for (i = 0; i < 200000; i++) {
		size_t len = 8 * (1 + rand_r(&seed) % 30);

		for (j = 0; j < len; j++)
			wire[j] = (uint8_t)rand_r(&seed);
		/* A valid type most of the time, so the checks run. */
		wire[0] = (uint8_t)(rand_r(&seed) % 20);
		wire[1] = wire[2] = wire[3] = 0;
		if (vmbus_msg_decode(&m, wire, len, 0) == 0) {
			accepted++;
			/* Anything accepted must encode back to the same bytes. */
			ck_assert_int_eq(vmbus_msg_encode(&m, wire + 0, sizeof(wire)),
					 (int)len);
		}
	}
	/* Some header-only and fixed messages get through; most do not. */
	ck_assert_uint_gt(accepted, 0);
	ck_assert_uint_lt(accepted, 200000 / 4);
}
END_TEST

/* Build a GPADL, send its messages through the codec and reassemble. */
static void gpadl_roundtrip(const struct vmbus_gpa_desc *in, uint32_t n,
			    uint32_t expect_msgs)
{
	static struct vmbus_msg msgs[400];
	static uint8_t asmbuf[VMBUS_GPADL_MAX_BUFLEN];
	static vmbus_gref_t grefs[20000];
	struct vmbus_gpa_desc out[16];
	struct vmbus_gpadl_asm a;
	uint8_t wire[VMBUS_MSG_MAX_SIZE];
	struct vmbus_msg m;
	uint32_t nr, ng, i;
	int count, len, rc;

	count = vmbus_gpadl_build(msgs, 400, 7, 0x55, in, n);
	ck_assert_int_eq(count, (int)expect_msgs);
	ck_assert_int_eq(vmbus_gpadl_asm_init(&a, asmbuf, sizeof(asmbuf)), 0);
	for (i = 0; i < (uint32_t)count; i++) {
		len = vmbus_msg_encode(&msgs[i], wire, sizeof(wire));
		ck_assert_int_gt(len, 0);
		ck_assert_int_le(len, VMBUS_MSG_MAX_SIZE);
		ck_assert_int_eq(vmbus_msg_decode(&m, wire, (size_t)len, C2S), 0);
		if (i == 0)
			rc = vmbus_gpadl_asm_header(&a, &m);
		else
			rc = vmbus_gpadl_asm_body(&a, &m);
		ck_assert_int_eq(rc, i + 1 < (uint32_t)count ? 1 : 0);
	}
	ck_assert_int_eq(vmbus_gpadl_asm_finish(&a, out, 16, &nr, grefs, 20000, &ng), 0);
	ck_assert_uint_eq(nr, n);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(out[i].byte_count, in[i].byte_count);
		ck_assert_uint_eq(out[i].byte_offset, in[i].byte_offset);
		ck_assert_uint_eq(out[i].gref_count, in[i].gref_count);
		ck_assert_mem_eq(out[i].grefs, in[i].grefs,
				 in[i].gref_count * sizeof(vmbus_gref_t));
	}
}

START_TEST(test_gpadl_one_page)
{
	vmbus_gref_t g = 0x1234;
	struct vmbus_gpa_desc r = { 4096, 0, 1, &g };

	gpadl_roundtrip(&r, 1, 1);
	ck_assert_uint_eq(vmbus_gpadl_msg_count(12), 1);
}
END_TEST

START_TEST(test_gpadl_many_pages)
{
	static vmbus_gref_t g[16400];
	struct vmbus_gpa_desc r[3];
	uint32_t i, blen;

	for (i = 0; i < 16000; i++)
		g[i] = 0x10000 + i * 3;
	/* One ring-sized range: 1000 pages. */
	r[0] = (struct vmbus_gpa_desc){ 1000 * 4096, 0, 1000, g };
	blen = 8 + 4 * 1000;
	gpadl_roundtrip(r, 1, vmbus_gpadl_msg_count(blen));
	ck_assert_uint_eq(vmbus_gpadl_msg_count(blen), 1 + (blen - 220 + 223) / 224);

	/* Several ranges with offsets, range heads falling inside bodies. */
	r[0] = (struct vmbus_gpa_desc){ 100, 4000, 2, g };
	r[1] = (struct vmbus_gpa_desc){ 300 * 4096, 12, 301, g + 2 };
	r[2] = (struct vmbus_gpa_desc){ 1, 0, 1, g + 303 };
	blen = (8 + 8) + (8 + 4 * 301) + (8 + 4);
	gpadl_roundtrip(r, 3, vmbus_gpadl_msg_count(blen));

	/* One page more than range_buflen can describe. */
	r[0] = (struct vmbus_gpa_desc){ 16382u * 4096, 0, 16382, g };
	ck_assert_int_eq(vmbus_gpadl_build(NULL, 0, 7, 1, r, 1), -E2BIG);
	/* A large one (the test's buffers stop short of the 16381 maximum). */
	r[0].gref_count = 15998;
	r[0].byte_count = 15998u * 4096;
	gpadl_roundtrip(r, 1, vmbus_gpadl_msg_count(8 + 4 * 15998));
}
END_TEST

/* One grant named twice costs the server two mappings: refused. */
START_TEST(test_gpadl_duplicate_refs)
{
	static vmbus_gref_t g[4096], scratch[4096];
	uint32_t i;

	for (i = 0; i < 4096; i++)
		g[i] = 4095 - i;
	ck_assert_int_eq(vmbus_gpa_grefs_unique(g, 4096, scratch), 0);
	/* The caller's list is left as it was. */
	ck_assert_uint_eq(g[0], 4095);
	ck_assert_uint_eq(g[4095], 0);
	ck_assert_int_eq(vmbus_gpa_grefs_unique(g, 1, scratch), 0);
	ck_assert_int_eq(vmbus_gpa_grefs_unique(g, 0, scratch), 0);
	/* Twice the same ref, far apart and side by side. */
	g[4000] = g[3];
	ck_assert_int_eq(vmbus_gpa_grefs_unique(g, 4096, scratch), -EEXIST);
	g[4000] = 4095 - 4000;
	g[11] = g[10];
	ck_assert_int_eq(vmbus_gpa_grefs_unique(g, 4096, scratch), -EEXIST);
	/* The flood's shape: one granted page named 4096 times. */
	for (i = 0; i < 4096; i++)
		g[i] = 8;
	ck_assert_int_eq(vmbus_gpa_grefs_unique(g, 4096, scratch), -EEXIST);
	ck_assert_int_eq(vmbus_gpa_grefs_unique(g, 2, scratch), -EEXIST);
	/* Extremes of the 32-bit space are distinct. */
	g[0] = 0;
	g[1] = 0xffffffffu;
	ck_assert_int_eq(vmbus_gpa_grefs_unique(g, 2, scratch), 0);
}
END_TEST

/* OPENCHANNEL's split of a ring GPADL: no wrap below 4 pages. */
START_TEST(test_gpadl_rings_split)
{
	ck_assert(vmbus_gpadl_rings_split_ok(4, 2));
	ck_assert(vmbus_gpadl_rings_split_ok(64, 2));
	ck_assert(vmbus_gpadl_rings_split_ok(64, 62));
	ck_assert(!vmbus_gpadl_rings_split_ok(64, 63));
	ck_assert(!vmbus_gpadl_rings_split_ok(64, 1));
	ck_assert(!vmbus_gpadl_rings_split_ok(64, 0));
	/* npages - 2 wraps for 0 and 1 pages: any split passed the old check. */
	ck_assert(!vmbus_gpadl_rings_split_ok(1, 2));
	ck_assert(!vmbus_gpadl_rings_split_ok(1, 0x7fffffff));
	ck_assert(!vmbus_gpadl_rings_split_ok(0, 2));
	ck_assert(!vmbus_gpadl_rings_split_ok(3, 2));
	ck_assert(!vmbus_gpadl_rings_split_ok(2, 2));
}
END_TEST

START_TEST(test_gpadl_bad_sequences)
{
	static vmbus_gref_t g[200];
	static struct vmbus_msg msgs[8];
	static uint8_t asmbuf[4096];
	struct vmbus_gpa_desc r = { 200 * 4096, 0, 200, g }, out[2];
	vmbus_gref_t grefs[300];
	struct vmbus_gpadl_asm a;
	struct vmbus_msg m;
	uint32_t nr, ng;
	int count;

	count = vmbus_gpadl_build(msgs, 8, 7, 0x55, &r, 1);
	ck_assert_int_eq(count, 4);	/* 808 bytes: 220 + 224 + 224 + 140 */
	vmbus_gpadl_asm_init(&a, asmbuf, sizeof(asmbuf));

	/* A body without a header. */
	ck_assert_int_eq(vmbus_gpadl_asm_body(&a, &msgs[1]), -EPROTO);
	/* Out of order. */
	ck_assert_int_eq(vmbus_gpadl_asm_header(&a, &msgs[0]), 1);
	ck_assert_int_eq(vmbus_gpadl_asm_body(&a, &msgs[2]), -EINVAL);
	ck_assert_int_eq(vmbus_gpadl_asm_body(&a, &msgs[1]), -EPROTO);
	/* Another GPADL's body. */
	ck_assert_int_eq(vmbus_gpadl_asm_header(&a, &msgs[0]), 1);
	m = msgs[1];
	m.u.gpadl_body.gpadl_id = 0x56;
	ck_assert_int_eq(vmbus_gpadl_asm_body(&a, &m), -EINVAL);
	/* A last body longer than what remains. */
	ck_assert_int_eq(vmbus_gpadl_asm_header(&a, &msgs[0]), 1);
	ck_assert_int_eq(vmbus_gpadl_asm_body(&a, &msgs[1]), 1);
	ck_assert_int_eq(vmbus_gpadl_asm_body(&a, &msgs[2]), 1);
	m = msgs[3];
	m.len += 8;
	ck_assert_int_eq(vmbus_gpadl_asm_body(&a, &m), -EMSGSIZE);
	/* Finish before completion. */
	ck_assert_int_eq(vmbus_gpadl_asm_header(&a, &msgs[0]), 1);
	ck_assert_int_eq(vmbus_gpadl_asm_finish(&a, out, 2, &nr, grefs, 300, &ng), -EPROTO);
	/* Complete, then one body too many. */
	ck_assert_int_eq(vmbus_gpadl_asm_header(&a, &msgs[0]), 1);
	ck_assert_int_eq(vmbus_gpadl_asm_body(&a, &msgs[1]), 1);
	ck_assert_int_eq(vmbus_gpadl_asm_body(&a, &msgs[2]), 1);
	ck_assert_int_eq(vmbus_gpadl_asm_body(&a, &msgs[3]), 0);
	ck_assert_int_eq(vmbus_gpadl_asm_body(&a, &msgs[3]), -EPROTO);
	ck_assert_int_eq(vmbus_gpadl_asm_finish(&a, out, 2, &nr, grefs, 100, &ng), -E2BIG);

	/* Bigger than the assembler's bound. */
	vmbus_gpadl_asm_init(&a, asmbuf, 512);
	ck_assert_int_eq(vmbus_gpadl_asm_header(&a, &msgs[0]), -E2BIG);

	/* A header whose counts disagree with its range buffer. */
	vmbus_gpadl_asm_init(&a, asmbuf, sizeof(asmbuf));
	m = msgs[0];
	m.u.gpadl_header.range_count = 2;
	ck_assert_int_eq(vmbus_gpadl_asm_header(&a, &m), 1);
	ck_assert_int_eq(vmbus_gpadl_asm_body(&a, &msgs[1]), 1);
	ck_assert_int_eq(vmbus_gpadl_asm_body(&a, &msgs[2]), 1);
	ck_assert_int_eq(vmbus_gpadl_asm_body(&a, &msgs[3]), 0);
	ck_assert_int_eq(vmbus_gpadl_asm_finish(&a, out, 2, &nr, grefs, 300, &ng), -EINVAL);
	/* range_buflen not a multiple of 4, zero ranges, relid/id 0. */
	m = msgs[0];
	m.u.gpadl_header.range_buflen = 810;
	ck_assert_int_eq(decode_mod(&m, C2S), -EINVAL);
	m = msgs[0];
	m.u.gpadl_header.range_count = 0;
	ck_assert_int_eq(decode_mod(&m, C2S), -EINVAL);
	m = msgs[0];
	m.u.gpadl_header.gpadl_id = 0;
	ck_assert_int_eq(decode_mod(&m, C2S), -EINVAL);
	/* A single-message GPADL padded wrongly. */
	{
		struct vmbus_gpa_desc one = { 4096, 0, 1, g };

		ck_assert_int_eq(vmbus_gpadl_build(msgs, 8, 7, 0x57, &one, 1), 1);
		ck_assert_uint_eq(msgs[0].len, 32);	/* 20 + 12 */
		msgs[0].len = 40;
		ck_assert_int_eq(decode_mod(&msgs[0], C2S), -EMSGSIZE);
	}
}
END_TEST

START_TEST(test_range_parser)
{
	uint8_t buf[64];
	struct vmbus_gpa_desc out[4];
	vmbus_gref_t grefs[8];
	uint32_t ng, w[6];

	/* byte_offset past the page, count 0, page count beyond the buffer. */
	w[0] = 10; w[1] = 4096; w[2] = 1;
	memcpy(buf, w, 12);
	ck_assert_int_eq(vmbus_gpa_parse(buf, 12, 1, out, 4, grefs, 8, &ng), -EINVAL);
	w[0] = 0; w[1] = 0;
	memcpy(buf, w, 12);
	ck_assert_int_eq(vmbus_gpa_parse(buf, 12, 1, out, 4, grefs, 8, &ng), -EINVAL);
	w[0] = 0xffffffff; w[1] = 4095;
	memcpy(buf, w, 12);
	ck_assert_int_eq(vmbus_gpa_parse(buf, 12, 1, out, 4, grefs, 8, &ng), -EINVAL);
	w[0] = 4097; w[1] = 0;
	memcpy(buf, w, 12);
	ck_assert_int_eq(vmbus_gpa_parse(buf, 12, 1, out, 4, grefs, 8, &ng), -EINVAL);
	w[0] = 4096; w[1] = 0;
	memcpy(buf, w, 12);
	ck_assert_int_eq(vmbus_gpa_parse(buf, 12, 1, out, 4, grefs, 8, &ng), 12);
	ck_assert_int_eq(vmbus_gpa_parse(buf, 12, 2, out, 4, grefs, 8, &ng), -EINVAL);
	ck_assert_int_eq(vmbus_gpa_parse(buf, 12, 1, out, 0, grefs, 8, &ng), -E2BIG);
	ck_assert_int_eq(vmbus_gpa_parse(buf, 12, 1, out, 4, grefs, 0, &ng), -E2BIG);
	ck_assert_int_eq(vmbus_gpa_parse(buf, 12, 0, out, 4, grefs, 8, &ng), -EINVAL);
}
END_TEST

START_TEST(test_versions)
{
	/* A server that speaks bus 1.3 and 2.1, needing 2.1 at least for major 2. */
	const struct vmbus_version_cap server[] = {
		{ VMBUS_VERSION(2, 1), 1 }, { VMBUS_VERSION(1, 3), 0 },
	};
	const struct vmbus_version_cap old_server[] = { { VMBUS_VERSION(1, 2), 0 } };
	const struct vmbus_version_cap picky[] = { { VMBUS_VERSION(1, 5), 2 } };
	const uint32_t old_client[] = { VMBUS_VERSION(1, 0) };
	const uint32_t new_client[] = { VMBUS_VERSION(2, 4), VMBUS_VERSION(1, 5) };
	const uint32_t v2_only[] = { VMBUS_VERSION(2, 0) };
	const uint32_t v3[] = { VMBUS_VERSION(3, 0) };
	const struct vmbus_version_cap client_caps[] = {
		{ VMBUS_VERSION(2, 4), 0 }, { VMBUS_VERSION(1, 5), 1 },
	};
	uint32_t v;

	ck_assert(vmbus_version_compatible(VMBUS_VERSION(1, 3), VMBUS_VERSION(1, 2)));
	ck_assert(vmbus_version_compatible(VMBUS_VERSION(1, 3), VMBUS_VERSION(1, 3)));
	ck_assert(!vmbus_version_compatible(VMBUS_VERSION(1, 1), VMBUS_VERSION(1, 2)));
	ck_assert(!vmbus_version_compatible(VMBUS_VERSION(2, 9), VMBUS_VERSION(1, 0)));

	/* An old client keeps working with a newer server. */
	ck_assert_int_eq(vmbus_version_choose(old_client, 1, server, 2, &v), 0);
	ck_assert_uint_eq(v, VMBUS_VERSION(1, 0));
	/* A new client gets the server's best common version, in its order. */
	ck_assert_int_eq(vmbus_version_choose(new_client, 2, server, 2, &v), 0);
	ck_assert_uint_eq(v, VMBUS_VERSION(2, 1));
	ck_assert(vmbus_version_accept(v, new_client, 2, client_caps, 2));
	/* A new client and an old server meet at the old server's minor. */
	ck_assert_int_eq(vmbus_version_choose(new_client, 2, old_server, 1, &v), 0);
	ck_assert_uint_eq(v, VMBUS_VERSION(1, 2));
	ck_assert(vmbus_version_accept(v, new_client, 2, client_caps, 2));
	/* 2.0 offered, the server needs 2.1: the major is refused. */
	ck_assert_int_eq(vmbus_version_choose(v2_only, 1, server, 2, &v),
			 -EPROTONOSUPPORT);
	/* A picky server refuses an old client. */
	ck_assert_int_eq(vmbus_version_choose(old_client, 1, picky, 1, &v),
			 -EPROTONOSUPPORT);
	/* No common major. */
	ck_assert_int_eq(vmbus_version_choose(v3, 1, server, 2, &v), -EPROTONOSUPPORT);
	ck_assert_int_eq(vmbus_version_choose(v3, 0, server, 2, &v), -EINVAL);

	/* The offering side checks the choice. */
	ck_assert(!vmbus_version_accept(VMBUS_VERSION(2, 5), new_client, 2,
					client_caps, 2));	/* above offered */
	ck_assert(!vmbus_version_accept(VMBUS_VERSION(1, 0), new_client, 2,
					client_caps, 2));	/* below need */
	ck_assert(!vmbus_version_accept(VMBUS_VERSION(3, 0), new_client, 2,
					client_caps, 2));	/* unknown major */
	ck_assert(vmbus_version_accept(VMBUS_VERSION(1, 1), new_client, 2,
				       client_caps, 2));
}
END_TEST

START_TEST(test_contact_exchange)
{
	const struct vmbus_version_cap server[] = { { VMBUS_VERSION(1, 3), 0 } };
	const struct vmbus_version_cap client[] = { { VMBUS_VERSION(1, 7), 0 } };
	uint8_t wire[VMBUS_MSG_MAX_SIZE];
	struct vmbus_msg m, in;
	uint32_t offered[1] = { VMBUS_VERSION(1, 7) }, v;
	int len;

	vmbus_msg_init(&m, VMBUS_MSG_INITIATE_CONTACT);
	m.u.initiate_contact.version_count = 1;
	m.u.initiate_contact.versions[0] = offered[0];
	m.u.initiate_contact.version_requested = offered[0];
	len = vmbus_msg_encode(&m, wire, sizeof(wire));
	ck_assert_int_eq(vmbus_msg_decode(&in, wire, (size_t)len, C2S), 0);
	ck_assert_int_eq(vmbus_version_choose(in.u.initiate_contact.versions,
					      in.u.initiate_contact.version_count,
					      server, 1, &v), 0);
	vmbus_msg_init(&m, VMBUS_MSG_VERSION_RESPONSE);
	m.u.version_response.version_supported = 1;
	m.u.version_response.version = v;
	len = vmbus_msg_encode(&m, wire, sizeof(wire));
	ck_assert_int_eq(vmbus_msg_decode(&in, wire, (size_t)len, S2C), 0);
	ck_assert(vmbus_version_accept(in.u.version_response.version, offered, 1,
				       client, 1));
	ck_assert_uint_eq(in.u.version_response.version, VMBUS_VERSION(1, 3));
}
END_TEST

/* What a peer channel's ring GPADL may look like, at both ends. */
START_TEST(test_peer_rings_shape)
{
	struct vmbus_gpa_desc r[2] = {
		{ .byte_count = 8 * VMBUS_GRANT_PAGE_SIZE, .gref_count = 8 },
		{ .byte_count = VMBUS_GRANT_PAGE_SIZE, .gref_count = 1 },
	};

	ck_assert(vmbus_gpadl_is_peer_rings(r, 1, 8));
	ck_assert(!vmbus_gpadl_is_peer_rings(r, 2, 9));	/* two ranges */
	r[0].byte_count = 3 * VMBUS_GRANT_PAGE_SIZE;
	ck_assert(!vmbus_gpadl_is_peer_rings(r, 1, 3));	/* one page a way */
	r[0].byte_count = 8 * VMBUS_GRANT_PAGE_SIZE - 16;
	ck_assert(!vmbus_gpadl_is_peer_rings(r, 1, 8));	/* not whole pages */
	r[0].byte_count = 8 * VMBUS_GRANT_PAGE_SIZE;
	r[0].byte_offset = 16;
	ck_assert(!vmbus_gpadl_is_peer_rings(r, 1, 8));	/* not on a page */
	r[0].byte_offset = 0;
	r[0].byte_count = 512 * VMBUS_GRANT_PAGE_SIZE;
	ck_assert(vmbus_gpadl_is_peer_rings(r, 1, 512));
	r[0].byte_count = 513 * VMBUS_GRANT_PAGE_SIZE;
	ck_assert(!vmbus_gpadl_is_peer_rings(r, 1, 513));	/* too large */
}
END_TEST

START_TEST(test_status_map)
{
	ck_assert_uint_eq(vmbus_status_from_errno(0), VMBUS_STATUS_SUCCESS);
	ck_assert_uint_eq(vmbus_status_from_errno(-ENOENT), VMBUS_STATUS_NOT_FOUND);
	ck_assert_uint_eq(vmbus_status_from_errno(-ENOSPC), VMBUS_STATUS_NO_RESOURCES);
	ck_assert_uint_eq(vmbus_status_from_errno(-EXDEV), VMBUS_STATUS_FAILURE);
	ck_assert_int_eq(vmbus_status_to_errno(VMBUS_STATUS_BUSY), -EBUSY);
	ck_assert_int_eq(vmbus_status_to_errno(VMBUS_STATUS_VERSION), -EPROTONOSUPPORT);
	ck_assert_int_eq(vmbus_status_to_errno(1000), -EIO);
}
END_TEST

static Suite *msg_suite(void)
{
	Suite *s = suite_create("vmbus-msg");
	TCase *tc = tcase_create("msg");

	tcase_add_test(tc, test_roundtrip_all);
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_peer_messages);
	tcase_add_test(tc, test_tl_connect);
	tcase_add_test(tc, test_garbage_rejected);
	tcase_add_test(tc, test_bad_fields);
	tcase_add_test(tc, test_random_garbage);
	tcase_add_test(tc, test_gpadl_one_page);
	tcase_add_test(tc, test_gpadl_many_pages);
	tcase_add_test(tc, test_gpadl_duplicate_refs);
	tcase_add_test(tc, test_gpadl_rings_split);
	tcase_add_test(tc, test_gpadl_bad_sequences);
	tcase_add_test(tc, test_range_parser);
	tcase_add_test(tc, test_versions);
	tcase_add_test(tc, test_contact_exchange);
	tcase_add_test(tc, test_peer_rings_shape);
	tcase_add_test(tc, test_status_map);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(msg_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
