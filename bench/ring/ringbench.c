// SPDX-License-Identifier: GPL-2.0-only
/*
 * ringbench - the VMBus ring (lib/vmbus) between two domains, measured
 * against the limits of the same two domains in the same run.
 *
 *   ringbench serve --peer DOMID    in domain A (the guest side): grants
 *                                   every shared page to DOMID, offers a
 *                                   libxenvchan server, produces the streams
 *                                   and answers the requests
 *   ringbench client --peer DOMID [--time-ms N] [--rounds N] [--repeat N]
 *                    [--json]       in domain B: maps the pages, consumes,
 *                                   sends the requests, measures and prints
 *
 * Everything the two sides share is a granted page mapped by the peer, and
 * every wake-up is an event-channel notify.  Measured, each --repeat times,
 * interleaved so that noise hits all of them alike (the table gives the
 * median):
 *
 *   streaming A -> B at 64 B, 1 KiB, 4 KiB, 64 KiB packets over
 *     - the VMBus ring: batched sends (one publish, at most one signal per
 *       batch), batched read_index updates, the consumer blocking on the
 *       event channel when empty and the producer blocking via
 *       pending_send_sz when full, each after a short adaptive poll;
 *     - a minimal spinning single-producer/single-consumer byte ring with
 *       the same data size (copy in, copy out: the two-copy limit);
 *     - the same ring with each packet framed as on the VMBus ring (16-byte
 *       descriptor, payload, 8-byte trailer; a payload of a page or more on
 *       a page boundary, as libvmbus places it): what the format costs;
 *     - Debian's libxenvchan (blocking reads and writes);
 *   64 B request/response round trips:
 *     - VMBus, both sides busy: each side whose recent waits were short
 *       polls before unmasking and blocking (per-channel latency tracking);
 *     - VMBus, receivers idle: polling off, every wait blocks;
 *     - a spin ping-pong on one shared page (the latency limit);
 *     - a raw eventfd ping-pong between two processes (the wake-up limit);
 *     - an event-channel ping-pong between the two domains (what the
 *       simulated event channel itself costs over the eventfd);
 *     - libxenvchan (blocking).
 *
 * The run.sh next to this file pins the two sides to two CPUs.  A spinning
 * baseline is a limit only when both of its sides own a CPU: the table says
 * when the measuring side did not get its CPU while spinning.
 *
 * Every stream carries a sequence number in the first 8 bytes of each
 * packet; the consumer checks it, and UINT64_MAX ends the stream.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libxenvchan.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include "vmbus/vmbus_ring.h"

#define PAGE		4096u
#define RING_DATA	(256u * 1024u)		/* data bytes per direction */
#define RING_PAGES	(1 + RING_DATA / PAGE)	/* + the VMBus header page */

/* Pages A grants to B, in this order. */
#define PG_CTL		0u
#define PG_A2B		(PG_CTL + 1)
#define PG_B2A		(PG_A2B + RING_PAGES)
#define PG_SPSC		(PG_B2A + RING_PAGES)
#define NPAGES		(PG_SPSC + RING_DATA / PAGE)

#define END_SEQ		UINT64_MAX
#define RTT_LEN		64u
#define CACHELINE	64
/*
 * A wait longer than this is idle; a shorter one is polled through, for up
 * to this long: about what a sleep and a wake-up cost a virtual CPU (the
 * idle round trips below take 50-60 us), so that a side whose peer is busy
 * never trades a short wait for a long wake-up.
 */
#define POLL_MAX_NS	50000.0

static const unsigned int sizes[] = { 64, 1024, 4096, 65536 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

enum test {
	T_QUIT = 1,
	T_SPSC,		/* size, ms */
	T_VMB_STREAM,	/* size, ms */
	T_VCHAN_STREAM,	/* size, ms */
	T_SPIN_PP,	/* rounds */
	T_VMB_RTT,	/* rounds, poll */
	T_VCHAN_RTT,	/* rounds */
	T_EVTCHN_PP,	/* rounds */
	T_PARK,		/* block on the event channel until the next command */
	T_FRAMED,	/* size, ms */
};

/*
 * The control page.  B writes the command line, A the reply line; the
 * other lines belong to one writer each, so no two writers share a line.
 */
struct ctl {
	/* B: the next test; cmd_seq is stored last (release). */
	uint32_t cmd_seq, test, size, poll;
	uint64_t ms, rounds;
	uint8_t pad0[CACHELINE - 32];
	/* A: ready_seq when it runs its side, done_seq with its counters. */
	uint32_t ready_seq, done_seq;
	uint64_t a_signals, a_blocks, a_full;
	uint8_t pad1[CACHELINE - 32];
	uint64_t ping;		/* B */
	uint8_t pad2[CACHELINE - 8];
	uint64_t pong;		/* A */
	uint8_t pad3[CACHELINE - 8];
	uint64_t spsc_wr;	/* A: bytes written, free running */
	uint8_t pad4[CACHELINE - 8];
	uint64_t spsc_rd;	/* B: bytes read, free running */
};
_Static_assert(sizeof(struct ctl) <= PAGE, "control page");

struct side {
	struct xs_handle *xs;
	xenevtchn_handle *xce;
	int port;
	struct libxenvchan *vchan;
	uint8_t *mem;			/* NPAGES shared pages */
	struct ctl *ctl;
	uint8_t *spsc;
	struct vmbus_ring ring;
	unsigned int peer;
};

/* Adaptive poll: the recent wait of this endpoint, and what it did. */
struct poller {
	double est;			/* EWMA of waits, in ticks() */
	double max;			/* longest poll, in ticks(); 0: never poll */
	uint64_t polls, hits, blocks;
};

static void fail(const char *what)
{
	fprintf(stderr, "ringbench: failed to %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail_proto(const char *what)
{
	fprintf(stderr, "ringbench: %s\n", what);
	exit(1);
}

static void fail_rc(const char *what, int rc)
{
	fprintf(stderr, "ringbench: failed to %s: %s\n", what, strerror(-rc));
	exit(1);
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The poll loops' clock: the TSC where there is one (a third of the cost of
 * clock_gettime, which matters against a round trip of a few hundred ns).
 */
static double ticks_per_ns = 1.0;

static inline uint64_t ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return now_ns();
#endif
}

static void ticks_calibrate(void)
{
	uint64_t t0 = now_ns(), c0 = ticks(), t1, c1;

	usleep(20000);
	t1 = now_ns();
	c1 = ticks();
	if (t1 > t0 && c1 > c0)
		ticks_per_ns = (double)(c1 - c0) / (double)(t1 - t0);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static inline uint64_t get64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void put64(void *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void *xalloc(size_t n)
{
	void *p = aligned_alloc(CACHELINE, (n + CACHELINE - 1) & ~(size_t)(CACHELINE - 1));

	if (!p)
		fail("allocate a buffer");
	memset(p, 0x5a, n);
	return p;
}

/* Run on @cpu only (-1: anywhere), so that the two sides never share one. */
static void pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		fail("pin to the requested CPU");
}

/* ------------------------------------------------------------------ */
/* Event channel and adaptive polling                                  */
/* ------------------------------------------------------------------ */

/* Block until our port fires, then rearm it. */
static void wait_port(struct side *s)
{
	int p;

	do {
		p = xenevtchn_pending(s->xce);
		if (p < 0)
			fail("wait for an event");
		if (xenevtchn_unmask(s->xce, p) < 0)
			fail("unmask the event channel");
	} while (p != s->port);
}

static void ring_signal(void *arg)
{
	struct side *s = arg;

	if (xenevtchn_notify(s->xce, s->port) < 0)
		fail("notify the peer");
}

/* Signals the library has sent on @r, both ways. */
static uint64_t ring_signals(const struct vmbus_ring *r)
{
	struct vmbus_ring_stats st;

	vmbus_ring_get_stats(r, &st);
	return st.tx_signals + st.rx_signals;
}

static void poller_init(struct poller *p, double max_ns)
{
	memset(p, 0, sizeof(*p));
	p->max = max_ns * ticks_per_ns;
	p->est = p->max / 8;
}

/*
 * Spin on @ready for up to max_ns.  A side whose typical wait is longer
 * than max_ns is idle: it blocks at once.  (Polling only twice the typical
 * wait blocked a streaming reader thousands of times a second whenever the
 * host held up its writer a little, each block costing a wake-up while the
 * writer filled the ring and stopped.)
 */
static bool poll_for(struct poller *p, uint64_t t0, bool (*ready)(void *), void *arg)
{
	uint64_t deadline;
	unsigned int i;

	if (!p->max || p->est > p->max)
		return false;
	p->polls++;
	deadline = t0 + (uint64_t)p->max;
	for (i = 1;; i++) {
		if (ready(arg)) {
			p->hits++;
			return true;
		}
		cpu_relax();
		if (!(i & 15) && ticks() >= deadline)
			return false;
	}
}

/*
 * Learn from a wait that began at @t0.  One long outlier (the peer was
 * preempted) counts as twice max_ns, so that it cannot switch polling off
 * for long; a run of them does.
 */
static void poller_account(struct poller *p, uint64_t t0)
{
	double w = (double)(ticks() - t0);

	if (w > 2 * p->max)
		w = 2 * p->max;
	p->est += (w - p->est) / 8;
}

/* ------------------------------------------------------------------ */
/* VMBus ring: streaming                                               */
/* ------------------------------------------------------------------ */

static bool rx_ready(void *arg)
{
	return vmbus_ring_rx_pending(arg) > 0;
}

struct tx_need {
	struct vmbus_ring *r;
	int64_t need;
};

static bool tx_ready(void *arg)
{
	struct tx_need *n = arg;

	return vmbus_ring_tx_space(n->r) > n->need;
}

/*
 * Bytes an in-band packet of @len payload bytes occupies, trailer included,
 * packed; libvmbus may take up to a page more to start a payload of a page
 * or more on a page boundary.
 */
static uint32_t inband_total(uint32_t len)
{
	return ((16 + len + 7) & ~7u) + 8;
}

/*
 * Send one in-band packet inside the caller's batch.  @room is what we
 * know is free; only when it runs short is the batch published and the
 * reader's index looked at again, then polled, then waited for.
 */
static void vmb_send(struct side *s, struct poller *p, const void *buf,
		     uint32_t len, uint64_t id, int64_t *room)
{
	struct vmbus_ring *r = &s->ring;
	struct tx_need n = { r, inband_total(len) };
	uint64_t t0, used = r->tx_bytes;
	int rc;

	if (*room <= n.need) {
		*room = vmbus_ring_tx_space(r);
		if (*room <= n.need) {
			/* Let the reader drain what we wrote before we wait. */
			vmbus_ring_tx_commit(r);
			vmbus_ring_tx_begin(r);
			t0 = ticks();
			if (!poll_for(p, t0, tx_ready, &n)) {
				/* -EAGAIN stored pending_send_sz: the reader signals. */
				while ((rc = vmbus_ring_send_inband(r, buf, len, id, 0)) == -EAGAIN) {
					p->blocks++;
					wait_port(s);
				}
				if (rc < 0)
					fail_rc("send on the VMBus ring", rc);
				poller_account(p, t0);
				*room = vmbus_ring_tx_space(r);
				return;
			}
			poller_account(p, t0);
			*room = vmbus_ring_tx_space(r);
		}
	}
	rc = vmbus_ring_send_inband(r, buf, len, id, 0);
	if (rc < 0)
		fail_rc("send on the VMBus ring with room known to be free", rc);
	/* What the packet took, its gap included. */
	*room -= (int64_t)(r->tx_bytes - used);
}

static void vmb_stream_tx(struct side *s, uint32_t size, uint64_t ms, uint64_t *blocks)
{
	struct vmbus_ring *r = &s->ring;
	uint8_t *buf = xalloc(size);
	uint64_t seq = 1, deadline = now_ns() + ms * 1000000u;
	/*
	 * Publish (and possibly signal) once per half of the ring: each
	 * publication ends in a full fence, which waits until every store
	 * before it is visible, and the fewer of them the less the writer
	 * waits.  The reader drains one half while the writer fills the other
	 * (a writer out of room publishes what it has at once).
	 */
	uint64_t batch = r->tx_bytes;
	int64_t room = 0;
	struct poller p;

	poller_init(&p, POLL_MAX_NS);
	vmbus_ring_tx_begin(r);
	for (;; seq++) {
		if (!(seq & 63) && now_ns() >= deadline)
			break;
		put64(buf, seq);
		vmb_send(s, &p, buf, size, seq, &room);
		if (r->tx_bytes - batch >= RING_DATA / 2) {
			vmbus_ring_tx_commit(r);
			vmbus_ring_tx_begin(r);
			batch = r->tx_bytes;
		}
	}
	put64(buf, END_SEQ);
	vmb_send(s, &p, buf, size, END_SEQ, &room);
	vmbus_ring_tx_commit(r);
	*blocks = p.blocks;
	if (getenv("RINGBENCH_DEBUG"))
		fprintf(stderr, "tx %u: polls %" PRIu64 " hits %" PRIu64 " blocks %" PRIu64 " est %.0f\n", size,
			p.polls, p.hits, p.blocks, p.est / ticks_per_ns);
	free(buf);
}

/*
 * Wait until the receive ring has data: poll, then unmask and block.  The
 * caller's read batch is committed before blocking (@since, the bytes read
 * since the last commit, is then zero).
 */
static void vmb_wait_rx(struct side *s, struct poller *p, uint32_t *since)
{
	struct vmbus_ring *r = &s->ring;
	uint64_t t0 = ticks();
	int64_t avail;

	if (!poll_for(p, t0, rx_ready, r)) {
		/*
		 * Give back what we read before we sleep: the writer signals
		 * only a ring it sees empty, judged by read_index.
		 */
		vmbus_ring_rx_commit(r);
		vmbus_ring_rx_begin(r);
		*since = 0;
		for (;;) {
			/* A packet that came while masked brought no signal. */
			avail = vmbus_ring_rx_unmask(r);
			if (avail < 0)
				fail_rc("unmask the VMBus receive ring", (int)avail);
			if (avail > 0)
				break;
			p->blocks++;
			wait_port(s);
		}
		vmbus_ring_rx_mask(r);
	}
	poller_account(p, t0);
}

struct stream_result {
	double mbps, pps;
	uint64_t packets, signals, blocks;
	uint64_t timed, ns;	/* packets between the first and the last, and the time */
};

/*
 * Rates of a stream whose packets 1 .. @expect - 1 arrived, timed from the
 * arrival of packet 1 (@t0) to that of the end marker (@t1).
 */
static void stream_rates(struct stream_result *res, uint64_t expect,
			 uint64_t t0, uint64_t t1, uint32_t size)
{
	/* Signals and blocks are the VMBus receiver's to fill in after. */
	*res = (struct stream_result){ .packets = expect - 1 };
	res->timed = expect - 2;
	res->ns = t1 - t0;
	res->pps = (double)(expect - 2) * 1e9 / (double)(t1 - t0);
	res->mbps = res->pps * size / 1e6;
}

/* Add one chunk's stream to @acc, and work out the rates of the sum. */
static void stream_add(struct stream_result *acc, const struct stream_result *r,
		       uint32_t size)
{
	acc->packets += r->packets;
	acc->signals += r->signals;
	acc->blocks += r->blocks;
	acc->timed += r->timed;
	acc->ns += r->ns;
	acc->pps = (double)acc->timed * 1e9 / (double)acc->ns;
	acc->mbps = acc->pps * size / 1e6;
}

static void vmb_stream_rx(struct side *s, uint32_t size, struct stream_result *res)
{
	struct vmbus_ring *r = &s->ring;
	/* Room for the descriptor and for the library to align the copy. */
	size_t buflen = size + 64 + VMBUS_RING_RX_SLACK;
	uint8_t *buf = xalloc(buflen);
	/* Give space back in 1/8 of the ring at a time, or when empty. */
	uint32_t since = 0, commit = RING_DATA / 8;
	uint64_t expect = 1, t0 = 0, t1, seq, sig0 = ring_signals(r);
	struct vmbus_pkt pkt;
	struct poller p;
	int rc;

	poller_init(&p, POLL_MAX_NS);
	/* Busy: the writer need not signal while we are draining. */
	vmbus_ring_rx_mask(r);
	vmbus_ring_rx_begin(r);
	for (;;) {
		rc = vmbus_ring_recv(r, &pkt, buf, buflen);
		if (rc == -EAGAIN) {
			/* Empty: give all the space back before waiting. */
			vmbus_ring_rx_commit(r);
			vmbus_ring_rx_begin(r);
			since = 0;
			vmb_wait_rx(s, &p, &since);
			continue;
		}
		if (rc < 0)
			fail_rc("receive from the VMBus ring", rc);
		if (pkt.data_len != size)
			fail_proto("VMBus stream: unexpected packet length");
		seq = get64(pkt.data);
		if (seq == END_SEQ)
			break;
		if (seq != expect || pkt.trans_id != seq)
			fail_proto("VMBus stream: packet out of sequence");
		if (expect++ == 1)
			t0 = now_ns();
		since += pkt.len + VMBUS_PKT_TRAILER_SIZE;
		if (since >= commit) {
			vmbus_ring_rx_commit(r);
			vmbus_ring_rx_begin(r);
			since = 0;
		}
	}
	t1 = now_ns();
	vmbus_ring_rx_commit(r);
	vmbus_ring_rx_unmask(r);
	stream_rates(res, expect, t0, t1, size);
	res->signals = ring_signals(r) - sig0;
	res->blocks = p.blocks;
	if (getenv("RINGBENCH_DEBUG"))
		fprintf(stderr, "rx %u: polls %" PRIu64 " hits %" PRIu64 " blocks %" PRIu64 " est %.0f\n", size,
			p.polls, p.hits, p.blocks, p.est / ticks_per_ns);
	free(buf);
}

/* ------------------------------------------------------------------ */
/* VMBus ring: request/response                                        */
/* ------------------------------------------------------------------ */

/*
 * Receive one packet inside the caller's read batch: read_index is given
 * back every 1/8 of the ring and before blocking, not per packet, so that
 * the writer's header line is not written by both sides on every message.
 */
static void vmb_recv_one(struct side *s, struct poller *p, struct vmbus_pkt *pkt,
			 void *buf, size_t buflen, uint32_t *since)
{
	int rc;

	while ((rc = vmbus_ring_recv(&s->ring, pkt, buf, buflen)) == -EAGAIN)
		vmb_wait_rx(s, p, since);
	if (rc < 0)
		fail_rc("receive from the VMBus ring", rc);
	*since += pkt->len + VMBUS_PKT_TRAILER_SIZE;
	if (*since >= RING_DATA / 8) {
		vmbus_ring_rx_commit(&s->ring);
		vmbus_ring_rx_begin(&s->ring);
		*since = 0;
	}
}

static void vmb_rtt_serve(struct side *s, bool poll, uint64_t *blocks)
{
	uint8_t buf[RTT_LEN + 64], rsp[RTT_LEN];
	struct vmbus_pkt pkt;
	struct poller p;
	uint32_t since = 0;
	int rc;

	poller_init(&p, poll ? POLL_MAX_NS : 0);
	memset(rsp, 0xa5, sizeof(rsp));
	vmbus_ring_rx_mask(&s->ring);
	vmbus_ring_rx_begin(&s->ring);
	for (;;) {
		vmb_recv_one(s, &p, &pkt, buf, sizeof(buf), &since);
		if (pkt.trans_id == END_SEQ)
			break;
		put64(rsp, pkt.trans_id);
		rc = vmbus_ring_send_comp(&s->ring, pkt.trans_id, rsp, sizeof(rsp));
		if (rc < 0)
			fail_rc("send a VMBus completion", rc);
	}
	vmbus_ring_rx_commit(&s->ring);
	vmbus_ring_rx_unmask(&s->ring);
	*blocks = p.blocks;
}

struct rtt_result {
	double us;
	uint64_t made;		/* round trips made, warm-up included */
	uint64_t signals, blocks, polls, hits;
};

static void vmb_rtt_client(struct side *s, bool poll, uint64_t rounds,
			   struct rtt_result *res)
{
	uint8_t buf[RTT_LEN + 64], req[RTT_LEN];
	uint64_t i, warm = rounds / 10, t0 = 0, sig0;
	struct vmbus_pkt pkt;
	struct poller p;
	uint32_t since = 0;
	int rc;

	poller_init(&p, poll ? POLL_MAX_NS : 0);
	memset(req, 0x3c, sizeof(req));
	sig0 = ring_signals(&s->ring);
	vmbus_ring_rx_mask(&s->ring);
	vmbus_ring_rx_begin(&s->ring);
	for (i = 1; i <= rounds + warm; i++) {
		if (i == warm + 1)
			t0 = now_ns();
		put64(req, i);
		rc = vmbus_ring_send_inband(&s->ring, req, sizeof(req), i,
					    VMBUS_PKT_FLAG_REQUEST_COMPLETION);
		if (rc < 0)
			fail_rc("send a VMBus request", rc);
		vmb_recv_one(s, &p, &pkt, buf, sizeof(buf), &since);
		if (pkt.trans_id != i || pkt.type != VMBUS_PKT_COMP ||
		    get64(pkt.data) != i)
			fail_proto("VMBus round trip: wrong completion");
	}
	res->us = (double)(now_ns() - t0) / 1e3 / (double)rounds;
	res->made = rounds + warm;
	/* Ours for the round trips, not for the end marker below. */
	res->signals = ring_signals(&s->ring) - sig0;
	vmbus_ring_rx_commit(&s->ring);
	put64(req, END_SEQ);
	rc = vmbus_ring_send_inband(&s->ring, req, sizeof(req), END_SEQ, 0);
	if (rc < 0)
		fail_rc("send the last VMBus request", rc);
	vmbus_ring_rx_unmask(&s->ring);
	res->blocks = p.blocks;
	res->polls = p.polls;
	res->hits = p.hits;
}

/* ------------------------------------------------------------------ */
/* Baselines: a minimal spinning SPSC byte ring, plain and framed      */
/* ------------------------------------------------------------------ */

/*
 * The minimal ring copies each packet in and out and moves a free-running
 * byte index per packet.  Framed, each packet is laid out as libvmbus lays
 * it out on the VMBus ring: a 16-byte descriptor, the payload, an 8-byte
 * trailer, back to back, except that a payload of a page or more starts on
 * a page boundary (the gap in front of it is not written).  What separates
 * the two is what the wire format costs; what separates the VMBus ring
 * from the framed one is what the library costs.
 */
static void spsc_put(uint8_t *ring, uint64_t at, const void *src, uint32_t len)
{
	uint32_t off = (uint32_t)(at & (RING_DATA - 1));
	uint32_t first = RING_DATA - off < len ? RING_DATA - off : len;

	memcpy(ring + off, src, first);
	memcpy(ring, (const uint8_t *)src + first, len - first);
}

static void spsc_get(void *dst, const uint8_t *ring, uint64_t at, uint32_t len)
{
	uint32_t off = (uint32_t)(at & (RING_DATA - 1));
	uint32_t first = RING_DATA - off < len ? RING_DATA - off : len;

	memcpy(dst, ring + off, first);
	memcpy((uint8_t *)dst + first, ring, len - first);
}

static uint64_t framed_trailer(uint64_t at)
{
	return (uint64_t)(at & (RING_DATA - 1)) << 32;
}

/* The gap in front of a payload of @len bytes in a packet starting at @at. */
static uint32_t framed_gap(uint64_t at, uint32_t len)
{
	return vmbus_ring_inband_gap(RING_DATA, (uint32_t)(at & (RING_DATA - 1)), len);
}

static void spsc_tx(struct side *s, uint32_t size, uint64_t ms, bool framed)
{
	struct ctl *c = s->ctl;
	uint8_t *buf = xalloc(size);
	uint64_t wr = __atomic_load_n(&c->spsc_wr, __ATOMIC_RELAXED);
	uint64_t rd = __atomic_load_n(&c->spsc_rd, __ATOMIC_ACQUIRE);
	uint64_t seq = 1, deadline = now_ns() + ms * 1000000u, trailer;
	uint32_t total = size, gap = 0;
	struct vmbus_pkt_desc d = { .type = VMBUS_PKT_DATA_INBAND };

	for (;; seq++) {
		bool end = !(seq & 63) && now_ns() >= deadline;

		put64(buf, end ? END_SEQ : seq);
		if (framed) {
			gap = framed_gap(wr, size);
			total = inband_total(size) + gap;
			d.offset8 = (uint16_t)((16 + gap) / 8);
			d.len8 = (uint16_t)((total - VMBUS_PKT_TRAILER_SIZE) / 8);
		}
		while (wr + total - rd > RING_DATA) {
			cpu_relax();
			/* Acquire: B's copies out are done before we overwrite. */
			rd = __atomic_load_n(&c->spsc_rd, __ATOMIC_ACQUIRE);
		}
		if (framed) {
			d.trans_id = end ? END_SEQ : seq;
			spsc_put(s->spsc, wr, &d, sizeof(d));
			spsc_put(s->spsc, wr + sizeof(d) + gap, buf, size);
			trailer = framed_trailer(wr);
			spsc_put(s->spsc, wr + total - sizeof(trailer), &trailer,
				 sizeof(trailer));
		} else {
			spsc_put(s->spsc, wr, buf, size);
		}
		wr += total;
		/* Release: the bytes are visible before the index covering them. */
		__atomic_store_n(&c->spsc_wr, wr, __ATOMIC_RELEASE);
		if (end)
			break;
	}
	free(buf);
}

static void spsc_rx(struct side *s, uint32_t size, bool framed,
		    struct stream_result *res)
{
	struct ctl *c = s->ctl;
	uint8_t *buf = xalloc(size);
	uint64_t rd = __atomic_load_n(&c->spsc_rd, __ATOMIC_RELAXED);
	uint64_t wr = __atomic_load_n(&c->spsc_wr, __ATOMIC_ACQUIRE);
	uint64_t expect = 1, t0 = 0, t1, seq, trailer;
	uint32_t total = size, gap = 0;
	struct vmbus_pkt_desc d;

	for (;;) {
		if (framed) {
			gap = framed_gap(rd, size);
			total = inband_total(size) + gap;
		}
		while (wr - rd < total) {
			cpu_relax();
			/* Acquire: the bytes are read after the index covering them. */
			wr = __atomic_load_n(&c->spsc_wr, __ATOMIC_ACQUIRE);
		}
		if (framed) {
			spsc_get(&d, s->spsc, rd, sizeof(d));
			spsc_get(buf, s->spsc, rd + sizeof(d) + gap, size);
			spsc_get(&trailer, s->spsc, rd + total - sizeof(trailer),
				 sizeof(trailer));
			if (trailer != framed_trailer(rd) || d.trans_id != get64(buf))
				fail_proto("framed stream: bad descriptor or trailer");
		} else {
			spsc_get(buf, s->spsc, rd, size);
		}
		rd += total;
		/* Release: our copies are done before A may overwrite. */
		__atomic_store_n(&c->spsc_rd, rd, __ATOMIC_RELEASE);
		seq = get64(buf);
		if (seq == END_SEQ)
			break;
		if (seq != expect)
			fail_proto("SPSC stream: packet out of sequence");
		if (expect++ == 1)
			t0 = now_ns();
	}
	t1 = now_ns();
	stream_rates(res, expect, t0, t1, size);
	free(buf);
}

/* ------------------------------------------------------------------ */
/* Baselines: spin ping-pong, eventfd ping-pong                        */
/* ------------------------------------------------------------------ */

static void spin_pp_serve(struct side *s, uint64_t rounds)
{
	uint64_t i, v;

	for (i = 1; i <= rounds; i++) {
		while ((v = __atomic_load_n(&s->ctl->ping, __ATOMIC_ACQUIRE)) != i)
			cpu_relax();
		__atomic_store_n(&s->ctl->pong, v, __ATOMIC_RELEASE);
	}
}

static double spin_pp_client(struct side *s, uint64_t rounds)
{
	uint64_t i, warm = rounds / 10, t0 = 0;

	for (i = 1; i <= rounds; i++) {
		if (i == warm + 1)
			t0 = now_ns();
		__atomic_store_n(&s->ctl->ping, i, __ATOMIC_RELEASE);
		while (__atomic_load_n(&s->ctl->pong, __ATOMIC_ACQUIRE) != i)
			cpu_relax();
	}
	return (double)(now_ns() - t0) / 1e3 / (double)(rounds - warm);
}

/*
 * Two processes in this domain, blocking in read() on each other's eventfd;
 * the second one runs where the serving side runs.  The peer lives for all
 * of a run's chunks (@total round trips), so that the eventfd chunks can be
 * interleaved with the event-channel ones.
 */
struct efd_peer {
	int ping, pong;
	pid_t pid;
};

static void efd_peer_start(struct efd_peer *e, uint64_t total, int peer_cpu)
{
	uint64_t v, i;

	e->ping = eventfd(0, 0);
	e->pong = eventfd(0, 0);
	if (e->ping < 0 || e->pong < 0)
		fail("create eventfds");
	e->pid = fork();
	if (e->pid < 0)
		fail("fork the eventfd peer");
	if (e->pid == 0) {
		pin_cpu(peer_cpu);
		for (i = 0; i < total; i++)
			if (read(e->ping, &v, 8) != 8 || write(e->pong, &v, 8) != 8)
				_exit(1);
		_exit(0);
	}
}

static void efd_peer_stop(struct efd_peer *e)
{
	int st;

	if (waitpid(e->pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		fail_proto("the eventfd peer failed");
	close(e->ping);
	close(e->pong);
}

/* @rounds round trips, the first tenth not timed; microseconds per round. */
static double eventfd_rtt(struct efd_peer *e, uint64_t rounds)
{
	uint64_t v = 1, i, warm = rounds / 10, t0 = 0;

	for (i = 0; i < rounds; i++) {
		if (i == warm)
			t0 = now_ns();
		if (write(e->ping, &v, 8) != 8 || read(e->pong, &v, 8) != 8)
			fail("ping-pong over eventfd");
	}
	return (double)(now_ns() - t0) / 1e3 / (double)(rounds - warm);
}

/*
 * The event channel alone: notify, the peer wakes and notifies back, both
 * blocking.  The sequence numbers on the control page tell a round's event
 * from a stale one; @gen keeps them apart from earlier tests.
 */
static void evtchn_pp_serve(struct side *s, uint64_t rounds, uint64_t gen)
{
	uint64_t i;

	for (i = 1; i <= rounds; i++) {
		while (__atomic_load_n(&s->ctl->ping, __ATOMIC_ACQUIRE) != (gen | i))
			wait_port(s);
		__atomic_store_n(&s->ctl->pong, gen | i, __ATOMIC_RELEASE);
		ring_signal(s);
	}
}

static double evtchn_pp_client(struct side *s, uint64_t rounds, uint64_t gen)
{
	uint64_t i, warm = rounds / 10, t0 = 0;

	for (i = 1; i <= rounds; i++) {
		if (i == warm + 1)
			t0 = now_ns();
		__atomic_store_n(&s->ctl->ping, gen | i, __ATOMIC_RELEASE);
		ring_signal(s);
		while (__atomic_load_n(&s->ctl->pong, __ATOMIC_ACQUIRE) != (gen | i))
			wait_port(s);
	}
	return (double)(now_ns() - t0) / 1e3 / (double)(rounds - warm);
}

/* ------------------------------------------------------------------ */
/* Baseline: libxenvchan                                               */
/* ------------------------------------------------------------------ */

static void vchan_full(struct libxenvchan *v, void *buf, size_t len, bool rd)
{
	size_t done = 0;
	int n;

	while (done < len) {
		n = rd ? libxenvchan_read(v, (uint8_t *)buf + done, len - done)
		       : libxenvchan_write(v, (const uint8_t *)buf + done, len - done);
		if (n < 0)
			fail(rd ? "read from the vchan" : "write to the vchan");
		done += (size_t)n;
	}
}

static void vchan_connect(struct side *s)
{
	/* 2: the server is still waiting for its client. */
	while (libxenvchan_is_open(s->vchan) == 2)
		if (libxenvchan_wait(s->vchan) < 0)
			fail("wait for the vchan client");
}

static void vchan_stream_tx(struct side *s, uint32_t size, uint64_t ms)
{
	uint8_t *buf = xalloc(size);
	uint64_t seq = 1, deadline = now_ns() + ms * 1000000u;

	for (;; seq++) {
		bool end = !(seq & 63) && now_ns() >= deadline;

		put64(buf, end ? END_SEQ : seq);
		vchan_full(s->vchan, buf, size, false);
		if (end)
			break;
	}
	free(buf);
}

static void vchan_stream_rx(struct side *s, uint32_t size, struct stream_result *res)
{
	uint8_t *buf = xalloc(size);
	uint64_t expect = 1, t0 = 0, t1, seq;

	for (;;) {
		vchan_full(s->vchan, buf, size, true);
		seq = get64(buf);
		if (seq == END_SEQ)
			break;
		if (seq != expect)
			fail_proto("vchan stream: packet out of sequence");
		if (expect++ == 1)
			t0 = now_ns();
	}
	t1 = now_ns();
	stream_rates(res, expect, t0, t1, size);
	free(buf);
}

static void vchan_rtt_serve(struct side *s, uint64_t rounds)
{
	uint8_t buf[RTT_LEN];
	uint64_t i;

	for (i = 0; i < rounds; i++) {
		vchan_full(s->vchan, buf, sizeof(buf), true);
		vchan_full(s->vchan, buf, sizeof(buf), false);
	}
}

static double vchan_rtt_client(struct side *s, uint64_t rounds)
{
	uint8_t buf[RTT_LEN];
	uint64_t i, warm = rounds / 10, t0 = 0;

	memset(buf, 0x3c, sizeof(buf));
	for (i = 1; i <= rounds; i++) {
		if (i == warm + 1)
			t0 = now_ns();
		put64(buf, i);
		vchan_full(s->vchan, buf, sizeof(buf), false);
		vchan_full(s->vchan, buf, sizeof(buf), true);
		if (get64(buf) != i)
			fail_proto("vchan round trip: wrong response");
	}
	return (double)(now_ns() - t0) / 1e3 / (double)(rounds - warm);
}

/* ------------------------------------------------------------------ */
/* Set-up                                                              */
/* ------------------------------------------------------------------ */

static uint64_t ring_full(const struct vmbus_ring *r)
{
	struct vmbus_ring_stats st;

	vmbus_ring_get_stats(r, &st);
	return st.tx_full;
}

static unsigned int self_domid(struct xs_handle *xs)
{
	char *v = xs_read(xs, XBT_NULL, "domid", NULL);
	unsigned int id = v ? strtoul(v, NULL, 10) : 0;

	free(v);
	return id;
}

static char *wait_node(struct xs_handle *xs, const char *path)
{
	char *v;
	int i;

	for (i = 0; i < 1000; i++) {
		v = xs_read(xs, XBT_NULL, path, NULL);
		if (v)
			return v;
		usleep(10000);
	}
	errno = ETIMEDOUT;
	fprintf(stderr, "ringbench: failed to read \"%s\": %s\n", path, strerror(errno));
	exit(1);
}

static void open_libs(struct side *s)
{
	s->xs = xs_open(0);
	s->xce = xenevtchn_open(NULL, 0);
	if (!s->xs || !s->xce)
		fail("open the Xen libraries");
}

static void serve_setup(struct side *s, xengntshr_handle *gs)
{
	static uint32_t refs[NPAGES];
	struct xs_permissions perms[2];
	char val[8 * NPAGES + 16];
	int len = 0;
	unsigned int i;

	s->mem = xengntshr_share_pages(gs, s->peer, NPAGES, refs, 1);
	if (!s->mem)
		fail("share pages");
	memset(s->mem, 0, (size_t)NPAGES * PAGE);
	/* As the VMBus client would: both ring headers, before granting use. */
	if (vmbus_ring_hdr_init(s->mem + PG_A2B * PAGE, RING_PAGES * PAGE,
				VMBUS_RING_FEAT_PENDING_SEND_SZ) ||
	    vmbus_ring_hdr_init(s->mem + PG_B2A * PAGE, RING_PAGES * PAGE,
				VMBUS_RING_FEAT_PENDING_SEND_SZ))
		fail_proto("cannot initialise the ring headers");
	s->port = xenevtchn_bind_unbound_port(s->xce, s->peer);
	if (s->port < 0)
		fail("allocate an unbound port");
	if (vmbus_ring_init(&s->ring, s->mem + PG_A2B * PAGE, RING_PAGES * PAGE,
			    s->mem + PG_B2A * PAGE, RING_PAGES * PAGE, ring_signal, s))
		fail_proto("cannot attach to the rings");

	perms[0] = (struct xs_permissions){ .id = self_domid(s->xs), .perms = XS_PERM_NONE };
	perms[1] = (struct xs_permissions){ .id = s->peer, .perms = XS_PERM_READ };
	if (!xs_mkdir(s->xs, XBT_NULL, "data/ringbench") ||
	    !xs_set_permissions(s->xs, XBT_NULL, "data/ringbench", perms, 2))
		fail("make data/ringbench readable by the peer");
	s->vchan = libxenvchan_server_init(NULL, (int)s->peer, "data/ringbench/vchan",
					   RING_DATA, RING_DATA);
	if (!s->vchan)
		fail("offer a libxenvchan server at data/ringbench/vchan");
	s->vchan->blocking = 1;
	for (i = 0; i < NPAGES; i++)
		len += snprintf(val + len, sizeof(val) - len, "%s%u", i ? " " : "", refs[i]);
	if (!xs_write(s->xs, XBT_NULL, "data/ringbench/grefs", val, len))
		fail("write data/ringbench/grefs");
	len = snprintf(val, sizeof(val), "%d", s->port);
	if (!xs_write(s->xs, XBT_NULL, "data/ringbench/port", val, len) ||
	    !xs_write(s->xs, XBT_NULL, "data/ringbench/ready", "1", 1))
		fail("write data/ringbench/port");
}

static int serve(unsigned int peer)
{
	struct side s = { .peer = peer };
	xengntshr_handle *gs;
	struct ctl *c;
	uint32_t seq = 0, next;
	uint64_t sig0, full0, blocks = 0;
	bool vchan_up = false;

	open_libs(&s);
	gs = xengntshr_open(NULL, 0);
	if (!gs)
		fail("open the grant sharing library");
	serve_setup(&s, gs);
	c = s.ctl = (struct ctl *)(s.mem + PG_CTL * PAGE);
	s.spsc = s.mem + PG_SPSC * PAGE;

	for (;;) {
		/* Between tests only: a slow poll of the command line. */
		while ((next = __atomic_load_n(&c->cmd_seq, __ATOMIC_ACQUIRE)) == seq)
			usleep(50);
		seq = next;
		if (c->test == T_QUIT)
			break;
		if ((c->test == T_VCHAN_STREAM || c->test == T_VCHAN_RTT) && !vchan_up) {
			vchan_connect(&s);
			vchan_up = true;
		}
		sig0 = ring_signals(&s.ring);
		full0 = ring_full(&s.ring);
		blocks = 0;
		__atomic_store_n(&c->ready_seq, seq, __ATOMIC_RELEASE);
		switch (c->test) {
		case T_SPSC:
		case T_FRAMED:
			spsc_tx(&s, c->size, c->ms, c->test == T_FRAMED);
			break;
		case T_VMB_STREAM:
			vmb_stream_tx(&s, c->size, c->ms, &blocks);
			break;
		case T_VCHAN_STREAM:
			vchan_stream_tx(&s, c->size, c->ms);
			break;
		case T_SPIN_PP:
			spin_pp_serve(&s, c->rounds);
			break;
		case T_VMB_RTT:
			vmb_rtt_serve(&s, c->poll, &blocks);
			break;
		case T_VCHAN_RTT:
			vchan_rtt_serve(&s, c->rounds);
			break;
		case T_EVTCHN_PP:
			evtchn_pp_serve(&s, c->rounds, (uint64_t)seq << 32);
			break;
		case T_PARK:
			/* Asleep, as the eventfd peer's CPU must be: no timer. */
			while (__atomic_load_n(&c->cmd_seq, __ATOMIC_ACQUIRE) == seq)
				wait_port(&s);
			break;
		default:
			fail_proto("unknown test");
		}
		c->a_signals = ring_signals(&s.ring) - sig0;
		c->a_full = ring_full(&s.ring) - full0;
		c->a_blocks = blocks;
		__atomic_store_n(&c->done_seq, seq, __ATOMIC_RELEASE);
	}
	libxenvchan_close(s.vchan);
	xs_rm(s.xs, XBT_NULL, "data/ringbench");
	xengntshr_unshare(gs, s.mem, NPAGES);
	xengntshr_close(gs);
	xenevtchn_close(s.xce);
	xs_close(s.xs);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The measuring side                                                  */
/* ------------------------------------------------------------------ */

static void client_setup(struct side *s, xengnttab_handle *gt)
{
	static uint32_t refs[NPAGES];
	char path[128], *v, *p;
	unsigned int i;

	snprintf(path, sizeof(path), "/local/domain/%u/data/ringbench/ready", s->peer);
	free(wait_node(s->xs, path));
	snprintf(path, sizeof(path), "/local/domain/%u/data/ringbench/grefs", s->peer);
	v = wait_node(s->xs, path);
	for (i = 0, p = v; i < NPAGES; i++)
		refs[i] = strtoul(p, &p, 10);
	free(v);
	snprintf(path, sizeof(path), "/local/domain/%u/data/ringbench/port", s->peer);
	v = wait_node(s->xs, path);
	s->port = xenevtchn_bind_interdomain(s->xce, s->peer, strtoul(v, NULL, 10));
	free(v);
	if (s->port < 0)
		fail("bind to the peer's port");
	s->mem = xengnttab_map_domain_grant_refs(gt, NPAGES, s->peer, refs,
						 PROT_READ | PROT_WRITE);
	if (!s->mem)
		fail("map the peer's pages");
	/* We are the other end: A's receive ring is our send ring. */
	if (vmbus_ring_init(&s->ring, s->mem + PG_B2A * PAGE, RING_PAGES * PAGE,
			    s->mem + PG_A2B * PAGE, RING_PAGES * PAGE, ring_signal, s))
		fail_proto("cannot attach to the rings");
	snprintf(path, sizeof(path), "/local/domain/%u/data/ringbench/vchan", s->peer);
	s->vchan = libxenvchan_client_init(NULL, (int)s->peer, path);
	if (!s->vchan)
		fail("connect to the vchan at data/ringbench/vchan");
	s->vchan->blocking = 1;
	s->ctl = (struct ctl *)(s->mem + PG_CTL * PAGE);
	s->spsc = s->mem + PG_SPSC * PAGE;
}

/* Hand A its part of the next test and wait until it runs it. */
static uint32_t start_test(struct side *s, enum test t, uint32_t size,
			   uint64_t ms, uint64_t rounds, bool poll)
{
	struct ctl *c = s->ctl;
	uint32_t seq = c->cmd_seq + 1;

	if (getenv("RINGBENCH_DEBUG"))
		fprintf(stderr, "test %u size %u\n", t, size);

	bool parked = c->test == T_PARK;

	c->test = t;
	c->size = size;
	c->ms = ms;
	c->rounds = rounds;
	c->poll = poll;
	/* Release: the parameters are visible before the command. */
	__atomic_store_n(&c->cmd_seq, seq, __ATOMIC_RELEASE);
	if (parked)
		ring_signal(s);
	if (t == T_QUIT)
		return seq;
	while (__atomic_load_n(&c->ready_seq, __ATOMIC_ACQUIRE) != seq)
		usleep(10);
	return seq;
}

static void end_test(struct side *s, uint32_t seq)
{
	while (__atomic_load_n(&s->ctl->done_seq, __ATOMIC_ACQUIRE) != seq)
		usleep(10);
}

#define MAXREP 15

/* Every figure, per repetition. */
struct figures {
	double spsc[NSIZES][MAXREP], vmb[NSIZES][MAXREP], vmb_pps[NSIZES][MAXREP];
	double framed[NSIZES][MAXREP];
	double vmb_sig[NSIZES][MAXREP], vmb_blk[NSIZES][MAXREP];
	double vchan[NSIZES][MAXREP];
	double spin[MAXREP], busy[MAXREP], busy_sig[MAXREP], busy_blk[MAXREP];
	double idle[MAXREP], idle_sig[MAXREP], efd[MAXREP], vchan_rtt[MAXREP];
	double evtchn[MAXREP];
	double cpu_share[MAXREP];	/* CPU we got while spinning / wall time */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, unsigned int n)
{
	double t[MAXREP];

	memcpy(t, v, n * sizeof(*t));
	qsort(t, n, sizeof(*t), cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/*
 * The three blocking round trips -- VMBus with the receivers idle, the
 * eventfd and the event-channel ping-pongs -- in IDLE_CHUNKS chunks each,
 * their order rotating, so that the host's wake-up latency, which drifts
 * by tens of percent over seconds, weighs on all three alike.
 */
#define IDLE_CHUNKS 10

static void idle_rtts(struct side *s, struct figures *f, unsigned int k,
		      uint64_t rounds, int peer_cpu)
{
	uint64_t chunk = rounds / IDLE_CHUNKS, sig = 0, made = 0;
	double vmb = 0, efd = 0, evt = 0;
	struct rtt_result rr;
	struct efd_peer ep;
	unsigned int c, j;
	uint32_t seq;

	if (chunk < 10)
		chunk = 10;
	efd_peer_start(&ep, chunk * IDLE_CHUNKS, peer_cpu);
	for (c = 0; c < IDLE_CHUNKS; c++) {
		for (j = 0; j < 3; j++) {
			switch ((c + j) % 3) {
			case 0:
				seq = start_test(s, T_VMB_RTT, 0, 0, 0, false);
				vmb_rtt_client(s, false, chunk, &rr);
				end_test(s, seq);
				vmb += rr.us;
				sig += rr.signals + s->ctl->a_signals;
				made += rr.made;
				break;
			case 1:
				/* A's side sleeps, its CPU idle as in the others. */
				seq = start_test(s, T_PARK, 0, 0, 0, false);
				efd += eventfd_rtt(&ep, chunk);
				break;
			default:
				seq = start_test(s, T_EVTCHN_PP, 0, 0, chunk, false);
				evt += evtchn_pp_client(s, chunk, (uint64_t)seq << 32);
				end_test(s, seq);
				break;
			}
		}
	}
	efd_peer_stop(&ep);
	f->idle[k] = vmb / IDLE_CHUNKS;
	f->idle_sig[k] = (double)sig / (double)made;
	f->efd[k] = efd / IDLE_CHUNKS;
	f->evtchn[k] = evt / IDLE_CHUNKS;
}

/*
 * The minimal ring, the framed ring and the VMBus ring stream @sizes[i]
 * in STREAM_CHUNKS chunks each, their order rotating, so that the host's
 * speed, which drifts by tens of percent over seconds here, weighs on the
 * VMBus ring and on its baselines alike.  Each figure is the sum of its
 * chunks' packets over the sum of their times.
 */
#define STREAM_CHUNKS 6

enum { ST_SPSC, ST_FRAMED, ST_VMB, ST_KINDS };

static void stream_chunks(struct side *s, struct figures *f, unsigned int k,
			  unsigned int i, uint64_t ms, uint64_t *wall,
			  uint64_t *cpu)
{
	uint64_t chunk_ms = ms / STREAM_CHUNKS ? ms / STREAM_CHUNKS : 1;
	struct stream_result acc[ST_KINDS] = { { 0 } }, sr;
	uint64_t a_signals = 0, a_blocks = 0, w0, c0;
	unsigned int c, j;
	uint32_t seq;

	for (c = 0; c < STREAM_CHUNKS; c++) {
		for (j = 0; j < ST_KINDS; j++) {
			switch ((c + j) % ST_KINDS) {
			case ST_SPSC:
				seq = start_test(s, T_SPSC, sizes[i], chunk_ms, 0, false);
				w0 = now_ns();
				c0 = cpu_ns();
				spsc_rx(s, sizes[i], false, &sr);
				*cpu += cpu_ns() - c0;
				*wall += now_ns() - w0;
				end_test(s, seq);
				stream_add(&acc[ST_SPSC], &sr, sizes[i]);
				break;
			case ST_FRAMED:
				seq = start_test(s, T_FRAMED, sizes[i], chunk_ms, 0, false);
				spsc_rx(s, sizes[i], true, &sr);
				end_test(s, seq);
				stream_add(&acc[ST_FRAMED], &sr, sizes[i]);
				break;
			default:
				seq = start_test(s, T_VMB_STREAM, sizes[i], chunk_ms, 0, true);
				vmb_stream_rx(s, sizes[i], &sr);
				end_test(s, seq);
				a_signals += s->ctl->a_signals;
				a_blocks += s->ctl->a_blocks;
				stream_add(&acc[ST_VMB], &sr, sizes[i]);
				break;
			}
		}
	}
	f->spsc[i][k] = acc[ST_SPSC].mbps;
	f->framed[i][k] = acc[ST_FRAMED].mbps;
	f->vmb[i][k] = acc[ST_VMB].mbps;
	f->vmb_pps[i][k] = acc[ST_VMB].pps;
	f->vmb_sig[i][k] = (double)(acc[ST_VMB].signals + a_signals) /
			   (double)acc[ST_VMB].packets;
	f->vmb_blk[i][k] = (double)(acc[ST_VMB].blocks + a_blocks) /
			   (double)acc[ST_VMB].packets;
}

static void run_once(struct side *s, struct figures *f, unsigned int k,
		     uint64_t ms, uint64_t rounds, int peer_cpu)
{
	struct stream_result sr;
	struct rtt_result rr;
	uint64_t wall = 0, cpu = 0, w0, c0;
	unsigned int i;
	uint32_t seq;

	for (i = 0; i < NSIZES; i++) {
		stream_chunks(s, f, k, i, ms, &wall, &cpu);

		seq = start_test(s, T_VCHAN_STREAM, sizes[i], ms, 0, false);
		vchan_stream_rx(s, sizes[i], &sr);
		end_test(s, seq);
		f->vchan[i][k] = sr.mbps;
	}

	seq = start_test(s, T_SPIN_PP, 0, 0, rounds * 5, false);
	w0 = now_ns();
	c0 = cpu_ns();
	f->spin[k] = spin_pp_client(s, rounds * 5);
	cpu += cpu_ns() - c0;
	wall += now_ns() - w0;
	end_test(s, seq);
	f->cpu_share[k] = (double)cpu / (double)wall;

	seq = start_test(s, T_VMB_RTT, 0, 0, 0, true);
	vmb_rtt_client(s, true, rounds * 5, &rr);
	end_test(s, seq);
	f->busy[k] = rr.us;
	f->busy_sig[k] = (double)(rr.signals + s->ctl->a_signals) / (double)rr.made;
	f->busy_blk[k] = (double)(rr.blocks + s->ctl->a_blocks) / (double)rr.made;

	idle_rtts(s, f, k, rounds, peer_cpu);

	seq = start_test(s, T_VCHAN_RTT, 0, 0, rounds + rounds / 10, false);
	f->vchan_rtt[k] = vchan_rtt_client(s, rounds + rounds / 10);
	end_test(s, seq);
}

static const char *verdict(bool ok)
{
	return ok ? "met" : "MISSED";
}

/* The host's load average while we ran: the baselines mean little when high. */
static double loadavg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static void report(const struct figures *f, unsigned int n, uint64_t ms,
		   uint64_t rounds, bool json_only)
{
	double spsc[NSIZES], vmb[NSIZES], pps[NSIZES], sig[NSIZES], blk[NSIZES];
	double framed[NSIZES];
	double vchan[NSIZES], spin, busy, busy_sig, busy_blk, idle, idle_sig, efd, vrtt, evt;
	double share = median(f->cpu_share, n);
	bool contended = share < 0.9;
	double sig_max = 0;
	unsigned int i;
	bool ok;

	for (i = 0; i < NSIZES; i++) {
		spsc[i] = median(f->spsc[i], n);
		framed[i] = median(f->framed[i], n);
		vmb[i] = median(f->vmb[i], n);
		pps[i] = median(f->vmb_pps[i], n);
		sig[i] = median(f->vmb_sig[i], n);
		blk[i] = median(f->vmb_blk[i], n);
		vchan[i] = median(f->vchan[i], n);
		if (sig[i] > sig_max)
			sig_max = sig[i];
	}
	spin = median(f->spin, n);
	busy = median(f->busy, n);
	busy_sig = median(f->busy_sig, n);
	busy_blk = median(f->busy_blk, n);
	idle = median(f->idle, n);
	idle_sig = median(f->idle_sig, n);
	efd = median(f->efd, n);
	vrtt = median(f->vchan_rtt, n);
	evt = median(f->evtchn, n);

	if (!json_only) {
		printf("ringbench: VMBus ring between two domains, %u KiB per direction, "
		       "median of %u runs (%" PRIu64 " ms per stream, %" PRIu64 " round trips), "
		       "load average %.2f\n\n", RING_DATA / 1024, n, ms, rounds, loadavg());
		printf("%-34s %11s %11s %9s %9s  %s\n", "streaming A->B", "VMBus",
		       "baseline", "ratio", "target", "");
		for (i = 0; i < NSIZES; i++) {
			char name[64];

			snprintf(name, sizeof(name), "%u B: MB/s vs minimal ring", sizes[i]);
			ok = spsc[i] ? vmb[i] / spsc[i] >= 0.8 : false;
			printf("%-34s %11.0f %11.0f %8.2fx %9s  %s\n", name, vmb[i], spsc[i],
			       vmb[i] / spsc[i], sizes[i] >= 4096 ? ">= 0.80x" : "-",
			       sizes[i] >= 4096 ? verdict(ok) : "");
		}
		for (i = 0; i < NSIZES; i++) {
			char name[64];

			snprintf(name, sizeof(name), "%u B: MB/s vs framed ring", sizes[i]);
			printf("%-34s %11.0f %11.0f %8.2fx\n", name, vmb[i], framed[i],
			       vmb[i] / framed[i]);
		}
		for (i = 0; i < NSIZES; i++) {
			char name[64];

			snprintf(name, sizeof(name), "%u B: MB/s vs libxenvchan", sizes[i]);
			ok = vmb[i] / vchan[i] >= 1.5;
			printf("%-34s %11.0f %11.0f %8.2fx %9s  %s\n", name, vmb[i], vchan[i],
			       vmb[i] / vchan[i], ">= 1.50x", verdict(ok));
		}
		for (i = 0; i < NSIZES; i++) {
			char name[64];

			snprintf(name, sizeof(name), "%u B: packets/s", sizes[i]);
			printf("%-34s %11.0f\n", name, pps[i]);
		}
		for (i = 0; i < NSIZES; i++) {
			char name[64];

			snprintf(name, sizeof(name), "%u B: signals/packet", sizes[i]);
			printf("%-34s %11.5f %11s %9s %9s  %s\n", name, sig[i], "", "",
			       "<= 0.01", verdict(sig[i] <= 0.01));
		}
		for (i = 0; i < NSIZES; i++) {
			char name[64];

			snprintf(name, sizeof(name), "%u B: blocking waits/packet", sizes[i]);
			printf("%-34s %11.5f\n", name, blk[i]);
		}
		printf("\n%-34s %11s %11s %9s %9s\n", "64 B round trip (us)", "VMBus",
		       "baseline", "ratio", "target");
		printf("%-34s %11.3f %11.3f %8.2fx %9s  %s\n", "both busy vs spin ping-pong",
		       busy, spin, busy / spin, "<= 3.00x", verdict(busy / spin <= 3));
		printf("%-34s %11.3f %11.3f %8.2fx %9s  %s\n", "receiver idle vs eventfd",
		       idle, efd, idle / efd, "<= 1.20x", verdict(idle / efd <= 1.2));
		printf("%-34s %11.3f %11.3f %8.2fx\n", "receiver idle vs evtchn ping-pong",
		       idle, evt, idle / evt);
		printf("%-34s %11.3f %11.3f %8.2fx\n", "receiver idle vs libxenvchan",
		       idle, vrtt, idle / vrtt);
		printf("%-34s %11.3f %11.3f %8.2fx\n", "evtchn ping-pong vs eventfd",
		       evt, efd, evt / efd);
		printf("%-34s %11.4f\n", "both busy: signals/round trip", busy_sig);
		printf("%-34s %11.4f\n", "both busy: blocking waits/round trip", busy_blk);
		printf("%-34s %11.4f\n", "idle: signals/round trip", idle_sig);
		/*
		 * A spinning side that did not get its CPU the whole time
		 * shared it with something else: the spinning baselines are
		 * then no limit at all.
		 */
		if (contended)
			printf("\nwarning: the measuring side got %.0f%% of a CPU while spinning "
			       "(load average %.2f): the spinning baselines are not limits in "
			       "this run\n", share * 100, loadavg());
		printf("\n");
	}
	printf("{\"runs\":%u,\"ring_bytes\":%u,\"stream_ms\":%" PRIu64 ",\"rounds\":%" PRIu64
	       ",\"loadavg\":%.2f", n, RING_DATA, ms, rounds, loadavg());
	for (i = 0; i < NSIZES; i++)
		printf(",\"stream_%u\":{\"vmbus_mbps\":%.1f,\"vmbus_pps\":%.0f,"
		       "\"signals_per_packet\":%.6f,\"blocks_per_packet\":%.6f,"
		       "\"spsc_mbps\":%.1f,\"framed_mbps\":%.1f,\"vchan_mbps\":%.1f,"
		       "\"ratio_spsc\":%.3f,\"ratio_framed\":%.3f,\"ratio_vchan\":%.3f}",
		       sizes[i], vmb[i], pps[i], sig[i], blk[i], spsc[i], framed[i],
		       vchan[i], vmb[i] / spsc[i], vmb[i] / framed[i], vmb[i] / vchan[i]);
	printf(",\"rtt_us\":{\"vmbus_busy\":%.3f,\"vmbus_idle\":%.3f,\"spin\":%.3f,"
	       "\"eventfd\":%.3f,\"evtchn\":%.3f,\"vchan\":%.3f,\"ratio_busy_spin\":%.3f,"
	       "\"ratio_idle_eventfd\":%.3f,\"busy_signals_per_rt\":%.4f,"
	       "\"busy_blocks_per_rt\":%.4f,\"idle_signals_per_rt\":%.4f}",
	       busy, idle, spin, efd, evt, vrtt, busy / spin, idle / efd, busy_sig,
	       busy_blk, idle_sig);
	ok = spsc[2] && vmb[2] / spsc[2] >= 0.8 && vmb[3] / spsc[3] >= 0.8 &&
	     sig_max <= 0.01 && busy / spin <= 3 && idle / efd <= 1.2;
	for (i = 0; i < NSIZES; i++)
		ok = ok && vmb[i] / vchan[i] >= 1.5;
	printf(",\"spin_cpu_share\":%.3f,\"contended\":%s,\"all_targets_met\":%s}\n",
	       share, contended ? "true" : "false", ok ? "true" : "false");
}

static int client(unsigned int peer, uint64_t ms, uint64_t rounds,
		  unsigned int repeat, int peer_cpu, bool json_only)
{
	struct side s = { .peer = peer };
	static struct figures f;
	xengnttab_handle *gt;
	unsigned int k;

	open_libs(&s);
	gt = xengnttab_open(NULL, 0);
	if (!gt)
		fail("open the grant mapping library");
	client_setup(&s, gt);
	for (k = 0; k < repeat; k++)
		run_once(&s, &f, k, ms, rounds, peer_cpu);
	start_test(&s, T_QUIT, 0, 0, 0, false);
	report(&f, repeat, ms, rounds, json_only);
	libxenvchan_close(s.vchan);
	xengnttab_unmap(gt, s.mem, NPAGES);
	xengnttab_close(gt);
	xenevtchn_close(s.xce);
	xs_close(s.xs);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: ringbench serve --peer DOMID\n"
		   "       ringbench client --peer DOMID [--time-ms N] [--rounds N]"
		   " [--repeat N] [--json]\n"
		   "  both: [--cpu N]  run on CPU N; client: [--peer-cpu N] where the"
		   " serving side runs\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "peer", required_argument, NULL, 'p' },
		{ "time-ms", required_argument, NULL, 't' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "cpu", required_argument, NULL, 'c' },
		{ "peer-cpu", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int peer = 0, repeat = 3;
	int cpu = -1, peer_cpu = -1;
	uint64_t ms = 300, rounds = 20000;
	bool json = false, have_peer = false;
	int opt;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	optind = 2;
	while ((opt = getopt_long(argc, argv, "p:t:r:n:jc:C:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p': peer = strtoul(optarg, NULL, 0); have_peer = true; break;
		case 't': ms = strtoull(optarg, NULL, 0); break;
		case 'r': rounds = strtoull(optarg, NULL, 0); break;
		case 'n': repeat = strtoul(optarg, NULL, 0); break;
		case 'j': json = true; break;
		case 'c': cpu = (int)strtol(optarg, NULL, 0); break;
		case 'C': peer_cpu = (int)strtol(optarg, NULL, 0); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!have_peer || rounds < 100 || !ms || !repeat || repeat > MAXREP) {
		usage(stderr);
		return 2;
	}
	pin_cpu(cpu);
	ticks_calibrate();
	if (!strcmp(argv[1], "serve"))
		return serve(peer);
	if (!strcmp(argv[1], "client"))
		return client(peer, ms, rounds, repeat, peer_cpu, json);
	usage(stderr);
	return 2;
}
