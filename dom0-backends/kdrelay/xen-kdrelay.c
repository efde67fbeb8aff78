// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen-kdrelay - relay a domain's Viridian synthetic debugger port.
 *
 * Attaches to the debug port of one domain (HVM_PARAM_SYNDBG_BACKEND, the
 * XENMEM_resource_syndbg frames, the port's event channel; ABI in
 * include/xenvmbus/syndbg-port.h) and carries its PDUs to one sink:
 *
 *  --tcp [ADDR:]PORT  a stream debugger (gdb-remote bridge or other); one
 *                     client at a time, 127.0.0.1 unless ADDR is given.
 *                     With --token FILE the client's first line must be
 *                     the file's first line.  Framing, both directions:
 *                     u16 length (big endian), u8 type (1 DATA, 2 RESET:
 *                     the target reset its session, length 0), u8 flags,
 *                     then the payload.
 *  --udp HOST:PORT    WinDbg's KDNET endpoint: one datagram per PDU, the
 *                     payload alone.  With the debug hypercalls the guest
 *                     posts and retrieves KDNET payloads without the
 *                     Ethernet/IP/UDP headers (QEMU's hv-syndbg also sends
 *                     a hypercall-mode buffer as the datagram and gives
 *                     back a datagram's data unchanged); the MSR interface
 *                     would need headers synthesised, which is not done.
 *  --to-domain D      another domain's debug port (partition-to-partition):
 *                     out PDUs of each become in PDUs of the other.
 *
 * Nothing is lost or duplicated by this relay: an out record is consumed
 * (cons advanced) only once the sink accepted it, and in records are only
 * produced when they fit.  cons lives in the shared page, so a restarted
 * relay resumes where the previous one stopped.  When the domain goes away
 * or re-creates its port (reboot), the relay re-attaches.
 *
 * Everything read from the shared pages is hostile: each index and record
 * header is read once into a local copy, validated, then used.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
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

#include <xenvmbus/syndbg-port.h>

#define KD_OWN_DOMID 0

struct kd_port {
	uint32_t domid;
	bool attached;
	xenforeignmemory_resource_handle *fres;
	volatile struct syndbg_shared *sh;
	volatile uint8_t *out;		/* guest -> relay */
	volatile uint8_t *in;		/* relay -> guest */
	int lport;
	uint32_t rport;
	bool broken_logged;
};

enum kd_sink { KD_TCP, KD_UDP, KD_DOMAIN };

static xc_interface *xch;
static xenforeignmemory_handle *fmem;
static xenevtchn_handle *xce;
static bool use_syslog, verbose;
static volatile sig_atomic_t stopping;

static void kd_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void kd_log(int prio, const char *fmt, ...)
{
	va_list ap;

	if (prio == LOG_DEBUG && !verbose)
		return;
	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(prio, fmt, ap);
	} else {
		fputs("xen-kdrelay: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
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

static int kd_attach(struct kd_port *p)
{
	void *addr = NULL;
	uint32_t magic, version, ring, maxpdu, port;

	if (xc_hvm_param_set(xch, p->domid, SYNDBG_HVM_PARAM_BACKEND, KD_OWN_DOMID) < 0) {
		kd_log(LOG_DEBUG, "failed to attach to the debug port of d%u (%s)", p->domid,
		       strerror(errno));
		return -errno;
	}
	p->fres = xenforeignmemory_map_resource(fmem, p->domid, SYNDBG_RESOURCE_TYPE, 0, 0,
						SYNDBG_NR_FRAMES, &addr,
						PROT_READ | PROT_WRITE, 0);
	if (!p->fres) {
		kd_log(LOG_ERR, "failed to map the debug port frames of d%u (%s)", p->domid,
		       strerror(errno));
		return -errno;
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
		kd_log(LOG_ERR, "failed to use the debug port of d%u: magic %#x version %u "
		       "ring %u max_pdu %u port %u", p->domid, magic, version, ring, maxpdu, port);
		kd_detach(p);
		return -EPROTO;
	}
	p->lport = xenevtchn_bind_interdomain(xce, p->domid, port);
	if (p->lport < 0) {
		kd_log(LOG_ERR, "failed to bind event channel %u of d%u (%s)", port, p->domid,
		       strerror(errno));
		kd_detach(p);
		return -errno;
	}
	p->rport = port;
	p->attached = true;
	p->broken_logged = false;
	kd_log(LOG_INFO, "attached to the debug port of d%u (port %u, out cons %u)",
	       p->domid, port, p->sh->out.cons);
	/* Whatever queued while nobody was attached is ours now. */
	xenevtchn_notify(xce, p->lport);
	return 0;
}

/* Still attached to the same port instance?  (Reboot re-creates it.) */
static bool kd_port_alive(struct kd_port *p)
{
	uint64_t backend = SYNDBG_DOMID_INVALID;

	if (!p->attached)
		return false;
	if (xc_hvm_param_get(xch, p->domid, SYNDBG_HVM_PARAM_BACKEND, &backend) < 0 ||
	    backend != KD_OWN_DOMID || p->sh->evtchn != p->rport ||
	    p->sh->magic != SYNDBG_MAGIC)
		return false;
	if ((p->sh->flags & SYNDBG_F_BROKEN) && !p->broken_logged) {
		kd_log(LOG_ERR, "the debug port of d%u is marked broken; re-attaching", p->domid);
		p->broken_logged = true;
		return false;
	}
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
static int listen_fd = -1, client_fd = -1, udp_fd = -1;
static bool client_ok;
static char token[256];
static size_t client_have;
static uint8_t client_buf[4 + SYNDBG_MAX_PDU + sizeof(token)];
static struct sockaddr_storage udp_peer;
static socklen_t udp_peer_len;
static struct kd_port port = { .lport = -1 }, peer = { .lport = -1 };

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
		kd_log(LOG_ERR, "failed to resolve \"%s:%s\" (%s)", host, arg, gai_strerror(rc));
		return -EINVAL;
	}
	return 0;
}

static void client_close(const char *why)
{
	if (client_fd < 0)
		return;
	kd_log(LOG_INFO, "debugger disconnected (%s)", why);
	close(client_fd);
	client_fd = -1;
	client_ok = false;
	client_have = 0;
}

static int send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *b = buf;

	while (len) {
		ssize_t n = send(fd, b, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= n;
	}
	return 0;
}

/* Give one out PDU to the sink; false when the sink cannot take it now. */
static bool sink_put(const struct syndbg_pdu *hdr, const uint8_t *buf)
{
	uint8_t fh[4];

	switch (sink) {
	case KD_TCP:
		if (client_fd < 0 || !client_ok)
			return false;
		fh[0] = hdr->len >> 8;
		fh[1] = hdr->len & 0xff;
		fh[2] = hdr->type;
		fh[3] = hdr->flags;
		if (send_all(client_fd, fh, 4) < 0 ||
		    (hdr->len && send_all(client_fd, buf, hdr->len) < 0)) {
			client_close(strerror(errno));
			return false;
		}
		return true;
	case KD_UDP:
		if (hdr->type == SYNDBG_PDU_DATA &&
		    sendto(udp_fd, buf, hdr->len, 0, (struct sockaddr *)&udp_peer,
			   udp_peer_len) < 0)
			kd_log(LOG_DEBUG, "failed to send a datagram (%s)", strerror(errno));
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
			kd_log(LOG_INFO, "d%u reset its debug session (purge %#x)", p->domid,
			       hdr.flags);
		kd_out_consume(p, &hdr);
	}
	if (p->attached && rc < 0) {
		kd_log(LOG_ERR, "bad out ring of d%u (prod %u cons %u); re-attaching", p->domid,
		       p->sh->out.prod, p->sh->out.cons);
		kd_detach(p);
	}
}

/* Frames from the TCP debugger into the guest's in ring. */
static void client_read(void)
{
	ssize_t n;

	if (client_have < sizeof(client_buf)) {
		n = recv(client_fd, client_buf + client_have, sizeof(client_buf) - client_have,
			 MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			client_close(n == 0 ? "end of stream" : strerror(errno));
			return;
		}
		if (n > 0)
			client_have += n;
	}
	if (!client_ok) {
		uint8_t *nl = memchr(client_buf, '\n', client_have);
		size_t tl;

		if (!nl) {
			if (client_have >= sizeof(token))
				client_close("token line too long");
			return;
		}
		tl = nl - client_buf;
		if (tl && client_buf[tl - 1] == '\r')
			tl--;
		if (tl != strlen(token) || memcmp(client_buf, token, tl)) {
			client_close("wrong token");
			return;
		}
		client_have -= nl + 1 - client_buf;
		memmove(client_buf, nl + 1, client_have);
		client_ok = true;
		kd_log(LOG_INFO, "debugger authenticated");
	}
	while (client_have >= 4 && port.attached) {
		uint32_t len = (uint32_t)client_buf[0] << 8 | client_buf[1];

		if (len > SYNDBG_MAX_PDU || client_buf[2] != SYNDBG_PDU_DATA) {
			client_close("bad frame");
			return;
		}
		if (client_have < 4 + len)
			return;
		if (kd_in_put(&port, client_buf + 4, len) < 0)
			return;		/* retried when the guest consumed */
		client_have -= 4 + len;
		memmove(client_buf, client_buf + 4 + len, client_have);
	}
}

static void udp_read(void)
{
	static uint8_t buf[SYNDBG_MAX_PDU + 1];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(udp_fd, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);

	if (n < 0)
		return;
	if (n > SYNDBG_MAX_PDU) {
		kd_log(LOG_DEBUG, "dropped an oversize datagram");
		return;
	}
	if (port.attached && kd_in_put(&port, buf, n) < 0)
		kd_log(LOG_DEBUG, "dropped a datagram: the guest's in ring is full");
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
"Usage: xen-kdrelay -d DOMID (--tcp [ADDR:]PORT [--token FILE] |\n"
"                   --udp HOST:PORT | --to-domain DOMID) [options]\n"
"Relay the Viridian synthetic debugger port of a domain.\n"
"  -d, --domain DOMID      the debuggee\n"
"  -t, --tcp [ADDR:]PORT   listen for one stream debugger (default 127.0.0.1)\n"
"  -k, --token FILE        first line of FILE must open each TCP session\n"
"  -u, --udp HOST:PORT     WinDbg KDNET endpoint (one datagram per PDU)\n"
"  -D, --to-domain DOMID   another domain's debug port\n"
"  -F, --foreground        stay in the foreground, log to stderr\n"
"  -p, --pid-file FILE     write the daemon's pid to FILE\n"
"  -v, --verbose           log debug messages\n"
"  -h, --help              this text\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "tcp", required_argument, NULL, 't' },
		{ "token", required_argument, NULL, 'k' },
		{ "udp", required_argument, NULL, 'u' },
		{ "to-domain", required_argument, NULL, 'D' },
		{ "foreground", no_argument, NULL, 'F' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tcp = NULL, *udp = NULL, *tokfile = NULL, *pidfile = NULL;
	bool foreground = false, have_dom = false, have_peer = false;
	struct addrinfo *ai = NULL;
	time_t last_check = 0;
	int opt, rc = 1, one = 1;

	while ((opt = getopt_long(argc, argv, "d:t:k:u:D:Fp:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': port.domid = strtoul(optarg, NULL, 0); have_dom = true; break;
		case 't': tcp = optarg; break;
		case 'k': tokfile = optarg; break;
		case 'u': udp = optarg; break;
		case 'D': peer.domid = strtoul(optarg, NULL, 0); have_peer = true; break;
		case 'F': foreground = true; break;
		case 'p': pidfile = optarg; break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!have_dom || (!!tcp + !!udp + have_peer) != 1) {
		usage(stderr);
		return 2;
	}
	if (tokfile) {
		FILE *f = fopen(tokfile, "r");

		if (!f || !fgets(token, sizeof(token), f)) {
			kd_log(LOG_ERR, "failed to read token file \"%s\" (%s)", tokfile,
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
		kd_log(LOG_ERR, "failed to open the Xen interfaces (%s)", strerror(errno));
		goto out;
	}
	if (tcp) {
		sink = KD_TCP;
		if (parse_hostport(tcp, "127.0.0.1", SOCK_STREAM, true, &ai) < 0)
			goto out;
		listen_fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (listen_fd < 0 || bind(listen_fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
		    listen(listen_fd, 1) < 0) {
			kd_log(LOG_ERR, "failed to listen on \"%s\" (%s)", tcp, strerror(errno));
			goto out;
		}
	} else if (udp) {
		sink = KD_UDP;
		if (parse_hostport(udp, "127.0.0.1", SOCK_DGRAM, false, &ai) < 0)
			goto out;
		memcpy(&udp_peer, ai->ai_addr, ai->ai_addrlen);
		udp_peer_len = ai->ai_addrlen;
		udp_fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (udp_fd < 0 || connect(udp_fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			kd_log(LOG_ERR, "failed to open UDP socket to \"%s\" (%s)", udp,
			       strerror(errno));
			goto out;
		}
	} else {
		sink = KD_DOMAIN;
	}
	if (!foreground) {
		use_syslog = true;
		openlog("xen-kdrelay", LOG_PID, LOG_DAEMON);
		if (daemon(0, 0) < 0) {
			kd_log(LOG_ERR, "failed to daemonize (%s)", strerror(errno));
			goto out;
		}
	}
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");

		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
			kd_log(LOG_ERR, "failed to write pid file \"%s\" (%s)", pidfile,
			       strerror(errno));
			goto out;
		}
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);

	while (!stopping) {
		struct pollfd pfd[3];
		nfds_t n = 0;
		int ifd = -1, ilisten = -1, iclient = -1;
		time_t now = time(NULL);

		if (now != last_check) {
			last_check = now;
			if (!kd_port_alive(&port)) {
				if (port.attached)
					kd_detach(&port);
				kd_attach(&port);
			}
			if (have_peer && !kd_port_alive(&peer)) {
				if (peer.attached)
					kd_detach(&peer);
				kd_attach(&peer);
			}
		}
		pump_out(&port, false);
		if (have_peer)
			pump_out(&peer, true);
		if (sink == KD_TCP && client_fd >= 0)
			client_read();

		pfd[n].fd = xenevtchn_fd(xce);
		pfd[n].events = POLLIN;
		ifd = n++;
		if (sink == KD_TCP) {
			if (client_fd < 0) {
				pfd[n].fd = listen_fd;
				pfd[n].events = POLLIN;
				ilisten = n++;
			} else if (!port.attached || kd_in_room(&port) || !client_ok) {
				pfd[n].fd = client_fd;
				pfd[n].events = POLLIN;
				iclient = n++;
			}
		} else if (sink == KD_UDP && port.attached && kd_in_room(&port)) {
			pfd[n].fd = udp_fd;
			pfd[n].events = POLLIN;
			iclient = n++;
		}
		if (poll(pfd, n, 200) < 0 && errno != EINTR) {
			kd_log(LOG_ERR, "failed to poll (%s)", strerror(errno));
			goto out;
		}
		if (pfd[ifd].revents & POLLIN) {
			xenevtchn_port_or_error_t p = xenevtchn_pending(xce);

			if (p >= 0)
				xenevtchn_unmask(xce, p);
		}
		if (ilisten >= 0 && (pfd[ilisten].revents & POLLIN)) {
			client_fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (client_fd >= 0) {
				client_ok = !tokfile;
				client_have = 0;
				kd_log(LOG_INFO, "debugger connected");
			}
		}
		if (iclient >= 0 && (pfd[iclient].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (sink == KD_TCP)
				client_read();
			else
				udp_read();
		}
	}
	rc = 0;
out:
	/* The port stays attached: a restarted relay resumes where this one stopped. */
	if (port.fres)
		xenforeignmemory_unmap_resource(fmem, port.fres);
	if (peer.fres)
		xenforeignmemory_unmap_resource(fmem, peer.fres);
	if (ai)
		freeaddrinfo(ai);
	if (client_fd >= 0)
		close(client_fd);
	if (listen_fd >= 0)
		close(listen_fd);
	if (udp_fd >= 0)
		close(udp_fd);
	if (xce)
		xenevtchn_close(xce);
	if (fmem)
		xenforeignmemory_close(fmem);
	if (xch)
		xc_interface_close(xch);
	if (pidfile)
		unlink(pidfile);
	return rc;
}
