// SPDX-License-Identifier: GPL-2.0-only
/*
 * The network VSP: NVSP and RNDIS on one channel (<xenvmbus/netvsc.h> has
 * the contract), the guest's receive and send buffers, and frames to and
 * from the tap (tap.c).
 *
 * Everything the guest wrote is copied once before a field is read: ring
 * packets by libvmbus into rxbuf, the RNDIS messages of a send-buffer
 * section or of page buffers into txbuf; every offset and length inside
 * them is checked against the copy.  Receive sections are handed to the
 * guest in DATA_USING_XFER_PAGES packets, each recorded (struct rxpkt)
 * until the guest completes it; the trans_id carries the record's index
 * and generation, so a completion the guest makes up, repeats or delays
 * finds no record.  NVSP requests go through one table (nvsp_table), every
 * RNDIS answer through rndis_answer(), every NVSP completion through
 * nvsp_complete().
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <xengnttab.h>

#include <xenvmbus/gpadl.h>
#include <xenvmbus/netvsc.h>
#include <xenvmbus/ring.h>

#include "libvmbus.h"
#include "netvsp.h"
#include "netvsp-private.h"

#define DEF_BUF_PAGES		4096u
#define DEF_RX_INFLIGHT		1024u
#define MAX_RX_INFLIGHT		8192u
#define RX_BATCH		32u	/* frames per receive packet */
#define RX_HDR			(RNDIS_PACKET_HDR_SIZE + \
				 sizeof(struct rndis_ppi) + 4)
#define CTL_MAX			64u	/* RNDIS answers waiting for room */
#define CTL_BYTES		256u
#define COMP_MAX		256u	/* NVSP completions waiting for room */
#define TX_MAX_RANGES		32u	/* hv_netvsc's MAX_PAGE_BUFFER_COUNT */
#define TX_MAX_PAGES		40u
#define TX_MAX_BYTES		(TX_MAX_PAGES * VMBUS_GRANT_PAGE_SIZE)
#define RNDIS_MAX_PER_MSG	8u	/* PACKETs batched in one buffer */
#define LSO_MAX_FRAME		(65535u + 14u + 4u)

static const uint32_t nvsp_versions[] = {
	NVSP_PROTOCOL_VERSION_1, NVSP_PROTOCOL_VERSION_2,
	NVSP_PROTOCOL_VERSION_4, NVSP_PROTOCOL_VERSION_5,
	NVSP_PROTOCOL_VERSION_6, NVSP_PROTOCOL_VERSION_61,
};

/* ---- guest memory and the channel (default ops) ---- */

static int chan_gpadl_map(void *arg, uint32_t id, void **handle,
			  uint8_t **mem, size_t *size, bool *writable)
{
	struct netvsp *nv = arg;
	struct vmbus_gpadl *g;
	int rc = vmbus_gpadl_map(nv->chan, id, &g);

	if (rc)
		return rc;
	*handle = g;
	*size = vmbus_gpadl_size(g);
	*writable = vmbus_gpadl_writable(g);
	*mem = vmbus_gpadl_ptr(g, 0, *size, false);
	if (!*mem) {
		vmbus_gpadl_unmap(g);
		return -EFAULT;
	}
	return 0;
}

static void chan_gpadl_unmap(void *arg, void *handle)
{
	(void)arg;
	vmbus_gpadl_unmap(handle);
}

static void *xgt_map(void *arg, uint32_t domid, const uint32_t *grefs,
		     uint32_t count)
{
	struct netvsp *nv = arg;

	return xengnttab_map_domain_grant_refs(nv->xgt, count, domid,
					       (uint32_t *)grefs, PROT_READ);
}

static void xgt_unmap(void *arg, void *addr, uint32_t count)
{
	struct netvsp *nv = arg;

	xengnttab_unmap(nv->xgt, addr, count);
}

static int chan_send(void *arg, uint16_t type, uint16_t flags,
		     uint64_t trans_id, const void *thdr, size_t thdr_len,
		     const void *data, size_t len)
{
	struct netvsp *nv = arg;

	return vmbus_chan_send_raw(nv->chan, type, flags, trans_id, thdr,
				   thdr_len, data, len);
}

/*
 * Count a refusal; say it once per guest (a hostile guest must not flood
 * dom0's log), with what was refused and why.
 */
static void refused(struct netvsp *nv, const char *what, int err)
{
	nv->st.refused++;
	if (nv->logged)
		return;
	nv->logged = true;
	fprintf(stderr, "netvsp: domain %u: refused %s (%s); further "
		"refusals are only counted\n", nv->domid, what,
		strerror(-err));
}

/* ---- NVSP completions ---- */

/* Send the completion of @trans_id now, or keep it for the next turn. */
static void nvsp_complete(struct netvsp *nv, uint64_t trans_id,
			  const struct nvsp_msg *m)
{
	struct pending_comp *pc;

	if (!nv->ncomp && !nv->ops.send(nv->ops.arg, VMBUS_PKT_COMP, 0,
					trans_id, NULL, 0, m, sizeof(*m)))
		return;
	if (nv->ncomp == COMP_MAX) {	/* cannot happen: reading stops */
		nv->st.bad_packets++;
		return;
	}
	pc = &nv->comp[(nv->comp_head + nv->ncomp++) % COMP_MAX];
	pc->trans_id = trans_id;
	pc->msg = *m;
}

static void flush_comps(struct netvsp *nv)
{
	struct pending_comp *pc;

	while (nv->ncomp) {
		pc = &nv->comp[nv->comp_head];
		if (nv->ops.send(nv->ops.arg, VMBUS_PKT_COMP, 0, pc->trans_id,
				 NULL, 0, &pc->msg, sizeof(pc->msg)))
			return;
		nv->comp_head = (nv->comp_head + 1) % COMP_MAX;
		nv->ncomp--;
	}
}

static void rndis_pkt_complete(struct netvsp *nv, uint64_t trans_id,
			       uint16_t flags, uint32_t status)
{
	struct nvsp_msg m;

	if (!(flags & VMBUS_PKT_FLAG_REQUEST_COMPLETION))
		return;
	memset(&m, 0, sizeof(m));
	m.msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE;
	m.u.rndis_pkt_complete.status = status;
	nvsp_complete(nv, trans_id, &m);
}

/* ---- the receive buffer: sections, receive packets ---- */

static void rx_reset(struct netvsp *nv)
{
	uint32_t i;

	nv->nfree = 0;
	for (i = nv->nsections; i-- > 0;)
		nv->free_sec[nv->nfree++] = i;
	for (i = 0; i < nv->lim.max_rx_inflight; i++)
		nv->rxp[i].nsec = 0;
	nv->rx_inflight = 0;
}

static uint8_t *section(struct netvsp *nv, uint32_t s)
{
	return nv->recv_mem + (size_t)s * nv->section_size;
}

/* A record for a receive packet, or NULL when the guest holds too many. */
static struct rxpkt *rxpkt_get(struct netvsp *nv, uint32_t *idx)
{
	uint32_t i, n = nv->lim.max_rx_inflight;

	for (i = 0; i < n; i++) {
		uint32_t k = (nv->rxp_next + i) % n;

		if (!nv->rxp[k].nsec) {
			nv->rxp_next = (k + 1) % n;
			*idx = k;
			return &nv->rxp[k];
		}
	}
	return NULL;
}

/*
 * Send the sections @secs[0..n) (each holding one RNDIS message of
 * @lens[i] bytes) in one receive packet.  On failure the sections go back.
 */
static int rx_send(struct netvsp *nv, const uint32_t *secs,
		   const uint32_t *lens, uint32_t n, uint32_t channel_type)
{
	struct {
		struct netvsp_xferpage_hdr h;
		struct vmbus_pkt_range r[RX_BATCH];
	} x;
	struct nvsp_msg m;
	struct rxpkt *p;
	uint32_t idx, i;
	uint64_t tid;
	int rc;

	p = rxpkt_get(nv, &idx);
	if (!p)
		return -ENOSPC;
	memset(&x, 0, sizeof(x));
	x.h.pageset_id = NETVSC_RECV_BUF_ID;
	x.h.range_count = n;
	for (i = 0; i < n; i++) {
		x.r[i].byte_offset = secs[i] * nv->section_size;
		x.r[i].byte_count = lens[i];
	}
	memset(&m, 0, sizeof(m));
	m.msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT;
	m.u.rndis_pkt.channel_type = channel_type;
	m.u.rndis_pkt.send_buf_section_index = NVSP_INVALID_SECTION;
	p->gen++;
	tid = (uint64_t)p->gen << 32 | idx;
	rc = nv->ops.send(nv->ops.arg, VMBUS_PKT_DATA_USING_XFER_PAGES,
			  VMBUS_PKT_FLAG_REQUEST_COMPLETION, tid, &x,
			  sizeof(x.h) + n * sizeof(x.r[0]), &m, sizeof(m));
	if (rc)
		return rc;
	memcpy(p->sec, secs, n * sizeof(*secs));
	p->nsec = n;
	nv->rx_inflight++;
	if (nv->rx_inflight > nv->st.rx_inflight_peak)
		nv->st.rx_inflight_peak = nv->rx_inflight;
	return 0;
}

/* The guest completed receive packet @tid: its sections are free again. */
static void rx_completed(struct netvsp *nv, uint64_t tid)
{
	uint32_t idx = (uint32_t)tid, i;
	struct rxpkt *p;

	if (idx >= nv->lim.max_rx_inflight) {
		nv->st.bad_completions++;
		return;
	}
	p = &nv->rxp[idx];
	if (!p->nsec || p->gen != (uint32_t)(tid >> 32)) {
		nv->st.bad_completions++;
		return;
	}
	for (i = 0; i < p->nsec; i++)
		nv->free_sec[nv->nfree++] = p->sec[i];
	p->nsec = 0;
	nv->rx_inflight--;
}

/* ---- RNDIS answers (control messages to the guest) ---- */

static void flush_ctl(struct netvsp *nv)
{
	uint32_t s;
	struct ctl_msg *c;

	while (nv->nctl && nv->nfree && nv->recv_mem) {
		c = &nv->ctl[nv->ctl_head];
		s = nv->free_sec[--nv->nfree];
		memcpy(section(nv, s), c->buf, c->len);
		if (rx_send(nv, &s, &c->len, 1, NVSP_RNDIS_CHANNEL_CONTROL)) {
			nv->free_sec[nv->nfree++] = s;
			return;
		}
		nv->ctl_head = (nv->ctl_head + 1) % CTL_MAX;
		nv->nctl--;
	}
}

/* Queue an RNDIS message of @len bytes (header included) for the guest. */
static void rndis_answer(struct netvsp *nv, uint32_t type, const void *body,
			 uint32_t body_len, const void *info, uint32_t info_len)
{
	struct rndis_msg_hdr h = { type, (uint32_t)sizeof(h) + body_len +
				   info_len };
	struct ctl_msg *c;

	if (nv->nctl == CTL_MAX || h.msg_len > CTL_BYTES) {
		nv->st.bad_packets++;	/* reading stops before this */
		return;
	}
	c = &nv->ctl[(nv->ctl_head + nv->nctl++) % CTL_MAX];
	memcpy(c->buf, &h, sizeof(h));
	memcpy(c->buf + sizeof(h), body, body_len);
	if (info_len)
		memcpy(c->buf + sizeof(h) + body_len, info, info_len);
	c->len = h.msg_len;
	flush_ctl(nv);
}

static void indicate_link(struct netvsp *nv)
{
	struct rndis_indicate_status is = {
		nv->link_up ? RNDIS_STATUS_MEDIA_CONNECT :
			      RNDIS_STATUS_MEDIA_DISCONNECT, 0, 0 };

	rndis_answer(nv, RNDIS_MSG_INDICATE, &is, sizeof(is), NULL, 0);
}

static void hw_caps(struct ndis_offload *o)
{
	memset(o, 0, sizeof(*o));
	o->header.type = NDIS_OBJECT_TYPE_OFFLOAD;
	o->header.revision = NDIS_OFFLOAD_REVISION_3;
	o->header.size = sizeof(*o);
	o->ip4_txenc = o->ip4_rxenc = NDIS_OFFLOAD_ENCAP_8023;
	o->ip4_txcsum = NDIS_TXCSUM_CAP_TCP4 | NDIS_TXCSUM_CAP_TCP4OPT |
			NDIS_TXCSUM_CAP_UDP4 | NDIS_TXCSUM_CAP_IP4 |
			NDIS_TXCSUM_CAP_IP4OPT;
	o->ip4_rxcsum = o->ip4_txcsum;
	o->ip6_txenc = o->ip6_rxenc = NDIS_OFFLOAD_ENCAP_8023;
	o->ip6_txcsum = NDIS_TXCSUM_CAP_TCP6 | NDIS_TXCSUM_CAP_TCP6OPT |
			NDIS_TXCSUM_CAP_UDP6 | NDIS_TXCSUM_CAP_IP6EXT;
	o->ip6_rxcsum = o->ip6_txcsum;
	o->lsov2_ip4_encap = o->lsov2_ip6_encap = NDIS_OFFLOAD_ENCAP_8023;
	o->lsov2_ip4_maxsz = o->lsov2_ip6_maxsz = 62780;
	o->lsov2_ip4_minsg = o->lsov2_ip6_minsg = 2;
	o->lsov2_ip6_opts = NDIS_LSOV2_CAP_IP6EXT | NDIS_LSOV2_CAP_TCP6OPT;
}

static uint32_t rndis_query(struct netvsp *nv, uint32_t oid, uint8_t *out,
			    uint32_t *len, uint32_t max)
{
	uint32_t v;

	switch (oid) {
	case RNDIS_OID_802_3_PERMANENT_ADDRESS:
	case RNDIS_OID_802_3_CURRENT_ADDRESS:
		*len = 6;
		memcpy(out, nv->cfg.mac, 6);
		break;
	case RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE:
		v = nv->cfg.mtu;
		goto u32;
	case RNDIS_OID_GEN_MAXIMUM_TOTAL_SIZE:
		v = nv->cfg.mtu + 14;
		goto u32;
	case RNDIS_OID_GEN_LINK_SPEED:
		v = 100000000;		/* 10 Gb/s in units of 100 b/s */
		goto u32;
	case RNDIS_OID_GEN_MEDIA_CONNECT_STATUS:
		v = nv->link_up ? RNDIS_MEDIA_STATE_CONNECTED :
				  RNDIS_MEDIA_STATE_DISCONNECTED;
		goto u32;
	case RNDIS_OID_GEN_CURRENT_PACKET_FILTER:
		v = nv->filter;
		goto u32;
	case RNDIS_OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES: {
		struct ndis_offload o;

		hw_caps(&o);
		*len = sizeof(o);
		memcpy(out, &o, sizeof(o));
		break;
	}
	default:
		/* RSS capabilities among them: one queue, no RSS. */
		return RNDIS_STATUS_NOT_SUPPORTED;
	}
	return *len <= max ? RNDIS_STATUS_SUCCESS : RNDIS_STATUS_INVALID_LENGTH;
u32:
	*len = 4;
	memcpy(out, &v, 4);
	return *len <= max ? RNDIS_STATUS_SUCCESS : RNDIS_STATUS_INVALID_LENGTH;
}

static uint32_t rndis_set(struct netvsp *nv, uint32_t oid, const uint8_t *in,
			  uint32_t len)
{
	uint32_t v;

	switch (oid) {
	case RNDIS_OID_GEN_CURRENT_PACKET_FILTER:
		if (len < 4)
			return RNDIS_STATUS_INVALID_LENGTH;
		memcpy(&v, in, 4);
		nv->filter = v;
		return RNDIS_STATUS_SUCCESS;
	case RNDIS_OID_TCP_OFFLOAD_PARAMETERS:
		if (len < sizeof(struct ndis_offload_params))
			return RNDIS_STATUS_INVALID_LENGTH;
		memcpy(&nv->offload, in, sizeof(nv->offload));
		return RNDIS_STATUS_SUCCESS;
	case RNDIS_OID_GEN_RNDIS_CONFIG_PARAMETER:
	case RNDIS_OID_802_3_MULTICAST_LIST:
	case RNDIS_OID_OFFLOAD_ENCAPSULATION:
		return RNDIS_STATUS_SUCCESS;
	default:
		/*
		 * RNDIS_OID_802_3_CURRENT_ADDRESS among them: the MAC is the
		 * configuration's, a guest may not take another.
		 */
		return RNDIS_STATUS_NOT_SUPPORTED;
	}
}

/* One control message (@b, @len bytes, in private memory). */
static void rndis_control(struct netvsp *nv, uint32_t type,
			  const uint8_t *b, uint32_t len)
{
	union {
		struct rndis_init_req init;
		struct rndis_query_req q;
		uint32_t req_id;
	} r;
	uint8_t info[CTL_BYTES];
	uint32_t status, ilen = 0;

	nv->st.control++;
	memset(&r, 0, sizeof(r));
	memcpy(&r, b, len < sizeof(r) ? len : sizeof(r));
	switch (type) {
	case RNDIS_MSG_INIT: {
		struct rndis_init_complete c = {
			.req_id = r.init.req_id,
			.status = RNDIS_STATUS_SUCCESS,
			.major_ver = RNDIS_MAJOR_VERSION,
			.minor_ver = RNDIS_MINOR_VERSION,
			.dev_flags = RNDIS_DF_CONNECTIONLESS,
			.medium = RNDIS_MEDIUM_802_3,
			.max_pkt_per_msg = RNDIS_MAX_PER_MSG,
			.max_xfer_size = nv->send_section_size ?
				nv->send_section_size : NETVSC_SEND_SECTION_SIZE,
			.pkt_alignment_factor = 3,
		};

		nv->rndis_ready = true;
		rndis_answer(nv, RNDIS_MSG_INIT_C, &c, sizeof(c), NULL, 0);
		indicate_link(nv);
		return;
	}
	case RNDIS_MSG_QUERY: {
		struct rndis_query_complete c = { .req_id = r.q.req_id };

		c.status = rndis_query(nv, r.q.oid, info, &ilen,
				       CTL_BYTES - sizeof(struct rndis_msg_hdr) -
				       sizeof(c));
		if (c.status) {
			ilen = 0;
			nv->st.refused++;
		}
		c.info_buflen = ilen;
		c.info_buf_offset = ilen ? sizeof(c) : 0;
		rndis_answer(nv, RNDIS_MSG_QUERY_C, &c, sizeof(c), info, ilen);
		return;
	}
	case RNDIS_MSG_SET: {
		struct rndis_req_complete c = { .req_id = r.q.req_id };
		uint64_t off = r.q.info_buf_offset, n = r.q.info_buflen;

		/* The info buffer must lie in the message's body. */
		if (len < sizeof(r.q) || off < sizeof(r.q) || off > len ||
		    n > len - off)
			status = RNDIS_STATUS_INVALID_DATA;
		else
			status = rndis_set(nv, r.q.oid, b + off, (uint32_t)n);
		if (status)
			nv->st.refused++;
		c.status = status;
		rndis_answer(nv, RNDIS_MSG_SET_C, &c, sizeof(c), NULL, 0);
		return;
	}
	case RNDIS_MSG_RESET: {
		struct rndis_reset_complete c = { RNDIS_STATUS_SUCCESS, 0 };

		rndis_answer(nv, RNDIS_MSG_RESET_C, &c, sizeof(c), NULL, 0);
		return;
	}
	case RNDIS_MSG_KEEPALIVE: {
		struct rndis_req_complete c = { r.req_id,
						RNDIS_STATUS_SUCCESS };

		rndis_answer(nv, RNDIS_MSG_KEEPALIVE_C, &c, sizeof(c), NULL,
			     0);
		return;
	}
	case RNDIS_MSG_HALT:
		nv->rndis_ready = false;
		nv->filter = 0;
		return;
	default:
		nv->st.refused++;
		return;
	}
}

/* ---- RNDIS packets to the tap ---- */

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	for (; n >= 2; p += 2, n -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * LSO: hv_netvsc sends the IP header with total length 0 (IPv4) and the
 * TCP checksum seeded with a pseudo header of length 0, as Hyper-V's
 * switch expects.  The kernel behind the tap wants the lengths of the
 * whole packet and the pseudo-header sum with it: put them in.
 */
static int lso_fixup(uint8_t *f, uint32_t len, uint32_t l3, uint32_t l4,
		     bool ipv6)
{
	uint32_t l4len, sum;
	uint8_t pseudo[4];

	if (l4 + 20 > len || l4 < l3 + (ipv6 ? 40 : 20))
		return -EINVAL;
	l4len = len - l4;
	if (ipv6) {
		if (len - l3 - 40 > 0xffff)
			return -EINVAL;
		put_be16(f + l3 + 4, (uint16_t)(len - l3 - 40));
		sum = csum_add(0, f + l3 + 8, 32);
	} else {
		if ((f[l3] >> 4) != 4 || len - l3 > 0xffff)
			return -EINVAL;
		put_be16(f + l3 + 2, (uint16_t)(len - l3));
		put_be16(f + l3 + 10, 0);
		put_be16(f + l3 + 10, (uint16_t)~csum_fold(
			 csum_add(0, f + l3, (size_t)(f[l3] & 0xf) * 4)));
		sum = csum_add(0, f + l3 + 12, 8);
	}
	pseudo[0] = 0;
	pseudo[1] = 6;			/* TCP */
	put_be16(pseudo + 2, (uint16_t)l4len);
	sum = csum_add(sum, pseudo, 4);
	put_be16(f + l4 + 16, csum_fold(sum));
	return 0;
}

static uint32_t l2_len(const uint8_t *f, uint32_t len)
{
	if (len >= 18 && f[12] == 0x81 && f[13] == 0x00)
		return 18;
	return 14;
}

/* One PACKET message (@b, @len bytes, private): a frame to the tap. */
static int rndis_data(struct netvsp *nv, uint8_t *b, uint32_t len)
{
	struct virtio_net_hdr vh;
	struct rndis_packet p;
	struct iovec iov[2];
	uint32_t csum = 0, lso = 0, l3, off, end;
	bool have_csum = false, have_lso = false;
	uint8_t *f;

	if (len < sizeof(p))
		return -EINVAL;
	memcpy(&p, b, sizeof(p));
	if (p.data_offset < sizeof(p) || p.data_offset > len ||
	    p.data_len > len - p.data_offset || p.data_len < 14)
		return -EINVAL;
	/* Per-packet infos: each inside the area, each value inside it. */
	if (p.per_pkt_info_len) {
		if (p.per_pkt_info_offset < sizeof(p) ||
		    p.per_pkt_info_offset > len ||
		    p.per_pkt_info_len > len - p.per_pkt_info_offset)
			return -EINVAL;
		off = p.per_pkt_info_offset;
		end = off + p.per_pkt_info_len;
		while (off < end) {
			struct rndis_ppi pi;
			uint32_t v;

			if (end - off < sizeof(pi))
				return -EINVAL;
			memcpy(&pi, b + off, sizeof(pi));
			if (pi.size < sizeof(pi) || pi.size > end - off ||
			    pi.ppi_offset < sizeof(pi) ||
			    pi.ppi_offset > pi.size ||
			    pi.size - pi.ppi_offset < 4)
				return -EINVAL;
			memcpy(&v, b + off + pi.ppi_offset, 4);
			if (pi.type == RNDIS_PPI_TCPIP_CHKSUM) {
				csum = v;
				have_csum = true;
			} else if (pi.type == RNDIS_PPI_TCP_LARGESEND) {
				lso = v;
				have_lso = true;
			}
			off += pi.size;
		}
	}
	f = b + p.data_offset;
	memset(&vh, 0, sizeof(vh));
	l3 = l2_len(f, p.data_len);
	if (have_lso && (lso & NDIS_LSO2_TYPE_V2) && NDIS_LSO2_MSS(lso)) {
		bool v6 = lso & NDIS_LSO2_IPV6;
		uint32_t l4 = NDIS_LSO2_TCP_HDR_OFFSET(lso), thl;

		if (p.data_len > LSO_MAX_FRAME ||
		    lso_fixup(f, p.data_len, l3, l4, v6))
			return -EINVAL;
		thl = (uint32_t)(f[l4 + 12] >> 4) * 4;
		if (thl < 20 || l4 + thl > p.data_len)
			return -EINVAL;
		vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
				   VIRTIO_NET_HDR_GSO_TCPV4;
		vh.gso_size = (uint16_t)NDIS_LSO2_MSS(lso);
		vh.hdr_len = (uint16_t)(l4 + thl);
		vh.csum_start = (uint16_t)l4;
		vh.csum_offset = 16;
		nv->st.tx_lso++;
	} else {
		if (p.data_len > nv->cfg.mtu + l3)
			return -EMSGSIZE;
		if (have_csum && (csum & (NDIS_TXCSUM_TCP | NDIS_TXCSUM_UDP))) {
			uint32_t l4 = NDIS_TXCSUM_TCP_HDR_OFFSET(csum);
			uint16_t co = csum & NDIS_TXCSUM_TCP ? 16 : 6;

			if (l4 < l3 || l4 + co + 2u > p.data_len)
				return -EINVAL;
			vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			vh.csum_start = (uint16_t)l4;
			vh.csum_offset = co;
			nv->st.tx_csum++;
		}
		if (have_csum && (csum & NDIS_TXCSUM_IP_HEADER) &&
		    (csum & NDIS_TXCSUM_IS_IPV4) && l3 + 20 <= p.data_len &&
		    (f[l3] >> 4) == 4 &&
		    l3 + (uint32_t)(f[l3] & 0xf) * 4 <= p.data_len) {
			put_be16(f + l3 + 10, 0);
			put_be16(f + l3 + 10, (uint16_t)~csum_fold(
				 csum_add(0, f + l3, (size_t)(f[l3] & 0xf) * 4)));
		}
	}
	iov[0].iov_base = &vh;
	iov[0].iov_len = sizeof(vh);
	iov[1].iov_base = f;
	iov[1].iov_len = p.data_len;
	/* A tap that is full or down drops the frame, as a wire would. */
	if (writev(nv->tapfd[0], iov, 2) < 0) {
		nv->st.tx_dropped++;
		return 0;
	}
	nv->st.tx_packets++;
	nv->st.tx_bytes += p.data_len;
	return 0;
}

/* The RNDIS messages of one buffer (private copy, @len bytes). */
static uint32_t rndis_buffer(struct netvsp *nv, uint8_t *b, uint32_t len)
{
	struct rndis_msg_hdr h;
	uint32_t off = 0, n = 0;

	while (off < len) {
		if (len - off < sizeof(h) || n == RNDIS_MAX_PER_MSG)
			return NVSP_STAT_INVALID_RNDIS_PKT;
		memcpy(&h, b + off, sizeof(h));
		if (h.msg_len < sizeof(h) || h.msg_len > len - off)
			return NVSP_STAT_INVALID_RNDIS_PKT;
		if (h.msg_type == RNDIS_MSG_PACKET) {
			int rc = nv->rndis_ready ?
				rndis_data(nv, b + off + sizeof(h),
					   h.msg_len - (uint32_t)sizeof(h)) :
				-EPROTO;

			if (rc) {
				refused(nv, "an RNDIS packet", rc);
				return NVSP_STAT_INVALID_RNDIS_PKT;
			}
		} else {
			rndis_control(nv, h.msg_type, b + off + sizeof(h),
				      h.msg_len - (uint32_t)sizeof(h));
		}
		off += h.msg_len;
		n++;
		if (off % 8 && off < len)	/* pkt_alignment_factor 3 */
			off += 8 - off % 8;
	}
	return NVSP_STAT_SUCCESS;
}

/*
 * Page buffers: ranges of grant references (gpadl.h), their bytes
 * concatenated.  A packet's range buffer is checked whole before anything
 * is mapped; the packets of one turn are mapped together (one call, as
 * every map is a round trip to the hypervisor's grant code), copied into
 * txbuf one by one and unmapped together.  A mapping that fails (one bad
 * grant) is retried packet by packet, so that only the packet that named
 * the bad grant fails.
 */
static int parse_pages(struct netvsp *nv, const uint8_t *thdr,
		       uint32_t thdr_len, struct txpb *e)
{
	struct vmbus_gpa_range g;
	uint32_t hdr[2], nr, i, pos, np = nv->npb_grefs, total = 0;

	if (thdr_len < sizeof(hdr))
		return -EINVAL;
	memcpy(hdr, thdr, sizeof(hdr));
	nr = hdr[1];
	if (!nr || nr > TX_MAX_RANGES)
		return -EINVAL;
	pos = sizeof(hdr);
	e->first = np;
	for (i = 0; i < nr; i++) {
		uint64_t pages;

		if (thdr_len - pos < sizeof(g))
			return -EINVAL;
		memcpy(&g, thdr + pos, sizeof(g));
		pos += sizeof(g);
		if (!g.byte_count || g.byte_offset >= VMBUS_GRANT_PAGE_SIZE ||
		    g.byte_count > TX_MAX_BYTES - total)
			return -EINVAL;
		pages = VMBUS_GPA_RANGE_PAGES(g.byte_offset, g.byte_count);
		if (pages > TX_MAX_PAGES - (np - e->first) ||
		    (thdr_len - pos) / 4 < pages)
			return -EINVAL;
		memcpy(nv->pb_grefs + np, thdr + pos, pages * 4);
		pos += (uint32_t)pages * 4;
		e->r[i].count = g.byte_count;
		e->r[i].offset = g.byte_offset;
		e->r[i].page = np - e->first;
		np += (uint32_t)pages;
		total += g.byte_count;
	}
	/* The type header is padded to 8 bytes in the ring. */
	if (thdr_len - pos >= VMBUS_PKT_ALIGN)
		return -EINVAL;
	e->nr = nr;
	e->npages = np - e->first;
	e->len = total;
	return 0;
}

/* Copy packet @e out of the mapping @map of its first page. */
static void copy_pages(struct netvsp *nv, const struct txpb *e,
		       const uint8_t *map)
{
	uint32_t i, pos = 0;

	for (i = 0; i < e->nr; i++) {
		memcpy(nv->txbuf + pos, map + (size_t)e->r[i].page *
		       VMBUS_GRANT_PAGE_SIZE + e->r[i].offset, e->r[i].count);
		pos += e->r[i].count;
	}
}

static void pb_one(struct netvsp *nv, const struct txpb *e,
		   const uint8_t *map)
{
	uint32_t status = NVSP_STAT_INVALID_RNDIS_PKT;
	uint8_t *own = NULL;

	if (!map) {
		own = nv->ops.map(nv->ops.arg, nv->domid,
				  nv->pb_grefs + e->first, e->npages);
		map = own;
	}
	if (map) {
		copy_pages(nv, e, map);
		status = rndis_buffer(nv, nv->txbuf, e->len);
	} else {
		refused(nv, "page buffers naming grants it cannot map",
			-EFAULT);
	}
	if (own)
		nv->ops.unmap(nv->ops.arg, own, e->npages);
	rndis_pkt_complete(nv, e->tid, e->flags, status);
}

/* Handle the page-buffer packets taken so far, in order. */
static void pb_flush(struct netvsp *nv)
{
	uint8_t *map;
	uint32_t i;

	if (!nv->npb)
		return;
	map = nv->ops.map(nv->ops.arg, nv->domid, nv->pb_grefs,
			  nv->npb_grefs);
	for (i = 0; i < nv->npb; i++)
		pb_one(nv, &nv->pb[i], map ? map + (size_t)nv->pb[i].first *
		       VMBUS_GRANT_PAGE_SIZE : NULL);
	if (map)
		nv->ops.unmap(nv->ops.arg, map, nv->npb_grefs);
	nv->npb = nv->npb_grefs = 0;
}

static void pb_packet(struct netvsp *nv, uint16_t flags, uint64_t tid,
		      const uint8_t *thdr, uint32_t thdr_len)
{
	struct txpb *e;
	int rc;

	if (nv->npb == PB_BATCH || nv->npb_grefs + TX_MAX_PAGES > PB_GREFS)
		pb_flush(nv);
	e = &nv->pb[nv->npb];
	e->tid = tid;
	e->flags = flags;
	rc = parse_pages(nv, thdr, thdr_len, e);
	if (rc) {
		refused(nv, "page buffers", rc);
		rndis_pkt_complete(nv, tid, flags, NVSP_STAT_INVALID_RNDIS_PKT);
		return;
	}
	nv->npb++;
	nv->npb_grefs += e->npages;
	if (!nv->batching)
		pb_flush(nv);
}

/* ---- NVSP requests ---- */

static void nvsp_answer(struct netvsp *nv, uint64_t tid, uint16_t flags,
			uint32_t type, const void *body, size_t len)
{
	struct nvsp_msg m;

	if (!(flags & VMBUS_PKT_FLAG_REQUEST_COMPLETION))
		return;
	memset(&m, 0, sizeof(m));
	m.msg_type = type;
	if (len)
		memcpy(m.u.raw, body, len);
	nvsp_complete(nv, tid, &m);
}

static void buf_release(struct netvsp *nv, bool recv)
{
	if (recv && nv->recv_h) {
		nv->ops.gpadl_unmap(nv->ops.arg, nv->recv_h);
		nv->recv_h = NULL;
		nv->recv_mem = NULL;
		nv->buf_pages -= nv->recv_pages;
		nv->recv_pages = 0;
		nv->nsections = 0;
		rx_reset(nv);
		nv->nctl = 0;
	}
	if (!recv && nv->send_h) {
		nv->ops.gpadl_unmap(nv->ops.arg, nv->send_h);
		nv->send_h = NULL;
		nv->send_mem = NULL;
		nv->buf_pages -= nv->send_pages;
		nv->send_pages = 0;
		nv->send_sections = 0;
	}
}

static int do_init(struct netvsp *nv, const struct nvsp_msg *m,
		   uint64_t tid, uint16_t flags)
{
	struct nvsp_init_complete c = { 0, 0, NVSP_STAT_FAIL };
	unsigned int i;

	for (i = 0; i < sizeof(nvsp_versions) / sizeof(nvsp_versions[0]); i++)
		if (nvsp_versions[i] >= m->u.init.min_protocol_ver &&
		    nvsp_versions[i] <= m->u.init.max_protocol_ver)
			c.negotiated_protocol_ver = nvsp_versions[i];
	/* Once the buffers exist the version stays. */
	if (c.negotiated_protocol_ver && !nv->recv_h && !nv->send_h) {
		nv->version = c.negotiated_protocol_ver;
		c.status = NVSP_STAT_SUCCESS;
	} else {
		c.negotiated_protocol_ver = 0;
		nv->st.refused++;
	}
	nvsp_answer(nv, tid, flags, NVSP_MSG_TYPE_INIT_COMPLETE, &c, sizeof(c));
	return 0;
}

static int do_ndis_config(struct netvsp *nv, const struct nvsp_msg *m,
			  uint64_t tid, uint16_t flags)
{
	(void)tid; (void)flags;
	nv->guest_mtu = m->u.ndis_config.mtu;
	return 0;
}

static int do_ndis_ver(struct netvsp *nv, const struct nvsp_msg *m,
		       uint64_t tid, uint16_t flags)
{
	(void)tid; (void)flags;
	nv->ndis_version = m->u.ndis_ver.ndis_major_ver << 16 |
			   (m->u.ndis_ver.ndis_minor_ver & 0xffff);
	return 0;
}

/* Map GPADL @id as a buffer of at most @max_pages. */
static int buf_map(struct netvsp *nv, uint32_t id, uint32_t max_pages,
		   void **h, uint8_t **mem, uint32_t *pages, bool write)
{
	size_t size;
	bool writable;
	int rc = nv->ops.gpadl_map(nv->ops.arg, id, h, mem, &size, &writable);

	if (rc)
		return rc;
	if (size / VMBUS_GRANT_PAGE_SIZE > max_pages || (write && !writable) ||
	    !size) {
		nv->ops.gpadl_unmap(nv->ops.arg, *h);
		*h = NULL;
		return -E2BIG;
	}
	*pages = (uint32_t)(size / VMBUS_GRANT_PAGE_SIZE);
	nv->buf_pages += *pages;
	return 0;
}

static int do_recv_buf(struct netvsp *nv, const struct nvsp_msg *m,
		       uint64_t tid, uint16_t flags)
{
	struct nvsp_recv_buf_complete c;
	uint8_t *mem;
	uint32_t pages, n;
	int rc = -EEXIST;

	memset(&c, 0, sizeof(c));
	c.status = NVSP_STAT_FAIL;
	if (!nv->recv_h && m->u.send_buf.id == NETVSC_RECV_BUF_ID) {
		rc = buf_map(nv, m->u.send_buf.gpadl_handle,
			     nv->lim.max_recv_buf_pages, &nv->recv_h, &mem,
			     &pages, true);
	}
	if (!rc) {
		n = (uint32_t)((uint64_t)pages * VMBUS_GRANT_PAGE_SIZE /
			       nv->section_size);
		if (n > nv->max_sections)
			n = nv->max_sections;
		if (n < 2) {
			nv->recv_pages = pages;
			nv->recv_mem = mem;
			buf_release(nv, true);
		} else {
			nv->recv_mem = mem;
			nv->recv_pages = pages;
			nv->nsections = n;
			rx_reset(nv);
			c.status = NVSP_STAT_SUCCESS;
			c.num_sections = 1;
			c.sections[0].offset = 0;
			c.sections[0].sub_alloc_size = nv->section_size;
			c.sections[0].num_sub_allocs = n;
			c.sections[0].end_offset = n * nv->section_size;
		}
	}
	if (c.status != NVSP_STAT_SUCCESS)
		nv->st.refused++;
	nvsp_answer(nv, tid, flags, NVSP_MSG1_TYPE_SEND_RECV_BUF_COMPLETE, &c,
		    sizeof(c));
	return 0;
}

static int do_send_buf(struct netvsp *nv, const struct nvsp_msg *m,
		       uint64_t tid, uint16_t flags)
{
	struct nvsp_send_buf_complete c = { NVSP_STAT_FAIL, 0 };
	uint32_t pages;
	uint8_t *mem;

	if (!nv->send_h && !buf_map(nv, m->u.send_buf.gpadl_handle,
				    nv->lim.max_send_buf_pages, &nv->send_h,
				    &mem, &pages, false)) {
		nv->send_mem = mem;
		nv->send_pages = pages;
		nv->send_sections = (uint32_t)((uint64_t)pages *
			VMBUS_GRANT_PAGE_SIZE / nv->send_section_size);
		c.status = NVSP_STAT_SUCCESS;
		c.section_size = nv->send_section_size;
	} else {
		nv->st.refused++;
	}
	nvsp_answer(nv, tid, flags, NVSP_MSG1_TYPE_SEND_SEND_BUF_COMPLETE, &c,
		    sizeof(c));
	return 0;
}

static int do_revoke_recv(struct netvsp *nv, const struct nvsp_msg *m,
			  uint64_t tid, uint16_t flags)
{
	(void)tid; (void)flags;
	if (m->u.revoke_buf.id == NETVSC_RECV_BUF_ID)
		buf_release(nv, true);
	return 0;
}

static int do_revoke_send(struct netvsp *nv, const struct nvsp_msg *m,
			  uint64_t tid, uint16_t flags)
{
	(void)tid; (void)flags;
	if (m->u.revoke_buf.id == NETVSC_SEND_BUF_ID)
		buf_release(nv, false);
	return 0;
}

/* SEND_RNDIS_PKT from a send-buffer section (in-band packet). */
static int do_rndis_pkt(struct netvsp *nv, const struct nvsp_msg *m,
			uint64_t tid, uint16_t flags)
{
	uint32_t idx = m->u.rndis_pkt.send_buf_section_index;
	uint32_t size = m->u.rndis_pkt.send_buf_section_size;
	uint32_t status = NVSP_STAT_INVALID_RNDIS_PKT;

	if (idx < nv->send_sections && size && size <= nv->send_section_size) {
		memcpy(nv->txbuf, nv->send_mem +
		       (size_t)idx * nv->send_section_size, size);
		status = rndis_buffer(nv, nv->txbuf, size);
	} else {
		nv->st.refused++;
	}
	rndis_pkt_complete(nv, tid, flags, status);
	return 0;
}

static int do_subchannel(struct netvsp *nv, const struct nvsp_msg *m,
			 uint64_t tid, uint16_t flags)
{
	struct nvsp_subchannel_complete c = { NVSP_STAT_FAIL, 0 };

	(void)m;
	nv->st.refused++;
	nvsp_answer(nv, tid, flags, NVSP_MSG5_TYPE_SUBCHANNEL, &c, sizeof(c));
	return 0;
}

/* Messages that need no action: echoed when a completion is asked. */
static int do_echo(struct netvsp *nv, const struct nvsp_msg *m,
		   uint64_t tid, uint16_t flags)
{
	nvsp_answer(nv, tid, flags, m->msg_type, m->u.raw, sizeof(m->u.raw));
	return 0;
}

struct nvsp_row {
	uint32_t type;
	uint32_t min_len;		/* bytes of the message, type included */
	bool needs_version;		/* only after a successful INIT */
	int (*fn)(struct netvsp *nv, const struct nvsp_msg *m, uint64_t tid,
		  uint16_t flags);
};

#define ROW(t, body, v, f) { t, 4 + sizeof(body), v, f }
static const struct nvsp_row nvsp_table[] = {
	ROW(NVSP_MSG_TYPE_INIT, struct nvsp_init, false, do_init),
	ROW(NVSP_MSG2_TYPE_SEND_NDIS_CONFIG, struct nvsp_ndis_config, true,
	    do_ndis_config),
	ROW(NVSP_MSG1_TYPE_SEND_NDIS_VER, struct nvsp_ndis_ver, true,
	    do_ndis_ver),
	ROW(NVSP_MSG1_TYPE_SEND_RECV_BUF, struct nvsp_send_buf, true,
	    do_recv_buf),
	ROW(NVSP_MSG1_TYPE_SEND_SEND_BUF, struct nvsp_send_buf, true,
	    do_send_buf),
	ROW(NVSP_MSG1_TYPE_REVOKE_RECV_BUF, struct nvsp_revoke_buf, true,
	    do_revoke_recv),
	ROW(NVSP_MSG1_TYPE_REVOKE_SEND_BUF, struct nvsp_revoke_buf, true,
	    do_revoke_send),
	ROW(NVSP_MSG1_TYPE_SEND_RNDIS_PKT, struct nvsp_rndis_pkt, true,
	    do_rndis_pkt),
	ROW(NVSP_MSG5_TYPE_SUBCHANNEL, struct nvsp_subchannel_req, true,
	    do_subchannel),
	ROW(NVSP_MSG4_TYPE_SWITCH_DATA_PATH, struct nvsp_switch_data_path,
	    true, do_echo),
	ROW(NVSP_MSG4_TYPE_SEND_VF_ASSOCIATION, struct nvsp_vf_association,
	    true, do_echo),
};

static void nvsp_request(struct netvsp *nv, uint16_t flags, uint64_t tid,
			 const void *data, uint32_t len)
{
	const struct nvsp_row *row = NULL;
	struct nvsp_msg m;
	unsigned int i;

	memset(&m, 0, sizeof(m));
	memcpy(&m, data, len < sizeof(m) ? len : sizeof(m));
	for (i = 0; i < sizeof(nvsp_table) / sizeof(nvsp_table[0]); i++)
		if (nvsp_table[i].type == m.msg_type)
			row = &nvsp_table[i];
	if (!row || len < row->min_len || (row->needs_version && !nv->version)) {
		/*
		 * Refused: a request that asked for a completion gets one,
		 * of its own type with status NONE (or FAIL for a packet),
		 * so that the guest does not wait forever.
		 */
		nv->st.bad_packets++;
		if (m.msg_type == NVSP_MSG1_TYPE_SEND_RNDIS_PKT)
			rndis_pkt_complete(nv, tid, flags, NVSP_STAT_FAIL);
		else
			nvsp_answer(nv, tid, flags, m.msg_type, NULL, 0);
		return;
	}
	row->fn(nv, &m, tid, flags);
}

int netvsp_packet(struct netvsp *nv, uint16_t type, uint16_t flags,
		  uint64_t trans_id, const void *thdr, uint32_t thdr_len,
		  const void *data, uint32_t len)
{
	struct nvsp_msg m;

	if (!nv->attached)
		return -ENOTCONN;
	/* Frames leave in the order they came. */
	if (type != VMBUS_PKT_DATA_USING_GPA_DIRECT)
		pb_flush(nv);
	switch (type) {
	case VMBUS_PKT_DATA_INBAND:
		nvsp_request(nv, flags, trans_id, data, len);
		return 0;
	case VMBUS_PKT_COMP:
		/* The guest is done with a receive packet. */
		rx_completed(nv, trans_id);
		return 0;
	case VMBUS_PKT_DATA_USING_GPA_DIRECT:
		memset(&m, 0, sizeof(m));
		memcpy(&m, data, len < sizeof(m) ? len : sizeof(m));
		if (len < 4 + sizeof(struct nvsp_rndis_pkt) || !nv->version ||
		    m.msg_type != NVSP_MSG1_TYPE_SEND_RNDIS_PKT) {
			nv->st.bad_packets++;
			rndis_pkt_complete(nv, trans_id, flags,
					   NVSP_STAT_FAIL);
			return 0;
		}
		pb_packet(nv, flags, trans_id, thdr, thdr_len);
		return 0;
	default:
		nv->st.bad_packets++;
		if (flags & VMBUS_PKT_FLAG_REQUEST_COMPLETION)
			rndis_pkt_complete(nv, trans_id, flags,
					   NVSP_STAT_FAIL);
		return 0;
	}
}

/* ---- frames from the tap to the guest ---- */

static void tap_to_guest(struct netvsp *nv)
{
	uint32_t secs[RX_BATCH], lens[RX_BATCH], n = 0, q, idle = 0;
	uint32_t room = nv->section_size - RX_HDR;

	if (!nv->recv_mem || !nv->rndis_ready || !nv->filter || !nv->link_up)
		return;
	for (q = nv->rx_q; idle < nv->nqueues; q = (q + 1) % nv->nqueues) {
		struct virtio_net_hdr vh;
		struct rndis_msg_hdr h;
		struct rndis_packet p;
		struct rndis_ppi pi;
		struct iovec iov[2];
		uint32_t s, v = 0;
		uint8_t *sec;
		ssize_t r;

		if (!nv->nfree || nv->nctl) {
			nv->st.rx_no_room++;
			break;
		}
		s = nv->free_sec[nv->nfree - 1];
		sec = section(nv, s);
		iov[0].iov_base = &vh;
		iov[0].iov_len = sizeof(vh);
		iov[1].iov_base = sec + RX_HDR;
		iov[1].iov_len = room;
		r = readv(nv->tapfd[q], iov, 2);
		if (r <= 0) {
			idle++;
			continue;
		}
		idle = 0;
		if ((size_t)r < sizeof(vh) + 14 ||
		    (size_t)r - sizeof(vh) >= room ||
		    vh.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
			nv->st.rx_dropped++;
			continue;
		}
		nv->nfree--;
		r -= sizeof(vh);
		if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
			/* A partial checksum (a tap that offers offloads
			 * anyway): complete it, as a NIC would on the wire. */
			uint32_t cs = vh.csum_start, co = vh.csum_offset;

			if (cs + co + 2u > (uint32_t)r) {
				nv->free_sec[nv->nfree++] = s;
				nv->st.rx_dropped++;
				continue;
			}
			put_be16(sec + RX_HDR + cs + co, (uint16_t)~csum_fold(
				 csum_add(0, sec + RX_HDR + cs,
					  (uint32_t)r - cs)));
		}
		if (vh.flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM |
				VIRTIO_NET_HDR_F_DATA_VALID)) {
			/* The data was checked (or made) in dom0's memory. */
			v = NDIS_RXCSUM_IP_SUCCEEDED |
			    NDIS_RXCSUM_TCP_SUCCEEDED |
			    NDIS_RXCSUM_UDP_SUCCEEDED;
		}
		memset(&p, 0, sizeof(p));
		p.per_pkt_info_offset = sizeof(p);
		p.per_pkt_info_len = sizeof(pi) + 4;
		p.data_offset = (uint32_t)(RX_HDR - sizeof(h));
		p.data_len = (uint32_t)r;
		h.msg_type = RNDIS_MSG_PACKET;
		h.msg_len = (uint32_t)(RX_HDR + (uint32_t)r);
		pi.size = sizeof(pi) + 4;
		pi.type = RNDIS_PPI_TCPIP_CHKSUM;
		pi.ppi_offset = sizeof(pi);
		memcpy(sec, &h, sizeof(h));
		memcpy(sec + sizeof(h), &p, sizeof(p));
		memcpy(sec + sizeof(h) + sizeof(p), &pi, sizeof(pi));
		memcpy(sec + sizeof(h) + sizeof(p) + sizeof(pi), &v, 4);
		secs[n] = s;
		lens[n++] = h.msg_len;
		nv->st.rx_packets++;
		nv->st.rx_bytes += (uint64_t)r;
		if (n == RX_BATCH) {
			if (rx_send(nv, secs, lens, n,
				    NVSP_RNDIS_CHANNEL_DATA)) {
				while (n)
					nv->free_sec[nv->nfree++] = secs[--n];
				nv->st.rx_dropped += RX_BATCH;
				break;
			}
			n = 0;
		}
	}
	nv->rx_q = q;
	if (n && rx_send(nv, secs, lens, n, NVSP_RNDIS_CHANNEL_DATA)) {
		nv->st.rx_dropped += n;
		while (n)
			nv->free_sec[nv->nfree++] = secs[--n];
	}
}

/* ---- the turn ---- */

/* Room for what one more ring packet may need. */
static bool room_for_request(const struct netvsp *nv)
{
	return nv->ncomp < COMP_MAX - 1 &&
	       nv->nctl + RNDIS_MAX_PER_MSG * 2 <= CTL_MAX;
}

int netvsp_process(struct netvsp *nv)
{
	uint8_t *buf = (uint8_t *)nv->rxbuf;
	struct vmbus_packet pkt;
	const uint8_t *thdr;
	uint32_t thdr_len;
	int rc = 0;

	if (!nv->attached)
		return -ENOTCONN;
	if (nv->chan) {
		vmbus_chan_ack(nv->chan);
		vmbus_chan_batch_begin(nv->chan);
	}
	flush_comps(nv);
	flush_ctl(nv);
	nv->batching = true;
	while (nv->chan && room_for_request(nv)) {
		memset(buf, 0, NETVSP_RX_PREFIX);
		rc = vmbus_chan_recv(nv->chan, &pkt, buf, sizeof(nv->rxbuf));
		if (rc == -EMSGSIZE) {
			nv->st.bad_packets++;
			continue;
		}
		if (rc)
			break;
		thdr = NULL;
		thdr_len = 0;
		if (pkt.type == VMBUS_PKT_DATA_USING_GPA_DIRECT) {
			thdr = netvsp_find_thdr(buf, &pkt, &thdr_len);
			if (!thdr) {
				nv->st.bad_packets++;
				continue;
			}
		}
		netvsp_packet(nv, pkt.type, pkt.flags, pkt.trans_id, thdr,
			      thdr_len, pkt.data, pkt.len);
		flush_ctl(nv);
	}
	nv->batching = false;
	pb_flush(nv);
	flush_ctl(nv);
	tap_to_guest(nv);
	if (nv->chan)
		vmbus_chan_batch_commit(nv->chan);
	if (rc == -EAGAIN)
		rc = 0;
	return rc;
}

/*
 * libvmbus hands out the payload of a received packet, not its type
 * header; it copies the whole packet, descriptor first, into the caller's
 * buffer, at most 64 bytes in.  Find the descriptor in that private copy
 * (as the storage VSP does): the first 8-byte position whose descriptor
 * agrees with type, lengths and transaction id.
 */
const uint8_t *netvsp_find_thdr(const uint8_t *buf,
				const struct vmbus_packet *pkt,
				uint32_t *thdr_len)
{
	const uint8_t *data = pkt->data;
	struct vmbus_pkt_desc desc;
	size_t at = (size_t)(data - buf), o;

	for (o = 0; o + sizeof(desc) <= at && o < NETVSP_RX_PREFIX; o += 8) {
		memcpy(&desc, buf + o, sizeof(desc));
		if (desc.type == pkt->type && desc.trans_id == pkt->trans_id &&
		    (size_t)desc.offset8 * 8 == at - o &&
		    ((uint32_t)desc.len8 - desc.offset8) * 8u == pkt->len) {
			*thdr_len = (uint32_t)(at - o - sizeof(desc));
			return buf + o + sizeof(desc);
		}
	}
	return NULL;
}

void netvsp_set_link(struct netvsp *nv, bool up)
{
	if (nv->link_up == up)
		return;
	nv->link_up = up;
	netvsp_tap_carrier(nv, up);
	if (nv->attached && nv->rndis_ready)
		indicate_link(nv);
}

/* ---- setup ---- */

int netvsp_create(struct netvsp **out, const struct netvsp_cfg *cfg,
		  const struct netvsp_limits *lim)
{
	struct netvsp *nv;
	uint32_t frame;
	int rc;

	*out = NULL;
	nv = calloc(1, sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	nv->cfg = *cfg;
	nv->cfg.ifname = NULL;
	nv->cfg.bridge = NULL;
	if (!nv->cfg.mtu)
		nv->cfg.mtu = 1500;
	if (!nv->cfg.queues)
		nv->cfg.queues = 1;
	rc = -EINVAL;
	if (nv->cfg.mtu < NETVSP_MTU_MIN || nv->cfg.mtu > NETVSP_MTU_MAX ||
	    nv->cfg.queues > NETVSP_MAX_QUEUES || (cfg->mac[0] & 1))
		goto fail;
	nv->lim.max_recv_buf_pages = lim && lim->max_recv_buf_pages ?
		lim->max_recv_buf_pages : DEF_BUF_PAGES;
	nv->lim.max_send_buf_pages = lim && lim->max_send_buf_pages ?
		lim->max_send_buf_pages : DEF_BUF_PAGES;
	nv->lim.max_rx_inflight = lim && lim->max_rx_inflight ?
		lim->max_rx_inflight : DEF_RX_INFLIGHT;
	nv->send_section_size = lim && lim->send_section_size ?
		lim->send_section_size : NETVSC_SEND_SECTION_SIZE;
	if (nv->lim.max_rx_inflight > MAX_RX_INFLIGHT ||
	    nv->lim.max_recv_buf_pages > VMBUS_GPADL_MAX_PAGES ||
	    nv->lim.max_send_buf_pages > VMBUS_GPADL_MAX_PAGES ||
	    nv->send_section_size < 512 ||
	    nv->send_section_size > TX_MAX_BYTES)
		goto fail;
	lim = &nv->lim;
	/* A section holds the largest frame (VLAN tag included) and its
	 * RNDIS header, and is never smaller than Hyper-V's. */
	frame = RX_HDR + nv->cfg.mtu + 18;
	nv->section_size = (frame + 63) & ~63u;
	if (nv->section_size < NETVSC_RECV_SECTION_SIZE)
		nv->section_size = NETVSC_RECV_SECTION_SIZE;
	nv->max_sections = (uint32_t)((uint64_t)lim->max_recv_buf_pages *
				      VMBUS_GRANT_PAGE_SIZE / nv->section_size);
	nv->free_sec = calloc(nv->max_sections, sizeof(*nv->free_sec));
	nv->rxp = calloc(lim->max_rx_inflight, sizeof(*nv->rxp));
	nv->txbuf = malloc(TX_MAX_BYTES);
	rc = -ENOMEM;
	if (!nv->free_sec || !nv->rxp || !nv->txbuf)
		goto fail;
	rc = netvsp_tap_open(nv, cfg);
	if (rc)
		goto fail;
	nv->link_up = true;
	*out = nv;
	return 0;
fail:
	netvsp_destroy(nv);
	return rc;
}

int netvsp_attach_ops(struct netvsp *nv, unsigned int domid,
		      const struct netvsp_ops *ops)
{
	if (nv->attached)
		return -EBUSY;
	nv->ops = *ops;
	nv->domid = domid;
	nv->attached = true;
	nv->logged = false;
	nv->version = nv->ndis_version = nv->guest_mtu = 0;
	nv->rndis_ready = false;
	nv->filter = 0;
	nv->ncomp = nv->nctl = 0;
	netvsp_tap_carrier(nv, nv->link_up);
	return 0;
}

int netvsp_attach(struct netvsp *nv, struct vmbus_chan *chan)
{
	struct netvsp_ops ops = { chan_gpadl_map, chan_gpadl_unmap, xgt_map,
				  xgt_unmap, chan_send, nv };
	int peer = vmbus_chan_peer(chan);

	if (nv->attached)
		return -EBUSY;
	if (peer < 0)
		return peer;
	if (!nv->xgt) {
		nv->xgt = xengnttab_open(NULL, 0);
		if (!nv->xgt)
			return -errno;
	}
	nv->chan = chan;
	return netvsp_attach_ops(nv, (unsigned int)peer, &ops);
}

void netvsp_detach(struct netvsp *nv)
{
	if (!nv->attached)
		return;
	buf_release(nv, true);
	buf_release(nv, false);
	nv->chan = NULL;
	nv->attached = false;
	nv->rndis_ready = false;
	nv->version = 0;
	nv->ncomp = nv->nctl = 0;
	nv->npb = nv->npb_grefs = 0;
	memset(&nv->ops, 0, sizeof(nv->ops));
	/* The bridge sees the port go down with the guest's NIC. */
	netvsp_tap_carrier(nv, false);
}

void netvsp_get_stats(const struct netvsp *nv, struct netvsp_stats *st)
{
	*st = nv->st;
	st->nvsp_version = nv->version;
	st->ndis_version = nv->ndis_version;
	st->rndis_ready = nv->rndis_ready;
	st->link_up = nv->link_up;
	st->packet_filter = nv->filter;
	st->guest_mtu = nv->guest_mtu;
	st->recv_sections = nv->nsections;
	st->recv_section_size = nv->section_size;
	st->send_sections = nv->send_sections;
	st->send_section_size = nv->send_section_size;
	st->rx_inflight = nv->rx_inflight;
	st->buf_pages = nv->buf_pages;
}

void netvsp_destroy(struct netvsp *nv)
{
	if (!nv)
		return;
	netvsp_detach(nv);
	netvsp_tap_close(nv);
	if (nv->xgt)
		xengnttab_close(nv->xgt);
	free(nv->free_sec);
	free(nv->rxp);
	free(nv->txbuf);
	free(nv);
}
