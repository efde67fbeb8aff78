/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kd-sink.h - where xen-kdrelay carries a debug port's PDUs: one sink per
 * relay, behind a table of operations (kd-sink-tcp.c for a stream
 * debugger such as a gdb-remote bridge, kd-sink-udp.c for WinDbg's KDNET,
 * kd-sink-domain.c for another domain's debug port).  A new sink is one
 * file and one table.
 */
#ifndef KD_SINK_H
#define KD_SINK_H

#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "kd-port.h"

enum kd_frames { KD_FRAMES_AUTO, KD_FRAMES_ETHERNET, KD_FRAMES_BARE };

/* What the command line says about the sink. */
struct kd_sink_conf {
	const char *arg;		/* --tcp, --udp: the address */
	const char *token_file;		/* --tcp */
	enum kd_frames frames;		/* --udp */
	uint32_t peer_domid;		/* --to-domain */
};

#define KD_SINK_MAX_FDS	3

struct kd_sink_ops {
	const char *name;
	/*
	 * Opens the sink's sockets or port (port: the debuggee, whose records
	 * it takes); 0, or -errno after logging what failed.  Before the
	 * privileges are dropped.
	 */
	int (*open)(struct kd_port *port, const struct kd_sink_conf *conf);
	/* The sink's own attach, while privileged; false when it is gone. */
	bool (*check)(void);
	/* Takes one out record of the debuggee; false when it cannot now. */
	bool (*put)(const struct syndbg_pdu *hdr, const uint8_t *buf);
	/* What needs no descriptor to be ready: buffered data, a peer's records. */
	void (*pump)(void);
	/* Fills up to KD_SINK_MAX_FDS entries to poll; returns how many. */
	unsigned int (*poll_fds)(struct pollfd *pfd);
	/* After poll, with the entries poll_fds filled. */
	void (*poll_done)(const struct pollfd *pfd);
	/* How soon to call pump again without an event, in ms; -1: no need. */
	int (*poll_timeout)(void);
	void (*close)(void);
};

/* --OPT [HOST:]PORT checked (1 to 65535); 0 or -EINVAL, logged. */
int kd_sink_check_addr(const char *opt, const char *arg);
/* --OPT [HOST:]PORT, checked and resolved (IPv4); 0 or -EINVAL, logged. */
int kd_sink_resolve(const char *opt, const char *arg, const char *defhost, int socktype,
		    bool passive, struct addrinfo **res);

extern const struct kd_sink_ops kd_sink_tcp, kd_sink_udp, kd_sink_domain;

#endif
