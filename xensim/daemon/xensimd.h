/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xensimd.h - state of the simulated hypervisor (and of the few guest-kernel
 * pieces it plays: the xenbus device of each guest).
 *
 * One thread, one epoll loop.  Every object the loop waits on starts with a
 * struct watcher naming the handler of its events.
 */
#ifndef XENSIMD_H
#define XENSIMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dlog.h"
#include "proc.h"
#include "xensim-proto.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

struct list {
	struct list *next, *prev;
};

#define LIST_INIT(l) { &(l), &(l) }
static inline void list_init(struct list *l) { l->next = l->prev = l; }
static inline bool list_empty(const struct list *l) { return l->next == l; }
static inline void list_add_tail(struct list *n, struct list *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}
static inline void list_del(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}
#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))
#define list_for_each_safe(pos, tmp, head) \
	for (pos = (head)->next, tmp = pos->next; pos != (head); \
	     pos = tmp, tmp = pos->next)

enum watcher_kind {
	W_LISTEN,	/* a domain's hypervisor.sock */
	W_CONN,		/* a library handle */
	W_KPORT,	/* an event channel owned by the simulated kernel */
	W_XB_LISTEN,	/* a guest's xenbus endpoint */
	W_XB_CLIENT,	/* a client of a guest's xenbus endpoint */
	W_SIGNAL,
	W_DBGPORT,	/* the debug port's wake-up and timer fds */
};

struct watcher;
/* An event on a watcher; true when it may have freed other watchers. */
typedef bool (*watch_fn)(struct watcher *w, uint32_t events);

struct watcher {
	enum watcher_kind kind;
	int fd;
	watch_fn fn;
};

enum port_state {
	PORT_FREE = 0,
	PORT_UNBOUND,
	PORT_INTERDOMAIN,
	PORT_VIRQ,
};

struct domain;
struct conn;

/* Who receives a port's events when it is not a library handle. */
typedef void (*kport_fn)(void *opaque);

struct port {
	enum port_state state;
	uint32_t remote_dom;
	uint32_t remote_port;
	uint32_t virq;
	int efd;		/* this port's eventfd: written to deliver */
	struct conn *owner;	/* binding handle, NULL for the kernel */
	struct watcher kw;	/* for kernel-owned ports */
	struct domain *kdom;
	uint32_t kport;
	kport_fn kfn;
	void *kopaque;
	uint32_t holds;		/* unmap notifications that will signal it */
	bool close_deferred;	/* unbound while held: closed on last put */
};

#define G_INUSE		0x1
#define G_READONLY	0x2
#define G_ENDED		0x4	/* access ended while mapped: free on last unmap */

struct grant {
	uint8_t flags;
	uint32_t domid;		/* grantee */
	uint32_t gfn;
	uint32_t maps;
};

struct share {
	struct list link;	/* in conn->shares */
	uint64_t id;
	uint32_t count;
	uint32_t *refs;
	struct xensim_notify notify;
};

struct mapping {
	struct list link;	/* in conn->maps */
	uint64_t id;
	uint32_t count;
	bool writable;
	uint32_t *domids;
	uint32_t *refs;
	struct xensim_notify notify;
};

struct conn {
	struct watcher w;
	struct list link;	/* in domain->conns */
	struct domain *dom;
	pid_t pid;
	struct list shares;
	struct list maps;
};

struct xenbus;

struct domain {
	struct list link;
	uint32_t domid;
	char name[XENSIM_NAME_MAX];
	uint32_t flags;		/* XENSIM_DOM_* */
	uint32_t shutdown_reason;
	uint8_t handle[16];
	bool privileged;

	int memfd;
	int memfd_ro;
	uint32_t max_pages;
	uint32_t nr_frames;
	uint8_t *frame_used;

	struct port *ports;
	struct xensim_evtchn_page *evp;	/* shared with the domain's libraries */
	int evpfd;
	uint32_t virq_port[32];

	struct grant *grants;
	uint32_t active_grants;
	uint32_t grant_maps;	/* mappings of our grants, all mappers */
	uint32_t maps_held;	/* foreign grants our handles hold */

	uint32_t store_port;
	uint32_t store_gfn;
	struct xenbus *xb;

	char dir[PATH_MAX];
	struct watcher listen;
	struct list conns;
	pid_t pids[64];			/* programs run in the domain */
	unsigned long long pid_start[64];	/* their start times: pids get reused */
	unsigned int nr_pids;
	bool tearing_down;	/* domain_destroy() is running: do not free */
};

/* A reply being built: the header, the op's payload, descriptors to pass. */
struct reply {
	union {
		struct xensim_rsp hdr;
		uint8_t buf[XENSIM_MSG_MAX];
	};
	size_t len;
	int fds[3];
	unsigned int nfds;
};

/* A request handler: 0 or -errno, the reply's payload in r. */
typedef int (*op_fn)(struct conn *c, const void *req, size_t len, struct reply *r);

#define OP_PRIV 0x1	/* dom0 only, as a domctl */

struct op_row {
	op_fn fn;
	size_t min_len;
	unsigned int flags;	/* OP_* */
};

/*
 * The files from the bottom up; each calls only those before it:
 * loop.c, registry.c, evtchn.c, grant.c, xenbus.c, debugport.c, conn.c,
 * domain.c, main.c.  Messages: dlog() (util/dlog.h), to stderr or syslog.
 */

/* loop.c */
int loop_init(void);
void loop_run(void);
void loop_stop(void);
void loop_add(struct watcher *w, uint32_t events);
void loop_mod(struct watcher *w, uint32_t events);
void loop_del(struct watcher *w);
void *reply_extend(struct reply *r, size_t n);
void reply_fd(struct reply *r, int fd);

/* registry.c */
extern struct list domains;
extern const char *rundir;
bool domain_maybe_free(struct domain *d);
void domain_free(struct domain *d);
void domain_rmdir(struct domain *d);
int frame_alloc(struct domain *d, uint32_t *gfn);
void frame_free(struct domain *d, uint32_t gfn);
void *frame_map(struct domain *d, uint32_t gfn);

/* conn.c */
void conn_init(const struct op_row *ops);
bool conn_listen_event(struct watcher *w, uint32_t events);
void conn_close(struct conn *c);
int op_hello(struct conn *c, const void *req, size_t len, struct reply *r);
int op_host_stop(struct conn *c, const void *req, size_t len, struct reply *r);

/* domain.c */
int op_fmem_map(struct conn *c, const void *req, size_t len, struct reply *r);
int op_dominfo(struct conn *c, const void *req, size_t len, struct reply *r);
int op_domain_create(struct conn *c, const void *req, size_t len, struct reply *r);
int op_domain_destroy(struct conn *c, const void *req, size_t len, struct reply *r);
int op_domain_shutdown(struct conn *c, const void *req, size_t len, struct reply *r);
int op_domain_pause(struct conn *c, const void *req, size_t len, struct reply *r);
int op_register_pid(struct conn *c, const void *req, size_t len, struct reply *r);
int op_programs(struct conn *c, const void *req, size_t len, struct reply *r);
int op_stats(struct conn *c, const void *req, size_t len, struct reply *r);
struct domain *domain_find(uint32_t domid);
struct domain *domain_find_name(const char *name);
struct domain *domain_create(uint32_t domid, const char *name, uint32_t memory_mb,
			     uint32_t flags, int *err);
int domain_destroy(struct domain *d);
int domain_shutdown(struct domain *d, uint32_t reason);
void domains_free_all(void);
int unix_listen(const char *path, mode_t mode, int type);

/* evtchn.c */
int op_evtchn_unbound(struct conn *c, const void *req, size_t len, struct reply *r);
int op_evtchn_interdomain(struct conn *c, const void *req, size_t len, struct reply *r);
int op_evtchn_virq(struct conn *c, const void *req, size_t len, struct reply *r);
int op_evtchn_unbind(struct conn *c, const void *req, size_t len, struct reply *r);
int op_evtchn_peer(struct conn *c, const void *req, size_t len, struct reply *r);
int evtchn_alloc(struct domain *d, struct conn *owner, uint32_t *port);
void evtchn_close(struct domain *d, uint32_t port);
int evtchn_bind_interdomain(struct domain *d, struct conn *owner,
			    uint32_t rdom, uint32_t rport, uint32_t *port);
int evtchn_send(struct domain *d, uint32_t port);
void evtchn_raise_virq_dom_exc(void);
int evtchn_kernel_port(struct domain *d, uint32_t remote_dom, kport_fn fn,
		       void *opaque, uint32_t *port);
void evtchn_release_conn(struct conn *c);
/* Keep a port bound for an unmap notification (Linux evtchn_get/put). */
int evtchn_hold(struct domain *d, uint32_t port);
void evtchn_put(struct domain *d, uint32_t port);
void evtchn_release_domain(struct domain *d);

/* grant.c */
int op_gnt_share(struct conn *c, const void *req, size_t len, struct reply *r);
int op_gnt_unshare(struct conn *c, const void *req, size_t len, struct reply *r);
int op_gnt_map(struct conn *c, const void *req, size_t len, struct reply *r);
int op_gnt_unmap(struct conn *c, const void *req, size_t len, struct reply *r);
int grant_share(struct conn *c, uint32_t grantee, uint32_t count, bool writable,
		const struct xensim_notify *notify, struct share **out, uint32_t *gfns);
int grant_unshare(struct conn *c, uint64_t id);
int grant_map(struct conn *c, uint32_t count, const uint32_t *domids,
	      const uint32_t *refs, bool writable, const struct xensim_notify *n,
	      struct mapping **out, uint32_t *gfns, int *memfd);
int grant_unmap(struct conn *c, uint64_t id);
void grant_release_conn(struct conn *c);
int grant_set_kernel(struct domain *d, uint32_t ref, uint32_t grantee,
		     uint32_t gfn, bool readonly);

/* xenbus.c */
int xenbus_create(struct domain *d);
void xenbus_destroy(struct domain *d);

/* debugport.c */
#define XENSIM_DEFERRED 1	/* an op's reply is sent later */
int debugport_init(void);
int op_dm_op(struct conn *c, const void *req, size_t len, struct reply *r);
int op_resource_map(struct conn *c, const void *req, size_t len, struct reply *r);
int op_vcpu_debug(struct conn *c, const void *req, size_t len, struct reply *r);
void debugport_conn_closed(struct conn *c);
void debugport_domain_gone(uint32_t domid);
int debugport_dm_op(struct conn *c, const struct xensim_dm_op_req *q,
		    uint32_t *backend);
int debugport_resource(struct conn *c, const struct xensim_resource_req *q,
		       uint64_t *gfns, uint32_t *nr, int *memfd);
int debugport_vcpu(struct conn *c, const struct xensim_vcpu_debug_req *q, size_t len,
		   struct xensim_vcpu_debug_rsp *rsp, uint8_t *page);

#endif /* XENSIMD_H */
