// SPDX-License-Identifier: GPL-2.0-only
/*
 * A user-mode storvsc on libvmbus: see storvsc-client.h.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <xenvmbus/gpadl.h>
#include <xenvmbus/ring.h>

#include "storvsc-client.h"

/*
 * Wait for a synthetic SCSI controller to be offered on a connected bus,
 * and open it.  A bus whose server went away may still list the old
 * offers until it notices: an open refused for that is tried again.
 */
static int open_controller(struct storvsc_client *c, int timeout_ms)
{
	struct vmbus_offer offs[16];
	uint8_t type[16];
	int n, i, rc = -ENOENT, waited;

	vmbus_guid_parse(VSTOR_SCSI_CLASS_GUID, type);
	/* A controller added after the bus came up arrives as a new offer. */
	for (waited = 0; waited <= timeout_ms; waited += 50) {
		n = vmbus_bus_connected(c->bus) ?
			vmbus_bus_offers(c->bus, offs, 16) : 0;
		for (i = 0; i < n && memcmp(offs[i].type, type, 16); i++)
			;
		if (i < n) {
			rc = vmbus_chan_open(c->bus, offs[i].relid,
					     c->ring_pages, 1, timeout_ms,
					     &c->ch);
			if (rc != -ENOTCONN)
				break;
		}
		vmbus_bus_wait(c->bus, 50);
	}
	if (rc == -ENOENT)
		fprintf(stderr, "storvsc: no SCSI controller offered\n");
	else if (rc)
		fprintf(stderr, "storvsc: open the controller: %s\n",
			strerror(-rc));
	return rc;
}

int storvsc_client_open(struct storvsc_client *c, uint32_t pool_pages,
			uint32_t ring_pages, int timeout_ms)
{
	int rc;

	memset(c, 0, sizeof(*c));
	if (!pool_pages || pool_pages > STORVSC_POOL_MAX_PAGES)
		return -EINVAL;
	c->ring_pages = ring_pages;
	rc = vmbus_bus_open(&c->bus, timeout_ms);
	if (rc) {
		fprintf(stderr, "storvsc: open the bus: %s\n", strerror(-rc));
		return rc;
	}
	rc = open_controller(c, timeout_ms);
	if (rc)
		goto fail;
	c->xgs = xengntshr_open(NULL, 0);
	if (c->xgs)
		c->mem = xengntshr_share_pages(c->xgs,
					       (uint32_t)vmbus_chan_peer(c->ch),
					       (int)pool_pages, c->refs, 1);
	if (!c->mem) {
		rc = -errno;
		fprintf(stderr, "storvsc: share %u pages: %s\n", pool_pages,
			strerror(errno));
		goto fail;
	}
	c->npages = pool_pages;
	c->pkt_len = VSTOR_PACKET_SIZE;
	return 0;
fail:
	storvsc_client_close(c);
	return rc;
}

int storvsc_client_reopen(struct storvsc_client *c, int timeout_ms)
{
	int rc;

	if (c->ch)
		vmbus_chan_close(c->ch);
	c->ch = NULL;
	rc = open_controller(c, timeout_ms);
	if (rc)
		return rc;
	c->pkt_len = VSTOR_PACKET_SIZE;
	return storvsc_client_init(c, NULL, timeout_ms);
}

void storvsc_client_close(struct storvsc_client *c)
{
	if (c->ch)
		vmbus_chan_close(c->ch);
	if (c->mem)
		xengntshr_unshare(c->xgs, c->mem, c->npages);
	if (c->xgs)
		xengntshr_close(c->xgs);
	if (c->bus)
		vmbus_bus_close(c->bus);
	memset(c, 0, sizeof(*c));
}

int storvsc_client_send(struct storvsc_client *c, const struct vstor_packet *p,
			uint64_t id, uint32_t off, uint32_t len,
			const uint32_t *grefs)
{
	struct {
		uint32_t reserved, count;
		struct vmbus_gpa_range r;
		uint32_t g[(1u << 20) / 4096 + 1];
	} h;
	uint32_t first = off / 4096, n, i;

	if (!len)
		return vmbus_chan_send_raw(c->ch, VMBUS_PKT_DATA_INBAND, 1, id,
					   NULL, 0, p, c->pkt_len);
	n = (uint32_t)VMBUS_GPA_RANGE_PAGES(off % 4096, len);
	if (n > sizeof(h.g) / 4 || (!grefs && first + n > c->npages))
		return -E2BIG;
	memset(&h, 0, sizeof(h));
	h.count = 1;
	h.r.byte_count = len;
	h.r.byte_offset = off % 4096;
	for (i = 0; i < n; i++)
		h.g[i] = grefs ? grefs[i] : c->refs[first + i];
	return vmbus_chan_send_raw(c->ch, VMBUS_PKT_DATA_USING_GPA_DIRECT, 1,
				   id, &h, 16 + 4 * n, p, c->pkt_len);
}

int storvsc_client_recv(struct storvsc_client *c, struct vstor_packet *out,
			uint64_t *id, int timeout_ms)
{
	struct vmbus_packet pkt;
	int rc, waited = 0;

	for (;;) {
		rc = vmbus_chan_recv(c->ch, &pkt, c->rxbuf, sizeof(c->rxbuf));
		if (rc == 0) {
			if (pkt.type != VMBUS_PKT_COMP)
				continue;
			memset(out, 0, sizeof(*out));
			memcpy(out, pkt.data, pkt.len < sizeof(*out) ?
			       pkt.len : sizeof(*out));
			*id = pkt.trans_id;
			return 0;
		}
		if (rc != -EAGAIN)
			return rc;
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		vmbus_chan_wait(c->ch, 50);
		waited += 50;
	}
}

int storvsc_client_exec(struct storvsc_client *c, struct vstor_packet *p,
			uint64_t id, uint32_t off, uint32_t len,
			int timeout_ms)
{
	uint64_t got;
	int rc, tries = 0;

	while ((rc = storvsc_client_send(c, p, id, off, len, NULL)) == -EAGAIN &&
	       tries++ < 1000)
		vmbus_chan_wait(c->ch, 10);
	if (rc)
		return rc;
	do
		rc = storvsc_client_recv(c, p, &got, timeout_ms);
	while (!rc && got != id);
	return rc;
}

int storvsc_client_init(struct storvsc_client *c,
			struct vstor_channel_properties *props, int timeout_ms)
{
	static const uint16_t versions[] = { VSTOR_PROTO_VERSION_WIN10,
		VSTOR_PROTO_VERSION_WIN8_1, VSTOR_PROTO_VERSION_WIN8 };
	struct vstor_packet p;
	unsigned int i;

	memset(&p, 0, sizeof(p));
	p.operation = VSTOR_OP_BEGIN_INITIALIZATION;
	p.flags = VSTOR_FLAG_REQUEST_COMPLETION;
	if (storvsc_client_exec(c, &p, VSTOR_RQST_INIT, 0, 0, timeout_ms) ||
	    p.status)
		return -EPROTO;
	for (i = 0; i < 3; i++) {
		memset(&p, 0, sizeof(p));
		p.operation = VSTOR_OP_QUERY_PROTOCOL_VERSION;
		p.flags = VSTOR_FLAG_REQUEST_COMPLETION;
		p.version.major_minor = versions[i];
		if (storvsc_client_exec(c, &p, VSTOR_RQST_INIT, 0, 0,
					timeout_ms))
			return -EPROTO;
		if (!p.status)
			break;
	}
	if (i == 3)
		return -EPROTO;
	c->version = versions[i];
	memset(&p, 0, sizeof(p));
	p.operation = VSTOR_OP_QUERY_PROPERTIES;
	p.flags = VSTOR_FLAG_REQUEST_COMPLETION;
	if (storvsc_client_exec(c, &p, VSTOR_RQST_INIT, 0, 0, timeout_ms) ||
	    p.status)
		return -EPROTO;
	if (props)
		*props = p.props;
	memset(&p, 0, sizeof(p));
	p.operation = VSTOR_OP_END_INITIALIZATION;
	p.flags = VSTOR_FLAG_REQUEST_COMPLETION;
	if (storvsc_client_exec(c, &p, VSTOR_RQST_INIT, 0, 0, timeout_ms) ||
	    p.status)
		return -EPROTO;
	return 0;
}

void storvsc_srb(struct vstor_packet *p, unsigned int lun, const uint8_t *cdb,
		 unsigned int cdb_len, bool data_in, uint32_t len)
{
	memset(p, 0, sizeof(*p));
	p->operation = VSTOR_OP_EXECUTE_SRB;
	p->flags = VSTOR_FLAG_REQUEST_COMPLETION;
	p->srb.length = sizeof(p->srb);
	p->srb.lun = (uint8_t)lun;
	p->srb.cdb_length = (uint8_t)(cdb_len > 16 ? 16 : cdb_len);
	p->srb.sense_info_length = VSTOR_SENSE_BUFFER_SIZE;
	p->srb.data_in = data_in ? VSTOR_READ_TYPE : VSTOR_WRITE_TYPE;
	p->srb.data_transfer_length = len;
	p->srb.win8_extension.srb_flags = data_in ? VSTOR_SRB_FLAGS_DATA_IN :
		len ? VSTOR_SRB_FLAGS_DATA_OUT : 0;
	memcpy(p->srb.cdb, cdb, p->srb.cdb_length);
}
