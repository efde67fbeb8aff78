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

/* What an epoll event belongs to. */
enum vd_kind {
	VD_XS, VD_TIMER, VD_SIGNAL, VD_SERVER, VD_CHAN, VD_SOCK,
	VD_RETRY,		/* a pipe's connect to a busy service */
	VD_THROTTLE,		/* the end of a pipe's storm pause */
};

struct vd_watch {
	enum vd_kind kind;
	void *obj;
};

struct vd_guest;
struct vd_pipe;

/* One offer configured under backend/vmbus/<domid>/0/offers/<key>. */
struct vd_offer {
	char key[32];
	char name[VMBUS_PIPE_NAME_MAX + 1];
	char service[108];		/* unix socket path */
	bool message_mode;
	uint32_t relid;
	struct vd_guest *guest;
	struct vd_pipe *pipe;		/* open pipe, if any */
	char published[1536];		/* last state written to xenstore */
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
	bool pipe_storm_logged;		/* a guest can repeat it: say it once */
};

#define VD_BACKEND_ROOT	"/local/domain/0/backend/vmbus"
#define VD_STATE_ROOT	"/local/domain/0/vmbusd"
#define VD_RUN_DIR	"/run/xenvmbus"

/* The event loop (loop.c). */
extern int vd_epfd;
int vd_epoll_add(int fd, uint32_t events, struct vd_watch *w);
int vd_epoll_mod(int fd, uint32_t events, struct vd_watch *w);
void vd_epoll_del(int fd);
/* Grant pages one guest may have mapped (0: the library's default). */
extern uint32_t vd_guest_map_pages;
int vd_loop_init(void);
int vd_loop_watch_xs(void);
int vd_loop_run(void);
void vd_loop_fini(void);
/* @g is released; freed once the batch of events it came in is done. */
void vd_defer_free_guest(struct vd_guest *g);

/* Guests and their offers (guest.c). */
extern struct xs_handle *vd_xs;
struct vd_guest *vd_guests(void);
struct vd_guest *vd_guest_find(unsigned int domid);
void vd_offer_publish_drop(struct vd_offer *o);
/* Bring the served guests in line with xenstore: all, or as watches say. */
void vd_rescan(void);
int vd_watch_events(void);
/* Write the live state that changed under VD_STATE_ROOT. */
void vd_publish(void);
/* At start: drop what an earlier daemon left, publish the pid and state. */
int vd_publish_start(void);
void vd_guests_release(void);

/* Guests and pipes declared in the configuration file (config.c). */
int vd_config_load(const char *path, bool must);
void vd_config_scan(void);
void vd_config_free(void);

/* The pipe service's offer (pipe.c). */
void vd_pipe_desc(struct vmbus_offer_desc *d, const struct vd_offer *o,
		  void *cookie);

/* Pipes between two guests (p2p.c). */
extern bool vd_p2p_dirty;
void vd_p2p_link(struct vd_offer *o);
void vd_p2p_unlink(struct vd_offer *o);
void vd_p2p_joined(struct vd_offer *o);
void vd_p2p_ended(struct vd_offer *o);
void vd_p2p_resync(void);

/* The pipe VSP (pipe.c). */
int vd_pipe_open(struct vd_offer *o, struct vmbus_chan *chan);
void vd_pipe_close(struct vd_pipe *p);
void vd_pipe_event(struct vd_pipe *p, enum vd_kind kind, uint32_t events);
/* Bytes moved each way and pipe errors, for the published state. */
void vd_pipe_counters(const struct vd_pipe *p, uint64_t *to_service,
		      uint64_t *from_service, uint64_t *errors);
struct vmbus_chan *vd_pipe_chan(const struct vd_pipe *p);
/*
 * Wake-ups that ended with the pipe's budget spent and work left, and the
 * pauses of a guest's signal storm on the pipe's port.
 */
uint64_t vd_pipe_busy_turns(const struct vd_pipe *p);
uint64_t vd_pipe_throttles(const struct vd_pipe *p);
/* Pipes with more to move than one wake-up's budget: pump them again. */
bool vd_pipe_busy(void);
void vd_pipe_run_busy(void);
/* Free the pipes closed during the last batch of events. */
void vd_pipe_reap(void);
/* Pipes whose memory is held: open, or closed and not yet reaped. */
unsigned int vd_pipe_count(void);

#endif /* VMBUSD_H */
