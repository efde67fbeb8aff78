/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vmbusd: the dom0 bus daemon.  One libvmbus server per guest; offers come
 * from xenstore (written by vmbusctl); opened channels go to their VSP.
 */
#ifndef VMBUSD_H
#define VMBUSD_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#include "dlog.h"
#include "libvmbus.h"

struct xs_handle;

/*
 * The daemon in layers, each file using only those below it:
 *
 *   vmbusd.c      options, start-up; registers the services
 *   pipe.c p2p.c  services: what a kind of offer does once opened
 *   guest.c       the registry: guests, their offers, published state;
 *                 reaches the services only through struct vd_service
 *   config.c      the configuration file, written into xenstore
 *   loop.c        the event loop: watches call their own handler
 */

/* An fd in the loop's epoll set: its handler and what it is for. */
struct vd_watch;
typedef void vd_watch_fn(struct vd_watch *w, uint32_t events);
struct vd_watch {
	vd_watch_fn *fn;
	void *obj;
};

struct vd_guest;
struct vd_pipe;
struct vd_service;

/* One offer configured under backend/vmbus/<domid>/0/offers/<key>. */
struct vd_offer {
	char key[32];
	const struct vd_service *svc;	/* what serves it */
	void *priv;			/* the service's own state */
	char name[VMBUS_PIPE_NAME_MAX + 1];
	char service[108];		/* unix socket path */
	bool message_mode;
	/*
	 * Data framed by the VMPIPE header (hv_sock), and a socket already
	 * connected that the pipe takes instead of connecting to service.
	 */
	bool vmpipe;
	bool sock_given;
	int sock_fd;
	uint32_t relid;
	struct vd_guest *guest;
	struct vd_pipe *pipe;		/* open pipe, if any */
	char published[1536];		/* last state written to xenstore */
	char req_id[64];		/* the administrator's last request */
	struct vd_offer *next;
	/* A pipe to another guest (p2p.c): only its setup passes here. */
	bool p2p;
	bool opener;			/* this guest grants the rings */
	unsigned int peer;		/* the other guest's domid */
	struct vd_offer *mate;		/* its end, once both are offered */
	bool joined;			/* both ends opened */
	bool ended;			/* the pair ended: offer again */
};

struct vd_guest {
	unsigned int domid;
	struct vmbus_server *srv;
	struct vd_watch w;
	struct vd_offer *offers;
	bool seen;			/* mark for the rescan */
	char published_bus[32];		/* last bus state written to xenstore */
	char published_maps[96];	/* last mapping budget line written */
	char published_work[256];	/* last work counters written */
	struct vd_guest *next;
	bool dead;			/* released: freed after the batch */
	bool releasing;			/* its server is being destroyed */
	bool pipe_storm_logged;		/* a guest can repeat it: say it once */
};

#define VD_BACKEND_ROOT	"/local/domain/0/backend/vmbus"
#define VD_STATE_ROOT	"/local/domain/0/vmbusd"
#define VD_RUN_DIR	"/run/xenvmbus"

/* --- the event loop (loop.c) --- */
int vd_epoll_add(int fd, uint32_t events, struct vd_watch *w);
int vd_epoll_mod(int fd, uint32_t events, struct vd_watch *w);
void vd_epoll_del(int fd);
/*
 * What runs around each batch of events: busy says there is work left
 * (look for events without sleeping), turn does it after the batch, reap
 * then frees what the batch released.  Hooks run in the order added.
 */
struct vd_loop_hook {
	bool (*busy)(void);
	void (*turn)(void);
	void (*reap)(void);
	struct vd_loop_hook *next;
};
void vd_loop_hook_add(struct vd_loop_hook *h);
/* @tick runs once a second (publishing the live state). */
int vd_loop_init(void (*tick)(void));
/* Until a signal other than SIGHUP (0) or vd_loop_quit(-errno). */
int vd_loop_run(void);
void vd_loop_quit(int rc);
void vd_loop_fini(void);

/* --- guests and pipes declared in the configuration file (config.c) --- */
int vd_config_load(const char *path, bool must);
/* Write the buses and offers of the configured guests there now. */
void vd_config_scan(struct xs_handle *xs);
void vd_config_free(void);

/* --- the registry of guests and their offers (guest.c) --- */

/*
 * A kind of offer.  The entry under offers/<key> names its kind in "kind"
 * (none: a pipe, or a pipe to another guest when it names a "peer"); the
 * registry reads nothing else of it.  The services are registered by the
 * daemon's start; the registry calls them only through this table.
 */
struct vd_service {
	const char *kind;		/* the entry's "kind" */
	const char *noun;		/* for messages: "pipe", ... */
	const char *last_key;		/* written last: the entry is whole */
	const void *priv;		/* the service's own constants */
	/* Once, as it is registered: its loop hooks (may be NULL). */
	int (*start)(void);
	/*
	 * Make offer @o (key, guest and svc set) from the entry at @dir:
	 * 0, or -errno (said here) and @o is freed unseen.
	 */
	int (*make)(struct vd_offer *o, const char *dir);
	/* The guest opened @o (@chan NULL: a pair of guests joined). */
	int (*open)(struct vd_offer *o, struct vmbus_chan *chan);
	/* @o's channel goes (@chan NULL: the pair ended); frees nothing. */
	void (*close)(struct vd_offer *o, struct vmbus_chan *chan);
	/* @o goes: let go of what the service holds for it. */
	void (*drop)(struct vd_offer *o);
	/* The entry at @dir changed (may be NULL): requests to a live offer. */
	void (*update)(struct vd_offer *o, const char *dir);
	/* Its live state line into @val; the length, or -1 for none. */
	int (*state)(struct vd_offer *o, char *val, size_t len);
	/* @o's pipe saw both ends send their end of stream (may be NULL). */
	void (*finished)(struct vd_offer *o);
};
int vd_service_register(const struct vd_service *s);

extern struct xs_handle *vd_xs;
/* Grant pages one guest may have mapped (0: the library's default). */
extern uint32_t vd_guest_map_pages;
/* Register the registry's loop hooks and watch xenstore from the loop. */
int vd_registry_start(void);
struct vd_guest *vd_guests(void);
struct vd_guest *vd_guest_find(unsigned int domid);
/* A guest's domid in decimal: 1 to 0x7fef. */
bool vd_parse_domid(const char *s, unsigned int *domid);
/* @dir/@key from xenstore (malloc'd), or NULL. */
char *vd_xs_read(const char *dir, const char *key);
/* @s with space, '=', '%' and control bytes as %XX, for a state line. */
const char *vd_escape(const char *s, char *out, size_t len);
void vd_offer_publish_drop(struct vd_offer *o);
/* Bring the served guests in line with xenstore. */
void vd_rescan(void);
/* Write the live state that changed under VD_STATE_ROOT. */
void vd_publish(void);
/* At start: drop what an earlier daemon left, publish the pid and state. */
int vd_publish_start(void);
void vd_guests_release(void);

/* --- services --- */

/* The pipe service (pipe.c): a guest pipe joined to a dom0 unix socket. */
extern const struct vd_service vd_pipe_service;
/* What every pipe offer of @o says, but its instance GUID (zero here). */
void vd_pipe_desc(struct vmbus_offer_desc *d, const struct vd_offer *o,
		  void *cookie);
/*
 * The pipe itself, for what drives it without the daemon (fuzz/fuzz-bus.c
 * stands in for the loop and the registry).
 */
enum vd_pipe_ev {
	VD_CHAN, VD_SOCK,
	VD_RETRY,		/* a connect to a busy service */
	VD_THROTTLE,		/* the end of a storm's pause */
};
int vd_pipe_open(struct vd_offer *o, struct vmbus_chan *chan);
void vd_pipe_close(struct vd_pipe *p);
void vd_pipe_event(struct vd_pipe *p, enum vd_pipe_ev kind, uint32_t events);
/* Bytes moved each way and pipe errors, for the published state. */
void vd_pipe_counters(const struct vd_pipe *p, uint64_t *to_service,
		      uint64_t *from_service, uint64_t *errors);
/* Pipes with more to move than one wake-up's budget: pump them again. */
void vd_pipe_run_busy(void);
/* Free the pipes closed during the last batch of events. */
void vd_pipe_reap(void);
/* Pipes whose memory is held: open, or closed and not yet reaped. */
unsigned int vd_pipe_count(void);

/* Pipes between two guests (p2p.c). */
extern const struct vd_service vd_p2p_service;

/* Hyper-V sockets (hvsock.c). */
extern const struct vd_service vd_hvsock_service;

/* Synthetic network adapters (nic.c), served by libnetvsp. */
extern const struct vd_service vd_nic_service;

/* Hyper-V integration services (ic.c, ic-*.c). */
extern const struct vd_service vd_ic_heartbeat_service;
extern const struct vd_service vd_ic_shutdown_service;
extern const struct vd_service vd_ic_timesync_service;
extern const struct vd_service vd_ic_kvp_service;

/* Synthetic SCSI controllers served by the storage VSP (storage.c). */
extern const struct vd_service vd_storage_service;

#endif /* VMBUSD_H */
