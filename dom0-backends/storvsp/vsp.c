// SPDX-License-Identifier: GPL-2.0-only
/*
 * The storage VSP: the VSTOR protocol on one channel (<xenvmbus/storvsc.h>
 * has the contract), grant mapping of the request buffers, and the
 * backing store through io_uring.
 *
 * A packet is copied out of the ring once (libvmbus), its vstor_packet
 * copied again into a zeroed local before any field is read; every length
 * the guest gives is checked against what it points to before use.  A
 * request takes a slot (at most max_inflight) until it is answered; the
 * grants of the requests of one turn are mapped in one call and unmapped
 * when the last of them is done (map_queue); the ring is not
 * read while no slot or not enough of the page budget is free, so the
 * guest's ring is what holds a flood.  Every answer goes through
 * vsp_answer(), the one place wire statuses are produced.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <liburing.h>

#include <xenvmbus/gpadl.h>
#include <xenvmbus/ring.h>
#include <xenvmbus/storvsc.h>

#include "libvmbus.h"
#include "scsi.h"
#include "storvsp.h"

#define DEF_INFLIGHT		128u
#define DEF_MAP_PAGES		8192u
#define DEF_MAX_TRANSFER	(1u << 20)
#define DIO_ALIGN		512u
/* Bytes of the receive buffer: a GPA-direct packet of the largest transfer. */
#define RX_BUF_BYTES		(64u * 1024)

enum slot_state { SLOT_FREE = 0, SLOT_IO, SLOT_DONE };

/* The data range of a request: one range of grant references. */
struct gpa {
	uint32_t byte_count, byte_offset, npages;
	uint32_t grefs[DEF_MAX_TRANSFER / VMBUS_GRANT_PAGE_SIZE + 2];
};

/*
 * One mapping of guest grants, shared by the requests of one turn that
 * were mapped together (one call instead of one per request); unmapped
 * when the last of them is done with it.
 */
struct mapgrp {
	uint8_t *addr;
	uint32_t npages;
	uint32_t users;
};

/* Pages one mapping call takes at most (gntdev's and xensim's batch). */
#define MAP_BATCH_PAGES	1024u

struct slot {
	enum slot_state state;
	struct vmbus_chan *chan;	/* a sub-channel it came on, or NULL */
	uint64_t trans_id;
	struct vstor_packet pkt;	/* the answer being built */
	uint32_t pkt_len;
	enum scsi_io io;
	bool data_in;
	struct scsi_result *res;	/* io: extents, status on error */
	struct gpa g;			/* the data range, while it waits */
	struct mapgrp *grp;		/* its mapping, or NULL */
	uint8_t *map;			/* its first page in the mapping */
	uint8_t *buf;			/* where the I/O reads or writes */
	uint8_t *bounce;		/* aligned copy for O_DIRECT, or NULL */
	uint64_t off, len, done;
	bool fua;
	int fd;
	uint32_t pending;		/* SQEs not completed yet */
	int err;
};

struct disk {
	struct scsi_disk sd;
	int fd;
	bool blockdev, direct;
};

struct storvsp {
	struct storvsp_limits lim;
	struct scsi_target target;
	struct disk disks[SCSI_MAX_LUNS];
	struct io_uring ring;
	bool ring_ok;
	int efd;
	/* the channel (or the test's ops), and its sub-channels */
	struct vmbus_chan *chan;
	struct vmbus_chan *subs[STORVSP_MAX_SUBS];
	unsigned int nsubs;
	struct vmbus_chan *rx_chan;	/* a sub-channel being read */
	unsigned int max_subs;
	storvsp_sub_fn *sub_fn;
	void *sub_arg;
	bool subs_asked;
	struct storvsp_ops ops;
	bool attached;
	unsigned int domid;
	/* protocol state */
	uint16_t version;
	bool begun, ready;
	uint32_t pkt_size;		/* packet size for the version */
	/* requests */
	struct slot *slots;
	uint32_t inflight, pages_mapped, pages_per_req, unsent;
	/* requests of this turn waiting to be mapped together */
	bool batching;
	struct slot **queue;
	uint32_t nqueue, pages_queued;
	struct storvsp_stats st;
	uint64_t rxbuf[RX_BUF_BYTES / 8];
};

/* ---- guest memory ---- */

/* Through the channel: counted in the guest's mapping budget. */
static void *chan_map(void *arg, uint32_t domid, const uint32_t *grefs,
		      uint32_t count, bool writable)
{
	struct storvsp *sp = arg;

	(void)domid;
	return vmbus_chan_map_grefs(sp->chan, grefs, count, writable);
}

static void chan_unmap(void *arg, void *addr, uint32_t count)
{
	struct storvsp *sp = arg;

	vmbus_chan_unmap_grefs(sp->chan, addr, count);
}

static int chan_send_comp(void *arg, uint64_t trans_id, const void *data,
			  size_t len)
{
	struct storvsp *sp = arg;

	return vmbus_chan_send_comp(sp->chan, trans_id, data, len);
}

static void grp_put(struct storvsp *sp, struct mapgrp *grp)
{
	if (--grp->users)
		return;
	sp->ops.unmap(sp->ops.arg, grp->addr, grp->npages);
	sp->pages_mapped -= grp->npages;
	free(grp);
}

/*
 * Map the ranges of @n slots in one call (all read-only or all writable),
 * each slot taking its pages of the one mapping.  -ENOSPC past the
 * guest's mapping budget, -EFAULT if the call failed otherwise (a grant
 * of one of them is bad: the caller retries them alone).
 */
static int map_slots(struct storvsp *sp, struct slot **q, uint32_t n,
		     bool writable)
{
	uint32_t refs[MAP_BATCH_PAGES], total = 0, i;
	struct mapgrp *grp;

	for (i = 0; i < n; i++) {
		memcpy(refs + total, q[i]->g.grefs, 4 * q[i]->g.npages);
		total += q[i]->g.npages;
	}
	if (sp->pages_mapped + total > sp->lim.max_map_pages)
		return -ENOSPC;
	grp = malloc(sizeof(*grp));
	if (!grp)
		return -ENOMEM;
	errno = 0;
	grp->addr = sp->ops.map(sp->ops.arg, sp->domid, refs, total, writable);
	if (!grp->addr) {
		int err = errno == ENOSPC ? -ENOSPC : -EFAULT;

		free(grp);
		return err;
	}
	grp->npages = total;
	grp->users = n;
	sp->pages_mapped += total;
	if (sp->pages_mapped > sp->st.pages_peak)
		sp->st.pages_peak = sp->pages_mapped;
	for (total = 0, i = 0; i < n; i++) {
		q[i]->grp = grp;
		q[i]->map = grp->addr + (size_t)total * VMBUS_GRANT_PAGE_SIZE;
		total += q[i]->g.npages;
	}
	return 0;
}

static void unmap_range(struct storvsp *sp, struct slot *s)
{
	if (!s->grp)
		return;
	grp_put(sp, s->grp);
	s->grp = NULL;
	s->map = NULL;
}

/*
 * The range buffer of a GPA-direct packet's type header, as libvmbus
 * decodes it (vmbus_gpa_direct_range): exactly one range, of at most the
 * largest transfer; its grant references copied for the turn's mapping.
 */
static int parse_gpa(struct storvsp *sp, const uint8_t *thdr,
		     uint32_t thdr_len, struct gpa *g)
{
	struct vmbus_gpa_direct r;
	uint32_t count;

	if (vmbus_gpa_direct_range(thdr, thdr_len, 0, &r, &count) || count != 1 ||
	    r.byte_count > sp->lim.max_transfer ||
	    r.npages > sizeof(g->grefs) / sizeof(g->grefs[0]))
		return -EINVAL;
	memcpy(g->grefs, r.grefs, 4 * (size_t)r.npages);
	g->byte_count = r.byte_count;
	g->byte_offset = r.byte_offset;
	g->npages = r.npages;
	return 0;
}

/* ---- answers: the one place wire statuses are produced ---- */

/* On the channel the request came on. */
static int vsp_send(struct storvsp *sp, const struct slot *s)
{
	if (s->chan)
		return vmbus_chan_send_comp(s->chan, s->trans_id, &s->pkt,
					    s->pkt_len);
	return sp->ops.send_comp(sp->ops.arg, s->trans_id, &s->pkt, s->pkt_len);
}

/* Fill an SRB answer from the SCSI result. */
static void srb_answer(struct storvsp *sp, struct vstor_packet *p,
		       const struct scsi_result *r, uint32_t moved)
{
	struct vstor_scsi_req *srb = &p->srb;
	uint32_t room = sp->version >= VSTOR_PROTO_VERSION_WIN8 ?
		VSTOR_SENSE_BUFFER_SIZE : VSTOR_SENSE_BUFFER_SIZE_WIN7;
	uint32_t n;

	p->status = VSTOR_STATUS_SUCCESS;
	srb->scsi_status = r->status;
	srb->data_transfer_length = moved;
	memset(srb->sense_data, 0, sizeof(srb->sense_data));
	if (r->status == SCSI_STATUS_GOOD) {
		srb->srb_status = VSTOR_SRB_STATUS_SUCCESS;
		srb->sense_info_length = 0;
		return;
	}
	sp->st.check_conditions++;
	srb->srb_status = VSTOR_SRB_STATUS_ERROR;
	n = r->sense_len;
	if (n > srb->sense_info_length)
		n = srb->sense_info_length;
	if (n > room)
		n = room;
	if (n) {
		memcpy(srb->sense_data, r->sense, n);
		srb->srb_status |= VSTOR_SRB_STATUS_AUTOSENSE_VALID;
	}
	srb->sense_info_length = (uint8_t)n;
	srb->data_transfer_length = 0;
}

/* A request refused below SCSI (bad addressing, bad buffer). */
static void srb_refuse(struct storvsp *sp, struct vstor_packet *p,
		       uint8_t srb_status)
{
	sp->st.refused++;
	p->status = VSTOR_STATUS_SUCCESS;
	p->srb.srb_status = srb_status;
	p->srb.scsi_status = SCSI_STATUS_GOOD;
	p->srb.data_transfer_length = 0;
	p->srb.sense_info_length = 0;
}

static void vsp_complete_slot(struct storvsp *sp, struct slot *s)
{
	int rc;

	rc = vsp_send(sp, s);
	if (rc == -EAGAIN) {
		if (s->state != SLOT_DONE)
			sp->unsent++;
		s->state = SLOT_DONE;	/* retried by storvsp_process */
		return;
	}
	if (s->state == SLOT_DONE)
		sp->unsent--;
	free(s->res);
	s->res = NULL;
	free(s->bounce);
	s->bounce = NULL;
	s->state = SLOT_FREE;
	sp->inflight--;
}

/* ---- backing store ---- */

static int open_disk(struct disk *d, const struct storvsp_disk_cfg *c)
{
	int flags = (c->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	uint64_t size = 0;
	struct stat stb;
	int bs = 512, fd;
	uint64_t h = 1469598103934665603ull;

	fd = open(c->path, flags | O_DIRECT);
	d->direct = fd >= 0;
	if (fd < 0 && errno == EINVAL)
		fd = open(c->path, flags);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &stb) < 0)
		goto fail;
	if (S_ISBLK(stb.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0 ||
		    ioctl(fd, BLKSSZGET, &bs) < 0)
			goto fail;
		d->blockdev = true;
	} else if (S_ISREG(stb.st_mode)) {
		size = (uint64_t)stb.st_size;
	} else {
		errno = EINVAL;
		goto fail;
	}
	if (bs != 512 && bs != 4096) {
		errno = EINVAL;
		goto fail;
	}
	d->fd = fd;
	d->sd.block_size = (uint32_t)bs;
	d->sd.nblocks = size / (uint32_t)bs;
	d->sd.ro = c->ro;
	d->sd.can_unmap = !c->ro;
	/* Stable names from the backing object and the LUN. */
	h = (h ^ (uint64_t)stb.st_dev) * 0x100000001b3ull;
	h = (h ^ (uint64_t)stb.st_ino) * 0x100000001b3ull;
	h = (h ^ c->lun) * 0x100000001b3ull;
	memcpy(d->sd.naa, &h, 8);
	snprintf(d->sd.serial, sizeof(d->sd.serial), "XVB%016llx",
		 (unsigned long long)h);
	return 0;
fail:
	flags = -errno;
	close(fd);
	return flags;
}

static struct io_uring_sqe *get_sqe(struct storvsp *sp)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&sp->ring);

	if (!sqe) {
		io_uring_submit(&sp->ring);
		sqe = io_uring_get_sqe(&sp->ring);
	}
	return sqe;
}

/* Queue the (rest of the) read or write of @s. */
static int queue_rw(struct storvsp *sp, struct slot *s)
{
	struct io_uring_sqe *sqe = get_sqe(sp);
	uint8_t *p = (s->bounce ? s->bounce : s->buf) + s->done;

	if (!sqe)
		return -EBUSY;
	if (s->io == SCSI_IO_READ)
		io_uring_prep_read(sqe, s->fd, p, (unsigned int)(s->len - s->done),
				   s->off + s->done);
	else
		io_uring_prep_write(sqe, s->fd, p, (unsigned int)(s->len - s->done),
				    s->off + s->done);
	if (s->fua)
		sqe->rw_flags = RWF_DSYNC;
	io_uring_sqe_set_data(sqe, s);
	s->pending++;
	return 0;
}

static int queue_io(struct storvsp *sp, struct slot *s, struct disk *d)
{
	struct io_uring_sqe *sqe;
	struct scsi_result *r = s->res;
	uint64_t range[2];
	uint32_t i;
	int mode;

	s->fd = d->fd;
	switch (s->io) {
	case SCSI_IO_READ:
	case SCSI_IO_WRITE:
		if (d->direct && ((uintptr_t)s->buf % DIO_ALIGN ||
				  s->len % d->sd.block_size)) {
			if (posix_memalign((void **)&s->bounce, 4096, s->len))
				return -ENOMEM;
			if (s->io == SCSI_IO_WRITE)
				memcpy(s->bounce, s->buf, s->len);
		}
		return queue_rw(sp, s);
	case SCSI_IO_FLUSH:
		sqe = get_sqe(sp);
		if (!sqe)
			return -EBUSY;
		io_uring_prep_fsync(sqe, d->fd, IORING_FSYNC_DATASYNC);
		io_uring_sqe_set_data(sqe, s);
		s->pending++;
		return 0;
	case SCSI_IO_UNMAP:
	case SCSI_IO_WRITE_ZEROES:
		for (i = 0; i < r->nunmap; i++) {
			if (d->blockdev) {
				/* No discard in io_uring on Debian 12's kernel. */
				range[0] = r->unmap[i].off;
				range[1] = r->unmap[i].len;
				if (ioctl(d->fd, s->io == SCSI_IO_UNMAP ?
					  BLKDISCARD : BLKZEROOUT, range) < 0 &&
				    !s->err)
					s->err = -errno;
				continue;
			}
			sqe = get_sqe(sp);
			if (!sqe)
				return -EBUSY;
			mode = FALLOC_FL_KEEP_SIZE |
			       (s->io == SCSI_IO_UNMAP ? FALLOC_FL_PUNCH_HOLE :
							 FALLOC_FL_ZERO_RANGE);
			io_uring_prep_fallocate(sqe, d->fd, mode,
						(off_t)r->unmap[i].off,
						(off_t)r->unmap[i].len);
			io_uring_sqe_set_data(sqe, s);
			s->pending++;
		}
		return 0;
	default:
		return -EINVAL;
	}
}

/* Everything of @s is back: answer it. */
static void slot_finish(struct storvsp *sp, struct slot *s)
{
	struct scsi_result *r = s->res;
	uint32_t moved = 0;

	if (s->err) {
		scsi_io_error(r, s->io, s->err);
	} else {
		if (s->io == SCSI_IO_READ) {
			if (s->bounce)
				memcpy(s->buf, s->bounce, s->len);
			moved = (uint32_t)s->len;
		} else if (s->io == SCSI_IO_WRITE) {
			moved = (uint32_t)s->len;
		}
	}
	unmap_range(sp, s);
	srb_answer(sp, &s->pkt, r, moved);
	vsp_complete_slot(sp, s);
}

static void reap(struct storvsp *sp)
{
	struct io_uring_cqe *cqe;
	struct slot *s;
	int res;

	while (io_uring_peek_cqe(&sp->ring, &cqe) == 0) {
		s = io_uring_cqe_get_data(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&sp->ring, cqe);
		if (!s || s->state != SLOT_IO)
			continue;
		s->pending--;
		if (res < 0) {
			if (!s->err)
				s->err = res;
		} else if ((s->io == SCSI_IO_READ || s->io == SCSI_IO_WRITE) &&
			   !s->err) {
			s->done += (uint64_t)res;
			if (res == 0 && s->done < s->len)
				s->err = -EIO;		/* the file shrank */
			else if (s->done < s->len && queue_rw(sp, s))
				s->err = -EIO;
		}
		if (!s->pending)
			slot_finish(sp, s);
	}
}

/* ---- requests ---- */

static struct slot *slot_get(struct storvsp *sp)
{
	uint32_t i;

	for (i = 0; i < sp->lim.max_inflight; i++)
		if (sp->slots[i].state == SLOT_FREE) {
			memset(&sp->slots[i], 0, sizeof(sp->slots[i]));
			return &sp->slots[i];
		}
	return NULL;
}

/* The disk a request addresses (Hyper-V's are at path 0, target 0). */
static unsigned int srb_lun(const struct vstor_scsi_req *srb)
{
	return srb->path_id || srb->target_id ? SCSI_MAX_LUNS : srb->lun;
}

/* A request whose buffer, if any, is mapped: execute it. */
static void srb_exec(struct storvsp *sp, struct slot *s)
{
	struct vstor_scsi_req *srb = &s->pkt.srb;
	uint8_t dout[SCSI_UNMAP_PARAM_MAX];
	uint32_t xfer = srb->data_transfer_length, want, n = 0;
	unsigned int lun = srb_lun(srb);
	struct scsi_result *r = s->res;
	struct disk *d;
	int rc;

	d = lun < SCSI_MAX_LUNS && sp->target.lun[lun] ? &sp->disks[lun] : NULL;
	want = scsi_dout_wanted(srb->cdb, srb->cdb_length,
				d ? d->sd.block_size : 512);
	if (want > xfer)
		want = xfer;
	if (xfer) {
		s->buf = s->map + s->g.byte_offset;
		if (want && !s->data_in) {
			memcpy(dout, s->buf, want);	/* the one read */
			n = want;
		}
	}
	scsi_exec(&sp->target, lun, srb->cdb, srb->cdb_length, xfer,
		  s->data_in, n ? dout : NULL, n, r);
	if (r->io == SCSI_IO_NONE) {
		if (r->data_len && s->data_in)
			memcpy(s->buf, r->data, r->data_len);
		unmap_range(sp, s);
		srb_answer(sp, &s->pkt, r, s->data_in ? r->data_len : 0);
		vsp_complete_slot(sp, s);
		return;
	}
	/* Only what needs the store keeps the slot (and the mapping). */
	if (r->io != SCSI_IO_READ && r->io != SCSI_IO_WRITE)
		unmap_range(sp, s);
	s->io = r->io;
	s->off = r->off;
	s->len = r->len;
	s->fua = r->fua;
	if (r->io == SCSI_IO_FLUSH)
		sp->st.flushes++;
	if (r->fua)
		sp->st.fua_writes++;
	if (r->io == SCSI_IO_UNMAP)
		sp->st.unmaps++;
	rc = queue_io(sp, s, d);
	if (rc && !s->err)
		s->err = rc;
	if (!s->pending)
		slot_finish(sp, s);
}

/* Fail a request whose buffer could not be mapped. */
static void srb_unmapped(struct storvsp *sp, struct slot *s, int err)
{
	srb_refuse(sp, &s->pkt, err == -ENOSPC || err == -ENOMEM ?
		   VSTOR_SRB_STATUS_INTERNAL_ERROR :
		   VSTOR_SRB_STATUS_INVALID_REQUEST);
	vsp_complete_slot(sp, s);
}

/*
 * Map what the requests of this turn wait for: the read-only ones (data
 * to the disk) and the writable ones each in as few calls as the batch
 * limit allows; a call that fails is retried request by request, so that
 * one bad grant fails only its own request.  Then execute them.
 */
static void map_queue(struct storvsp *sp)
{
	struct slot **q = sp->queue;
	uint32_t i, j, k, pages;
	int pass, rc;

	for (pass = 0; pass < 2; pass++) {
		bool writable = pass;

		for (i = 0; i < sp->nqueue; i = j) {
			struct slot *grp[MAP_BATCH_PAGES];
			uint32_t n = 0;

			pages = 0;
			for (j = i; j < sp->nqueue; j++) {
				if (q[j]->data_in != writable)
					continue;
				if (pages + q[j]->g.npages > MAP_BATCH_PAGES ||
				    n == sizeof(grp) / sizeof(grp[0]))
					break;
				pages += q[j]->g.npages;
				grp[n++] = q[j];
			}
			if (!n)
				continue;
			rc = map_slots(sp, grp, n, writable);
			for (k = 0; rc && k < n; k++) {
				int one = map_slots(sp, &grp[k], 1, writable);

				if (one)
					grp[k]->err = one;
			}
			for (k = 0; k < n; k++) {
				if (grp[k]->grp)
					srb_exec(sp, grp[k]);
				else
					srb_unmapped(sp, grp[k], grp[k]->err);
			}
		}
	}
	sp->nqueue = 0;
	sp->pages_queued = 0;
}

static void do_srb(struct storvsp *sp, struct slot *s, const struct gpa *g)
{
	struct vstor_scsi_req *srb = &s->pkt.srb;
	uint32_t xfer = srb->data_transfer_length;

	sp->st.requests++;
	if (srb->cdb_length > VSTOR_MAX_CDB_LEN || !srb->cdb_length ||
	    xfer > sp->lim.max_transfer || (xfer && !g) ||
	    (g && g->byte_count < xfer) || srb->data_in > VSTOR_UNKNOWN_TYPE) {
		srb_refuse(sp, &s->pkt, VSTOR_SRB_STATUS_INVALID_REQUEST);
		vsp_complete_slot(sp, s);
		return;
	}
	s->res = malloc(sizeof(*s->res));
	if (!s->res) {
		srb_refuse(sp, &s->pkt, VSTOR_SRB_STATUS_INTERNAL_ERROR);
		vsp_complete_slot(sp, s);
		return;
	}
	s->data_in = srb->data_in == VSTOR_READ_TYPE;
	if (!xfer) {
		srb_exec(sp, s);
		return;
	}
	s->g = *g;
	sp->queue[sp->nqueue++] = s;
	sp->pages_queued += g->npages;
	if (!sp->batching)
		map_queue(sp);
}

static bool version_ok(uint16_t v)
{
	return v == VSTOR_PROTO_VERSION_WIN7 || v == VSTOR_PROTO_VERSION_WIN8 ||
	       v == VSTOR_PROTO_VERSION_WIN8_1 || v == VSTOR_PROTO_VERSION_WIN10;
}

int storvsp_packet(struct storvsp *sp, uint16_t type, uint16_t flags,
		   uint64_t trans_id, const void *thdr, uint32_t thdr_len,
		   const void *data, uint32_t len)
{
	struct gpa g, *gp = NULL;
	bool bad_buf = false;
	struct slot *s;
	uint32_t n;

	if (!sp->attached)
		return -ENOTCONN;
	if ((type != VMBUS_PKT_DATA_INBAND &&
	     type != VMBUS_PKT_DATA_USING_GPA_DIRECT) ||
	    len < VSTOR_PACKET_SIZE_WIN7) {
		/* Nothing to answer with: no vstor_packet. */
		sp->st.bad_packets++;
		return -EBADMSG;
	}
	/* A buffer that cannot be parsed fails its request, not the channel. */
	if (type == VMBUS_PKT_DATA_USING_GPA_DIRECT)
		bad_buf = parse_gpa(sp, thdr, thdr_len, &g) != 0;
	if (type == VMBUS_PKT_DATA_USING_GPA_DIRECT && !bad_buf)
		gp = &g;
	s = slot_get(sp);
	if (!s)
		return -EBUSY;		/* the caller checked for room */
	sp->inflight++;
	if (sp->inflight > sp->st.inflight_peak)
		sp->st.inflight_peak = sp->inflight;
	s->chan = sp->rx_chan;
	s->trans_id = trans_id;
	n = len < VSTOR_PACKET_SIZE ? len : VSTOR_PACKET_SIZE;
	memcpy(&s->pkt, data, n);	/* the one copy of the request */
	s->pkt_len = sp->pkt_size;
	s->state = SLOT_IO;
	switch (s->pkt.operation) {
	case VSTOR_OP_BEGIN_INITIALIZATION:
		sp->begun = true;
		sp->ready = false;
		s->pkt.status = VSTOR_STATUS_SUCCESS;
		break;
	case VSTOR_OP_QUERY_PROTOCOL_VERSION:
		if (!sp->begun) {
			s->pkt.status = VSTOR_STATUS_INVALID_DEVICE_STATE;
		} else if (version_ok(s->pkt.version.major_minor)) {
			sp->version = s->pkt.version.major_minor;
			sp->pkt_size = sp->version >= VSTOR_PROTO_VERSION_WIN8 ?
				VSTOR_PACKET_SIZE : VSTOR_PACKET_SIZE_WIN7;
			s->pkt_len = sp->pkt_size;
			s->pkt.status = VSTOR_STATUS_SUCCESS;
		} else {
			s->pkt.status = VSTOR_STATUS_REVISION_MISMATCH;
		}
		break;
	case VSTOR_OP_QUERY_PROPERTIES:
		memset(&s->pkt.props, 0, sizeof(s->pkt.props));
		if (!sp->version) {
			s->pkt.status = VSTOR_STATUS_INVALID_DEVICE_STATE;
			break;
		}
		s->pkt.props.max_transfer_bytes = sp->lim.max_transfer;
		/* Sub-channels only where someone can offer them. */
		if (sp->sub_fn && sp->max_subs) {
			s->pkt.props.max_channel_cnt = (uint16_t)sp->max_subs;
			s->pkt.props.flags = VSTOR_PROP_MULTI_CHANNEL;
		}
		s->pkt.status = VSTOR_STATUS_SUCCESS;
		break;
	case VSTOR_OP_END_INITIALIZATION:
		sp->ready = sp->version != 0;
		s->pkt.status = sp->ready ? VSTOR_STATUS_SUCCESS :
			VSTOR_STATUS_INVALID_DEVICE_STATE;
		break;
	case VSTOR_OP_CREATE_SUB_CHANNELS:
		/*
		 * Once per open, on the primary, after END_INITIALIZATION
		 * (as hv_storvsc asks), 1 to max_channel_cnt (0 without
		 * sub-channels: any count is out of bounds).
		 */
		if (!sp->sub_fn || sp->rx_chan || sp->subs_asked || !sp->ready ||
		    !s->pkt.sub_channel_count ||
		    s->pkt.sub_channel_count > sp->max_subs) {
			s->pkt.status = VSTOR_STATUS_INVALID_PARAMETER;
			break;
		}
		sp->subs_asked = true;
		s->pkt.status = sp->sub_fn(sp->sub_arg,
					   s->pkt.sub_channel_count) ?
			VSTOR_STATUS_UNSUCCESSFUL : VSTOR_STATUS_SUCCESS;
		break;
	case VSTOR_OP_RESET_LUN:
	case VSTOR_OP_RESET_ADAPTER:
	case VSTOR_OP_RESET_BUS:
		s->pkt.status = VSTOR_STATUS_SUCCESS;
		break;
	case VSTOR_OP_EXECUTE_SRB:
		if (!sp->ready) {
			s->pkt.status = VSTOR_STATUS_INVALID_DEVICE_STATE;
			sp->st.refused++;
			break;
		}
		s->pkt.operation = VSTOR_OP_COMPLETE_IO;
		if (bad_buf) {
			sp->st.requests++;
			srb_refuse(sp, &s->pkt, VSTOR_SRB_STATUS_INVALID_REQUEST);
			vsp_complete_slot(sp, s);
			return 0;
		}
		do_srb(sp, s, gp);
		return 0;
	default:			/* FCHBA_DATA: not a fibre channel HBA */
		s->pkt.status = VSTOR_STATUS_NOT_SUPPORTED;
		sp->st.refused++;
		break;
	}
	s->pkt.operation = VSTOR_OP_COMPLETE_IO;
	vsp_complete_slot(sp, s);
	(void)flags;
	return 0;
}

static bool room_for_request(const struct storvsp *sp)
{
	return !sp->unsent && sp->inflight < sp->lim.max_inflight &&
	       sp->pages_mapped + sp->pages_queued + sp->pages_per_req <=
	       sp->lim.max_map_pages;
}

static void retry_unsent(struct storvsp *sp)
{
	uint32_t i;

	for (i = 0; i < sp->lim.max_inflight && sp->unsent; i++)
		if (sp->slots[i].state == SLOT_DONE)
			vsp_complete_slot(sp, &sp->slots[i]);
}

/* Take what @ch holds while there is room; 0 or -errno. */
static int take_requests(struct storvsp *sp, struct vmbus_chan *ch)
{
	struct vmbus_rxpkt pkt;
	const uint8_t *thdr;
	uint32_t thdr_len;
	int rc = 0;

	vmbus_chan_ack(ch);
	sp->rx_chan = ch == sp->chan ? NULL : ch;
	vmbus_chan_batch_begin(ch);
	sp->batching = true;
	while (room_for_request(sp)) {
		rc = vmbus_chan_recv_pkt(ch, &pkt, sp->rxbuf,
					 sizeof(sp->rxbuf));
		if (rc == -EMSGSIZE) {
			sp->st.bad_packets++;	/* larger than any request */
			continue;
		}
		/*
		 * A range buffer libvmbus refused fails its request alone
		 * (no type header: the request is answered INVALID_REQUEST);
		 * anything else refused is no request of ours.
		 */
		if (rc == -EBADMSG &&
		    pkt.type != VMBUS_PKT_DATA_USING_GPA_DIRECT) {
			sp->st.bad_packets++;
			continue;
		}
		if (rc && rc != -EBADMSG)
			break;
		thdr = rc ? NULL : pkt.ctx;
		thdr_len = rc ? 0 : pkt.id;
		rc = 0;
		if (pkt.type != VMBUS_PKT_DATA_USING_GPA_DIRECT)
			thdr = NULL, thdr_len = 0;
		storvsp_packet(sp, pkt.type, pkt.flags, pkt.trans_id, thdr,
			       thdr_len, pkt.data, pkt.len);
	}
	sp->batching = false;
	map_queue(sp);
	vmbus_chan_batch_commit(ch);
	sp->rx_chan = NULL;
	return rc == -EAGAIN || rc == -ENOTCONN ? 0 : rc;
}

/*
 * Every channel's sends of this turn in one batch: the answers of the
 * I/O completed and of the requests taken reach the guest with one
 * signal per channel, not one each (measured: 8 event channel writes a
 * turn at 4 KiB QD32, the largest share of the VSP's system calls).
 */
static void batch_all(struct storvsp *sp, bool begin)
{
	unsigned int i;

	if (!sp->chan)
		return;
	if (begin)
		vmbus_chan_batch_begin(sp->chan);
	else
		vmbus_chan_batch_commit(sp->chan);
	for (i = 0; i < sp->nsubs; i++) {
		if (begin)
			vmbus_chan_batch_begin(sp->subs[i]);
		else
			vmbus_chan_batch_commit(sp->subs[i]);
	}
}

int storvsp_process(struct storvsp *sp)
{
	uint64_t ev;
	unsigned int i;
	int rc = 0, one;

	if (!sp->attached)
		return -ENOTCONN;
	if (read(sp->efd, &ev, sizeof(ev)) < 0 && errno != EAGAIN)
		return -errno;
	batch_all(sp, true);
	reap(sp);
	retry_unsent(sp);
	if (sp->chan) {
		rc = take_requests(sp, sp->chan);
		for (i = 0; i < sp->nsubs; i++) {
			one = take_requests(sp, sp->subs[i]);
			if (!rc)
				rc = one;
		}
	}
	io_uring_submit(&sp->ring);
	batch_all(sp, false);
	return rc;
}

void storvsp_batch(struct storvsp *sp, bool on)
{
	sp->batching = on;
	if (!on)
		map_queue(sp);
}

int storvsp_drain(struct storvsp *sp, int timeout_ms)
{
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;
	int rc;

	io_uring_submit(&sp->ring);
	while (sp->inflight > sp->unsent) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long long)(timeout_ms % 1000) * 1000000;
		rc = io_uring_wait_cqe_timeout(&sp->ring, &cqe, &ts);
		if (rc)
			return rc;
		reap(sp);
	}
	return 0;
}

/* ---- setup ---- */

int storvsp_create(struct storvsp **out, const struct storvsp_disk_cfg *cfg,
		   unsigned int n, const struct storvsp_limits *lim)
{
	struct storvsp *sp;
	unsigned int i;
	int rc;

	*out = NULL;
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	sp->efd = -1;
	for (i = 0; i < SCSI_MAX_LUNS; i++)
		sp->disks[i].fd = -1;
	sp->lim.max_inflight = lim && lim->max_inflight ? lim->max_inflight :
		DEF_INFLIGHT;
	sp->lim.max_map_pages = lim && lim->max_map_pages ?
		lim->max_map_pages : DEF_MAP_PAGES;
	sp->lim.max_transfer = lim && lim->max_transfer ? lim->max_transfer :
		DEF_MAX_TRANSFER;
	rc = -EINVAL;
	if (sp->lim.max_transfer > DEF_MAX_TRANSFER ||
	    sp->lim.max_transfer % VMBUS_GRANT_PAGE_SIZE ||
	    sp->lim.max_inflight > 4096)
		goto fail;
	sp->pages_per_req = sp->lim.max_transfer / VMBUS_GRANT_PAGE_SIZE + 1;
	if (sp->lim.max_map_pages < sp->pages_per_req)
		goto fail;
	sp->slots = calloc(sp->lim.max_inflight, sizeof(*sp->slots));
	sp->queue = calloc(sp->lim.max_inflight, sizeof(*sp->queue));
	rc = -ENOMEM;
	if (!sp->slots || !sp->queue)
		goto fail;
	for (i = 0; i < n; i++) {
		struct disk *d;

		rc = -EINVAL;
		if (cfg[i].lun >= SCSI_MAX_LUNS || sp->target.lun[cfg[i].lun])
			goto fail;
		d = &sp->disks[cfg[i].lun];
		rc = open_disk(d, &cfg[i]);
		if (rc) {
			fprintf(stderr, "storvsp: open %s: %s\n", cfg[i].path,
				strerror(-rc));
			goto fail;
		}
		d->sd.max_xfer_blocks = sp->lim.max_transfer / d->sd.block_size;
		sp->target.lun[cfg[i].lun] = &d->sd;
		sp->st.direct[cfg[i].lun] = d->direct;
	}
	rc = io_uring_queue_init(256, &sp->ring, 0);
	if (rc)
		goto fail;
	sp->ring_ok = true;
	sp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sp->efd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = io_uring_register_eventfd(&sp->ring, sp->efd);
	if (rc)
		goto fail;
	sp->pkt_size = VSTOR_PACKET_SIZE;
	*out = sp;
	return 0;
fail:
	storvsp_destroy(sp);
	return rc;
}

int storvsp_attach_ops(struct storvsp *sp, unsigned int domid,
		       const struct storvsp_ops *ops)
{
	if (sp->attached)
		return -EBUSY;
	sp->ops = *ops;
	sp->domid = domid;
	sp->attached = true;
	sp->version = 0;
	sp->begun = sp->ready = false;
	sp->pkt_size = VSTOR_PACKET_SIZE;
	return 0;
}

int storvsp_attach(struct storvsp *sp, struct vmbus_chan *chan)
{
	struct storvsp_ops ops = { chan_map, chan_unmap, chan_send_comp, sp };
	int peer = vmbus_chan_peer(chan);

	if (sp->attached)
		return -EBUSY;
	if (peer < 0)
		return peer;
	sp->chan = chan;
	return storvsp_attach_ops(sp, (unsigned int)peer, &ops);
}

void storvsp_detach(struct storvsp *sp)
{
	uint32_t i;

	if (!sp->attached)
		return;
	/* The kernel may still write into mapped pages: wait for it. */
	if (storvsp_drain(sp, 30000))
		fprintf(stderr, "storvsp: domain %u: I/O still in flight at "
			"close\n", sp->domid);
	for (i = 0; i < sp->lim.max_inflight; i++) {
		struct slot *s = &sp->slots[i];

		if (s->state == SLOT_FREE)
			continue;
		unmap_range(sp, s);
		free(s->res);
		free(s->bounce);
		memset(s, 0, sizeof(*s));
	}
	sp->inflight = sp->unsent = 0;
	sp->chan = NULL;
	sp->nsubs = 0;
	sp->subs_asked = false;
	sp->attached = false;
	memset(&sp->ops, 0, sizeof(sp->ops));
}

void storvsp_set_subs(struct storvsp *sp, unsigned int max,
		      storvsp_sub_fn *fn, void *arg)
{
	sp->max_subs = max < STORVSP_MAX_SUBS ? max : STORVSP_MAX_SUBS;
	sp->sub_fn = fn;
	sp->sub_arg = arg;
}

int storvsp_attach_sub(struct storvsp *sp, struct vmbus_chan *chan)
{
	unsigned int i;

	if (!sp->attached || !sp->chan)
		return -ENOTCONN;
	for (i = 0; i < sp->nsubs; i++)
		if (sp->subs[i] == chan)
			return -EEXIST;
	if (sp->nsubs == STORVSP_MAX_SUBS)
		return -ENOSPC;
	sp->subs[sp->nsubs++] = chan;
	return 0;
}

void storvsp_detach_sub(struct storvsp *sp, struct vmbus_chan *chan)
{
	unsigned int i;
	uint32_t k;

	for (i = 0; i < sp->nsubs && sp->subs[i] != chan; i++)
		;
	if (i == sp->nsubs)
		return;
	/* Its requests' data may still be written: wait for the store. */
	if (storvsp_drain(sp, 30000))
		fprintf(stderr, "storvsp: domain %u: I/O still in flight at "
			"a sub-channel's close\n", sp->domid);
	for (k = 0; k < sp->lim.max_inflight; k++) {
		struct slot *s = &sp->slots[k];

		if (s->state != SLOT_DONE || s->chan != chan)
			continue;
		/* Its answer can no longer go anywhere. */
		unmap_range(sp, s);
		free(s->res);
		free(s->bounce);
		memset(s, 0, sizeof(*s));
		sp->unsent--;
		sp->inflight--;
	}
	sp->subs[i] = sp->subs[--sp->nsubs];
}

int storvsp_fd(const struct storvsp *sp)
{
	return sp->efd;
}

void storvsp_get_stats(const struct storvsp *sp, struct storvsp_stats *st)
{
	*st = sp->st;
	st->version = sp->version;
	st->ready = sp->ready;
	st->inflight = sp->inflight;
	st->pages_mapped = sp->pages_mapped;
}

void storvsp_destroy(struct storvsp *sp)
{
	unsigned int i;

	if (!sp)
		return;
	storvsp_detach(sp);
	if (sp->ring_ok)
		io_uring_queue_exit(&sp->ring);
	if (sp->efd >= 0)
		close(sp->efd);
	for (i = 0; i < SCSI_MAX_LUNS; i++)
		if (sp->disks[i].fd >= 0)
			close(sp->disks[i].fd);
	free(sp->slots);
	free(sp->queue);
	free(sp);
}
