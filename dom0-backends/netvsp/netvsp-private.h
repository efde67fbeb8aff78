/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The network VSP's software state, shared by the protocol (vsp.c) and the
 * tap device (tap.c).  Nothing here is a wire format.
 */
#ifndef NETVSP_PRIVATE_H
#define NETVSP_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include <xengnttab.h>

#include <xenvmbus/compat.h>
#include <xenvmbus/netvsc.h>

#include "netvsp.h"

struct vmbus_packet;

/* The type header of a DATA_USING_XFER_PAGES packet (ring.h's struct
 * vmbus_pkt_xferpage without its descriptor); the ranges follow. */
struct netvsp_xferpage_hdr {
	vmbus_u16 pageset_id;
	vmbus_u8 sender_owns_set;
	vmbus_u8 reserved;
	vmbus_u32 range_count;
} __attribute__((packed));
VMBUS_CHECK_SIZE(struct netvsp_xferpage_hdr, 8);

/* Bytes before the payload that libvmbus may leave in the receive buffer. */
#define NETVSP_RX_PREFIX	(64u + 16u)
#define NETVSP_RXBUF_BYTES	(16u * 1024)

/* A receive packet the guest has not completed: its sections. */
struct rxpkt {
	uint32_t gen;
	uint32_t nsec;			/* 0: free */
	uint32_t sec[32];
};

/* A page-buffer packet waiting to be mapped with the others of its turn. */
#define PB_BATCH	16u
#define PB_GREFS	640u
struct txpb {
	uint64_t tid;
	uint16_t flags;
	uint32_t nr, first, npages, len;
	struct { uint32_t count, offset, page; } r[32];
};

struct pending_comp {
	uint64_t trans_id;
	struct nvsp_msg msg;
};

struct ctl_msg {
	uint32_t len;
	uint8_t buf[256];
};

struct netvsp {
	struct netvsp_cfg cfg;		/* ifname, bridge: not kept */
	struct netvsp_limits lim;
	char ifname[16];
	int tapfd[NETVSP_MAX_QUEUES];
	unsigned int nqueues, rx_q;
	bool own_tap;
	xengnttab_handle *xgt;
	/* the channel (or the test's ops) */
	struct vmbus_chan *chan;
	struct netvsp_ops ops;
	bool attached;
	bool logged;			/* a refusal was logged */
	unsigned int domid;
	/* NVSP and RNDIS state */
	uint32_t version, ndis_version, guest_mtu;
	bool rndis_ready, link_up;
	uint32_t filter;
	struct ndis_offload_params offload;
	/* the receive buffer */
	void *recv_h;
	uint8_t *recv_mem;
	uint32_t recv_pages, section_size, nsections, max_sections;
	uint32_t *free_sec, nfree;
	struct rxpkt *rxp;
	uint32_t rxp_next, rx_inflight;
	/* the send buffer */
	void *send_h;
	uint8_t *send_mem;
	uint32_t send_pages, send_section_size, send_sections;
	uint32_t buf_pages;
	/* answers waiting for room */
	struct pending_comp comp[256];
	uint32_t comp_head, ncomp;
	struct ctl_msg ctl[64];
	uint32_t ctl_head, nctl;
	/* page-buffer packets of this turn */
	bool batching;
	struct txpb pb[PB_BATCH];
	uint32_t npb, npb_grefs;
	uint32_t pb_grefs[PB_GREFS];
	struct netvsp_stats st;
	uint8_t *txbuf;			/* private copy of guest RNDIS data */
	uint64_t rxbuf[NETVSP_RXBUF_BYTES / 8];
};

int netvsp_tap_open(struct netvsp *nv, const struct netvsp_cfg *cfg);
void netvsp_tap_close(struct netvsp *nv);
void netvsp_tap_carrier(struct netvsp *nv, bool up);
const uint8_t *netvsp_find_thdr(const uint8_t *buf,
				const struct vmbus_packet *pkt,
				uint32_t *thdr_len);

#endif /* NETVSP_PRIVATE_H */
