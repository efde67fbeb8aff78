// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the decoding of packets that name memory
 * (lib/libvmbus/xfer-pkt.c): DATA_USING_GPADL, DATA_USING_XFER_PAGES,
 * ADD/RM_XFER_PAGESET through a real ring pair, then malformed type
 * headers, hostile range counts and ranges that leave the memory they
 * name, by one byte or by wrapping 32 bits.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xfer-pkt.h"

#define RING_SIZE	(VMBUS_RING_HDR_SIZE + 16384)

struct pair {
	void *m1, *m2;
	struct vmbus_ring a, b;		/* a sends on m1, b on m2 */
};

static void no_signal(void *arg)
{
	(void)arg;
}

static void pair_init(struct pair *p)
{
	p->m1 = aligned_alloc(4096, RING_SIZE);
	p->m2 = aligned_alloc(4096, RING_SIZE);
	ck_assert_ptr_nonnull(p->m1);
	ck_assert_ptr_nonnull(p->m2);
	memset(p->m1, 0, RING_SIZE);
	memset(p->m2, 0, RING_SIZE);
	ck_assert_int_eq(vmbus_ring_hdr_init(p->m1, RING_SIZE, 0), 0);
	ck_assert_int_eq(vmbus_ring_hdr_init(p->m2, RING_SIZE, 0), 0);
	ck_assert_int_eq(vmbus_ring_init(&p->a, p->m1, RING_SIZE, p->m2,
					 RING_SIZE, no_signal, NULL), 0);
	ck_assert_int_eq(vmbus_ring_init(&p->b, p->m2, RING_SIZE, p->m1,
					 RING_SIZE, no_signal, NULL), 0);
}

static void pair_free(struct pair *p)
{
	free(p->m1);
	free(p->m2);
}

START_TEST(test_xferpage_roundtrip)
{
	struct vmbus_pkt_range r[3] = { { 100, 0 }, { 1, 4095 }, { 8192, 4096 } };
	uint64_t buf[512];
	struct vmbus_xfer_hdr h;
	struct vmbus_pkt pkt;
	struct pair p;

	pair_init(&p);
	ck_assert_int_eq(vmbus_ring_send_xferpage(&p.a, 7, true, r, 3, 42,
						  VMBUS_PKT_FLAG_REQUEST_COMPLETION,
						  "abc", 3), 0);
	ck_assert_int_eq(vmbus_ring_recv(&p.b, &pkt, buf, sizeof(buf)), 0);
	ck_assert_int_eq(vmbus_xfer_decode(&pkt, &h), 0);
	ck_assert_uint_eq(h.id, 7);
	ck_assert(h.sender_owns_set);
	ck_assert_uint_eq(h.nranges, 3);
	ck_assert_mem_eq(h.ranges, r, sizeof(r));
	/* The payload comes back padded to 8 bytes, as VMBus has it. */
	ck_assert_uint_eq(pkt.data_len, 8);
	ck_assert_mem_eq(pkt.data, "abc\0\0\0\0\0", 8);
	/* Inside 12288 bytes exactly; one byte less is refused. */
	ck_assert_int_eq(vmbus_xfer_check_ranges(h.ranges, h.nranges, 12288), 0);
	ck_assert_int_eq(vmbus_xfer_check_ranges(h.ranges, h.nranges, 12287),
			 -ERANGE);
	pair_free(&p);
}
END_TEST

START_TEST(test_gpadl_and_pageset_roundtrip)
{
	struct vmbus_pkt_range r[1] = { { 1 << 20, 0 } };
	struct vmbus_pkt_xfer_pageset ps;
	uint64_t buf[512];
	struct vmbus_xfer_hdr h;
	struct vmbus_pkt pkt;
	struct pair p;

	pair_init(&p);
	ck_assert_int_eq(vmbus_ring_send_gpadl(&p.a, 0x1234, r, 1, 9, 0,
					       NULL, 0), 0);
	ck_assert_int_eq(vmbus_ring_recv(&p.b, &pkt, buf, sizeof(buf)), 0);
	ck_assert_int_eq(vmbus_xfer_decode(&pkt, &h), 0);
	ck_assert_uint_eq(h.id, 0x1234);
	ck_assert_uint_eq(h.nranges, 1);
	ck_assert_uint_eq(h.ranges[0].byte_count, 1 << 20);
	ck_assert_int_eq(vmbus_xfer_check_ranges(h.ranges, 1, 1 << 20), 0);
	ck_assert_int_eq(vmbus_xfer_check_ranges(h.ranges, 1, 4096), -ERANGE);

	memset(&ps, 0, sizeof(ps));
	ps.gpadl_id = 77;
	ps.pageset_id = 3;
	ck_assert_int_eq(vmbus_ring_send(&p.a, VMBUS_PKT_ADD_XFER_PAGESET, 0, 1,
					 (uint8_t *)&ps + 16, 8, NULL, 0), 0);
	ck_assert_int_eq(vmbus_ring_recv(&p.b, &pkt, buf, sizeof(buf)), 0);
	ck_assert_int_eq(vmbus_xfer_decode(&pkt, &h), 0);
	ck_assert_uint_eq(h.id, 3);
	ck_assert_uint_eq(h.gpadl_id, 77);
	ck_assert_uint_eq(h.nranges, 0);

	/* ADD with a longer type header is malformed. */
	ck_assert_int_eq(vmbus_ring_send(&p.a, VMBUS_PKT_RM_XFER_PAGESET, 0, 1,
					 buf, 16, NULL, 0), 0);
	ck_assert_int_eq(vmbus_ring_recv(&p.b, &pkt, buf, sizeof(buf)), 0);
	ck_assert_int_eq(vmbus_xfer_decode(&pkt, &h), -EINVAL);

	/* Other packet types are not ours. */
	ck_assert_int_eq(vmbus_ring_send_inband(&p.a, "x", 1, 0, 0), 0);
	ck_assert_int_eq(vmbus_ring_recv(&p.b, &pkt, buf, sizeof(buf)), 0);
	ck_assert_int_eq(vmbus_xfer_decode(&pkt, &h), -ENOTSUP);
	pair_free(&p);
}
END_TEST

/* A packet as the ring would return it, with a hand-made type header. */
static void fake(struct vmbus_pkt *pkt, uint16_t type, const void *thdr,
		 uint32_t len)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->type = type;
	pkt->thdr = thdr;
	pkt->thdr_len = len;
}

START_TEST(test_malformed_headers)
{
	uint32_t w[64] __attribute__((aligned(8)));
	struct vmbus_xfer_hdr h;
	struct vmbus_pkt pkt;
	uint16_t types[2] = { VMBUS_PKT_DATA_USING_XFER_PAGES,
			      VMBUS_PKT_DATA_USING_GPADL };
	unsigned int t;

	for (t = 0; t < 2; t++) {
		memset(w, 0, sizeof(w));
		/* Shorter than the fixed part. */
		fake(&pkt, types[t], w, 7);
		ck_assert_int_eq(vmbus_xfer_decode(&pkt, &h), -EINVAL);
		/* range_count 0. */
		fake(&pkt, types[t], w, 8);
		ck_assert_int_eq(vmbus_xfer_decode(&pkt, &h), -EINVAL);
		/* range_count 2, one range present. */
		w[1] = 2;
		fake(&pkt, types[t], w, 16);
		ck_assert_int_eq(vmbus_xfer_decode(&pkt, &h), -EINVAL);
		/* range_count 1, two ranges present. */
		w[1] = 1;
		fake(&pkt, types[t], w, 24);
		ck_assert_int_eq(vmbus_xfer_decode(&pkt, &h), -EINVAL);
		/* range_count whose byte size wraps 32 bits. */
		w[1] = 0x20000001;
		fake(&pkt, types[t], w, 16);
		ck_assert_int_eq(vmbus_xfer_decode(&pkt, &h), -EINVAL);
		w[1] = 0xffffffff;
		fake(&pkt, types[t], w, 256);
		ck_assert_int_eq(vmbus_xfer_decode(&pkt, &h), -EINVAL);
		/* Ranges not aligned in the caller's buffer. */
		w[1] = 1;
		fake(&pkt, types[t], (uint8_t *)w + 1, 16);
		ck_assert_int_eq(vmbus_xfer_decode(&pkt, &h), -EINVAL);
		/* The good one. */
		fake(&pkt, types[t], w, 16);
		ck_assert_int_eq(vmbus_xfer_decode(&pkt, &h), 0);
		ck_assert_uint_eq(h.nranges, 1);
	}
	/* No type header at all. */
	fake(&pkt, VMBUS_PKT_ADD_XFER_PAGESET, NULL, 0);
	ck_assert_int_eq(vmbus_xfer_decode(&pkt, &h), -EINVAL);
}
END_TEST

START_TEST(test_hostile_ranges)
{
	struct vmbus_range r;

	/* Empty. */
	r = (struct vmbus_range){ 0, 0 };
	ck_assert_int_eq(vmbus_xfer_check_ranges(&r, 1, 4096), -ERANGE);
	/* Ends one byte past. */
	r = (struct vmbus_range){ 4096, 1 };
	ck_assert_int_eq(vmbus_xfer_check_ranges(&r, 1, 4096), -ERANGE);
	/* Starts past the end. */
	r = (struct vmbus_range){ 1, 4096 };
	ck_assert_int_eq(vmbus_xfer_check_ranges(&r, 1, 4096), -ERANGE);
	/* offset + count wraps in 32 bits to a small value. */
	r = (struct vmbus_range){ 0xffffffff, 2 };
	ck_assert_int_eq(vmbus_xfer_check_ranges(&r, 1, 4096), -ERANGE);
	r = (struct vmbus_range){ 16, 0xfffffff8 };
	ck_assert_int_eq(vmbus_xfer_check_ranges(&r, 1, 4096), -ERANGE);
	/* Nothing fits in nothing. */
	r = (struct vmbus_range){ 1, 0 };
	ck_assert_int_eq(vmbus_xfer_check_ranges(&r, 1, 0), -ERANGE);
	/* The last byte, and the whole of a 64 MiB GPADL. */
	r = (struct vmbus_range){ 1, 4095 };
	ck_assert_int_eq(vmbus_xfer_check_ranges(&r, 1, 4096), 0);
	r = (struct vmbus_range){ 0xffffffff, 0 };
	ck_assert_int_eq(vmbus_xfer_check_ranges(&r, 1, 1ull << 32), 0);
	ck_assert_int_eq(vmbus_xfer_check_ranges(&r, 1, (1ull << 32) - 2),
			 -ERANGE);
}
END_TEST

/* Random type headers: decode never reads outside, ranges always fit. */
START_TEST(test_random_headers)
{
	uint32_t w[32] __attribute__((aligned(8)));
	struct vmbus_xfer_hdr h;
	struct vmbus_pkt pkt;
	unsigned int i, j, ok = 0;

	srandom(12345);
	for (i = 0; i < 200000; i++) {
		uint32_t len = (uint32_t)random() % sizeof(w);

		for (j = 0; j < 32; j++)
			w[j] = (uint32_t)random();
		if (i % 3 == 0)
			w[1] = (uint32_t)random() % 16;
		fake(&pkt, (uint16_t)(2 + random() % 8), w, len);
		if (vmbus_xfer_decode(&pkt, &h) != 0)
			continue;
		ok++;
		ck_assert_uint_le((uint64_t)h.nranges * 8, len);
		if (vmbus_xfer_check_ranges(h.ranges, h.nranges, 1u << 20) == 0)
			for (j = 0; j < h.nranges; j++)
				ck_assert_uint_le((uint64_t)h.ranges[j].byte_offset +
						  h.ranges[j].byte_count, 1u << 20);
	}
	ck_assert_uint_gt(ok, 0);
}
END_TEST

/* GPA-direct range buffers: two good ranges, then each way to lie. */
START_TEST(test_gpa_direct_ranges)
{
	uint32_t b[32], n = 0;
	struct vmbus_gpa_direct r;

	memset(b, 0, sizeof(b));
	/* reserved, count 2; 100 bytes at 4000 (2 pages); 8192 at 0 (2). */
	b[1] = 2;
	b[2] = 100; b[3] = 4000; b[4] = 11; b[5] = 12;
	b[6] = 8192; b[7] = 0; b[8] = 21; b[9] = 22;
	/* 40 bytes: padded to 40 (a multiple of 8 already). */
	ck_assert_int_eq(vmbus_gpa_direct_range(b, 40, 1, &r, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(r.byte_count, 8192);
	ck_assert_uint_eq(r.npages, 2);
	ck_assert_uint_eq(r.grefs[0], 21);
	ck_assert_uint_eq(r.grefs[1], 22);
	ck_assert_int_eq(vmbus_gpa_direct_range(b, 40, 0, &r, NULL), 0);
	ck_assert_uint_eq(r.byte_offset, 4000);
	ck_assert_uint_eq(r.npages, 2);
	ck_assert_int_eq(vmbus_gpa_direct_range(b, 40, 2, &r, NULL), -EINVAL);
	/* Padding of 8 bytes or more: not the buffer's. */
	ck_assert_int_eq(vmbus_gpa_direct_range(b, 48, 0, &r, NULL), -EBADMSG);
	/* A grant missing: the buffer ends inside the second range. */
	ck_assert_int_eq(vmbus_gpa_direct_range(b, 36, 0, &r, NULL), -EBADMSG);
	/* Counts that lie: 0, more ranges than bytes, one too many. */
	b[1] = 0;
	ck_assert_int_eq(vmbus_gpa_direct_range(b, 40, 0, &r, NULL), -EBADMSG);
	b[1] = 0xffffffff;
	ck_assert_int_eq(vmbus_gpa_direct_range(b, 40, 0, &r, NULL), -EBADMSG);
	b[1] = 3;
	ck_assert_int_eq(vmbus_gpa_direct_range(b, 40, 0, &r, NULL), -EBADMSG);
	b[1] = 1;
	/* One range of 24 bytes in 40: 16 bytes left over. */
	ck_assert_int_eq(vmbus_gpa_direct_range(b, 40, 0, &r, NULL), -EBADMSG);
	ck_assert_int_eq(vmbus_gpa_direct_range(b, 24, 0, &r, NULL), 0);
	/* An empty range, an offset beyond the page, a count that wraps. */
	b[2] = 0;
	ck_assert_int_eq(vmbus_gpa_direct_range(b, 24, 0, &r, NULL), -EBADMSG);
	b[2] = 100; b[3] = 4096;
	ck_assert_int_eq(vmbus_gpa_direct_range(b, 24, 0, &r, NULL), -EBADMSG);
	b[2] = 0xffffffff; b[3] = 4095;
	ck_assert_int_eq(vmbus_gpa_direct_range(b, 24, 0, &r, NULL), -EBADMSG);
	/* Too short for the header, misaligned, absent. */
	ck_assert_int_eq(vmbus_gpa_direct_range(b, 4, 0, &r, NULL), -EBADMSG);
	ck_assert_int_eq(vmbus_gpa_direct_range((uint8_t *)b + 2, 24, 0, &r,
						NULL), -EBADMSG);
	ck_assert_int_eq(vmbus_gpa_direct_range(NULL, 24, 0, &r, NULL),
			 -EBADMSG);
}
END_TEST

static Suite *xfer_suite(void)
{
	Suite *s = suite_create("vmbus-xfer");
	TCase *tc = tcase_create("xfer");

	tcase_add_test(tc, test_xferpage_roundtrip);
	tcase_add_test(tc, test_gpadl_and_pageset_roundtrip);
	tcase_add_test(tc, test_malformed_headers);
	tcase_add_test(tc, test_hostile_ranges);
	tcase_add_test(tc, test_random_headers);
	tcase_add_test(tc, test_gpa_direct_ranges);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(xfer_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
