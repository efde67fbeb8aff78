// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target: the channel-message decoder.
 *
 * Input: [0] direction (0 any, 1 client->server, 2 server->client), then
 * one message.  Whatever decodes must encode back to the same bytes, and
 * the version lists it carries go through the negotiation functions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmbus/vmbus_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct vmbus_version_cap caps[] = {
		{ VMBUS_VERSION(1, 3), 0 }, { VMBUS_VERSION(2, 1), 1 },
	};
	uint8_t wire[VMBUS_MSG_MAX_SIZE];
	struct vmbus_msg m;
	uint32_t v;
	int len;

	if (size < 1)
		return 0;
	if (vmbus_msg_decode(&m, data + 1, size - 1, data[0] % 3) != 0)
		return 0;
	len = vmbus_msg_encode(&m, wire, sizeof(wire));
	if (len != (int)(size - 1) || memcmp(wire, data + 1, (size_t)len))
		abort();
	if (!vmbus_msg_name(m.u.hdr.msgtype))
		abort();
	switch (m.u.hdr.msgtype) {
	case VMBUS_MSG_INITIATE_CONTACT:
		if (vmbus_version_choose(m.u.initiate_contact.versions,
					 m.u.initiate_contact.version_count,
					 caps, 2, &v) == 0 &&
		    !vmbus_version_accept(v, m.u.initiate_contact.versions,
					  m.u.initiate_contact.version_count,
					  caps, 2))
			abort();
		break;
	case VMBUS_MSG_OFFERCHANNEL:
		if (vmbus_version_choose(m.u.offer.class_versions,
					 m.u.offer.class_version_count,
					 caps, 2, &v) == 0 &&
		    !vmbus_version_accept(v, m.u.offer.class_versions,
					  m.u.offer.class_version_count,
					  caps, 2))
			abort();
		break;
	case VMBUS_MSG_OPENCHANNEL_RESULT:
		(void)vmbus_status_to_errno(m.u.open_result.status);
		break;
	default:
		break;
	}
	return 0;
}
