// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exports of hv_vmbus's drivers/hv/channel_mgmt.c, forwarded to
 * channel.c; the includes are that file's (hv-channel.c says why).
 */
#include <linux/kernel.h>
#include <linux/interrupt.h>
#include <linux/sched.h>
#include <linux/wait.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/cpu.h>
#include <linux/hyperv.h>
#include <asm/mshyperv.h>
#include <linux/sched/isolation.h>
/* hyperv_vmbus.h's */
#include <linux/bitops.h>
#include <asm/sync_bitops.h>
#include <asm/hyperv-tlfs.h>
#include <linux/atomic.h>
#include <linux/tracepoint.h>

#include "xvmb-api.h"

bool vmbus_prep_negotiate_resp(struct icmsg_hdr *icmsghdrp, u8 *buf,
			       u32 buflen, const int *fw_version,
			       int fw_vercnt, const int *srv_version,
			       int srv_vercnt, int *nego_fw_version,
			       int *nego_srv_version)
{
	return xvmb_prep_negotiate_resp(icmsghdrp, buf, buflen, fw_version,
					fw_vercnt, srv_version, srv_vercnt,
					nego_fw_version, nego_srv_version);
}
EXPORT_SYMBOL_GPL(vmbus_prep_negotiate_resp);

void vmbus_hvsock_device_unregister(struct vmbus_channel *channel)
{
	xvmb_hvsock_device_unregister(channel);
}
EXPORT_SYMBOL_GPL(vmbus_hvsock_device_unregister);

void vmbus_set_sc_create_callback(struct vmbus_channel *primary_channel,
				  void (*sc_cr_cb)(struct vmbus_channel *new_sc))
{
	xvmb_set_sc_create_callback(primary_channel, sc_cr_cb);
}
EXPORT_SYMBOL_GPL(vmbus_set_sc_create_callback);

void vmbus_set_chn_rescind_callback(struct vmbus_channel *channel,
		void (*chn_rescind_cb)(struct vmbus_channel *))
{
	xvmb_set_chn_rescind_callback(channel, chn_rescind_cb);
}
EXPORT_SYMBOL_GPL(vmbus_set_chn_rescind_callback);
