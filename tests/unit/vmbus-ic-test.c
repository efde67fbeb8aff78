// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the integration service messages (lib/vmbus/ic.c): what
 * the builder writes parses back; truncated, padded, mis-sized and
 * mis-flagged packets; the version negotiation of both ends (Linux's
 * choice among the host's lists, no common version, an old guest); the
 * UTF-8 / UTF-16LE conversions of the key/value exchange.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/vmbus_ic.h"
#include "vmbus/vmbus_msg.h"

static const uint32_t host_fw[] = { VMBUS_IC_FW_1_0, VMBUS_IC_FW_3_0 };
static const uint32_t host_sd[] = { VMBUS_IC_VER(1, 0), VMBUS_IC_VER(3, 0),
				    VMBUS_IC_VER(3, 1), VMBUS_IC_VER(3, 2) };

START_TEST(test_build_parse)
{
	struct vmbus_ic_heartbeat hb = { .seq = 41 };
	uint8_t buf[256];
	struct vmbus_ic_msg m;
	int n;

	n = vmbus_ic_build(buf, sizeof(buf), VMBUS_IC_MSG_HEARTBEAT,
			   VMBUS_IC_FW_3_0, VMBUS_IC_VER(3, 0),
			   VMBUS_IC_FLAG_TRANSACTION | VMBUS_IC_FLAG_REQUEST,
			   &hb, sizeof(hb));
	ck_assert_int_eq(n, VMBUS_IC_HDRS_SIZE + 40);
	ck_assert_int_eq(vmbus_ic_parse(buf, (size_t)n, &m), 0);
	ck_assert_uint_eq(m.hdr.type, VMBUS_IC_MSG_HEARTBEAT);
	ck_assert_uint_eq(m.hdr.size, 40);
	ck_assert_uint_eq(m.hdr.framework.major, 3);
	ck_assert_uint_eq(m.room, 40);
	ck_assert_mem_eq(m.body, &hb, sizeof(hb));
	/* Padded to 8 bytes, as a VMBus packet is: the pipe header rules. */
	memset(buf + n, 0xee, 8);
	ck_assert_int_eq(vmbus_ic_parse(buf, (size_t)n + 4, &m), 0);
	ck_assert_uint_eq(m.room, 40);
	/* Too small for what it says, or for the headers. */
	ck_assert_int_eq(vmbus_ic_parse(buf, (size_t)n - 1, &m), -EPROTO);
	ck_assert_int_eq(vmbus_ic_parse(buf, VMBUS_IC_HDRS_SIZE - 1, &m), -EMSGSIZE);
	ck_assert_int_eq(vmbus_ic_build(buf, 60, VMBUS_IC_MSG_HEARTBEAT, 0, 0,
					0, &hb, sizeof(hb)), -E2BIG);
}
END_TEST

START_TEST(test_hostile_headers)
{
	uint8_t buf[128];
	struct vmbus_ic_pipe_hdr ph;
	struct vmbus_ic_hdr h;
	struct vmbus_ic_msg m;
	int n;

	n = vmbus_ic_build(buf, sizeof(buf), VMBUS_IC_MSG_SHUTDOWN, 0, 0,
			   VMBUS_IC_FLAG_RESPONSE, "abcdefgh", 8);
	ck_assert_int_eq(n, 36);
	/* The body size beyond the message. */
	memcpy(&h, buf + 8, sizeof(h));
	h.size = 9;
	memcpy(buf + 8, &h, sizeof(h));
	ck_assert_int_eq(vmbus_ic_parse(buf, (size_t)n, &m), -EMSGSIZE);
	h.size = 0xffff;
	memcpy(buf + 8, &h, sizeof(h));
	ck_assert_int_eq(vmbus_ic_parse(buf, (size_t)n, &m), -EMSGSIZE);
	h.size = 8;
	/* Neither a request nor a response, or both. */
	h.flags = VMBUS_IC_FLAG_TRANSACTION;
	memcpy(buf + 8, &h, sizeof(h));
	ck_assert_int_eq(vmbus_ic_parse(buf, (size_t)n, &m), -EPROTO);
	h.flags = VMBUS_IC_FLAG_REQUEST | VMBUS_IC_FLAG_RESPONSE;
	memcpy(buf + 8, &h, sizeof(h));
	ck_assert_int_eq(vmbus_ic_parse(buf, (size_t)n, &m), -EPROTO);
	h.flags = VMBUS_IC_FLAG_RESPONSE;
	memcpy(buf + 8, &h, sizeof(h));
	ck_assert_int_eq(vmbus_ic_parse(buf, (size_t)n, &m), 0);
	/* The pipe header: its flag, a size below the header or past the end. */
	memcpy(&ph, buf, sizeof(ph));
	ph.flags = 2;
	memcpy(buf, &ph, sizeof(ph));
	ck_assert_int_eq(vmbus_ic_parse(buf, (size_t)n, &m), -EPROTO);
	ph.flags = VMBUS_IC_PIPE_DATA;
	ph.size = 19;
	memcpy(buf, &ph, sizeof(ph));
	ck_assert_int_eq(vmbus_ic_parse(buf, (size_t)n, &m), -EPROTO);
	ph.size = 0xffffffffu;
	memcpy(buf, &ph, sizeof(ph));
	ck_assert_int_eq(vmbus_ic_parse(buf, (size_t)n, &m), -EPROTO);
}
END_TEST

/* The guest's answer to the host's shutdown negotiation, as Linux. */
static int answer(const uint32_t *gfw, unsigned int nfw, const uint32_t *gmsg,
		  unsigned int nmsg, uint32_t *fw, uint32_t *msg,
		  uint32_t *hfw, uint32_t *hmsg)
{
	uint8_t buf[256];
	struct vmbus_ic_msg m;
	int n, rc;

	n = vmbus_ic_negotiate_build(buf, sizeof(buf), host_fw, 2, host_sd, 4);
	ck_assert_int_eq(n, VMBUS_IC_HDRS_SIZE + 8 + 6 * 4);
	rc = vmbus_ic_negotiate_answer(buf, (size_t)n, gfw, nfw, gmsg, nmsg,
				       fw, msg);
	ck_assert_int_eq(vmbus_ic_parse(buf, (size_t)n, &m), 0);
	ck_assert_uint_eq(m.hdr.flags, VMBUS_IC_FLAG_TRANSACTION |
					VMBUS_IC_FLAG_RESPONSE);
	return rc ? rc : vmbus_ic_negotiate_result(&m, host_fw, 2, host_sd, 4,
						   hfw, hmsg);
}

START_TEST(test_negotiation)
{
	static const uint32_t linux_fw[] = { VMBUS_IC_FW_3_0, VMBUS_IC_FW_1_0 };
	static const uint32_t linux_sd[] = { VMBUS_IC_VER(3, 2), VMBUS_IC_VER(3, 1),
					     VMBUS_IC_VER(3, 0), VMBUS_IC_VER(1, 0) };
	static const uint32_t old[] = { VMBUS_IC_VER(1, 0) };
	static const uint32_t none[] = { VMBUS_IC_VER(9, 9) };
	uint32_t fw, msg, hfw, hmsg;

	ck_assert_int_eq(answer(linux_fw, 2, linux_sd, 4, &fw, &msg, &hfw,
				&hmsg), 0);
	ck_assert_uint_eq(hfw, VMBUS_IC_FW_3_0);
	ck_assert_uint_eq(hmsg, VMBUS_IC_VER(3, 2));
	ck_assert_uint_eq(fw, hfw);
	ck_assert_uint_eq(msg, hmsg);
	/* An old guest gets the old versions. */
	ck_assert_int_eq(answer(old, 1, old, 1, &fw, &msg, &hfw, &hmsg), 0);
	ck_assert_uint_eq(hfw, VMBUS_IC_FW_1_0);
	ck_assert_uint_eq(hmsg, VMBUS_IC_VER(1, 0));
	/* Nothing in common: counts 0 and 0, said to both ends. */
	ck_assert_int_eq(answer(linux_fw, 2, none, 1, &fw, &msg, &hfw, &hmsg),
			 -EPROTONOSUPPORT);
}
END_TEST

START_TEST(test_negotiation_hostile)
{
	uint8_t buf[256];
	struct vmbus_ic_negotiate ng;
	struct vmbus_ic_msg m;
	uint32_t fw, msg;
	int n;

	n = vmbus_ic_negotiate_build(buf, sizeof(buf), host_fw, 2, host_sd, 4);
	/* Counts beyond the packet, or beyond Linux's bound. */
	memcpy(&ng, buf + VMBUS_IC_HDRS_SIZE, sizeof(ng));
	ng.message_count = 5;
	memcpy(buf + VMBUS_IC_HDRS_SIZE, &ng, sizeof(ng));
	ck_assert_int_eq(vmbus_ic_negotiate_answer(buf, (size_t)n, host_fw, 2,
						   host_sd, 4, &fw, &msg),
			 -EMSGSIZE);
	ng.message_count = 101;
	memcpy(buf + VMBUS_IC_HDRS_SIZE, &ng, sizeof(ng));
	ck_assert_int_eq(vmbus_ic_negotiate_answer(buf, (size_t)n, host_fw, 2,
						   host_sd, 4, &fw, &msg),
			 -EPROTO);
	/* An answer of two framework versions is not an answer. */
	ng.framework_count = 2;
	ng.message_count = 1;
	memcpy(buf + VMBUS_IC_HDRS_SIZE, &ng, sizeof(ng));
	buf[8 + 17] = VMBUS_IC_FLAG_TRANSACTION | VMBUS_IC_FLAG_RESPONSE;
	ck_assert_int_eq(vmbus_ic_parse(buf, (size_t)n, &m), 0);
	ck_assert_int_eq(vmbus_ic_negotiate_result(&m, host_fw, 2, host_sd, 4,
						   &fw, &msg), -EPROTO);
	/* One of each, but a version the host never offered (found by
	 * fuzz-ic: a guest answering 0.0). */
	ng.framework_count = 1;
	memcpy(buf + VMBUS_IC_HDRS_SIZE, &ng, sizeof(ng));
	memset(buf + VMBUS_IC_HDRS_SIZE + 8, 0, 8);
	ck_assert_int_eq(vmbus_ic_parse(buf, (size_t)n, &m), 0);
	ck_assert_int_eq(vmbus_ic_negotiate_result(&m, host_fw, 2, host_sd, 4,
						   &fw, &msg), -EPROTO);
	/* A request is not an answer. */
	n = vmbus_ic_negotiate_build(buf, sizeof(buf), host_fw, 1, host_sd, 1);
	ck_assert_int_eq(vmbus_ic_parse(buf, (size_t)n, &m), 0);
	ck_assert_int_eq(vmbus_ic_negotiate_result(&m, host_fw, 2, host_sd, 4,
						   &fw, &msg), -EPROTO);
	ck_assert_int_eq(vmbus_ic_negotiate_build(buf, sizeof(buf), host_fw, 101,
						  host_sd, 1), -E2BIG);
}
END_TEST

START_TEST(test_utf16)
{
	uint8_t w[64];
	char s[64];
	int n;

	n = vmbus_ic_utf16(w, sizeof(w), "Zürich €𝄞");
	/* Z ü r i c h space € and a surrogate pair, then the NUL. */
	ck_assert_int_eq(n, 2 * (8 + 2 + 1));
	ck_assert_uint_eq(w[2], 0xfc);
	ck_assert_int_eq(vmbus_ic_utf8(s, sizeof(s), w, (size_t)n), 15);
	ck_assert_str_eq(s, "Zürich €𝄞");
	/* Too long, bad UTF-8, lone surrogates, odd lengths. */
	ck_assert_int_eq(vmbus_ic_utf16(w, 4, "abc"), -E2BIG);
	ck_assert_int_eq(vmbus_ic_utf16(w, sizeof(w), "\xc3"), -EILSEQ);
	ck_assert_int_eq(vmbus_ic_utf16(w, sizeof(w), "\xc0\x80"), -EILSEQ);
	ck_assert_int_eq(vmbus_ic_utf16(w, sizeof(w), "\xed\xa0\x80"), -EILSEQ);
	w[0] = 0x00; w[1] = 0xdc;
	ck_assert_int_eq(vmbus_ic_utf8(s, sizeof(s), w, 2), -EILSEQ);
	w[0] = 0x00; w[1] = 0xd8;
	ck_assert_int_eq(vmbus_ic_utf8(s, sizeof(s), w, 2), -EILSEQ);
	ck_assert_int_eq(vmbus_ic_utf8(s, sizeof(s), w, 3), -EILSEQ);
	n = vmbus_ic_utf16(w, sizeof(w), "abcdef");
	ck_assert_int_eq(vmbus_ic_utf8(s, 4, w, (size_t)n), -E2BIG);
	/* No NUL within the length: it ends there. */
	ck_assert_int_eq(vmbus_ic_utf8(s, sizeof(s), w, 4), 2);
	ck_assert_str_eq(s, "ab");
}
END_TEST

/*
 * The byte order Linux's GUID_INIT gives HV_HEART_BEAT_GUID, for every
 * GUID on the bus; formatting gives the text back.
 */
START_TEST(test_guid_order)
{
	static const uint8_t hb[16] = { 0x39, 0x4f, 0x16, 0x57, 0x15, 0x91,
		0x78, 0x4e, 0xab, 0x55, 0x38, 0x2f, 0x3b, 0xd5, 0x42, 0x2d };
	uint8_t g[16];
	char text[37];

	ck_assert_int_eq(vmbus_guid_parse(VMBUS_IC_HEARTBEAT_GUID, g), 0);
	ck_assert_mem_eq(g, hb, 16);
	vmbus_guid_format(g, text);
	ck_assert_str_eq(text, VMBUS_IC_HEARTBEAT_GUID);
	ck_assert_int_eq(vmbus_guid_parse("57164F39-9115-4E78-AB55-382F3BD5422D",
					  g), 0);
	ck_assert_mem_eq(g, hb, 16);
	ck_assert_int_eq(vmbus_guid_parse("57164f39-9115-4e78-ab55-382f3bd5422", g),
			 -EINVAL);
	ck_assert_int_eq(vmbus_guid_parse("57164f39x9115-4e78-ab55-382f3bd5422d", g),
			 -EINVAL);
}
END_TEST

static Suite *ic_suite(void)
{
	Suite *s = suite_create("vmbus-ic");
	TCase *tc = tcase_create("ic");

	tcase_add_test(tc, test_build_parse);
	tcase_add_test(tc, test_hostile_headers);
	tcase_add_test(tc, test_negotiation);
	tcase_add_test(tc, test_negotiation_hostile);
	tcase_add_test(tc, test_utf16);
	tcase_add_test(tc, test_guid_order);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ic_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
