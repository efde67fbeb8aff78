// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shutdown integration service: `vmbusctl shutdown DOM [--reboot]`
 * asks the guest (hv_utils' shutdown_onchannelcallback, which runs
 * orderly_poweroff or orderly_reboot) to power off or restart; the reply
 * says whether the guest accepted.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ic.h"

/* Message versions, oldest first (hv_util.c sd_versions). */
static const uint32_t sd_versions[] = {
	VMBUS_IC_VER(1, 0), VMBUS_IC_VER(3, 0), VMBUS_IC_VER(3, 1),
	VMBUS_IC_VER(3, 2),
};

#define SD_TIMEOUT_S	60	/* what the guest is given, as Hyper-V says */

static int sd_request(struct vd_ic *ic, const char *op, const char *dir,
		      const char **why)
{
	struct vmbus_ic_shutdown sd;
	int rc;

	(void)dir;
	memset(&sd, 0, sizeof(sd));
	if (strcmp(op, "shutdown") == 0)
		sd.flags = 0;
	else if (strcmp(op, "reboot") == 0)
		sd.flags = VMBUS_IC_SHUTDOWN_RESTART;
	else
		return -EINVAL;
	sd.reason = VMBUS_IC_SHUTDOWN_REASON_PLANNED;
	sd.timeout_s = SD_TIMEOUT_S;
	snprintf((char *)sd.message, sizeof(sd.message), "%s requested from "
		 "dom0", op);
	rc = vd_ic_send(ic, VMBUS_IC_MSG_SHUTDOWN, &sd, sizeof(sd));
	if (rc < 0) {
		*why = "error failed to send the request";
		return rc;
	}
	dlog(LOG_NOTICE, "domain %u: asked the guest to %s", ic->offer->guest->domid,
	     sd.flags ? "restart" : "power off");
	return 0;
}

static void sd_response(struct vd_ic *ic, const struct vmbus_ic_msg *m)
{
	char why[64];

	if (m->hdr.status == VMBUS_IC_S_OK) {
		vd_ic_reply(ic, "ok");
		return;
	}
	snprintf(why, sizeof(why), "error the guest refused (status 0x%08x)",
		 m->hdr.status);
	vd_ic_reply(ic, why);
}

static const struct vd_ic_kind sd_kind = {
	.kind = "shutdown",
	.guid = VMBUS_IC_SHUTDOWN_GUID,
	.versions = sd_versions,
	.nversions = sizeof(sd_versions) / sizeof(sd_versions[0]),
	.request = sd_request,
	.response = sd_response,
};

const struct vd_service vd_ic_shutdown_service =
	VD_IC_SERVICE("shutdown", &sd_kind);
