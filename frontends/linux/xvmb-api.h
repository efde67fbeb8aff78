/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the exports of hv-*.c forward to.  Included after <linux/hyperv.h>
 * and nothing else: see hv-channel.c for why.
 */
#ifndef XVMB_API_H
#define XVMB_API_H

int xvmb_open(struct vmbus_channel *channel, u32 send_size, u32 recv_size,
	      void *userdata, u32 userdatalen,
	      void (*onchannelcallback)(void *context), void *context);
void xvmb_close(struct vmbus_channel *channel);
int xvmb_sendpacket(struct vmbus_channel *channel, void *buffer,
		    u32 bufferlen, u64 requestid,
		    enum vmbus_packet_type type, u32 flags);
int xvmb_sendpacket_mpb_desc(struct vmbus_channel *channel,
			     struct vmbus_packet_mpb_array *desc,
			     u32 desc_size, void *buffer, u32 bufferlen,
			     u64 requestid);
int xvmb_recvpacket(struct vmbus_channel *channel, void *buffer,
		    u32 bufferlen, u32 *buffer_actual_len, u64 *requestid);
int xvmb_establish_gpadl(struct vmbus_channel *channel, void *kbuffer,
			 u32 size, struct vmbus_gpadl *gpadl);
int xvmb_teardown_gpadl(struct vmbus_channel *channel,
			struct vmbus_gpadl *gpadl);
u64 xvmb_next_request_id(struct vmbus_channel *channel, u64 rqst_addr);
u64 xvmb_request_addr(struct vmbus_channel *channel, u64 trans_id);
int xvmb_send_tl_connect_request(const guid_t *guest_id,
				 const guid_t *host_id);
void xvmb_set_sc_create_callback(struct vmbus_channel *primary,
				 void (*cb)(struct vmbus_channel *new_sc));
void xvmb_set_chn_rescind_callback(struct vmbus_channel *channel,
				   void (*cb)(struct vmbus_channel *));
void xvmb_hvsock_device_unregister(struct vmbus_channel *channel);
bool xvmb_prep_negotiate_resp(struct icmsg_hdr *icmsghdrp, u8 *buf,
			      u32 buflen, const int *fw_version,
			      int fw_vercnt, const int *srv_version,
			      int srv_vercnt, int *nego_fw_version,
			      int *nego_srv_version);
struct vmpacket_descriptor *xvmb_pkt_iter_first(struct vmbus_channel *channel);
struct vmpacket_descriptor *
xvmb_pkt_iter_next(struct vmbus_channel *channel,
		   const struct vmpacket_descriptor *pkt);
void xvmb_pkt_iter_close(struct vmbus_channel *channel);
int xvmb_driver_register(struct hv_driver *hv_driver, struct module *owner,
			 const char *mod_name);
void xvmb_driver_unregister(struct hv_driver *hv_driver);

#endif /* XVMB_API_H */
