// SPDX-License-Identifier: GPL-2.0-only
/*
 * A user-mode netvsc on libvmbus: see netvsc-client.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <xenvmbus/gpadl.h>
#include <xenvmbus/ring.h>

#include "netvsc-client.h"

#define RX_PREFIX	(64u + 16u)

int netvsc_client_open(struct netvsc_client *c, uint32_t ring_pages,
		       int timeout_ms)
{
	struct vmbus_offer offs[16];
	uint32_t i, npool = NETVSC_CLIENT_LSO_SLOTS * NETVSC_CLIENT_LSO_PAGES;
	uint8_t type[16];
	int n, k, rc;

	memset(c, 0, sizeof(*c));
	vmbus_guid_parse(NETVSC_CLASS_GUID, type);
	rc = vmbus_bus_open(&c->bus, timeout_ms);
	if (rc) {
		fprintf(stderr, "netvsc: open the bus: %s\n", strerror(-rc));
		return rc;
	}
	n = vmbus_bus_offers(c->bus, offs, 16);
	for (k = 0; k < n && memcmp(offs[k].type, type, 16); k++)
		;
	if (k == n) {
		fprintf(stderr, "netvsc: no network adapter offered\n");
		rc = -ENOENT;
		goto fail;
	}
	rc = vmbus_chan_open(c->bus, offs[k].relid, ring_pages, 1, timeout_ms,
			     &c->ch);
	if (rc) {
		fprintf(stderr, "netvsc: open the adapter: %s\n",
			strerror(-rc));
		goto fail;
	}
	c->xgs = xengntshr_open(NULL, 0);
	if (c->xgs)
		c->pool = xengntshr_share_pages(c->xgs,
						(uint32_t)vmbus_chan_peer(c->ch),
						(int)npool, c->pool_refs, 0);
	if (!c->pool) {
		rc = -errno;
		fprintf(stderr, "netvsc: share %u pages: %s\n", npool,
			strerror(errno));
		goto fail;
	}
	for (i = 0; i < NETVSC_CLIENT_LSO_SLOTS; i++)
		c->lso_free[c->nlso_free++] = i;
	c->next_tid = 1;
	c->next_req = 1;
	return 0;
fail:
	netvsc_client_close(c);
	return rc;
}

void netvsc_client_close(struct netvsc_client *c)
{
	if (c->ch)
		vmbus_chan_close(c->ch);
	if (c->recv_g)
		vmbus_gpadl_destroy(c->recv_g, 1000);
	if (c->send_g)
		vmbus_gpadl_destroy(c->send_g, 1000);
	if (c->pool)
		xengntshr_unshare(c->xgs, c->pool, NETVSC_CLIENT_LSO_SLOTS *
				  NETVSC_CLIENT_LSO_PAGES);
	if (c->xgs)
		xengntshr_close(c->xgs);
	if (c->bus)
		vmbus_bus_close(c->bus);
	memset(c, 0, sizeof(*c));
}

static int send_retry(struct netvsc_client *c, uint16_t type,
		      uint64_t tid, const void *thdr, size_t thdr_len,
		      const void *data, size_t len)
{
	int rc, tries = 0;

	while ((rc = vmbus_chan_send_raw(c->ch, type, 1, tid, thdr, thdr_len,
					 data, len)) == -EAGAIN &&
	       tries++ < 2000) {
		netvsc_client_poll(c);
		vmbus_chan_wait(c->ch, 5);
	}
	return rc;
}

int netvsc_client_nvsp(struct netvsc_client *c, const struct nvsp_msg *req,
		       struct nvsp_msg *ans, int timeout_ms)
{
	uint64_t tid = NETVSC_TID_REQ + c->next_tid++;
	int rc = send_retry(c, VMBUS_PKT_DATA_INBAND, tid, NULL, 0, req,
			    sizeof(*req));

	if (rc)
		return rc;
	return netvsc_client_wait_comp(c, tid, ans, timeout_ms);
}

static void log_comp(struct netvsc_client *c, uint64_t tid,
		     const void *data, uint32_t len)
{
	struct nvsp_msg m;

	memset(&m, 0, sizeof(m));
	memcpy(&m, data, len < sizeof(m) ? len : sizeof(m));
	c->comp[c->comp_next].tid = tid;
	c->comp[c->comp_next].msg = m;
	c->comp_next = (c->comp_next + 1) % NETVSC_CLIENT_COMP_LOG;
	if (NETVSC_TID_KIND(tid) == NETVSC_TID_SECTION ||
	    NETVSC_TID_KIND(tid) == NETVSC_TID_LSO) {
		if (m.u.rndis_pkt_complete.status == NVSP_STAT_SUCCESS)
			c->tx_ok++;
		else
			c->tx_failed++;
	}
	if (NETVSC_TID_KIND(tid) == NETVSC_TID_SECTION &&
	    (uint32_t)tid < c->send_sections &&
	    c->nsend_free < NETVSC_CLIENT_MAX_SECTIONS)
		c->send_free[c->nsend_free++] = (uint32_t)tid;
	if (NETVSC_TID_KIND(tid) == NETVSC_TID_LSO &&
	    (uint32_t)tid < NETVSC_CLIENT_LSO_SLOTS)
		c->lso_free[c->nlso_free++] = (uint32_t)tid;
}

/* One RNDIS message the host put in the receive buffer. */
static void rndis_in(struct netvsc_client *c, const uint8_t *m, uint32_t len)
{
	struct rndis_msg_hdr h;
	struct rndis_packet p;
	uint32_t csum = 0, off, end;

	if (len < sizeof(h))
		goto bad;
	memcpy(&h, m, sizeof(h));
	if (h.msg_len > len || h.msg_len < sizeof(h))
		goto bad;
	if (h.msg_type == RNDIS_MSG_INDICATE) {
		struct rndis_indicate_status is;

		if (h.msg_len < sizeof(h) + sizeof(is))
			goto bad;
		memcpy(&is, m + sizeof(h), sizeof(is));
		c->indications++;
		if (is.status == RNDIS_STATUS_MEDIA_CONNECT)
			c->link_up = true;
		else if (is.status == RNDIS_STATUS_MEDIA_DISCONNECT)
			c->link_up = false;
		return;
	}
	if (h.msg_type == RNDIS_MSG_KEEPALIVE_C && c->count_keepalives) {
		c->keepalives++;
		return;
	}
	if (h.msg_type != RNDIS_MSG_PACKET) {
		if (c->nctl == NETVSC_CLIENT_CTL_MAX || h.msg_len > 256)
			goto bad;
		off = (c->ctl_head + c->nctl++) % NETVSC_CLIENT_CTL_MAX;
		c->ctl[off].len = h.msg_len;
		memcpy(c->ctl[off].buf, m, h.msg_len);
		return;
	}
	if (h.msg_len < sizeof(h) + sizeof(p))
		goto bad;
	memcpy(&p, m + sizeof(h), sizeof(p));
	m += sizeof(h);
	len = h.msg_len - (uint32_t)sizeof(h);
	if (p.data_offset > len || p.data_len > len - p.data_offset)
		goto bad;
	off = p.per_pkt_info_offset;
	end = off + p.per_pkt_info_len;
	if (p.per_pkt_info_len && (off > len || end > len || end < off))
		goto bad;
	while (p.per_pkt_info_len && off + sizeof(struct rndis_ppi) <= end) {
		struct rndis_ppi pi;

		memcpy(&pi, m + off, sizeof(pi));
		if (pi.size < sizeof(pi) || pi.size > end - off ||
		    pi.ppi_offset + 4 > pi.size)
			goto bad;
		if (pi.type == RNDIS_PPI_TCPIP_CHKSUM)
			memcpy(&csum, m + off + pi.ppi_offset, 4);
		off += pi.size;
	}
	c->rx_frames++;
	if (c->frame_fn)
		c->frame_fn(c->frame_arg, m + p.data_offset, p.data_len, csum);
	return;
bad:
	c->rx_bad++;
}

static const uint8_t *find_thdr(const uint8_t *buf,
				const struct vmbus_packet *pkt,
				uint32_t *thdr_len)
{
	struct vmbus_pkt_desc desc;
	size_t at = (size_t)((const uint8_t *)pkt->data - buf), o;

	for (o = 0; o + sizeof(desc) <= at && o < RX_PREFIX; o += 8) {
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

static void xfer_in(struct netvsc_client *c, const uint8_t *buf,
		    const struct vmbus_packet *pkt)
{
	struct nvsp_msg m;
	const uint8_t *th;
	uint32_t thl, n, i;
	struct { uint16_t id; uint8_t owns, rsvd; uint32_t count; } h;
	int rc, tries = 0;

	th = find_thdr(buf, pkt, &thl);
	if (!th || thl < sizeof(h)) {
		c->rx_bad++;
		return;
	}
	memcpy(&h, th, sizeof(h));
	n = h.count;
	if (h.id != NETVSC_RECV_BUF_ID || (thl - sizeof(h)) / 8 < n ||
	    !c->recv_mem) {
		c->rx_bad++;
	} else {
		for (i = 0; i < n; i++) {
			struct vmbus_range r;

			memcpy(&r, th + sizeof(h) + 8 * i, sizeof(r));
			if ((uint64_t)r.byte_offset + r.byte_count >
			    c->recv_size) {
				c->rx_bad++;
				continue;
			}
			rndis_in(c, c->recv_mem + r.byte_offset, r.byte_count);
		}
	}
	memset(&m, 0, sizeof(m));
	m.msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT_COMPLETE;
	m.u.rndis_pkt_complete.status = NVSP_STAT_SUCCESS;
	while ((rc = vmbus_chan_send_comp(c->ch, pkt->trans_id, &m,
					  sizeof(m))) == -EAGAIN &&
	       tries++ < 2000)
		vmbus_chan_wait(c->ch, 5);
}

int netvsc_client_poll(struct netvsc_client *c)
{
	uint8_t *buf = (uint8_t *)c->rxbuf;
	struct vmbus_packet pkt;
	int rc, n = 0;

	vmbus_chan_ack(c->ch);
	for (;;) {
		memset(buf, 0, RX_PREFIX);
		rc = vmbus_chan_recv(c->ch, &pkt, buf, sizeof(c->rxbuf));
		if (rc == -EAGAIN)
			return n;
		if (rc == -EMSGSIZE) {
			c->rx_bad++;
			continue;
		}
		if (rc)
			return rc;
		n++;
		if (pkt.type == VMBUS_PKT_COMP)
			log_comp(c, pkt.trans_id, pkt.data, pkt.len);
		else if (pkt.type == VMBUS_PKT_DATA_USING_XFER_PAGES)
			xfer_in(c, buf, &pkt);
		else
			c->rx_bad++;	/* e.g. a send indirection table */
	}
}

int netvsc_client_wait_comp(struct netvsc_client *c, uint64_t tid,
			    struct nvsp_msg *ans, int timeout_ms)
{
	int waited = 0, rc;
	uint32_t i;

	for (;;) {
		rc = netvsc_client_poll(c);
		if (rc < 0)
			return rc;
		for (i = 0; i < NETVSC_CLIENT_COMP_LOG; i++)
			if (c->comp[i].tid == tid) {
				if (ans)
					*ans = c->comp[i].msg;
				c->comp[i].tid = 0;
				return 0;
			}
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		vmbus_chan_wait(c->ch, 10);
		waited += 10;
	}
}

int netvsc_client_section(struct netvsc_client *c)
{
	if (!c->nsend_free)
		netvsc_client_poll(c);
	if (!c->nsend_free)
		return -ENOSPC;
	return (int)c->send_free[--c->nsend_free];
}

int netvsc_client_send_section(struct netvsc_client *c, uint32_t idx,
			       uint32_t size, uint64_t tid)
{
	struct nvsp_msg m;

	memset(&m, 0, sizeof(m));
	m.msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT;
	m.u.rndis_pkt.channel_type = NVSP_RNDIS_CHANNEL_DATA;
	m.u.rndis_pkt.send_buf_section_index = idx;
	m.u.rndis_pkt.send_buf_section_size = size;
	return send_retry(c, VMBUS_PKT_DATA_INBAND, tid, NULL, 0, &m,
			  sizeof(m));
}

uint32_t netvsc_rndis_packet(uint8_t *out, const uint8_t *frame, uint32_t len,
			     uint32_t csum, uint32_t lso)
{
	struct rndis_msg_hdr h = { RNDIS_MSG_PACKET, 0 };
	struct rndis_packet p;
	struct rndis_ppi pi;
	uint32_t off = sizeof(h) + sizeof(p);

	memset(&p, 0, sizeof(p));
	p.per_pkt_info_offset = sizeof(p);
	if (csum) {
		pi.size = sizeof(pi) + 4;
		pi.type = RNDIS_PPI_TCPIP_CHKSUM;
		pi.ppi_offset = sizeof(pi);
		memcpy(out + off, &pi, sizeof(pi));
		memcpy(out + off + sizeof(pi), &csum, 4);
		off += pi.size;
	}
	if (lso) {
		pi.size = sizeof(pi) + 4;
		pi.type = RNDIS_PPI_TCP_LARGESEND;
		pi.ppi_offset = sizeof(pi);
		memcpy(out + off, &pi, sizeof(pi));
		memcpy(out + off + sizeof(pi), &lso, 4);
		off += pi.size;
	}
	p.per_pkt_info_len = off - (uint32_t)(sizeof(h) + sizeof(p));
	p.data_offset = off - (uint32_t)sizeof(h);
	p.data_len = len;
	memcpy(out + off, frame, len);
	h.msg_len = off + len;
	memcpy(out, &h, sizeof(h));
	memcpy(out + sizeof(h), &p, sizeof(p));
	return h.msg_len;
}

int netvsc_client_send_frame(struct netvsc_client *c, const uint8_t *frame,
			     uint32_t len, uint32_t csum, uint32_t lso)
{
	struct {
		uint32_t reserved, count;
		struct vmbus_gpa_range r;
		uint32_t g[NETVSC_CLIENT_LSO_PAGES];
	} h;
	struct nvsp_msg m;
	uint32_t n, slot, i;
	uint8_t *dst;
	int s;

	if (len + 64 <= c->send_section_size) {
		s = netvsc_client_section(c);
		if (s < 0)
			return s;
		n = netvsc_rndis_packet(c->send_mem + (size_t)s *
					c->send_section_size, frame, len,
					csum, lso);
		return netvsc_client_send_section(c, (uint32_t)s, n,
						  NETVSC_TID_SECTION + (uint32_t)s);
	}
	if (len + 64 > NETVSC_CLIENT_LSO_PAGES * 4096u)
		return -EMSGSIZE;
	if (!c->nlso_free)
		netvsc_client_poll(c);
	if (!c->nlso_free)
		return -ENOSPC;
	slot = c->lso_free[--c->nlso_free];
	dst = c->pool + (size_t)slot * NETVSC_CLIENT_LSO_PAGES * 4096u;
	n = netvsc_rndis_packet(dst, frame, len, csum, lso);
	memset(&h, 0, sizeof(h));
	h.count = 1;
	h.r.byte_count = n;
	h.r.byte_offset = 0;
	for (i = 0; i < (n + 4095) / 4096; i++)
		h.g[i] = c->pool_refs[slot * NETVSC_CLIENT_LSO_PAGES + i];
	memset(&m, 0, sizeof(m));
	m.msg_type = NVSP_MSG1_TYPE_SEND_RNDIS_PKT;
	m.u.rndis_pkt.send_buf_section_index = NVSP_INVALID_SECTION;
	return send_retry(c, VMBUS_PKT_DATA_USING_GPA_DIRECT,
			  NETVSC_TID_LSO + slot, &h, 16 + 4 * i, &m,
			  sizeof(m));
}

int netvsc_client_rndis(struct netvsc_client *c, uint32_t type, void *body,
			uint32_t body_len, void *ans, uint32_t ans_len,
			int timeout_ms)
{
	struct rndis_msg_hdr h = { type, (uint32_t)sizeof(h) + body_len };
	uint32_t req = c->next_req++, got, i;
	int s, rc, waited = 0;
	uint8_t *dst;

	if (body_len >= 4 && type != RNDIS_MSG_RESET)
		memcpy(body, &req, 4);
	s = netvsc_client_section(c);
	if (s < 0)
		return s;
	dst = c->send_mem + (size_t)s * c->send_section_size;
	memcpy(dst, &h, sizeof(h));
	memcpy(dst + sizeof(h), body, body_len);
	rc = netvsc_client_send_section(c, (uint32_t)s, h.msg_len,
					NETVSC_TID_SECTION + (uint32_t)s);
	if (rc)
		return rc;
	for (;;) {
		rc = netvsc_client_poll(c);
		if (rc < 0)
			return rc;
		for (i = 0; i < c->nctl; i++) {
			uint32_t k = (c->ctl_head + i) % NETVSC_CLIENT_CTL_MAX;
			struct rndis_msg_hdr a;

			memcpy(&a, c->ctl[k].buf, sizeof(a));
			memcpy(&got, c->ctl[k].buf + 8, 4);
			if (a.msg_type != (type | 0x80000000u) ||
			    (type != RNDIS_MSG_RESET && got != req))
				continue;
			rc = (int)(c->ctl[k].len < ans_len ? c->ctl[k].len :
				   ans_len);
			memcpy(ans, c->ctl[k].buf, (size_t)rc);
			/* take it out, keep the order of the rest */
			for (; i + 1 < c->nctl; i++)
				c->ctl[(c->ctl_head + i) % NETVSC_CLIENT_CTL_MAX] =
				c->ctl[(c->ctl_head + i + 1) % NETVSC_CLIENT_CTL_MAX];
			c->nctl--;
			return rc;
		}
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		vmbus_chan_wait(c->ch, 10);
		waited += 10;
	}
}

static int query_oid(struct netvsc_client *c, uint32_t oid, void *out,
		     uint32_t len, int timeout_ms)
{
	struct rndis_query_req q = { 0, oid, 0, sizeof(q), 0 };
	uint8_t ans[256];
	struct rndis_query_complete qc;
	int rc = netvsc_client_rndis(c, RNDIS_MSG_QUERY, &q, sizeof(q), ans,
				     sizeof(ans), timeout_ms);

	if (rc < 0)
		return rc;
	if ((size_t)rc < 8 + sizeof(qc))
		return -EPROTO;
	memcpy(&qc, ans + 8, sizeof(qc));
	if (qc.status)
		return -EOPNOTSUPP;
	if (qc.info_buflen > len || (uint64_t)8 + qc.info_buf_offset +
	    qc.info_buflen > (uint64_t)rc)
		return -EPROTO;
	memcpy(out, ans + 8 + qc.info_buf_offset, qc.info_buflen);
	return (int)qc.info_buflen;
}

int netvsc_client_init(struct netvsc_client *c, uint32_t recv_bytes,
		       uint32_t send_bytes, int timeout_ms)
{
	static const uint32_t vers[] = { NVSP_PROTOCOL_VERSION_61,
		NVSP_PROTOCOL_VERSION_6, NVSP_PROTOCOL_VERSION_5,
		NVSP_PROTOCOL_VERSION_4, NVSP_PROTOCOL_VERSION_2 };
	struct rndis_init_req ir = { 0, 1, 0, 0x4000 };
	struct nvsp_msg m, a;
	uint8_t ans[256];
	uint32_t i, filter;
	int rc;

	for (i = 0; i < 5; i++) {
		memset(&m, 0, sizeof(m));
		m.msg_type = NVSP_MSG_TYPE_INIT;
		m.u.init.min_protocol_ver = m.u.init.max_protocol_ver = vers[i];
		rc = netvsc_client_nvsp(c, &m, &a, timeout_ms);
		if (rc)
			return rc;
		if (a.msg_type == NVSP_MSG_TYPE_INIT_COMPLETE &&
		    a.u.init_complete.status == NVSP_STAT_SUCCESS)
			break;
	}
	if (i == 5)
		return -EPROTO;
	c->version = vers[i];
	memset(&m, 0, sizeof(m));
	m.msg_type = NVSP_MSG2_TYPE_SEND_NDIS_CONFIG;
	m.u.ndis_config.mtu = 1500 + 14;
	m.u.ndis_config.capability = NVSP_CAP_IEEE8021Q | NVSP_CAP_TEAMING;
	rc = vmbus_chan_send(c->ch, &m, sizeof(m), 0, 0);
	memset(&m, 0, sizeof(m));
	m.msg_type = NVSP_MSG1_TYPE_SEND_NDIS_VER;
	m.u.ndis_ver.ndis_major_ver = 6;
	m.u.ndis_ver.ndis_minor_ver = 30;
	if (!rc)
		rc = vmbus_chan_send(c->ch, &m, sizeof(m), 0, 0);
	if (rc)
		return rc;
	rc = vmbus_gpadl_create(c->ch, recv_bytes, 0, timeout_ms, &c->recv_g);
	if (!rc)
		rc = vmbus_gpadl_create(c->ch, send_bytes, 0, timeout_ms,
					&c->send_g);
	if (rc)
		return rc;
	c->recv_size = (uint32_t)vmbus_gpadl_size(c->recv_g);
	c->recv_mem = vmbus_gpadl_ptr(c->recv_g, 0, c->recv_size, true);
	c->send_size = (uint32_t)vmbus_gpadl_size(c->send_g);
	c->send_mem = vmbus_gpadl_ptr(c->send_g, 0, c->send_size, true);
	memset(&m, 0, sizeof(m));
	m.msg_type = NVSP_MSG1_TYPE_SEND_RECV_BUF;
	m.u.send_buf.gpadl_handle = vmbus_gpadl_id(c->recv_g);
	m.u.send_buf.id = NETVSC_RECV_BUF_ID;
	rc = netvsc_client_nvsp(c, &m, &a, timeout_ms);
	if (rc)
		return rc;
	if (a.u.recv_buf_complete.status != NVSP_STAT_SUCCESS ||
	    a.u.recv_buf_complete.num_sections != 1 ||
	    a.u.recv_buf_complete.sections[0].offset)
		return -EPROTO;
	c->recv_section_size = a.u.recv_buf_complete.sections[0].sub_alloc_size;
	c->recv_sections = a.u.recv_buf_complete.sections[0].num_sub_allocs;
	memset(&m, 0, sizeof(m));
	m.msg_type = NVSP_MSG1_TYPE_SEND_SEND_BUF;
	m.u.send_buf.gpadl_handle = vmbus_gpadl_id(c->send_g);
	m.u.send_buf.id = NETVSC_SEND_BUF_ID;
	rc = netvsc_client_nvsp(c, &m, &a, timeout_ms);
	if (rc)
		return rc;
	if (a.u.send_buf_complete.status != NVSP_STAT_SUCCESS ||
	    a.u.send_buf_complete.section_size < 68)
		return -EPROTO;
	c->send_section_size = a.u.send_buf_complete.section_size;
	c->send_sections = c->send_size / c->send_section_size;
	if (c->send_sections > NETVSC_CLIENT_MAX_SECTIONS)
		c->send_sections = NETVSC_CLIENT_MAX_SECTIONS;
	for (i = c->send_sections; i-- > 0;)
		c->send_free[c->nsend_free++] = i;
	rc = netvsc_client_rndis(c, RNDIS_MSG_INIT, &ir, sizeof(ir), ans,
				 sizeof(ans), timeout_ms);
	if (rc < 0)
		return rc;
	if (rc < 8 + 8 || ans[12] | ans[13] | ans[14] | ans[15])
		return -EPROTO;
	rc = query_oid(c, RNDIS_OID_802_3_PERMANENT_ADDRESS, c->mac, 6,
		       timeout_ms);
	if (rc != 6)
		return rc < 0 ? rc : -EPROTO;
	rc = query_oid(c, RNDIS_OID_GEN_MAXIMUM_FRAME_SIZE, &c->mtu, 4,
		       timeout_ms);
	if (rc != 4)
		return rc < 0 ? rc : -EPROTO;
	filter = RNDIS_PACKET_TYPE_DIRECTED | RNDIS_PACKET_TYPE_MULTICAST |
		 RNDIS_PACKET_TYPE_BROADCAST;
	{
		struct {
			struct rndis_query_req s;
			uint32_t v;
		} __attribute__((packed)) set = { { 0,
			RNDIS_OID_GEN_CURRENT_PACKET_FILTER, 4,
			sizeof(struct rndis_query_req), 0 }, filter };

		rc = netvsc_client_rndis(c, RNDIS_MSG_SET, &set, sizeof(set),
					 ans, sizeof(ans), timeout_ms);
	}
	if (rc < 0)
		return rc;
	if (rc < 16 || ans[12] | ans[13] | ans[14] | ans[15])
		return -EPROTO;
	return 0;
}
