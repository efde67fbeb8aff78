// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target, stateful: libvmbus (lib/libvmbus/server.c, client.c,
 * chan.c, xfer.c, xs.c) over the in-memory Xen of fake-xen.c, driven by
 * sequences of operations.
 *
 * Dom0 runs two real servers (one per guest, as vmbusd does) with a
 * service behind their ops that accepts channels, receives and completes
 * packets, maps and unmaps data GPADLs and holds pointers into them.  The
 * two guests (domains 1 and 2) are played by the fuzzer: they write
 * xenstore nodes, grant pages, write control messages and channel packets
 * into the rings they share with dom0, signal, and die.  They also share a
 * peer offer, so the guest-to-guest state machine runs across both
 * servers.  Offer 2 of each guest is served by vmbusd's pipe service
 * (dom0-backends/vmbusd/pipe.c, byte mode for domain 1, message mode for
 * domain 2) connected to a socket whose service end the fuzzer plays.
 *
 * Domain 3 runs a real client, and the fuzzer plays its server: it
 * answers the handshake and each control message as its script in the
 * input says (well, changed, not at all, or with a hostile message more),
 * writes packets into the client's channels and can die.  It runs in the
 * same thread, from fake-xen's hook, whenever the client signals or is
 * about to wait.
 *
 * Input: a sequence of operations (fuzz-bus.h), one opcode byte (modulo
 * OP_COUNT), a byte whose bit 0 picks the guest, and the operation's
 * argument bytes; a missing byte reads as 0.  After every operation the
 * servers' pumps run (bounded) and the invariants are checked; at the end
 * the client closes, the servers are destroyed and nothing may be left
 * mapped, shared or open.  gen-seeds.c writes sequences that reach the
 * interesting states (handshake, offers, open, GPADLs, transfer page sets,
 * the peer handshake, the client's opens and failures).
 * FUZZ_BUS_TRACE=1 prints the state after each operation.
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "fake-xen.h"
#include "fuzz-bus.h"
#include "libvmbus.h"
#include "private.h"		/* vmbus_time: the clock of fake-xen.c */
#include "vmbus/vmbus_msg.h"
#include "vmbus/vmbus_ring.h"
#include "vmbusd.h"

#define NGUESTS		2
#define MAX_OPS		96
#define MAX_GP		12	/* GPADLs a guest remembers */
#define MAX_CH		6	/* channels a guest remembers */
#define MAX_RELIDS	16
#define MAX_HANDLES	8
#define MAX_SCHANS	16
#define PUMP_ROUNDS	4
/* Regions dom0 may have mapped of one guest: the control ring + GPADLs. */
#define MAX_REGIONS	(1 + 64)

/* --- reading the input --- */

struct rd {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct rd *r)
{
	if (!r || !r->n)
		return 0;
	r->n--;
	return *r->p++;
}

static uint16_t u16(struct rd *r)
{
	return (uint16_t)(u8(r) | u8(r) << 8);
}

static uint32_t u32(struct rd *r)
{
	return (uint32_t)u16(r) | (uint32_t)u16(r) << 16;
}

/* --- the guests, as the fuzzer plays them --- */

struct g_gpadl {
	uint32_t id;
	uint32_t relid;
	uint32_t pages;
};

struct g_chan {
	bool used;
	unsigned int dom;
	uint32_t relid;
	uint32_t gpadl;
	uint8_t *mem;
	uint32_t rp;			/* pages per direction */
	int port;
	struct vmbus_ring ring;
};

struct guest {
	unsigned int dom;
	struct vmbus_server *srv;
	uint8_t *ctl;
	uint32_t ctl_pages;
	int ctl_port;
	bool ctl_ok;
	struct vmbus_ring ring;
	struct g_gpadl gp[MAX_GP];
	unsigned int ngp;
	uint32_t next_gpadl;
	struct g_chan ch[MAX_CH];
	uint32_t relids[MAX_RELIDS];
	unsigned int nrelids;
	uint32_t peer_open_id;		/* from the last PEER_OPEN */
	uint32_t peer_relid;
	uint32_t next_open;
};

static struct guest guests[NGUESTS];

/* Where the service's reads go, so that they are not optimised away. */
static uint64_t svc_sink;

/* --- vmbusd's pipe service (dom0-backends/vmbusd/pipe.c) behind offer 2 --- */

/*
 * What pipe.c needs of vmbusd: its epoll set (the pump below stands in for
 * it: every pipe is pumped after each operation) and its log.  The pipes'
 * timers (the end of a storm's pause, a connect retry) are remembered:
 * OP_TIME makes the armed ones expire and delivers them.
 */
#define MAX_TIMERS	8

static struct {
	int fd;
	struct vd_watch *w;
} timers[MAX_TIMERS];

int vd_epoll_add(int fd, uint32_t events, struct vd_watch *w)
{
	struct itimerspec its;
	unsigned int i;

	(void)events;
	/* Only the timers (a pause's end, a connect retry) are kept. */
	if (timerfd_gettime(fd, &its) < 0)
		return 0;
	for (i = 0; i < MAX_TIMERS; i++)
		if (!timers[i].w) {
			timers[i].fd = fd;
			timers[i].w = w;
			return 0;
		}
	return -ENOSPC;
}

int vd_epoll_mod(int fd, uint32_t events, struct vd_watch *w)
{
	(void)fd;
	(void)events;
	(void)w;
	return 0;
}

void vd_epoll_del(int fd)
{
	unsigned int i;

	for (i = 0; i < MAX_TIMERS; i++)
		if (timers[i].w && timers[i].fd == fd)
			timers[i].w = NULL;
}

/* Time passes for the pipes: their armed timers expire now. */
static void timers_expire(void)
{
	static const struct itimerspec past = { { 0, 0 }, { 0, 1 } };
	struct itimerspec its;
	struct pollfd p;
	unsigned int i;

	for (i = 0; i < MAX_TIMERS; i++) {
		struct vd_watch *w = timers[i].w;

		if (!w || timerfd_gettime(timers[i].fd, &its) < 0 ||
		    (!its.it_value.tv_sec && !its.it_value.tv_nsec))
			continue;
		timerfd_settime(timers[i].fd, TFD_TIMER_ABSTIME, &past, NULL);
		/* Expired at once; the kernel takes a moment to say so. */
		p = (struct pollfd){ .fd = timers[i].fd, .events = POLLIN };
		poll(&p, 1, 1000);
		/* The event may close the pipe: its entries go with it. */
		w->fn(w, EPOLLIN);
	}
}

/* The rest of what pipe.c links against: the loop's hooks (pipes_pump
 * below runs them) and the registry's helpers of its offer row. */
void vd_loop_hook_add(struct vd_loop_hook *h)
{
	(void)h;
}

char *vd_xs_read(const char *dir, const char *key)
{
	(void)dir;
	(void)key;
	return NULL;
}

const char *vd_escape(const char *s, char *out, size_t len)
{
	snprintf(out, len, "%s", s);
	return out;
}

static bool trace;

void dlog(int prio, const char *fmt, ...)
{
	va_list ap;

	(void)prio;
	if (!trace)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "vmbusd: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/* Guest 0's pipe is in byte mode, guest 1's in message mode. */
static struct vd_guest pipe_guest[NGUESTS];
static struct vd_offer pipe_offer[NGUESTS];
static int pipe_listen[NGUESTS] = { -1, -1 };
static int pipe_svc[NGUESTS] = { -1, -1 };
/* The pipe service connected this run: its listener may hold connections. */
static bool pipe_connected[NGUESTS];

static void pipe_init(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned int gi;

	for (gi = 0; gi < NGUESTS; gi++) {
		/* Abstract names: nothing to clean up in the file system. */
		snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1,
			 "fuzz-bus-%d-%u", (int)getpid(), gi);
		pipe_listen[gi] = socket(AF_UNIX, (gi ? SOCK_SEQPACKET :
					 SOCK_STREAM) | SOCK_NONBLOCK |
					 SOCK_CLOEXEC, 0);
		if (pipe_listen[gi] < 0 ||
		    bind(pipe_listen[gi], (struct sockaddr *)&sa,
			 sizeof(sa)) < 0 ||
		    listen(pipe_listen[gi], 64) < 0) {
			perror("fuzz-bus: failed to listen for the pipes");
			abort();
		}
		memcpy(pipe_offer[gi].service, sa.sun_path,
		       sizeof(pipe_offer[gi].service));
	}
}

/* A new run: the offers' state, and no connection left from the last. */
static void pipe_reset(void)
{
	unsigned int gi;
	int fd;

	for (gi = 0; gi < NGUESTS; gi++) {
		if (pipe_svc[gi] >= 0)
			close(pipe_svc[gi]);
		pipe_svc[gi] = -1;
		while (pipe_connected[gi] &&
		       (fd = accept4(pipe_listen[gi], NULL, NULL,
				     SOCK_CLOEXEC)) >= 0)
			close(fd);
		pipe_connected[gi] = false;
		pipe_guest[gi] = (struct vd_guest){ .domid = 1 + gi };
		memset(&pipe_offer[gi].key, 0, sizeof(pipe_offer[gi].key));
		snprintf(pipe_offer[gi].name, sizeof(pipe_offer[gi].name),
			 "fuzz");
		pipe_offer[gi].message_mode = gi == 1;
		pipe_offer[gi].guest = &pipe_guest[gi];
		pipe_offer[gi].pipe = NULL;
	}
}

/* A turn of vmbusd's loop for the pipes: their events, the pipes that
 * had more to move than one turn allows, then what closed is freed. */
static void pipes_pump(void)
{
	unsigned int gi;

	for (gi = 0; gi < NGUESTS; gi++)
		if (pipe_offer[gi].pipe)
			vd_pipe_event(pipe_offer[gi].pipe, VD_CHAN, EPOLLIN);
	vd_pipe_run_busy();
	vd_pipe_reap();
}

/* The service at the other end of guest @gi's pipe acts. */
static void pipe_service(unsigned int gi, struct rd *r)
{
	static uint8_t buf[65536];
	uint8_t k = u8(r);
	size_t len = (size_t)u16(r) % sizeof(buf);
	uint32_t ev = EPOLLIN | EPOLLOUT;
	ssize_t n;

	if (pipe_svc[gi] < 0)
		pipe_svc[gi] = accept4(pipe_listen[gi], NULL, NULL,
				       SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (pipe_svc[gi] < 0)
		return;
	switch (k % 4) {
	case 0:
		while ((n = recv(pipe_svc[gi], buf, sizeof(buf), 0)) > 0)
			svc_sink += (uint64_t)n;
		break;
	case 1:
		memset(buf, k, len);
		n = send(pipe_svc[gi], buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		(void)n;
		break;
	case 2:
		shutdown(pipe_svc[gi], SHUT_WR);
		break;
	default:
		close(pipe_svc[gi]);
		pipe_svc[gi] = -1;
		ev = EPOLLIN | EPOLLHUP;
		break;
	}
	if (pipe_offer[gi].pipe)
		vd_pipe_event(pipe_offer[gi].pipe, VD_SOCK, ev);
}

/* --- the dom0 service behind both servers --- */

struct svc_chan {
	struct vmbus_chan *c;
	unsigned int gi;
	uint32_t relid;
};

/* A received packet whose memory the service still uses. */
struct svc_hold {
	struct vmbus_chan *c;
	uint64_t trans_id;
	bool want_comp;
	uint8_t *p;
	uint32_t len;
	bool writable;
	/* A DATA_USING_GPADL packet points into the service's own mapping
	 * of that GPADL: valid while the service maps it (xfer packets: the
	 * library holds their set until completed). */
	bool by_gpadl;
	uint32_t gpadl_id;
};

static struct svc_chan schans[MAX_SCHANS];
static struct vmbus_gpadl *handles[MAX_HANDLES];
static struct svc_hold hold;
static bool svc_refuse;
static unsigned int pending_peer_events;

/*
 * Memory of a held packet that is no longer mapped: the library unmapped a
 * transfer page set under the service.  Built with
 * -DFUZZ_BUS_TOLERATE_HELD_UNMAP (long runs while that is a known bug),
 * this is counted and reported once instead of faulting.
 */
static bool hold_gone(void)
{
#ifdef FUZZ_BUS_TOLERATE_HELD_UNMAP
	static bool said;

	if (fx_addr_mapped(hold.p))
		return false;
	if (!said)
		fprintf(stderr, "fuzz-bus: the memory of a packet the service "
			"had not completed was unmapped under it\n");
	said = true;
	return true;
#else
	return false;
#endif
}

static int svc_open(struct vmbus_server *srv, struct vmbus_chan *c,
		    void *cookie, void *arg)
{
	unsigned int i;

	(void)srv;
	if (!c) {		/* a channel between the two guests */
		pending_peer_events++;
		return 0;
	}
	if (svc_refuse)
		return -EBUSY;
	if (cookie) {		/* a pipe offer: vmbusd's pipe service */
		pipe_connected[(uintptr_t)arg % NGUESTS] = true;
		return vd_pipe_open(cookie, c);
	}
	for (i = 0; i < MAX_SCHANS; i++)
		if (!schans[i].c) {
			schans[i] = (struct svc_chan){ c, (unsigned int)(uintptr_t)arg,
						       vmbus_chan_relid(c) };
			return 0;
		}
	return -ENOSPC;
}

static void svc_close(struct vmbus_server *srv, struct vmbus_chan *c,
		      void *cookie, void *arg)
{
	unsigned int i;

	(void)srv;
	(void)arg;
	if (!c) {
		pending_peer_events++;
		return;
	}
	if (cookie) {
		struct vd_offer *o = cookie;

		if (o->pipe)
			vd_pipe_close(o->pipe);
		return;
	}
	for (i = 0; i < MAX_SCHANS; i++)
		if (schans[i].c == c)
			schans[i].c = NULL;
	/* Pointers into the channel's memory are valid until we return. */
	if (hold.c == c) {
		if (hold.p && !hold_gone())
			svc_sink += hold.p[0] + hold.p[hold.len - 1];
		memset(&hold, 0, sizeof(hold));
	}
}

static const struct vmbus_server_ops svc_ops = {
	.open = svc_open,
	.close = svc_close,
};

static struct vmbus_chan *svc_chan(unsigned int gi, uint8_t sel)
{
	unsigned int i, n = 0;

	for (i = 0; i < MAX_SCHANS; i++)
		if (schans[i].c && schans[i].gi == gi && n++ == sel % 4)
			return schans[i].c;
	for (i = 0; i < MAX_SCHANS; i++)
		if (schans[i].c && schans[i].gi == gi)
			return schans[i].c;
	return NULL;
}

/* --- signals from the library to the guests' ports are just counted --- */

static void guest_signal_ctl(void *arg)
{
	struct guest *g = arg;

	fx_notify(g->dom, (unsigned int)g->ctl_port);
}

static void guest_signal_chan(void *arg)
{
	struct g_chan *ch = arg;

	fx_notify(ch->dom, (unsigned int)ch->port);
}

/* --- servers and the pump --- */

static void server_start(unsigned int gi)
{
	/* Takes data GPADLs and transfer page sets (the pipe does not). */
	static const struct vmbus_offer_desc plain = {
		.type = { 0x11, 0x22 }, .instance = { 1 },
		.flags = VMBUS_OFFER_FLAG_GPADLS,
		.nversions = 2,
		.versions = { VMBUS_VERSION(2, 0), VMBUS_VERSION(1, 1) },
	};
	struct vmbus_offer_desc pipe;
	struct guest *g = &guests[gi];

	fx_cur_dom = 0;
	fx_cur_tag = 1 + gi;
	if (vmbus_server_create(&g->srv, g->dom, &svc_ops,
				(void *)(uintptr_t)gi) < 0) {
		g->srv = NULL;
		return;
	}
	vd_pipe_desc(&pipe, &pipe_offer[gi], &pipe_offer[gi]);
	vmbus_server_offer(g->srv, &plain, NULL);
	vmbus_server_offer(g->srv, &pipe, NULL);
}

/* dom0 writes @dir/@key = @val. */
static void ts_write(const char *dir, const char *key, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	fx_xs_write(0, path, val, (unsigned int)strlen(val));
}

/*
 * The toolstack's part for guest @gi, once per run (a restarted server
 * finds it there): each end's directory names the other.  A server whose
 * backend directory names no frontend takes the bus as detached and stays
 * Closed.
 */
static void toolstack_attach(unsigned int gi)
{
	char be[64], fe[64], id[12];

	snprintf(be, sizeof(be), "/local/domain/0/backend/vmbus/%u/0",
		 guests[gi].dom);
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vmbus/0",
		 guests[gi].dom);
	snprintf(id, sizeof(id), "%u", guests[gi].dom);
	ts_write(be, "frontend", fe);
	ts_write(be, "frontend-id", id);
	ts_write(fe, "backend", be);
	ts_write(fe, "backend-id", "0");
}

static void server_stop(unsigned int gi)
{
	struct guest *g = &guests[gi];

	fx_cur_dom = 0;
	vmbus_server_destroy(g->srv);
	g->srv = NULL;
}

static void offer_peer(uint8_t b)
{
	struct vmbus_offer_desc d = {
		.type = { 0x33 }, .instance = { 3, b },
		.nversions = 1, .versions = { VMBUS_VERSION(1, 0) },
	};
	struct vmbus_offer_desc d2 = d;

	if (!guests[0].srv || !guests[1].srv)
		return;
	if (b & 1)
		d2.versions[0] = VMBUS_VERSION(1, 1);
	fx_cur_dom = 0;
	if (b & 2)
		vmbus_server_offer_peer(guests[1].srv, &d2, NULL,
					guests[0].srv, &d, NULL);
	else
		vmbus_server_offer_peer(guests[0].srv, &d, NULL,
					guests[1].srv, &d2, NULL);
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return fd >= 0 && poll(&p, 1, 0) > 0;
}

static void pump(void)
{
	unsigned int round, gi;
	bool any;

	fx_cur_dom = 0;
	for (round = 0; round < PUMP_ROUNDS; round++) {
		any = false;
		for (gi = 0; gi < NGUESTS; gi++) {
			struct vmbus_server *s = guests[gi].srv;

			/* As vmbusd does: only when its fd says so (asked
			 * only when the fake Xen has something for it). */
			if (!s || !fx_pending(1 + gi) ||
			    !readable(vmbus_server_fd(s)))
				continue;
			fx_cur_tag = 1 + gi;
			vmbus_server_process(s);
			any = true;
		}
		if (!any)
			break;
	}
	pipes_pump();
}

static void check_invariants(void)
{
	unsigned int gi;
	uint32_t regions;

	for (gi = 0; gi < NGUESTS; gi++) {
		fx_mapped_pages(0, guests[gi].dom, &regions);
		if (regions > MAX_REGIONS) {
			fprintf(stderr, "fuzz-bus: dom0 holds %u mappings of "
				"domain %u\n", regions, guests[gi].dom);
			abort();
		}
		/* No server, or no bus: nothing of the guest stays mapped
		 * (closing the channels released what the service held). */
		if ((!guests[gi].srv ||
		     strcmp(vmbus_server_state(guests[gi].srv), "Connected")) &&
		    fx_mapped_pages(0, guests[gi].dom, NULL)) {
			fprintf(stderr, "fuzz-bus: domain %u still mapped with "
				"its bus %s\n", guests[gi].dom, guests[gi].srv ?
				vmbus_server_state(guests[gi].srv) : "gone");
			abort();
		}
	}
}

/* --- guest actions --- */

static void fe_path(const struct guest *g, const char *key, char *out,
		    size_t size)
{
	snprintf(out, size, "/local/domain/%u/device/vmbus/0/%s", g->dom, key);
}

static void fe_write(struct guest *g, const char *key, const char *val)
{
	char path[128];

	fe_path(g, key, path, sizeof(path));
	fx_xs_write(g->dom, path, val, (unsigned int)strlen(val));
}

static void fe_printf(struct guest *g, const char *key, unsigned long v)
{
	char val[24];

	snprintf(val, sizeof(val), "%lu", v);
	fe_write(g, key, val);
}

/* Grant the control rings and publish them; Initialised. */
static void guest_connect(struct guest *g, uint8_t b)
{
	uint32_t order = 2 + b % 3, i, half;
	char key[32];
	int ref;

	g->ctl_ok = false;
	g->ctl_pages = 1u << order;
	g->ctl = fx_alloc_pages(g->dom, g->ctl_pages);
	if (!g->ctl)
		return;
	half = g->ctl_pages / 2 * FX_PAGE_SIZE;
	vmbus_ring_hdr_init(g->ctl, half, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	vmbus_ring_hdr_init(g->ctl + half, half, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	g->ctl_port = fx_port_alloc(g->dom, 0);
	if (vmbus_ring_init(&g->ring, g->ctl, half, g->ctl + half, half,
			    guest_signal_ctl, g) < 0 || g->ctl_port < 0)
		return;
	fe_printf(g, "ring-page-order", order);
	for (i = 0; i < g->ctl_pages; i++) {
		ref = fx_grant(g->dom, g->ctl + i * FX_PAGE_SIZE, 0,
			       b & 0x80 && i == 1);
		snprintf(key, sizeof(key), "ring-ref%u", i);
		fe_printf(g, key, (unsigned long)(uint32_t)ref);
	}
	fe_printf(g, "event-channel", (unsigned long)g->ctl_port);
	fe_write(g, "version", "1.1");
	g->ctl_ok = true;
	fe_write(g, "state", "3");
}

static int guest_send(struct guest *g, struct vmbus_msg *m)
{
	uint8_t wire[VMBUS_MSG_MAX_SIZE];
	int len;

	if (!g->ctl_ok)
		return -ENOTCONN;
	len = vmbus_msg_encode(m, wire, sizeof(wire));
	if (len < 0)
		return len;
	return vmbus_ring_send_inband(&g->ring, wire, (size_t)len, 0, 0);
}

static uint32_t pick_relid(struct guest *g, struct rd *r)
{
	uint8_t b = u8(r);

	switch (b & 7) {
	case 6:
		return g->nrelids ? g->relids[(b >> 3) % g->nrelids] : 1;
	case 7:
		return u32(r);
	default:
		return b & 7;
	}
}

static uint32_t pick_gpadl(struct guest *g, struct rd *r)
{
	uint8_t b = u8(r);

	switch (b & 7) {
	case 0:
		return 0;
	case 7:
		return u32(r);
	case 6:
		return g->ch[(b >> 3) % MAX_CH].gpadl;
	default:
		return g->ngp ? g->gp[((b & 7) - 1 + (b >> 3)) % g->ngp].id :
				b & 7;
	}
}

static uint32_t pick_version(uint8_t b)
{
	static const uint32_t v[] = {
		VMBUS_VERSION(1, 0), VMBUS_VERSION(1, 1), VMBUS_VERSION(2, 0),
		VMBUS_PIPE_VERSION_1_0, VMBUS_VERSION(3, 0), 0xffffffff,
	};

	return v[b % (sizeof(v) / sizeof(v[0]))];
}

/* Grant @pages pages to @grantee and send them as GPADL @id on @relid. */
static uint32_t guest_gpadl(struct guest *g, uint32_t relid, uint32_t id,
			    uint8_t *mem, uint32_t pages, unsigned int grantee,
			    uint8_t shape, uint8_t trunc)
{
	static struct vmbus_msg msgs[64];
	uint32_t refs[64], i, nranges = 1 + shape % 3, per, off;
	struct vmbus_gpa_desc rg[3];
	int n, ref;

	if (pages > 64 || !pages)
		return 0;
	for (i = 0; i < pages; i++) {
		ref = fx_grant(g->dom, mem + i * FX_PAGE_SIZE, grantee,
			       (shape & 0x10) != 0);
		refs[i] = (uint32_t)ref;
		if (shape & 0x20)	/* the same page again and again */
			refs[i] = refs[0];
	}
	if (shape & 0x40)
		refs[pages - 1] = 0xffff;
	if (nranges > pages)
		nranges = pages;
	per = pages / nranges;
	for (i = 0; i < nranges; i++) {
		uint32_t cnt = i + 1 == nranges ? pages - per * i : per;

		off = (shape & 0x80) ? 17 : 0;
		rg[i] = (struct vmbus_gpa_desc){
			.byte_count = cnt * FX_PAGE_SIZE - off - ((shape & 8) ? 1 : 0),
			.byte_offset = off,
			.gref_count = cnt,
			.grefs = refs + per * i,
		};
	}
	n = vmbus_gpadl_build(msgs, 64, relid, id, rg, nranges);
	if (n <= 0)
		return 0;
	if (trunc % 4 == 3 && n > 1)
		n--;		/* a body never comes */
	for (i = 0; i < (uint32_t)n; i++)
		if (guest_send(g, &msgs[i]) < 0)
			break;
	if (g->ngp < MAX_GP)
		g->gp[g->ngp++] = (struct g_gpadl){ id, relid, pages };
	else
		g->gp[id % MAX_GP] = (struct g_gpadl){ id, relid, pages };
	return id;
}

/* OPENCHANNEL as a client makes it: ring GPADL, port, then the message. */
static void guest_open(struct guest *g, struct rd *r)
{
	uint32_t relid = pick_relid(g, r);
	uint8_t f = u8(r), rpb = u8(r);
	uint32_t rp = 2 + rpb % 4, id;
	unsigned int peer = g == &guests[0] ? guests[1].dom : guests[0].dom;
	unsigned int to = (f & 1) ? peer : 0;
	struct g_chan *ch = &g->ch[relid % MAX_CH];
	struct vmbus_msg m;
	size_t half;

	vmbus_msg_init(&m, VMBUS_MSG_OPENCHANNEL);
	m.u.open.child_relid = relid;
	m.u.open.open_id = ++g->next_open;
	m.u.open.class_version = pick_version(f >> 4);
	if (f & 2) {		/* the acceptor of a peer channel grants none */
		guest_send(g, &m);
		return;
	}
	ch->used = false;	/* a new channel in this slot, or none */
	ch->mem = fx_alloc_pages(g->dom, 2 * rp);
	if (!ch->mem)
		return;
	half = (size_t)rp * FX_PAGE_SIZE;
	vmbus_ring_hdr_init(ch->mem, half, VMBUS_RING_FEAT_PENDING_SEND_SZ);
	vmbus_ring_hdr_init(ch->mem + half, half,
			    VMBUS_RING_FEAT_PENDING_SEND_SZ);
	ch->dom = g->dom;
	ch->relid = relid;
	ch->rp = rp;
	ch->port = fx_port_alloc(g->dom, to);
	if (vmbus_ring_init(&ch->ring, ch->mem, half, ch->mem + half, half,
			    guest_signal_chan, ch) < 0)
		return;
	ch->used = true;
	id = ++g->next_gpadl;
	ch->gpadl = guest_gpadl(g, relid, id, ch->mem, 2 * rp, to, f & 4 ? 0x10 : 0,
				0);
	m.u.open.ring_gpadl = (f & 8) ? pick_gpadl(g, r) : id;
	m.u.open.downstream_page_offset = (rpb & 0x80) ? u8(r) : rp;
	m.u.open.event_channel = (uint32_t)ch->port;
	guest_send(g, &m);
}

/* What the server sent: learn relids and peer opens, drop the rest. */
static void guest_drain(struct guest *g)
{
	uint64_t buf[(VMBUS_MSG_MAX_SIZE + 64) / 8 + 512];
	struct vmbus_pkt pkt;
	struct vmbus_msg m;
	unsigned int i, n;
	int rc;

	for (n = 0; g->ctl_ok && n < 512; n++) {
		rc = vmbus_ring_recv(&g->ring, &pkt, buf, sizeof(buf));
		if (rc == -EMSGSIZE) {
			vmbus_ring_consume(&g->ring);
			continue;
		}
		if (rc < 0)
			break;
		if (pkt.type != VMBUS_PKT_DATA_INBAND ||
		    vmbus_msg_decode(&m, pkt.data, pkt.data_len,
				     VMBUS_MSG_DIR_S2C) < 0)
			continue;
		switch (m.u.hdr.msgtype) {
		case VMBUS_MSG_OFFERCHANNEL:
			if (g->nrelids < MAX_RELIDS)
				g->relids[g->nrelids++] = m.u.offer.child_relid;
			break;
		case VMBUS_MSG_PEER_OPEN:
			g->peer_open_id = m.u.peer_open.open_id;
			g->peer_relid = m.u.peer_open.child_relid;
			break;
		default:
			break;
		}
	}
	for (i = 0; i < MAX_CH; i++) {
		struct g_chan *ch = &g->ch[i];

		for (n = 0; ch->used && n < 64; n++) {
			rc = vmbus_ring_recv(&ch->ring, &pkt, buf, sizeof(buf));
			if (rc == -EMSGSIZE)
				rc = vmbus_ring_consume(&ch->ring);
			if (rc < 0)
				break;
		}
	}
}

static void guest_msg(struct guest *g, uint8_t op, struct rd *r)
{
	struct vmbus_msg m;
	uint8_t b;
	unsigned int i;

	switch (op) {
	case OP_CONTACT:
		b = u8(r);
		vmbus_msg_init(&m, VMBUS_MSG_INITIATE_CONTACT);
		m.u.initiate_contact.version_count = 1 + b % 3;
		for (i = 0; i < m.u.initiate_contact.version_count; i++)
			m.u.initiate_contact.versions[i] = pick_version(b >> 2 >> i);
		m.u.initiate_contact.version_requested =
			m.u.initiate_contact.versions[0];
		break;
	case OP_REQOFFERS:
		vmbus_msg_init(&m, VMBUS_MSG_REQUESTOFFERS);
		break;
	case OP_CLOSE:
		vmbus_msg_init(&m, VMBUS_MSG_CLOSECHANNEL);
		m.u.relid.child_relid = pick_relid(g, r);
		break;
	case OP_TEARDOWN:
		vmbus_msg_init(&m, VMBUS_MSG_GPADL_TEARDOWN);
		m.u.gpadl_teardown.child_relid = pick_relid(g, r);
		m.u.gpadl_teardown.gpadl_id = pick_gpadl(g, r);
		break;
	case OP_RELEASED:
		vmbus_msg_init(&m, VMBUS_MSG_RELID_RELEASED);
		m.u.relid.child_relid = pick_relid(g, r);
		break;
	case OP_UNLOAD:
		vmbus_msg_init(&m, VMBUS_MSG_UNLOAD);
		break;
	default:	/* OP_PEER_RESULT */
		b = u8(r);
		vmbus_msg_init(&m, VMBUS_MSG_PEER_OPEN_RESULT);
		m.u.open_result.child_relid = b & 1 ? pick_relid(g, r) :
						      g->peer_relid;
		m.u.open_result.open_id = b & 2 ? u32(r) : g->peer_open_id;
		m.u.open_result.status = (b >> 2) % (VMBUS_STATUS_MAX + 1);
		break;
	}
	guest_send(g, &m);
}

/* A control packet as the guest likes: any type and length. */
static void guest_raw(struct guest *g, struct rd *r, bool pkt)
{
	uint8_t data[1024];
	uint16_t type = pkt ? u8(r) : VMBUS_PKT_DATA_INBAND;
	size_t len = u8(r), i;
	uint32_t mt = u8(r);

	if (pkt)
		len *= 4;
	for (i = 0; i < len && i < sizeof(data); i++)
		data[i] = u8(r);
	if (len >= 4)
		memcpy(data, &mt, 4);
	if (!g->ctl_ok)
		return;
	if (type == VMBUS_PKT_DATA_INBAND)
		vmbus_ring_send_inband(&g->ring, data, len, 0, 0);
	else
		vmbus_ring_send(&g->ring, type, 0, 0, data, len & ~7u, NULL, 0);
}

/* A packet on a channel ring, guest to dom0. */
static void guest_chan_pkt(struct guest *g, struct rd *r)
{
	struct g_chan *ch = &g->ch[u8(r) % MAX_CH];
	uint8_t kind = u8(r), flags = u8(r) & 1, data[64] = { 0 };
	struct vmbus_pkt_range rg[3];
	struct vmbus_pkt_xfer_pageset ps;
	uint32_t i, nr = 1 + (kind >> 4) % 3;
	uint64_t trans = u8(r);

	for (i = 0; i < nr; i++) {
		rg[i].byte_count = u16(r);
		rg[i].byte_offset = u16(r) * 16u;
	}
	if (!ch->used)
		return;
	memset(&ps, 0, sizeof(ps));
	switch (kind % 8) {
	case 0:
		vmbus_ring_send_inband(&ch->ring, data, kind % 64, trans, flags);
		break;
	case 1:
	case 2:
		ps.gpadl_id = pick_gpadl(g, r);
		ps.pageset_id = u8(r) % 20;
		vmbus_ring_send(&ch->ring, kind % 8 == 1 ?
				VMBUS_PKT_ADD_XFER_PAGESET :
				VMBUS_PKT_RM_XFER_PAGESET, flags, trans,
				(uint8_t *)&ps + sizeof(ps.desc),
				sizeof(ps) - sizeof(ps.desc), NULL, 0);
		break;
	case 3:
		vmbus_ring_send_gpadl(&ch->ring, pick_gpadl(g, r), rg, nr, trans,
				      flags, data, kind % 16);
		break;
	case 4:
		vmbus_ring_send_xferpage(&ch->ring, u8(r) % 20, true, rg, nr,
					 trans, flags, data, kind % 16);
		break;
	case 5:
		vmbus_ring_send_comp(&ch->ring, trans, data, 8);
		break;
	case 6:
		vmbus_ring_send(&ch->ring, u8(r), flags, trans, rg,
				nr * sizeof(rg[0]), data, 8);
		break;
	default:
		/* Many packets at once, then one signal. */
		vmbus_ring_tx_begin(&ch->ring);
		for (i = 0; i < 40u + kind; i++)
			if (vmbus_ring_send_inband(&ch->ring, data, 24, i, 1) < 0)
				break;
		vmbus_ring_tx_commit(&ch->ring);
		break;
	}
}

/* The guest writes into a ring header what it likes. */
static void guest_corrupt(struct guest *g, struct rd *r)
{
	uint8_t w = u8(r), f = u8(r);
	uint32_t v = u32(r);
	uint8_t *hdr;

	if (w & 1) {
		struct g_chan *ch = &g->ch[(w >> 1) % MAX_CH];

		if (!ch->used)
			return;
		hdr = ch->mem + ((w & 0x80) ? ch->rp * FX_PAGE_SIZE : 0);
	} else {
		if (!g->ctl_ok)
			return;
		hdr = g->ctl + ((w & 0x80) ? g->ctl_pages / 2 * FX_PAGE_SIZE : 0);
	}
	/* write_index, read_index, interrupt_mask, pending_send_sz, data */
	if (f % 5 == 4)
		memcpy(hdr + FX_PAGE_SIZE + (f & 0x3f) * 8, &v, 4);
	else
		memcpy(hdr + (f % 5) * 4, &v, 4);
}

static void guest_xs(struct guest *g, struct rd *r)
{
	static const char *const keys[] = {
		"state", "ring-page-order", "ring-ref0", "ring-ref1",
		"event-channel", "version", "ring-ref3", "ring-ref15",
	};
	uint8_t k = u8(r), v = u8(r);
	char path[128], val[24];

	fe_path(g, keys[k % 8], path, sizeof(path));
	if (k & 0x80) {
		fx_xs_rm(g->dom, path);
		return;
	}
	switch (v >> 6) {
	case 0:
		snprintf(val, sizeof(val), "%u", v & 0x3f);
		break;
	case 1:
		snprintf(val, sizeof(val), "%u", u32(r));
		break;
	case 2:
		snprintf(val, sizeof(val), "%s", (v & 1) ? "" : "4x");
		break;
	default:
		snprintf(val, sizeof(val), "-%u", v & 0x3f);
		break;
	}
	fx_xs_write(g->dom, path, val, (unsigned int)strlen(val));
}

/* --- dom0 service actions --- */

static void svc_recv(unsigned int gi, struct rd *r)
{
	struct vmbus_chan *c = svc_chan(gi, u8(r));
	uint8_t n = u8(r) % 16, mode = u8(r);
	uint64_t buf[512];
	struct vmbus_rxpkt rx;
	int rc;

	while (c && n--) {
		/*
		 * A transfer-page packet that asked for no completion points
		 * into its set only until the channel's next receive: the
		 * service is done with it before each one.
		 */
		if (hold.c == c && !hold.by_gpadl && !hold.want_comp)
			memset(&hold, 0, sizeof(hold));
		rc = vmbus_chan_recv_pkt(c, &rx, buf, (mode & 1) ? 64 : sizeof(buf));
		if (rc == -EAGAIN || rc == -ENOTCONN)
			break;
		if (rc == -EMSGSIZE)
			break;
		if (rc == 0 && rx.nranges) {
			uint8_t *p = vmbus_rxpkt_ptr(&rx, 0);
			uint32_t len = rx.ranges[0].byte_count;

			/* Use what the packet names; keep one for later. */
			svc_sink += p[0] + p[len - 1];
			if ((mode & 2) && !hold.c) {
				hold = (struct svc_hold){ c, rx.trans_id,
							  rx.flags & 1, p, len,
							  rx.writable,
							  rx.type == VMBUS_PKT_DATA_USING_GPADL,
							  rx.id };
				continue;
			}
		}
		if ((rc == 0 || rc == -EBADMSG) && (rx.flags & 1))
			vmbus_chan_send_comp(c, rx.trans_id, NULL, 0);
	}
}

static void svc_complete(void)
{
	if (!hold.c)
		return;
	if (hold_gone()) {
		memset(&hold, 0, sizeof(hold));
		return;
	}
	svc_sink += hold.p[0] + hold.p[hold.len - 1];
	if (hold.writable)
		hold.p[0] = 1;
	if (hold.want_comp)
		vmbus_chan_send_comp(hold.c, hold.trans_id, NULL, 0);
	memset(&hold, 0, sizeof(hold));
}

static void svc_map(unsigned int gi, struct rd *r)
{
	struct vmbus_chan *c = svc_chan(gi, u8(r));
	uint32_t id = pick_gpadl(&guests[gi], r);
	unsigned int i = u8(r) % MAX_HANDLES;

	if (!c || handles[i])
		return;
	vmbus_gpadl_map(c, id, &handles[i]);
}

static void svc_touch(struct rd *r)
{
	struct vmbus_gpadl *h = handles[u8(r) % MAX_HANDLES];
	uint64_t off = u16(r) * 8u, len = 1 + u16(r);
	uint8_t *p;

	p = vmbus_gpadl_ptr(h, off, len, h && vmbus_gpadl_writable(h));
	if (p) {
		svc_sink += p[0] + p[len - 1];
		if (vmbus_gpadl_writable(h))
			p[len - 1] = 0x5a;
	}
	if (h)
		svc_sink += vmbus_gpadl_size(h) + vmbus_gpadl_id(h);
}

static void svc_send(unsigned int gi, struct rd *r)
{
	struct vmbus_chan *c = svc_chan(gi, u8(r));
	uint8_t kind = u8(r);
	struct vmbus_gpadl *h = handles[kind % MAX_HANDLES];
	struct vmbus_range rg = { 1 + u16(r), u16(r) };
	uint64_t id = kind;
	char data[32] = "from dom0";

	if (!c)
		return;
	switch (kind >> 6) {
	case 0:
		vmbus_chan_send(c, data, kind % 32, id, kind & 1);
		break;
	case 1:
		if (h)
			vmbus_chan_send_gpa(c, vmbus_gpadl_id(h), &rg, 1, data,
					    8, id, true);
		break;
	case 2:
		if (vmbus_chan_trans_alloc(c, NULL, &id) == 0 &&
		    vmbus_chan_send_xfer(c, kind % 20, &rg, 1, data, 8, id,
					 true) < 0)
			vmbus_chan_trans_cancel(c, id, NULL);
		break;
	default:
		vmbus_chan_send_raw(c, kind & 0xf, 0, id, NULL, 0, data, 16);
		break;
	}
}

/*
 * The service lets go of mapping @i; a packet it holds that points into
 * that GPADL is finished first, as a service must (its memory may go with
 * the last mapping).
 */
static void svc_unmap_handle(unsigned int i)
{
	if (handles[i] && hold.c && hold.by_gpadl &&
	    hold.gpadl_id == vmbus_gpadl_id(handles[i]))
		svc_complete();
	vmbus_gpadl_unmap(handles[i]);
	handles[i] = NULL;
}

static void svc_unmap(struct rd *r)
{
	svc_unmap_handle(u8(r) % MAX_HANDLES);
}

/* --- a libvmbus client in domain 3, against a server the fuzzer plays --- */

#define CLI_DOM		3
/* Tags of the client's handles in fake-xen (the servers use 1 and 2). */
#define CLI_TAG_BUS	10
#define CLI_TAG_CHAN	11
#define CLI_CH		4
#define CLI_GP		6
#define CLI_TIMEOUT	20	/* ms of the fake clock: passes when nothing answers */
#define SS_CH		8
#define SS_GP		8
#define CLI_BE		"/local/domain/0/backend/vmbus/3/0"
#define CLI_FE		"/local/domain/3/device/vmbus/0"

struct ss_gpadl {
	uint32_t id;
	uint32_t relid;
	uint32_t pages;
	uint8_t *mem;
};

struct ss_chan {
	bool used;
	uint32_t relid;
	uint32_t open_id;		/* of the client's OPENCHANNEL */
	int lport;
	struct vmbus_ring ring;
};

/* The server of domain 3, played by the fuzzer. */
static struct {
	bool connected;
	bool dead;
	uint8_t *ctl;
	uint32_t pages;
	int lport;
	struct vmbus_ring ring;
	struct vmbus_gpadl_asm gasm;
	struct ss_gpadl gp[SS_GP];
	unsigned int ngp;
	struct ss_chan ch[SS_CH];
	uint32_t peer_open_id;
	uint8_t *peer_mem;		/* domain 1's rings, granted to domain 3 */
	int peer_port;
	struct rd *script;
} ss;

static uint8_t ss_asmbuf[VMBUS_GPADL_MAX_BUFLEN];
static struct vmbus_bus *cbus;
static struct vmbus_chan *cchan[CLI_CH];
static struct vmbus_gpadl *cgp[CLI_GP];
static bool in_hook;

static void ss_signal(void *arg)
{
	fx_notify(0, (unsigned int)*(int *)arg);
}

static void ss_send(struct vmbus_msg *m)
{
	uint8_t wire[VMBUS_MSG_MAX_SIZE];
	int len = vmbus_msg_encode(m, wire, sizeof(wire));

	if (len > 0 && ss.connected)
		vmbus_ring_send_inband(&ss.ring, wire, (size_t)len, 0, 0);
}

static void ss_set_state(const char *st)
{
	fx_xs_write(0, CLI_BE "/state", st, (unsigned int)strlen(st));
}

/* The server dies: ring broken, port closed, backend Closed. */
static void ss_die(void)
{
	uint32_t bad = 0xfffffff0u;
	unsigned int i;

	if (ss.connected) {
		memcpy(ss.ctl + ss.pages / 2 * FX_PAGE_SIZE, &bad, 4);
		fx_notify(0, (unsigned int)ss.lport);
		fx_port_close(0, (unsigned int)ss.lport);
	}
	for (i = 0; i < SS_CH; i++)
		if (ss.ch[i].used)
			fx_port_close(0, (unsigned int)ss.ch[i].lport);
	memset(ss.ch, 0, sizeof(ss.ch));
	ss.connected = false;
	ss.dead = true;
	ss_set_state("6");
}

static void ss_offer(uint32_t relid, uint16_t flags, uint16_t pflags,
		     uint32_t version)
{
	struct vmbus_msg m;

	vmbus_msg_init(&m, VMBUS_MSG_OFFERCHANNEL);
	m.u.offer.child_relid = relid;
	m.u.offer.if_type.b[0] = (uint8_t)relid;
	m.u.offer.channel_flags = flags;
	m.u.offer.class_version_count = 1;
	m.u.offer.class_versions[0] = version;
	if (flags & VMBUS_OFFER_FLAG_NAMED_PIPE)
		memcpy(m.u.offer.user_data + VMBUS_PIPE_NAME_OFFSET, "fuzz", 5);
	if (pflags) {
		m.u.offer.peer_domid = 1;
		m.u.offer.peer_flags = pflags;
	}
	ss_send(&m);
}

/* Domain 1's rings for the channel domain 3 accepts: PEER_GPADL, PEER_OPEN. */
static void ss_peer_open(const struct vmbus_msg_open_channel *op)
{
	static struct vmbus_msg msgs[4];
	uint32_t refs[4], i;
	struct vmbus_gpa_desc rg = { 4 * FX_PAGE_SIZE, 0, 4, refs };
	struct vmbus_msg m;
	int n;

	if (!ss.peer_mem)
		ss.peer_mem = fx_alloc_pages(1, 4);
	if (!ss.peer_mem)
		return;
	vmbus_ring_hdr_init(ss.peer_mem, 2 * FX_PAGE_SIZE,
			    VMBUS_RING_FEAT_PENDING_SEND_SZ);
	vmbus_ring_hdr_init(ss.peer_mem + 2 * FX_PAGE_SIZE, 2 * FX_PAGE_SIZE,
			    VMBUS_RING_FEAT_PENDING_SEND_SZ);
	for (i = 0; i < 4; i++)
		refs[i] = (uint32_t)fx_grant(1, ss.peer_mem + i * FX_PAGE_SIZE,
					     CLI_DOM, false);
	n = vmbus_gpadl_build(msgs, 4, op->child_relid, 0x70, &rg, 1);
	if (n < 0)
		return;
	vmbus_gpadl_to_peer(msgs, (uint32_t)n);
	for (i = 0; i < (uint32_t)n; i++)
		ss_send(&msgs[i]);
	ss.peer_port = fx_port_alloc(1, CLI_DOM);
	vmbus_msg_init(&m, VMBUS_MSG_PEER_OPEN);
	m.u.peer_open.child_relid = op->child_relid;
	m.u.peer_open.open_id = ++ss.peer_open_id;
	m.u.peer_open.ring_gpadl = 0x70;
	m.u.peer_open.downstream_page_offset = 2;
	m.u.peer_open.event_channel = (uint32_t)ss.peer_port;
	m.u.peer_open.class_version = op->class_version;
	m.u.peer_open.peer_domid = 1;
	ss_send(&m);
}

static void ss_open(const struct vmbus_msg_open_channel *op,
		    struct vmbus_msg *r)
{
	struct ss_chan *ch = &ss.ch[op->child_relid % SS_CH];
	struct ss_gpadl *g = NULL;
	size_t down, up;
	unsigned int i;

	vmbus_msg_init(r, VMBUS_MSG_OPENCHANNEL_RESULT);
	r->u.open_result.child_relid = op->child_relid;
	r->u.open_result.open_id = op->open_id;
	if (op->child_relid == 3) {		/* domain 3 accepts */
		ch->relid = 3;
		ch->open_id = op->open_id;
		ss_peer_open(op);
		r->len = 0;			/* answered after PEER_OPEN_RESULT */
		return;
	}
	for (i = 0; i < ss.ngp; i++)
		if (ss.gp[i].id == op->ring_gpadl)
			g = &ss.gp[i];
	if (!g || !g->mem || op->downstream_page_offset < 2 ||
	    op->downstream_page_offset + 2 > g->pages || ch->used) {
		r->u.open_result.status = VMBUS_STATUS_INVALID;
		return;
	}
	down = (size_t)op->downstream_page_offset * FX_PAGE_SIZE;
	up = (size_t)g->pages * FX_PAGE_SIZE - down;
	/* A channel to domain 1 (relid 4): the peer would map it; we do. */
	ch->lport = fx_port_bind(op->child_relid == 4 ? 1 : 0, CLI_DOM,
				 op->event_channel);
	if (vmbus_ring_init(&ch->ring, g->mem + down, up, g->mem, down,
			    ss_signal, &ch->lport) < 0) {
		r->u.open_result.status = VMBUS_STATUS_INVALID;
		return;
	}
	ch->used = true;
	ch->relid = op->child_relid;
}

static void ss_gpadl_done(struct vmbus_msg *r)
{
	struct vmbus_gpa_desc rg[4];
	static uint32_t grefs[VMBUS_GPADL_MAX_PAGES];
	uint32_t nr, ng, id = ss.gasm.gpadl_id, relid = ss.gasm.child_relid;
	struct ss_gpadl *g = &ss.gp[ss.ngp < SS_GP ? ss.ngp++ : id % SS_GP];
	int rc;

	rc = vmbus_gpadl_asm_finish(&ss.gasm, rg, 4, &nr, grefs,
				    VMBUS_GPADL_MAX_PAGES, &ng);
	vmbus_msg_init(r, VMBUS_MSG_GPADL_CREATED);
	r->u.gpadl_created.child_relid = relid;
	r->u.gpadl_created.gpadl_id = id;
	r->u.gpadl_created.status = vmbus_status_from_errno(rc);
	*g = (struct ss_gpadl){ id, relid, ng, NULL };
	/* Granted pages are consecutive in domain 3 (xengntshr). */
	if (!rc && ng)
		g->mem = fx_grant_addr(CLI_DOM, grefs[0], relid == 4 ? 1 : 0);
	vmbus_gpadl_asm_init(&ss.gasm, ss_asmbuf, sizeof(ss_asmbuf));
}

/* A message a server should not send now, from the input. */
static void ss_hostile(uint8_t k)
{
	static struct vmbus_msg msgs[2];
	struct vmbus_gpa_desc rg;
	uint32_t refs[8] = { 8, 9, 10, 11, 12, 13, 14, 15 };
	struct vmbus_msg m;
	uint8_t a = u8(ss.script);
	int n;

	switch (k % 10) {
	case 0:
		vmbus_msg_init(&m, VMBUS_MSG_RESCIND_CHANNELOFFER);
		m.u.relid.child_relid = a % 6;
		break;
	case 1:
		ss_offer(a % 8, a & 0x10 ? VMBUS_OFFER_FLAG_NAMED_PIPE : 0,
			 a & 0x20 ? VMBUS_OFFER_PEER_VALID |
			 (a & 0x40 ? VMBUS_OFFER_PEER_OPENER : 0) : 0,
			 VMBUS_VERSION(1, 0));
		return;
	case 2:
		vmbus_msg_init(&m, VMBUS_MSG_GPADL_TORNDOWN);
		m.u.gpadl_torndown.gpadl_id = a % 8;
		break;
	case 3:
		vmbus_msg_init(&m, VMBUS_MSG_GPADL_CREATED);
		m.u.gpadl_created.child_relid = a % 6;
		m.u.gpadl_created.gpadl_id = u8(ss.script) % 8;
		m.u.gpadl_created.status = (a >> 4) % (VMBUS_STATUS_MAX + 1);
		break;
	case 4:
		vmbus_msg_init(&m, VMBUS_MSG_OPENCHANNEL_RESULT);
		m.u.open_result.child_relid = a % 6;
		m.u.open_result.open_id = u8(ss.script) % 8;
		m.u.open_result.status = (a >> 4) % (VMBUS_STATUS_MAX + 1);
		break;
	case 5:
		vmbus_msg_init(&m, VMBUS_MSG_VERSION_RESPONSE);
		m.u.version_response.version_supported = a & 1;
		m.u.version_response.version = pick_version(a >> 1);
		break;
	case 6:
		vmbus_msg_init(&m, VMBUS_MSG_UNLOAD_RESPONSE);
		break;
	case 7:
		rg = (struct vmbus_gpa_desc){ (1 + a % 8) * FX_PAGE_SIZE -
					      (a & 1), 0, 1 + a % 8, refs };
		n = vmbus_gpadl_build(msgs, 2, 3, a, &rg, 1);
		if (n > 0) {
			vmbus_gpadl_to_peer(msgs, (uint32_t)n);
			ss_send(&msgs[0]);
		}
		return;
	case 8:
		vmbus_msg_init(&m, VMBUS_MSG_PEER_OPEN);
		m.u.peer_open.child_relid = 3;
		m.u.peer_open.open_id = a;
		m.u.peer_open.ring_gpadl = u8(ss.script);
		m.u.peer_open.downstream_page_offset = a % 4;
		m.u.peer_open.event_channel = a % 8;
		m.u.peer_open.class_version = VMBUS_VERSION(1, 0);
		m.u.peer_open.peer_domid = 1;
		break;
	default:
		vmbus_msg_init(&m, VMBUS_MSG_ALLOFFERS_DELIVERED);
		break;
	}
	ss_send(&m);
}

/* One message from the client: answer as the script says. */
static void ss_msg(const struct vmbus_msg *m)
{
	uint8_t how = u8(ss.script);
	struct vmbus_msg r;
	struct ss_chan *ch;
	int rc;

	r.len = 0;
	switch (m->u.hdr.msgtype) {
	case VMBUS_MSG_INITIATE_CONTACT:
		vmbus_msg_init(&r, VMBUS_MSG_VERSION_RESPONSE);
		r.u.version_response.version_supported = 1;
		r.u.version_response.version = VMBUS_BUS_VERSION_1_1;
		break;
	case VMBUS_MSG_REQUESTOFFERS:
		if (how >= 0xe0 && how < 0xf0)
			break;
		ss_offer(1, 0, 0, VMBUS_VERSION(1, 0));
		ss_offer(2, VMBUS_OFFER_FLAG_NAMED_PIPE, 0,
			 VMBUS_PIPE_VERSION_1_0);
		ss_offer(3, 0, VMBUS_OFFER_PEER_VALID, VMBUS_VERSION(1, 0));
		ss_offer(4, 0, VMBUS_OFFER_PEER_VALID | VMBUS_OFFER_PEER_OPENER,
			 VMBUS_VERSION(1, 0));
		vmbus_msg_init(&r, VMBUS_MSG_ALLOFFERS_DELIVERED);
		break;
	case VMBUS_MSG_GPADL_HEADER:
	case VMBUS_MSG_GPADL_BODY:
		rc = m->u.hdr.msgtype == VMBUS_MSG_GPADL_HEADER ?
		     vmbus_gpadl_asm_header(&ss.gasm, m) :
		     vmbus_gpadl_asm_body(&ss.gasm, m);
		if (rc == 0)
			ss_gpadl_done(&r);
		else if (rc < 0)
			vmbus_gpadl_asm_init(&ss.gasm, ss_asmbuf,
					     sizeof(ss_asmbuf));
		break;
	case VMBUS_MSG_OPENCHANNEL:
		ss_open(&m->u.open, &r);
		break;
	case VMBUS_MSG_CLOSECHANNEL:
		ch = &ss.ch[m->u.relid.child_relid % SS_CH];
		if (ch->used)
			fx_port_close(ch->relid == 4 ? 1 : 0,
				      (unsigned int)ch->lport);
		memset(ch, 0, sizeof(*ch));
		break;
	case VMBUS_MSG_GPADL_TEARDOWN:
		vmbus_msg_init(&r, VMBUS_MSG_GPADL_TORNDOWN);
		r.u.gpadl_torndown.gpadl_id = m->u.gpadl_teardown.gpadl_id;
		break;
	case VMBUS_MSG_UNLOAD:
		vmbus_msg_init(&r, VMBUS_MSG_UNLOAD_RESPONSE);
		break;
	case VMBUS_MSG_PEER_OPEN_RESULT:
		ch = &ss.ch[m->u.open_result.child_relid % SS_CH];
		vmbus_msg_init(&r, VMBUS_MSG_OPENCHANNEL_RESULT);
		r.u.open_result.child_relid = m->u.open_result.child_relid;
		r.u.open_result.open_id = ch->open_id;
		r.u.open_result.status = m->u.open_result.status;
		break;
	default:		/* RELID_RELEASED */
		break;
	}
	if (how >= 0xe0 && how < 0xf0)
		return;		/* no answer */
	if (how >= 0xd0 && how < 0xe0 && r.len) {
		uint8_t at = u8(ss.script);

		/* A field changed: bytes after the type. */
		r.u.raw[8 + at % (r.len > 8 ? r.len - 8 : 1)] = u8(ss.script);
	}
	if (r.len)
		ss_send(&r);
	if (how >= 0xf0)
		ss_hostile(how);
}

/* Connect to domain 3's frontend once it is Initialised. */
static void ss_connect(void)
{
	char v[32];
	unsigned long order, ref, port;

	if (fx_xs_read(CLI_FE "/state", v, sizeof(v)) < 0 || strcmp(v, "3") ||
	    fx_xs_read(CLI_FE "/ring-page-order", v, sizeof(v)) < 0 ||
	    (order = strtoul(v, NULL, 10)) < 2 || order > 4 ||
	    fx_xs_read(CLI_FE "/ring-ref0", v, sizeof(v)) < 0)
		return;
	ref = strtoul(v, NULL, 10);
	if (fx_xs_read(CLI_FE "/event-channel", v, sizeof(v)) < 0)
		return;
	port = strtoul(v, NULL, 10);
	ss.pages = 1u << order;
	ss.ctl = fx_grant_addr(CLI_DOM, (uint32_t)ref, 0);
	ss.lport = fx_port_bind(0, CLI_DOM, (unsigned int)port);
	if (!ss.ctl || ss.lport < 0 ||
	    vmbus_ring_init(&ss.ring, ss.ctl + ss.pages / 2 * FX_PAGE_SIZE,
			    ss.pages / 2 * FX_PAGE_SIZE, ss.ctl,
			    ss.pages / 2 * FX_PAGE_SIZE, ss_signal,
			    &ss.lport) < 0)
		return;
	ss.connected = true;
	ss_set_state("4");
}

/* The server's turn: handshake, then the control messages it got. */
static void ss_step(void)
{
	uint64_t buf[(VMBUS_MSG_MAX_SIZE + 64) / 8];
	struct vmbus_pkt pkt;
	struct vmbus_msg m;
	char v[8];
	int rc, n;

	if (ss.dead)
		return;
	if (fx_xs_read(CLI_FE "/state", v, sizeof(v)) >= 0 &&
	    (!strcmp(v, "5") || !strcmp(v, "6"))) {
		/* The frontend closes: so do we, and say so. */
		if (ss.connected) {
			fx_port_close(0, (unsigned int)ss.lport);
			ss.connected = false;
		}
		ss_set_state("6");
		return;
	}
	if (!ss.connected) {
		ss_connect();
		return;
	}
	for (n = 0; n < 64; n++) {
		rc = vmbus_ring_recv(&ss.ring, &pkt, buf, sizeof(buf));
		if (rc == -EMSGSIZE) {
			vmbus_ring_consume(&ss.ring);
			continue;
		}
		if (rc < 0)
			break;
		if (pkt.type == VMBUS_PKT_DATA_INBAND &&
		    vmbus_msg_decode(&m, pkt.data, pkt.data_len,
				     VMBUS_MSG_DIR_C2S) == 0)
			ss_msg(&m);
	}
}

static void cli_hook(unsigned int dom, bool waiting)
{
	unsigned int saved = fx_cur_dom;

	if (dom != CLI_DOM || in_hook)
		return;
	in_hook = true;
	ss_step();
	/*
	 * Nothing on what the client polls (its xenstore and control event
	 * channel handles, tagged CLI_TAG_BUS; not its channels'): it would
	 * sleep to its deadline.
	 */
	if (waiting && !fx_pending(CLI_TAG_BUS) && !ss.dead)
		ss_die();
	fx_cur_dom = saved;
	in_hook = false;
}

static struct vmbus_chan *cli_chan(uint8_t b)
{
	return cchan[b % CLI_CH];
}

static void cli_forget_chans(void)
{
	memset(cchan, 0, sizeof(cchan));
}

static void cli_op(uint8_t op, uint8_t b, struct rd *r)
{
	struct vmbus_chan *c = cli_chan(b >> 1);
	uint64_t buf[512], id;
	struct vmbus_rxpkt rx;
	struct vmbus_range rg;
	struct vmbus_offer offs[8];
	struct ss_chan *sc;
	uint8_t a, k;
	unsigned int i;
	char data[32] = "from the guest";

	fx_cur_dom = CLI_DOM;
	fx_cur_tag = op == OP_CLI_BUS_OPEN ? CLI_TAG_BUS : CLI_TAG_CHAN;
	ss.script = r;
	switch (op) {
	case OP_CLI_BUS_OPEN:
		if (!cbus && !ss.dead && vmbus_bus_open(&cbus, CLI_TIMEOUT) < 0)
			cbus = NULL;
		break;
	case OP_CLI_CHAN_OPEN:
		a = u8(r);
		i = (b >> 1) % CLI_CH;
		if (cbus && !cchan[i])
			vmbus_chan_open(cbus, 1 + a % 5, 2 + (a >> 3) % 3,
					(a & 0x80) ? 2 : 1, CLI_TIMEOUT,
					&cchan[i]);
		break;
	case OP_CLI_CHAN_CLOSE:
		if (c) {
			vmbus_chan_close(c);
			cchan[(b >> 1) % CLI_CH] = NULL;
		}
		break;
	case OP_CLI_GPADL:
		a = u8(r);
		i = a % CLI_GP;
		if (cgp[i]) {
			/* -EBUSY: a transfer page set uses it; nothing done. */
			if (vmbus_gpadl_destroy(cgp[i], CLI_TIMEOUT) != -EBUSY)
				cgp[i] = NULL;
		} else if (c) {
			vmbus_gpadl_create(c, 1 + (size_t)(a >> 3) * 3000,
					   (a & 4) ? VMBUS_GPADL_READONLY : 0,
					   CLI_TIMEOUT, &cgp[i]);
		}
		break;
	case OP_CLI_XFERSET:
		a = u8(r);
		if (!c)
			break;
		if (a & 1)
			vmbus_xferset_remove(c, (a >> 1) % 20, a, a & 2);
		else
			vmbus_xferset_add(c, cgp[(a >> 5) % CLI_GP],
					  (a >> 1) % 20, a, a & 2);
		break;
	case OP_CLI_SEND:
		a = u8(r);
		rg = (struct vmbus_range){ 1 + u16(r), u16(r) };
		if (!c)
			break;
		switch (a % 4) {
		case 0:
			vmbus_chan_send(c, data, a % 32, a, a & 4 ? 1 : 0);
			break;
		case 1:
			if (cgp[(a >> 2) % CLI_GP])
				vmbus_chan_send_gpa(c, vmbus_gpadl_id(cgp[(a >> 2) % CLI_GP]),
						    &rg, 1, data, 8, a, true);
			break;
		case 2:
			if (vmbus_chan_trans_alloc(c, data, &id) == 0 &&
			    vmbus_chan_send_xfer(c, (a >> 2) % 20, &rg, 1,
						 data, 4, id, true) < 0)
				vmbus_chan_trans_cancel(c, id, NULL);
			break;
		default:
			vmbus_chan_send_comp(c, a, data, a % 16);
			break;
		}
		break;
	case OP_CLI_RECV:
		a = u8(r);
		for (i = 0; c && i < 1u + a % 8; i++) {
			int rc = vmbus_chan_recv_pkt(c, &rx, buf,
						     (a & 0x80) ? 32 : sizeof(buf));

			if (rc == -EAGAIN || rc == -ENOTCONN || rc == -EMSGSIZE)
				break;
			if (rc == 0 && rx.nranges) {
				uint8_t *p = vmbus_rxpkt_ptr(&rx, 0);

				svc_sink += p[0] + p[rx.ranges[0].byte_count - 1];
			}
		}
		if (c)
			svc_sink += vmbus_chan_refused(c);
		break;
	case OP_CLI_SRV_PKT:
		a = u8(r);
		k = u8(r);
		sc = &ss.ch[a % SS_CH];
		{
			struct vmbus_pkt_range pr = { 1 + u16(r), u16(r) };
			struct vmbus_pkt_xfer_pageset ps;

			if (!sc->used || ss.dead)
				break;
			memset(&ps, 0, sizeof(ps));
			switch (k % 6) {
			case 0:
				vmbus_ring_send_inband(&sc->ring, data, k % 32, k,
						       k & 8 ? 1 : 0);
				break;
			case 1:
				vmbus_ring_send_comp(&sc->ring, k >> 3, data, 4);
				break;
			case 2:
				vmbus_ring_send_xferpage(&sc->ring, (k >> 3) % 20,
							 false, &pr, 1, k, 1,
							 data, 4);
				break;
			case 3:
				vmbus_ring_send_gpadl(&sc->ring, (k >> 3) % 8, &pr,
						      1, k, 1, data, 4);
				break;
			case 4:
				ps.gpadl_id = (k >> 3) % 8;
				ps.pageset_id = 1;
				vmbus_ring_send(&sc->ring,
						VMBUS_PKT_ADD_XFER_PAGESET, 0, k,
						(uint8_t *)&ps + sizeof(ps.desc),
						sizeof(ps) - sizeof(ps.desc),
						NULL, 0);
				break;
			default:
				vmbus_ring_send(&sc->ring, k >> 3, 0, k, &pr,
						sizeof(pr), data, 8);
				break;
			}
		}
		break;
	case OP_CLI_SRV_MSG:
		if (ss.connected)
			ss_hostile(u8(r));
		if (cbus)
			vmbus_bus_process(cbus);
		break;
	case OP_CLI_PROCESS:
		if (!cbus)
			break;
		vmbus_bus_process(cbus);
		svc_sink += (uint64_t)vmbus_bus_offers(cbus, offs, 8);
		if (vmbus_bus_find_pipe(cbus, "fuzz", offs) == 0)
			svc_sink += (uint64_t)vmbus_bus_offer_peer(cbus,
								   offs[0].relid);
		if (c)
			svc_sink += vmbus_chan_is_closed(c) +
				    (uint64_t)vmbus_chan_peer(c);
		break;
	case OP_CLI_BUS_CLOSE:
		vmbus_bus_close(cbus);
		cbus = NULL;
		cli_forget_chans();
		/* Closed: no peer's rings mapped, none of ours shared. */
		if (fx_mapped_pages(CLI_DOM, 1, NULL) ||
		    fx_shared_pages(CLI_DOM)) {
			fprintf(stderr, "fuzz-bus: the client keeps %u pages "
				"mapped and %u shared after closing its bus\n",
				fx_mapped_pages(CLI_DOM, 1, NULL),
				fx_shared_pages(CLI_DOM));
			abort();
		}
		break;
	default:	/* OP_CLI_SRV_DIE */
		if (!ss.dead)
			ss_die();
		break;
	}
	fx_cur_dom = 0;
}

/* Toolstack's part for domain 3: the frontend's backend, InitWait. */
static void cli_start(void)
{
	static const char be[] = CLI_BE;

	memset(&ss, 0, sizeof(ss));
	ss.lport = -1;
	vmbus_gpadl_asm_init(&ss.gasm, ss_asmbuf, sizeof(ss_asmbuf));
	cbus = NULL;
	cli_forget_chans();
	memset(cgp, 0, sizeof(cgp));
	fx_xs_write(0, CLI_FE "/backend", be, sizeof(be) - 1);
	fx_xs_write(0, CLI_FE "/backend-id", "0", 1);
	ss_set_state("2");
	fx_guest_hook = cli_hook;
}

static void cli_stop(void)
{
	unsigned int i;

	fx_cur_dom = CLI_DOM;
	ss.script = NULL;
	/* Closing the channels detaches their GPADLs: then all free. */
	vmbus_bus_close(cbus);
	cbus = NULL;
	cli_forget_chans();
	for (i = 0; i < CLI_GP; i++)
		if (cgp[i] && vmbus_gpadl_destroy(cgp[i], CLI_TIMEOUT) < 0) {
			fprintf(stderr, "fuzz-bus: a detached GPADL handle "
				"could not be destroyed\n");
			abort();
		}
	memset(cgp, 0, sizeof(cgp));
	fx_cur_dom = 0;
	fx_guest_hook = NULL;
}

/* --- one run --- */

static void trace_state(uint8_t op)
{
	unsigned int gi, i, n = 0;
	uint32_t regions, pages;

	for (i = 0; i < MAX_SCHANS; i++)
		n += schans[i].c != NULL;
	fprintf(stderr, "op %2u:", op);
	for (gi = 0; gi < NGUESTS; gi++) {
		pages = fx_mapped_pages(0, guests[gi].dom, &regions);
		fprintf(stderr, " dom%u %s %u pages/%u maps, %u offers seen;",
			guests[gi].dom, guests[gi].srv ?
			vmbus_server_state(guests[gi].srv) : "-", pages,
			regions, guests[gi].nrelids);
	}
	fprintf(stderr, " %u chans, hold %d, peer events %u;", n,
		hold.c != NULL, pending_peer_events);
	for (i = n = 0; i < CLI_CH; i++)
		n += cchan[i] != NULL;
	fprintf(stderr, " client: bus %s, %u chans,", cbus ? "open" : "-", n);
	for (i = n = 0; i < CLI_GP; i++)
		n += cgp[i] != NULL;
	fprintf(stderr, " %u GPADLs, server %s;", n, ss.dead ? "dead" :
		ss.connected ? "connected" : "-");
	for (gi = 0; gi < NGUESTS; gi++) {
		uint64_t to = 0, from = 0, err = 0;

		if (pipe_offer[gi].pipe)
			vd_pipe_counters(pipe_offer[gi].pipe, &to, &from, &err);
		fprintf(stderr, " pipe %u: %s %llu/%llu/%llu", gi,
			pipe_offer[gi].pipe ? "open" : "-",
			(unsigned long long)to, (unsigned long long)from,
			(unsigned long long)err);
	}
	fprintf(stderr, "\n");
}

static void run_op(uint8_t op, struct rd *r)
{
	uint8_t b = u8(r);
	unsigned int gi = b & 1;
	struct guest *g = &guests[gi];
	uint32_t relid, id, pages;
	uint8_t *mem;
	unsigned int i;

	switch (op) {
	case OP_CONNECT:
		if (!fx_dom_alive(g->dom))
			break;
		if (g->ctl_ok && (b & 2)) {	/* reconnect from the start */
			fe_write(g, "state", "1");
			pump();
		}
		guest_connect(g, b >> 2);
		break;
	case OP_FE_STATE:
		fe_printf(g, "state", (b >> 1) % 10);
		break;
	case OP_XS:
		guest_xs(g, r);
		break;
	case OP_CONTACT:
	case OP_REQOFFERS:
	case OP_CLOSE:
	case OP_TEARDOWN:
	case OP_RELEASED:
	case OP_UNLOAD:
	case OP_PEER_RESULT:
		guest_msg(g, op, r);
		break;
	case OP_GPADL:
		relid = pick_relid(g, r);
		pages = 1 + u8(r) % 32;
		id = (b & 2) ? pick_gpadl(g, r) : ++g->next_gpadl;
		mem = fx_alloc_pages(g->dom, pages);
		if (mem)
			guest_gpadl(g, relid, id, mem, pages,
				    (b & 4) ? guests[!gi].dom : 0, u8(r), b >> 3);
		break;
	case OP_OPEN:
		guest_open(g, r);
		break;
	case OP_RAW_MSG:
		guest_raw(g, r, false);
		break;
	case OP_RAW_PKT:
		guest_raw(g, r, true);
		break;
	case OP_CHAN_PKT:
		guest_chan_pkt(g, r);
		break;
	case OP_CORRUPT:
		guest_corrupt(g, r);
		break;
	case OP_SIGNAL:
		for (i = 0; i < 1u + (b >> 4); i++) {
			fx_notify(g->dom, (unsigned int)g->ctl_port);
			if (b & 2)
				fx_notify(g->dom, (unsigned int)g->ch[(b >> 2) % MAX_CH].port);
		}
		break;
	case OP_DRAIN:
		guest_drain(g);
		break;
	case OP_SVC_RECV:
		svc_recv(gi, r);
		break;
	case OP_SVC_COMPLETE:
		svc_complete();
		break;
	case OP_SVC_MAP:
		svc_map(gi, r);
		break;
	case OP_SVC_TOUCH:
		svc_touch(r);
		break;
	case OP_SVC_UNMAP:
		svc_unmap(r);
		break;
	case OP_SVC_SEND:
		svc_send(gi, r);
		break;
	case OP_RESCIND:
		relid = pick_relid(g, r);
		if (g->srv)
			vmbus_server_rescind(g->srv, relid);
		break;
	case OP_OFFER_PEER:
		offer_peer(b >> 1);
		break;
	case OP_SVC_REFUSE:
		svc_refuse = b & 2;
		break;
	case OP_SRV_RESTART:
		if (g->srv)
			server_stop(gi);
		if (b & 2)
			server_start(gi);
		break;
	case OP_KILL:
		fx_dom_kill(g->dom);
		break;
	case OP_TIME:
		if (b & 0x80) {		/* a second: every pause ends */
			fx_time_pass(1000);
			timers_expire();
		}
		for (i = 0; i < (b >> 1) % 8; i++)
			pump();
		break;
	case OP_PIPE_SVC:
		pipe_service(gi, r);
		break;
	default:
		cli_op(op, b, r);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = { data, size };
	unsigned int gi, i, nops = 0;

	fx_reset();
	memset(guests, 0, sizeof(guests));
	memset(schans, 0, sizeof(schans));
	memset(handles, 0, sizeof(handles));
	memset(&hold, 0, sizeof(hold));
	svc_refuse = false;
	memset(timers, 0, sizeof(timers));
	pipe_reset();
	for (gi = 0; gi < NGUESTS; gi++) {
		guests[gi].dom = 1 + gi;
		guests[gi].ctl_port = -1;
		for (i = 0; i < MAX_CH; i++)
			guests[gi].ch[i].port = -1;
		toolstack_attach(gi);
		server_start(gi);
	}
	offer_peer(0);
	cli_start();
	pump();
	while (r.n && nops++ < MAX_OPS) {
		uint8_t op = u8(&r) % OP_COUNT;

		run_op(op, &r);
		pump();
		check_invariants();
		if (trace)
			trace_state(op);
	}
	/* The client closes, the service lets go, then the servers go:
	 * nothing may remain. */
	cli_stop();
	for (i = 0; i < MAX_HANDLES; i++)
		svc_unmap_handle(i);
	for (gi = 0; gi < NGUESTS; gi++)
		server_stop(gi);
	vd_pipe_reap();
	if (vd_pipe_count()) {
		fprintf(stderr, "fuzz-bus: %u pipes still held after the "
			"servers were destroyed\n", vd_pipe_count());
		abort();
	}
	fx_check_clean("after the servers were destroyed");
	fx_release();
	return 0;
}

/* Diagnostics of the library are noise here. */
static void quiet_log(int prio, const char *msg, void *arg)
{
	(void)prio;
	(void)msg;
	(void)arg;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* The client's waits end at once, its deadlines on the fake clock. */
	static const struct vmbus_time_ops fake_time = {
		.now_ms = fx_now_ms,
		.poll = fx_poll,
		.timer_open = fx_timer_open,
		.timer_set = fx_timer_set,
	};

	(void)argc;
	(void)argv;
	vmbus_time = &fake_time;
	trace = getenv("FUZZ_BUS_TRACE") != NULL;
	pipe_init();
	if (!trace)
		vmbus_set_log(quiet_log, NULL);
	return 0;
}
