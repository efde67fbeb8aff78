// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbusd's storage service: a synthetic SCSI controller (Hyper-V's class,
 * what hv_storvsc binds) whose disks are files or block devices of dom0,
 * served by the storage VSP (dom0-backends/storvsp).
 *
 * An entry of kind "scsi" under backend/vmbus/<domid>/0/offers/<key> is
 * one controller: its name (scsi0, scsi1, ...), and under disk/ one
 * "PATH[,ro][,lun=N]" per disk, kind written last.  The disks are opened
 * when the offer is made, so a path that cannot be served is said then
 * and nothing is offered.  Hot add is a new entry (a new controller);
 * hot remove is the entry's removal: the offer is rescinded, and the
 * close waits for the backing-store I/O in flight to come back before
 * the grants are unmapped and the files closed.  The guest's requests
 * still in its ring are never answered: the rescind fails them.
 *
 * The VSP takes requests while it has room (requests in flight and grant
 * pages: storvsp.h); a full budget leaves them in the guest's ring, which
 * is what holds a flood.  The channels and the VSP's completion eventfd
 * all wake it.
 *
 * Sub-channels: the controller reports one per guest vCPU (the entries
 * under /local/domain/<domid>/cpu, the toolstack's), at most
 * VD_STOR_SUBS; the guest's CREATE_SUB_CHANNELS makes the offers
 * (libvmbus's vmbus_server_offer_sub: same type and instance, index 1..),
 * whose opens reach this service with the controller's cookie.  They are
 * rescinded when the primary closes (after the event batch: the close
 * may come from inside the library) or the controller goes.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <xenstore.h>

#include <xenvmbus/storvsc.h>

#include "diskspec.h"
#include "storvsp.h"
#include "vmbusd.h"

#define VD_STOR_SUBS		8	/* sub-channels per controller, at most */
#define VD_STOR_SUBS_UNKNOWN	4	/* when the guest's vCPUs are not known */

/* A sub-channel offered. */
struct vd_stor_sub {
	uint32_t relid;
	struct vmbus_chan *chan;	/* open, or NULL */
	struct vd_watch w;
};

/* One controller. */
struct vd_stor {
	struct vd_offer *offer;
	struct storvsp *sp;
	unsigned int ndisks;
	struct vmbus_chan *chan;	/* open channel, or NULL */
	struct vd_watch wchan, wio;
	struct vd_stor_sub subs[VD_STOR_SUBS];
	unsigned int nsubs;		/* offered */
	uint64_t opens;
	bool dead;
	bool unoffer;			/* rescind the sub-channels after the batch */
	bool kicked;			/* run the VSP after the batch */
	struct vd_stor *next_dead, *next_unoffer, *next_kick;
};

static struct vd_stor *stors_dead, *stors_unoffer, *stors_kick;

/*
 * The VSP's mappings count in the guest's budget (vmbusd -g, 8192 pages
 * by default), which its rings and other channels share: a controller
 * takes at most half of it (4096 pages by default: 16 requests of 1 MiB,
 * or every request of 16 KiB, in flight at once), and never less than
 * one request of 1 MiB (257 pages).
 */
static uint32_t stor_map_pages(void)
{
	uint32_t budget = vd_guest_map_pages ? vd_guest_map_pages :
			  VMBUS_SERVER_GUEST_MAPS_DEFAULT;

	return budget / 2 > 257 ? budget / 2 : 257;
}

static void stor_event(struct vd_watch *w, uint32_t events)
{
	struct vd_stor *st = w->obj;
	int rc;

	(void)events;
	if (st->dead || !st->chan)
		return;
	rc = storvsp_process(st->sp);
	if (rc < 0 && rc != -ENOTCONN && !st->offer->guest->pipe_storm_logged) {
		dlog(LOG_WARNING, "domain %u SCSI controller \"%s\": failed "
		     "to serve the channel (%s; said once per domain)",
		     st->offer->guest->domid, st->offer->name, strerror(-rc));
		st->offer->guest->pipe_storm_logged = true;
	}
}

/* Rescind the sub-channels of @st (not from inside the library). */
static void stor_unoffer_subs(struct vd_stor *st)
{
	struct vd_guest *g = st->offer->guest;
	unsigned int i;

	st->unoffer = false;
	if (g->releasing || !g->srv)
		return;
	for (i = 0; i < st->nsubs; i++)
		vmbus_server_rescind(g->srv, st->subs[i].relid);
	if (st->nsubs)
		dlog(LOG_INFO, "domain %u SCSI controller \"%s\": rescinded "
		     "its %u sub-channel%s", g->domid, st->offer->name,
		     st->nsubs, st->nsubs == 1 ? "" : "s");
	st->nsubs = 0;
}

static void stor_reap(void)
{
	struct vd_stor *st;

	while ((st = stors_unoffer)) {
		stors_unoffer = st->next_unoffer;
		if (!st->dead && st->unoffer)
			stor_unoffer_subs(st);
	}
	while ((st = stors_dead)) {
		stors_dead = st->next_dead;
		storvsp_destroy(st->sp);
		free(st);
	}
}

/*
 * A channel just opened: what the guest wrote before its open waits for
 * no signal, so the VSP runs once after the batch -- not from the open
 * callback, inside the library, where the sub-channels a request asks
 * for could not be offered.
 */
static void stor_kick(struct vd_stor *st)
{
	if (st->kicked)
		return;
	st->kicked = true;
	st->next_kick = stors_kick;
	stors_kick = st;
}

static bool stor_busy(void)
{
	return stors_kick != NULL;
}

static void stor_turn(void)
{
	struct vd_stor *st = stors_kick, *next;

	stors_kick = NULL;
	for (; st; st = next) {
		next = st->next_kick;
		st->kicked = false;
		if (!st->dead && st->chan)
			stor_event(&st->wchan, EPOLLIN);
	}
}

static struct vd_loop_hook stor_hook = {
	.busy = stor_busy, .turn = stor_turn, .reap = stor_reap,
};

static int stor_start(void)
{
	vd_loop_hook_add(&stor_hook);
	return 0;
}

/* The disks under @dir/disk, read and checked; 0 or -errno (said). */
static int stor_read_disks(struct vd_offer *o, const char *dir,
			   struct disk_spec *d, unsigned int *n)
{
	char ddir[192], **keys, *v;
	unsigned int nkeys = 0, i, lun;
	const char *why;
	int rc = 0;

	snprintf(ddir, sizeof(ddir), "%s/disk", dir);
	keys = xs_directory(vd_xs, XBT_NULL, ddir, &nkeys);
	*n = 0;
	for (i = 0; keys && i < nkeys && !rc; i++) {
		v = vd_xs_read(ddir, keys[i]);
		if (!v)
			continue;
		if (*n == DISK_SPEC_LUNS) {
			rc = -ENOSPC;
			dlog(LOG_ERR, "domain %u: ignoring SCSI controller "
			     "entry \"%s\": more than %u disks",
			     o->guest->domid, dir, DISK_SPEC_LUNS);
		} else if (disk_spec_parse(v, &d[*n], &why) < 0) {
			rc = -EINVAL;
			dlog(LOG_ERR, "domain %u: ignoring SCSI controller "
			     "entry \"%s\": disk \"%s\" %s", o->guest->domid,
			     dir, v, why);
		} else {
			(*n)++;
		}
		free(v);
	}
	free(keys);
	if (!rc && !*n) {
		rc = -EINVAL;
		dlog(LOG_ERR, "domain %u: ignoring SCSI controller entry "
		     "\"%s\": no disk under disk/", o->guest->domid, dir);
	}
	if (!rc && disk_spec_assign_luns(d, *n, &lun) < 0) {
		rc = -EEXIST;
		dlog(LOG_ERR, "domain %u: ignoring SCSI controller entry "
		     "\"%s\": two disks at LUN %u", o->guest->domid, dir, lun);
	}
	return rc;
}

/* The guest asked for @count sub-channels (the VSP checked the count). */
static int stor_offer_subs(void *arg, unsigned int count)
{
	struct vd_stor *st = arg;
	struct vd_offer *o = st->offer;
	unsigned int i;
	int rc = 0;

	/* An earlier open's, not rescinded yet: they go first. */
	if (st->unoffer)
		stor_unoffer_subs(st);
	if (st->nsubs + count > VD_STOR_SUBS)
		return -ENOSPC;
	for (i = 0; i < count && !rc; i++) {
		rc = vmbus_server_offer_sub(o->guest->srv, o->relid,
					    (uint16_t)(i + 1), o,
					    &st->subs[st->nsubs].relid);
		if (!rc)
			st->subs[st->nsubs++].chan = NULL;
	}
	if (rc)
		dlog(LOG_WARNING, "domain %u SCSI controller \"%s\": failed to "
		     "offer sub-channel %u (%s)", o->guest->domid, o->name, i,
		     strerror(-rc));
	else
		dlog(LOG_INFO, "domain %u SCSI controller \"%s\": offered %u "
		     "sub-channel%s", o->guest->domid, o->name, count,
		     count == 1 ? "" : "s");
	return rc;
}

/* The guest's vCPUs, as the toolstack wrote them; 0 if unknown. */
static unsigned int stor_guest_vcpus(unsigned int domid)
{
	char path[64], **ents;
	unsigned int n = 0;

	snprintf(path, sizeof(path), "/local/domain/%u/cpu", domid);
	ents = xs_directory(vd_xs, XBT_NULL, path, &n);
	free(ents);
	return ents ? n : 0;
}

static int stor_make(struct vd_offer *o, const char *dir)
{
	struct storvsp_disk_cfg cfg[DISK_SPEC_LUNS];
	struct storvsp_limits lim = { 0 };
	struct vmbus_offer_desc desc;
	struct disk_spec *d;
	struct vd_stor *st;
	unsigned int n, i;
	size_t klen;
	char *name;
	int rc;

	d = calloc(DISK_SPEC_LUNS, sizeof(*d));
	st = calloc(1, sizeof(*st));
	rc = -ENOMEM;
	if (!d || !st)
		goto out;
	name = vd_xs_read(dir, "name");
	snprintf(o->name, sizeof(o->name), "%s", name ? name : o->key);
	free(name);
	rc = stor_read_disks(o, dir, d, &n);
	if (rc)
		goto out;
	for (i = 0; i < n; i++)
		cfg[i] = (struct storvsp_disk_cfg){ d[i].path, d[i].ro,
						    d[i].lun };
	lim.max_map_pages = stor_map_pages();
	rc = storvsp_create(&st->sp, cfg, n, &lim);
	if (rc) {
		dlog(LOG_ERR, "domain %u: failed to open the disks of SCSI "
		     "controller \"%s\" (%s)", o->guest->domid, o->name,
		     strerror(-rc));
		goto out;
	}
	st->offer = o;
	st->ndisks = n;
	n = stor_guest_vcpus(o->guest->domid);
	storvsp_set_subs(st->sp, !n ? VD_STOR_SUBS_UNKNOWN :
			 n < VD_STOR_SUBS ? n : VD_STOR_SUBS, stor_offer_subs,
			 st);
	n = st->ndisks;
	st->wchan = (struct vd_watch){ stor_event, st };
	st->wio = (struct vd_watch){ stor_event, st };
	memset(&desc, 0, sizeof(desc));
	vmbus_guid_parse(VSTOR_SCSI_CLASS_GUID, desc.type);
	/* A stable instance per guest and entry: the guest's disk ids. */
	desc.instance[0] = (uint8_t)o->guest->domid;
	desc.instance[1] = (uint8_t)(o->guest->domid >> 8);
	memcpy(desc.instance + 2, "scsi", 4);
	klen = strlen(o->key);
	memcpy(desc.instance + 6, o->key, klen < 10 ? klen : 10);
	desc.nversions = 1;
	desc.versions[0] = VSTOR_CLASS_VERSION;
	desc.cookie = o;
	rc = vmbus_server_offer(o->guest->srv, &desc, &o->relid);
	if (rc) {
		dlog(LOG_ERR, "domain %u: failed to offer SCSI controller "
		     "\"%s\" (%s)", o->guest->domid, o->name, strerror(-rc));
		goto out;
	}
	o->priv = st;
	st = NULL;
	for (i = 0; i < n; i++)
		dlog(LOG_INFO, "domain %u: SCSI controller \"%s\" LUN %u: "
		     "\"%s\"%s", o->guest->domid, o->name, d[i].lun,
		     d[i].path, d[i].ro ? " (read-only)" : "");
	dlog(LOG_INFO, "domain %u: offered SCSI controller \"%s\" with %u "
	     "disk%s (channel %u)", o->guest->domid, o->name, n,
	     n == 1 ? "" : "s", o->relid);
out:
	if (st)
		storvsp_destroy(st->sp);
	free(st);
	free(d);
	return rc;
}

static struct vd_stor_sub *stor_sub(struct vd_stor *st, uint32_t relid)
{
	unsigned int i;

	for (i = 0; i < st->nsubs; i++)
		if (st->subs[i].relid == relid)
			return &st->subs[i];
	return NULL;
}

static int stor_open_sub(struct vd_stor *st, struct vd_stor_sub *sub,
			 struct vmbus_chan *chan)
{
	int rc;

	if (sub->chan)
		return -EBUSY;
	rc = storvsp_attach_sub(st->sp, chan);
	if (rc)
		return rc;
	sub->w = (struct vd_watch){ stor_event, st };
	rc = vd_epoll_add(vmbus_chan_fd(chan), EPOLLIN, &sub->w);
	if (rc) {
		storvsp_detach_sub(st->sp, chan);
		return rc;
	}
	sub->chan = chan;
	dlog(LOG_INFO, "domain %u SCSI controller \"%s\" sub-channel "
	     "(channel %u) opened", st->offer->guest->domid, st->offer->name,
	     vmbus_chan_relid(chan));
	stor_kick(st);
	return 0;
}

static void stor_close_sub(struct vd_stor *st, struct vd_stor_sub *sub)
{
	if (!sub->chan)
		return;
	vd_epoll_del(vmbus_chan_fd(sub->chan));
	storvsp_detach_sub(st->sp, sub->chan);
	sub->chan = NULL;
}

static int stor_open(struct vd_offer *o, struct vmbus_chan *chan)
{
	struct vd_stor *st = o->priv;
	struct vd_stor_sub *sub;
	int rc;

	if (!chan || !st)
		return -EBUSY;
	sub = stor_sub(st, vmbus_chan_relid(chan));
	if (sub)
		return st->chan ? stor_open_sub(st, sub, chan) : -ENOTCONN;
	if (st->chan)
		return -EBUSY;
	rc = storvsp_attach(st->sp, chan);
	if (rc) {
		dlog(LOG_ERR, "domain %u SCSI controller \"%s\": failed to "
		     "attach the VSP (%s)", o->guest->domid, o->name,
		     strerror(-rc));
		return rc;
	}
	rc = vd_epoll_add(vmbus_chan_fd(chan), EPOLLIN, &st->wchan);
	if (!rc) {
		rc = vd_epoll_add(storvsp_fd(st->sp), EPOLLIN, &st->wio);
		if (rc)
			vd_epoll_del(vmbus_chan_fd(chan));
	}
	if (rc) {
		storvsp_detach(st->sp);
		return rc;
	}
	st->chan = chan;
	st->opens++;
	dlog(LOG_INFO, "domain %u SCSI controller \"%s\" (channel %u) opened",
	     o->guest->domid, o->name, vmbus_chan_relid(chan));
	stor_kick(st);
	return 0;
}

static void stor_close(struct vd_offer *o, struct vmbus_chan *chan)
{
	struct vd_stor *st = o->priv;
	struct vd_stor_sub *sub;
	struct storvsp_stats s;
	unsigned int i;

	if (!st)
		return;
	sub = chan ? stor_sub(st, vmbus_chan_relid(chan)) : NULL;
	if (sub && sub->chan == chan) {
		stor_close_sub(st, sub);
		return;
	}
	if (!st->chan)
		return;
	for (i = 0; i < st->nsubs; i++)
		stor_close_sub(st, &st->subs[i]);
	/* The next open asks for its own sub-channels. */
	if (st->nsubs && !st->unoffer) {
		st->unoffer = true;
		st->next_unoffer = stors_unoffer;
		stors_unoffer = st;
	}
	vd_epoll_del(vmbus_chan_fd(st->chan));
	vd_epoll_del(storvsp_fd(st->sp));
	storvsp_get_stats(st->sp, &s);
	/* Waits for the backing store, then unmaps every grant. */
	storvsp_detach(st->sp);
	st->chan = NULL;
	dlog(LOG_INFO, "domain %u SCSI controller \"%s\" closed (%llu "
	     "requests, %u were in flight)", o->guest->domid, o->name,
	     (unsigned long long)s.requests, s.inflight);
}

static void stor_drop(struct vd_offer *o)
{
	struct vd_stor *st = o->priv;

	if (!st)
		return;
	stor_close(o, NULL);
	stor_unoffer_subs(st);
	o->priv = NULL;
	/* Events of this batch may still name it: freed after the batch. */
	st->dead = true;
	st->next_dead = stors_dead;
	stors_dead = st;
}

static int stor_state(struct vd_offer *o, char *val, size_t len)
{
	struct vd_stor *st = o->priv;
	struct vmbus_chan_stats cs;
	struct storvsp_stats s;

	if (!st)
		return -1;
	if (!st->chan)
		return snprintf(val, len, "state=offered name=%s mode=scsi "
				"service=storvsp luns=%u", o->name, st->ndisks);
	vmbus_chan_get_stats(st->chan, &cs);
	storvsp_get_stats(st->sp, &s);
	return snprintf(val, len, "state=open name=%s mode=scsi "
		"service=storvsp tx_write=%u tx_read=%u tx_used=%u tx_size=%u "
		"rx_write=%u rx_read=%u rx_used=%u rx_size=%u tx_packets=%llu "
		"rx_packets=%llu tx_signals=%llu rx_signals=%llu errors=%llu "
		"luns=%u subs=%u vstor=%u.%u ready=%d requests=%llu inflight=%u "
		"inflight_peak=%u pages_mapped=%u pages_peak=%u "
		"check_conditions=%llu refused=%llu bad_packets=%llu "
		"flushes=%llu fua_writes=%llu unmaps=%llu", o->name,
		cs.tx_write_index, cs.tx_read_index, cs.tx_used, cs.tx_size,
		cs.rx_write_index, cs.rx_read_index, cs.rx_used, cs.rx_size,
		(unsigned long long)cs.tx_packets,
		(unsigned long long)cs.rx_packets,
		(unsigned long long)cs.tx_signals,
		(unsigned long long)cs.rx_signals,
		(unsigned long long)(cs.errors + s.bad_packets), st->ndisks,
		st->nsubs, s.version >> 8, s.version & 0xff, s.ready,
		(unsigned long long)s.requests, s.inflight, s.inflight_peak,
		s.pages_mapped, s.pages_peak,
		(unsigned long long)s.check_conditions,
		(unsigned long long)s.refused,
		(unsigned long long)s.bad_packets,
		(unsigned long long)s.flushes,
		(unsigned long long)s.fua_writes,
		(unsigned long long)s.unmaps);
}

const struct vd_service vd_storage_service = {
	.kind = "scsi",
	.noun = "SCSI controller",
	.last_key = "kind",
	.start = stor_start,
	.make = stor_make,
	.open = stor_open,
	.close = stor_close,
	.drop = stor_drop,
	.state = stor_state,
};
