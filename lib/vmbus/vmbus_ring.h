/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VMBus ring, software side: one channel endpoint's view of its two
 * rings (the one it sends on and the one it receives on), the packet API
 * on top, and a small transaction table for completions.
 *
 * The rings are plain memory (grant-mapped pages, the simulated Xen's shared
 * memory, or malloc'd memory in tests); the transport supplies a signal
 * callback (an event channel notify).  The wire contract is in
 * <xenvmbus/ring.h>.  Nothing here blocks or allocates: a send that does not
 * fit returns -EAGAIN after asking the peer to signal once enough space is
 * free; a receive on an empty ring returns -EAGAIN.
 *
 * Errors are negative errno values:
 *   -EAGAIN   nothing to read / no space yet (the peer will signal)
 *   -EMSGSIZE packet larger than the ring could ever hold, or than the
 *             receive buffer (pkt->len then says how much is needed)
 *   -EINVAL   bad argument
 *   -EPROTO   the peer broke the ring contract; the ring stays unusable
 */
#ifndef VMBUS_RING_API_H
#define VMBUS_RING_API_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif

#include <xenvmbus/ring.h>

/* Called to notify the peer (event channel notify). */
typedef void vmbus_ring_signal_fn(void *arg);

/* One direction, as seen by this endpoint. */
struct vmbus_ring_half {
	struct vmbus_ring_hdr *hdr;	/* shared header page */
	uint8_t *data;			/* shared data area */
	uint32_t size;			/* bytes in the data area */
	uint32_t index;			/* private: our next write/read offset */
	uint32_t published;		/* private: last index stored in hdr */
	uint32_t features;		/* feature_bits, read once at init */
	/*
	 * private: the peer's index as we last read it (read_index of the
	 * send ring, write_index of the receive ring).  The peer only moves
	 * it forward, so space or data computed from it is never more than
	 * there is; it is read again only when it says too little.
	 */
	uint32_t peer;
	bool peer_known;
};

struct vmbus_ring {
	struct vmbus_ring_half tx;	/* we write, peer reads */
	struct vmbus_ring_half rx;	/* peer writes, we read */
	vmbus_ring_signal_fn *signal;
	void *signal_arg;
	unsigned int tx_batch;		/* nesting depth of tx_begin */
	unsigned int rx_batch;		/* nesting depth of rx_begin */
	bool tx_pending;		/* we set tx.hdr->pending_send_sz */
	bool tx_packed;			/* in-band payloads right after their
					 * descriptor (no gap): Linux's hv_sock
					 * reads them there, not at offset8 */
	bool rx_peeked;			/* the packet at rx.index was copied */
	bool rx_checked;		/* rx_next is valid (copied or not) */
	uint32_t rx_next;		/* index after the packet peeked */
	int error;			/* sticky -EPROTO once broken */
	uint64_t tx_packets, tx_bytes, tx_signals, tx_full;
	uint64_t rx_packets, rx_bytes, rx_signals;
	uint64_t errors;			/* contract violations seen */
};

/* A received packet; the pointers point into the caller's buffer. */
struct vmbus_pkt {
	uint16_t type;			/* VMBUS_PKT_* */
	uint16_t flags;			/* VMBUS_PKT_FLAG_* */
	uint64_t trans_id;
	uint32_t len;			/* len8 * 8: whole packet, no trailer */
	uint32_t hdr_len;		/* offset8 * 8: descriptor + type header */
	uint32_t buf_len;		/* bytes of the caller's buffer it takes */
	const void *thdr;		/* type header (after the descriptor) */
	uint32_t thdr_len;		/* hdr_len - 16; 0 for in-band packets */
	const void *data;		/* payload, data_len bytes */
	uint32_t data_len;
};

/* Live state of one endpoint, for the admin tool. */
struct vmbus_ring_stats {
	uint32_t tx_size, tx_write_index, tx_read_index, tx_used;
	uint32_t tx_interrupt_mask, tx_pending_send_sz;
	uint32_t rx_size, rx_write_index, rx_read_index, rx_used;
	uint32_t rx_interrupt_mask, rx_pending_send_sz;
	uint64_t tx_packets, tx_bytes, tx_signals, tx_full;
	uint64_t rx_packets, rx_bytes, rx_signals, errors;
	int error;
};

/* Initialise a ring's header page (the client does this, before granting). */
int vmbus_ring_hdr_init(void *ring, size_t size, uint32_t features);

/*
 * Attach to two rings of @tx_size and @rx_size bytes (header page included).
 * The indexes this endpoint owns are taken from the headers once, so that an
 * endpoint can attach after the peer started using the rings.
 */
int vmbus_ring_init(struct vmbus_ring *r, void *tx, size_t tx_size,
		    void *rx, size_t rx_size,
		    vmbus_ring_signal_fn *signal, void *signal_arg);

/* --- sending --- */

/*
 * Send a packet: descriptor, type header (padded to 8), payload (padded).
 * In-band packets (VMBUS_PKT_DATA_INBAND) take no type header (-EINVAL):
 * the writer may leave a gap there to place a payload of a page or more on
 * a page boundary of the ring (see include/xenvmbus/ring.h), when the ring
 * has room for it; otherwise the packet is packed.
 */
int vmbus_ring_send(struct vmbus_ring *r, uint16_t type, uint16_t flags,
		    uint64_t trans_id, const void *thdr, size_t thdr_len,
		    const void *data, size_t data_len);
int vmbus_ring_send_inband(struct vmbus_ring *r, const void *data,
			   size_t len, uint64_t trans_id, uint16_t flags);
/*
 * The gap an in-band packet of @len payload bytes starting at @start leaves
 * in front of its payload, on a ring of @data_size data bytes, when the
 * ring has room for it: what puts the payload on a page boundary, or 0.
 */
uint32_t vmbus_ring_inband_gap(uint32_t data_size, uint32_t start, size_t len);
int vmbus_ring_send_comp(struct vmbus_ring *r, uint64_t trans_id,
			 const void *data, size_t len);

/* One range of grant pages, as sent in GPA-direct packets and GPADLs. */
struct vmbus_gpa_desc {
	uint32_t byte_count;
	uint32_t byte_offset;		/* < VMBUS_GRANT_PAGE_SIZE */
	uint32_t gref_count;		/* = VMBUS_GPA_RANGE_PAGES(offset, count) */
	const vmbus_gref_t *grefs;
};

int vmbus_ring_send_xferpage(struct vmbus_ring *r, uint16_t pageset_id,
			     bool sender_owns_set,
			     const struct vmbus_pkt_range *ranges,
			     uint32_t nranges, uint64_t trans_id,
			     uint16_t flags, const void *data, size_t len);
/* Ranges one GPA-direct packet may carry (the range buffer has no limit). */
#define VMBUS_GPA_DIRECT_MAX_RANGES	64

int vmbus_ring_send_gpa_direct(struct vmbus_ring *r,
			       const struct vmbus_gpa_desc *ranges,
			       uint32_t nranges, uint64_t trans_id,
			       uint16_t flags, const void *data, size_t len);
int vmbus_ring_send_gpadl(struct vmbus_ring *r, uint32_t gpadl_id,
			  const struct vmbus_pkt_range *ranges,
			  uint32_t nranges, uint64_t trans_id, uint16_t flags,
			  const void *data, size_t len);

/*
 * Batching: between begin and commit, packets are written but write_index
 * is published (and the peer signalled, if the rules say so) once, at
 * commit.  A send that runs out of space inside a batch publishes what was
 * written so far before returning -EAGAIN.  Batches nest.
 */
void vmbus_ring_tx_begin(struct vmbus_ring *r);
int vmbus_ring_tx_commit(struct vmbus_ring *r);

/* Bytes a packet (with trailer) may occupy right now, or -EPROTO. */
int64_t vmbus_ring_tx_space(struct vmbus_ring *r);

/* --- receiving --- */

/*
 * Copy the next packet into @buf and describe it in @pkt without consuming
 * it.  -EMSGSIZE with pkt->buf_len set when @buf is too small.  The gap of
 * an in-band packet is skipped: it takes len - (hdr_len - 16) bytes.  Use the
 * pointers in @pkt, not @buf: when @buf has VMBUS_RING_RX_SLACK bytes more
 * than the packet, the packet is placed at the offset within a cache line
 * it has in the ring, so that the copy runs between equally aligned
 * addresses (no load straddles two cache lines).
 */
#define VMBUS_RING_RX_SLACK	64u
int vmbus_ring_peek(struct vmbus_ring *r, struct vmbus_pkt *pkt,
		    void *buf, size_t buflen);
/* Consume the packet returned by the last successful peek. */
int vmbus_ring_consume(struct vmbus_ring *r);
/*
 * Pass over the packet the last peek looked at, also when it returned
 * -EMSGSIZE: its extent comes from the descriptor and trailer that peek
 * checked, never from a second read of the ring.  -EINVAL when the last
 * peek did not get that far (empty ring, broken ring).
 */
int vmbus_ring_skip(struct vmbus_ring *r);
/* peek + consume. */
int vmbus_ring_recv(struct vmbus_ring *r, struct vmbus_pkt *pkt,
		    void *buf, size_t buflen);

/* Batched reads: read_index is published once, at commit. */
void vmbus_ring_rx_begin(struct vmbus_ring *r);
int vmbus_ring_rx_commit(struct vmbus_ring *r);

/* Bytes waiting to be read, or -EPROTO. */
int64_t vmbus_ring_rx_pending(struct vmbus_ring *r);

/*
 * Interrupt mask of the receive ring: mask while draining (the peer then
 * writes without signalling); unmask returns the bytes that arrived
 * meanwhile, and the caller must drain again if it is not zero.
 */
void vmbus_ring_rx_mask(struct vmbus_ring *r);
int64_t vmbus_ring_rx_unmask(struct vmbus_ring *r);

/* --- decoding received packets (private copies, already length-checked) --- */

int vmbus_pkt_get_xferpage(const struct vmbus_pkt *pkt, uint16_t *pageset_id,
			   bool *sender_owns_set,
			   struct vmbus_pkt_range *ranges, uint32_t max_ranges,
			   uint32_t *nranges);
int vmbus_pkt_get_gpa_direct(const struct vmbus_pkt *pkt,
			     struct vmbus_gpa_desc *ranges,
			     uint32_t max_ranges, uint32_t *nranges,
			     vmbus_gref_t *grefs, uint32_t max_grefs);
int vmbus_pkt_get_gpadl(const struct vmbus_pkt *pkt, uint32_t *gpadl_id,
			struct vmbus_pkt_range *ranges, uint32_t max_ranges,
			uint32_t *nranges);

/* --- range buffers (gpadl.c), shared by packets and GPADL messages --- */

/* Bytes the encoded ranges take, or -EINVAL. */
int64_t vmbus_gpa_encoded_len(const struct vmbus_gpa_desc *ranges,
			      uint32_t nranges);
/* Encode into @buf; returns the bytes written or -errno. */
int64_t vmbus_gpa_encode(void *buf, size_t buflen,
			 const struct vmbus_gpa_desc *ranges, uint32_t nranges);
/*
 * Parse @nranges ranges from @buf into @ranges, copying grant references
 * into @grefs (the descriptors point there).  Returns the bytes consumed or
 * -errno (-EINVAL malformed, -E2BIG more than the caller's maxima).
 */
int64_t vmbus_gpa_parse(const void *buf, size_t buflen, uint32_t nranges,
			struct vmbus_gpa_desc *ranges, uint32_t max_ranges,
			vmbus_gref_t *grefs, uint32_t max_grefs,
			uint32_t *ngrefs);
/*
 * 0 if the @n grant references are all different, -EEXIST if one appears
 * twice.  @scratch (@n entries) is overwritten.  O(n log n).
 */
int vmbus_gpa_grefs_unique(const vmbus_gref_t *grefs, uint32_t n,
			   vmbus_gref_t *scratch);

/* --- live state --- */

void vmbus_ring_get_stats(const struct vmbus_ring *r,
			  struct vmbus_ring_stats *st);

/* --- completions by transaction id (trans.c) --- */

struct vmbus_trans_slot {
	void *ctx;
	uint32_t gen;
	uint32_t next_free;
	bool busy;
};

struct vmbus_trans_table {
	struct vmbus_trans_slot *slots;
	uint32_t nslots;
	uint32_t free_head;		/* slot index + 1, 0 = none */
	uint32_t inuse;
};

/* @slots is caller memory for @nslots outstanding requests. */
int vmbus_trans_init(struct vmbus_trans_table *t,
		     struct vmbus_trans_slot *slots, uint32_t nslots);
/* Reserve an id for a request carrying @ctx; -ENOSPC when all are in use. */
int vmbus_trans_alloc(struct vmbus_trans_table *t, void *ctx, uint64_t *id);
/* Match a completion; -ENOENT for an id that is not outstanding. */
int vmbus_trans_complete(struct vmbus_trans_table *t, uint64_t id,
			 void **ctx);

#endif /* VMBUS_RING_API_H */
