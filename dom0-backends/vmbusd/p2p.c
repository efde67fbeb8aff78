// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pipes between two guests: the daemon only brokers their setup.
 *
 * "vmbusctl p2p A B --name N" writes one offer entry for each guest: A's
 * with role "opener" and peer B, B's with role "acceptor" and peer A.  Once
 * both guests are served and both entries are read, the two ends are
 * offered together (vmbus_server_offer_peer): A grants its rings and an
 * event channel to B, libvmbus checks the GPADL and forwards the grant
 * references and the port to B, B maps and binds them.  No data passes
 * through dom0, and dom0 never maps the rings.
 *
 * When the pair ends (either guest closes, unloads, dies, or the entry is
 * removed), libvmbus rescinds both offers and tells us through the close
 * callback; after the event batch, vd_p2p_resync() offers the pair again if
 * both guests and both entries are still there, so the pipe can be opened
 * anew.  An entry whose peer domain is gone is removed: a pipe between two
 * guests dies with either of them.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "vmbusd.h"

static bool vd_p2p_dirty;

/* The entry of guest @domid that is the other end of @o, if any. */
static struct vd_offer *p2p_find_mate(const struct vd_offer *o)
{
	struct vd_guest *pg = vd_guest_find(o->peer);
	struct vd_offer *m;

	if (!pg)
		return NULL;
	for (m = pg->offers; m; m = m->next)
		if (m->p2p && !m->mate && !m->ended &&
		    m->peer == o->guest->domid && m->opener != o->opener &&
		    strcmp(m->name, o->name) == 0 &&
		    m->message_mode == o->message_mode)
			return m;
	return NULL;
}

static void p2p_desc(const struct vd_offer *op, const struct vd_offer *acc,
		     struct vmbus_offer_desc *d, void *cookie)
{
	size_t n;

	vd_pipe_desc(d, op, cookie);
	/* One instance for both ends, stable per pair and name. */
	d->instance[0] = (uint8_t)op->guest->domid;
	d->instance[1] = (uint8_t)(op->guest->domid >> 8);
	d->instance[2] = (uint8_t)acc->guest->domid;
	d->instance[3] = (uint8_t)(acc->guest->domid >> 8);
	n = strlen(op->name);
	memcpy(d->instance + 4, op->name, n < 12 ? n : 12);
}

/* Offer @o and its mate together once both are there. */
static void vd_p2p_link(struct vd_offer *o)
{
	struct vmbus_offer_desc da, db;
	struct vd_offer *m, *op, *acc;
	int rc;

	if (!o->p2p || o->mate || o->ended)
		return;
	m = p2p_find_mate(o);
	if (!m)
		return;		/* the other entry or guest is not there yet */
	op = o->opener ? o : m;
	acc = o->opener ? m : o;
	p2p_desc(op, acc, &da, op);
	p2p_desc(op, acc, &db, acc);
	rc = vmbus_server_offer_peer(op->guest->srv, &da, &op->relid,
				     acc->guest->srv, &db, &acc->relid);
	if (rc) {
		dlog(LOG_ERR, "failed to offer pipe \"%s\" between domains "
		       "%u and %u (%s)", o->name, op->guest->domid,
		       acc->guest->domid, strerror(-rc));
		return;
	}
	op->mate = acc;
	acc->mate = op;
	op->published[0] = acc->published[0] = '\0';
	dlog(LOG_INFO, "pipe \"%s\" (%s mode) offered between domain %u "
	       "(channel %u, grants the rings) and domain %u (channel %u)",
	       o->name, o->message_mode ? "message" : "byte",
	       op->guest->domid, op->relid, acc->guest->domid, acc->relid);
}

/* @o goes away (its entry or its guest): its mate loses it. */
static void vd_p2p_unlink(struct vd_offer *o)
{
	if (o->mate) {
		o->mate->mate = NULL;
		o->mate->ended = true;
		vd_p2p_dirty = true;
	}
	o->mate = NULL;
}

/* Both guests opened their end (from the open callback). */
static void vd_p2p_joined(struct vd_offer *o)
{
	o->joined = true;
	if (o->opener)
		dlog(LOG_INFO, "pipe \"%s\": domain %u and domain %u are "
		       "connected (channels %u and %u)", o->name,
		       o->guest->domid, o->peer, o->relid,
		       o->mate ? o->mate->relid : 0);
}

/* The pair ended (from the close callback): nothing may be freed here. */
static void vd_p2p_ended(struct vd_offer *o)
{
	if (o->joined && o->opener)
		dlog(LOG_INFO, "pipe \"%s\" between domain %u and domain %u "
		       "ended", o->name, o->guest->domid, o->peer);
	o->joined = false;
	o->ended = true;
	vd_p2p_dirty = true;
}

/* After an event batch: forget ended pairs and offer them anew. */
static void vd_p2p_resync(void)
{
	struct vd_guest *g;
	struct vd_offer *o;
	char path[160];

	if (!vd_p2p_dirty)
		return;
	vd_p2p_dirty = false;
	for (g = vd_guests(); g; g = g->next) {
		for (o = g->offers; o; o = o->next) {
			if (!o->p2p || !o->ended)
				continue;
			vd_offer_publish_drop(o);
			if (o->mate)
				o->mate->mate = NULL;
			o->mate = NULL;
			o->relid = 0;
			o->ended = false;
			if (!xs_is_domain_introduced(vd_xs, o->peer)) {
				/* The peer is gone for good: so is the pipe. */
				snprintf(path, sizeof(path), VD_BACKEND_ROOT
					 "/%u/0/offers/%s", g->domid, o->key);
				xs_rm(vd_xs, XBT_NULL, path);
				dlog(LOG_INFO, "domain %u: removed pipe \"%s\" "
				       "(domain %u is gone)", g->domid, o->name,
				       o->peer);
			}
		}
	}
	for (g = vd_guests(); g; g = g->next)
		for (o = g->offers; o; o = o->next)
			vd_p2p_link(o);
}

/* --- the service's row in the registry --- */

/* An entry {name, mode, role, peer}; the peer is written last. */
static int p2p_make(struct vd_offer *o, const char *dir)
{
	char *name, *mode, *role, *peer;
	unsigned int peer_domid;
	int rc = -EINVAL;

	name = vd_xs_read(dir, "name");
	mode = vd_xs_read(dir, "mode");
	role = vd_xs_read(dir, "role");
	peer = vd_xs_read(dir, "peer");
	if (!name || !name[0] || strlen(name) > VMBUS_PIPE_NAME_MAX ||
	    !peer || !vd_parse_domid(peer, &peer_domid) ||
	    peer_domid == o->guest->domid || !role ||
	    (strcmp(role, "opener") && strcmp(role, "acceptor"))) {
		dlog(LOG_ERR, "domain %u: ignoring pipe entry \"%s\" "
		       "(bad name, peer or role)", o->guest->domid, dir);
		goto out;
	}
	strcpy(o->name, name);
	o->message_mode = mode && strcmp(mode, "message") == 0;
	o->p2p = true;
	o->peer = peer_domid;
	o->opener = strcmp(role, "opener") == 0;
	vd_p2p_link(o);
	rc = 0;
out:
	free(name);
	free(mode);
	free(role);
	free(peer);
	return rc;
}

static int p2p_open(struct vd_offer *o, struct vmbus_chan *chan)
{
	if (chan)
		return -EOPNOTSUPP;	/* only ever opened guest to guest */
	vd_p2p_joined(o);
	return 0;
}

static void p2p_close(struct vd_offer *o, struct vmbus_chan *chan)
{
	if (!chan)
		vd_p2p_ended(o);
}

/* The rings are the guests' own: only the setup is known here. */
static int p2p_state(struct vd_offer *o, char *val, size_t len)
{
	char name[3 * VMBUS_PIPE_NAME_MAX + 1];

	if (!o->relid || !o->mate)
		return -1;
	vd_escape(o->name, name, sizeof(name));
	return snprintf(val, len, "state=%s name=%s mode=%s "
			"service=domain:%u peer=%u role=%s",
			o->joined ? "open" : "offered", name,
			o->message_mode ? "message" : "byte", o->peer, o->peer,
			o->opener ? "opener" : "acceptor");
}

static struct vd_loop_hook p2p_hook = { .turn = vd_p2p_resync };

static int p2p_start(void)
{
	vd_loop_hook_add(&p2p_hook);
	return 0;
}

const struct vd_service vd_p2p_service = {
	.kind = "p2p",
	.noun = "pipe",
	.last_key = "peer",
	.start = p2p_start,
	.make = p2p_make,
	.open = p2p_open,
	.close = p2p_close,
	.drop = vd_p2p_unlink,
	.state = p2p_state,
};
