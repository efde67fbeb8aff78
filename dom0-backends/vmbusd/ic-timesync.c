// SPDX-License-Identifier: GPL-2.0-only
/*
 * The time synchronisation integration service: once the versions are
 * agreed the host sends its time with the SYNC flag (the guest sets its
 * clock), then every 5 seconds a SAMPLE (the guest's PTP clock and, when
 * asked, chrony follow it), as Hyper-V and OpenVMM do.
 *
 * Only message versions 1.0 and 3.0 are offered: from 4.0 on the message
 * carries the time of the guest's Hyper-V reference counter at which the
 * host sampled its clock, and a Xen guest has no reference counter that
 * dom0 can read (a PV guest has none at all).  With 3.0 the guest reads
 * its own counter as the message arrives (hv_util.c's adj_guesttime with
 * hv_read_reference_counter()), which is what "where the guest supports
 * it" comes to here.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ic.h"

static const uint32_t ts_versions[] = { VMBUS_IC_VER(1, 0), VMBUS_IC_VER(3, 0) };

#define TS_SAMPLE_S	5

static void ts_send(struct vd_ic *ic, uint8_t flags)
{
	struct vmbus_ic_timesync ts;
	struct timespec now;

	memset(&ts, 0, sizeof(ts));
	clock_gettime(CLOCK_REALTIME, &now);
	ts.parent_time = VMBUS_IC_TIME_DELTA +
			 (uint64_t)now.tv_sec * 10000000u +
			 (uint64_t)now.tv_nsec / 100;
	ts.flags = flags;
	vd_ic_send(ic, VMBUS_IC_MSG_TIMESYNC, &ts, sizeof(ts));
}

static void ts_ready(struct vd_ic *ic)
{
	ts_send(ic, VMBUS_IC_TIMESYNC_SYNC);
}

static void ts_tick(struct vd_ic *ic)
{
	ts_send(ic, VMBUS_IC_TIMESYNC_SAMPLE);
}

static void ts_response(struct vd_ic *ic, const struct vmbus_ic_msg *m)
{
	if (m->hdr.status != VMBUS_IC_S_OK)
		ic->errors++;
	else
		ic->ts_samples++;
}

static int ts_state(struct vd_ic *ic, char *val, size_t len)
{
	return snprintf(val, len, " time_samples=%llu",
			(unsigned long long)ic->ts_samples);
}

static const struct vd_ic_kind ts_kind = {
	.kind = "timesync",
	.guid = VMBUS_IC_TIMESYNC_GUID,
	.versions = ts_versions,
	.nversions = sizeof(ts_versions) / sizeof(ts_versions[0]),
	.period_s = TS_SAMPLE_S,
	.ready = ts_ready,
	.tick = ts_tick,
	.response = ts_response,
	.state = ts_state,
};

const struct vd_service vd_ic_timesync_service =
	VD_IC_SERVICE("timesync", &ts_kind);
