// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen-kdrelay - relay a domain's Viridian synthetic debugger port.
 *
 * Attaches to the debug port of one domain (XEN_DMOP_syndbg_backend, the
 * XENMEM_resource_syndbg frames, the port's event channel; ABI in
 * include/xenvmbus/syndbg-port.h) and carries its PDUs to one sink:
 *
 *  --tcp [ADDR:]PORT  a stream debugger (gdb-remote bridge or other); one
 *                     client at a time, 127.0.0.1 unless ADDR is given.  A
 *                     new connection that authenticates replaces the
 *                     current one.  With --token FILE the client's first
 *                     line must be the file's first line.  Framing, both
 *                     directions: u16 length (big endian), u8 type (1 DATA,
 *                     2 RESET: the target reset its session, length 0), u8
 *                     flags, then the payload.
 *  --udp HOST:PORT    WinDbg's KDNET endpoint: one datagram per PDU.  A
 *                     guest using the debug hypercalls hands over whole
 *                     Ethernet/IPv4/UDP frames (as QEMU's hv-syndbg takes
 *                     them), one using the SYNDBG MSRs the bare payload;
 *                     frames are validated and stripped on the way out and
 *                     built around the debugger's datagrams on the way in
 *                     (kd-frame.c, --frames).
 *  --to-domain D      another domain's debug port (partition-to-partition):
 *                     out PDUs of each become in PDUs of the other.
 *
 * The debuggee is a domain id (-d: the relay exits when that domain is
 * gone) or a name (--name: the relay follows the name across reboots).
 *
 * Nothing is lost by this relay: an out record is consumed (cons advanced)
 * only once the sink accepted it, and in records are only produced when
 * they fit.  cons lives in the shared page, so a restarted relay resumes
 * where the previous one stopped; the only window for a repeat is a relay
 * killed between handing a record to the sink and storing cons.  A TCP
 * debugger accepts a record when its frame is copied for sending: the
 * relay never blocks on a debugger that does not read (the guest's ring
 * fills instead), and a debugger that goes mid-frame loses that frame.
 *
 * Everything read from the shared pages is hostile: each index and record
 * header is read once into a local copy, validated, then used.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xenstore.h>

#include "dlog.h"

#include <xenvmbus/syndbg-port.h>

#include "kd-dmop.h"
#include "kd-frame.h"

#define KD_REFUSE_LOG_SECS	10
#define KD_EXIT_GONE		3
#define KD_NOBODY		65534	/* when the system has no "nobody" */

enum kd_frames { KD_FRAMES_AUTO, KD_FRAMES_ETHERNET, KD_FRAMES_BARE };

struct kd_port {
	uint32_t domid;
	bool have_domid;
	int privcmd;			/* restricted to domid unless following a name */
	uint32_t self;			/* this relay's domain, as Xen named it at attach */
	const char *name;		/* --name: follow this name */
	bool attached;
	xenforeignmemory_resource_handle *fres;
	volatile struct syndbg_shared *sh;
	volatile uint8_t *out;		/* guest -> relay */
	volatile uint8_t *in;		/* relay -> guest */
	int lport;
	uint32_t rport;
	bool broken_logged;
	bool waiting_logged;
	/* UDP framing: what the guest last sent, and the flow it used. */
	bool guest_frames;
	bool flow_known;
	struct kd_flow flow;		/* src = the guest */
	unsigned long refused;
	time_t refuse_logged;
};

enum kd_sink { KD_TCP, KD_UDP, KD_DOMAIN };

struct kd_client {
	int fd;				/* non-blocking */
	bool ok;			/* authenticated */
	size_t have;
	uint8_t buf[4 + SYNDBG_MAX_PDU + 256];
	/*
	 * The frame being sent: a debugger that reads slowly (or not at all)
	 * must never block the relay, so what the socket does not take waits
	 * here, and the next out record stays in the guest's ring meanwhile.
	 */
	size_t out_len, out_off;
	uint8_t out[4 + SYNDBG_MAX_PDU];
};

static xc_interface *xch;
static xenforeignmemory_handle *fmem;
static xenevtchn_handle *xce;
static struct xs_handle *xsh;
static bool verbose;
static volatile sig_atomic_t stopping;
static enum kd_frames frames = KD_FRAMES_AUTO;

/* ---- the debuggee ---- */

/* 1: domid exists and is not dying; 0: gone; -errno: cannot tell. */
static int kd_domain_live(uint32_t domid)
{
	xc_domaininfo_t info;
	int n = xc_domain_getinfolist(xch, domid, 1, &info);

	if (n < 0)
		return -errno;
	return n == 1 && info.domain == domid && !(info.flags & XEN_DOMINF_dying);
}

/* The live domain called name, as libxl writes /local/domain/N/name. */
static int kd_resolve_name(const char *name, uint32_t *domid)
{
	unsigned int n, i;
	char **ents = xs_directory(xsh, XBT_NULL, "/local/domain", &n);
	int rc = -ENOENT;

	if (!ents)
		return -errno;
	for (i = 0; i < n && rc; i++) {
		char path[64], *val, *end;
		unsigned long id = strtoul(ents[i], &end, 10);
		unsigned int len;

		if (*end || id >= DOMID_FIRST_RESERVED)
			continue;
		snprintf(path, sizeof(path), "/local/domain/%lu/name", id);
		val = xs_read(xsh, XBT_NULL, path, &len);
		if (val && !strcmp(val, name) && kd_domain_live(id) == 1) {
			*domid = id;
			rc = 0;
		}
		free(val);
	}
	free(ents);
	return rc;
}

/* ---- the debug port ---- */

static void kd_detach(struct kd_port *p)
{
	if (p->lport >= 0)
		xenevtchn_unbind(xce, p->lport);
	p->lport = -1;
	if (p->fres)
		xenforeignmemory_unmap_resource(fmem, p->fres);
	p->fres = NULL;
	p->sh = NULL;
	p->attached = false;
}

/* What HvResetDebugSession tells the guest about its debugger. */
static void kd_publish_conn(struct kd_port *p, const struct sockaddr_in *dbg)
{
	volatile struct syndbg_conn_info *c;

	if (!p->attached || !dbg)
		return;
	c = &p->sh->conn;
	c->host_ip = dbg->sin_addr.s_addr;
	c->host_port = dbg->sin_port;
	c->target_ip = p->flow_known ? p->flow.src_ip : 0;
	c->target_port = p->flow_known ? p->flow.src_port : dbg->sin_port;
	for (int i = 0; i < 6; i++) {
		c->host_mac[i] = p->flow_known ? p->flow.dst_mac[i] : 0;
		c->target_mac[i] = p->flow_known ? p->flow.src_mac[i] : 0;
	}
}

static int kd_attach(struct kd_port *p)
{
	void *addr = NULL;
	uint32_t magic, version, ring, maxpdu, port;
	int err;

	if (kd_dm_syndbg(p->privcmd, p->domid, SYNDBG_DMOP_ATTACH, &p->self) < 0) {
		err = errno;
		dlog(LOG_DEBUG, "failed to attach to the debug port of d%u (%s)", p->domid,
		       strerror(err));
		return -err;
	}
	p->fres = xenforeignmemory_map_resource(fmem, p->domid, SYNDBG_RESOURCE_TYPE, 0, 0,
						SYNDBG_NR_FRAMES, &addr,
						PROT_READ | PROT_WRITE, 0);
	if (!p->fres) {
		err = errno;
		dlog(LOG_ERR, "failed to map the debug port frames of d%u (%s)", p->domid,
		       strerror(err));
		return -err;
	}
	p->sh = addr;
	p->out = (volatile uint8_t *)addr + SYNDBG_OUT_FRAME * SYNDBG_PAGE_SIZE;
	p->in = (volatile uint8_t *)addr + SYNDBG_IN_FRAME * SYNDBG_PAGE_SIZE;
	magic = p->sh->magic;
	version = p->sh->version;
	ring = p->sh->ring_size;
	maxpdu = p->sh->max_pdu;
	port = p->sh->evtchn;
	if (magic != SYNDBG_MAGIC || version != SYNDBG_VERSION || ring != SYNDBG_RING_SIZE ||
	    maxpdu > SYNDBG_MAX_PDU || port == 0) {
		dlog(LOG_ERR, "failed to use the debug port of d%u: magic %#x version %u "
		       "ring %u max_pdu %u port %u", p->domid, magic, version, ring, maxpdu, port);
		kd_detach(p);
		return -EPROTO;
	}
	p->lport = xenevtchn_bind_interdomain(xce, p->domid, port);
	if (p->lport < 0) {
		err = errno;
		dlog(LOG_ERR, "failed to bind event channel %u of d%u (%s)", port, p->domid,
		       strerror(err));
		kd_detach(p);
		return -err;
	}
	p->rport = port;
	p->attached = true;
	p->broken_logged = false;
	dlog(LOG_INFO, "attached to the debug port of d%u (port %u, out cons %u)",
	       p->domid, port, p->sh->out.cons);
	/* Each session starts with empty rings: say we are here. */
	xenevtchn_notify(xce, p->lport);
	return 0;
}

/* Still attached to the same port instance?  (Reboot re-creates it.) */
static bool kd_port_alive(struct kd_port *p)
{
	uint32_t backend = SYNDBG_DOMID_INVALID;

	if (!p->attached)
		return false;
	if (kd_dm_syndbg(p->privcmd, p->domid, SYNDBG_DMOP_QUERY, &backend) < 0 ||
	    backend != p->self || p->sh->evtchn != p->rport ||
	    p->sh->magic != SYNDBG_MAGIC)
		return false;
	if ((p->sh->flags & SYNDBG_F_BROKEN) && !p->broken_logged) {
		dlog(LOG_ERR, "the debug port of d%u is marked broken; re-attaching", p->domid);
		p->broken_logged = true;
		return false;
	}
	return true;
}

/*
 * Once a second: is the debuggee still there, and are we attached?  A
 * domain given by id that went away ends the relay (returns false); one
 * given by name is looked up again, so the relay follows it across reboots.
 */
static bool kd_port_check(struct kd_port *p, const struct sockaddr_in *dbg)
{
	int live;

	if (kd_port_alive(p))
		return true;
	if (p->attached)
		kd_detach(p);
	live = p->have_domid ? kd_domain_live(p->domid) : 0;
	if (live == 0 && p->name) {
		uint32_t id = 0;

		if (kd_resolve_name(p->name, &id) < 0) {
			if (!p->waiting_logged)
				dlog(LOG_INFO, "waiting for a domain named \"%s\"", p->name);
			p->waiting_logged = true;
			p->have_domid = false;
			return true;
		}
		if (!p->have_domid || id != p->domid)
			dlog(LOG_INFO, "domain \"%s\" is d%u", p->name, id);
		p->domid = id;
		p->have_domid = true;
		p->waiting_logged = false;
		p->guest_frames = false;
		p->flow_known = false;
		live = 1;
	} else if (live == 0) {
		dlog(LOG_ERR, "d%u no longer exists; exiting (use --name to follow a "
		       "domain across reboots)", p->domid);
		return false;
	}
	if (live > 0 && kd_attach(p) == 0)
		kd_publish_conn(p, dbg);
	return true;
}

static void ring_copy_out(volatile const uint8_t *ring, uint32_t idx, void *dst, uint32_t len)
{
	uint32_t off = idx & (SYNDBG_RING_SIZE - 1), i;

	for (i = 0; i < len; i++)
		((uint8_t *)dst)[i] = ring[(off + i) & (SYNDBG_RING_SIZE - 1)];
}

static void ring_copy_in(volatile uint8_t *ring, uint32_t idx, const void *src, uint32_t len)
{
	uint32_t off = idx & (SYNDBG_RING_SIZE - 1), i;

	for (i = 0; i < len; i++)
		ring[(off + i) & (SYNDBG_RING_SIZE - 1)] = ((const uint8_t *)src)[i];
}

/*
 * Peek at the next out record.  Returns 1 with *hdr and payload copied,
 * 0 when the ring is empty, -EPROTO when Xen's indexes or record are
 * impossible (then the port is re-attached).
 */
static int kd_out_peek(struct kd_port *p, struct syndbg_pdu *hdr, uint8_t *buf)
{
	uint32_t prod, cons, avail;

	prod = __atomic_load_n(&p->sh->out.prod, __ATOMIC_RELAXED);
	cons = p->sh->out.cons;
	__atomic_thread_fence(__ATOMIC_ACQUIRE); /* read prod /then/ the record */
	avail = prod - cons;
	if (avail == 0)
		return 0;
	if (avail > SYNDBG_RING_SIZE || avail < sizeof(*hdr))
		return -EPROTO;
	ring_copy_out(p->out, cons, hdr, sizeof(*hdr));
	if (hdr->len > SYNDBG_MAX_PDU || syndbg_rec_size(hdr->len) > avail ||
	    (hdr->type != SYNDBG_PDU_DATA && hdr->type != SYNDBG_PDU_RESET))
		return -EPROTO;
	ring_copy_out(p->out, cons + sizeof(*hdr), buf, hdr->len);
	return 1;
}

static void kd_out_consume(struct kd_port *p, const struct syndbg_pdu *hdr)
{
	uint32_t cons = p->sh->out.cons + syndbg_rec_size(hdr->len);

	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* finish reading the record /then/ free it */
	__atomic_store_n(&p->sh->out.cons, cons, __ATOMIC_RELAXED);
	xenevtchn_notify(xce, p->lport);
}

/* Queue one DATA record for the guest; -ENOSPC when it does not fit now. */
static int kd_in_put(struct kd_port *p, const void *buf, uint32_t len)
{
	struct syndbg_pdu hdr = { .len = len, .type = SYNDBG_PDU_DATA };
	uint32_t prod, cons, used;

	if (len > SYNDBG_MAX_PDU)
		return -EMSGSIZE;
	hdr.session = p->sh->in_session;	/* read before producing */
	prod = p->sh->in.prod;
	cons = __atomic_load_n(&p->sh->in.cons, __ATOMIC_RELAXED);
	used = prod - cons;
	if (used > SYNDBG_RING_SIZE)
		return -EPROTO;
	if (SYNDBG_RING_SIZE - used < syndbg_rec_size(len))
		return -ENOSPC;
	ring_copy_in(p->in, prod, &hdr, sizeof(hdr));
	ring_copy_in(p->in, prod + sizeof(hdr), buf, len);
	__atomic_thread_fence(__ATOMIC_RELEASE); /* write the record /then/ prod */
	__atomic_store_n(&p->sh->in.prod, prod + syndbg_rec_size(len), __ATOMIC_RELAXED);
	xenevtchn_notify(xce, p->lport);
	return 0;
}

static bool kd_in_room(struct kd_port *p)
{
	uint32_t used = p->sh->in.prod - __atomic_load_n(&p->sh->in.cons, __ATOMIC_RELAXED);

	return used <= SYNDBG_RING_SIZE &&
	       SYNDBG_RING_SIZE - used >= syndbg_rec_size(SYNDBG_MAX_PDU);
}

/* ---- sinks ---- */

static enum kd_sink sink = KD_TCP;
static int listen_fd = -1, udp_fd = -1;
static const char *tokfile;
static char token[256];
static struct kd_client cur = { .fd = -1 }, cand = { .fd = -1 };
static struct sockaddr_in udp_peer;
static struct kd_port port = { .lport = -1, .privcmd = -1 },
		      peer = { .lport = -1, .privcmd = -1 };

/*
 * The port's own privcmd descriptor for XEN_DMOP_syndbg_backend, restricted
 * to the debuggee when it is given by id: what the relay keeps after it
 * drops its privileges then reaches that domain only.  A port that follows
 * a name needs the next domain of that name too, and stays unrestricted.
 */
static int kd_port_open(struct kd_port *p)
{
	p->privcmd = kd_privcmd_open();
	if (p->privcmd < 0) {
		dlog(LOG_ERR, "failed to open the privcmd device (%s)", strerror(errno));
		return -1;
	}
	if (p->name)
		return 0;
	if (kd_privcmd_restrict(p->privcmd, p->domid) < 0) {
		dlog(LOG_ERR, "failed to restrict the privcmd device to d%u (%s)", p->domid,
		     strerror(errno));
		return -1;
	}
	return 0;
}

static int parse_hostport(const char *arg, const char *defhost, int socktype, bool passive,
			  struct addrinfo **res)
{
	char host[256];
	const char *colon = strrchr(arg, ':');
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = socktype };
	int rc;

	if (passive)
		hints.ai_flags = AI_PASSIVE;
	if (colon) {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - arg), arg);
		arg = colon + 1;
	} else {
		snprintf(host, sizeof(host), "%s", defhost);
	}
	rc = getaddrinfo(host, arg, &hints, res);
	if (rc) {
		dlog(LOG_ERR, "failed to resolve \"%s:%s\" (%s)", host, arg, gai_strerror(rc));
		return -EINVAL;
	}
	return 0;
}

static void client_close(struct kd_client *c, const char *why)
{
	if (c->fd < 0)
		return;
	dlog(LOG_INFO, "debugger %s (%s)", c == &cur ? "disconnected" : "refused", why);
	close(c->fd);
	c->fd = -1;
	c->ok = false;
	c->have = 0;
	c->out_len = c->out_off = 0;
}

/*
 * Send what is left of the client's pending frame without blocking: 0 when
 * it is all sent, -EAGAIN when the socket is full (POLLOUT brings us back),
 * or -errno, the client then closed.
 */
static int client_flush(struct kd_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -EAGAIN;
		if (n <= 0) {
			int err = n < 0 ? errno : EPIPE;

			client_close(c, strerror(err));
			return -err;
		}
		c->out_off += (size_t)n;
	}
	c->out_len = c->out_off = 0;
	return 0;
}

/*
 * A guest's frame that cannot be relayed: logged at debug level each time
 * and at most once per KD_REFUSE_LOG_SECS otherwise (the guest controls
 * how often this happens).
 */
static void kd_refuse(struct kd_port *p, uint32_t len, const char *why)
{
	time_t now = time(NULL);

	p->refused++;
	dlog(LOG_DEBUG, "refused a %u-byte frame from d%u: %s", len, p->domid, why);
	if (now - p->refuse_logged >= KD_REFUSE_LOG_SECS) {
		dlog(LOG_WARNING, "refused %lu malformed frame(s) from d%u, the last "
		       "(%u bytes): %s", p->refused, p->domid, len, why);
		p->refuse_logged = now;
		p->refused = 0;
	}
}

/* Is this out DATA record a whole frame?  (See KD_PDU_F_* in kd-frame.h.) */
static bool kd_is_frame(const struct syndbg_pdu *hdr, const uint8_t *buf)
{
	switch (frames) {
	case KD_FRAMES_ETHERNET:
		return true;
	case KD_FRAMES_BARE:
		return false;
	case KD_FRAMES_AUTO:
		break;
	}
	if (hdr->flags & KD_PDU_F_FRAME)
		return true;
	if (hdr->flags & KD_PDU_F_BARE)
		return false;
	return kd_frame_claims(buf, hdr->len);
}

/* A guest's DATA record to WinDbg: the UDP payload, headers stripped. */
static void udp_send(struct kd_port *p, const struct syndbg_pdu *hdr, const uint8_t *buf)
{
	size_t off = 0, len = hdr->len;
	const char *why;

	if (kd_is_frame(hdr, buf)) {
		struct kd_flow fl;

		if (kd_frame_parse(buf, hdr->len, &off, &len, &fl, &why) < 0) {
			kd_refuse(p, hdr->len, why);
			return;
		}
		if (!p->flow_known || memcmp(&fl, &p->flow, sizeof(fl))) {
			p->flow = fl;
			p->flow_known = true;
			kd_publish_conn(p, &udp_peer);
		}
		p->guest_frames = true;
	} else {
		p->guest_frames = false;
	}
	if (send(udp_fd, buf + off, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		dlog(LOG_DEBUG, "failed to send a datagram to the debugger (%s)",
		       strerror(errno));
}

/* Give one out PDU to the sink; false when the sink cannot take it now. */
static bool sink_put(const struct syndbg_pdu *hdr, const uint8_t *buf)
{
	switch (sink) {
	case KD_TCP:
		/* One frame at a time: the record is taken once it is copied. */
		if (cur.fd < 0 || client_flush(&cur) < 0)
			return false;
		cur.out[0] = hdr->len >> 8;
		cur.out[1] = hdr->len & 0xff;
		cur.out[2] = hdr->type;
		cur.out[3] = hdr->flags;
		memcpy(cur.out + 4, buf, hdr->len);
		cur.out_len = 4 + hdr->len;
		cur.out_off = 0;
		client_flush(&cur);
		return true;
	case KD_UDP:
		if (hdr->type == SYNDBG_PDU_DATA)
			udp_send(&port, hdr, buf);
		return true;	/* UDP is lossy by nature, as KDNET expects */
	case KD_DOMAIN:
		if (!peer.attached)
			return false;
		if (hdr->type != SYNDBG_PDU_DATA)
			return true;
		return kd_in_put(&peer, buf, hdr->len) == 0;
	}
	return false;
}

/* Move out records of p to the sink while it takes them. */
static void pump_out(struct kd_port *p, bool to_peer_port)
{
	static uint8_t buf[SYNDBG_MAX_PDU];
	struct syndbg_pdu hdr;
	int rc;

	while (p->attached && (rc = kd_out_peek(p, &hdr, buf)) > 0) {
		/* A record from a purged session is stale: drop it. */
		bool stale = hdr.type == SYNDBG_PDU_DATA &&
			     hdr.session != __atomic_load_n(&p->sh->out_session, __ATOMIC_ACQUIRE);

		if (!stale) {
			if (to_peer_port) {
				if (hdr.type == SYNDBG_PDU_DATA && (!port.attached ||
				    kd_in_put(&port, buf, hdr.len) < 0))
					return;
			} else if (!sink_put(&hdr, buf)) {
				return;
			}
		}
		if (hdr.type == SYNDBG_PDU_RESET)
			dlog(LOG_INFO, "d%u reset its debug session (purge %#x)", p->domid,
			       hdr.flags);
		kd_out_consume(p, &hdr);
	}
	if (p->attached && rc < 0) {
		dlog(LOG_ERR, "bad out ring of d%u (prod %u cons %u); re-attaching", p->domid,
		       p->sh->out.prod, p->sh->out.cons);
		kd_detach(p);
	}
}

/* The token line of a new connection; true once it is authenticated. */
static bool client_auth(struct kd_client *c)
{
	uint8_t *nl;
	size_t tl;

	if (!tokfile)
		return true;
	nl = memchr(c->buf, '\n', c->have);
	if (!nl) {
		if (c->have >= sizeof(token))
			client_close(c, "token line too long");
		return false;
	}
	tl = nl - c->buf;
	if (tl && c->buf[tl - 1] == '\r')
		tl--;
	if (tl != strlen(token) || memcmp(c->buf, token, tl)) {
		client_close(c, "wrong token");
		return false;
	}
	c->have -= nl + 1 - c->buf;
	memmove(c->buf, nl + 1, c->have);
	return true;
}

/* Read what a connection sent; false when it closed. */
static bool client_fill(struct kd_client *c)
{
	ssize_t n;

	if (c->have >= sizeof(c->buf))
		return true;
	n = recv(c->fd, c->buf + c->have, sizeof(c->buf) - c->have, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(c, n == 0 ? "end of stream" : strerror(errno));
		return false;
	}
	if (n > 0)
		c->have += n;
	return true;
}

/* A candidate connection: once authenticated it replaces the current one. */
static void cand_read(void)
{
	if (!client_fill(&cand) || !client_auth(&cand))
		return;
	if (cur.fd >= 0)
		client_close(&cur, "replaced by a new connection");
	cur = cand;
	cur.ok = true;
	cur.out_len = cur.out_off = 0;
	cand.fd = -1;
	cand.have = 0;
	dlog(LOG_INFO, "debugger %s", tokfile ? "authenticated" : "connected");
}

/* Frames from the TCP debugger into the guest's in ring. */
static void client_read(bool fill)
{
	if (fill && !client_fill(&cur))
		return;
	while (cur.have >= 4 && port.attached) {
		uint32_t len = (uint32_t)cur.buf[0] << 8 | cur.buf[1];

		if (len > SYNDBG_MAX_PDU || cur.buf[2] != SYNDBG_PDU_DATA) {
			client_close(&cur, "bad frame");
			return;
		}
		if (cur.have < 4 + len)
			return;
		if (kd_in_put(&port, cur.buf + 4, len) < 0)
			return;		/* retried when the guest consumed */
		cur.have -= 4 + len;
		memmove(cur.buf, cur.buf + 4 + len, cur.have);
	}
}

/* A datagram from WinDbg into the guest, framed as the guest expects. */
static void udp_read(void)
{
	static uint8_t buf[SYNDBG_MAX_PDU + 1], frame[SYNDBG_MAX_PDU];
	ssize_t n = recv(udp_fd, buf, sizeof(buf), MSG_DONTWAIT);
	bool framed = frames == KD_FRAMES_ETHERNET ||
		      (frames == KD_FRAMES_AUTO && port.guest_frames);
	const uint8_t *pdu = buf;
	size_t len = n;

	if (n < 0)
		return;
	if (framed) {
		struct kd_flow fl = { .src_ip = udp_peer.sin_addr.s_addr,
				      .src_port = udp_peer.sin_port,
				      .dst_port = udp_peer.sin_port };

		if (port.flow_known) {
			/* The reverse of what the guest sent. */
			memcpy(fl.src_mac, port.flow.dst_mac, 6);
			memcpy(fl.dst_mac, port.flow.src_mac, 6);
			fl.src_ip = port.flow.dst_ip;
			fl.dst_ip = port.flow.src_ip;
			fl.src_port = port.flow.dst_port;
			fl.dst_port = port.flow.src_port;
		}
		len = n <= SYNDBG_MAX_PDU ?
		      kd_frame_build(frame, sizeof(frame), &fl, buf, n) : 0;
		pdu = frame;
	}
	if (n > SYNDBG_MAX_PDU || len == 0) {
		dlog(LOG_DEBUG, "dropped a %zd-byte datagram: too large for a debug PDU%s", n,
		       framed ? " with its headers" : "");
		return;
	}
	if (port.attached && kd_in_put(&port, pdu, len) < 0)
		dlog(LOG_DEBUG, "dropped a datagram: the guest's in ring is full");
}

/* ---- privileges ---- */

/* Close every descriptor inherited beyond stdio before opening our own. */
static void close_inherited(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fds[256], n = 0, i;

	if (!d)
		return;
	while ((e = readdir(d)) && n < (int)(sizeof(fds) / sizeof(fds[0]))) {
		int fd = atoi(e->d_name);

		if (fd > 2 && fd != dirfd(d))
			fds[n++] = fd;
	}
	closedir(d);
	for (i = 0; i < n; i++)
		close(fds[i]);
}

/*
 * Become user (default "nobody" when started as root, uid and gid 65534
 * where no such user exists).  The handles
 * opened before (privcmd, foreign memory, event channels, xenstore and the
 * sockets) stay usable, which is all a re-attach needs.
 */
static int drop_privileges(const char *user)
{
	struct passwd *pw;
	uid_t uid = KD_NOBODY;
	gid_t gid = KD_NOBODY;

	if (geteuid() != 0) {
		if (user)
			dlog(LOG_DEBUG, "not root: keeping uid %u", (unsigned int)geteuid());
		return 0;
	}
	errno = 0;
	pw = getpwnam(user ? user : "nobody");
	if (pw) {
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	} else if (user) {
		dlog(LOG_ERR, "failed to look up user \"%s\" (%s)", user,
		       errno ? strerror(errno) : "no such user");
		return -ENOENT;
	}
	/* Without a "nobody" entry (a minimal dom0), its customary ids. */
	if (!user)
		user = "nobody";
	if (uid == 0) {
		dlog(LOG_WARNING, "keeping root privileges (--user %s)", user);
		return 0;
	}
	if (chdir("/") < 0 || setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		int err = errno;

		dlog(LOG_ERR, "failed to drop privileges to user \"%s\" (%s)", user,
		       strerror(err));
		return -err;
	}
	if (setuid(0) == 0) {
		dlog(LOG_ERR, "failed to drop privileges to user \"%s\" (root regained)", user);
		return -EPERM;
	}
	dlog(LOG_INFO, "running as user \"%s\" (uid %u gid %u)", user, (unsigned int)uid,
	       (unsigned int)gid);
	return 0;
}

/* ---- main ---- */

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: xen-kdrelay (-d DOMID | -n NAME) (--tcp [ADDR:]PORT [--token FILE] |\n"
"                   --udp HOST:PORT [--frames MODE] | --to-domain DOMID) [options]\n"
"       xen-kdrelay --detach -d DOMID\n"
"Relay the Viridian synthetic debugger port of a domain.\n"
"  -d, --domain DOMID      the debuggee; the relay exits when it is gone\n"
"  -n, --name NAME         the debuggee by name, followed across reboots\n"
"  -t, --tcp [ADDR:]PORT   listen for one stream debugger (default 127.0.0.1)\n"
"  -k, --token FILE        first line of FILE must open each TCP session\n"
"  -u, --udp HOST:PORT     WinDbg KDNET endpoint (one datagram per PDU)\n"
"  -f, --frames MODE       what the guest's PDUs carry for --udp: auto (default:\n"
"                          as the hypervisor marks them, else by content),\n"
"                          ethernet (Ethernet/IPv4/UDP frames) or bare (payload)\n"
"  -D, --to-domain DOMID   another domain's debug port\n"
"  -U, --user USER         drop to USER after attaching (default: nobody if root)\n"
"  -F, --foreground        stay in the foreground, log to stderr\n"
"  -p, --pid-file FILE     write the daemon's pid to FILE\n"
"  -v, --verbose           log debug messages\n"
"      --detach            detach whichever backend is attached and exit\n"
"  -h, --help              this text\n");
}

static int parse_domid(const char *arg, uint32_t *domid)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 0);
	if (errno || !*arg || *end || v >= DOMID_FIRST_RESERVED) {
		dlog(LOG_ERR, "failed to parse domain id \"%s\" (%s)", arg,
		       errno ? strerror(errno) : "not a domain id");
		return -EINVAL;
	}
	*domid = v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ "tcp", required_argument, NULL, 't' },
		{ "token", required_argument, NULL, 'k' },
		{ "udp", required_argument, NULL, 'u' },
		{ "frames", required_argument, NULL, 'f' },
		{ "to-domain", required_argument, NULL, 'D' },
		{ "user", required_argument, NULL, 'U' },
		{ "foreground", no_argument, NULL, 'F' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "detach", no_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tcp = NULL, *udp = NULL, *pidfile = NULL, *user = NULL;
	bool foreground = false, have_peer = false, detach = false;
	struct addrinfo *ai = NULL;
	time_t last_check = 0;
	int opt, rc = 1, one = 1;

	dlog_open("xen-kdrelay", DLOG_STDERR, LOG_INFO);	/* for the options */
	while ((opt = getopt_long(argc, argv, "d:n:t:k:u:f:D:U:Fp:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (parse_domid(optarg, &port.domid) < 0)
				return 2;
			port.have_domid = true;
			break;
		case 'n': port.name = optarg; break;
		case 't': tcp = optarg; break;
		case 'k': tokfile = optarg; break;
		case 'u': udp = optarg; break;
		case 'f':
			if (!strcmp(optarg, "auto")) {
				frames = KD_FRAMES_AUTO;
			} else if (!strcmp(optarg, "ethernet")) {
				frames = KD_FRAMES_ETHERNET;
			} else if (!strcmp(optarg, "bare")) {
				frames = KD_FRAMES_BARE;
			} else {
				dlog(LOG_ERR, "unknown --frames mode \"%s\"", optarg);
				return 2;
			}
			break;
		case 'D':
			if (parse_domid(optarg, &peer.domid) < 0)
				return 2;
			peer.have_domid = have_peer = true;
			break;
		case 'U': user = optarg; break;
		case 'F': foreground = true; break;
		case 'p': pidfile = optarg; break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		case 'X': detach = true; break;
		default: usage(stderr); return 2;
		}
	}
	if (detach) {
		uint32_t backend;
		int fd;

		if (optind != argc || !port.have_domid || port.name || tcp || udp || have_peer) {
			usage(stderr);
			return 2;
		}
		fd = kd_privcmd_open();
		if (fd < 0 || kd_privcmd_restrict(fd, port.domid) < 0 ||
		    kd_dm_syndbg(fd, port.domid, SYNDBG_DMOP_DETACH, &backend) < 0) {
			dlog(LOG_ERR, "failed to detach the debug port of d%u (%s)", port.domid,
			     strerror(errno));
			return 1;
		}
		close(fd);
		dlog(LOG_INFO, "detached the debug port of d%u", port.domid);
		return 0;
	}
	if (optind != argc || port.have_domid == !!port.name ||
	    (!!tcp + !!udp + have_peer) != 1) {
		usage(stderr);
		return 2;
	}
	dlog_open("xen-kdrelay", DLOG_STDERR, verbose ? LOG_DEBUG : LOG_INFO);
	close_inherited();
	if (tokfile) {
		FILE *f = fopen(tokfile, "r");

		if (!f || !fgets(token, sizeof(token), f)) {
			dlog(LOG_ERR, "failed to read token file \"%s\" (%s)", tokfile,
			       f ? "empty" : strerror(errno));
			if (f)
				fclose(f);
			return 1;
		}
		fclose(f);
		token[strcspn(token, "\r\n")] = '\0';
	}
	xch = xc_interface_open(NULL, NULL, 0);
	fmem = xenforeignmemory_open(NULL, 0);
	xce = xenevtchn_open(NULL, 0);
	if (!xch || !fmem || !xce) {
		dlog(LOG_ERR, "failed to open the Xen interfaces (%s)", strerror(errno));
		goto out;
	}
	if (kd_port_open(&port) < 0 || (have_peer && kd_port_open(&peer) < 0))
		goto out;
	if (port.name) {
		xsh = xs_open(0);
		if (!xsh) {
			dlog(LOG_ERR, "failed to connect to xenstore (%s)", strerror(errno));
			goto out;
		}
	}
	if (tcp) {
		sink = KD_TCP;
		if (parse_hostport(tcp, "127.0.0.1", SOCK_STREAM, true, &ai) < 0)
			goto out;
		listen_fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (listen_fd < 0 ||
		    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(listen_fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(listen_fd, 2) < 0) {
			dlog(LOG_ERR, "failed to listen on \"%s\" (%s)", tcp, strerror(errno));
			goto out;
		}
	} else if (udp) {
		sink = KD_UDP;
		if (parse_hostport(udp, "127.0.0.1", SOCK_DGRAM, false, &ai) < 0)
			goto out;
		memcpy(&udp_peer, ai->ai_addr, sizeof(udp_peer));
		udp_fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (udp_fd < 0 || connect(udp_fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			dlog(LOG_ERR, "failed to open UDP socket to \"%s\" (%s)", udp,
			       strerror(errno));
			goto out;
		}
	} else {
		sink = KD_DOMAIN;
	}
	if (!foreground) {
		dlog_open("xen-kdrelay", DLOG_SYSLOG, verbose ? LOG_DEBUG : LOG_INFO);
		if (daemon(0, 0) < 0) {
			dlog(LOG_ERR, "failed to daemonize (%s)", strerror(errno));
			goto out;
		}
	}
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");

		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
			dlog(LOG_ERR, "failed to write pid file \"%s\" (%s)", pidfile,
			       strerror(errno));
			goto out;
		}
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);

	/* Attach while privileged, then give the privileges up for good. */
	if (!kd_port_check(&port, sink == KD_UDP ? &udp_peer : NULL))
		goto out;
	if (have_peer && !kd_port_check(&peer, NULL))
		goto out;
	last_check = time(NULL);
	if (drop_privileges(user) < 0)
		goto out;

	while (!stopping) {
		struct pollfd pfd[4];
		nfds_t n = 0;
		int ifd = -1, ilisten = -1, icur = -1, icand = -1, iudp = -1;
		time_t now = time(NULL);

		if (now != last_check) {
			last_check = now;
			if (!kd_port_check(&port, sink == KD_UDP ? &udp_peer : NULL))
				goto out_gone;
			if (have_peer && !kd_port_check(&peer, NULL))
				goto out_gone;
		}
		pump_out(&port, false);
		if (have_peer)
			pump_out(&peer, true);
		if (sink == KD_TCP && cur.fd >= 0)
			client_read(false);

		pfd[n].fd = xenevtchn_fd(xce);
		pfd[n].events = POLLIN;
		ifd = n++;
		if (sink == KD_TCP) {
			pfd[n].fd = listen_fd;
			pfd[n].events = POLLIN;
			ilisten = n++;
			if (cand.fd >= 0) {
				pfd[n].fd = cand.fd;
				pfd[n].events = POLLIN;
				icand = n++;
			}
			if (cur.fd >= 0) {
				pfd[n].fd = cur.fd;
				pfd[n].events = (!port.attached || kd_in_room(&port) ?
						 POLLIN : 0) |
						(cur.out_len ? POLLOUT : 0);
				icur = n++;
			}
		} else if (sink == KD_UDP && port.attached && kd_in_room(&port)) {
			pfd[n].fd = udp_fd;
			pfd[n].events = POLLIN;
			iudp = n++;
		}
		if (poll(pfd, n, 200) < 0 && errno != EINTR) {
			dlog(LOG_ERR, "failed to poll (%s)", strerror(errno));
			goto out;
		}
		if (pfd[ifd].revents & POLLIN) {
			xenevtchn_port_or_error_t p = xenevtchn_pending(xce);

			if (p >= 0)
				xenevtchn_unmask(xce, p);
		}
		if (ilisten >= 0 && (pfd[ilisten].revents & POLLIN)) {
			int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

			if (fd >= 0) {
				client_close(&cand, "superseded by a newer connection");
				cand.fd = fd;
				cand.have = 0;
				dlog(LOG_INFO, "debugger connection opened");
				cand_read();
			}
		}
		if (icand >= 0 && (pfd[icand].revents & (POLLIN | POLLHUP | POLLERR)))
			cand_read();
		if (icur >= 0 && (pfd[icur].revents & POLLOUT) && cur.fd >= 0)
			client_flush(&cur);	/* the next record on the next turn */
		if (icur >= 0 && cur.fd >= 0 &&
		    (pfd[icur].revents & (POLLIN | POLLHUP | POLLERR)))
			client_read(true);
		if (iudp >= 0 && (pfd[iudp].revents & POLLIN))
			udp_read();
	}
	rc = 0;
	goto out;
out_gone:
	rc = KD_EXIT_GONE;
out:
	/* The port stays attached: a restarted relay resumes where this one stopped. */
	if (port.fres)
		xenforeignmemory_unmap_resource(fmem, port.fres);
	if (peer.fres)
		xenforeignmemory_unmap_resource(fmem, peer.fres);
	if (ai)
		freeaddrinfo(ai);
	if (cur.fd >= 0)
		close(cur.fd);
	if (cand.fd >= 0)
		close(cand.fd);
	if (listen_fd >= 0)
		close(listen_fd);
	if (udp_fd >= 0)
		close(udp_fd);
	if (port.privcmd >= 0)
		close(port.privcmd);
	if (peer.privcmd >= 0)
		close(peer.privcmd);
	if (xsh)
		xs_close(xsh);
	if (xce)
		xenevtchn_close(xce);
	if (fmem)
		xenforeignmemory_close(fmem);
	if (xch)
		xc_interface_close(xch);
	if (pidfile && unlink(pidfile) < 0 && errno != ENOENT)
		dlog(LOG_DEBUG, "failed to remove pid file \"%s\" (%s)", pidfile,
		       strerror(errno));
	return rc;
}
