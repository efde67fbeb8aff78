/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A user-mode netvsc: the client end of the VMBus network protocol
 * (<xenvmbus/netvsc.h>) on libvmbus, as Linux's hv_netvsc speaks it, for
 * the simulated host's tests and benchmarks.  The receive and send buffers
 * are GPADLs of the channel; frames too large for a send section go in
 * page buffers (DATA_USING_GPA_DIRECT) out of a pool of pages shared with
 * xengntshr, as the guest bus driver names hv_netvsc's pages by grant.
 */
#ifndef NETVSC_CLIENT_H
#define NETVSC_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <xengnttab.h>

#include <xenvmbus/netvsc.h>

#include "libvmbus.h"

#define NETVSC_CLIENT_LSO_SLOTS		16u
#define NETVSC_CLIENT_LSO_PAGES		18u	/* 64 KiB + headers */
#define NETVSC_CLIENT_MAX_SECTIONS	4096u
#define NETVSC_CLIENT_CTL_MAX		64u
#define NETVSC_CLIENT_COMP_LOG		64u

/* Transaction ids: the kinds of request they name. */
#define NETVSC_TID_SECTION	(1ull << 40)	/* + send section index */
#define NETVSC_TID_LSO		(2ull << 40)	/* + LSO slot */
#define NETVSC_TID_REQ		(3ull << 40)	/* + counter */
#define NETVSC_TID_KIND(t)	((t) & (0xffull << 40))

/* A frame received: @csum is the TCPIP_CHKSUM receive value, 0 if none. */
typedef void netvsc_frame_fn(void *arg, const uint8_t *frame, uint32_t len,
			     uint32_t csum);

struct netvsc_client {
	struct vmbus_bus *bus;
	struct vmbus_chan *ch;
	xengntshr_handle *xgs;
	uint8_t *pool;			/* LSO slots, shared by grant */
	uint32_t pool_refs[NETVSC_CLIENT_LSO_SLOTS * NETVSC_CLIENT_LSO_PAGES];
	uint32_t lso_free[NETVSC_CLIENT_LSO_SLOTS], nlso_free;
	struct vmbus_gpadl *recv_g, *send_g;
	uint8_t *recv_mem, *send_mem;
	uint32_t recv_size, send_size;
	uint32_t recv_section_size, recv_sections;
	uint32_t send_section_size, send_sections;
	uint32_t send_free[NETVSC_CLIENT_MAX_SECTIONS], nsend_free;
	uint32_t version;
	uint32_t next_req;		/* RNDIS request ids */
	uint64_t next_tid;
	uint8_t mac[6];
	uint32_t mtu;
	bool link_up;
	uint32_t indications;
	bool count_keepalives;		/* count KEEPALIVE_C, do not keep them */
	uint32_t keepalives;
	/* RNDIS answers not yet taken */
	struct { uint32_t len; uint8_t buf[256]; } ctl[NETVSC_CLIENT_CTL_MAX];
	uint32_t ctl_head, nctl;
	/* the last completions, for requests waited for */
	struct { uint64_t tid; struct nvsp_msg msg; } comp[NETVSC_CLIENT_COMP_LOG];
	uint32_t comp_next;
	netvsc_frame_fn *frame_fn;
	void *frame_arg;
	uint64_t tx_ok, tx_failed, rx_frames, rx_bad;
	uint64_t rxbuf[16384 / 8];
};

/* Open the bus and the first synthetic NIC offered. */
int netvsc_client_open(struct netvsc_client *c, uint32_t ring_pages,
		       int timeout_ms);
void netvsc_client_close(struct netvsc_client *c);
/* Send an NVSP request asking for a completion; wait for it into @ans. */
int netvsc_client_nvsp(struct netvsc_client *c, const struct nvsp_msg *req,
		       struct nvsp_msg *ans, int timeout_ms);
/*
 * hv_netvsc's bring-up: INIT (6.1 down to 2), NDIS_CONFIG, NDIS_VER, the
 * receive and send buffers (@recv_bytes, @send_bytes), RNDIS INITIALIZE,
 * the MAC and MTU queries, the packet filter.  0 or -errno.
 */
int netvsc_client_init(struct netvsc_client *c, uint32_t recv_bytes,
		       uint32_t send_bytes, int timeout_ms);
/*
 * An RNDIS control message (@body after the 8-byte header, its first u32
 * the request id, which this sets) and its answer into @ans (the whole
 * message, at most @ans_len bytes).  Returns the answer's length.
 */
int netvsc_client_rndis(struct netvsc_client *c, uint32_t type, void *body,
			uint32_t body_len, void *ans, uint32_t ans_len,
			int timeout_ms);
/* Send @len bytes at send section @idx as SEND_RNDIS_PKT with @size. */
int netvsc_client_send_section(struct netvsc_client *c, uint32_t idx,
			       uint32_t size, uint64_t tid);
/* A frame with optional checksum / LSO per-packet info (0: none). */
int netvsc_client_send_frame(struct netvsc_client *c, const uint8_t *frame,
			     uint32_t len, uint32_t csum, uint32_t lso);
/* Handle what arrived (completions, frames, control); never blocks. */
int netvsc_client_poll(struct netvsc_client *c);
/* Wait for the completion of @tid (handling the rest); 0 or -ETIMEDOUT. */
int netvsc_client_wait_comp(struct netvsc_client *c, uint64_t tid,
			    struct nvsp_msg *ans, int timeout_ms);
/* Build an RNDIS PACKET around @frame at @out; returns its length. */
uint32_t netvsc_rndis_packet(uint8_t *out, const uint8_t *frame, uint32_t len,
			     uint32_t csum, uint32_t lso);
/* Take a free send section, or -ENOSPC. */
int netvsc_client_section(struct netvsc_client *c);

#endif /* NETVSC_CLIENT_H */
