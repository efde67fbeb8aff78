// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the integration service messages a guest writes
 * (lib/vmbus/ic.c), as vmbusd reads them.
 *
 * Input: one IC packet.  Whatever parses must keep its body inside the
 * input; a negotiation answer must give versions or say why not; the
 * guest's side of the negotiation, run on a copy, must leave a packet
 * that parses; the KVP strings of a body convert or are refused without
 * reading past it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/vmbus_ic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t fw[] = { VMBUS_IC_FW_3_0, VMBUS_IC_FW_1_0 };
	static const uint32_t msg[] = { VMBUS_IC_VER(3, 2), VMBUS_IC_VER(1, 0) };
	static char text[4 * VMBUS_IC_KVP_VALUE_MAX];
	struct vmbus_ic_msg m;
	uint32_t f, v;
	uint8_t *copy;
	int rc;

	if (vmbus_ic_parse(data, size, &m) == 0) {
		if (m.body < data || m.body + m.room > data + size ||
		    m.hdr.size > m.room)
			abort();
		/* Only a version offered may come back. */
		rc = vmbus_ic_negotiate_result(&m, fw, 2, msg, 2, &f, &v);
		if (rc == 0 && (m.hdr.type != VMBUS_IC_MSG_NEGOTIATE ||
				(f != fw[0] && f != fw[1]) ||
				(v != msg[0] && v != msg[1])))
			abort();
		vmbus_ic_utf8(text, sizeof(text), m.body, m.room & ~1u);
	}
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	rc = vmbus_ic_negotiate_answer(copy, size, fw, 2, msg, 2, &f, &v);
	if ((rc == 0 || rc == -EPROTONOSUPPORT) &&
	    vmbus_ic_parse(copy, size, &m) != 0)
		abort();
	free(copy);
	return 0;
}
