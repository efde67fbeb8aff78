// SPDX-License-Identifier: GPL-2.0-only
/*
 * The channel exports of hv_vmbus (its drivers/hv/channel.c), forwarded to
 * channel.c.
 *
 * Why a file of forwarders: a modversions CRC hashes the full type graph
 * of the prototype as the exporting file sees it, and a struct that file
 * only declares hashes differently from one it sees defined.  So each hv-*
 * file includes exactly the headers the hv_vmbus file exporting the same
 * symbols includes (its own, then those of its private hyperv_vmbus.h,
 * whose hv_trace.h stands here as <linux/tracepoint.h>), and nothing of
 * ours that defines a type.  The CRCs then equal hv_vmbus's, and Debian's
 * class drivers load against this module unmodified.  tests/e2e checks it.
 */
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/wait.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/module.h>
#include <linux/hyperv.h>
#include <linux/uio.h>
#include <linux/interrupt.h>
#include <linux/set_memory.h>
#include <asm/page.h>
#include <asm/mshyperv.h>
/* hyperv_vmbus.h's */
#include <linux/list.h>
#include <linux/bitops.h>
#include <asm/sync_bitops.h>
#include <asm/hyperv-tlfs.h>
#include <linux/atomic.h>
#include <linux/tracepoint.h>

#include "xvmb-api.h"

int vmbus_open(struct vmbus_channel *newchannel,
	       u32 send_ringbuffer_size, u32 recv_ringbuffer_size,
	       void *userdata, u32 userdatalen,
	       void (*onchannelcallback)(void *context), void *context)
{
	return xvmb_open(newchannel, send_ringbuffer_size,
			 recv_ringbuffer_size, userdata, userdatalen,
			 onchannelcallback, context);
}
EXPORT_SYMBOL_GPL(vmbus_open);

void vmbus_close(struct vmbus_channel *channel)
{
	xvmb_close(channel);
}
EXPORT_SYMBOL_GPL(vmbus_close);

int vmbus_sendpacket(struct vmbus_channel *channel, void *buffer,
		     u32 bufferlen, u64 requestid,
		     enum vmbus_packet_type type, u32 flags)
{
	return xvmb_sendpacket(channel, buffer, bufferlen, requestid, type,
			       flags);
}
EXPORT_SYMBOL(vmbus_sendpacket);

int vmbus_sendpacket_mpb_desc(struct vmbus_channel *channel,
			      struct vmbus_packet_mpb_array *desc,
			      u32 desc_size, void *buffer, u32 bufferlen,
			      u64 requestid)
{
	return xvmb_sendpacket_mpb_desc(channel, desc, desc_size, buffer,
					bufferlen, requestid);
}
EXPORT_SYMBOL_GPL(vmbus_sendpacket_mpb_desc);

int vmbus_recvpacket(struct vmbus_channel *channel, void *buffer,
		     u32 bufferlen, u32 *buffer_actual_len, u64 *requestid)
{
	return xvmb_recvpacket(channel, buffer, bufferlen, buffer_actual_len,
			       requestid);
}
EXPORT_SYMBOL(vmbus_recvpacket);

int vmbus_establish_gpadl(struct vmbus_channel *channel, void *kbuffer,
			  u32 size, struct vmbus_gpadl *gpadl)
{
	return xvmb_establish_gpadl(channel, kbuffer, size, gpadl);
}
EXPORT_SYMBOL_GPL(vmbus_establish_gpadl);

int vmbus_teardown_gpadl(struct vmbus_channel *channel,
			 struct vmbus_gpadl *gpadl)
{
	return xvmb_teardown_gpadl(channel, gpadl);
}
EXPORT_SYMBOL_GPL(vmbus_teardown_gpadl);

u64 vmbus_next_request_id(struct vmbus_channel *channel, u64 rqst_addr)
{
	return xvmb_next_request_id(channel, rqst_addr);
}
EXPORT_SYMBOL_GPL(vmbus_next_request_id);

u64 vmbus_request_addr(struct vmbus_channel *channel, u64 trans_id)
{
	return xvmb_request_addr(channel, trans_id);
}
EXPORT_SYMBOL_GPL(vmbus_request_addr);

int vmbus_send_tl_connect_request(const guid_t *shv_guest_servie_id,
				  const guid_t *shv_host_servie_id)
{
	return xvmb_send_tl_connect_request(shv_guest_servie_id,
					    shv_host_servie_id);
}
EXPORT_SYMBOL_GPL(vmbus_send_tl_connect_request);
