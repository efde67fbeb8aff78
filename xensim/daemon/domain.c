// SPDX-License-Identifier: GPL-2.0-only
/*
 * domain.c - domains of the simulated host: creation, memory, shutdown and
 * destruction.
 *
 * A domain's memory is one memfd; a frame is a page of it.  Sharing a frame
 * hands the memfd to the mapper, so every mapping is the same physical page,
 * never a copy.  Destruction follows Xen: the domain becomes "dying", its
 * handles, ports and its own mappings are released at once, but it stays on
 * the domain list until no one maps its grants any more (a zombie, like a Xen
 * domain whose pages are still referenced), and dom0 is told through
 * VIRQ_DOM_EXC.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "xensimd.h"

#define DEFAULT_MEMORY_MB 64u
#define MAX_MEMORY_MB 16384u

static uint32_t next_domid = 1;

/* Write what xenstored's dom0_init() reads from /proc/xen (see preload). */
static int publish_dom0_store(struct domain *d)
{
	char path[PATH_MAX + 32], target[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/xsd_port", rundir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "%u", d->store_port);
	if (fclose(f))
		return -errno;
	snprintf(path, sizeof(path), "%s/xsd_kva", rundir);
	snprintf(target, sizeof(target), "/proc/%ld/fd/%d", (long)getpid(), d->memfd);
	unlink(path);
	return symlink(target, path) < 0 ? -errno : 0;
}

static uint32_t pick_domid(void)
{
	uint32_t i, id;

	/* Like Xen: the next id after the last one created, skipping used ones. */
	for (i = 0; i < XENSIM_MAX_DOMID; i++) {
		id = next_domid;
		next_domid = next_domid >= XENSIM_MAX_DOMID ? 1 : next_domid + 1;
		if (!domain_find(id))
			return id;
	}
	return 0;
}

struct domain *domain_create(uint32_t domid, const char *name, uint32_t memory_mb,
			     uint32_t flags, int *err)
{
	char path[PATH_MAX + 32], fdpath[64];
	struct domain *d;
	uint32_t port;
	int rc = -ENOMEM;

	if (domid > XENSIM_MAX_DOMID) {
		*err = -EINVAL;
		return NULL;
	}
	if (!list_empty(&domains)) {
		if (domid == 0)
			domid = pick_domid();
		if (domid == 0) {
			*err = -ENOSPC;
			return NULL;
		}
		if (domain_find(domid)) {
			*err = -EEXIST;
			return NULL;
		}
	}
	/* As xl: a name names one domain, a dying one included. */
	if (name && *name && domain_find_name(name)) {
		*err = -EEXIST;
		return NULL;
	}
	if (memory_mb == 0)
		memory_mb = DEFAULT_MEMORY_MB;
	if (memory_mb > MAX_MEMORY_MB) {
		*err = -EINVAL;
		return NULL;
	}

	d = calloc(1, sizeof(*d));
	if (!d) {
		*err = -ENOMEM;
		return NULL;
	}
	list_init(&d->link);
	list_init(&d->conns);
	d->domid = domid;
	d->privileged = domid == 0;
	d->memfd = d->memfd_ro = d->evpfd = d->listen.fd = -1;
	d->listen.kind = W_LISTEN;
	d->listen.fn = conn_listen_event;
	snprintf(d->name, sizeof(d->name), "%s", name && *name ? name : "");
	if (!d->name[0])
		snprintf(d->name, sizeof(d->name), "domain%u", domid);
	d->flags = XENSIM_DOM_RUNNING | ((flags & XENSIM_CREATE_HVM) ? XENSIM_DOM_HVM : 0);
	if (getrandom(d->handle, sizeof(d->handle), 0) != sizeof(d->handle))
		memset(d->handle, (int)domid, sizeof(d->handle));
	list_add_tail(&d->link, &domains);

	d->max_pages = memory_mb * (1024 * 1024 / XENSIM_PAGE_SIZE);
	d->frame_used = calloc(d->max_pages, 1);
	d->ports = calloc(XENSIM_NR_PORTS, sizeof(*d->ports));
	d->grants = calloc(XENSIM_NR_GRANTS, sizeof(*d->grants));
	if (!d->frame_used || !d->ports || !d->grants)
		goto fail;
	for (uint32_t i = 0; i < XENSIM_NR_PORTS; i++)
		d->ports[i].efd = -1;

	snprintf(path, sizeof(path), "dom%u", domid);
	d->memfd = memfd_create(path, MFD_CLOEXEC);
	d->evpfd = memfd_create("evtchn", MFD_CLOEXEC);
	if (d->memfd < 0 || d->evpfd < 0 ||
	    ftruncate(d->memfd, (off_t)d->max_pages << XENSIM_PAGE_SHIFT) < 0 ||
	    ftruncate(d->evpfd, sizeof(*d->evp)) < 0) {
		rc = -errno;
		goto fail;
	}
	/* A read-only descriptor of the same memory, for read-only grants:
	 * the mapper's kernel then refuses a writable mapping itself. */
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", d->memfd);
	d->memfd_ro = open(fdpath, O_RDONLY | O_CLOEXEC);
	d->evp = mmap(NULL, sizeof(*d->evp), PROT_READ | PROT_WRITE, MAP_SHARED, d->evpfd, 0);
	if (d->memfd_ro < 0 || d->evp == MAP_FAILED) {
		d->evp = NULL;
		rc = -errno;
		goto fail;
	}

	snprintf(d->dir, sizeof(d->dir), "%s/dom%u", rundir, domid);
	if (mkdir(d->dir, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		d->dir[0] = '\0';
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/hypervisor.sock", d->dir);
	d->listen.fd = unix_listen(path, domid == 0 ? 0600 : 0666, SOCK_SEQPACKET);
	if (d->listen.fd < 0) {
		rc = d->listen.fd;
		goto fail;
	}
	loop_add(&d->listen, EPOLLIN);

	/* The xenstore page and port, as the domain builder sets them up. */
	rc = frame_alloc(d, &d->store_gfn);
	if (rc)
		goto fail;
	if (domid == 0) {
		rc = evtchn_kernel_port(d, 0, NULL, NULL, &port);
		if (rc)
			goto fail;
		d->store_port = port;
		rc = publish_dom0_store(d);
		if (rc)
			goto fail;
	} else {
		rc = grant_set_kernel(d, XENSIM_XENSTORE_GRANT, 0, d->store_gfn, false);
		if (rc)
			goto fail;
		rc = xenbus_create(d);
		if (rc)
			goto fail;
	}
	dlog(LOG_INFO, "created domain %u \"%s\" (%u MiB)", domid, d->name, memory_mb);
	return d;

fail:
	dlog(LOG_ERR, "failed to create domain %u: %s", domid, strerror(-rc));
	xenbus_destroy(d);
	evtchn_release_domain(d);
	domain_free(d);
	*err = rc;
	return NULL;
}

int domain_shutdown(struct domain *d, uint32_t reason)
{
	if (d->flags & (XENSIM_DOM_DYING | XENSIM_DOM_SHUTDOWN))
		return 0;
	d->flags &= ~XENSIM_DOM_RUNNING;
	d->flags |= XENSIM_DOM_SHUTDOWN;
	if (reason == 3 /* SHUTDOWN_crash */)
		d->flags |= XENSIM_DOM_CRASHED;
	d->shutdown_reason = reason;
	dlog(LOG_INFO, "domain %u shut down (reason %u)", d->domid, reason);
	evtchn_raise_virq_dom_exc();
	return 0;
}

int domain_destroy(struct domain *d)
{
	struct list *pos, *tmp;
	unsigned int i;

	if (d->flags & XENSIM_DOM_DYING)
		return 0;
	d->flags |= XENSIM_DOM_DYING;
	d->flags &= ~XENSIM_DOM_RUNNING;
	d->tearing_down = true;
	dlog(LOG_INFO, "destroying domain %u \"%s\"", d->domid, d->name);

	/* Nothing keeps running in a destroyed domain (but a pid that now
	 * names another process is left alone). */
	for (i = 0; i < d->nr_pids; i++) {
		if (proc_start_time(d->pids[i]) != d->pid_start[i])
			continue;
		kill(-d->pids[i], SIGKILL);
		kill(d->pids[i], SIGKILL);
	}
	d->nr_pids = 0;

	list_for_each_safe(pos, tmp, &d->conns)
		conn_close(container_of(pos, struct conn, link));
	xenbus_destroy(d);
	evtchn_release_domain(d);
	if (d->listen.fd >= 0) {
		loop_del(&d->listen);
		close(d->listen.fd);
		d->listen.fd = -1;
	}
	domain_rmdir(d);
	d->dir[0] = '\0';

	d->tearing_down = false;
	evtchn_raise_virq_dom_exc();
	if (domain_maybe_free(d))
		evtchn_raise_virq_dom_exc();
	return 0;
}

void domains_free_all(void)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &domains) {
		struct domain *d = container_of(pos, struct domain, link);

		if (d->domid)
			domain_destroy(d);
	}
	list_for_each_safe(pos, tmp, &domains) {
		struct domain *d = container_of(pos, struct domain, link);
		struct list *p2, *t2;

		list_for_each_safe(p2, t2, &d->conns)
			conn_close(container_of(p2, struct conn, link));
	}
	/* Zombies are gone with the host. */
	list_for_each_safe(pos, tmp, &domains) {
		struct domain *d = container_of(pos, struct domain, link);

		evtchn_release_domain(d);
		domain_free(d);
	}
}

/* ---- domctls, sysctls and foreign memory ---- */

int op_fmem_map(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_fmem_req *q = req;
	const uint64_t *gfns = (const uint64_t *)(q + 1);
	struct domain *d;
	int32_t *errs;
	uint32_t i;

	if (q->count == 0 || q->count > XENSIM_MAX_BATCH ||
	    len != sizeof(*q) + q->count * sizeof(uint64_t))
		return -EINVAL;
	d = domain_find(q->domid);
	if (!d || (d->flags & XENSIM_DOM_DYING))
		return -ESRCH;
	errs = reply_extend(r, q->count * sizeof(int32_t));
	if (!errs)
		return -E2BIG;
	for (i = 0; i < q->count; i++)
		errs[i] = gfns[i] < d->max_pages ? 0 : -EINVAL;
	reply_fd(r, d->memfd);
	return 0;
}

int op_dominfo(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_dominfo_req *q = req;
	struct xensim_dominfo_rsp *p;
	struct list *pos, *tmp;
	uint32_t n = 0;

	reply_extend(r, sizeof(*p) - sizeof(p->hdr));
	list_for_each_safe(pos, tmp, &domains) {
		struct domain *d = container_of(pos, struct domain, link);
		struct xensim_dominfo *di;

		if (d->domid < q->first_domid || n >= q->max)
			continue;
		di = reply_extend(r, sizeof(*di));
		if (!di)
			break;
		di->domid = d->domid;
		di->flags = d->flags;
		di->shutdown_reason = d->shutdown_reason;
		di->nr_pages = d->nr_frames;
		di->max_pages = d->max_pages;
		memcpy(di->handle, d->handle, sizeof(di->handle));
		memcpy(di->name, d->name, sizeof(di->name));
		n++;
	}
	p = (struct xensim_dominfo_rsp *)r->buf;
	p->count = n;
	return 0;
}

int op_domain_create(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_create_req *q = req;
	struct xensim_create_rsp *p;
	struct domain *d;
	char name[XENSIM_NAME_MAX];
	int err;

	memcpy(name, q->name, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	d = domain_create(q->domid, name, q->memory_mb, q->flags, &err);
	if (!d)
		return err;
	reply_extend(r, sizeof(*p) - sizeof(p->hdr));
	p = (struct xensim_create_rsp *)r->buf;
	p->domid = d->domid;
	p->store_port = d->store_port;
	p->store_gfn = d->store_gfn;
	return 0;
}

static struct domain *domctl_target(const void *req)
{
	const struct xensim_domctl_req *q = req;

	return domain_find(q->domid);
}

int op_domain_destroy(struct conn *c, const void *req, size_t len, struct reply *r)
{
	struct domain *d = domctl_target(req);

	if (!d)
		return -ESRCH;
	if (d->domid == 0)
		return -EINVAL;
	debugport_domain_gone(d->domid);
	return domain_destroy(d);
}

int op_domain_shutdown(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_domctl_req *q = req;
	struct domain *d = domctl_target(req);

	if (!d)
		return -ESRCH;
	/* A guest may shut itself down (SCHEDOP_shutdown); dom0 any guest. */
	if (!c->dom->privileged && d != c->dom)
		return -EPERM;
	return domain_shutdown(d, q->arg);
}

int op_domain_pause(struct conn *c, const void *req, size_t len, struct reply *r)
{
	struct domain *d = domctl_target(req);
	const struct xensim_domctl_req *q = req;

	if (!d || (d->flags & XENSIM_DOM_DYING))
		return -ESRCH;
	if (q->hdr.op == XENSIM_OP_DOMAIN_PAUSE)
		d->flags |= XENSIM_DOM_PAUSED;
	else
		d->flags &= ~XENSIM_DOM_PAUSED;
	return 0;
}

int op_register_pid(struct conn *c, const void *req, size_t len, struct reply *r)
{
	const struct xensim_domctl_req *q = req;
	struct domain *d = c->dom;

	unsigned int i, n = 0;

	/* Only a process may enrol itself: no one can aim a kill elsewhere. */
	if ((pid_t)q->arg != c->pid)
		return -EPERM;
	/* Forget programs that have ended. */
	for (i = 0; i < d->nr_pids; i++) {
		if (proc_start_time(d->pids[i]) == d->pid_start[i]) {
			d->pids[n] = d->pids[i];
			d->pid_start[n++] = d->pid_start[i];
		}
	}
	d->nr_pids = n;
	if (d->nr_pids >= sizeof(d->pids) / sizeof(d->pids[0]))
		return -ENOSPC;
	d->pid_start[d->nr_pids] = proc_start_time(c->pid);
	d->pids[d->nr_pids++] = c->pid;
	return 0;
}

int op_programs(struct conn *c, const void *req, size_t len, struct reply *r)
{
	struct xensim_programs_rsp *p;
	struct list *pos, *tmp;
	uint32_t n = 0;

	reply_extend(r, sizeof(*p) - sizeof(p->hdr));
	list_for_each_safe(pos, tmp, &domains) {
		struct domain *d = container_of(pos, struct domain, link);

		for (unsigned int i = 0; i < d->nr_pids; i++) {
			struct xensim_program *pg;

			if (proc_start_time(d->pids[i]) != d->pid_start[i])
				continue;
			pg = reply_extend(r, sizeof(*pg));
			if (!pg)
				return -E2BIG;
			pg->domid = d->domid;
			pg->pid = d->pids[i];
			pg->start_time = d->pid_start[i];
			n++;
		}
	}
	p = (struct xensim_programs_rsp *)r->buf;
	p->count = n;
	return 0;
}

int op_stats(struct conn *c, const void *req, size_t len, struct reply *r)
{
	struct domain *d = domctl_target(req);
	struct xensim_stats_rsp *p;
	struct list *pos, *tmp;
	uint32_t i, n = 0;

	if (!d)
		return -ESRCH;
	reply_extend(r, sizeof(*p) - sizeof(p->hdr));
	p = (struct xensim_stats_rsp *)r->buf;
	p->domid = d->domid;
	for (i = 1; i < XENSIM_NR_PORTS; i++)
		if (d->ports[i].state != PORT_FREE)
			p->ports++;
	p->grants = d->active_grants;
	p->grant_maps = d->grant_maps;
	p->maps_held = d->maps_held;
	p->frames = d->nr_frames;
	list_for_each_safe(pos, tmp, &d->conns)
		p->connections++;
	list_for_each_safe(pos, tmp, &domains)
		n++;
	p->domains = n;
	return 0;
}
