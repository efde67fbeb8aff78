// SPDX-License-Identifier: GPL-2.0-only
/*
 * The exports of hv_vmbus's drivers/hv/ring_buffer.c, forwarded to
 * channel.c; the includes are that file's (hv-channel.c says why).
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/hyperv.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>
#include <linux/slab.h>
#include <linux/prefetch.h>
#include <linux/io.h>
#include <asm/mshyperv.h>
/* hyperv_vmbus.h's */
#include <linux/list.h>
#include <linux/bitops.h>
#include <asm/sync_bitops.h>
#include <asm/hyperv-tlfs.h>
#include <linux/atomic.h>
#include <linux/interrupt.h>
#include <linux/tracepoint.h>
#include <linux/module.h>

#include "xvmb-api.h"

struct vmpacket_descriptor *hv_pkt_iter_first(struct vmbus_channel *channel)
{
	return xvmb_pkt_iter_first(channel);
}
EXPORT_SYMBOL_GPL(hv_pkt_iter_first);

struct vmpacket_descriptor *
__hv_pkt_iter_next(struct vmbus_channel *channel,
		   const struct vmpacket_descriptor *desc)
{
	return xvmb_pkt_iter_next(channel, desc);
}
EXPORT_SYMBOL_GPL(__hv_pkt_iter_next);

void hv_pkt_iter_close(struct vmbus_channel *channel)
{
	xvmb_pkt_iter_close(channel);
}
EXPORT_SYMBOL_GPL(hv_pkt_iter_close);
