// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbusd's integration services framework (see ic.h): what heartbeat,
 * shutdown, time sync and key/value exchange share.
 *
 * Each IC is offered as a message-mode pipe of its Hyper-V class, so that
 * Linux's hv_utils binds it.  Once the guest opens it, the host sends the
 * version negotiation (framework 1.0 and 3.0, the IC's message versions,
 * oldest first, as OpenVMM does); the guest answers with the versions it
 * chose, or none and the IC fails.  From then on one request at a time is
 * in flight, matched to its answer by the VMBus transaction id: the IC's
 * timer sends periodic ones (heartbeat, time samples), the administrator
 * the others (shutdown, KVP) through xenstore.
 *
 * The guest writes the answers: each is parsed from a private copy
 * (vmbus_ic_parse), must be a response to the request in flight and of
 * its type, and is otherwise counted as an error and dropped.  What a
 * guest can make the daemon do per wake-up is bounded (IC_BUDGET packets);
 * a guest signalling with nothing to read has its port left out of the
 * loop until the next tick, as pipes do.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <xenstore.h>

#include "ic.h"

#define IC_BUDGET		64	/* packets taken per wake-up */
#define IC_QUIET_WAKES		64	/* wake-ups for nothing, then pause */
#define IC_REQUEST_TIMEOUT_S	10	/* the guest's answer, at most */

static const uint32_t ic_fw[] = { VMBUS_IC_FW_1_0, VMBUS_IC_FW_3_0 };

static struct vd_ic *ics_dead, *ics_more;

static const struct vd_ic_kind *ic_kind(const struct vd_offer *o)
{
	return o->svc->priv;
}

/* --- replies to the administrator --- */

static void ic_reply_path(struct vd_ic *ic, char *path, size_t len,
			  const char *leaf)
{
	snprintf(path, len, VD_STATE_ROOT "/%u/ic/%s/%s",
		 ic->offer->guest->domid, ic->k->kind, leaf);
}

static void ic_reply_write(struct vd_ic *ic, const char *leaf,
			   const char *val)
{
	char path[160];

	ic_reply_path(ic, path, sizeof(path), leaf);
	xs_write(vd_xs, XBT_NULL, path, val, (unsigned int)strlen(val));
}

/* A new request: what the last one left goes. */
static void ic_reply_clear(struct vd_ic *ic)
{
	char path[160];

	snprintf(path, sizeof(path), VD_STATE_ROOT "/%u/ic/%s",
		 ic->offer->guest->domid, ic->k->kind);
	xs_rm(vd_xs, XBT_NULL, path);
}

void vd_ic_reply_entry(struct vd_ic *ic, unsigned int i, const char *key,
		       const char *value)
{
	char leaf[48];

	snprintf(leaf, sizeof(leaf), "%u/key", i);
	ic_reply_write(ic, leaf, key);
	snprintf(leaf, sizeof(leaf), "%u/value", i);
	ic_reply_write(ic, leaf, value);
}

void vd_ic_reply_count(struct vd_ic *ic, unsigned int n)
{
	char v[16];

	snprintf(v, sizeof(v), "%u", n);
	ic_reply_write(ic, "count", v);
}

void vd_ic_reply(struct vd_ic *ic, const char *result)
{
	if (!ic->admin)
		return;
	ic_reply_write(ic, "result", result);
	/* Written last: vmbusctl waits for its id. */
	ic_reply_write(ic, "id", ic->admin_id);
	ic->admin = false;
}

/* --- requests --- */

int vd_ic_send(struct vd_ic *ic, uint16_t type, const void *body, size_t len)
{
	int n, rc;

	if (ic->pending)
		return -EBUSY;
	n = vmbus_ic_build(ic->buf, sizeof(ic->buf), type, ic->fw, ic->ver,
			   VMBUS_IC_FLAG_TRANSACTION | VMBUS_IC_FLAG_REQUEST,
			   body, len);
	if (n < 0)
		return n;
	rc = vmbus_chan_send(ic->chan, ic->buf, (size_t)n, ++ic->next_tid, 0);
	if (rc < 0)
		return rc;
	ic->pending = true;
	ic->pending_type = type;
	ic->pending_tid = ic->next_tid;
	ic->pending_s = 0;
	return 0;
}

static void ic_fail(struct vd_ic *ic, const char *why)
{
	if (ic->st == VD_IC_FAILED)
		return;
	ic->st = VD_IC_FAILED;
	ic->why = why;
	ic->pending = false;
	dlog(LOG_WARNING, "domain %u %s integration service: %s",
	     ic->offer->guest->domid, ic->k->kind, why);
	vd_ic_reply(ic, "error the guest's service failed");
}

static void ic_negotiate(struct vd_ic *ic)
{
	int n, rc;

	n = vmbus_ic_negotiate_build(ic->buf, sizeof(ic->buf), ic_fw,
				     sizeof(ic_fw) / sizeof(ic_fw[0]),
				     ic->k->versions, ic->k->nversions);
	rc = n < 0 ? n : vmbus_chan_send(ic->chan, ic->buf, (size_t)n,
					 ++ic->next_tid, 0);
	if (rc < 0) {
		ic_fail(ic, "failed to send the version negotiation");
		return;
	}
	ic->pending = true;
	ic->pending_type = VMBUS_IC_MSG_NEGOTIATE;
	ic->pending_tid = ic->next_tid;
	ic->pending_s = 0;
}

/* One answer of the guest, in ic->buf. */
static void ic_answer(struct vd_ic *ic, const struct vmbus_packet *pkt)
{
	struct vmbus_ic_msg m;

	if (pkt->type != 0x6 /* DATA_INBAND */ ||
	    vmbus_ic_parse(pkt->data, pkt->len, &m) < 0 ||
	    !(m.hdr.flags & VMBUS_IC_FLAG_RESPONSE) || !ic->pending ||
	    pkt->trans_id != ic->pending_tid ||
	    m.hdr.type != ic->pending_type) {
		if (!ic->errors++)
			dlog(LOG_WARNING, "domain %u %s integration service: "
			     "dropped a packet that answers no request (said "
			     "once per channel)", ic->offer->guest->domid,
			     ic->k->kind);
		return;
	}
	ic->pending = false;
	ic->responses++;
	if (ic->st == VD_IC_NEGOTIATING) {
		int rc = vmbus_ic_negotiate_result(&m, ic_fw,
			sizeof(ic_fw) / sizeof(ic_fw[0]), ic->k->versions,
			ic->k->nversions, &ic->fw, &ic->ver);

		if (rc) {
			ic_fail(ic, rc == -EPROTONOSUPPORT ?
				"the guest speaks none of the versions offered" :
				"the guest's version answer is malformed or "
				"names a version not offered");
			return;
		}
		ic->st = VD_IC_READY;
		dlog(LOG_INFO, "domain %u %s integration service: framework "
		     "%u.%u, version %u.%u", ic->offer->guest->domid,
		     ic->k->kind, ic->fw >> 16, ic->fw & 0xffff, ic->ver >> 16,
		     ic->ver & 0xffff);
		if (ic->k->ready)
			ic->k->ready(ic);
		return;
	}
	if (ic->k->response)
		ic->k->response(ic, &m);
}

static void ic_pump(struct vd_ic *ic)
{
	struct vmbus_packet pkt;
	unsigned int n;
	int rc;

	vmbus_chan_ack(ic->chan);
	for (n = 0; n < IC_BUDGET; n++) {
		rc = vmbus_chan_recv(ic->chan, &pkt, ic->buf, sizeof(ic->buf));
		if (rc == -EAGAIN || rc == -ENOTCONN)
			break;
		if (rc < 0) {
			/* Larger than any answer: this IC is over. */
			ic_fail(ic, "the guest sent a packet larger than any "
				"answer");
			vd_epoll_del(vmbus_chan_fd(ic->chan));
			ic->paused = true;
			return;
		}
		ic_answer(ic, &pkt);
		if (ic->dead)
			return;
	}
	if (n == IC_BUDGET) {
		/* More next turn, after the other guests' events. */
		ic->next_dead = ics_more;
		ics_more = ic;
		ic->quiet_wakes = 0;
		return;
	}
	if (n) {
		ic->quiet_wakes = 0;
	} else if (++ic->quiet_wakes >= IC_QUIET_WAKES && !ic->paused) {
		vd_epoll_del(vmbus_chan_fd(ic->chan));
		ic->paused = true;
		if (!ic->offer->guest->pipe_storm_logged)
			dlog(LOG_WARNING, "domain %u %s integration service: "
			     "signals its port with nothing to read: its "
			     "signals are taken once a second for a while "
			     "(said once per domain)", ic->offer->guest->domid,
			     ic->k->kind);
		ic->offer->guest->pipe_storm_logged = true;
	}
}

static void ic_chan_event(struct vd_watch *w, uint32_t events)
{
	struct vd_ic *ic = w->obj;

	(void)events;
	if (!ic->dead)
		ic_pump(ic);
}

static void ic_timer_event(struct vd_watch *w, uint32_t events)
{
	struct vd_ic *ic = w->obj;
	uint64_t t;

	(void)events;
	if (ic->dead || read(ic->tfd, &t, sizeof(t)) < 0)
		return;
	ic->ticks++;
	if (ic->paused && ic->st != VD_IC_FAILED) {
		ic->paused = false;
		ic->quiet_wakes = 0;
		if (vd_epoll_add(vmbus_chan_fd(ic->chan), EPOLLIN,
				 &ic->wchan) == 0)
			ic_pump(ic);
		if (ic->dead)
			return;
	}
	if (ic->pending && ++ic->pending_s >= IC_REQUEST_TIMEOUT_S) {
		/* A late answer no longer matches: it is dropped. */
		ic->pending = false;
		if (ic->st == VD_IC_NEGOTIATING)
			ic_fail(ic, "the guest did not answer the version "
				"negotiation");
		else
			vd_ic_reply(ic, "error the guest did not answer");
	}
	if (ic->st == VD_IC_READY && ic->k->tick && ic->k->period_s &&
	    ic->ticks % ic->k->period_s == 0 && !ic->pending)
		ic->k->tick(ic);
}

/* --- the loop's hooks: ICs with more to read, ICs to free --- */

static bool ic_busy(void)
{
	return ics_more != NULL;
}

static void ic_turn(void)
{
	struct vd_ic *ic = ics_more, *next;

	ics_more = NULL;
	for (; ic; ic = next) {
		next = ic->next_dead;
		ic->next_dead = NULL;
		if (!ic->dead)
			ic_pump(ic);
	}
}

static void ic_reap(void)
{
	struct vd_ic *ic;

	while ((ic = ics_dead)) {
		ics_dead = ic->next_dead;
		free(ic);
	}
}

static struct vd_loop_hook ic_hook = {
	.busy = ic_busy, .turn = ic_turn, .reap = ic_reap,
};
static bool ic_started;

int vd_ic_start(void)
{
	if (!ic_started)
		vd_loop_hook_add(&ic_hook);
	ic_started = true;
	return 0;
}

/* --- the service row --- */

int vd_ic_make(struct vd_offer *o, const char *dir)
{
	const struct vd_ic_kind *k = ic_kind(o);
	struct vmbus_offer_desc d;
	uint32_t mode = VMBUS_PIPE_MODE_MESSAGE;
	struct vd_guest *g = o->guest;
	struct vd_offer *x;
	size_t n;
	char rdir[192], *id;
	int rc;

	/* A request written before this offer (an earlier daemon's) is old. */
	snprintf(rdir, sizeof(rdir), "%s/request", dir);
	id = vd_xs_read(rdir, "id");
	if (id)
		snprintf(o->req_id, sizeof(o->req_id), "%s", id);
	free(id);
	for (x = g->offers; x; x = x->next)
		if (x->svc == o->svc) {
			dlog(LOG_ERR, "domain %u: ignoring a second %s "
			     "integration service (entry \"%s\")", g->domid,
			     k->kind, o->key);
			return -EEXIST;
		}
	snprintf(o->name, sizeof(o->name), "%s", k->kind);
	memset(&d, 0, sizeof(d));
	/* Hyper-V's byte order: what hv_utils' id table matches. */
	vmbus_guid_parse(k->guid, d.type);
	/* A stable instance per guest and IC. */
	d.instance[0] = (uint8_t)g->domid;
	d.instance[1] = (uint8_t)(g->domid >> 8);
	d.instance[2] = 'i';
	d.instance[3] = 'c';
	n = strlen(k->kind);
	memcpy(d.instance + 4, k->kind, n < 12 ? n : 12);
	d.flags = VMBUS_OFFER_FLAG_NAMED_PIPE;
	d.nversions = 1;
	d.versions[0] = VMBUS_IC_VER(1, 0);
	memcpy(d.user_data, &mode, 4);
	memcpy(d.user_data + VMBUS_PIPE_NAME_OFFSET, k->kind, n);
	d.cookie = o;
	rc = vmbus_server_offer(g->srv, &d, &o->relid);
	if (rc) {
		dlog(LOG_ERR, "domain %u: failed to offer the %s integration "
		     "service (%s)", g->domid, k->kind, strerror(-rc));
		return rc;
	}
	dlog(LOG_INFO, "domain %u: offered the %s integration service "
	     "(channel %u)", g->domid, k->kind, o->relid);
	return 0;
}

int vd_ic_open(struct vd_offer *o, struct vmbus_chan *chan)
{
	struct itimerspec its = { { 1, 0 }, { 1, 0 } };
	struct vd_ic *ic;
	int rc;

	if (!chan || o->priv)
		return -EBUSY;
	ic = calloc(1, sizeof(*ic));
	if (!ic)
		return -ENOMEM;
	ic->k = ic_kind(o);
	ic->offer = o;
	ic->chan = chan;
	ic->wchan = (struct vd_watch){ ic_chan_event, ic };
	ic->wtimer = (struct vd_watch){ ic_timer_event, ic };
	ic->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	rc = ic->tfd < 0 ? -errno : 0;
	if (!rc && timerfd_settime(ic->tfd, 0, &its, NULL) < 0)
		rc = -errno;
	if (!rc)
		rc = vd_epoll_add(ic->tfd, EPOLLIN, &ic->wtimer);
	if (!rc) {
		rc = vd_epoll_add(vmbus_chan_fd(chan), EPOLLIN, &ic->wchan);
		if (rc)
			vd_epoll_del(ic->tfd);
	}
	if (rc) {
		if (ic->tfd >= 0)
			close(ic->tfd);
		free(ic);
		return rc;
	}
	o->priv = ic;
	dlog(LOG_INFO, "domain %u %s integration service (channel %u) "
	     "opened", o->guest->domid, ic->k->kind, vmbus_chan_relid(chan));
	ic_negotiate(ic);
	return 0;
}

void vd_ic_close(struct vd_offer *o, struct vmbus_chan *chan)
{
	struct vd_ic *ic = o->priv;

	(void)chan;
	if (!ic)
		return;
	vd_ic_reply(ic, "error the guest closed its service");
	if (!ic->paused)
		vd_epoll_del(vmbus_chan_fd(ic->chan));
	vd_epoll_del(ic->tfd);
	close(ic->tfd);
	dlog(LOG_INFO, "domain %u %s integration service closed",
	     o->guest->domid, ic->k->kind);
	o->priv = NULL;
	/* Events of this batch may still name it: freed after the batch. */
	ic->dead = true;
	ic->chan = NULL;
	ic->next_dead = ics_dead;
	ics_dead = ic;
}

void vd_ic_drop(struct vd_offer *o)
{
	vd_ic_close(o, NULL);
}

/* Answer request @id of @o's IC at once, from here. */
static void ic_refuse(struct vd_offer *o, const char *id, const char *why,
		      bool clear)
{
	char path[160];

	snprintf(path, sizeof(path), VD_STATE_ROOT "/%u/ic/%s",
		 o->guest->domid, ic_kind(o)->kind);
	if (clear)
		xs_rm(vd_xs, XBT_NULL, path);
	snprintf(path, sizeof(path), VD_STATE_ROOT "/%u/ic/%s/result",
		 o->guest->domid, ic_kind(o)->kind);
	xs_write(vd_xs, XBT_NULL, path, why, (unsigned int)strlen(why));
	snprintf(path, sizeof(path), VD_STATE_ROOT "/%u/ic/%s/id",
		 o->guest->domid, ic_kind(o)->kind);
	xs_write(vd_xs, XBT_NULL, path, id, (unsigned int)strlen(id));
}

/*
 * An administrator's request under @dir/request, taken once per id.  One
 * request at a time per IC: another one meanwhile is answered "busy"
 * without touching the entries of the one in flight.
 */
void vd_ic_update(struct vd_offer *o, const char *dir)
{
	struct vd_ic *ic = o->priv;
	char rdir[192], *id, *op;
	const char *why = NULL;
	int rc;

	snprintf(rdir, sizeof(rdir), "%s/request", dir);
	id = vd_xs_read(rdir, "id");
	if (!id || strcmp(id, o->req_id) == 0) {
		free(id);
		return;
	}
	snprintf(o->req_id, sizeof(o->req_id), "%s", id);
	op = vd_xs_read(rdir, "op");
	if (!ic)
		why = "error no guest service is bound to it";
	else if (ic->st == VD_IC_FAILED)
		why = "error the guest's service failed";
	else if (ic->st != VD_IC_READY)
		why = "error the guest's service is not ready";
	else if (ic->admin || ic->pending)
		why = "error busy with another request";
	if (why) {
		ic_refuse(o, id, why, !ic || !ic->admin);
		goto out;
	}
	ic_reply_clear(ic);
	snprintf(ic->admin_id, sizeof(ic->admin_id), "%s", id);
	ic->admin = true;
	why = "error unknown request";
	rc = ic->k->request && op ? ic->k->request(ic, op, rdir, &why) :
				    -EINVAL;
	if (rc < 0)
		vd_ic_reply(ic, why);
out:
	free(id);
	free(op);
}

int vd_ic_state_line(struct vd_offer *o, char *val, size_t len)
{
	static const char *const st[] = { "negotiating", "ready", "failed" };
	struct vd_ic *ic = o->priv;
	struct vmbus_chan_stats cs;
	int n, m = 0;

	if (!ic)
		return snprintf(val, len, "state=offered name=%s mode=message "
				"service=ic:%s", o->name, o->name);
	vmbus_chan_get_stats(ic->chan, &cs);
	n = snprintf(val, len, "state=open name=%s mode=message "
		     "service=ic:%s tx_write=%u tx_read=%u tx_used=%u "
		     "tx_size=%u rx_write=%u rx_read=%u rx_used=%u rx_size=%u "
		     "tx_packets=%llu rx_packets=%llu tx_signals=%llu "
		     "rx_signals=%llu ic=%s framework=%u.%u version=%u.%u "
		     "responses=%llu errors=%llu", o->name, o->name,
		     cs.tx_write_index, cs.tx_read_index, cs.tx_used,
		     cs.tx_size, cs.rx_write_index, cs.rx_read_index,
		     cs.rx_used, cs.rx_size,
		     (unsigned long long)cs.tx_packets,
		     (unsigned long long)cs.rx_packets,
		     (unsigned long long)cs.tx_signals,
		     (unsigned long long)cs.rx_signals,
		     st[ic->st], ic->fw >> 16, ic->fw & 0xffff, ic->ver >> 16,
		     ic->ver & 0xffff, (unsigned long long)ic->responses,
		     (unsigned long long)(ic->errors + cs.errors));
	if (n < 0 || (size_t)n >= len)
		return n;
	if (ic->k->state)
		m = ic->k->state(ic, val + n, len - (size_t)n);
	return m < 0 ? m : n + m;
}
