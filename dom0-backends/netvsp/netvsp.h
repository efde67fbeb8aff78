/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libnetvsp: the network VSP of one guest's synthetic NIC
 * (<xenvmbus/netvsc.h>), to be run on a libvmbus server channel, with a
 * tap device as its dom0 side.
 *
 *   netvsp_create()   the NIC: MAC, MTU (68-9000), the tap device
 *                     (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, multi-queue)
 *                     and the bridge it joins
 *   netvsp_attach()   serve an open channel of NETVSC_CLASS_GUID (from the
 *                     server's open callback)
 *   netvsp_process()  when the channel's fd or a netvsp_tap_fd() is
 *                     readable: takes the guest's NVSP/RNDIS messages and
 *                     frames, hands tap frames to the guest; never blocks
 *   netvsp_detach()   the channel is going (close callback): unmaps the
 *                     buffers, sends nothing, takes the tap's carrier down
 *   netvsp_destroy()
 *
 * The guest's receive buffer and send buffer are GPADLs mapped while the
 * channel holds them; page-buffer packets name grant references that are
 * mapped, copied and unmapped within the packet's handling.  What one
 * guest can make dom0 hold is bounded (struct netvsp_limits): buffer
 * pages, receive packets the guest has not completed, answers waiting for
 * room; past those the VSP stops reading the ring or the tap.
 * Sub-channels and RSS are reported as none: one queue per NIC.
 */
#ifndef NETVSP_H
#define NETVSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmbus_chan;
struct netvsp;

#define NETVSP_MTU_MIN		68u
#define NETVSP_MTU_MAX		9000u
#define NETVSP_MAX_QUEUES	16u

struct netvsp_cfg {
	const char *ifname;		/* tap name; NULL/"": "nvsp%d" */
	const char *bridge;		/* bridge the tap joins, or NULL */
	uint8_t mac[6];			/* the guest NIC's MAC */
	uint32_t mtu;			/* 0: 1500 */
	unsigned int queues;		/* tap queues; 0: 1 */
	/*
	 * >= 0: frames go to and come from this fd instead of a tap, each
	 * read or write one frame after a struct virtio_net_hdr (tests,
	 * the fuzzer, benchmarks); the VSP does not close it.
	 */
	int tap_fd;
};

struct netvsp_limits {
	uint32_t max_recv_buf_pages;	/* default 4096 (16 MiB) */
	uint32_t max_send_buf_pages;	/* default 4096 */
	uint32_t max_rx_inflight;	/* receive packets not completed; 1024 */
	uint32_t send_section_size;	/* default 6144, as Hyper-V */
};

struct netvsp_stats {
	uint32_t nvsp_version;		/* 0 before INIT */
	uint32_t ndis_version;
	bool rndis_ready;		/* RNDIS INITIALIZE answered */
	bool link_up;
	uint32_t packet_filter;
	uint32_t guest_mtu;		/* from SEND_NDIS_CONFIG (frame bytes) */
	uint32_t recv_sections, recv_section_size;
	uint32_t send_sections, send_section_size;
	uint32_t rx_inflight, rx_inflight_peak;
	uint32_t buf_pages;		/* receive + send buffer pages held */
	uint64_t tx_packets, tx_bytes;	/* guest to tap */
	uint64_t tx_csum, tx_lso;	/* offloads asked for */
	uint64_t tx_dropped;		/* the tap did not take the frame */
	uint64_t rx_packets, rx_bytes;	/* tap to guest */
	uint64_t rx_no_room;		/* tap reads deferred for no section */
	uint64_t rx_dropped;		/* frames too large or malformed */
	uint64_t control;		/* RNDIS control messages */
	uint64_t refused;		/* NVSP/RNDIS requests answered with
					 * a failure */
	uint64_t bad_packets;		/* malformed, not answerable */
	uint64_t bad_completions;	/* naming no receive packet */
};

/*
 * How the VSP reaches guest memory and answers; the default (NULL ops)
 * maps GPADLs with libvmbus, grants of the channel's peer with
 * libxengnttab, and sends on the channel.  Tests and the fuzzer replace
 * them.
 */
struct netvsp_ops {
	/* Map GPADL @id: 0 and its memory, or -errno. */
	int (*gpadl_map)(void *arg, uint32_t id, void **handle, uint8_t **mem,
			 size_t *size, bool *writable);
	void (*gpadl_unmap)(void *arg, void *handle);
	void *(*map)(void *arg, uint32_t domid, const uint32_t *grefs,
		     uint32_t count);
	void (*unmap)(void *arg, void *addr, uint32_t count);
	/* Any packet; -EAGAIN when the ring is full. */
	int (*send)(void *arg, uint16_t type, uint16_t flags,
		    uint64_t trans_id, const void *thdr, size_t thdr_len,
		    const void *data, size_t len);
	void *arg;
};

int netvsp_create(struct netvsp **nv, const struct netvsp_cfg *cfg,
		  const struct netvsp_limits *limits);
void netvsp_destroy(struct netvsp *nv);
/* Serve @chan (one channel at a time); -EBUSY if one is attached. */
int netvsp_attach(struct netvsp *nv, struct vmbus_chan *chan);
/* Forget the channel: unmaps everything, answers nothing. */
void netvsp_detach(struct netvsp *nv);
/* The tap's name ("" with a caller's tap_fd). */
const char *netvsp_ifname(const struct netvsp *nv);
/* Queue @q's fd (readable when frames wait), -1 past the last. */
int netvsp_tap_fd(const struct netvsp *nv, unsigned int q);
/* Guest messages, then tap frames.  0 or -errno. */
int netvsp_process(struct netvsp *nv);
/*
 * Link state as the guest sees it (an RNDIS status indication when it
 * changes) and as the tap's carrier says.
 */
void netvsp_set_link(struct netvsp *nv, bool up);
void netvsp_get_stats(const struct netvsp *nv, struct netvsp_stats *st);

/*
 * For tests and the fuzzer: serve a channel-less peer @domid through @ops
 * and feed it packets as the ring would deliver them (@thdr: the type
 * header after the 16-byte descriptor, @data: the payload).
 */
int netvsp_attach_ops(struct netvsp *nv, unsigned int domid,
		      const struct netvsp_ops *ops);
int netvsp_packet(struct netvsp *nv, uint16_t type, uint16_t flags,
		  uint64_t trans_id, const void *thdr, uint32_t thdr_len,
		  const void *data, uint32_t len);

#endif /* NETVSP_H */
