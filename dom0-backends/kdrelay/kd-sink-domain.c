// SPDX-License-Identifier: GPL-2.0-only
/*
 * kd-sink-domain.c - xen-kdrelay's partition-to-partition sink
 * (--to-domain D): another domain's debug port.  The out records of each
 * port become in records of the other; a record waits in its ring until
 * the other side has room, so nothing is lost either way.
 */
#include "config.h"

#include "kd-sink.h"

static struct kd_port *port;
static struct kd_port peer = KD_PORT_INIT;

static int domain_open(struct kd_port *p, const struct kd_sink_conf *conf)
{
	port = p;
	peer.domid = conf->peer_domid;
	peer.have_domid = true;
	return kd_port_open(&peer) < 0 ? -1 : 0;
}

static bool domain_check(void)
{
	return kd_port_check(&peer);
}

/* The debuggee's record into the peer's in ring. */
static bool domain_put(const struct syndbg_pdu *hdr, const uint8_t *buf)
{
	if (!peer.attached)
		return false;
	if (hdr->type != SYNDBG_PDU_DATA)
		return true;
	return kd_in_put(&peer, buf, hdr->len) == 0;
}

/* The peer's record into the debuggee's in ring. */
static bool domain_take(const struct syndbg_pdu *hdr, const uint8_t *buf)
{
	if (hdr->type != SYNDBG_PDU_DATA)
		return true;
	return port->attached && kd_in_put(port, buf, hdr->len) == 0;
}

static void domain_pump(void)
{
	kd_port_pump(&peer, domain_take);
}

static unsigned int domain_poll_fds(struct pollfd *pfd)
{
	(void)pfd;
	return 0;		/* both ports share the relay's event channel handle */
}

static void domain_poll_done(const struct pollfd *pfd)
{
	(void)pfd;
}

static void domain_close(void)
{
	kd_port_close(&peer);
}

const struct kd_sink_ops kd_sink_domain = {
	.name = "domain",
	.open = domain_open,
	.check = domain_check,
	.put = domain_put,
	.pump = domain_pump,
	.poll_fds = domain_poll_fds,
	.poll_done = domain_poll_done,
	.close = domain_close,
};
