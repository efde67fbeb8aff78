// SPDX-License-Identifier: GPL-2.0-only
/*
 * One VMBus ring in guest memory granted to the backend.
 *
 * The contract (include/xenvmbus/ring.h has it in full): the writer owns
 * write_index and pending_send_sz, the reader read_index and
 * interrupt_mask; indexes are byte offsets into the data area, multiples
 * of 8, below its size; a packet is a descriptor, its payload, padding to
 * 8 bytes and an 8-byte trailer (start offset << 32); the writer never
 * fills the ring, so equal indexes mean empty.  The writer signals when the
 * ring was empty and the reader has not masked; a reader that frees room
 * signals when the free space crosses the writer's pending_send_sz.
 *
 * Everything the backend writes is hostile: its index is read once, then
 * checked; a packet is copied out of the ring once, then checked, and the
 * class drivers only ever see the copy (rbi->pkt_buffer).  A violation
 * breaks the ring (-EIO), never the guest.
 */
#include <linux/mm.h>
#include <linux/reciprocal_div.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "xvmb.h"

#define XVMB_TRAILER	sizeof(u64)

int xvmb_ring_map(struct hv_ring_buffer_info *rbi, struct page **pages,
		  unsigned int npages, u32 max_pkt_size)
{
	struct page **wrap;
	unsigned int i, ndata = npages - 1;

	if (npages < 2)
		return -EINVAL;
	wrap = kcalloc(2 * ndata + 1, sizeof(*wrap), GFP_KERNEL);
	if (!wrap)
		return -ENOMEM;
	wrap[0] = pages[0];
	for (i = 0; i < 2 * ndata; i++)
		wrap[i + 1] = pages[1 + i % ndata];
	rbi->ring_buffer = vmap(wrap, 2 * ndata + 1, VM_MAP, PAGE_KERNEL);
	kfree(wrap);
	if (!rbi->ring_buffer)
		return -ENOMEM;
	rbi->ring_size = npages << PAGE_SHIFT;
	rbi->ring_size_div10_reciprocal = reciprocal_value(rbi->ring_size / 10);
	rbi->ring_datasize = rbi->ring_size - sizeof(struct hv_ring_buffer);
	rbi->priv_read_index = 0;
	/* The locks are the owner's, set up once (sysfs may hold them). */
	rbi->pkt_buffer = NULL;
	rbi->pkt_buffer_size = 0;
	if (max_pkt_size) {
		rbi->pkt_buffer = kzalloc(max_pkt_size, GFP_KERNEL);
		if (!rbi->pkt_buffer) {
			vunmap(rbi->ring_buffer);
			rbi->ring_buffer = NULL;
			return -ENOMEM;
		}
		rbi->pkt_buffer_size = max_pkt_size;
	}
	/* Ours before the grant is used: indexes 0, both sides honour
	 * pending_send_sz. */
	memset(rbi->ring_buffer, 0, sizeof(struct hv_ring_buffer));
	rbi->ring_buffer->feature_bits.value = VMBUS_RING_FEAT_PENDING_SEND_SZ;
	return 0;
}

void xvmb_ring_unmap(struct hv_ring_buffer_info *rbi)
{
	mutex_lock(&rbi->ring_buffer_mutex);
	if (rbi->ring_buffer)
		vunmap(rbi->ring_buffer);
	rbi->ring_buffer = NULL;
	kfree(rbi->pkt_buffer);
	rbi->pkt_buffer = NULL;
	rbi->pkt_buffer_size = 0;
	mutex_unlock(&rbi->ring_buffer_mutex);
}

/* The peer's index, read once: valid, or -EIO. */
static int xvmb_ring_index(const struct hv_ring_buffer_info *rbi, u32 *idx,
			   bool write)
{
	u32 v = write ? READ_ONCE(rbi->ring_buffer->write_index) :
			READ_ONCE(rbi->ring_buffer->read_index);

	if (v >= rbi->ring_datasize || (v & (VMBUS_PKT_ALIGN - 1)))
		return -EIO;
	*idx = v;
	return 0;
}

int xvmb_ring_write(struct hv_ring_buffer_info *rbi, const struct kvec *kv,
		    unsigned int n, bool *signal)
{
	u32 total = XVMB_TRAILER, widx, ridx, avail, dsize = rbi->ring_datasize;
	u8 *data;
	u64 trailer;
	unsigned long flags;
	unsigned int i;
	int rc = 0;

	*signal = false;
	for (i = 0; i < n; i++)
		total += kv[i].iov_len;
	if (total & (VMBUS_PKT_ALIGN - 1))
		return -EINVAL;
	spin_lock_irqsave(&rbi->ring_lock, flags);
	if (!rbi->ring_buffer) {
		rc = -ENODEV;
		goto out;
	}
	data = hv_get_ring_buffer(rbi);
	/* Our own index is ours alone; the peer's is checked. */
	widx = rbi->ring_buffer->write_index;
	rc = xvmb_ring_index(rbi, &ridx, false);
	if (rc || widx >= dsize)
		goto out;
	avail = widx >= ridx ? dsize - (widx - ridx) : ridx - widx;
	/* Never fill it: full would read as empty. */
	if (total >= avail) {
		rc = -EAGAIN;
		goto out;
	}
	/* The data area is mapped twice: no packet needs splitting. */
	trailer = (u64)widx << 32;
	for (i = 0; i < n; i++) {
		memcpy(data + widx, kv[i].iov_base, kv[i].iov_len);
		widx += kv[i].iov_len;
		if (widx >= dsize)
			widx -= dsize;
	}
	memcpy(data + widx, &trailer, sizeof(trailer));
	widx += sizeof(trailer);
	if (widx >= dsize)
		widx -= dsize;
	/* The packet's bytes /then/ the index that publishes them. */
	virt_mb();
	ridx = READ_ONCE(rbi->ring_buffer->read_index);
	WRITE_ONCE(rbi->ring_buffer->write_index, widx);
	/* Publish the index /then/ look at the reader's mask and index. */
	virt_mb();
	if (!READ_ONCE(rbi->ring_buffer->interrupt_mask) &&
	    (u32)(trailer >> 32) == READ_ONCE(rbi->ring_buffer->read_index))
		*signal = true;
out:
	spin_unlock_irqrestore(&rbi->ring_lock, flags);
	return rc;
}

struct vmpacket_descriptor *xvmb_ring_peek(struct hv_ring_buffer_info *rbi)
{
	u32 widx, ridx = rbi->priv_read_index, avail, len, off;
	struct vmpacket_descriptor *copy;
	const u8 *data;

	if (!rbi->ring_buffer || !rbi->pkt_buffer)
		return NULL;
	if (xvmb_ring_index(rbi, &widx, true) || ridx >= rbi->ring_datasize) {
		pr_err_ratelimited(XVMB_NAME ": ring of %u bytes: write index "
				   "%u, read index %u out of bounds\n",
				   rbi->ring_datasize,
				   READ_ONCE(rbi->ring_buffer->write_index),
				   ridx);
		return ERR_PTR(-EIO);
	}
	avail = widx >= ridx ? widx - ridx : rbi->ring_datasize - ridx + widx;
	if (!avail)
		return NULL;
	/* Read the index /then/ the bytes it covers. */
	virt_rmb();
	len = off = 0;
	if (avail < sizeof(*copy) + XVMB_TRAILER)
		goto bad;
	data = hv_get_ring_buffer(rbi);
	copy = rbi->pkt_buffer;
	memcpy(copy, data + ridx, sizeof(*copy));
	len = (u32)copy->len8 << 3;
	off = (u32)copy->offset8 << 3;
	if (len < sizeof(*copy) || off < sizeof(*copy) || off > len ||
	    len + XVMB_TRAILER > avail || len > rbi->pkt_buffer_size)
		goto bad;
	/* Once: from here on only the copy counts. */
	memcpy(copy, data + ridx, len);
	copy->len8 = len >> 3;
	copy->offset8 = off >> 3;
	return copy;
bad:
	pr_err_ratelimited(XVMB_NAME ": ring of %u bytes: packet at %u of %u "
			   "bytes (offset %u) with %u bytes written, %u at "
			   "most\n", rbi->ring_datasize, ridx, len, off, avail,
			   rbi->pkt_buffer_size);
	return ERR_PTR(-EIO);
}

void xvmb_ring_advance(struct hv_ring_buffer_info *rbi,
		       const struct vmpacket_descriptor *desc)
{
	u32 idx = rbi->priv_read_index + ((u32)desc->len8 << 3) + XVMB_TRAILER;

	if (idx >= rbi->ring_datasize)
		idx -= rbi->ring_datasize;
	rbi->priv_read_index = idx;
}

bool xvmb_ring_release(struct hv_ring_buffer_info *rbi)
{
	u32 start, widx, pending, before, now, dsize = rbi->ring_datasize;

	if (!rbi->ring_buffer)
		return false;
	start = rbi->ring_buffer->read_index;
	if (start == rbi->priv_read_index)
		return false;
	/* Done with the bytes /then/ hand them back. */
	virt_mb();
	WRITE_ONCE(rbi->ring_buffer->read_index, rbi->priv_read_index);
	/* Publish the index /then/ read what the writer waits for. */
	virt_mb();
	pending = READ_ONCE(rbi->ring_buffer->pending_send_sz);
	if (!pending)
		return false;
	if (xvmb_ring_index(rbi, &widx, true))
		return true;	/* let the peer look for itself */
	/* Free space before and after this read (the writer's view). */
	now = widx >= rbi->priv_read_index ?
	      dsize - (widx - rbi->priv_read_index) :
	      rbi->priv_read_index - widx;
	before = widx >= start ? dsize - (widx - start) : start - widx;
	if (start == widx)
		before = dsize;	/* cannot happen while it waits; be safe */
	return before <= pending && now > pending;
}
