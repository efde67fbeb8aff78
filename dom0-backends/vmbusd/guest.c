// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbusd's registry of guests: which guests have a bus served, their
 * offers, and the live state published for them.
 *
 *  - Watches /local/domain/0/backend/vmbus: a guest with a backend
 *    directory (vmbusctl attach) gets a libvmbus server; its offers are
 *    read from backend/vmbus/<domid>/0/offers/<key>, made by the service
 *    of their kind (struct vd_service, registered by the daemon's start:
 *    the registry calls the services only through that table), and
 *    rescinded when the key goes away.
 *  - Watches @releaseDomain: a guest that is gone loses its server, which
 *    unmaps every grant and closes every port it held; the daemon goes on.
 *  - Publishes live state under /local/domain/0/vmbusd/<domid>/ once a
 *    second when it changed: the bus state, the guest's grant mappings
 *    against its budget, and per channel its name, state, ring indexes and
 *    fill, packets, signals and errors; the mappings of all guests against
 *    the host budget in /local/domain/0/vmbusd/maps.
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <xenstore.h>

#include "vmbusd.h"

struct xs_handle *vd_xs;
/* Grant pages one guest may have mapped (0: the library's default). */
uint32_t vd_guest_map_pages;
static struct vd_guest *guests;
static struct vd_guest *guests_dead;	/* released, freed after the batch */
static char published_host_maps[64];

#define VD_SERVICES_MAX	16
static const struct vd_service *services[VD_SERVICES_MAX];
static unsigned int nservices;

int vd_service_register(const struct vd_service *s)
{
	if (nservices == VD_SERVICES_MAX)
		return -ENOSPC;
	services[nservices++] = s;
	return s->start ? s->start() : 0;
}

static const struct vd_service *vd_service_find(const char *kind)
{
	unsigned int i;

	for (i = 0; i < nservices; i++)
		if (strcmp(services[i]->kind, kind) == 0)
			return services[i];
	return NULL;
}

/* --- live state --- */

struct vd_guest *vd_guests(void)
{
	return guests;
}

struct vd_guest *vd_guest_find(unsigned int domid)
{
	struct vd_guest *g;

	for (g = guests; g; g = g->next)
		if (g->domid == domid)
			return g;
	return NULL;
}

/* Forget the published state of @o's channel. */
void vd_offer_publish_drop(struct vd_offer *o)
{
	char path[96];

	if (o->relid) {
		snprintf(path, sizeof(path), VD_STATE_ROOT "/%u/%u",
			 o->guest->domid, o->relid);
		xs_rm(vd_xs, XBT_NULL, path);
	}
	o->published[0] = '\0';
}

/*
 * @s for a "key=value key=value" line: the bytes that would end the
 * value or hide in it (space, '=', '%', control characters) as %XX.
 */
const char *vd_escape(const char *s, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0;

	for (; *p && o + 4 <= len; p++) {
		if (*p <= ' ' || *p == '=' || *p == '%' || *p == 0x7f) {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = '\0';
	return out;
}

static void vd_publish_offer(struct vd_offer *o)
{
	char path[160], val[sizeof(o->published)];
	int len;

	if (!o->svc->state)
		return;
	len = o->svc->state(o, val, sizeof(val));
	if (len < 0 || (size_t)len >= sizeof(val) ||
	    strcmp(val, o->published) == 0)
		return;
	snprintf(path, sizeof(path), VD_STATE_ROOT "/%u/%u",
		 o->guest->domid, o->relid);
	if (xs_write(vd_xs, XBT_NULL, path, val, (unsigned int)strlen(val)))
		memcpy(o->published, val, sizeof(o->published));
}

/* "mapped=N limit=N ..." under @path if it changed since @last. */
static void vd_publish_line(const char *path, const char *val, char *last,
			    size_t lastsz)
{
	if (strcmp(val, last) == 0)
		return;
	if (xs_write(vd_xs, XBT_NULL, path, val, (unsigned int)strlen(val)))
		snprintf(last, lastsz, "%s", val);
}

/* What serving the guest's bus cost: wake-ups, xenstore reads, queues. */
static void vd_publish_work(struct vd_guest *g)
{
	struct vmbus_server_work w;
	char path[96], val[sizeof(g->published_work)];
	int len;

	vmbus_server_get_work(g->srv, &w);
	len = snprintf(val, sizeof(val),
		"wakeups=%llu xs_steps=%llu ctl_messages=%llu "
		"ctl_dropped=%llu budget_yields=%llu throttles=%llu "
		"ctl_queued=%u ctl_queue_peak=%u",
		(unsigned long long)w.wakeups, (unsigned long long)w.xs_steps,
		(unsigned long long)w.ctl_messages,
		(unsigned long long)w.ctl_dropped,
		(unsigned long long)w.budget_yields,
		(unsigned long long)w.throttles, w.ctl_queued,
		w.ctl_queue_peak);
	if (len < 0)
		return;
	snprintf(path, sizeof(path), VD_STATE_ROOT "/%u/work", g->domid);
	vd_publish_line(path, val, g->published_work,
			sizeof(g->published_work));
}

void vd_publish(void)
{
	struct vmbus_server_maps maps;
	struct vd_guest *g;
	struct vd_offer *o;
	char path[96], val[96];
	uint32_t mapped, limit;
	const char *st;
	static unsigned int said = -1u;
	unsigned int served = 0;

	for (g = guests; g; g = g->next)
		served++;
	/* What systemctl status shows, when it changed. */
	if (served != said) {
		sd_notifyf(0, "STATUS=serving the buses of %u guest%s", served,
			   served == 1 ? "" : "s");
		said = served;
	}
	vmbus_server_host_maps(&mapped, &limit);
	snprintf(val, sizeof(val), "mapped=%u limit=%u", mapped, limit);
	vd_publish_line(VD_STATE_ROOT "/maps", val, published_host_maps,
			sizeof(published_host_maps));
	for (g = guests; g; g = g->next) {
		vmbus_server_get_maps(g->srv, &maps);
		snprintf(val, sizeof(val), "mapped=%u limit=%u gpadls=%u "
			 "refused=%llu", maps.mapped, maps.limit, maps.gpadls,
			 (unsigned long long)maps.refused);
		snprintf(path, sizeof(path), VD_STATE_ROOT "/%u/maps", g->domid);
		vd_publish_line(path, val, g->published_maps,
				sizeof(g->published_maps));
		/* Only changes are written: an idle host costs no xenstore traffic. */
		st = vmbus_server_state(g->srv);
		if (strcmp(st, g->published_bus) != 0) {
			snprintf(path, sizeof(path), VD_STATE_ROOT "/%u/bus", g->domid);
			if (xs_write(vd_xs, XBT_NULL, path, st, (unsigned int)strlen(st)))
				snprintf(g->published_bus, sizeof(g->published_bus), "%s", st);
		}
		vd_publish_work(g);
		for (o = g->offers; o; o = o->next)
			vd_publish_offer(o);
	}
}

/*
 * The state root is the daemon's: what a daemon before this one left
 * (killed, it could not clean up) goes, then the pid that tells vmbusctl
 * a daemon serves, then the state of the guests served.
 */
int vd_publish_start(void)
{
	char pid[16];
	int err;

	xs_rm(vd_xs, XBT_NULL, VD_STATE_ROOT);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	if (!xs_write(vd_xs, XBT_NULL, VD_STATE_ROOT "/pid", pid,
		      (unsigned int)strlen(pid))) {
		err = errno;
		dlog(LOG_ERR, "failed to write \"%s\" (%s)",
		     VD_STATE_ROOT "/pid", strerror(err));
		return -err;
	}
	published_host_maps[0] = '\0';
	vd_publish();
	return 0;
}

/* --- channels to VSPs --- */

static int vd_chan_open(struct vmbus_server *srv, struct vmbus_chan *chan,
			void *cookie, void *arg)
{
	struct vd_offer *o = cookie;

	(void)srv;
	(void)arg;
	return o->svc->open ? o->svc->open(o, chan) : -EOPNOTSUPP;
}

static void vd_chan_close(struct vmbus_server *srv, struct vmbus_chan *chan,
			  void *cookie, void *arg)
{
	struct vd_offer *o = cookie;

	(void)srv;
	(void)arg;
	if (o->svc->close)
		o->svc->close(o, chan);
	o->published[0] = '\0';
}

static const struct vmbus_server_ops vd_ops = {
	.open = vd_chan_open,
	.close = vd_chan_close,
};

/* --- offers, from xenstore --- */

char *vd_xs_read(const char *dir, const char *key)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xs_read(vd_xs, XBT_NULL, path, NULL);
}

/* The service of the entry at @dir: its kind, else a pipe (to a peer). */
static const struct vd_service *vd_offer_service(const char *dir,
						 char **kind)
{
	char *peer;

	*kind = vd_xs_read(dir, "kind");
	if (*kind)
		return vd_service_find(*kind);
	peer = vd_xs_read(dir, "peer");
	free(peer);
	return vd_service_find(peer ? "p2p" : "pipe");
}

static void vd_offer_make(struct vd_guest *g, const char *key)
{
	const struct vd_service *svc;
	char dir[160], *kind, *last;
	struct vd_offer *o;

	snprintf(dir, sizeof(dir), VD_BACKEND_ROOT "/%u/0/offers/%s",
		 g->domid, key);
	svc = vd_offer_service(dir, &kind);
	if (!svc) {
		if (kind)
			dlog(LOG_ERR, "domain %u: ignoring offer entry \"%s\" "
			     "(no service of kind \"%s\")", g->domid, dir,
			     kind);
		free(kind);
		return;
	}
	free(kind);
	/* The admin writes the last key last: incomplete entries wait. */
	last = vd_xs_read(dir, svc->last_key);
	if (!last)
		return;
	free(last);
	o = calloc(1, sizeof(*o));
	if (!o)
		return;
	snprintf(o->key, sizeof(o->key), "%s", key);
	o->guest = g;
	o->svc = svc;
	if (svc->make(o, dir) < 0) {
		free(o);
		return;
	}
	o->next = g->offers;
	g->offers = o;
}

static void vd_offer_drop(struct vd_guest *g, struct vd_offer *o, bool rescind)
{
	struct vd_offer **pp;

	if (rescind && o->relid) {
		vmbus_server_rescind(g->srv, o->relid);
		dlog(LOG_INFO, "domain %u: rescinded %s \"%s\" (channel "
		       "%u)", g->domid, o->svc->noun, o->name, o->relid);
	}
	if (o->svc->drop)
		o->svc->drop(o);
	vd_offer_publish_drop(o);
	for (pp = &g->offers; *pp; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	free(o);
}

static void vd_offers_scan(struct vd_guest *g)
{
	char dir[96], **keys;
	unsigned int n = 0, i;
	struct vd_offer *o, *next;

	snprintf(dir, sizeof(dir), VD_BACKEND_ROOT "/%u/0/offers", g->domid);
	keys = xs_directory(vd_xs, XBT_NULL, dir, &n);
	for (o = g->offers; o; o = next) {
		bool found = false;
		char *svc;

		next = o->next;
		for (i = 0; keys && i < n; i++)
			if (strcmp(keys[i], o->key) == 0)
				found = true;
		svc = NULL;
		if (found) {
			char sub[160];

			snprintf(sub, sizeof(sub), "%s/%s", dir, o->key);
			svc = vd_xs_read(sub, o->svc->last_key);
			/* What the administrator asks of a live offer. */
			if (svc && o->svc->update)
				o->svc->update(o, sub);
		}
		if (!svc)
			vd_offer_drop(g, o, true);
		free(svc);
	}
	for (i = 0; keys && i < n; i++) {
		for (o = g->offers; o; o = o->next)
			if (strcmp(keys[i], o->key) == 0)
				break;
		if (!o)
			vd_offer_make(g, keys[i]);
	}
	free(keys);
}

/* --- guests --- */

/*
 * A bus detached (its backend's frontend key removed) whose server wrote
 * its state once more in the same batch, as it saw the frontend go,
 * brought back a backend directory holding only that state: it goes,
 * unless the bus was attached again meanwhile (checked in the same
 * transaction as the removal).
 */
static void vd_backend_forget(unsigned int domid)
{
	char dir[96], path[128], *v;
	xs_transaction_t t;
	int tries;

	snprintf(dir, sizeof(dir), VD_BACKEND_ROOT "/%u", domid);
	snprintf(path, sizeof(path), "%s/0/frontend", dir);
	for (tries = 0; tries < 8; tries++) {
		t = xs_transaction_start(vd_xs);
		if (!t)
			return;
		v = xs_read(vd_xs, t, path, NULL);
		if (v) {
			free(v);
			xs_transaction_end(vd_xs, t, true);
			return;
		}
		xs_rm(vd_xs, t, dir);
		if (xs_transaction_end(vd_xs, t, false) || errno != EAGAIN)
			return;
	}
}

static void vd_guest_free(struct vd_guest *g, bool gone)
{
	char path[96];

	/* The server first: closing its channels still refers to the offers. */
	g->releasing = true;
	vd_epoll_del(vmbus_server_fd(g->srv));
	vmbus_server_destroy(g->srv);
	while (g->offers)
		vd_offer_drop(g, g->offers, false);
	snprintf(path, sizeof(path), VD_STATE_ROOT "/%u", g->domid);
	xs_rm(vd_xs, XBT_NULL, path);
	if (gone) {
		/* The toolstack's job on a real host; nobody else will. */
		snprintf(path, sizeof(path), VD_BACKEND_ROOT "/%u", g->domid);
		xs_rm(vd_xs, XBT_NULL, path);
	} else {
		vd_backend_forget(g->domid);
	}
	dlog(LOG_INFO, "domain %u: bus released%s", g->domid,
	       gone ? " (domain gone)" : "");
	/* Events of this batch may still name it: freed after the batch. */
	g->srv = NULL;
	g->dead = true;
	g->next = guests_dead;
	guests_dead = g;
}

/* Free the guests released during the last batch of events. */
static void vd_guests_reap(void)
{
	struct vd_guest *g;
	bool trim = guests_dead != NULL;

	while ((g = guests_dead) != NULL) {
		guests_dead = g->next;
		free(g);
	}
	/*
	 * A guest's buffers are freed in the middle of the heap, among
	 * other guests' allocations; give the free pages back to the
	 * system, as a daemon serving guests that come and go should.
	 */
	if (trim)
		malloc_trim(0);
}

static void vd_server_event(struct vd_watch *w, uint32_t events)
{
	struct vd_guest *g = w->obj;

	(void)events;
	if (!g->dead)
		vmbus_server_process(g->srv);
}

static void vd_guest_new(unsigned int domid)
{
	struct vd_guest *g = calloc(1, sizeof(*g));
	int rc;

	if (!g)
		return;
	g->domid = domid;
	g->w = (struct vd_watch){ vd_server_event, g };
	rc = vmbus_server_create(&g->srv, domid, &vd_ops, g);
	if (rc) {
		dlog(LOG_ERR, "domain %u: failed to serve the bus at \""
		       VD_BACKEND_ROOT "/%u/0\" (%s)", domid, domid,
		       strerror(-rc));
		free(g);
		return;
	}
	if (vd_guest_map_pages)
		vmbus_server_set_map_limit(g->srv, vd_guest_map_pages);
	if (vd_epoll_add(vmbus_server_fd(g->srv), EPOLLIN, &g->w) < 0) {
		vmbus_server_destroy(g->srv);
		free(g);
		return;
	}
	g->seen = true;
	g->next = guests;
	guests = g;
	dlog(LOG_INFO, "domain %u: serving the bus", domid);
}

bool vd_parse_domid(const char *s, unsigned int *domid)
{
	char *end;
	unsigned long v;

	if (!s[0] || s[0] < '0' || s[0] > '9')
		return false;
	v = strtoul(s, &end, 10);
	if (*end || v == 0 || v >= 0x7ff0)
		return false;
	*domid = (unsigned int)v;
	return true;
}

/* Bring the set of served guests in line with xenstore. */
void vd_rescan(void)
{
	struct vd_guest *g, **pp;
	unsigned int n = 0, i, domid;
	char **ents, path[96], *v;

	for (g = guests; g; g = g->next)
		g->seen = false;
	ents = xs_directory(vd_xs, XBT_NULL, VD_BACKEND_ROOT, &n);
	for (i = 0; ents && i < n; i++) {
		if (!vd_parse_domid(ents[i], &domid))
			continue;
		snprintf(path, sizeof(path), VD_BACKEND_ROOT "/%u/0/frontend",
			 domid);
		v = xs_read(vd_xs, XBT_NULL, path, NULL);
		if (!v)
			continue;
		free(v);
		if (!xs_is_domain_introduced(vd_xs, domid))
			continue;
		for (g = guests; g; g = g->next)
			if (g->domid == domid)
				break;
		if (g)
			g->seen = true;
		else
			vd_guest_new(domid);
	}
	free(ents);
	for (pp = &guests; *pp;) {
		g = *pp;
		if (!g->seen) {
			*pp = g->next;
			vd_guest_free(g, !xs_is_domain_introduced(vd_xs, g->domid));
			continue;
		}
		vd_offers_scan(g);
		pp = &g->next;
	}
}

/* The same for one guest, named by a watch event under the backend root. */
static void vd_rescan_one(unsigned int domid)
{
	struct vd_guest *g, **pp;
	char path[96], *v;
	bool wanted;

	snprintf(path, sizeof(path), VD_BACKEND_ROOT "/%u/0/frontend", domid);
	v = xs_read(vd_xs, XBT_NULL, path, NULL);
	wanted = v && xs_is_domain_introduced(vd_xs, domid);
	free(v);
	for (pp = &guests; (g = *pp); pp = &g->next)
		if (g->domid == domid)
			break;
	if (!g && wanted) {
		vd_guest_new(domid);
		g = guests;
		if (g && g->domid == domid)
			vd_offers_scan(g);
		return;
	}
	if (g && !wanted) {
		*pp = g->next;
		vd_guest_free(g, !xs_is_domain_introduced(vd_xs, domid));
		return;
	}
	if (g)
		vd_offers_scan(g);
}

/* @releaseDomain: let go of the guests that are gone. */
static void vd_check_released(void)
{
	struct vd_guest *g, **pp;

	for (pp = &guests; (g = *pp);) {
		if (!xs_is_domain_introduced(vd_xs, g->domid)) {
			*pp = g->next;
			vd_guest_free(g, true);
			continue;
		}
		pp = &g->next;
	}
}

/*
 * Drain the pending watch events and update only what they name: a full
 * rescan per event would cost O(guests) xenstore requests each, O(guests^2)
 * to set up or tear down a host.
 */
static int vd_watch_events(void)
{
	static const char root[] = VD_BACKEND_ROOT "/";
	unsigned int *doms = NULL, ndoms = 0, cap = 0, i, domid;
	bool all = false, release = false, introduce = false;
	char **w, *end, *p;

	errno = 0;
	while ((w = xs_check_watch(vd_xs)) != NULL) {
		p = w[XS_WATCH_PATH];
		if (strcmp(p, "@releaseDomain") == 0) {
			release = true;
		} else if (strcmp(p, "@introduceDomain") == 0) {
			introduce = true;
		} else if (strncmp(p, root, sizeof(root) - 1) == 0) {
			unsigned long v = strtoul(p + sizeof(root) - 1, &end, 10);

			if ((*end != '/' && *end != '\0') || v == 0 || v >= 0x7ff0) {
				all = true;
			} else if (!all) {
				domid = (unsigned int)v;
				for (i = 0; i < ndoms && doms[i] != domid; i++)
					;
				if (i == ndoms) {
					if (ndoms == cap) {
						unsigned int *n = realloc(doms, (cap ? cap * 2 : 16) * sizeof(*n));

						if (!n)
							all = true;
						else {
							doms = n;
							cap = cap ? cap * 2 : 16;
						}
					}
					if (!all)
						doms[ndoms++] = domid;
				}
			}
		} else {
			all = true;	/* the root itself, or our own registration */
		}
		free(w);
	}
	if (errno && errno != EAGAIN) {
		free(doms);
		return -errno;
	}
	/* A configured guest created: its bus is written, watched below. */
	if (introduce || release)
		vd_config_scan(vd_xs);
	if (all) {
		vd_rescan();
	} else {
		for (i = 0; i < ndoms; i++)
			vd_rescan_one(doms[i]);
		if (release)
			vd_check_released();
	}
	free(doms);
	return 0;
}


/* Let go of every guest's bus, as the daemon ends. */
void vd_guests_release(void)
{
	while (guests) {
		struct vd_guest *g = guests;

		guests = g->next;
		vd_guest_free(g, false);
	}
}

static void vd_xs_event(struct vd_watch *w, uint32_t events)
{
	int err;

	(void)w;
	(void)events;
	err = vd_watch_events();
	if (err < 0) {
		dlog(LOG_ERR, "lost the connection to xenstore (%s)",
		     strerror(-err));
		vd_loop_quit(err);
	}
}

static struct vd_watch wxs = { vd_xs_event, NULL };
static struct vd_loop_hook guests_hook = { .reap = vd_guests_reap };

/* The xenstore connection joins the loop once its watches are set. */
int vd_registry_start(void)
{
	vd_loop_hook_add(&guests_hook);
	return vd_epoll_add(xs_fileno(vd_xs), EPOLLIN, &wxs);
}
