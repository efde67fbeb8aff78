// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: GPADL reassembly and the range-buffer parser.
 *
 * Input, when byte 0 has bit 7 clear: a sequence of records, each a length
 * byte L (message of 8 * (L % 31) bytes) and the message.  The first
 * message of each GPADL goes to the header step, the following ones to the
 * body step; a complete GPADL is parsed and its result checked.
 * When bit 7 is set: bytes 1.. are a raw range buffer of (byte 0 & 0x7f)
 * ranges, as in a GPA-direct packet.  Every parsed grant list also goes
 * through the duplicate check.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/vmbus_msg.h"

#define MAX_RANGES	64
#define MAX_GREFS	(VMBUS_GPADL_MAX_BUFLEN / 4)

static uint8_t asmbuf[VMBUS_GPADL_MAX_BUFLEN];
static vmbus_gref_t grefs[MAX_GREFS];
static struct vmbus_gpa_desc ranges[MAX_RANGES];
static vmbus_gref_t scratch[MAX_GREFS];

/* The duplicate check the server makes, against a plain one. */
static void check_unique(uint32_t ngrefs)
{
	uint32_t i, j;
	int dup = 0, rc = vmbus_gpa_grefs_unique(grefs, ngrefs, scratch);

	if (ngrefs > 1)
		for (i = 1; i < ngrefs; i++)
			if (scratch[i - 1] > scratch[i])
				abort();	/* not sorted */
	if (ngrefs > 256)
		return;
	for (i = 0; i < ngrefs && !dup; i++)
		for (j = i + 1; j < ngrefs && !dup; j++)
			dup = grefs[i] == grefs[j];
	if ((rc == -EEXIST) != dup || (rc && rc != -EEXIST))
		abort();
}

static void check_result(uint32_t nranges, uint32_t ngrefs)
{
	uint32_t i, total = 0;

	for (i = 0; i < nranges; i++) {
		if (!ranges[i].byte_count ||
		    ranges[i].byte_offset >= VMBUS_GRANT_PAGE_SIZE ||
		    ranges[i].gref_count !=
		    VMBUS_GPA_RANGE_PAGES(ranges[i].byte_offset,
					  ranges[i].byte_count) ||
		    ranges[i].grefs != grefs + total)
			abort();
		total += ranges[i].gref_count;
	}
	if (total != ngrefs)
		abort();
	check_unique(ngrefs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmbus_gpadl_asm a;
	struct vmbus_msg m;
	uint32_t nranges, ngrefs;
	size_t off = 0, len;
	int64_t used;
	int rc;

	if (size < 1)
		return 0;
	if (data[0] & 0x80) {
		uint8_t *copy = malloc(size - 1 ? size - 1 : 1);

		if (!copy)
			abort();
		memcpy(copy, data + 1, size - 1);
		used = vmbus_gpa_parse(copy, size - 1, data[0] & 0x7f, ranges,
				       MAX_RANGES, grefs, MAX_GREFS, &ngrefs);
		if (used > (int64_t)(size - 1))
			abort();
		if (used >= 0)
			check_result(data[0] & 0x7f, ngrefs);
		free(copy);
		return 0;
	}

	vmbus_gpadl_asm_init(&a, asmbuf, sizeof(asmbuf));
	while (off < size) {
		len = 8u * (data[off++] % 31u);
		if (len > size - off)
			len = size - off;
		if (vmbus_msg_decode(&m, data + off, len, VMBUS_MSG_DIR_C2S)) {
			off += len;
			continue;
		}
		off += len;
		if (a.active)
			rc = vmbus_gpadl_asm_body(&a, &m);
		else
			rc = vmbus_gpadl_asm_header(&a, &m);
		if (rc == 0) {
			if (vmbus_gpadl_asm_finish(&a, ranges, MAX_RANGES, &nranges,
						   grefs, MAX_GREFS, &ngrefs) == 0)
				check_result(nranges, ngrefs);
		}
	}
	return 0;
}
