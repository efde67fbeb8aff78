// SPDX-License-Identifier: GPL-2.0-only
/*
 * The in-memory Xen of the stateful fuzz targets (see fake-xen.h): the
 * xengnttab_*, xengntshr_*, xenevtchn_* and xs_* functions libvmbus calls,
 * with the prototypes of Debian's <xengnttab.h>, <xenevtchn.h> and
 * <xenstore.h>, linked in place of the real libraries.
 */
#define _GNU_SOURCE 1

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>

#include "fake-xen.h"

unsigned int fx_cur_dom;
unsigned int fx_cur_tag;
void (*fx_guest_hook)(unsigned int dom, bool waiting);

/* The library did what Xen would not survive, or the host failed us. */
static void fx_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fx_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fake-xen: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

/* --- domains, memory and grants --- */

struct fx_grant {
	bool used;
	bool ro;
	uint16_t grantee;
	uint32_t page;
};

struct fx_dom {
	int memfd;
	uint8_t *mem;			/* the domain's own view */
	uint32_t next_page;		/* bump allocator, reset per run */
	uint32_t next_ref;
	bool alive;
	uint64_t signals;
	struct fx_grant g[FX_GREFS];
};

static struct fx_dom doms[FX_MAX_DOMS];

struct fx_map {
	uint8_t *addr;
	uint32_t count;
	uint16_t mapper, granter;
	int32_t notify_off;		/* byte cleared at unmap; -1: none */
	int32_t notify_port;		/* the mapper's port signalled; -1 */
};

#define FX_MAX_MAPS	1024
static struct fx_map maps[FX_MAX_MAPS];
static unsigned int nmaps;
static uint32_t mapped_pages;

/* Pages shared with xengntshr: the grants end on unshare. */
struct fx_share {
	uint8_t *addr;
	uint32_t count;
	uint16_t dom;
	uint32_t first_ref;
	int32_t notify_off;		/* byte cleared at unshare; -1: none */
	int32_t notify_port;		/* the sharer's port signalled; -1 */
};

#define FX_MAX_SHARES	256
static struct fx_share shares[FX_MAX_SHARES];
static unsigned int nshares;

static unsigned int open_gnt, open_evt, open_xs;

static struct fx_dom *fx_dom_mem(unsigned int dom)
{
	struct fx_dom *d = &doms[dom];

	if (!d->mem) {
		d->memfd = memfd_create("fake-xen-dom", MFD_CLOEXEC);
		if (d->memfd < 0 ||
		    ftruncate(d->memfd, (off_t)FX_DOM_PAGES * FX_PAGE_SIZE) < 0)
			fx_die("failed to create the memory of domain %u", dom);
		d->mem = mmap(NULL, (size_t)FX_DOM_PAGES * FX_PAGE_SIZE,
			      PROT_READ | PROT_WRITE, MAP_SHARED, d->memfd, 0);
		if (d->mem == MAP_FAILED)
			fx_die("failed to map the memory of domain %u", dom);
	}
	return d;
}

uint8_t *fx_alloc_pages(unsigned int dom, uint32_t n)
{
	struct fx_dom *d;
	uint8_t *p;

	if (dom >= FX_MAX_DOMS || n == 0)
		return NULL;
	d = fx_dom_mem(dom);
	if (n > FX_DOM_PAGES - d->next_page)
		return NULL;
	p = d->mem + (size_t)d->next_page * FX_PAGE_SIZE;
	d->next_page += n;
	return p;
}

static int fx_grant_page(unsigned int dom, uint32_t page, unsigned int grantee,
			 bool ro)
{
	struct fx_dom *d = &doms[dom];
	uint32_t i, ref;

	/* Refs 0..7 are reserved in Xen; hand out the others round robin. */
	for (i = 0; i < FX_GREFS; i++) {
		ref = 8 + (d->next_ref + i) % (FX_GREFS - 8);
		if (!d->g[ref].used) {
			d->g[ref] = (struct fx_grant){ true, ro,
						       (uint16_t)grantee, page };
			d->next_ref = ref - 8 + 1;
			return (int)ref;
		}
	}
	return -1;
}

int fx_grant(unsigned int dom, const void *p, unsigned int grantee, bool ro)
{
	struct fx_dom *d;
	size_t off;

	if (dom >= FX_MAX_DOMS || grantee >= FX_MAX_DOMS)
		return -1;
	d = fx_dom_mem(dom);
	off = (size_t)((const uint8_t *)p - d->mem);
	if ((const uint8_t *)p < d->mem || off >= (size_t)FX_DOM_PAGES * FX_PAGE_SIZE)
		return -1;
	return fx_grant_page(dom, (uint32_t)(off / FX_PAGE_SIZE), grantee, ro);
}

uint8_t *fx_grant_addr(unsigned int dom, uint32_t ref, unsigned int grantee)
{
	const struct fx_grant *g;

	if (dom >= FX_MAX_DOMS || ref >= FX_GREFS)
		return NULL;
	g = &doms[dom].g[ref];
	if (!g->used || g->grantee != grantee)
		return NULL;
	return fx_dom_mem(dom)->mem + (size_t)g->page * FX_PAGE_SIZE;
}

bool fx_dom_alive(unsigned int dom)
{
	return dom < FX_MAX_DOMS && doms[dom].alive;
}

uint32_t fx_mapped_pages(unsigned int mapper, unsigned int granter,
			 uint32_t *regions)
{
	uint32_t pages = 0, n = 0;
	unsigned int i;

	for (i = 0; i < nmaps; i++)
		if (maps[i].mapper == mapper && maps[i].granter == granter) {
			pages += maps[i].count;
			n++;
		}
	if (regions)
		*regions = n;
	return pages;
}

bool fx_addr_mapped(const void *p)
{
	const uint8_t *a = p;
	unsigned int i;

	for (i = 0; i < nmaps; i++)
		if (a >= maps[i].addr &&
		    a < maps[i].addr + (size_t)maps[i].count * FX_PAGE_SIZE)
			return true;
	return false;
}

uint32_t fx_shared_pages(unsigned int dom)
{
	uint32_t pages = 0;
	unsigned int i;

	for (i = 0; i < nshares; i++)
		if (shares[i].dom == dom)
			pages += shares[i].count;
	return pages;
}

/*
 * What Linux's gntdev and gntalloc do when a mapping or share with an
 * unmap notification goes: clear the byte, then signal the port.
 */
static void fx_unmap_notify(uint8_t *addr, int32_t off, unsigned int dom,
			    int32_t port)
{
	if (off >= 0)
		__atomic_store_n(addr + off, 0, __ATOMIC_RELEASE);
	if (port >= 0)
		fx_notify(dom, (unsigned int)port);
}

struct xengntdev_handle {
	unsigned int dom;
	bool shr;
};

xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger,
				 unsigned open_flags)
{
	xengnttab_handle *h = calloc(1, sizeof(*h));

	(void)logger;
	(void)open_flags;
	if (!h)
		return NULL;
	h->dom = fx_cur_dom;
	open_gnt++;
	return h;
}

int xengnttab_close(xengnttab_handle *h)
{
	if (!h)
		return 0;
	/* Closing the device unmaps nothing in Linux: the VMAs stay. */
	open_gnt--;
	free(h);
	return 0;
}

void *xengnttab_map_domain_grant_refs(xengnttab_handle *h, uint32_t count,
				      uint32_t domid, uint32_t *refs, int prot)
{
	struct fx_dom *d;
	uint8_t *addr;
	uint32_t i, run;

	if (count == 0 || count > FX_MAPTRACK || domid >= FX_MAX_DOMS ||
	    domid == h->dom) {
		errno = EINVAL;
		return NULL;
	}
	d = fx_dom_mem(domid);
	if (!d->alive) {
		errno = ESRCH;
		return NULL;
	}
	for (i = 0; i < count; i++) {
		const struct fx_grant *g;

		if (refs[i] >= FX_GREFS || !d->g[refs[i]].used) {
			errno = EINVAL;
			return NULL;
		}
		g = &d->g[refs[i]];
		if (g->grantee != h->dom) {
			errno = EPERM;
			return NULL;
		}
		if (g->ro && (prot & PROT_WRITE)) {
			errno = EPERM;
			return NULL;
		}
	}
	if (count > FX_MAPTRACK - mapped_pages || nmaps >= FX_MAX_MAPS) {
		errno = ENOSPC;
		return NULL;
	}
	for (run = 1; run < count &&
	     d->g[refs[run]].page == d->g[refs[0]].page + run; run++)
		;
	if (run == count) {	/* the common case: consecutive pages */
		addr = mmap(NULL, (size_t)count * FX_PAGE_SIZE, prot, MAP_SHARED,
			    d->memfd, (off_t)d->g[refs[0]].page * FX_PAGE_SIZE);
		if (addr == MAP_FAILED)
			return NULL;
		goto done;
	}
	addr = mmap(NULL, (size_t)count * FX_PAGE_SIZE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (addr == MAP_FAILED)
		return NULL;
	/* One mmap per run of consecutive pages. */
	for (i = 0; i < count; i += run) {
		uint32_t page = d->g[refs[i]].page;

		for (run = 1; i + run < count &&
		     d->g[refs[i + run]].page == page + run; run++)
			;
		if (mmap(addr + (size_t)i * FX_PAGE_SIZE,
			 (size_t)run * FX_PAGE_SIZE, prot,
			 MAP_SHARED | MAP_FIXED, d->memfd,
			 (off_t)page * FX_PAGE_SIZE) == MAP_FAILED)
			fx_die("failed to alias pages of domain %u", domid);
	}
done:
	maps[nmaps++] = (struct fx_map){ addr, count, (uint16_t)h->dom,
					 (uint16_t)domid, -1, -1 };
	mapped_pages += count;
	return addr;
}

int xengnttab_unmap(xengnttab_handle *h, void *start, uint32_t count)
{
	unsigned int i;

	for (i = 0; i < nmaps; i++)
		if (maps[i].addr == start && maps[i].mapper == h->dom)
			break;
	if (i == nmaps)
		fx_die("unmap of %p, which is not a mapping", start);
	if (maps[i].count != count)
		fx_die("unmap of %u pages of a mapping of %u", count,
		       maps[i].count);
	fx_unmap_notify(maps[i].addr, maps[i].notify_off, maps[i].mapper,
			maps[i].notify_port);
	munmap(start, (size_t)count * FX_PAGE_SIZE);
	mapped_pages -= count;
	maps[i] = maps[--nmaps];
	return 0;
}

xengntshr_handle *xengntshr_open(struct xentoollog_logger *logger,
				 unsigned open_flags)
{
	xengntshr_handle *h = xengnttab_open(logger, open_flags);

	if (h)
		h->shr = true;
	return h;
}

int xengntshr_close(xengntshr_handle *h)
{
	return xengnttab_close(h);
}

void *xengntshr_share_pages(xengntshr_handle *h, uint32_t domid, int count,
			    uint32_t *refs, int writable)
{
	struct fx_dom *d;
	uint8_t *p;
	int i, ref;

	if (count <= 0 || domid >= FX_MAX_DOMS || nshares >= FX_MAX_SHARES) {
		errno = EINVAL;
		return NULL;
	}
	p = fx_alloc_pages(h->dom, (uint32_t)count);
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	d = &doms[h->dom];
	for (i = 0; i < count; i++) {
		ref = fx_grant(h->dom, p + (size_t)i * FX_PAGE_SIZE, domid,
			       !writable);
		if (ref < 0) {
			while (i--)
				d->g[refs[i]].used = false;
			errno = ENOSPC;
			return NULL;
		}
		refs[i] = (uint32_t)ref;
	}
	shares[nshares++] = (struct fx_share){ p, (uint32_t)count,
					       (uint16_t)h->dom, refs[0], -1, -1 };
	return p;
}

int xengntshr_unshare(xengntshr_handle *h, void *start, uint32_t count)
{
	struct fx_dom *d = &doms[h->dom];
	uint32_t first, i, r;
	unsigned int s;

	for (s = 0; s < nshares; s++)
		if (shares[s].addr == start && shares[s].dom == h->dom)
			break;
	if (s == nshares || shares[s].count != count)
		fx_die("unshare of %u pages that were not shared", count);
	fx_unmap_notify(shares[s].addr, shares[s].notify_off, shares[s].dom,
			shares[s].notify_port);
	first = (uint32_t)(((uint8_t *)start - d->mem) / FX_PAGE_SIZE);
	/* End every grant of these pages; dom0 keeps what it mapped. */
	for (r = 0; r < FX_GREFS; r++)
		for (i = 0; i < count; i++)
			if (d->g[r].used && d->g[r].page == first + i)
				d->g[r].used = false;
	shares[s] = shares[--nshares];
	return 0;
}

/* --- event channels --- */

enum { PORT_FREE, PORT_UNBOUND, PORT_INTER };

struct fx_port {
	uint8_t state;
	uint16_t rdom;
	uint16_t rport;
	xenevtchn_handle *owner;	/* NULL: the fuzzer's guest owns it */
};

static struct fx_port ports[FX_MAX_DOMS][FX_PORTS];

struct xenevtchn_handle {
	unsigned int dom;
	unsigned int tag;
	int efd;
	uint64_t pending;		/* bit per port */
};

#define FX_MAX_HANDLES	64
static xenevtchn_handle *evt_handles[FX_MAX_HANDLES];
static struct xs_handle *xs_handles[FX_MAX_HANDLES];

static void port_raise(unsigned int dom, unsigned int port)
{
	struct fx_port *p = &ports[dom][port];
	uint64_t one = 1;

	if (!p->owner) {
		doms[dom].signals++;
		return;
	}
	if (!p->owner->pending &&
	    write(p->owner->efd, &one, sizeof(one)) != sizeof(one))
		fx_die("failed to raise port %u", port);
	p->owner->pending |= 1ull << port;
}

static int port_new(unsigned int dom)
{
	unsigned int i;

	for (i = 1; i < FX_PORTS; i++)
		if (ports[dom][i].state == PORT_FREE)
			return (int)i;
	return -1;
}

static void port_close(unsigned int dom, unsigned int port)
{
	struct fx_port *p = &ports[dom][port];

	/* The other end of an interdomain channel falls back to unbound. */
	if (p->state == PORT_INTER) {
		struct fx_port *r = &ports[p->rdom][p->rport];

		if (r->state == PORT_INTER && r->rdom == dom && r->rport == port)
			r->state = PORT_UNBOUND;
	}
	if (p->owner)
		p->owner->pending &= ~(1ull << port);
	*p = (struct fx_port){ 0 };
}

int fx_port_alloc(unsigned int dom, unsigned int remote)
{
	int port;

	if (dom >= FX_MAX_DOMS || remote >= FX_MAX_DOMS || !doms[dom].alive)
		return -1;
	port = port_new(dom);
	if (port < 0)
		return -1;
	ports[dom][port] = (struct fx_port){ PORT_UNBOUND, (uint16_t)remote, 0,
					     NULL };
	return port;
}

int fx_port_bind(unsigned int dom, unsigned int rdom, unsigned int rport)
{
	struct fx_port *r;
	int port;

	if (dom >= FX_MAX_DOMS || rdom >= FX_MAX_DOMS || rport == 0 ||
	    rport >= FX_PORTS || !doms[rdom].alive)
		return -1;
	r = &ports[rdom][rport];
	if (r->state != PORT_UNBOUND || r->rdom != dom)
		return -1;
	port = port_new(dom);
	if (port < 0)
		return -1;
	ports[dom][port] = (struct fx_port){ PORT_INTER, (uint16_t)rdom,
					     (uint16_t)rport, NULL };
	r->state = PORT_INTER;
	r->rport = (uint16_t)port;
	return port;
}

void fx_port_close(unsigned int dom, unsigned int port)
{
	if (dom < FX_MAX_DOMS && port && port < FX_PORTS &&
	    ports[dom][port].state != PORT_FREE && !ports[dom][port].owner)
		port_close(dom, port);
}

int fx_notify(unsigned int dom, unsigned int port)
{
	struct fx_port *p;

	if (dom >= FX_MAX_DOMS || port >= FX_PORTS || !doms[dom].alive)
		return -1;
	p = &ports[dom][port];
	if (p->state != PORT_INTER)
		return p->state == PORT_UNBOUND ? 0 : -1;
	port_raise(p->rdom, p->rport);
	return 0;
}

uint64_t fx_signals(unsigned int dom)
{
	return dom < FX_MAX_DOMS ? doms[dom].signals : 0;
}

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger,
				 unsigned int flags)
{
	xenevtchn_handle *h = calloc(1, sizeof(*h));

	(void)logger;
	(void)flags;
	if (!h)
		return NULL;
	h->dom = fx_cur_dom;
	h->tag = fx_cur_tag;
	h->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->efd < 0 || open_evt == FX_MAX_HANDLES) {
		if (h->efd >= 0)
			close(h->efd);
		free(h);
		errno = EMFILE;
		return NULL;
	}
	evt_handles[open_evt++] = h;
	return h;
}

int xenevtchn_close(xenevtchn_handle *h)
{
	unsigned int i;

	if (!h)
		return 0;
	for (i = 1; i < FX_PORTS; i++)
		if (ports[h->dom][i].owner == h)
			port_close(h->dom, i);
	close(h->efd);
	for (i = 0; i < open_evt; i++)
		if (evt_handles[i] == h)
			evt_handles[i] = evt_handles[--open_evt];
	free(h);
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *h)
{
	return h->efd;
}

int xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t port)
{
	struct fx_port *p;

	if (port >= FX_PORTS || ports[h->dom][port].owner != h) {
		errno = EINVAL;
		return -1;
	}
	p = &ports[h->dom][port];
	if (p->state == PORT_INTER)
		port_raise(p->rdom, p->rport);
	if (h->dom != 0 && fx_guest_hook)
		fx_guest_hook(h->dom, false);
	return 0;
}

xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *h,
						      uint32_t domid)
{
	int port;

	if (domid >= FX_MAX_DOMS) {
		errno = EINVAL;
		return -1;
	}
	port = port_new(h->dom);
	if (port < 0) {
		errno = ENOSPC;
		return -1;
	}
	ports[h->dom][port] = (struct fx_port){ PORT_UNBOUND, (uint16_t)domid,
						0, h };
	return port;
}

xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *h,
						     uint32_t domid,
						     evtchn_port_t rport)
{
	struct fx_port *r;
	int port;

	if (domid >= FX_MAX_DOMS || rport == 0 || rport >= FX_PORTS ||
	    !doms[domid].alive) {
		errno = EINVAL;
		return -1;
	}
	r = &ports[domid][rport];
	if (r->state != PORT_UNBOUND || r->rdom != h->dom) {
		errno = EINVAL;
		return -1;
	}
	port = port_new(h->dom);
	if (port < 0) {
		errno = ENOSPC;
		return -1;
	}
	ports[h->dom][port] = (struct fx_port){ PORT_INTER, (uint16_t)domid,
						(uint16_t)rport, h };
	r->state = PORT_INTER;
	r->rport = (uint16_t)port;
	return port;
}

int xenevtchn_unbind(xenevtchn_handle *h, evtchn_port_t port)
{
	if (port >= FX_PORTS || ports[h->dom][port].owner != h) {
		errno = EINVAL;
		return -1;
	}
	port_close(h->dom, port);
	return 0;
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *h)
{
	uint64_t v;
	int port;

	if (!h->pending) {
		errno = EAGAIN;
		return -1;
	}
	port = __builtin_ctzll(h->pending);
	h->pending &= ~(1ull << port);
	if (!h->pending && read(h->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		fx_die("failed to clear port %d", port);
	return port;
}

int xenevtchn_unmask(xenevtchn_handle *h, evtchn_port_t port)
{
	(void)h;
	(void)port;
	return 0;
}

/* --- xenstore --- */

#define XS_MAX_NODES	256
#define XS_MAX_PATH	160
#define XS_MAX_WATCHES	64
#define XS_MAX_EVENTS	32

struct xs_node {
	uint32_t hash;
	char path[XS_MAX_PATH];
	char *val;
	unsigned int len;
};

static struct xs_node nodes[XS_MAX_NODES];
static unsigned int nnodes;

struct xs_handle {
	unsigned int dom;
	unsigned int tag;
	int efd;
	unsigned int nev;
	char *ev[XS_MAX_EVENTS][2];
};

struct xs_watch {
	struct xs_handle *h;
	char path[XS_MAX_PATH];
	char token[32];
};

static struct xs_watch watches[XS_MAX_WATCHES];
static unsigned int nwatches;

/*
 * "/local/domain/<dom>" into @out (at least 32 bytes); its length.  By
 * hand, as the copies below: snprintf() through the sanitizers' interceptor
 * was a tenth of the target's time.
 */
static size_t xs_dom_dir(unsigned int dom, char *out)
{
	static const char top[] = "/local/domain/";
	char digits[12];
	size_t n = sizeof(top) - 1, k = 0;

	memcpy(out, top, n);
	do {
		digits[k++] = (char)('0' + dom % 10);
		dom /= 10;
	} while (dom);
	while (k)
		out[n++] = digits[--k];
	out[n] = '\0';
	return n;
}

/* Copy @src after @n bytes of @out; false if it does not fit. */
static bool xs_append(char *out, size_t n, const char *src)
{
	while (*src) {
		if (n + 1 >= XS_MAX_PATH)
			return false;
		out[n++] = *src++;
	}
	out[n] = '\0';
	return n > 0;
}

/* Absolute path of @path as seen by @dom; false if it does not fit. */
static bool xs_abs(unsigned int dom, const char *path, char *out)
{
	size_t n = 0;

	if (path[0] != '/' && path[0] != '@') {
		n = xs_dom_dir(dom, out);
		out[n++] = '/';
	}
	return xs_append(out, n, path);
}

/*
 * Plain loops rather than strcmp(): this file is built without coverage,
 * and the sanitizers' string interceptors would report every comparison of
 * paths to the fuzzer as if the input had made it.
 */
static bool xs_under(const char *path, const char *top)
{
	while (*top && *path == *top) {
		path++;
		top++;
	}
	return !*top && (*path == '\0' || *path == '/');
}

static bool xs_same(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* Guests write only in their own tree. */
static bool xs_may_write(unsigned int dom, const char *abs)
{
	char own[32];

	if (dom == 0)
		return true;
	xs_dom_dir(dom, own);
	return xs_under(abs, own);
}

static void xs_queue(struct xs_handle *h, const char *path, const char *token)
{
	uint64_t one = 1;

	if (h->nev == XS_MAX_EVENTS)
		return;		/* xenstored drops too: the reader reads state */
	h->ev[h->nev][0] = strdup(path);
	h->ev[h->nev][1] = strdup(token);
	if (!h->ev[h->nev][0] || !h->ev[h->nev][1]) {
		free(h->ev[h->nev][0]);
		free(h->ev[h->nev][1]);
		return;
	}
	if (h->nev++ == 0 && write(h->efd, &one, sizeof(one)) != sizeof(one))
		fx_die("failed to raise watch fd %d", h->efd);
}

static void xs_fire(const char *path)
{
	unsigned int i;

	for (i = 0; i < nwatches; i++)
		if (xs_under(path, watches[i].path))
			xs_queue(watches[i].h, path, watches[i].token);
}

static uint32_t xs_hash(const char *p)
{
	uint32_t h = 2166136261u;

	while (*p)
		h = (h ^ (uint8_t)*p++) * 16777619u;
	return h;
}

static struct xs_node *xs_find(const char *abs)
{
	uint32_t h = xs_hash(abs);
	unsigned int i;

	for (i = 0; i < nnodes; i++)
		if (nodes[i].hash == h && xs_same(nodes[i].path, abs))
			return &nodes[i];
	return NULL;
}

static int xs_do_write(unsigned int dom, const char *path, const void *val,
		       unsigned int len)
{
	char abs[XS_MAX_PATH];
	struct xs_node *n;
	char *v;

	if (!xs_abs(dom, path, abs) || !xs_may_write(dom, abs) || len > 4096) {
		errno = EACCES;
		return -1;
	}
	v = malloc(len + 1);
	if (!v) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(v, val, len);
	v[len] = '\0';
	n = xs_find(abs);
	if (!n) {
		if (nnodes == XS_MAX_NODES) {
			free(v);
			errno = ENOSPC;
			return -1;
		}
		n = &nodes[nnodes++];
		memcpy(n->path, abs, strlen(abs) + 1);
		n->hash = xs_hash(abs);
	} else {
		free(n->val);
	}
	n->val = v;
	n->len = len;
	xs_fire(abs);
	return 0;
}

static int xs_do_rm(unsigned int dom, const char *path)
{
	char abs[XS_MAX_PATH];
	unsigned int i;

	if (!xs_abs(dom, path, abs) || !xs_may_write(dom, abs)) {
		errno = EACCES;
		return -1;
	}
	for (i = 0; i < nnodes;) {
		if (xs_under(nodes[i].path, abs)) {
			free(nodes[i].val);
			nodes[i] = nodes[--nnodes];
		} else {
			i++;
		}
	}
	xs_fire(abs);
	return 0;
}

int fx_xs_write(unsigned int dom, const char *path, const void *val,
		unsigned int len)
{
	return xs_do_write(dom, path, val, len);
}

int fx_xs_rm(unsigned int dom, const char *path)
{
	return xs_do_rm(dom, path);
}

int fx_xs_read(const char *path, char *buf, size_t size)
{
	struct xs_node *n = xs_find(path);

	if (!n || size == 0)
		return -1;
	memcpy(buf, n->val, n->len < size ? n->len + 1 : size - 1);
	buf[size - 1] = '\0';
	return (int)n->len;
}

struct xs_handle *xs_open(unsigned long flags)
{
	struct xs_handle *h = calloc(1, sizeof(*h));

	(void)flags;
	if (!h)
		return NULL;
	h->dom = fx_cur_dom;
	h->tag = fx_cur_tag;
	h->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->efd < 0 || open_xs == FX_MAX_HANDLES) {
		if (h->efd >= 0)
			close(h->efd);
		free(h);
		errno = EMFILE;
		return NULL;
	}
	xs_handles[open_xs++] = h;
	return h;
}

void xs_close(struct xs_handle *h)
{
	unsigned int i;

	if (!h)
		return;
	for (i = 0; i < nwatches;) {
		if (watches[i].h == h)
			watches[i] = watches[--nwatches];
		else
			i++;
	}
	for (i = 0; i < h->nev; i++) {
		free(h->ev[i][0]);
		free(h->ev[i][1]);
	}
	close(h->efd);
	for (i = 0; i < open_xs; i++)
		if (xs_handles[i] == h)
			xs_handles[i] = xs_handles[--open_xs];
	free(h);
}

void *xs_read(struct xs_handle *h, xs_transaction_t t, const char *path,
	      unsigned int *len)
{
	char abs[XS_MAX_PATH];
	struct xs_node *n;
	char *v;

	(void)t;
	if (!xs_abs(h->dom, path, abs) || !(n = xs_find(abs))) {
		errno = ENOENT;
		return NULL;
	}
	v = malloc(n->len + 1);
	if (!v) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(v, n->val, n->len + 1);
	if (len)
		*len = n->len;
	return v;
}

bool xs_write(struct xs_handle *h, xs_transaction_t t, const char *path,
	      const void *data, unsigned int len)
{
	(void)t;
	return xs_do_write(h->dom, path, data, len) == 0;
}

bool xs_rm(struct xs_handle *h, xs_transaction_t t, const char *path)
{
	(void)t;
	return xs_do_rm(h->dom, path) == 0;
}

char **xs_directory(struct xs_handle *h, xs_transaction_t t, const char *path,
		    unsigned int *num)
{
	char abs[XS_MAX_PATH], *names[XS_MAX_NODES], **out, *p;
	size_t n, total = 0;
	unsigned int i, j, k = 0;

	(void)t;
	if (!xs_abs(h->dom, path, abs)) {
		errno = ENOENT;
		return NULL;
	}
	n = strlen(abs);
	for (i = 0; i < nnodes; i++) {
		const char *rest = nodes[i].path + n;
		size_t l;

		if (strncmp(nodes[i].path, abs, n) || rest[0] != '/')
			continue;
		rest++;
		l = strcspn(rest, "/");
		for (j = 0; j < k; j++)
			if (strlen(names[j]) == l && !strncmp(names[j], rest, l))
				break;
		if (j < k)
			continue;
		names[k] = strndup(rest, l);
		if (!names[k])
			break;
		total += l + 1;
		k++;
	}
	out = malloc(k * sizeof(*out) + total + 1);
	if (out) {
		p = (char *)(out + k);
		for (j = 0; j < k; j++) {
			strcpy(p, names[j]);
			out[j] = p;
			p += strlen(p) + 1;
		}
		*num = k;
	}
	for (j = 0; j < k; j++)
		free(names[j]);
	return out;
}

bool xs_is_domain_introduced(struct xs_handle *h, unsigned int domid)
{
	(void)h;
	return fx_dom_alive(domid);
}

bool xs_watch(struct xs_handle *h, const char *path, const char *token)
{
	struct xs_watch *w;

	if (nwatches == XS_MAX_WATCHES || strlen(token) >= sizeof(w->token)) {
		errno = ENOSPC;
		return false;
	}
	w = &watches[nwatches];
	if (!xs_abs(h->dom, path, w->path)) {
		errno = EINVAL;
		return false;
	}
	w->h = h;
	snprintf(w->token, sizeof(w->token), "%s", token);
	nwatches++;
	/* xenstored fires a new watch once. */
	xs_queue(h, w->path, token);
	return true;
}

int xs_fileno(struct xs_handle *h)
{
	if (h->dom != 0 && fx_guest_hook)
		fx_guest_hook(h->dom, true);
	return h->efd;
}

char **xs_check_watch(struct xs_handle *h)
{
	char **w;
	size_t a, b;
	uint64_t v;

	if (!h->nev) {
		errno = EAGAIN;
		return NULL;
	}
	a = strlen(h->ev[0][0]) + 1;
	b = strlen(h->ev[0][1]) + 1;
	/* One block, as libxenstore returns it: the caller frees it. */
	w = malloc(2 * sizeof(*w) + a + b);
	if (w) {
		w[0] = (char *)(w + 2);
		w[1] = w[0] + a;
		memcpy(w[0], h->ev[0][0], a);
		memcpy(w[1], h->ev[0][1], b);
	}
	free(h->ev[0][0]);
	free(h->ev[0][1]);
	memmove(h->ev[0], h->ev[1], (h->nev - 1) * sizeof(h->ev[0]));
	if (--h->nev == 0 && read(h->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		fx_die("failed to clear watch fd %d", h->efd);
	if (!w)
		errno = ENOMEM;
	return w;
}

/* --- the world --- */

void fx_dom_kill(unsigned int dom)
{
	char path[32];
	unsigned int i;

	if (dom == 0 || dom >= FX_MAX_DOMS || !doms[dom].alive)
		return;
	snprintf(path, sizeof(path), "/local/domain/%u", dom);
	xs_do_rm(0, path);
	for (i = 1; i < FX_PORTS; i++)
		if (ports[dom][i].state != PORT_FREE)
			port_close(dom, i);
	doms[dom].alive = false;
	xs_fire("@releaseDomain");
}

/* --- time --- */

#define FX_EPOCH_MS	1000000		/* the clock at the start of a run */
#define FX_FOREVER_MS	3600000		/* what a wait without limit costs */

static int64_t fx_clock = FX_EPOCH_MS;

/*
 * Timers: real timerfds (the library closes them with close()), left
 * unarmed while the fake clock has not reached them; when it does, each
 * is made to go off at once.  An entry whose fd was closed and reused is
 * reset by fx_timer_open, or refused by timerfd_settime (not a timer).
 */
#define FX_TIMERS	16

static struct {
	int fd;
	int64_t due;			/* 0: not armed */
} fx_timers[FX_TIMERS];

int fx_timer_open(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	unsigned int i;

	for (i = 0; fd >= 0 && i < FX_TIMERS; i++)
		if (fx_timers[i].due && fx_timers[i].fd == fd)
			fx_timers[i].due = 0;
	return fd;
}

int fx_timer_set(int fd, int ms)
{
	static const struct itimerspec off;
	unsigned int i, free_i = FX_TIMERS;

	if (timerfd_settime(fd, 0, &off, NULL) < 0)
		return -1;
	for (i = 0; i < FX_TIMERS; i++) {
		if (fx_timers[i].due && fx_timers[i].fd == fd)
			fx_timers[i].due = 0;
		if (!fx_timers[i].due && free_i == FX_TIMERS)
			free_i = i;
	}
	if (ms <= 0)
		return 0;
	if (free_i == FX_TIMERS)
		fx_die("more than %u timers armed", FX_TIMERS);
	fx_timers[free_i].fd = fd;
	fx_timers[free_i].due = fx_clock + ms;
	return 0;
}

/* The clock moved: the timers it reached go off now. */
static void fx_timers_run(void)
{
	static const struct itimerspec now = { { 0, 0 }, { 0, 1 } };
	struct pollfd p;
	unsigned int i;

	for (i = 0; i < FX_TIMERS; i++) {
		if (!fx_timers[i].due || fx_timers[i].due > fx_clock)
			continue;
		fx_timers[i].due = 0;
		if (timerfd_settime(fx_timers[i].fd, 0, &now, NULL) < 0)
			continue;
		/* It expires at once; the kernel takes a moment to say so. */
		p = (struct pollfd){ .fd = fx_timers[i].fd, .events = POLLIN };
		poll(&p, 1, 1000);
	}
}

int64_t fx_now_ms(void)
{
	return fx_clock;
}

void fx_time_pass(unsigned int ms)
{
	fx_clock += ms;
	fx_timers_run();
}

int fx_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	int rc;

	if (timeout_ms && fx_cur_dom != 0 && fx_guest_hook)
		fx_guest_hook(fx_cur_dom, true);
	rc = poll(fds, n, 0);
	if (rc == 0 && timeout_ms) {
		fx_clock += timeout_ms > 0 ? timeout_ms : FX_FOREVER_MS;
		fx_timers_run();
	}
	return rc;
}

void fx_reset(void)
{
	unsigned int i;

	fx_check_clean("at the start of a run");
	fx_release();
	nwatches = 0;
	nshares = 0;
	memset(ports, 0, sizeof(ports));
	for (i = 0; i < FX_MAX_DOMS; i++) {
		struct fx_dom *d = fx_dom_mem(i);

		memset(d->mem, 0, (size_t)d->next_page * FX_PAGE_SIZE);
		d->next_page = 0;
		d->next_ref = 0;
		d->alive = true;
		d->signals = 0;
		memset(d->g, 0, sizeof(d->g));
	}
	fx_cur_dom = 0;
	fx_guest_hook = NULL;
	fx_clock = FX_EPOCH_MS;
	memset(fx_timers, 0, sizeof(fx_timers));
}

bool fx_pending(unsigned int tag)
{
	unsigned int i;

	for (i = 0; i < open_xs; i++)
		if (xs_handles[i]->tag == tag && xs_handles[i]->nev)
			return true;
	for (i = 0; i < open_evt; i++)
		if (evt_handles[i]->tag == tag && evt_handles[i]->pending)
			return true;
	return false;
}

void fx_release(void)
{
	unsigned int i;

	for (i = 0; i < nnodes; i++)
		free(nodes[i].val);
	nnodes = 0;
}

void fx_check_clean(const char *when)
{
	if (nmaps)
		fx_die("%s: %u grant mappings leaked", when, nmaps);
	if (nshares)
		fx_die("%s: %u shared page ranges leaked", when, nshares);
	if (open_evt)
		fx_die("%s: %u event channel handles leaked", when, open_evt);
	if (open_gnt)
		fx_die("%s: %u grant handles leaked", when, open_gnt);
	if (open_xs)
		fx_die("%s: %u xenstore handles leaked", when, open_xs);
}

/* --- unmap notifications (gntdev's and gntalloc's UNMAP_NOTIFY) --- */

static bool fx_notify_args_ok(uint32_t off, evtchn_port_t port)
{
	return (off == (uint32_t)-1 || off < FX_PAGE_SIZE) &&
	       (port == (evtchn_port_t)-1 || port < FX_PORTS);
}

void *xengnttab_map_grant_ref_notify(xengnttab_handle *xgt, uint32_t domid,
				     uint32_t ref, int prot,
				     uint32_t notify_offset,
				     evtchn_port_t notify_port)
{
	uint8_t *p;

	if (!fx_notify_args_ok(notify_offset, notify_port) ||
	    (notify_offset != (uint32_t)-1 && !(prot & PROT_WRITE))) {
		errno = EINVAL;
		return NULL;
	}
	p = xengnttab_map_domain_grant_refs(xgt, 1, domid, &ref, prot);
	if (!p)
		return NULL;
	maps[nmaps - 1].notify_off = notify_offset == (uint32_t)-1 ? -1 :
				     (int32_t)notify_offset;
	maps[nmaps - 1].notify_port = notify_port == (evtchn_port_t)-1 ? -1 :
				      (int32_t)notify_port;
	return p;
}

void *xengntshr_share_page_notify(xengntshr_handle *xgs, uint32_t domid,
				  uint32_t *ref, int writable,
				  uint32_t notify_offset,
				  evtchn_port_t notify_port)
{
	uint8_t *p;

	if (!fx_notify_args_ok(notify_offset, notify_port)) {
		errno = EINVAL;
		return NULL;
	}
	p = xengntshr_share_pages(xgs, domid, 1, ref, writable);
	if (!p)
		return NULL;
	shares[nshares - 1].notify_off = notify_offset == (uint32_t)-1 ? -1 :
					 (int32_t)notify_offset;
	shares[nshares - 1].notify_port = notify_port == (evtchn_port_t)-1 ?
					  -1 : (int32_t)notify_port;
	return p;
}
