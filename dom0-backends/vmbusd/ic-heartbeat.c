// SPDX-License-Identifier: GPL-2.0-only
/*
 * The heartbeat integration service: once a second the host sends its
 * last sequence number, the guest (hv_utils' heartbeat_onchannelcallback)
 * answers with it plus one.  The guest's sequence and the number of
 * answers are published, so `vmbusctl list` shows a guest that stopped.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ic.h"

/* Message versions, oldest first (hv_util.c hb_versions). */
static const uint32_t hb_versions[] = { VMBUS_IC_VER(1, 0), VMBUS_IC_VER(3, 0) };

static void hb_send(struct vd_ic *ic)
{
	struct vmbus_ic_heartbeat hb;

	memset(&hb, 0, sizeof(hb));
	hb.seq = ic->hb_seq;
	vd_ic_send(ic, VMBUS_IC_MSG_HEARTBEAT, &hb, sizeof(hb));
}

static void hb_response(struct vd_ic *ic, const struct vmbus_ic_msg *m)
{
	struct vmbus_ic_heartbeat hb;

	if (m->hdr.status != VMBUS_IC_S_OK || m->hdr.size < sizeof(hb.seq) ||
	    m->room < sizeof(hb.seq)) {
		ic->errors++;
		return;
	}
	memcpy(&hb.seq, m->body, sizeof(hb.seq));
	ic->hb_seq = hb.seq;
	ic->hb_count++;
}

static int hb_state(struct vd_ic *ic, char *val, size_t len)
{
	return snprintf(val, len, " heartbeat_seq=%llu heartbeats=%llu",
			(unsigned long long)ic->hb_seq,
			(unsigned long long)ic->hb_count);
}

static const struct vd_ic_kind hb_kind = {
	.kind = "heartbeat",
	.guid = VMBUS_IC_HEARTBEAT_GUID,
	.versions = hb_versions,
	.nversions = sizeof(hb_versions) / sizeof(hb_versions[0]),
	.period_s = 1,
	.ready = hb_send,
	.tick = hb_send,
	.response = hb_response,
	.state = hb_state,
};

const struct vd_service vd_ic_heartbeat_service =
	VD_IC_SERVICE("heartbeat", &hb_kind);
