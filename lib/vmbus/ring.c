/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VMBus ring buffers over plain shared memory.
 *
 * The contract with the peer (full text in <xenvmbus/ring.h>):
 *
 *   field            owner    we read it               we write it
 *   write_index      writer   rx: acquire, once/op     tx: release, at publish
 *   read_index       reader   tx: acquire, once/op     rx: release, at publish
 *   interrupt_mask   reader   tx: once, after publish  rx: mask / unmask
 *   pending_send_sz  writer   rx: once, after publish  tx: when out of space
 *   feature_bits     client   once, at init            hdr_init only
 *
 *  - Our own index lives in private memory; the header copy is output only,
 *    so a peer scribbling over it cannot move us.
 *  - Every peer-owned value is read once into a local, checked (below the
 *    data size, 8-byte aligned), then used.  A bad one breaks the ring
 *    (-EPROTO, sticky): the endpoint stops using it, it does not crash.
 *  - Packets are copied out of the ring before they are looked at: the
 *    descriptor first (checked), then the rest; the caller gets the checked
 *    descriptor, never a second read of it.
 *  - The writer never leaves the ring completely full (free space must stay
 *    above zero after a write), so read == write always means empty.
 *  - Signals: the writer signals at publish iff the ring was empty before
 *    (read_index == previously published write_index) and interrupt_mask is
 *    clear; the reader signals at publish iff the free space crossed the
 *    writer's pending_send_sz.  Both decisions load after a full fence that
 *    follows the publishing store: with the peer doing the mirror image
 *    (store its field, fence, load ours) one of the two always sees the
 *    other, so no wakeup is lost.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/string.h>
#else
#include <errno.h>
#include <string.h>
#endif

#include "barrier.h"
#include "vmbus_ring.h"

static const uint8_t vmbus_zero_pad[VMBUS_PKT_ALIGN];

static inline uint32_t vmbus_align8(uint32_t n)
{
	return (n + VMBUS_PKT_ALIGN - 1) & ~(VMBUS_PKT_ALIGN - 1);
}

/* Bytes between @from and @to going forward (both < size). */
static inline uint32_t ring_dist(const struct vmbus_ring_half *h,
				 uint32_t from, uint32_t to)
{
	return to >= from ? to - from : h->size - from + to;
}

static inline uint32_t ring_add(const struct vmbus_ring_half *h,
				uint32_t idx, uint32_t n)
{
	uint32_t room = h->size - idx;

	return n < room ? idx + n : n - room;
}

static inline bool ring_index_ok(const struct vmbus_ring_half *h, uint32_t v)
{
	return v < h->size && (v & (VMBUS_PKT_ALIGN - 1)) == 0;
}

static int ring_break(struct vmbus_ring *r)
{
	if (!r->error)
		r->errors++;
	r->error = -EPROTO;
	return -EPROTO;
}

/*
 * Copies in and out of the ring.  Packets are 8-byte aligned, so a payload
 * rarely has the same offset within a cache line in the ring as in the
 * caller's buffer; the vector loops memcpy uses for mid-sized copies then
 * split every load across two lines, while x86's string copy (rep movsb,
 * which memcpy itself uses only for larger copies) does not care.
 */
static inline void ring_memcpy(void *dst, const void *src, size_t len)
{
#if defined(__x86_64__) && !defined(__KERNEL__)
	if (len >= 1024 && ((uintptr_t)dst - (uintptr_t)src) % 64) {
		__asm__ volatile("rep movsb"
				 : "+D"(dst), "+S"(src), "+c"(len)
				 : : "memory");
		return;
	}
#endif
	memcpy(dst, src, len);
}

/* Copy @len bytes out of the data area at @off, wrapping. */
static void ring_copy_out(const struct vmbus_ring_half *h, uint32_t off,
			  void *dst, uint32_t len)
{
	uint32_t first = h->size - off;

	if (first > len)
		first = len;
	ring_memcpy(dst, h->data + off, first);
	if (len > first)
		ring_memcpy((uint8_t *)dst + first, h->data, len - first);
}

/* Copy @len bytes into the data area at @off, wrapping; returns new offset. */
static uint32_t ring_copy_in(const struct vmbus_ring_half *h, uint32_t off,
			     const void *src, uint32_t len)
{
	uint32_t first = h->size - off;

	if (first > len)
		first = len;
	ring_memcpy(h->data + off, src, first);
	if (len > first)
		ring_memcpy(h->data, (const uint8_t *)src + first, len - first);
	return ring_add(h, off, len);
}

static int ring_half_init(struct vmbus_ring_half *h, void *mem, size_t size)
{
	size_t dsize;

	if (!mem || size <= VMBUS_RING_HDR_SIZE)
		return -EINVAL;
	dsize = size - VMBUS_RING_HDR_SIZE;
	/* Room for at least one minimal packet plus the never-full byte. */
	if (dsize < 64 || dsize > 0x80000000u || dsize % VMBUS_PKT_ALIGN)
		return -EINVAL;
	h->hdr = mem;
	h->data = (uint8_t *)mem + VMBUS_RING_HDR_SIZE;
	h->size = (uint32_t)dsize;
	return 0;
}

int vmbus_ring_hdr_init(void *ring, size_t size, uint32_t features)
{
	struct vmbus_ring_half h;
	int rc;

	rc = ring_half_init(&h, ring, size);
	if (rc)
		return rc;
	memset(h.hdr, 0, sizeof(*h.hdr));
	h.hdr->feature_bits = features;
	return 0;
}

int vmbus_ring_init(struct vmbus_ring *r, void *tx, size_t tx_size,
		    void *rx, size_t rx_size,
		    vmbus_ring_signal_fn *signal, void *signal_arg)
{
	uint32_t v;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = ring_half_init(&r->tx, tx, tx_size);
	if (rc)
		return rc;
	rc = ring_half_init(&r->rx, rx, rx_size);
	if (rc)
		return rc;
	r->signal = signal;
	r->signal_arg = signal_arg;

	r->tx.features = vmbus_load_once(&r->tx.hdr->feature_bits);
	r->rx.features = vmbus_load_once(&r->rx.hdr->feature_bits);

	v = vmbus_load_once(&r->tx.hdr->write_index);
	if (!ring_index_ok(&r->tx, v))
		return -EPROTO;
	r->tx.index = r->tx.published = v;

	v = vmbus_load_once(&r->rx.hdr->read_index);
	if (!ring_index_ok(&r->rx, v))
		return -EPROTO;
	r->rx.index = r->rx.published = v;
	return 0;
}

static void ring_signal(struct vmbus_ring *r, uint64_t *counter)
{
	(*counter)++;
	if (r->signal)
		r->signal(r->signal_arg);
}

/* ------------------------------------------------------------------ */
/* Writer                                                              */
/* ------------------------------------------------------------------ */

/*
 * Read the peer's index of @h (@idx, in the shared header) into h->peer,
 * unless @fresh is false and we have it already; 0 or -EPROTO.  Acquire:
 * for the send ring, the reader's copies out of the bytes it released are
 * done before we overwrite them; for the receive ring, the packet bytes
 * are read only after the index that covers them.
 */
static int ring_peer_index(struct vmbus_ring *r, struct vmbus_ring_half *h,
			   const uint32_t *idx, bool fresh)
{
	uint32_t v;

	if (!fresh && h->peer_known)
		return 0;
	v = vmbus_load_acquire(idx);
	if (!ring_index_ok(h, v))
		return ring_break(r);
	h->peer = v;
	h->peer_known = true;
	return 0;
}

/*
 * Free bytes of the send ring as seen from our private write index; with
 * @fresh false, as of the read_index we last read (a lower bound, and no
 * access to the header's cache line the reader writes).
 */
static int64_t tx_free_at(struct vmbus_ring *r, bool fresh)
{
	int rc;

	if (r->error)
		return r->error;
	rc = ring_peer_index(r, &r->tx, &r->tx.hdr->read_index, fresh);
	if (rc)
		return rc;
	return r->tx.size - ring_dist(&r->tx, r->tx.peer, r->tx.index);
}

static int64_t tx_free(struct vmbus_ring *r)
{
	return tx_free_at(r, true);
}

int64_t vmbus_ring_tx_space(struct vmbus_ring *r)
{
	return tx_free(r);
}

/* Make everything written so far visible and signal if the rules say so. */
static void tx_publish(struct vmbus_ring *r)
{
	uint32_t old = r->tx.published, rd, mask;

	if (r->tx.index == old)
		return;
	/* Release: the packet bytes are visible before the index that covers them. */
	vmbus_store_release(&r->tx.hdr->write_index, r->tx.index);
	r->tx.published = r->tx.index;

	/*
	 * Full fence: our write_index store is ordered before the loads of
	 * interrupt_mask and read_index.  The reader unmasks (store), fences,
	 * then loads write_index; one of us sees the other's store.
	 */
	vmbus_mb();
	mask = vmbus_load_once(&r->tx.hdr->interrupt_mask);
	if (mask)
		return;
	rd = vmbus_load_once(&r->tx.hdr->read_index);
	/* Only the empty -> non-empty transition wakes the reader. */
	if (rd == old)
		ring_signal(r, &r->tx_signals);
}

/*
 * Ask the reader to signal when @need bytes are free, then look again:
 * the reader publishes read_index, fences, loads pending_send_sz; we store
 * pending_send_sz, fence, load read_index.  Returns the free space seen.
 */
static int64_t tx_wait_space(struct vmbus_ring *r, uint32_t need)
{
	/* The reader measures against the published index: publish first. */
	tx_publish(r);
	vmbus_store_once(&r->tx.hdr->pending_send_sz, need);
	r->tx_pending = true;
	r->tx_full++;
	/* Full fence: pending_send_sz is visible before we reload read_index. */
	vmbus_mb();
	return tx_free(r);
}

struct vmbus_iov {
	const void *base;
	size_t len;
};

/*
 * Both copies of a payload of a page or more run over whole, aligned pages
 * when it starts on a page boundary: streamed between two CPUs
 * (bench/ring), 4 KiB payloads moved 10-20% faster so than packed, at the
 * cost of up to a page of ring space each.  Only where at least four such
 * packets fit the ring, and offset8 can say it.
 */
uint32_t vmbus_ring_inband_gap(uint32_t data_size, uint32_t start, size_t len)
{
	uint64_t total;
	uint32_t gap;

	if (len < VMBUS_RING_PAYLOAD_ALIGN)
		return 0;
	total = vmbus_align8((uint32_t)(sizeof(struct vmbus_pkt_desc) + len)) +
		VMBUS_PKT_TRAILER_SIZE;
	gap = (VMBUS_RING_PAYLOAD_ALIGN -
	       (start + sizeof(struct vmbus_pkt_desc)) % VMBUS_RING_PAYLOAD_ALIGN) %
	      VMBUS_RING_PAYLOAD_ALIGN;
	if (total + gap > data_size / 4 ||
	    total - VMBUS_PKT_TRAILER_SIZE + gap > VMBUS_PKT_MAX_LEN)
		return 0;
	return gap;
}

/*
 * Write one packet: descriptor, then @niov pieces.  @hdr_len is the length
 * of descriptor + type header (already a multiple of 8, the pieces include
 * its padding); the payload padding and the trailer are added here.
 */
static int ring_write(struct vmbus_ring *r, uint16_t type, uint16_t flags,
		      uint64_t trans_id, size_t hdr_len,
		      const struct vmbus_iov *iov, unsigned int niov)
{
	struct vmbus_pkt_desc desc;
	uint64_t trailer;
	size_t body = 0, pktlen;
	uint32_t start, idx, total, gap = 0;
	int64_t free_bytes;
	unsigned int i;

	if (r->error)
		return r->error;
	for (i = 0; i < niov; i++) {
		if (iov[i].len > VMBUS_PKT_MAX_LEN)
			return -EMSGSIZE;
		body += iov[i].len;
	}
	if (hdr_len % VMBUS_PKT_ALIGN || hdr_len < sizeof(desc) ||
	    hdr_len > sizeof(desc) + body)
		return -EINVAL;
	if (sizeof(desc) + body > VMBUS_PKT_MAX_LEN)
		return -EMSGSIZE;
	pktlen = vmbus_align8((uint32_t)(sizeof(desc) + body));
	/* Even an empty ring could not take it without filling up. */
	if (pktlen + VMBUS_PKT_TRAILER_SIZE >= r->tx.size)
		return -EMSGSIZE;
	total = (uint32_t)pktlen + VMBUS_PKT_TRAILER_SIZE;
	if (type == VMBUS_PKT_DATA_INBAND && hdr_len == sizeof(desc) &&
	    !r->tx_packed)
		gap = vmbus_ring_inband_gap(r->tx.size, r->tx.index, body);

	free_bytes = tx_free_at(r, false);
	if (free_bytes >= 0 && free_bytes <= total + gap)
		free_bytes = tx_free(r);
	if (free_bytes >= 0 && free_bytes <= total)
		free_bytes = tx_wait_space(r, total);
	if (free_bytes < 0)
		return (int)free_bytes;
	/* Never completely full: strictly more free space than we use. */
	if (free_bytes <= total)
		return -EAGAIN;
	/* No room for the gap: pack the packet rather than wait for room. */
	if (free_bytes <= total + gap)
		gap = 0;
	hdr_len += gap;
	pktlen += gap;
	total += gap;

	desc.type = type;
	desc.flags = flags;
	desc.trans_id = trans_id;
	desc.offset8 = (uint16_t)(hdr_len / VMBUS_PKT_ALIGN);
	desc.len8 = (uint16_t)(pktlen / VMBUS_PKT_ALIGN);

	/*
	 * The payload first, then the descriptor in front of it and the
	 * trailer: the reader sees none of it before the release store that
	 * publishes it, and a small store still waiting for its cache line
	 * cannot hold up the loads of the payload's copy (on x86 a load whose
	 * address matches a pending store's in the low 12 bits waits for it,
	 * and a 4 KiB payload always has one such load).
	 */
	start = r->tx.index;
	/* The gap is not written: the reader skips it. */
	idx = ring_add(&r->tx, start, sizeof(desc) + gap);
	for (i = 0; i < niov; i++)
		if (iov[i].len)
			idx = ring_copy_in(&r->tx, idx, iov[i].base,
					   (uint32_t)iov[i].len);
	if (pktlen > sizeof(desc) + gap + body)
		idx = ring_copy_in(&r->tx, idx, vmbus_zero_pad,
				   (uint32_t)(pktlen - sizeof(desc) - gap - body));
	ring_copy_in(&r->tx, start, &desc, sizeof(desc));
	trailer = VMBUS_PKT_TRAILER(start);
	idx = ring_copy_in(&r->tx, idx, &trailer, sizeof(trailer));
	r->tx.index = idx;

	if (r->tx_pending) {
		/* Space was found: the reader need not wake us any more. */
		vmbus_store_once(&r->tx.hdr->pending_send_sz, 0);
		r->tx_pending = false;
	}
	r->tx_packets++;
	r->tx_bytes += total;
	return 0;
}

void vmbus_ring_tx_begin(struct vmbus_ring *r)
{
	r->tx_batch++;
}

int vmbus_ring_tx_commit(struct vmbus_ring *r)
{
	if (r->tx_batch && --r->tx_batch)
		return 0;
	if (r->error)
		return r->error;
	tx_publish(r);
	return 0;
}

static int ring_sendv(struct vmbus_ring *r, uint16_t type, uint16_t flags,
		      uint64_t trans_id, size_t hdr_len,
		      const struct vmbus_iov *iov, unsigned int niov)
{
	int rc;

	vmbus_ring_tx_begin(r);
	/* Out of space, ring_write has published the batch so far. */
	rc = ring_write(r, type, flags, trans_id, hdr_len, iov, niov);
	vmbus_ring_tx_commit(r);
	return rc;
}

int vmbus_ring_send(struct vmbus_ring *r, uint16_t type, uint16_t flags,
		    uint64_t trans_id, const void *thdr, size_t thdr_len,
		    const void *data, size_t data_len)
{
	struct vmbus_iov iov[3];
	size_t pad;

	if ((thdr_len && !thdr) || (data_len && !data) ||
	    thdr_len > VMBUS_PKT_MAX_LEN ||
	    (type == VMBUS_PKT_DATA_INBAND && thdr_len))
		return -EINVAL;
	pad = vmbus_align8((uint32_t)thdr_len) - thdr_len;
	iov[0] = (struct vmbus_iov){ thdr, thdr_len };
	iov[1] = (struct vmbus_iov){ vmbus_zero_pad, pad };
	iov[2] = (struct vmbus_iov){ data, data_len };
	return ring_sendv(r, type, flags, trans_id,
			  sizeof(struct vmbus_pkt_desc) + thdr_len + pad,
			  iov, 3);
}

int vmbus_ring_send_inband(struct vmbus_ring *r, const void *data,
			   size_t len, uint64_t trans_id, uint16_t flags)
{
	return vmbus_ring_send(r, VMBUS_PKT_DATA_INBAND, flags, trans_id,
			       NULL, 0, data, len);
}

int vmbus_ring_send_comp(struct vmbus_ring *r, uint64_t trans_id,
			 const void *data, size_t len)
{
	return vmbus_ring_send(r, VMBUS_PKT_COMP, 0, trans_id, NULL, 0,
			       data, len);
}

/* The type header of a packet without its descriptor. */
#define THDR(type) (sizeof(type) - sizeof(struct vmbus_pkt_desc))

int vmbus_ring_send_xferpage(struct vmbus_ring *r, uint16_t pageset_id,
			     bool sender_owns_set,
			     const struct vmbus_pkt_range *ranges,
			     uint32_t nranges, uint64_t trans_id,
			     uint16_t flags, const void *data, size_t len)
{
	struct vmbus_pkt_xferpage h;
	struct vmbus_iov iov[3];

	if (!nranges || !ranges || nranges > VMBUS_PKT_MAX_LEN / sizeof(*ranges) ||
	    (len && !data))
		return -EINVAL;
	memset(&h, 0, sizeof(h));
	h.pageset_id = pageset_id;
	h.sender_owns_set = sender_owns_set;
	h.range_count = nranges;
	iov[0] = (struct vmbus_iov){ (const uint8_t *)&h + sizeof(h.desc),
				     THDR(h) };
	iov[1] = (struct vmbus_iov){ ranges, nranges * sizeof(*ranges) };
	iov[2] = (struct vmbus_iov){ data, len };
	/* 24 + 8n is already a multiple of 8. */
	return ring_sendv(r, VMBUS_PKT_DATA_USING_XFER_PAGES, flags, trans_id,
			  sizeof(h) + iov[1].len, iov, 3);
}

int vmbus_ring_send_gpadl(struct vmbus_ring *r, uint32_t gpadl_id,
			  const struct vmbus_pkt_range *ranges,
			  uint32_t nranges, uint64_t trans_id, uint16_t flags,
			  const void *data, size_t len)
{
	struct vmbus_pkt_gpadl h;
	struct vmbus_iov iov[3];

	if (!nranges || !ranges || nranges > VMBUS_PKT_MAX_LEN / sizeof(*ranges) ||
	    (len && !data))
		return -EINVAL;
	memset(&h, 0, sizeof(h));
	h.gpadl_id = gpadl_id;
	h.range_count = nranges;
	iov[0] = (struct vmbus_iov){ (const uint8_t *)&h + sizeof(h.desc),
				     THDR(h) };
	iov[1] = (struct vmbus_iov){ ranges, nranges * sizeof(*ranges) };
	iov[2] = (struct vmbus_iov){ data, len };
	return ring_sendv(r, VMBUS_PKT_DATA_USING_GPADL, flags, trans_id,
			  sizeof(h) + iov[1].len, iov, 3);
}

int vmbus_ring_send_gpa_direct(struct vmbus_ring *r,
			       const struct vmbus_gpa_desc *ranges,
			       uint32_t nranges, uint64_t trans_id,
			       uint16_t flags, const void *data, size_t len)
{
	/* Range heads and grant lists alternate: written piecewise, not staged. */
	struct vmbus_iov iov[2 * VMBUS_GPA_DIRECT_MAX_RANGES + 3];
	struct vmbus_gpa_range heads[VMBUS_GPA_DIRECT_MAX_RANGES];
	struct vmbus_pkt_gpa_direct h;
	unsigned int niov = 0;
	int64_t blen;
	size_t pad;
	uint32_t i;

	if (nranges > VMBUS_GPA_DIRECT_MAX_RANGES)
		return -E2BIG;
	blen = vmbus_gpa_encoded_len(ranges, nranges);
	if (blen < 0)
		return (int)blen;
	if (len && !data)
		return -EINVAL;
	if (blen > (int64_t)VMBUS_PKT_MAX_LEN)
		return -EMSGSIZE;
	memset(&h, 0, sizeof(h));
	h.range_count = nranges;
	iov[niov++] = (struct vmbus_iov){ (const uint8_t *)&h + sizeof(h.desc),
					  THDR(h) };
	for (i = 0; i < nranges; i++) {
		heads[i].byte_count = ranges[i].byte_count;
		heads[i].byte_offset = ranges[i].byte_offset;
		iov[niov++] = (struct vmbus_iov){ &heads[i], sizeof(heads[i]) };
		iov[niov++] = (struct vmbus_iov){
			ranges[i].grefs,
			ranges[i].gref_count * sizeof(vmbus_gref_t) };
	}
	pad = vmbus_align8((uint32_t)blen) - (size_t)blen;
	iov[niov++] = (struct vmbus_iov){ vmbus_zero_pad, pad };
	iov[niov++] = (struct vmbus_iov){ data, len };
	return ring_sendv(r, VMBUS_PKT_DATA_USING_GPA_DIRECT, flags, trans_id,
			  sizeof(h) + (size_t)blen + pad, iov, niov);
}

/* ------------------------------------------------------------------ */
/* Reader                                                              */
/* ------------------------------------------------------------------ */

/* Bytes the writer has published beyond our private read index. */
/*
 * Bytes waiting in the receive ring; with @fresh false, as of the
 * write_index we last read (whole packets, never more than there are).
 */
static int64_t rx_avail_at(struct vmbus_ring *r, bool fresh)
{
	int rc;

	if (r->error)
		return r->error;
	rc = ring_peer_index(r, &r->rx, &r->rx.hdr->write_index, fresh);
	if (rc)
		return rc;
	return ring_dist(&r->rx, r->rx.index, r->rx.peer);
}

static int64_t rx_avail(struct vmbus_ring *r)
{
	return rx_avail_at(r, true);
}

int64_t vmbus_ring_rx_pending(struct vmbus_ring *r)
{
	return rx_avail(r);
}

int vmbus_ring_peek(struct vmbus_ring *r, struct vmbus_pkt *pkt,
		    void *buf, size_t buflen)
{
	struct vmbus_pkt_desc desc;
	uint32_t start = r->rx.index, len, hlen, idx, skip, from;
	uint8_t *dst;
	uint64_t trailer;
	int64_t avail;

	r->rx_peeked = false;
	r->rx_checked = false;
	/* What we already know of first; the writer publishes whole packets. */
	avail = rx_avail_at(r, false);
	if (avail >= 0 && avail < (int64_t)(sizeof(desc) + VMBUS_PKT_TRAILER_SIZE))
		avail = rx_avail(r);
	if (avail <= 0)
		return avail ? (int)avail : -EAGAIN;
	if (avail < (int64_t)(sizeof(desc) + VMBUS_PKT_TRAILER_SIZE))
		return ring_break(r);

	/* One read of the descriptor; everything below uses this copy. */
	ring_copy_out(&r->rx, start, &desc, sizeof(desc));
	len = (uint32_t)desc.len8 * VMBUS_PKT_ALIGN;
	hlen = (uint32_t)desc.offset8 * VMBUS_PKT_ALIGN;
	if ((int64_t)len + VMBUS_PKT_TRAILER_SIZE > avail) {
		avail = rx_avail(r);
		if (avail < 0)
			return (int)avail;
	}
	if (hlen < sizeof(desc) || len < hlen ||
	    (int64_t)len + VMBUS_PKT_TRAILER_SIZE > avail ||
	    desc.type == VMBUS_PKT_INVALID || desc.type > VMBUS_PKT_TYPE_MAX)
		return ring_break(r);

	idx = ring_add(&r->rx, start, len);
	ring_copy_out(&r->rx, idx, &trailer, sizeof(trailer));
	if (trailer != VMBUS_PKT_TRAILER(start))
		return ring_break(r);
	/* The packet's extent is checked: vmbus_ring_skip may pass it. */
	r->rx_next = ring_add(&r->rx, idx, VMBUS_PKT_TRAILER_SIZE);
	r->rx_checked = true;

	/* In-band packets have no type header: up to offset8 is a gap. */
	skip = desc.type == VMBUS_PKT_DATA_INBAND ? hlen - (uint32_t)sizeof(desc) : 0;
	memset(pkt, 0, sizeof(*pkt));
	pkt->len = len;
	pkt->buf_len = len - skip;
	if (buflen < pkt->buf_len)
		return -EMSGSIZE;

	/* Everything after the descriptor is copied from @from on. */
	from = ring_add(&r->rx, start, sizeof(desc) + skip);
	dst = buf;
	if (buflen - pkt->buf_len >= VMBUS_RING_RX_SLACK)
		dst += ((uintptr_t)(r->rx.data + from) -
			(uintptr_t)(dst + sizeof(desc))) &
		       (VMBUS_RING_RX_SLACK - 1);
	memcpy(dst, &desc, sizeof(desc));
	ring_copy_out(&r->rx, from, dst + sizeof(desc), pkt->buf_len - sizeof(desc));

	pkt->type = desc.type;
	pkt->flags = desc.flags;
	pkt->trans_id = desc.trans_id;
	pkt->hdr_len = hlen;
	pkt->thdr = dst + sizeof(desc);
	pkt->thdr_len = hlen - sizeof(desc) - skip;
	pkt->data = dst + sizeof(desc) + pkt->thdr_len;
	pkt->data_len = len - hlen;

	r->rx_peeked = true;
	return 0;
}

/* Give the consumed bytes back and wake a writer waiting for them. */
static void rx_publish(struct vmbus_ring *r)
{
	uint32_t old = r->rx.published, pending, wr, before, after;

	if (r->rx.index == old || r->error)
		return;
	/* Release: our copies out of the ring finish before the space is reused. */
	vmbus_store_release(&r->rx.hdr->read_index, r->rx.index);
	r->rx.published = r->rx.index;

	/*
	 * Full fence: the read_index store is ordered before the load of
	 * pending_send_sz.  The writer stores pending_send_sz, fences, then
	 * loads read_index; one of us sees the other's store.
	 */
	vmbus_mb();
	pending = vmbus_load_once(&r->rx.hdr->pending_send_sz);
	if (!pending)
		return;
	wr = vmbus_load_once(&r->rx.hdr->write_index);
	if (!ring_index_ok(&r->rx, wr)) {
		ring_break(r);
		return;
	}
	if (!(r->rx.features & VMBUS_RING_FEAT_PENDING_SEND_SZ)) {
		/* Without the feature every release of space is worth a signal. */
		ring_signal(r, &r->rx_signals);
		return;
	}
	before = r->rx.size - ring_dist(&r->rx, old, wr);
	after = r->rx.size - ring_dist(&r->rx, r->rx.index, wr);
	/* Signal once, on the crossing: the writer needs free > pending. */
	if (before <= pending && after > pending)
		ring_signal(r, &r->rx_signals);
}

/* Pass the packet whose descriptor and trailer the last peek checked. */
static void rx_advance(struct vmbus_ring *r)
{
	r->rx_peeked = false;
	r->rx_checked = false;
	r->rx_bytes += ring_dist(&r->rx, r->rx.index, r->rx_next);
	r->rx_packets++;
	r->rx.index = r->rx_next;
	if (!r->rx_batch)
		rx_publish(r);
}

int vmbus_ring_consume(struct vmbus_ring *r)
{
	if (r->error)
		return r->error;
	if (!r->rx_peeked)
		return -EINVAL;
	rx_advance(r);
	return 0;
}

int vmbus_ring_skip(struct vmbus_ring *r)
{
	if (r->error)
		return r->error;
	if (!r->rx_checked)
		return -EINVAL;
	rx_advance(r);
	return 0;
}

int vmbus_ring_recv(struct vmbus_ring *r, struct vmbus_pkt *pkt,
		    void *buf, size_t buflen)
{
	int rc = vmbus_ring_peek(r, pkt, buf, buflen);

	return rc ? rc : vmbus_ring_consume(r);
}

void vmbus_ring_rx_begin(struct vmbus_ring *r)
{
	r->rx_batch++;
}

int vmbus_ring_rx_commit(struct vmbus_ring *r)
{
	if (r->rx_batch && --r->rx_batch)
		return 0;
	rx_publish(r);
	return r->error;
}

void vmbus_ring_rx_mask(struct vmbus_ring *r)
{
	/* No ordering needed: a signal sent before the writer sees it is harmless. */
	vmbus_store_once(&r->rx.hdr->interrupt_mask, 1);
}

int64_t vmbus_ring_rx_unmask(struct vmbus_ring *r)
{
	vmbus_store_once(&r->rx.hdr->interrupt_mask, 0);
	/*
	 * Full fence: the unmask is visible before we look at write_index
	 * again; a writer that published while we were masked did not signal,
	 * so we must see its packet here.
	 */
	vmbus_mb();
	return rx_avail(r);
}

/* ------------------------------------------------------------------ */
/* Decoding received packets                                           */
/* ------------------------------------------------------------------ */

/*
 * The range list that follows a transfer-page or GPADL packet header:
 * exactly @n ranges, filling the rest of the transport header.
 */
static int pkt_ranges(const struct vmbus_pkt *pkt, size_t hdr_len, uint32_t n,
		      struct vmbus_pkt_range *ranges, uint32_t max_ranges,
		      uint32_t *nranges)
{
	if (!n || n > (pkt->thdr_len - hdr_len) / sizeof(*ranges) ||
	    pkt->thdr_len != hdr_len + n * sizeof(*ranges))
		return -EINVAL;
	if (n > max_ranges)
		return -E2BIG;
	memcpy(ranges, (const uint8_t *)pkt->thdr + hdr_len, n * sizeof(*ranges));
	*nranges = n;
	return 0;
}

int vmbus_pkt_get_xferpage(const struct vmbus_pkt *pkt, uint16_t *pageset_id,
			   bool *sender_owns_set,
			   struct vmbus_pkt_range *ranges, uint32_t max_ranges,
			   uint32_t *nranges)
{
	struct vmbus_pkt_xferpage h;
	int rc;

	if (pkt->type != VMBUS_PKT_DATA_USING_XFER_PAGES ||
	    pkt->thdr_len < THDR(h))
		return -EINVAL;
	memcpy((uint8_t *)&h + sizeof(h.desc), pkt->thdr, THDR(h));
	rc = pkt_ranges(pkt, THDR(h), h.range_count, ranges, max_ranges, nranges);
	if (rc)
		return rc;
	*pageset_id = h.pageset_id;
	*sender_owns_set = h.sender_owns_set != 0;
	return 0;
}

int vmbus_pkt_get_gpadl(const struct vmbus_pkt *pkt, uint32_t *gpadl_id,
			struct vmbus_pkt_range *ranges, uint32_t max_ranges,
			uint32_t *nranges)
{
	struct vmbus_pkt_gpadl h;
	int rc;

	if (pkt->type != VMBUS_PKT_DATA_USING_GPADL ||
	    pkt->thdr_len < THDR(h))
		return -EINVAL;
	memcpy((uint8_t *)&h + sizeof(h.desc), pkt->thdr, THDR(h));
	rc = pkt_ranges(pkt, THDR(h), h.range_count, ranges, max_ranges, nranges);
	if (rc)
		return rc;
	*gpadl_id = h.gpadl_id;
	return 0;
}

int vmbus_pkt_get_gpa_direct(const struct vmbus_pkt *pkt,
			     struct vmbus_gpa_desc *ranges,
			     uint32_t max_ranges, uint32_t *nranges,
			     vmbus_gref_t *grefs, uint32_t max_grefs)
{
	struct vmbus_pkt_gpa_direct h;
	uint32_t n, ngrefs, blen;
	int64_t used;

	if (pkt->type != VMBUS_PKT_DATA_USING_GPA_DIRECT ||
	    pkt->thdr_len < THDR(h))
		return -EINVAL;
	memcpy((uint8_t *)&h + sizeof(h.desc), pkt->thdr, THDR(h));
	n = h.range_count;
	blen = pkt->thdr_len - THDR(h);
	if (!n)
		return -EINVAL;
	used = vmbus_gpa_parse((const uint8_t *)pkt->thdr + THDR(h), blen, n,
			       ranges, max_ranges, grefs, max_grefs, &ngrefs);
	if (used < 0)
		return (int)used;
	/* offset8 covers the range buffer plus at most its padding. */
	if (blen - (uint32_t)used >= VMBUS_PKT_ALIGN)
		return -EINVAL;
	*nranges = n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Live state                                                          */
/* ------------------------------------------------------------------ */

void vmbus_ring_get_stats(const struct vmbus_ring *r,
			  struct vmbus_ring_stats *st)
{
	const struct vmbus_ring_half *tx = &r->tx, *rx = &r->rx;
	uint32_t v;

	memset(st, 0, sizeof(*st));
	st->tx_size = tx->size;
	st->tx_write_index = tx->published;
	st->tx_read_index = vmbus_load_once(&tx->hdr->read_index);
	st->tx_interrupt_mask = vmbus_load_once(&tx->hdr->interrupt_mask);
	st->tx_pending_send_sz = vmbus_load_once(&tx->hdr->pending_send_sz);
	v = st->tx_read_index;
	if (ring_index_ok(tx, v))
		st->tx_used = ring_dist(tx, v, tx->published);

	st->rx_size = rx->size;
	st->rx_read_index = rx->published;
	st->rx_write_index = vmbus_load_once(&rx->hdr->write_index);
	st->rx_interrupt_mask = vmbus_load_once(&rx->hdr->interrupt_mask);
	st->rx_pending_send_sz = vmbus_load_once(&rx->hdr->pending_send_sz);
	v = st->rx_write_index;
	if (ring_index_ok(rx, v))
		st->rx_used = ring_dist(rx, rx->published, v);

	st->tx_packets = r->tx_packets;
	st->tx_bytes = r->tx_bytes;
	st->tx_signals = r->tx_signals;
	st->tx_full = r->tx_full;
	st->rx_packets = r->rx_packets;
	st->rx_bytes = r->rx_bytes;
	st->rx_signals = r->rx_signals;
	st->errors = r->errors;
	st->error = r->error;
}
