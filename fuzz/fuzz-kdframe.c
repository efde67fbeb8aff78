// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: xen-kdrelay's parser of the Ethernet/IPv4/UDP frames a
 * debugged guest posts (dom0-backends/kdrelay/kd-frame.c).
 *
 * Input: the frame, as the guest wrote it.  It is parsed from a buffer of
 * its exact length (a read past it is caught).  What parses must name a
 * payload inside the frame after the headers; and building a frame around
 * that payload with the parsed flow must parse back to the same flow and
 * payload (the relay builds the frames it hands a guest that way).
 */
#include <stdlib.h>
#include <string.h>

#include "kd-frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[KD_FRAME_HLEN + 65536];
	struct kd_flow fl, fl2;
	size_t off, plen, off2, plen2, n;
	const char *why;
	uint8_t *f = malloc(size ? size : 1);

	if (!f)
		return 0;
	memcpy(f, data, size);
	(void)kd_frame_claims(f, size);
	if (kd_frame_parse(f, size, &off, &plen, &fl, &why) < 0) {
		if (!why)
			abort();	/* a refusal always says why */
		free(f);
		return 0;
	}
	if (off < KD_FRAME_HLEN || off > size || plen > size - off)
		abort();
	memset(&fl2, 0, sizeof(fl2));
	n = kd_frame_build(out, sizeof(out), &fl, f + off, plen);
	if (!n || kd_frame_parse(out, n, &off2, &plen2, &fl2, &why) < 0 ||
	    plen2 != plen || memcmp(out + off2, f + off, plen) ||
	    memcmp(&fl, &fl2, sizeof(fl)))
		abort();
	free(f);
	return 0;
}
