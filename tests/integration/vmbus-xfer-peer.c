// SPDX-License-Identifier: GPL-2.0-only
/*
 * Both ends of libvmbus's memory-naming packets, for vmbus-xfer.sh:
 *   vmbus-xfer-peer server DOMID   serve DOMID's bus (run in dom0) with one
 *                                  pipe "xfer" whose handler follows the
 *                                  commands below.
 *   vmbus-xfer-peer client         (run in the guest) the scenario: GPADLs
 *                                  of 1 page, 1 MiB and read-only used both
 *                                  ways with checksums; GPADL against
 *                                  in-band throughput; a transfer page set
 *                                  and 1000 packets into it with
 *                                  completions; hostile packets each way;
 *                                  a teardown that waits for the server;
 *                                  a packet into a set completed only
 *                                  after the set was removed, also when
 *                                  the removal reuses its trans_id;
 *                                  everything released.
 *
 * Commands are in-band packets (struct cmd) asking for a completion, which
 * carries a struct reply.  A DATA_USING_GPADL packet from the client
 * carries struct gpa_note in-band: the checksum of its ranges and whether
 * the server should overwrite them and send them back the same way.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <xenvmbus/ring.h>

#include "libvmbus.h"

#define PIPE_NAME	"xfer"
#define RING_PAGES	64
#define BUF_BYTES	(128 * 1024)
#define MIB		(1u << 20)

enum { OP_MAP = 1, OP_UNMAP, OP_UNMAP_LATER, OP_XFER_RUN, OP_HOSTILE,
       OP_STATS, OP_SUM };

struct cmd {
	uint32_t op;
	uint32_t id;		/* GPADL id, or transfer page set id */
	uint32_t count;
	uint32_t size;
	uint32_t pool;		/* OP_XFER_RUN: bytes of the set */
	uint32_t arg;		/* OP_UNMAP_LATER: ms; OP_HOSTILE: GPADL id */
};

struct reply {
	int32_t status;
	uint32_t pad;
	uint64_t sum;
	uint64_t a, b;
};

struct gpa_note {
	uint64_t sum;
	uint32_t write_back;
	uint32_t pad;
};

/* Markers for the server's own requests (completion contexts). */
#define CTX_WRITEBACK	((void *)1)
#define CTX_HOSTILE	((void *)2)
#define CTX_SLOT(i)	((void *)(uintptr_t)(16 + (i)))

/* In the client's table of hostile packets: the 1-page GPADL's id. */
#define G1		0xffffffffu

static uint64_t csum(uint64_t h, const uint8_t *p, size_t n)
{
	uint64_t w;

	for (; n >= 8; n -= 8, p += 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x100000001b3ull;
	}
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (; n >= 8; n -= 8, p += 8) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		memcpy(p, &x, 8);
	}
	while (n--)
		*p++ = (uint8_t)(x >>= 8);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Checksum of every range of a received packet. */
static uint64_t rx_sum(const struct vmbus_rxpkt *rx)
{
	uint64_t h = 0;
	uint32_t i;

	for (i = 0; i < rx->nranges; i++)
		h = csum(h, vmbus_rxpkt_ptr(rx, i), rx->ranges[i].byte_count);
	return h;
}

/* ------------------------------------------------------------------ */
/* Server                                                               */
/* ------------------------------------------------------------------ */

static volatile sig_atomic_t stop;
static int epfd = -1;

#define MAX_MAPS	16
#define MAX_SLOTS	256

struct sstate {
	struct vmbus_gpadl *maps[MAX_MAPS];
	struct vmbus_gpadl *later;
	double later_at;
	/* a transfer-page run */
	bool run;
	uint64_t run_trans;
	uint16_t set;
	uint32_t left, sent, done, bad, slot_size, nslots, reused;
	bool busy[MAX_SLOTS];
	/* hostile packets sent to the client, and their completions */
	uint64_t hostile_trans;
	uint32_t hostile_sent, hostile_failed;
	bool hostile;
	uint32_t wb_failed;
	/* a transfer-page packet held across the removal of its set */
	const uint8_t *held;
	uint32_t held_len;
	struct vmbus_rxpkt held_rx;
	uint64_t buf[BUF_BYTES / 8];
};

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int reply(struct vmbus_chan *c, uint64_t trans, int status,
		 uint64_t sum, uint64_t a, uint64_t b)
{
	struct reply r = { .status = status, .sum = sum, .a = a, .b = b };
	int rc = vmbus_chan_send_comp(c, trans, &r, sizeof(r));

	if (rc)
		fprintf(stderr, "server: failed to complete %llu: %s\n",
			(unsigned long long)trans, strerror(-rc));
	return rc;
}

static struct vmbus_gpadl **find_map(struct sstate *st, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < MAX_MAPS; i++)
		if (st->maps[i] && vmbus_gpadl_id(st->maps[i]) == id)
			return &st->maps[i];
	return NULL;
}

/* Send the next transfer-page packets of a run, as slots come free. */
static void run_pump(struct vmbus_chan *c, struct sstate *st)
{
	struct vmbus_range r[2];
	uint64_t trans, sum;
	uint32_t i, half;
	uint8_t *p;
	int rc;

	while (st->run && st->left) {
		for (i = 0; i < st->nslots && st->busy[i]; i++)
			;
		if (i == st->nslots)
			return;
		half = st->slot_size / 2;
		p = vmbus_xferset_ptr(c, st->set, (uint64_t)i * st->slot_size,
				      st->slot_size, true);
		if (!p) {
			fprintf(stderr, "server: set %u has no slot %u\n",
				st->set, i);
			st->run = false;
			return;
		}
		fill(p, st->slot_size, st->sent);
		/* Two ranges, second half first, to exercise the list. */
		r[0] = (struct vmbus_range){ half, i * st->slot_size + half };
		r[1] = (struct vmbus_range){ st->slot_size - half,
					     i * st->slot_size };
		sum = csum(csum(0, p + half, st->slot_size - half), p, half);
		if (vmbus_chan_trans_alloc(c, CTX_SLOT(i), &trans))
			return;
		rc = vmbus_chan_send_xfer(c, st->set, r, 2, &sum, sizeof(sum),
					  trans, true);
		if (rc) {
			vmbus_chan_trans_cancel(c, trans, NULL);
			if (rc != -EAGAIN) {
				fprintf(stderr, "server: xfer send: %s\n",
					strerror(-rc));
				st->run = false;
			}
			return;
		}
		st->busy[i] = true;
		st->sent++;
		st->left--;
	}
}

static void run_finish(struct vmbus_chan *c, struct sstate *st)
{
	if (!st->run || st->left || st->done < st->sent)
		return;
	st->run = false;
	printf("server: transfer run on set %u: %u packets, %u completions, "
	       "%u bad, %u slot reuses\n", st->set, st->sent, st->done,
	       st->bad, st->reused);
	reply(c, st->run_trans, st->bad ? -EIO : 0, 0, st->done, st->bad);
}

/* Packets a hostile server sends: each names memory it must not. */
static void send_hostile(struct vmbus_chan *c, struct sstate *st,
			 const struct cmd *k)
{
	struct {
		uint32_t id;		/* gpadl_id, or pageset_id + owns */
		uint32_t count;
		struct vmbus_range r[2];
	} h;
	struct vmbus_range big = { 16, (uint32_t)k->pool - 8 };
	uint64_t trans;
	int i;

	for (i = 0; i < 5; i++) {
		uint16_t type = VMBUS_PKT_DATA_USING_XFER_PAGES;
		size_t len = 8 + sizeof(struct vmbus_range);

		memset(&h, 0, sizeof(h));
		h.count = 1;
		h.r[0] = big;
		switch (i) {
		case 0:		/* crosses the end of the set */
			h.id = k->id;
			break;
		case 1:		/* a set that does not exist */
			h.id = 999;
			h.r[0] = (struct vmbus_range){ 8, 0 };
			break;
		case 2:		/* wraps 32 bits */
			h.id = k->id;
			h.r[0] = (struct vmbus_range){ 0xffffffffu, 16 };
			break;
		case 3:		/* crosses the end of the GPADL */
			type = VMBUS_PKT_DATA_USING_GPADL;
			h.id = k->arg;
			break;
		case 4:		/* says two ranges, carries one */
			type = VMBUS_PKT_DATA_USING_GPADL;
			h.id = k->arg;
			h.count = 2;
			break;
		}
		if (vmbus_chan_trans_alloc(c, CTX_HOSTILE, &trans))
			break;
		if (vmbus_chan_send_raw(c, type, 1, trans, &h, len, NULL, 0)) {
			vmbus_chan_trans_cancel(c, trans, NULL);
			break;
		}
		st->hostile_sent++;
	}
	st->hostile = true;
}

static void hostile_finish(struct vmbus_chan *c, struct sstate *st)
{
	if (!st->hostile || st->hostile_failed < st->hostile_sent)
		return;
	st->hostile = false;
	reply(c, st->hostile_trans, 0, 0, st->hostile_sent,
	      st->hostile_failed);
}

static void do_cmd(struct vmbus_chan *c, struct sstate *st,
		   const struct vmbus_rxpkt *rx)
{
	struct cmd k;
	struct vmbus_gpadl **slot;
	unsigned int i;
	int rc;

	if (rx->len != sizeof(k)) {
		/* Data, not a command: its checksum (the in-band bench). */
		reply(c, rx->trans_id, 0, csum(0, rx->data, rx->len), 0, 0);
		return;
	}
	memcpy(&k, rx->data, sizeof(k));
	switch (k.op) {
	case OP_MAP:
		for (i = 0; i < MAX_MAPS && st->maps[i]; i++)
			;
		if (i == MAX_MAPS) {
			reply(c, rx->trans_id, -ENOSPC, 0, 0, 0);
			return;
		}
		rc = vmbus_gpadl_map(c, k.id, &st->maps[i]);
		reply(c, rx->trans_id, rc, 0,
		      rc ? 0 : vmbus_gpadl_size(st->maps[i]),
		      rc ? 0 : vmbus_gpadl_writable(st->maps[i]));
		return;
	case OP_UNMAP:
	case OP_UNMAP_LATER:
		slot = find_map(st, k.id);
		if (!slot) {
			reply(c, rx->trans_id, -ENOENT, 0, 0, 0);
			return;
		}
		if (k.op == OP_UNMAP) {
			vmbus_gpadl_unmap(*slot);
		} else {
			st->later = *slot;
			st->later_at = now_s() + k.arg / 1000.0;
		}
		*slot = NULL;
		reply(c, rx->trans_id, 0, 0, 0, 0);
		return;
	case OP_SUM:		/* checksum of a mapped GPADL's bytes */
		slot = find_map(st, k.id);
		if (!slot || !vmbus_gpadl_ptr(*slot, k.pool, k.size, false)) {
			reply(c, rx->trans_id, -ERANGE, 0, 0, 0);
			return;
		}
		reply(c, rx->trans_id, 0,
		      csum(0, vmbus_gpadl_ptr(*slot, k.pool, k.size, false),
			   k.size), 0, 0);
		return;
	case OP_XFER_RUN:
		if (st->run || !k.size || k.pool / k.size == 0 ||
		    k.pool / k.size > MAX_SLOTS) {
			reply(c, rx->trans_id, -EINVAL, 0, 0, 0);
			return;
		}
		memset(st->busy, 0, sizeof(st->busy));
		st->run = true;
		st->run_trans = rx->trans_id;
		st->set = (uint16_t)k.id;
		st->left = k.count;
		st->sent = st->done = st->bad = st->reused = 0;
		st->slot_size = k.size;
		st->nslots = k.pool / k.size;
		run_pump(c, st);
		return;
	case OP_HOSTILE:
		st->hostile_trans = rx->trans_id;
		st->hostile_sent = st->hostile_failed = 0;
		send_hostile(c, st, &k);
		hostile_finish(c, st);
		return;
	case OP_STATS:
		reply(c, rx->trans_id, 0, 0, vmbus_chan_refused(c),
		      st->wb_failed);
		return;
	default:
		reply(c, rx->trans_id, -EOPNOTSUPP, 0, 0, 0);
	}
}

/* A GPADL packet from the client: check, maybe write back, complete. */
static void do_gpa(struct vmbus_chan *c, const struct vmbus_rxpkt *rx)
{
	struct gpa_note note, back;
	uint64_t sum = rx_sum(rx), trans;
	uint32_t i, j;
	int status = 0;

	if (rx->len != sizeof(note)) {
		reply(c, rx->trans_id, -EINVAL, sum, 0, 0);
		return;
	}
	memcpy(&note, rx->data, sizeof(note));
	if (note.sum != sum)
		status = -EIO;
	else if (note.write_back && !rx->writable)
		status = -EACCES;
	else if (note.write_back) {
		for (i = 0; i < rx->nranges; i++) {
			uint8_t *p = vmbus_rxpkt_ptr(rx, i);

			for (j = 0; j < rx->ranges[i].byte_count; j++)
				p[j] = (uint8_t)(p[j] * 7 + 1);
		}
		memset(&back, 0, sizeof(back));
		back.sum = rx_sum(rx);
		if (vmbus_chan_trans_alloc(c, CTX_WRITEBACK, &trans) ||
		    vmbus_chan_send_gpa(c, rx->id, rx->ranges, rx->nranges,
					&back, sizeof(back), trans, true))
			status = -EIO;
	}
	if (rx->flags & 1)
		reply(c, rx->trans_id, status, sum, 0, 0);
}

static void do_comp(struct vmbus_chan *c, struct sstate *st,
		    const struct vmbus_rxpkt *rx)
{
	struct reply r = { .status = -EPROTO };
	uintptr_t v = (uintptr_t)rx->ctx;

	if (rx->len >= sizeof(r))
		memcpy(&r, rx->data, sizeof(r));
	if (rx->ctx == CTX_WRITEBACK) {
		if (r.status)
			st->wb_failed++;
	} else if (rx->ctx == CTX_HOSTILE) {
		if (r.status)
			st->hostile_failed++;
		hostile_finish(c, st);
	} else if (v >= 16 && v - 16 < MAX_SLOTS) {
		/* The client is done with the slot: only now is it free. */
		if (!st->busy[v - 16])
			st->reused++;
		st->busy[v - 16] = false;
		st->done++;
		if (r.status)
			st->bad++;
		run_pump(c, st);
		run_finish(c, st);
	}
}

static void srv_chan(struct vmbus_chan *c)
{
	struct sstate *st = vmbus_chan_get_data(c);
	struct vmbus_rxpkt rx;
	int rc;

	vmbus_chan_ack(c);
	for (;;) {
		rc = vmbus_chan_recv_pkt(c, &rx, st->buf, sizeof(st->buf));
		if (rc == -EBADMSG) {
			/* Refused: say so if the sender waits for it. */
			if (rx.flags & 1)
				reply(c, rx.trans_id, rx.error, 0, 0, 0);
			continue;
		}
		if (rc)
			break;
		switch (rx.type) {
		case VMBUS_PKT_DATA_INBAND:
			do_cmd(c, st, &rx);
			break;
		case VMBUS_PKT_DATA_USING_GPADL:
			do_gpa(c, &rx);
			break;
		case VMBUS_PKT_DATA_USING_XFER_PAGES:
			/*
			 * Kept, not completed: the client removes the set
			 * next, and the server reads the memory only then.
			 */
			if (st->held || rx.nranges != 1 || !(rx.flags & 1)) {
				if (rx.flags & 1)
					reply(c, rx.trans_id, -EINVAL, 0, 0, 0);
				break;
			}
			st->held = vmbus_rxpkt_ptr(&rx, 0);
			st->held_len = rx.ranges[0].byte_count;
			st->held_rx = rx;
			break;
		case VMBUS_PKT_ADD_XFER_PAGESET:
		case VMBUS_PKT_RM_XFER_PAGESET:
			printf("server: %s transfer page set %u (GPADL %u)\n",
			       rx.type == VMBUS_PKT_ADD_XFER_PAGESET ?
			       "added" : "removed", rx.id, rx.gpadl_id);
			if (rx.flags & 1)
				reply(c, rx.trans_id, 0, 0, 0, 0);
			if (rx.type == VMBUS_PKT_RM_XFER_PAGESET && st->held) {
				/*
				 * The set is gone, and its removal completed
				 * (perhaps under the held packet's trans_id):
				 * the packet still holds the memory.
				 */
				struct reply r = {
					.sum = csum(0, st->held, st->held_len),
				};

				vmbus_chan_complete_pkt(c, &st->held_rx, &r,
							sizeof(r));
				st->held = NULL;
			}
			break;
		case VMBUS_PKT_COMP:
			do_comp(c, st, &rx);
			break;
		default:
			if (rx.flags & 1)
				reply(c, rx.trans_id, -EOPNOTSUPP, 0, 0, 0);
		}
	}
	run_pump(c, st);
}

static void srv_tick(struct vmbus_chan *c, void *arg)
{
	struct sstate *st = vmbus_chan_get_data(c);

	(void)arg;
	if (st->later && now_s() >= st->later_at) {
		vmbus_gpadl_unmap(st->later);
		st->later = NULL;
	}
	srv_chan(c);
}

static int srv_open(struct vmbus_server *s, struct vmbus_chan *c,
		    void *cookie, void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	struct sstate *st = calloc(1, sizeof(*st));

	(void)s; (void)cookie; (void)arg;
	if (!st)
		return -ENOMEM;
	vmbus_chan_set_data(c, st);
	printf("server: channel %u opened\n", vmbus_chan_relid(c));
	return epoll_ctl(epfd, EPOLL_CTL_ADD, vmbus_chan_fd(c), &ev) < 0 ?
		-errno : 0;
}

static void srv_close(struct vmbus_server *s, struct vmbus_chan *c,
		      void *cookie, void *arg)
{
	struct sstate *st = vmbus_chan_get_data(c);
	unsigned int i, held = 0;

	(void)s; (void)cookie; (void)arg;
	epoll_ctl(epfd, EPOLL_CTL_DEL, vmbus_chan_fd(c), NULL);
	for (i = 0; i < MAX_MAPS; i++)
		if (st->maps[i]) {
			held++;
			vmbus_gpadl_unmap(st->maps[i]);
		}
	vmbus_gpadl_unmap(st->later);
	printf("server: channel %u closed, %u mappings still held, %llu "
	       "packets refused\n", vmbus_chan_relid(c), held,
	       (unsigned long long)vmbus_chan_refused(c));
	free(st);
}

static const struct vmbus_server_ops ops = { srv_open, srv_close };

static int run_server(unsigned int domid)
{
	struct vmbus_offer_desc d = { .flags = VMBUS_OFFER_FLAG_NAMED_PIPE |
						VMBUS_OFFER_FLAG_GPADLS,
				      .nversions = 1,
				      .versions = { VMBUS_PIPE_VERSION_1_0 } };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }, evs[8];
	struct vmbus_server *s;
	int rc, n, i;

	epfd = epoll_create1(0);
	vmbus_guid_parse(VMBUS_PIPE_CLASS_GUID, d.type);
	d.instance[15] = 2;
	d.user_data[0] = VMBUS_PIPE_MODE_MESSAGE;
	strcpy((char *)d.user_data + VMBUS_PIPE_NAME_OFFSET, PIPE_NAME);
	rc = vmbus_server_create(&s, domid, &ops, NULL);
	if (rc) {
		fprintf(stderr, "server: failed to serve domain %u: %s\n",
			domid, strerror(-rc));
		return 1;
	}
	vmbus_server_offer(s, &d, NULL);
	epoll_ctl(epfd, EPOLL_CTL_ADD, vmbus_server_fd(s), &ev);
	printf("server: serving domain %u\n", domid);
	while (!stop) {
		n = epoll_wait(epfd, evs, 8, 50);
		for (i = 0; i < n; i++) {
			if (!evs[i].data.ptr)
				vmbus_server_process(s);
			else
				srv_chan(evs[i].data.ptr);
		}
		vmbus_server_foreach_chan(s, srv_tick, NULL);
	}
	vmbus_server_destroy(s);
	close(epfd);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Client                                                               */
/* ------------------------------------------------------------------ */

struct req {
	bool done;
	struct reply r;
};

struct client {
	struct vmbus_chan *c;
	uint64_t buf[BUF_BYTES / 8];
	/* what arrived from the server */
	uint32_t xfer_got, xfer_bad, gpa_got, gpa_bad, refused;
	bool xfer_reorder_seen;
	uint32_t inflight;		/* bench: requests not completed */
	uint64_t bench_bad;
};

static int failures;

static void result(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void result(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("client: %s: ", ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		failures++;
}

static int complete(struct client *cl, uint64_t trans, int status,
		    uint64_t sum)
{
	struct reply r = { .status = status, .sum = sum };
	int rc;

	while ((rc = vmbus_chan_send_comp(cl->c, trans, &r, sizeof(r))) ==
	       -EAGAIN)
		vmbus_chan_wait(cl->c, 100);
	return rc;
}

/* Handle everything that arrived.  Returns -errno on a broken channel. */
static int drain(struct client *cl)
{
	struct vmbus_rxpkt rx;
	struct reply r;
	uint64_t sum, want = 0;
	struct req *q;
	int rc;

	for (;;) {
		rc = vmbus_chan_recv_pkt(cl->c, &rx, cl->buf, sizeof(cl->buf));
		if (rc == -EAGAIN)
			return 0;
		if (rc == -EBADMSG) {
			cl->refused++;
			if (rx.flags & 1)
				complete(cl, rx.trans_id, rx.error, 0);
			continue;
		}
		if (rc)
			return rc;
		switch (rx.type) {
		case VMBUS_PKT_COMP:
			q = rx.ctx;
			memset(&r, 0, sizeof(r));
			if (rx.len >= sizeof(r))
				memcpy(&r, rx.data, sizeof(r));
			if (q == NULL) {
				/* a bench request: only its status counts */
				cl->inflight--;
				if (r.status)
					cl->bench_bad++;
				break;
			}
			q->r = r;
			q->done = true;
			break;
		case VMBUS_PKT_DATA_USING_XFER_PAGES:
		case VMBUS_PKT_DATA_USING_GPADL:
			sum = rx_sum(&rx);
			memcpy(&want, rx.data, rx.len >= 8 ? 8 : 0);
			if (rx.len < 8 || sum != want) {
				if (rx.type == VMBUS_PKT_DATA_USING_GPADL)
					cl->gpa_bad++;
				else
					cl->xfer_bad++;
			}
			if (rx.type == VMBUS_PKT_DATA_USING_GPADL)
				cl->gpa_got++;
			else
				cl->xfer_got++;
			if (rx.flags & 1)
				complete(cl, rx.trans_id,
					 sum == want ? 0 : -EIO, sum);
			break;
		default:
			break;
		}
	}
}

/* Wait until @q is completed (handling everything else meanwhile). */
static int wait_req(struct client *cl, struct req *q)
{
	double end = now_s() + 10;
	int rc;

	while (!q->done) {
		rc = drain(cl);
		if (rc)
			return rc;
		if (q->done)
			break;
		if (now_s() > end)
			return -ETIMEDOUT;
		vmbus_chan_wait(cl->c, 100);
	}
	return 0;
}

/* Send a command and wait for its reply. */
static int call(struct client *cl, struct cmd k, struct reply *out)
{
	struct req q = { 0 };
	uint64_t trans;
	int rc;

	rc = vmbus_chan_trans_alloc(cl->c, &q, &trans);
	if (rc)
		return rc;
	while ((rc = vmbus_chan_send(cl->c, &k, sizeof(k), trans, 1)) ==
	       -EAGAIN)
		vmbus_chan_wait(cl->c, 100);
	if (rc) {
		vmbus_chan_trans_cancel(cl->c, trans, NULL);
		return rc;
	}
	rc = wait_req(cl, &q);
	if (!rc && out)
		*out = q.r;
	return rc ? rc : q.r.status;
}

/* A GPADL packet with a checksum; optionally the server writes back. */
static int gpa_roundtrip(struct client *cl, struct vmbus_gpadl *g,
			 const struct vmbus_range *r, uint32_t n,
			 bool write_back, uint64_t seed)
{
	struct gpa_note note = { .write_back = write_back };
	uint32_t i, got = cl->gpa_got, bad = cl->gpa_bad;
	struct req q = { 0 };
	uint64_t trans;
	int rc;

	for (i = 0; i < n; i++)
		fill(vmbus_gpadl_ptr(g, r[i].byte_offset, r[i].byte_count,
				     true), r[i].byte_count, seed + i);
	for (i = 0; i < n; i++)
		note.sum = csum(note.sum, vmbus_gpadl_ptr(g, r[i].byte_offset,
							  r[i].byte_count,
							  false),
				r[i].byte_count);
	rc = vmbus_chan_trans_alloc(cl->c, &q, &trans);
	if (!rc)
		rc = vmbus_chan_send_gpa(cl->c, vmbus_gpadl_id(g), r, n, &note,
					 sizeof(note), trans, true);
	if (!rc)
		rc = wait_req(cl, &q);
	if (rc)
		return rc;
	if (q.r.status)
		return q.r.status;
	if (q.r.sum != note.sum)
		return -EIO;
	if (write_back) {
		/* The server's packet came before its completion. */
		if (cl->gpa_got != got + 1 || cl->gpa_bad != bad)
			return -EIO;
	}
	return 0;
}

/* count requests of size bytes: GPADL slots or in-band; MB/s. */
static double bench(struct client *cl, struct vmbus_gpadl *g, uint32_t count,
		    uint32_t size, uint8_t *tx)
{
	uint32_t nslots = (uint32_t)((g ? vmbus_gpadl_size(g) : MIB) / size);
	uint32_t sent = 0, slot = 0;
	struct gpa_note note = { 0 };
	struct vmbus_range r;
	double t0 = now_s();
	uint64_t trans;
	uint8_t *p;
	int rc = 0;

	if (nslots > 32)
		nslots = 32;
	cl->inflight = 0;
	cl->bench_bad = 0;
	while (sent < count || cl->inflight) {
		rc = 0;
		vmbus_chan_batch_begin(cl->c);
		while (sent < count && cl->inflight < nslots) {
			/* Slots are reused round robin once completed. */
			/* The same working set both ways: 1 MiB of slots. */
			p = g ? vmbus_gpadl_ptr(g, (uint64_t)slot * size, size,
						true) : tx + (size_t)slot * size;
			fill(p, size, sent);
			note.sum = csum(0, p, size);
			if (vmbus_chan_trans_alloc(cl->c, NULL, &trans))
				break;
			if (g) {
				r = (struct vmbus_range){ size, slot * size };
				rc = vmbus_chan_send_gpa(cl->c, vmbus_gpadl_id(g),
							 &r, 1, &note,
							 sizeof(note), trans,
							 true);
			} else {
				rc = vmbus_chan_send(cl->c, p, size, trans, 1);
			}
			if (rc) {
				vmbus_chan_trans_cancel(cl->c, trans, NULL);
				break;
			}
			sent++;
			cl->inflight++;
			slot = (slot + 1) % nslots;
		}
		vmbus_chan_batch_commit(cl->c);
		if (drain(cl))
			return -1;
		/* Ring full: the reader signals once space is free. */
		if (cl->inflight >= nslots || sent == count || rc == -EAGAIN)
			vmbus_chan_wait(cl->c, 100);
	}
	if (cl->bench_bad)
		return -1;
	return (double)count * size / (now_s() - t0) / 1e6;
}

static int run_client(void)
{
	struct client *cl = calloc(1, sizeof(*cl));
	struct vmbus_gpadl *g1 = NULL, *g2 = NULL, *g3 = NULL, *pool = NULL;
	struct vmbus_bus *bus = NULL;
	struct vmbus_offer off;
	struct reply r;
	struct req q;
	uint64_t trans;
	uint8_t *tx = malloc(MIB);
	double t, mbs_gpa, mbs_inband;
	int rc, round;

	rc = vmbus_bus_open(&bus, 10000);
	if (rc) {
		fprintf(stderr, "client: failed to open the bus: %s\n",
			strerror(-rc));
		return 1;
	}
	rc = vmbus_bus_find_pipe(bus, PIPE_NAME, &off);
	if (!rc)
		rc = vmbus_chan_open(bus, off.relid, RING_PAGES, 1, 10000,
				     &cl->c);
	if (rc) {
		fprintf(stderr, "client: failed to open \"%s\": %s\n",
			PIPE_NAME, strerror(-rc));
		goto out;
	}
	vmbus_chan_trans_init(cl->c, 256);

	/* --- a GPADL of one page --- */
	rc = vmbus_gpadl_create(cl->c, 4096, 0, 5000, &g1);
	result(!rc && vmbus_gpadl_size(g1) == 4096,
	       "GPADL of 1 page created (%s)", strerror(-rc));
	if (rc)
		goto out;
	rc = call(cl, (struct cmd){ .op = OP_MAP, .id = vmbus_gpadl_id(g1) },
		  &r);
	result(!rc && r.a == 4096 && r.b == 1,
	       "server mapped GPADL %u: %llu bytes, writable %llu",
	       vmbus_gpadl_id(g1), (unsigned long long)r.a,
	       (unsigned long long)r.b);
	{
		struct vmbus_range whole = { 4096, 0 };
		struct vmbus_range parts[3] = { { 100, 8 }, { 3000, 1000 },
						{ 1, 4095 } };

		rc = gpa_roundtrip(cl, g1, &whole, 1, true, 1);
		if (!rc)
			rc = gpa_roundtrip(cl, g1, parts, 3, true, 2);
		result(!rc, "1-page GPADL both ways with checksums, 1 and 3 "
		       "ranges (%s)", strerror(-rc));
	}

	/* --- a GPADL of 1 MiB --- */
	rc = vmbus_gpadl_create(cl->c, MIB, 0, 5000, &g2);
	result(!rc, "GPADL of 1 MiB (256 pages) created (%s)", strerror(-rc));
	if (rc)
		goto out;
	rc = call(cl, (struct cmd){ .op = OP_MAP, .id = vmbus_gpadl_id(g2) },
		  &r);
	result(!rc && r.a == MIB, "server mapped the 1 MiB GPADL");
	{
		struct vmbus_range whole = { MIB, 0 };
		struct vmbus_range parts[4] = { { 5000, 1 },
						{ 65536, 300000 },
						{ 1, MIB - 1 },
						{ 200000, MIB - 200000 } };

		rc = gpa_roundtrip(cl, g2, &whole, 1, true, 3);
		if (!rc)
			rc = gpa_roundtrip(cl, g2, parts, 4, true, 4);
		result(!rc, "1 MiB GPADL both ways with checksums, whole and "
		       "4 ranges (%s)", strerror(-rc));
	}
	/* The server sees what we wrote, at any offset. */
	fill(vmbus_gpadl_ptr(g2, 777777, 4321, true), 4321, 99);
	rc = call(cl, (struct cmd){ .op = OP_SUM, .id = vmbus_gpadl_id(g2),
				    .size = 4321, .pool = 777777 }, &r);
	result(!rc && r.sum == csum(0, vmbus_gpadl_ptr(g2, 777777, 4321,
							 false), 4321),
	       "server reads the client's bytes in place");
	result(!vmbus_gpadl_ptr(g2, MIB - 10, 11, false) &&
	       !vmbus_gpadl_ptr(g2, UINT64_MAX, 2, false) &&
	       vmbus_chan_send_gpa(cl->c, vmbus_gpadl_id(g2),
				   &(struct vmbus_range){ 11, MIB - 10 }, 1,
				   NULL, 0, 0, false) == -ERANGE &&
	       vmbus_chan_send_gpa(cl->c, 12345,
				   &(struct vmbus_range){ 1, 0 }, 1,
				   NULL, 0, 0, false) == -ENOENT,
	       "the sender refuses ranges outside its GPADL and unknown ids");

	/* --- throughput: GPADL packets against in-band, same run --- */
	/* Best of three, alternating: the host is shared. */
	mbs_gpa = mbs_inband = 0;
	for (round = 0; round < 3; round++) {
		t = bench(cl, g2, 1024, 32768, tx);
		mbs_gpa = t < 0 || mbs_gpa < 0 ? -1 : t > mbs_gpa ? t : mbs_gpa;
		t = bench(cl, NULL, 1024, 32768, tx);
		mbs_inband = t < 0 || mbs_inband < 0 ? -1 :
			     t > mbs_inband ? t : mbs_inband;
	}
	result(mbs_gpa > 0 && mbs_inband > 0,
	       "throughput, 1024 requests of 32 KiB with completions (best "
	       "of 3): GPADL %.0f MB/s, in-band %.0f MB/s", mbs_gpa,
	       mbs_inband);

	/* --- a read-only GPADL --- */
	rc = vmbus_gpadl_create(cl->c, 65536, VMBUS_GPADL_READONLY, 5000, &g3);
	if (!rc)
		rc = call(cl, (struct cmd){ .op = OP_MAP,
					    .id = vmbus_gpadl_id(g3) }, &r);
	result(!rc && r.a == 65536 && r.b == 0,
	       "read-only GPADL mapped read-only by the server (%s)",
	       strerror(-rc));
	if (!rc) {
		struct vmbus_range whole = { 65536, 0 };

		rc = gpa_roundtrip(cl, g3, &whole, 1, false, 5);
		result(!rc, "server reads the read-only GPADL (%s)",
		       strerror(-rc));
		rc = gpa_roundtrip(cl, g3, &whole, 1, true, 6);
		result(rc == -EACCES, "server cannot write it (%s)",
		       strerror(-rc));
	}

	/* --- a transfer page set, 1000 packets into it --- */
	rc = vmbus_gpadl_create(cl->c, MIB, 0, 5000, &pool);
	result(!rc, "receive pool GPADL of 1 MiB created");
	if (rc)
		goto out;
	memset(&q, 0, sizeof(q));
	rc = vmbus_chan_trans_alloc(cl->c, &q, &trans);
	if (!rc)
		rc = vmbus_xferset_add(cl->c, pool, 5, trans, true);
	if (!rc)
		rc = wait_req(cl, &q);
	result(!rc && !q.r.status, "transfer page set 5 added (%s)",
	       strerror(-(rc ? rc : q.r.status)));
	result(vmbus_xferset_add(cl->c, pool, 5, 0, false) == -EEXIST &&
	       vmbus_gpadl_destroy(pool, 1000) == -EBUSY,
	       "set id in use refused; its GPADL cannot go while it is a set");
	t = now_s();
	rc = call(cl, (struct cmd){ .op = OP_XFER_RUN, .id = 5, .count = 1000,
				    .size = 8192, .pool = MIB }, &r);
	t = now_s() - t;
	result(!rc && r.a == 1000 && r.b == 0 && cl->xfer_got == 1000 &&
	       cl->xfer_bad == 0,
	       "1000 transfer-page packets (2 ranges, 8 KiB each, 128 slots) "
	       "received with checksums and completed; server saw %llu "
	       "completions, %llu bad; %.0f packets/s", (unsigned long long)r.a,
	       (unsigned long long)r.b, 1000 / t);

	/* --- a hostile client: the server refuses, completes, carries on --- */
	{
		struct {
			uint32_t id, count;
			struct vmbus_range r[2];
		} h;
		struct {
			uint16_t type;
			uint32_t id, count, len;
			struct vmbus_range r;
		} bad[] = {
			{ 8, 0, 1, 16, { 2, MIB - 1 } },	/* crosses end */
			{ 8, 0, 1, 16, { 0xffffffffu, 2 } },	/* wraps */
			{ 8, 0, 1, 16, { 0, 0 } },		/* empty */
			{ 8, 4242, 1, 16, { 1, 0 } },		/* no GPADL */
			{ 8, 1, 1, 16, { 1, 0 } },		/* ring GPADL */
			{ 8, 0, 3, 16, { 1, 0 } },		/* count lies */
			{ 8, 0, 0x20000001u, 16, { 1, 0 } },	/* count wraps */
			{ 7, 5, 1, 16, { 1, MIB } },		/* past the set */
			{ 7, 6, 1, 16, { 1, 0 } },		/* no set */
			{ 2, 4242, 7, 8, { 0, 0 } },		/* ADD, no GPADL */
			{ 2, G1, 5, 8, { 0, 0 } },		/* ADD, set in use */
			{ 2, 1, 8, 8, { 0, 0 } },		/* ADD, ring GPADL */
			{ 3, G1, 9, 8, { 0, 0 } },		/* RM, no set */
			{ 8, 0, 0, 4, { 0, 0 } },		/* header cut short */
		};
		unsigned int i, nbad = sizeof(bad) / sizeof(bad[0]), ok = 0;
		struct reply before, after;
		struct req qs[16];

		call(cl, (struct cmd){ .op = OP_STATS }, &before);
		for (i = 0; i < nbad; i++) {
			memset(&h, 0, sizeof(h));
			h.id = bad[i].id == 0 ? vmbus_gpadl_id(g2) :
			       bad[i].id == G1 ? vmbus_gpadl_id(g1) : bad[i].id;
			/* ADD/RM: gpadl_id, then pageset_id in "count" */
			h.count = bad[i].count;
			h.r[0] = bad[i].r;
			memset(&qs[i], 0, sizeof(qs[i]));
			if (vmbus_chan_trans_alloc(cl->c, &qs[i], &trans) ||
			    vmbus_chan_send_raw(cl->c, bad[i].type, 1, trans,
						&h, bad[i].len, NULL, 0))
				break;
		}
		for (i = 0; i < nbad; i++)
			if (!wait_req(cl, &qs[i]) && qs[i].r.status < 0)
				ok++;
		/* A completion nobody asked for. */
		vmbus_chan_send_comp(cl->c, 0xdead00000001ull, NULL, 0);
		call(cl, (struct cmd){ .op = OP_STATS }, &after);
		result(ok == nbad && after.a - before.a == nbad + 1,
		       "hostile client: %u of %u bad packets refused by the "
		       "server with a failed completion, plus a stray "
		       "completion; server counted %llu refusals",
		       ok, nbad, (unsigned long long)(after.a - before.a));
		{
			struct vmbus_range whole = { 4096, 0 };

			rc = gpa_roundtrip(cl, g1, &whole, 1, true, 7);
			result(!rc, "the channel still works after them (%s)",
			       strerror(-rc));
		}
	}

	/* --- a hostile server: the client refuses and completes --- */
	{
		uint32_t before = cl->refused;

		rc = call(cl, (struct cmd){ .op = OP_HOSTILE, .id = 5,
					    .pool = MIB,
					    .arg = vmbus_gpadl_id(g2) }, &r);
		result(!rc && r.a == 5 && r.b == 5 &&
		       cl->refused - before == 5,
		       "hostile server: %llu bad packets, %u refused by the "
		       "client, %llu failed completions seen by the server",
		       (unsigned long long)r.a, cl->refused - before,
		       (unsigned long long)r.b);
	}

	/* --- the set goes, then the GPADLs --- */
	memset(&q, 0, sizeof(q));
	rc = vmbus_chan_trans_alloc(cl->c, &q, &trans);
	if (!rc)
		rc = vmbus_xferset_remove(cl->c, 5, trans, true);
	if (!rc)
		rc = wait_req(cl, &q);
	result(!rc && !q.r.status && !vmbus_xferset_ptr(cl->c, 5, 0, 1, false),
	       "transfer page set 5 removed (%s)", strerror(-rc));
	rc = vmbus_gpadl_destroy(pool, 5000);
	pool = NULL;
	result(!rc, "its GPADL torn down (%s)", strerror(-rc));

	rc = call(cl, (struct cmd){ .op = OP_UNMAP_LATER,
				    .id = vmbus_gpadl_id(g2), .arg = 300 },
		  NULL);
	t = now_s();
	if (!rc)
		rc = vmbus_gpadl_destroy(g2, 5000);
	g2 = NULL;
	t = now_s() - t;
	result(!rc && t > 0.2, "teardown of a GPADL the server still used "
	       "waited %.0f ms for its unmap (%s)", t * 1000, strerror(-rc));
	rc = call(cl, (struct cmd){ .op = OP_UNMAP, .id = vmbus_gpadl_id(g1) },
		  NULL);
	if (!rc)
		rc = vmbus_gpadl_destroy(g1, 5000);
	g1 = NULL;
	result(!rc, "1-page GPADL unmapped and torn down (%s)", strerror(-rc));

	/*
	 * --- a packet into a set outlives the set ---
	 * The server keeps a packet into set 6 uncompleted, sees the set
	 * removed, and only then reads the memory and completes the packet.
	 */
	rc = vmbus_gpadl_create(cl->c, 4 * 4096, 0, 5000, &pool);
	if (!rc) {
		struct req qd = { 0 }, qr = { 0 };
		struct vmbus_range whole = { 4 * 4096, 0 };
		uint8_t *p = vmbus_gpadl_ptr(pool, 0, 4 * 4096, true);
		uint64_t sum, td, tr;

		fill(p, 4 * 4096, 66);
		sum = csum(0, p, 4 * 4096);
		rc = vmbus_xferset_add(cl->c, pool, 6, 0, false);
		if (!rc)
			rc = vmbus_chan_trans_alloc(cl->c, &qd, &td);
		if (!rc)
			rc = vmbus_chan_send_xfer(cl->c, 6, &whole, 1, NULL, 0,
						  td, true);
		if (!rc)
			rc = vmbus_chan_trans_alloc(cl->c, &qr, &tr);
		if (!rc)
			rc = vmbus_xferset_remove(cl->c, 6, tr, true);
		if (!rc)
			rc = wait_req(cl, &qr);
		if (!rc)
			rc = wait_req(cl, &qd);
		result(!rc && !qd.r.status && qd.r.sum == sum,
		       "a packet into set 6 completed after the set's removal: "
		       "the server read it whole (%s)", strerror(-rc));
		rc = vmbus_gpadl_destroy(pool, 5000);
		pool = NULL;
		result(!rc, "set 6's GPADL torn down after that (%s)",
		       strerror(-rc));
	} else {
		result(false, "GPADL for set 6 created (%s)", strerror(-rc));
	}

	/*
	 * The same, but the removal of set 7 reuses the held packet's
	 * trans_id, and the server completes the removal first: that
	 * completion must not release the packet's hold.
	 */
	rc = vmbus_gpadl_create(cl->c, 4 * 4096, 0, 5000, &pool);
	if (!rc) {
		struct req qd = { 0 };
		struct vmbus_range whole = { 4 * 4096, 0 };
		uint8_t *p = vmbus_gpadl_ptr(pool, 0, 4 * 4096, true);
		uint32_t before = cl->refused;
		uint64_t td;

		fill(p, 4 * 4096, 77);
		rc = vmbus_xferset_add(cl->c, pool, 7, 0, false);
		if (!rc)
			rc = vmbus_chan_trans_alloc(cl->c, &qd, &td);
		if (!rc)
			rc = vmbus_chan_send_xfer(cl->c, 7, &whole, 1, NULL, 0,
						  td, true);
		if (!rc)
			rc = vmbus_xferset_remove(cl->c, 7, td, true);
		if (!rc)
			rc = wait_req(cl, &qd);
		/* The second completion of td names nothing: refused here. */
		if (!rc)
			rc = call(cl, (struct cmd){ .op = OP_STATS }, NULL);
		result(!rc && cl->refused - before == 1,
		       "set 7 removed under the held packet's trans_id: the "
		       "server completes both and still runs (%s)",
		       strerror(-rc));
		rc = vmbus_gpadl_destroy(pool, 5000);
		pool = NULL;
		result(!rc, "set 7's GPADL torn down after that (%s)",
		       strerror(-rc));
	} else {
		result(false, "GPADL for set 7 created (%s)", strerror(-rc));
	}
	/* g3 is still mapped by the server: closing the channel releases it. */
	rc = 0;
out:
	if (cl->c)
		vmbus_chan_close(cl->c);
	/* Handles outlive the channel; only freeing is left. */
	vmbus_gpadl_destroy(g1, 0);
	vmbus_gpadl_destroy(g2, 0);
	vmbus_gpadl_destroy(g3, 0);
	vmbus_gpadl_destroy(pool, 0);
	vmbus_bus_close(bus);
	free(tx);
	free(cl);
	if (rc || failures) {
		printf("client: %d failures (%s)\n", failures, strerror(-rc));
		return 1;
	}
	printf("client: all passed\n");
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && strcmp(argv[1], "server") == 0)
		return run_server((unsigned int)strtoul(argv[2], NULL, 10));
	if (argc >= 2 && strcmp(argv[1], "client") == 0)
		return run_client();
	fprintf(stderr, "usage: %s server DOMID | client\n", argv[0]);
	return 2;
}
