// SPDX-License-Identifier: GPL-2.0-only
/*
 * debugport.c - the Viridian synthetic debugger's debug port on the
 * simulated Xen.
 *
 * The hypervisor side is the real patched Xen code (viridian/syndbg.c and
 * debugport.c), built into a plugin (xensim/syndbg) that this file loads
 * from $XENSIM_SYNDBG_PLUGIN and serves: XEN_DMOP_syndbg_backend, the
 * XENMEM_resource_syndbg frames, the backend's event channel, and the debug
 * hypercalls and MSR accesses of a simulated guest vCPU.  A vCPU the Xen
 * code parks (-ERESTART) has its request held here and re-executed when the
 * code wakes it (backend event, attach/detach, reset, its timer), as a real
 * vCPU re-executes its VMCALL.  The plugin's wake-ups and timer changes are
 * only recorded while it runs and acted on from the loop (wake_w, timer_w).
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <unistd.h>

#include "xensimd.h"
#include "syndbg/syndbg-plugin.h"

#define SYNDBG_DMOP		21	/* XEN_DMOP_syndbg_backend */
#define SYNDBG_RESOURCE		3	/* XENMEM_resource_syndbg */
#define SYNDBG_NR_FRAMES	9
#define SDP_FEATURES		((1u << 0) | (1u << 13)) /* base_freq | syndbg */
#define MAX_PORT_DOMS		64

static const struct sdp_ops *sdp;
static bool debugport_event(struct watcher *w, uint32_t events);
static struct watcher wake_w = { .kind = W_DBGPORT, .fd = -1, .fn = debugport_event };
static struct watcher timer_w = { .kind = W_DBGPORT, .fd = -1, .fn = debugport_event };
static bool timers_dirty;

/* Domains known to the plugin; ino tells a re-created domain apart. */
static struct {
	bool used;
	uint32_t domid;
	ino_t ino;
} pdoms[MAX_PORT_DOMS];

/* A vCPU call parked by the Xen code, answered when its wait ends. */
struct parked {
	struct list link;
	struct conn *c;
	uint32_t domid;
	bool woken;
	struct xensim_vcpu_debug_req req;
};

static struct list parked = LIST_INIT(parked);

/* ---- services the plugin calls ---- */

static void h_log(const char *msg)
{
	dlog(LOG_INFO, "%s", msg);
}

static int h_frame_alloc(uint32_t domid, uint64_t *gfn)
{
	struct domain *d = domain_find(domid);
	uint32_t g;
	int rc;

	if (!d)
		return -ESRCH;
	rc = frame_alloc(d, &g);
	if (!rc)
		*gfn = g;
	return rc;
}

static void h_frame_free(uint32_t domid, uint64_t gfn)
{
	struct domain *d = domain_find(domid);

	if (d)
		frame_free(d, gfn);
}

static int h_memfd(uint32_t domid, uint64_t *nr_frames)
{
	struct domain *d = domain_find(domid);
	int fd;

	if (!d)
		return -ESRCH;
	fd = fcntl(d->memfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	*nr_frames = d->max_pages;
	return fd;
}

static void port_event(void *opaque)
{
	uintptr_t v = (uintptr_t)opaque;

	sdp->event(v >> 16, v & 0xffff);
	debugport_event(&wake_w, EPOLLIN);
}

static int h_evtchn_alloc(uint32_t domid, uint32_t remote, uint32_t *port)
{
	struct domain *d = domain_find(domid);
	int rc;

	if (!d)
		return -ESRCH;
	/* The opaque value carries (domid, port); fill it in once known. */
	rc = evtchn_kernel_port(d, remote, port_event, NULL, port);
	if (!rc)
		d->ports[*port].kopaque = (void *)(((uintptr_t)domid << 16) | *port);
	return rc;
}

static void h_evtchn_free(uint32_t domid, uint32_t port)
{
	struct domain *d = domain_find(domid);

	if (d)
		evtchn_close(d, port);
}

static void h_evtchn_notify(uint32_t domid, uint32_t port)
{
	struct domain *d = domain_find(domid);

	if (d)
		evtchn_send(d, port);
}

static void h_vcpu_wake(uint32_t domid, uint32_t vcpu)
{
	struct list *pos, *tmp;
	uint64_t one = 1;

	list_for_each_safe(pos, tmp, &parked) {
		struct parked *p = container_of(pos, struct parked, link);

		if (p->domid == domid && p->req.vcpu == vcpu)
			p->woken = true;
	}
	/* Acted on from the loop, never inside the plugin's locks. */
	if (write(wake_w.fd, &one, sizeof(one)) < 0)
		dlog(LOG_ERR, "failed to signal a vCPU wake-up: %s", strerror(errno));
}

static void h_timers_changed(void)
{
	timers_dirty = true;
}

static const struct sdp_host host = {
	.log = h_log,
	.frame_alloc = h_frame_alloc,
	.frame_free = h_frame_free,
	.memfd = h_memfd,
	.evtchn_alloc = h_evtchn_alloc,
	.evtchn_free = h_evtchn_free,
	.evtchn_notify = h_evtchn_notify,
	.vcpu_wake = h_vcpu_wake,
	.timers_changed = h_timers_changed,
};

/* ---- setup ---- */

int debugport_init(void)
{
	const char *path = getenv("XENSIM_SYNDBG_PLUGIN");
	sdp_entry_fn entry;
	void *h;

	if (!path || !*path)
		return 0;
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		dlog(LOG_ERR, "failed to load syndbg plugin \"%s\": %s", path, dlerror());
		return -ENOENT;
	}
	entry = (sdp_entry_fn)(uintptr_t)dlsym(h, SDP_ENTRY);
	sdp = entry ? entry() : NULL;
	if (!sdp || sdp->version != SDP_VERSION || sdp->init(&host) < 0) {
		dlog(LOG_ERR, "failed to start syndbg plugin \"%s\": bad entry or version", path);
		sdp = NULL;
		return -EINVAL;
	}
	wake_w.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	timer_w.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (wake_w.fd < 0 || timer_w.fd < 0) {
		int err = errno;

		dlog(LOG_ERR, "failed to create the debug port's wake-up fds: %s",
		       strerror(err));
		sdp = NULL;
		return -err;
	}
	loop_add(&wake_w, EPOLLIN);
	loop_add(&timer_w, EPOLLIN);
	dlog(LOG_INFO, "debug port: patched Xen syndbg code loaded from %s", path);
	return 0;
}

static void rearm_timer(void)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	int64_t next = sdp->next_deadline();

	timers_dirty = false;
	if (next >= 0) {
		if (next == 0)
			next = 1;
		its.it_value.tv_sec = next / 1000000000;
		its.it_value.tv_nsec = next % 1000000000;
	}
	timerfd_settime(timer_w.fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* The plugin's view of d, (re-)created when d is new or was re-created. */
static int port_domain(struct domain *d)
{
	struct stat st;
	unsigned int i, slot = MAX_PORT_DOMS;
	int rc;

	if (!sdp)
		return -EOPNOTSUPP;
	if (!(d->flags & XENSIM_DOM_HVM))
		return -EOPNOTSUPP;
	if (fstat(d->memfd, &st) < 0)
		return -errno;
	for (i = 0; i < MAX_PORT_DOMS; i++) {
		if (pdoms[i].used && pdoms[i].domid == d->domid) {
			if (pdoms[i].ino == st.st_ino)
				return 0;
			debugport_domain_gone(d->domid);
			break;
		}
	}
	for (i = 0; i < MAX_PORT_DOMS && slot == MAX_PORT_DOMS; i++)
		if (!pdoms[i].used)
			slot = i;
	if (slot == MAX_PORT_DOMS)
		return -ENOSPC;
	rc = sdp->domain_create(d->domid, SDP_FEATURES);
	if (rc)
		return rc;
	pdoms[slot].used = true;
	pdoms[slot].domid = d->domid;
	pdoms[slot].ino = st.st_ino;
	return 0;
}

void debugport_domain_gone(uint32_t domid)
{
	struct list *pos, *tmp;
	unsigned int i;

	if (!sdp)
		return;
	for (i = 0; i < MAX_PORT_DOMS; i++) {
		if (pdoms[i].used && pdoms[i].domid == domid) {
			sdp->domain_destroy(domid);
			pdoms[i].used = false;
		}
	}
	list_for_each_safe(pos, tmp, &parked) {
		struct parked *p = container_of(pos, struct parked, link);

		if (p->domid == domid) {
			list_del(&p->link);
			free(p);
		}
	}
	rearm_timer();
}

void debugport_conn_closed(struct conn *c)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &parked) {
		struct parked *p = container_of(pos, struct parked, link);

		if (p->c == c) {
			list_del(&p->link);
			free(p);
		}
	}
}

/* ---- ops ---- */

/*
 * HYPERVISOR_dm_op as Xen's dm_op() takes it: the caller (the connection's
 * domain; dom0 is the only one with device model rights here, OP_PRIV)
 * must not be the target; only XEN_DMOP_syndbg_backend is served.
 */
int debugport_dm_op(struct conn *c, const struct xensim_dm_op_req *q,
		    uint32_t *backend)
{
	struct domain *d = domain_find(q->domid);
	uint32_t caller = c->dom ? c->dom->domid : 0;
	int rc;

	if (!d || (d->flags & XENSIM_DOM_DYING))
		return -ESRCH;
	if (d->domid == caller)
		return -EPERM;
	if (q->op != SYNDBG_DMOP)
		return -EOPNOTSUPP;
	if (q->pad || q->sub > 0xffff)
		return -EINVAL;
	rc = port_domain(d);
	if (rc)
		return rc;
	rc = sdp->dm_syndbg(caller, d->domid, q->sub, backend);
	if (timers_dirty)
		rearm_timer();
	debugport_event(&wake_w, EPOLLIN);
	return rc;
}

int debugport_resource(struct conn *c, const struct xensim_resource_req *q,
		       uint64_t *gfns, uint32_t *nr, int *memfd)
{
	struct domain *d = domain_find(q->domid);
	int rc;

	if (!d || (d->flags & XENSIM_DOM_DYING))
		return -ESRCH;
	if (q->type != SYNDBG_RESOURCE || q->nr_frames == 0 ||
	    q->nr_frames > SYNDBG_NR_FRAMES)
		return -EINVAL;
	rc = port_domain(d);
	if (rc)
		return rc;
	rc = sdp->acquire(c->dom ? c->dom->domid : 0, d->domid, q->id, q->frame,
			  q->nr_frames, gfns);
	if (rc < 0)
		return rc;
	*nr = rc;
	*memfd = d->memfd;
	return 0;
}

/* Run a vCPU's call; fills the reply page and returns SDP_BLOCKED or 0. */
static int vcpu_run(struct domain *d, const struct xensim_vcpu_debug_req *q,
		    struct xensim_vcpu_debug_rsp *rsp, uint8_t *page)
{
	uint64_t val = q->value;

	switch (q->kind) {
	case XENSIM_VCPU_HCALL:
		rsp->status = sdp->hypercall(d->domid, q->vcpu, q->code, q->fast,
					     q->in_gpa, q->out_gpa);
		if (rsp->status == SDP_BLOCKED)
			return SDP_BLOCKED;
		break;
	case XENSIM_VCPU_RDMSR:
	case XENSIM_VCPU_WRMSR:
		rsp->status = sdp->msr(d->domid, q->vcpu, q->kind == XENSIM_VCPU_WRMSR,
				       q->code, &val);
		rsp->value = val;
		break;
	}
	if (q->read_gpa != ~0ull) {
		uint8_t *p = frame_map(d, q->read_gpa >> XENSIM_PAGE_SHIFT);

		if (p) {
			memcpy(page, p, XENSIM_PAGE_SIZE);
			munmap(p, XENSIM_PAGE_SIZE);
		}
	}
	return 0;
}

int debugport_vcpu(struct conn *c, const struct xensim_vcpu_debug_req *q, size_t len,
		   struct xensim_vcpu_debug_rsp *rsp, uint8_t *page)
{
	struct domain *d = c->dom;
	struct parked *p;
	int rc;

	if (q->write_len > XENSIM_PAGE_SIZE || len != sizeof(*q) + q->write_len ||
	    q->kind < XENSIM_VCPU_HCALL || q->kind > XENSIM_VCPU_WRMSR)
		return -EINVAL;
	if (q->write_len &&
	    ((q->write_gpa >> XENSIM_PAGE_SHIFT) >= d->max_pages ||
	     (q->write_gpa & (XENSIM_PAGE_SIZE - 1)) + q->write_len > XENSIM_PAGE_SIZE))
		return -EINVAL;
	if (q->read_gpa != ~0ull && (q->read_gpa >> XENSIM_PAGE_SHIFT) >= d->max_pages)
		return -EINVAL;
	rc = port_domain(d);
	if (rc)
		return rc;
	if (q->write_len) {
		uint8_t *m = frame_map(d, q->write_gpa >> XENSIM_PAGE_SHIFT);

		if (!m)
			return -ENOMEM;
		memcpy(m + (q->write_gpa & (XENSIM_PAGE_SIZE - 1)), q + 1, q->write_len);
		munmap(m, XENSIM_PAGE_SIZE);
	}
	rc = vcpu_run(d, q, rsp, page);
	if (timers_dirty)
		rearm_timer();
	if (rc != SDP_BLOCKED)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->c = c;
	p->domid = d->domid;
	p->req = *q;
	p->req.write_len = 0;
	list_add_tail(&p->link, &parked);
	return XENSIM_DEFERRED;
}

static void parked_answer(struct parked *p, const struct xensim_vcpu_debug_rsp *rsp,
			  const uint8_t *page)
{
	static uint8_t buf[sizeof(*rsp) + XENSIM_PAGE_SIZE];
	struct xensim_vcpu_debug_rsp *r = (void *)buf;

	*r = *rsp;
	r->hdr.ret = 0;
	r->hdr.len = sizeof(buf);
	memcpy(buf + sizeof(*r), page, XENSIM_PAGE_SIZE);
	if (send(p->c->w.fd, buf, sizeof(buf), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		dlog(LOG_ERR, "failed to answer dom%u vcpu%u's debug call: %s",
		       p->domid, p->req.vcpu, strerror(errno));
}

/* Loop events: wake-ups and timers; re-execute the woken vCPUs' calls. */
static bool debugport_event(struct watcher *w, uint32_t events)
{
	struct list *pos, *tmp;
	uint64_t v;

	if (!sdp)
		return true;
	if (w == &timer_w) {
		while (read(timer_w.fd, &v, sizeof(v)) == sizeof(v))
			;
		sdp->run_timers();
	} else {
		while (read(wake_w.fd, &v, sizeof(v)) == sizeof(v))
			;
	}
	list_for_each_safe(pos, tmp, &parked) {
		struct parked *p = container_of(pos, struct parked, link);
		struct xensim_vcpu_debug_rsp rsp = { .status = 0 };
		static uint8_t page[XENSIM_PAGE_SIZE];
		struct domain *d = domain_find(p->domid);

		if (!p->woken)
			continue;
		p->woken = false;
		if (!d)
			continue;
		memset(page, 0, sizeof(page));
		if (vcpu_run(d, &p->req, &rsp, page) == SDP_BLOCKED)
			continue;
		parked_answer(p, &rsp, page);
		list_del(&p->link);
		free(p);
	}
	rearm_timer();
	return true;
}

/* ---- requests of the debug backend and of a guest vCPU ---- */

int op_dm_op(struct conn *c, const void *req, size_t len, struct reply *r)
{
	struct xensim_dm_op_rsp *rsp = (void *)r->buf;

	if (!reply_extend(r, sizeof(*rsp) - sizeof(r->hdr)))
		return -E2BIG;
	return debugport_dm_op(c, req, &rsp->backend);
}

int op_resource_map(struct conn *c, const void *req, size_t len, struct reply *r)
{
	struct xensim_resource_rsp *rsp = (void *)r->buf;
	const struct xensim_resource_req *q = req;
	uint64_t *gfns;
	int rc, memfd = -1;

	if (len != sizeof(*q) || q->nr_frames > XENSIM_MAX_BATCH)
		return -EINVAL;
	if (!reply_extend(r, sizeof(*rsp) - sizeof(r->hdr)) ||
	    !(gfns = reply_extend(r, q->nr_frames * sizeof(uint64_t))))
		return -E2BIG;
	rc = debugport_resource(c, q, gfns, &rsp->nr_frames, &memfd);
	if (!rc)
		reply_fd(r, memfd);
	return rc;
}

int op_vcpu_debug(struct conn *c, const void *req, size_t len, struct reply *r)
{
	struct xensim_vcpu_debug_rsp *rsp = (void *)r->buf;
	uint8_t *page;

	if (!reply_extend(r, sizeof(*rsp) - sizeof(r->hdr)) ||
	    !(page = reply_extend(r, XENSIM_PAGE_SIZE)))
		return -E2BIG;
	return debugport_vcpu(c, req, len, rsp, page);
}
