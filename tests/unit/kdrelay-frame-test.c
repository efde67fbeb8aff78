// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the relay's Ethernet/IPv4/UDP framing (kd-frame.c): a
 * built frame parses back to the same payload and flow with both checksums
 * right; every malformed header a guest could hand over is refused with
 * its reason, including every truncation of a good frame.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "kd-frame.h"

static const struct kd_flow flow = {
	.src_mac = { 0x02, 0, 0, 0, 0, 1 },
	.dst_mac = { 0x02, 0, 0, 0, 0, 2 },
	.src_ip = 0x0100000a,		/* 10.0.0.1 */
	.dst_ip = 0x0200000a,		/* 10.0.0.2 */
	.src_port = 0x50c3,		/* 50000 */
	.dst_port = 0x51c3,		/* 50001 */
};

static size_t good(uint8_t *f, size_t cap, size_t plen)
{
	uint8_t payload[4096];
	size_t i;

	for (i = 0; i < plen; i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	return kd_frame_build(f, cap, &flow, payload, plen);
}

/* Recompute the IPv4 header checksum after editing the header. */
static void fix_ip_csum(uint8_t *f)
{
	uint8_t *ip = f + KD_ETH_HLEN;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4, i;
	uint32_t sum = 0;

	ip[10] = ip[11] = 0;
	for (i = 0; i + 1 < ihl; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(~sum >> 8);
	ip[11] = (uint8_t)~sum;
}

static void refused(const uint8_t *f, size_t len, const char *reason)
{
	size_t off, plen;
	const char *why = NULL;

	ck_assert_int_eq(kd_frame_parse(f, len, &off, &plen, NULL, &why), -EINVAL);
	ck_assert_ptr_nonnull(why);
	ck_assert_str_eq(why, reason);
}

START_TEST(test_roundtrip)
{
	static const size_t sizes[] = { 0, 1, 17, 96, 512, 1472, 4096 - KD_FRAME_HLEN };
	uint8_t f[4096];
	unsigned int i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = good(f, sizeof(f), sizes[i]), off, plen, j;
		struct kd_flow got;
		const char *why;

		ck_assert_uint_eq(len, KD_FRAME_HLEN + sizes[i]);
		ck_assert(kd_frame_claims(f, len));
		ck_assert_int_eq(kd_frame_parse(f, len, &off, &plen, &got, &why), 0);
		ck_assert_uint_eq(off, KD_FRAME_HLEN);
		ck_assert_uint_eq(plen, sizes[i]);
		ck_assert_mem_eq(&got, &flow, sizeof(flow));
		for (j = 0; j < plen; j++)
			ck_assert_uint_eq(f[off + j], (uint8_t)(j * 7 + 1));
		/* The UDP checksum is never sent as 0 (that means "none"). */
		ck_assert(f[KD_ETH_HLEN + KD_IP4_HLEN + 6] | f[KD_ETH_HLEN + KD_IP4_HLEN + 7]);
	}
}
END_TEST

START_TEST(test_build_limits)
{
	uint8_t f[128], p[128] = { 0 };

	ck_assert_uint_eq(kd_frame_build(f, sizeof(f), &flow, p, sizeof(f) - KD_FRAME_HLEN),
			  sizeof(f));
	ck_assert_uint_eq(kd_frame_build(f, sizeof(f), &flow, p, sizeof(f) - KD_FRAME_HLEN + 1),
			  0);
	ck_assert_uint_eq(kd_frame_build(f, KD_FRAME_HLEN - 1, &flow, p, 0), 0);
}
END_TEST

START_TEST(test_every_truncation)
{
	uint8_t f[256];
	size_t len = good(f, sizeof(f), 100), n, off, plen;
	const char *why;

	for (n = 0; n < len; n++)
		ck_assert_int_eq(kd_frame_parse(f, n, &off, &plen, NULL, &why), -EINVAL);
}
END_TEST

START_TEST(test_malformed)
{
	uint8_t f[256], g[256];
	size_t len = good(f, sizeof(f), 100);
	uint8_t *ip = g + KD_ETH_HLEN, *udp = ip + KD_IP4_HLEN;

#define RESET() memcpy(g, f, sizeof(g))
	RESET(); g[12] = 0x86; g[13] = 0xdd;
	refused(g, len, "EtherType is not IPv4");
	RESET(); g[12] = 0x81; g[13] = 0x00;		/* a VLAN tag */
	refused(g, len, "EtherType is not IPv4");
	RESET(); ip[0] = 0x65; fix_ip_csum(g);
	refused(g, len, "IP version is not 4");
	RESET(); ip[0] = 0x44;
	refused(g, len, "IPv4 header length below 20");
	RESET(); ip[0] = 0x4f; fix_ip_csum(g);
	refused(g, KD_ETH_HLEN + 40, "IPv4 header longer than the frame");
	RESET(); ip[2] = 0; ip[3] = 27; fix_ip_csum(g);
	refused(g, len, "IPv4 total length too short for UDP");
	RESET(); ip[2] = 0x10; ip[3] = 0; fix_ip_csum(g);
	refused(g, len, "IPv4 total length beyond the frame");
	RESET();
	refused(g, len + 1, "bytes after the IPv4 packet");
	RESET(); ip[6] = 0x20; fix_ip_csum(g);
	refused(g, len, "IPv4 fragment");
	RESET(); ip[7] = 0x08; fix_ip_csum(g);
	refused(g, len, "IPv4 fragment");
	RESET(); ip[9] = 6; fix_ip_csum(g);
	refused(g, len, "IPv4 protocol is not UDP");
	RESET(); ip[8] ^= 1;
	refused(g, len, "bad IPv4 header checksum");
	RESET(); udp[5] ^= 1;
	refused(g, len, "UDP length disagrees with the IPv4 length");
	RESET(); udp[4] = 0; udp[5] = 4;
	refused(g, len, "UDP length disagrees with the IPv4 length");
	RESET(); udp[KD_UDP_HLEN] ^= 0x40;
	refused(g, len, "bad UDP checksum");
#undef RESET
}
END_TEST

START_TEST(test_lenient_fields)
{
	uint8_t f[256];
	size_t len = good(f, sizeof(f), 4), off, plen;
	uint8_t *ip = f + KD_ETH_HLEN, *udp = ip + KD_IP4_HLEN;
	const char *why;

	/* Zero checksums mean "not computed"; a short frame may be padded. */
	ip[10] = ip[11] = 0;
	udp[6] = udp[7] = 0;
	memset(f + len, 0xee, KD_ETH_MIN - len);
	ck_assert_int_eq(kd_frame_parse(f, KD_ETH_MIN, &off, &plen, NULL, &why), 0);
	ck_assert_uint_eq(plen, 4);
	/* IP options are skipped. */
	len = good(f, sizeof(f), 8);
	memmove(ip + 24, ip + 20, len - KD_ETH_HLEN - 20);
	ip[0] = 0x46;
	ip[2] = 0; ip[3] = 20 + 4 + 16;
	memset(ip + 20, 1, 4);			/* four NOPs */
	fix_ip_csum(f);
	ck_assert_int_eq(kd_frame_parse(f, len + 4, &off, &plen, NULL, &why), 0);
	ck_assert_uint_eq(off, KD_FRAME_HLEN + 4);
	ck_assert_uint_eq(plen, 8);
}
END_TEST

START_TEST(test_claims)
{
	uint8_t kdnet[64] = { 'M', 'D', 'B', 'G', 1, 0 };

	ck_assert(!kd_frame_claims(kdnet, sizeof(kdnet)));
	ck_assert(!kd_frame_claims((const uint8_t *)"hello", 5));
	kdnet[12] = 0x08;
	kdnet[14] = 0x45;
	ck_assert(kd_frame_claims(kdnet, sizeof(kdnet)));
	ck_assert(!kd_frame_claims(kdnet, 14));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kd-frame");
	TCase *tc = tcase_create("frame");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_build_limits);
	tcase_add_test(tc, test_every_truncation);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_lenient_fields);
	tcase_add_test(tc, test_claims);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
