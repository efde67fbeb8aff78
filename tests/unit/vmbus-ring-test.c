// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the VMBus ring (lib/vmbus/ring.c) on malloc'd memory: the
 * two endpoints of one channel share two rings, and each endpoint's signal
 * callback just counts.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vmbus/vmbus_ring.h"

#define SMALL_DATA	256u	/* data bytes of the small test rings */

struct endpoint {
	struct vmbus_ring ring;
	unsigned int signals;	/* times this endpoint signalled its peer */
	sem_t *peer_sem;	/* posted on signal, for the threaded test */
};

static void count_signal(void *arg)
{
	struct endpoint *ep = arg;

	ep->signals++;
	if (ep->peer_sem)
		sem_post(ep->peer_sem);
}

/* The channel: ring a carries client -> server, ring b server -> client. */
struct chan {
	void *a, *b;
	size_t size;
	struct endpoint client, server;
};

static void chan_setup(struct chan *c, uint32_t data_size, uint32_t features)
{
	memset(c, 0, sizeof(*c));
	c->size = VMBUS_RING_HDR_SIZE + data_size;
	c->a = malloc(c->size);	/* exact size: ASan catches any overrun */
	c->b = malloc(c->size);
	ck_assert_ptr_nonnull(c->a);
	ck_assert_ptr_nonnull(c->b);
	/* Poison the data areas: nothing may depend on zeroed memory. */
	memset(c->a, 0xa5, c->size);
	memset(c->b, 0x5a, c->size);
	ck_assert_int_eq(vmbus_ring_hdr_init(c->a, c->size, features), 0);
	ck_assert_int_eq(vmbus_ring_hdr_init(c->b, c->size, features), 0);
	ck_assert_int_eq(vmbus_ring_init(&c->client.ring, c->a, c->size,
					 c->b, c->size, count_signal,
					 &c->client), 0);
	ck_assert_int_eq(vmbus_ring_init(&c->server.ring, c->b, c->size,
					 c->a, c->size, count_signal,
					 &c->server), 0);
}

static void chan_teardown(struct chan *c)
{
	free(c->a);
	free(c->b);
}

static struct vmbus_ring_hdr *hdr_of(void *ring)
{
	return ring;
}

/* Bytes a packet with @payload in-band bytes occupies, trailer included. */
static uint32_t pkt_total(uint32_t payload)
{
	return ((16 + payload + 7) & ~7u) + 8;
}

static void fill_pattern(uint8_t *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7);
}

START_TEST(test_init_rejects_bad_sizes)
{
	struct vmbus_ring r;
	static uint8_t mem[VMBUS_RING_HDR_SIZE + 4096] __attribute__((aligned(8)));

	ck_assert_int_eq(vmbus_ring_hdr_init(mem, VMBUS_RING_HDR_SIZE, 0), -EINVAL);
	ck_assert_int_eq(vmbus_ring_hdr_init(mem, VMBUS_RING_HDR_SIZE + 60, 0), -EINVAL);
	ck_assert_int_eq(vmbus_ring_hdr_init(mem, VMBUS_RING_HDR_SIZE + 100, 0), -EINVAL);
	ck_assert_int_eq(vmbus_ring_hdr_init(NULL, sizeof(mem), 0), -EINVAL);
	ck_assert_int_eq(vmbus_ring_hdr_init(mem, sizeof(mem), 1), 0);
	ck_assert_uint_eq(hdr_of(mem)->feature_bits, 1);
	ck_assert_int_eq(vmbus_ring_init(&r, mem, sizeof(mem), mem, 100, NULL, NULL),
			 -EINVAL);
	/* A peer-written own index that is not an index is refused. */
	hdr_of(mem)->read_index = 4095;
	ck_assert_int_eq(vmbus_ring_init(&r, mem, sizeof(mem), mem, sizeof(mem),
					 NULL, NULL), -EPROTO);
}
END_TEST

START_TEST(test_inband_roundtrip)
{
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t msg[37], buf[256];

	chan_setup(&c, 4096, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	fill_pattern(msg, sizeof(msg), 1);
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)),
			 -EAGAIN);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, sizeof(msg),
						0x1122334455667788ull,
						VMBUS_PKT_FLAG_REQUEST_COMPLETION), 0);
	ck_assert_uint_eq(hdr_of(c.a)->write_index, pkt_total(sizeof(msg)));
	ck_assert_int_eq(vmbus_ring_rx_pending(&c.server.ring), pkt_total(sizeof(msg)));
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(pkt.type, VMBUS_PKT_DATA_INBAND);
	ck_assert_uint_eq(pkt.flags, VMBUS_PKT_FLAG_REQUEST_COMPLETION);
	ck_assert(pkt.trans_id == 0x1122334455667788ull);
	ck_assert_uint_eq(pkt.hdr_len, 16);
	ck_assert_uint_eq(pkt.len, 56);
	/* The payload is padded: data_len is the 8-byte rounded length. */
	ck_assert_uint_eq(pkt.data_len, 40);
	ck_assert_mem_eq(pkt.data, msg, sizeof(msg));
	ck_assert_uint_eq(hdr_of(c.a)->read_index, pkt_total(sizeof(msg)));
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)),
			 -EAGAIN);

	/* And the other direction, a completion. */
	ck_assert_int_eq(vmbus_ring_send_comp(&c.server.ring, 0x1122334455667788ull,
					      "ok", 2), 0);
	ck_assert_int_eq(vmbus_ring_recv(&c.client.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(pkt.type, VMBUS_PKT_COMP);
	ck_assert(pkt.trans_id == 0x1122334455667788ull);
	ck_assert_mem_eq(pkt.data, "ok", 2);
	chan_teardown(&c);
}
END_TEST

START_TEST(test_wraparound)
{
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t msg[128], buf[256];
	unsigned int i, wraps = 0;
	uint32_t last = 0;

	chan_setup(&c, SMALL_DATA, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	for (i = 0; i < 2000; i++) {
		uint32_t len = 1 + (i * 13) % 100, w;

		fill_pattern(msg, len, i);
		ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, len,
							i, 0), 0);
		/* Interleave: sometimes two in flight, so packets straddle the end. */
		if (i % 3 == 0)
			continue;
		while (vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)) == 0) {
			ck_assert_uint_eq(pkt.type, VMBUS_PKT_DATA_INBAND);
			ck_assert_uint_ge(pkt.data_len, 1 + (pkt.trans_id * 13) % 100);
			fill_pattern(msg, 1 + (pkt.trans_id * 13) % 100,
				     (unsigned int)pkt.trans_id);
			ck_assert_mem_eq(pkt.data, msg, 1 + (pkt.trans_id * 13) % 100);
		}
		w = hdr_of(c.a)->write_index;
		ck_assert_uint_lt(w, SMALL_DATA);
		ck_assert_uint_eq(w % 8, 0);
		if (w < last)
			wraps++;
		last = w;
	}
	ck_assert_uint_gt(wraps, 100);
	ck_assert_int_eq(c.server.ring.error, 0);
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)),
			 -EAGAIN);
	chan_teardown(&c);
}
END_TEST

START_TEST(test_never_completely_full)
{
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t msg[64] = { 0 }, buf[512];
	int i;

	chan_setup(&c, SMALL_DATA, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	/* 40-byte payloads take 64 bytes: three fit, a fourth would fill it. */
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 40, i, 0), 0);
	ck_assert_int_eq(vmbus_ring_tx_space(&c.client.ring), 64);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 40, 3, 0), -EAGAIN);
	/* 56 bytes still fit, leaving 8: free space never reaches zero. */
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 32, 4, 0), 0);
	ck_assert_int_eq(vmbus_ring_tx_space(&c.client.ring), 8);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 0, 5, 0), -EAGAIN);
	ck_assert_uint_ne(hdr_of(c.a)->write_index, hdr_of(c.a)->read_index);
	ck_assert_int_eq(vmbus_ring_rx_pending(&c.server.ring), SMALL_DATA - 8);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), -EAGAIN);
	ck_assert_int_eq(vmbus_ring_tx_space(&c.client.ring), SMALL_DATA);
	chan_teardown(&c);
}
END_TEST

START_TEST(test_too_big)
{
	struct chan c;
	uint8_t msg[SMALL_DATA] = { 0 };

	chan_setup(&c, SMALL_DATA, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	/* 16 + 232 + 8 = 256: could only fit by filling the ring completely. */
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 232, 0, 0),
			 -EMSGSIZE);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 224, 0, 0), 0);
	ck_assert_uint_eq(hdr_of(c.a)->pending_send_sz, 0);
	chan_teardown(&c);
}
END_TEST

START_TEST(test_small_buffer)
{
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t msg[100] = { 1 }, buf[256];

	chan_setup(&c, 4096, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 100, 9, 0), 0);
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, 64), -EMSGSIZE);
	ck_assert_uint_eq(pkt.len, 120);
	ck_assert_uint_eq(pkt.buf_len, 120);
	ck_assert_int_eq(c.server.ring.error, 0);
	ck_assert_int_eq(vmbus_ring_peek(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_int_eq(vmbus_ring_peek(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert(pkt.trans_id == 9);
	ck_assert_int_eq(vmbus_ring_consume(&c.server.ring), 0);
	ck_assert_int_eq(vmbus_ring_consume(&c.server.ring), -EINVAL);
	ck_assert_int_eq(vmbus_ring_peek(&c.server.ring, &pkt, buf, sizeof(buf)), -EAGAIN);
	chan_teardown(&c);
}
END_TEST

/*
 * A packet too large for the reader's buffer is passed over by the extent
 * peek checked; the next packet is read as usual, and the ring is fine.
 */
START_TEST(test_skip_oversized)
{
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t big[1000], msg[40], buf[256];

	chan_setup(&c, 4096, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	fill_pattern(big, sizeof(big), 3);
	fill_pattern(msg, sizeof(msg), 4);
	ck_assert_int_eq(vmbus_ring_skip(&c.server.ring), -EINVAL);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, big, sizeof(big), 1, 0), 0);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, sizeof(msg), 2, 0), 0);
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), -EMSGSIZE);
	ck_assert_uint_eq(pkt.len, 16 + sizeof(big));
	/* Not copied, so not consumable; but skippable, once. */
	ck_assert_int_eq(vmbus_ring_consume(&c.server.ring), -EINVAL);
	ck_assert_int_eq(vmbus_ring_skip(&c.server.ring), 0);
	ck_assert_int_eq(vmbus_ring_skip(&c.server.ring), -EINVAL);
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert(pkt.trans_id == 2);
	ck_assert_uint_eq(pkt.data_len, sizeof(msg));
	ck_assert_mem_eq(pkt.data, msg, sizeof(msg));
	ck_assert_int_eq(c.server.ring.error, 0);
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), -EAGAIN);
	/* Everything was given back to the writer. */
	ck_assert_uint_eq(hdr_of(c.a)->read_index, hdr_of(c.a)->write_index);
	chan_teardown(&c);
}
END_TEST

/* A bad trailer breaks the ring even when the buffer is too small. */
START_TEST(test_skip_needs_trailer)
{
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t big[1000] = { 0 }, buf[64];
	uint64_t bad = 0x1234;

	chan_setup(&c, 4096, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, big, sizeof(big), 1, 0), 0);
	memcpy((uint8_t *)c.a + VMBUS_RING_HDR_SIZE + 16 + sizeof(big), &bad, sizeof(bad));
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), -EPROTO);
	ck_assert_int_eq(vmbus_ring_skip(&c.server.ring), -EPROTO);
	chan_teardown(&c);
}
END_TEST

START_TEST(test_signal_empty_to_nonempty)
{
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t buf[256];

	chan_setup(&c, 4096, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, "a", 1, 1, 0), 0);
	ck_assert_uint_eq(c.client.signals, 1);
	/* Not empty any more: no further signals. */
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, "b", 1, 2, 0), 0);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, "c", 1, 3, 0), 0);
	ck_assert_uint_eq(c.client.signals, 1);
	/* Reader takes one: still not empty, still no signal. */
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, "d", 1, 4, 0), 0);
	ck_assert_uint_eq(c.client.signals, 1);
	while (vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)) == 0)
		;
	/* Reader drained it: the next packet signals again. */
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, "e", 1, 5, 0), 0);
	ck_assert_uint_eq(c.client.signals, 2);
	/* The reader never signalled: nobody was waiting for space. */
	ck_assert_uint_eq(c.server.signals, 0);
	ck_assert_uint_eq(c.server.ring.rx_signals, 0);
	chan_teardown(&c);
}
END_TEST

START_TEST(test_interrupt_mask)
{
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t buf[256];

	chan_setup(&c, 4096, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	vmbus_ring_rx_mask(&c.server.ring);
	ck_assert_uint_eq(hdr_of(c.a)->interrupt_mask, 1);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, "a", 1, 1, 0), 0);
	ck_assert_uint_eq(c.client.signals, 0);
	/* Unmasking reports what arrived silently. */
	ck_assert_int_eq(vmbus_ring_rx_unmask(&c.server.ring), pkt_total(1));
	ck_assert_uint_eq(hdr_of(c.a)->interrupt_mask, 0);
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_int_eq(vmbus_ring_rx_unmask(&c.server.ring), 0);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, "b", 1, 2, 0), 0);
	ck_assert_uint_eq(c.client.signals, 1);
	chan_teardown(&c);
}
END_TEST

START_TEST(test_pending_send_sz)
{
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t msg[128] = { 0 }, buf[256];
	int i;

	chan_setup(&c, SMALL_DATA, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	/* 8-byte payloads take 32 bytes: seven fit (224), free 32 is not > 32. */
	for (i = 0; i < 7; i++)
		ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 8, i, 0), 0);
	/* Now a 96-byte packet (72 bytes payload) does not fit. */
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 72, 7, 0), -EAGAIN);
	ck_assert_uint_eq(hdr_of(c.a)->pending_send_sz, pkt_total(72));
	ck_assert_uint_eq(c.client.ring.tx_full, 1);
	/* free 64, 96: not above 96 yet; no signal. */
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(c.server.signals, 0);
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(c.server.signals, 0);
	/* free 128 > 96: the crossing, one signal. */
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(c.server.signals, 1);
	/* Further reads do not signal again. */
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(c.server.signals, 1);
	/* The writer retries, succeeds, and withdraws its request. */
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 72, 7, 0), 0);
	ck_assert_uint_eq(hdr_of(c.a)->pending_send_sz, 0);
	while (vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)) == 0)
		;
	ck_assert_uint_eq(c.server.signals, 1);
	ck_assert_uint_eq(c.server.ring.rx_signals, 1);
	chan_teardown(&c);
}
END_TEST

START_TEST(test_pending_without_feature)
{
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t msg[128] = { 0 }, buf[256];
	int i;

	chan_setup(&c, SMALL_DATA, 0);
	for (i = 0; i < 7; i++)
		ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 8, i, 0), 0);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 72, 7, 0), -EAGAIN);
	/* Without the feature every read that frees space signals. */
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(c.server.signals, 1);
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(c.server.signals, 2);
	chan_teardown(&c);
}
END_TEST

START_TEST(test_tx_batch_signals_once)
{
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t buf[256];
	int i, n = 0;

	chan_setup(&c, 4096, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	vmbus_ring_tx_begin(&c.client.ring);
	for (i = 0; i < 50; i++)
		ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, &i, sizeof(i),
							i, 0), 0);
	/* Nothing published yet: the reader sees an empty ring, no signal. */
	ck_assert_uint_eq(hdr_of(c.a)->write_index, 0);
	ck_assert_int_eq(vmbus_ring_rx_pending(&c.server.ring), 0);
	ck_assert_uint_eq(c.client.signals, 0);
	ck_assert_int_eq(vmbus_ring_tx_commit(&c.client.ring), 0);
	ck_assert_uint_eq(c.client.signals, 1);
	ck_assert_uint_eq(c.client.ring.tx_packets, 50);
	while (vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)) == 0) {
		ck_assert(pkt.trans_id == (uint64_t)n);
		n++;
	}
	ck_assert_int_eq(n, 50);

	/* Nested batches publish at the outermost commit. */
	vmbus_ring_tx_begin(&c.client.ring);
	vmbus_ring_tx_begin(&c.client.ring);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, "x", 1, 0, 0), 0);
	ck_assert_int_eq(vmbus_ring_tx_commit(&c.client.ring), 0);
	ck_assert_uint_eq(c.client.signals, 1);
	ck_assert_int_eq(vmbus_ring_tx_commit(&c.client.ring), 0);
	ck_assert_uint_eq(c.client.signals, 2);
	chan_teardown(&c);
}
END_TEST

START_TEST(test_tx_batch_publishes_when_full)
{
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t msg[8] = { 0 }, buf[256];
	int i, rc = 0;

	chan_setup(&c, SMALL_DATA, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	vmbus_ring_tx_begin(&c.client.ring);
	for (i = 0; i < 20 && rc == 0; i++)
		rc = vmbus_ring_send_inband(&c.client.ring, msg, 8, i, 0);
	ck_assert_int_eq(rc, -EAGAIN);
	/* Out of space mid-batch: what was written is published and signalled. */
	ck_assert_uint_eq(hdr_of(c.a)->write_index, 7 * 32);
	ck_assert_uint_eq(c.client.signals, 1);
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(c.server.signals, 1);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 8, 99, 0), 0);
	ck_assert_int_eq(vmbus_ring_tx_commit(&c.client.ring), 0);
	ck_assert_uint_eq(c.client.signals, 1);
	chan_teardown(&c);
}
END_TEST

START_TEST(test_rx_batch)
{
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t msg[8] = { 0 }, buf[256];
	int i;

	chan_setup(&c, SMALL_DATA, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	for (i = 0; i < 7; i++)
		ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 8, i, 0), 0);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 72, 7, 0), -EAGAIN);
	vmbus_ring_rx_begin(&c.server.ring);
	for (i = 0; i < 7; i++)
		ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(hdr_of(c.a)->read_index, 0);
	ck_assert_uint_eq(c.server.signals, 0);
	ck_assert_int_eq(vmbus_ring_rx_commit(&c.server.ring), 0);
	ck_assert_uint_eq(hdr_of(c.a)->read_index, 7 * 32);
	ck_assert_uint_eq(c.server.signals, 1);
	chan_teardown(&c);
}
END_TEST

/* A hostile writer: scribble over the server's receive ring. */
static void write_raw(struct chan *c, uint32_t off, const void *p, size_t n)
{
	memcpy((uint8_t *)c->a + VMBUS_RING_HDR_SIZE + off, p, n);
}

START_TEST(test_hostile_indexes)
{
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t buf[256];

	chan_setup(&c, 4096, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	hdr_of(c.a)->write_index = 4096;	/* out of range */
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), -EPROTO);
	/* Sticky, even once the index looks fine again. */
	hdr_of(c.a)->write_index = 0;
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), -EPROTO);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.server.ring, "a", 1, 0, 0), -EPROTO);
	ck_assert_uint_eq(c.server.ring.errors, 1);
	chan_teardown(&c);

	chan_setup(&c, 4096, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	hdr_of(c.a)->write_index = 12;		/* unaligned */
	ck_assert_int_eq(vmbus_ring_rx_pending(&c.server.ring), -EPROTO);
	chan_teardown(&c);

	chan_setup(&c, 4096, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	hdr_of(c.b)->read_index = 4100;		/* the reader lies about its index */
	ck_assert_int_eq(vmbus_ring_send_inband(&c.server.ring, "a", 1, 0, 0), -EPROTO);
	chan_teardown(&c);

	/* Our own index in shared memory is output only. */
	chan_setup(&c, 4096, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, "a", 1, 5, 0), 0);
	hdr_of(c.a)->read_index = 2048;
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert(pkt.trans_id == 5);
	chan_teardown(&c);
}
END_TEST

static int recv_forged(const struct vmbus_pkt_desc *d, uint32_t windex,
		       uint64_t trailer, uint32_t trailer_at)
{
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t buf[8192];
	int rc;

	chan_setup(&c, 4096, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	write_raw(&c, 0, d, sizeof(*d));
	write_raw(&c, trailer_at, &trailer, sizeof(trailer));
	hdr_of(c.a)->write_index = windex;
	rc = vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf));
	chan_teardown(&c);
	return rc;
}

START_TEST(test_hostile_packets)
{
	struct vmbus_pkt_desc d = { VMBUS_PKT_DATA_INBAND, 2, 4, 0, 0 };

	/* The well-formed baseline: 32 bytes, trailer at 32. */
	ck_assert_int_eq(recv_forged(&d, 40, VMBUS_PKT_TRAILER(0), 32), 0);
	/* Trailer does not name the packet's start. */
	ck_assert_int_eq(recv_forged(&d, 40, VMBUS_PKT_TRAILER(8), 32), -EPROTO);
	ck_assert_int_eq(recv_forged(&d, 40, 1, 32), -EPROTO);
	/* len8 beyond what was published. */
	ck_assert_int_eq(recv_forged(&d, 32, VMBUS_PKT_TRAILER(0), 32), -EPROTO);
	d.len8 = 0xffff;
	ck_assert_int_eq(recv_forged(&d, 40, VMBUS_PKT_TRAILER(0), 32), -EPROTO);
	/* offset8 shorter than the descriptor, or past len8. */
	d.len8 = 4;
	d.offset8 = 1;
	ck_assert_int_eq(recv_forged(&d, 40, VMBUS_PKT_TRAILER(0), 32), -EPROTO);
	d.offset8 = 5;
	ck_assert_int_eq(recv_forged(&d, 40, VMBUS_PKT_TRAILER(0), 32), -EPROTO);
	d.offset8 = 0;
	ck_assert_int_eq(recv_forged(&d, 40, VMBUS_PKT_TRAILER(0), 32), -EPROTO);
	/* Bad types. */
	d.offset8 = 2;
	d.type = VMBUS_PKT_INVALID;
	ck_assert_int_eq(recv_forged(&d, 40, VMBUS_PKT_TRAILER(0), 32), -EPROTO);
	d.type = 0x77;
	ck_assert_int_eq(recv_forged(&d, 40, VMBUS_PKT_TRAILER(0), 32), -EPROTO);
	/* Fewer bytes published than a descriptor and trailer. */
	d.type = VMBUS_PKT_DATA_INBAND;
	ck_assert_int_eq(recv_forged(&d, 16, VMBUS_PKT_TRAILER(0), 32), -EPROTO);
}
END_TEST

START_TEST(test_xferpage_packet)
{
	struct chan c;
	struct vmbus_pkt pkt;
	struct vmbus_pkt_range in[3] = { { 100, 0 }, { 4096, 8192 }, { 1, 65535 } };
	struct vmbus_pkt_range out[4];
	struct vmbus_pkt_xferpage *xp;
	uint8_t buf[512];
	uint32_t n;
	uint16_t set;
	bool owns;

	chan_setup(&c, 4096, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	ck_assert_int_eq(vmbus_ring_send_xferpage(&c.server.ring, 7, true, in, 3, 42,
						  VMBUS_PKT_FLAG_REQUEST_COMPLETION,
						  "meta", 4), 0);
	ck_assert_int_eq(vmbus_ring_recv(&c.client.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(pkt.type, VMBUS_PKT_DATA_USING_XFER_PAGES);
	ck_assert_uint_eq(pkt.hdr_len, 24 + 3 * 8);
	ck_assert_mem_eq(pkt.data, "meta", 4);
	ck_assert_int_eq(vmbus_pkt_get_xferpage(&pkt, &set, &owns, out, 4, &n), 0);
	ck_assert_uint_eq(set, 7);
	ck_assert(owns);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(out, in, sizeof(in));
	ck_assert_int_eq(vmbus_pkt_get_xferpage(&pkt, &set, &owns, out, 2, &n), -E2BIG);
	ck_assert_int_eq(vmbus_ring_send_xferpage(&c.server.ring, 7, true, in, 0, 42,
						  0, NULL, 0), -EINVAL);

	/* A lying range_count (the packet starts with its descriptor). */
	xp = (struct vmbus_pkt_xferpage *)((uint8_t *)pkt.thdr -
					   sizeof(struct vmbus_pkt_desc));
	xp->range_count = 4;
	ck_assert_int_eq(vmbus_pkt_get_xferpage(&pkt, &set, &owns, out, 4, &n), -EINVAL);
	xp->range_count = 0x40000000;
	ck_assert_int_eq(vmbus_pkt_get_xferpage(&pkt, &set, &owns, out, 4, &n), -EINVAL);
	/* Wrong type for the decoder. */
	pkt.type = VMBUS_PKT_DATA_INBAND;
	ck_assert_int_eq(vmbus_pkt_get_xferpage(&pkt, &set, &owns, out, 4, &n), -EINVAL);
	chan_teardown(&c);
}
END_TEST

/*
 * With VMBUS_RING_RX_SLACK bytes to spare the packet lands at its ring
 * offset within a cache line; without, at the start of the buffer.  The
 * bytes are the same either way, across the wrap too.
 */
START_TEST(test_rx_placement)
{
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t msg[200], buf[256 + VMBUS_RING_RX_SLACK];
	uint32_t len, start, i;

	chan_setup(&c, 4096, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	for (i = 0; i < 300; i++) {
		len = 1 + (i * 37) % sizeof(msg);
		memset(msg, (int)i, len);
		ck_assert_int_eq(vmbus_ring_send_inband(&c.server.ring, msg, len, i, 0), 0);
		start = c.client.ring.rx.index;
		if (i % 2) {
			ck_assert_int_eq(vmbus_ring_recv(&c.client.ring, &pkt, buf + 3,
							 sizeof(buf) - 3), 0);
			ck_assert_uint_eq(((uintptr_t)pkt.thdr - 16 -
					   (uintptr_t)(c.client.ring.rx.data + start)) %
					  VMBUS_RING_RX_SLACK, 0);
		} else {
			ck_assert_int_eq(vmbus_ring_peek(&c.client.ring, &pkt, NULL, 0),
					 -EMSGSIZE);
			ck_assert_int_eq(vmbus_ring_recv(&c.client.ring, &pkt, buf,
							 pkt.buf_len), 0);
			ck_assert_ptr_eq(pkt.thdr, buf + 16);
		}
		ck_assert_uint_eq(pkt.trans_id, i);
		ck_assert_uint_eq(pkt.data_len, (len + 7) & ~7u);
		ck_assert_mem_eq(pkt.data, msg, len);
	}
	chan_teardown(&c);
}
END_TEST

/* Receive into a buffer of exactly the size the packet asks for. */
static void recv_exact(struct vmbus_ring *r, struct vmbus_pkt *pkt,
		       uint8_t **buf)
{
	ck_assert_int_eq(vmbus_ring_peek(r, pkt, NULL, 0), -EMSGSIZE);
	*buf = malloc(pkt->buf_len);	/* ASan catches a byte more */
	ck_assert_ptr_nonnull(*buf);
	ck_assert_int_eq(vmbus_ring_recv(r, pkt, *buf, pkt->buf_len), 0);
}

/*
 * In-band payloads of a page or more start on a page boundary of the data
 * area; the gap in front is neither written nor copied out; smaller ones
 * are packed.  Across the wrap too.
 */
START_TEST(test_inband_page_aligned)
{
	static const uint32_t sizes[] = { 4096, 100, 5000, 4095, 8192, 4096, 1 };
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t msg[8192], *buf, *ring;
	uint32_t i, len, start, gap;

	chan_setup(&c, 64 * 1024, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	ring = (uint8_t *)c.a + VMBUS_RING_HDR_SIZE;
	for (i = 0; i < 200; i++) {
		len = sizes[i % 7];
		start = c.client.ring.tx.index;
		gap = len < 4096 ? 0 : (4096 - (start + 16) % 4096) % 4096;
		/* Poison where the gap will be: it must stay as it is. */
		if (gap)
			ring[(start + 16) % (64 * 1024)] = 0xee;
		fill_pattern(msg, len, i);
		ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, len, i, 0), 0);
		if (gap)
			ck_assert_uint_eq(ring[(start + 16) % (64 * 1024)], 0xee);
		ck_assert_uint_eq(c.client.ring.tx.index,
				  (start + pkt_total(len) + gap) % (64 * 1024));

		recv_exact(&c.server.ring, &pkt, &buf);
		ck_assert_uint_eq(pkt.type, VMBUS_PKT_DATA_INBAND);
		ck_assert_uint_eq(pkt.trans_id, i);
		ck_assert_uint_eq(pkt.hdr_len, 16 + gap);
		ck_assert_uint_eq(pkt.thdr_len, 0);
		ck_assert_uint_eq(pkt.data_len, (len + 7) & ~7u);
		ck_assert_uint_eq(pkt.len, pkt.hdr_len + pkt.data_len);
		ck_assert_uint_eq(pkt.buf_len, 16 + pkt.data_len);
		ck_assert_mem_eq(pkt.data, msg, len);
		if (len >= 4096)
			ck_assert_uint_eq((start + pkt.hdr_len) % 4096, 0);
		free(buf);
	}
	chan_teardown(&c);
}
END_TEST

/*
 * A packed ring (tx_packed, a Hyper-V socket's channel) never leaves a gap:
 * every in-band payload sits right after its descriptor, where Linux's
 * hv_sock reads it.
 */
START_TEST(test_inband_packed)
{
	static const uint32_t sizes[] = { 4096, 100, 5000, 4095, 8192 };
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t msg[8192], *buf;
	uint32_t i, len, start;

	chan_setup(&c, 64 * 1024, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	c.client.ring.tx_packed = true;
	for (i = 0; i < 100; i++) {
		len = sizes[i % 5];
		start = c.client.ring.tx.index;
		fill_pattern(msg, len, i);
		ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, len, i, 0), 0);
		ck_assert_uint_eq(c.client.ring.tx.index,
				  (start + pkt_total(len)) % (64 * 1024));
		recv_exact(&c.server.ring, &pkt, &buf);
		ck_assert_uint_eq(pkt.hdr_len, 16);
		ck_assert_mem_eq(pkt.data, msg, len);
		free(buf);
	}
	chan_teardown(&c);
}
END_TEST

/*
 * The gap is taken only where the ring has room for it, and only where four
 * padded packets fit the ring: otherwise the packet is packed rather than
 * made to wait.
 */
START_TEST(test_inband_gap_needs_room)
{
	static const uint32_t hdr[7] = { 4096, 4088, 4088, 16, 16, 16, 16 };
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t msg[4096], *buf;
	uint32_t i;

	chan_setup(&c, 40 * 1024, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	memset(msg, 0x3c, sizeof(msg));
	/* At 0, 8200 and 16392: the payloads at 4096, 12288 and 20480. */
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 4096, i, 0), 0);
	ck_assert_uint_eq(c.client.ring.tx.index, 24584);
	/* Under a page: packed, 4024 bytes each. */
	for (i = 3; i < 6; i++)
		ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 4000, i, 0), 0);
	ck_assert_uint_eq(c.client.ring.tx.index, 36656);
	/* 4304 free: room for 4120 packed, not for the 192-byte gap too. */
	ck_assert_int_eq(vmbus_ring_tx_space(&c.client.ring), 4304);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 4096, 6, 0), 0);
	ck_assert_uint_eq(c.client.ring.tx.index, 36656 + 4120);
	for (i = 0; i < 7; i++) {
		recv_exact(&c.server.ring, &pkt, &buf);
		ck_assert_uint_eq(pkt.trans_id, i);
		ck_assert_uint_eq(pkt.hdr_len, hdr[i]);
		ck_assert_mem_eq(pkt.data, msg, pkt.data_len);
		free(buf);
	}
	chan_teardown(&c);

	/* 12 KiB of data: a padded 4 KiB packet would take more than 1/4. */
	chan_setup(&c, 12 * 1024, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, msg, 4096, 9, 0), 0);
	ck_assert_uint_eq(c.client.ring.tx.index, 4120);
	recv_exact(&c.server.ring, &pkt, &buf);
	ck_assert_uint_eq(pkt.hdr_len, 16);
	ck_assert_mem_eq(pkt.data, msg, 4096);
	free(buf);
	chan_teardown(&c);
}
END_TEST

/*
 * Any peer may leave a gap in front of an in-band payload: it is skipped,
 * not copied, and not taken for a type header.  In-band packets take none.
 */
START_TEST(test_inband_gap_from_peer)
{
	/* 16 + 40 gap + 24 payload = 80 bytes, the trailer at 80. */
	struct vmbus_pkt_desc d = { VMBUS_PKT_DATA_INBAND, 7, 10, 0, 5 };
	uint64_t trailer = VMBUS_PKT_TRAILER(0);
	struct chan c;
	struct vmbus_pkt pkt;
	uint8_t buf[40];

	chan_setup(&c, 4096, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	write_raw(&c, 0, &d, sizeof(d));
	write_raw(&c, 56, "twenty-four bytes here!", 24);
	write_raw(&c, 80, &trailer, sizeof(trailer));
	hdr_of(c.a)->write_index = 88;
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, 39), -EMSGSIZE);
	ck_assert_uint_eq(pkt.buf_len, 40);
	ck_assert_uint_eq(pkt.len, 80);
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(pkt.trans_id, 5);
	ck_assert_uint_eq(pkt.hdr_len, 56);
	ck_assert_uint_eq(pkt.thdr_len, 0);
	ck_assert_uint_eq(pkt.data_len, 24);
	ck_assert_ptr_eq(pkt.data, buf + 16);
	ck_assert_mem_eq(pkt.data, "twenty-four bytes here!", 24);
	ck_assert_uint_eq(c.server.ring.rx.index, 88);

	ck_assert_int_eq(vmbus_ring_send(&c.server.ring, VMBUS_PKT_DATA_INBAND, 0, 1,
					 "hdr", 3, "x", 1), -EINVAL);
	chan_teardown(&c);
}
END_TEST

START_TEST(test_gpadl_packet)
{
	struct chan c;
	struct vmbus_pkt pkt;
	struct vmbus_pkt_range in[2] = { { 512, 0 }, { 9000, 4096 } }, out[2];
	uint8_t buf[512];
	uint32_t n, id;

	chan_setup(&c, 4096, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	ck_assert_int_eq(vmbus_ring_send_gpadl(&c.client.ring, 0xabc, in, 2, 5, 0,
					       NULL, 0), 0);
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_int_eq(vmbus_pkt_get_gpadl(&pkt, &id, out, 2, &n), 0);
	ck_assert_uint_eq(id, 0xabc);
	ck_assert_uint_eq(n, 2);
	ck_assert_mem_eq(out, in, sizeof(in));
	ck_assert_uint_eq(pkt.data_len, 0);
	chan_teardown(&c);
}
END_TEST

START_TEST(test_gpa_direct_packet)
{
	struct chan c;
	struct vmbus_pkt pkt;
	vmbus_gref_t g1[1] = { 11 }, g2[3] = { 21, 22, 23 }, g3[2] = { 31, 32 };
	struct vmbus_gpa_desc in[3] = {
		{ 100, 0, 1, g1 },
		{ 8192, 16, 3, g2 },		/* spills into a third page */
		{ 4096, 4095, 2, g3 },
	};
	struct vmbus_gpa_desc out[3];
	vmbus_gref_t grefs[6];
	uint8_t buf[512];
	uint32_t n, i;

	chan_setup(&c, 4096, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	ck_assert_int_eq(vmbus_ring_send_gpa_direct(&c.client.ring, in, 3, 77,
						    VMBUS_PKT_FLAG_REQUEST_COMPLETION,
						    "io", 2), 0);
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(pkt.type, VMBUS_PKT_DATA_USING_GPA_DIRECT);
	/* 24 + (8+4) + (8+12) + (8+8) = 72, already aligned. */
	ck_assert_uint_eq(pkt.hdr_len, 72);
	ck_assert_mem_eq(pkt.data, "io", 2);
	ck_assert_int_eq(vmbus_pkt_get_gpa_direct(&pkt, out, 3, &n, grefs, 6), 0);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(out[i].byte_count, in[i].byte_count);
		ck_assert_uint_eq(out[i].byte_offset, in[i].byte_offset);
		ck_assert_uint_eq(out[i].gref_count, in[i].gref_count);
		ck_assert_mem_eq(out[i].grefs, in[i].grefs,
				 in[i].gref_count * sizeof(vmbus_gref_t));
	}
	ck_assert_int_eq(vmbus_pkt_get_gpa_direct(&pkt, out, 3, &n, grefs, 5), -E2BIG);
	ck_assert_int_eq(vmbus_pkt_get_gpa_direct(&pkt, out, 2, &n, grefs, 6), -E2BIG);

	/* A range needing padding: 24 + 12 = 36 -> offset8 covers 40. */
	ck_assert_int_eq(vmbus_ring_send_gpa_direct(&c.client.ring, in, 1, 78, 0,
						    NULL, 0), 0);
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(pkt.hdr_len, 40);
	ck_assert_int_eq(vmbus_pkt_get_gpa_direct(&pkt, out, 3, &n, grefs, 6), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(out[0].grefs[0], 11);

	/* Inconsistent descriptors are refused before anything is sent. */
	in[1].gref_count = 2;
	ck_assert_int_eq(vmbus_ring_send_gpa_direct(&c.client.ring, in, 3, 79, 0,
						    NULL, 0), -EINVAL);
	in[1].gref_count = 3;
	in[0].byte_offset = 4096;
	ck_assert_int_eq(vmbus_ring_send_gpa_direct(&c.client.ring, in, 3, 79, 0,
						    NULL, 0), -EINVAL);
	in[0].byte_offset = 0;
	in[0].byte_count = 0;
	ck_assert_int_eq(vmbus_ring_send_gpa_direct(&c.client.ring, in, 3, 79, 0,
						    NULL, 0), -EINVAL);
	chan_teardown(&c);
}
END_TEST

START_TEST(test_completions)
{
	struct vmbus_trans_slot slots[4];
	struct vmbus_trans_table t;
	uint64_t id[5], stale;
	void *ctx;
	int i, a = 1, b = 2;

	ck_assert_int_eq(vmbus_trans_init(&t, slots, 4), 0);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(vmbus_trans_alloc(&t, i % 2 ? &a : &b, &id[i]), 0);
	ck_assert_int_eq(vmbus_trans_alloc(&t, &a, &id[4]), -ENOSPC);
	ck_assert_int_eq(vmbus_trans_complete(&t, id[1], &ctx), 0);
	ck_assert_ptr_eq(ctx, &a);
	/* Twice: refused. */
	ck_assert_int_eq(vmbus_trans_complete(&t, id[1], &ctx), -ENOENT);
	/* The slot is reused under a new generation; the old id stays dead. */
	stale = id[1];
	ck_assert_int_eq(vmbus_trans_alloc(&t, &b, &id[1]), 0);
	ck_assert(id[1] != stale);
	ck_assert_int_eq(vmbus_trans_complete(&t, stale, &ctx), -ENOENT);
	ck_assert_int_eq(vmbus_trans_complete(&t, id[1], &ctx), 0);
	ck_assert_ptr_eq(ctx, &b);
	/* Invented ids. */
	ck_assert_int_eq(vmbus_trans_complete(&t, 0, &ctx), -ENOENT);
	ck_assert_int_eq(vmbus_trans_complete(&t, 5, &ctx), -ENOENT);
	ck_assert_int_eq(vmbus_trans_complete(&t, UINT64_MAX, &ctx), -ENOENT);
	ck_assert_uint_eq(t.inuse, 3);
}
END_TEST

START_TEST(test_stats)
{
	struct chan c;
	struct vmbus_ring_stats st;
	struct vmbus_pkt pkt;
	uint8_t buf[256];

	chan_setup(&c, 4096, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, "abc", 3, 1, 0), 0);
	ck_assert_int_eq(vmbus_ring_send_inband(&c.client.ring, "abc", 3, 2, 0), 0);
	ck_assert_int_eq(vmbus_ring_recv(&c.server.ring, &pkt, buf, sizeof(buf)), 0);
	vmbus_ring_get_stats(&c.client.ring, &st);
	ck_assert_uint_eq(st.tx_size, 4096);
	ck_assert_uint_eq(st.tx_write_index, 64);
	ck_assert_uint_eq(st.tx_read_index, 32);
	ck_assert_uint_eq(st.tx_used, 32);
	ck_assert_uint_eq(st.tx_packets, 2);
	ck_assert_uint_eq(st.tx_bytes, 64);
	ck_assert_uint_eq(st.tx_signals, 1);
	vmbus_ring_get_stats(&c.server.ring, &st);
	ck_assert_uint_eq(st.rx_write_index, 64);
	ck_assert_uint_eq(st.rx_read_index, 32);
	ck_assert_uint_eq(st.rx_used, 32);
	ck_assert_uint_eq(st.rx_packets, 1);
	ck_assert_int_eq(st.error, 0);
	chan_teardown(&c);
}
END_TEST

/*
 * Two threads stream through a small ring and sleep only on the peer's
 * signal: a lost wakeup shows up as a timeout.
 */
#define STREAM_COUNT	200000

struct stream {
	struct chan c;
	sem_t client_wake, server_wake;
	int fail;
};

static int sem_wait_timeout(sem_t *s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	return sem_timedwait(s, &ts);
}

static void *stream_reader(void *arg)
{
	struct stream *s = arg;
	struct vmbus_ring *r = &s->c.server.ring;
	struct vmbus_pkt pkt;
	uint8_t buf[512], want[200];
	uint64_t next = 0;
	int rc;

	while (next < STREAM_COUNT) {
		vmbus_ring_rx_mask(r);
		vmbus_ring_rx_begin(r);
		while ((rc = vmbus_ring_recv(r, &pkt, buf, sizeof(buf))) == 0) {
			uint32_t len = 1 + next % 200;

			fill_pattern(want, len, (unsigned int)next);
			if (pkt.trans_id != next || memcmp(pkt.data, want, len)) {
				s->fail = 1;
				return NULL;
			}
			next++;
		}
		vmbus_ring_rx_commit(r);
		if (rc != -EAGAIN) {
			s->fail = 2;
			return NULL;
		}
		if (vmbus_ring_rx_unmask(r) > 0 || next == STREAM_COUNT)
			continue;
		if (sem_wait_timeout(&s->server_wake)) {
			s->fail = 3;
			return NULL;
		}
	}
	return NULL;
}

START_TEST(test_threaded_stream)
{
	struct stream *s = calloc(1, sizeof(*s));
	struct vmbus_ring *r;
	uint8_t msg[200];
	pthread_t th;
	uint64_t i;
	int rc;

	ck_assert_ptr_nonnull(s);
	chan_setup(&s->c, 1024, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	sem_init(&s->client_wake, 0, 0);
	sem_init(&s->server_wake, 0, 0);
	s->c.client.peer_sem = &s->server_wake;
	s->c.server.peer_sem = &s->client_wake;
	r = &s->c.client.ring;
	ck_assert_int_eq(pthread_create(&th, NULL, stream_reader, s), 0);
	for (i = 0; i < STREAM_COUNT && !s->fail; ) {
		uint32_t len = 1 + i % 200;

		fill_pattern(msg, len, (unsigned int)i);
		rc = vmbus_ring_send_inband(r, msg, len, i, 0);
		if (rc == 0) {
			i++;
			continue;
		}
		ck_assert_int_eq(rc, -EAGAIN);
		ck_assert_int_eq(sem_wait_timeout(&s->client_wake), 0);
	}
	pthread_join(th, NULL);
	ck_assert_int_eq(s->fail, 0);
	/* Far fewer signals than packets in either direction. */
	ck_assert_uint_lt(s->c.client.ring.tx_signals, STREAM_COUNT / 2);
	chan_teardown(&s->c);
	free(s);
}
END_TEST

static Suite *ring_suite(void)
{
	Suite *s = suite_create("vmbus-ring");
	TCase *tc = tcase_create("ring");

	tcase_add_test(tc, test_init_rejects_bad_sizes);
	tcase_add_test(tc, test_inband_roundtrip);
	tcase_add_test(tc, test_wraparound);
	tcase_add_test(tc, test_never_completely_full);
	tcase_add_test(tc, test_too_big);
	tcase_add_test(tc, test_small_buffer);
	tcase_add_test(tc, test_skip_oversized);
	tcase_add_test(tc, test_skip_needs_trailer);
	tcase_add_test(tc, test_signal_empty_to_nonempty);
	tcase_add_test(tc, test_interrupt_mask);
	tcase_add_test(tc, test_pending_send_sz);
	tcase_add_test(tc, test_pending_without_feature);
	tcase_add_test(tc, test_tx_batch_signals_once);
	tcase_add_test(tc, test_tx_batch_publishes_when_full);
	tcase_add_test(tc, test_rx_batch);
	tcase_add_test(tc, test_hostile_indexes);
	tcase_add_test(tc, test_hostile_packets);
	tcase_add_test(tc, test_xferpage_packet);
	tcase_add_test(tc, test_rx_placement);
	tcase_add_test(tc, test_inband_page_aligned);
	tcase_add_test(tc, test_inband_packed);
	tcase_add_test(tc, test_inband_gap_needs_room);
	tcase_add_test(tc, test_inband_gap_from_peer);
	tcase_add_test(tc, test_gpadl_packet);
	tcase_add_test(tc, test_gpa_direct_packet);
	tcase_add_test(tc, test_completions);
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_threaded_stream);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ring_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
