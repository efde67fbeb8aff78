/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A user-mode storvsc: the client end of the VMBus storage protocol
 * (<xenvmbus/storvsc.h>) on libvmbus, as Linux's hv_storvsc speaks it, for
 * the simulated host's tests and benchmarks.  Buffers are pages the client
 * shares with the server's domain (xengntshr); a request names its data
 * by grant reference in a DATA_USING_GPA_DIRECT packet, as the guest bus
 * driver does for hv_storvsc's page lists.
 */
#ifndef STORVSC_CLIENT_H
#define STORVSC_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <xengnttab.h>

#include <xenvmbus/storvsc.h>

#include "libvmbus.h"

/* xensim shares at most 1024 pages in one call. */
#define STORVSC_POOL_MAX_PAGES	1024u

struct storvsc_client {
	struct vmbus_bus *bus;
	struct vmbus_chan *ch;
	xengntshr_handle *xgs;
	uint8_t *mem;			/* the shared pool */
	uint32_t npages;
	uint32_t refs[STORVSC_POOL_MAX_PAGES];
	uint32_t ring_pages;
	uint32_t pkt_len;		/* vstor_packet bytes for the version */
	uint16_t version;
	uint64_t rxbuf[4096 / 8];
};

/*
 * Open the bus, the first synthetic SCSI controller offered (rings of
 * @ring_pages) and share a pool of @pool_pages with its server.
 */
int storvsc_client_open(struct storvsc_client *c, uint32_t pool_pages,
			uint32_t ring_pages, int timeout_ms);
void storvsc_client_close(struct storvsc_client *c);
/*
 * After the channel failed (its controller rescinded, or the server gone
 * and the bus connected again to the next one): close it, wait for a
 * controller to be offered, open it and initialise it again; the pool
 * stays shared.  Requests in flight before are forgotten.
 */
int storvsc_client_reopen(struct storvsc_client *c, int timeout_ms);
/*
 * Send @p (c->pkt_len bytes) as request @id; its data is @len bytes at
 * offset @off of the pool (in-band when @len is 0), or, with @grefs, the
 * given grant references instead of the pool's.  -EAGAIN: ring full.
 */
int storvsc_client_send(struct storvsc_client *c, const struct vstor_packet *p,
			uint64_t id, uint32_t off, uint32_t len,
			const uint32_t *grefs);
/* The next completion, waiting up to @timeout_ms; -ETIMEDOUT. */
int storvsc_client_recv(struct storvsc_client *c, struct vstor_packet *out,
			uint64_t *id, int timeout_ms);
/* One request and its answer (skipping answers to earlier ones). */
int storvsc_client_exec(struct storvsc_client *c, struct vstor_packet *p,
			uint64_t id, uint32_t off, uint32_t len,
			int timeout_ms);
/*
 * hv_storvsc's initialisation: BEGIN, the versions WIN10, WIN8.1, WIN8 in
 * turn, PROPERTIES (into @props if not NULL), END.  0 or -EPROTO.
 */
int storvsc_client_init(struct storvsc_client *c,
			struct vstor_channel_properties *props, int timeout_ms);
/* An EXECUTE_SRB request for @lun. */
void storvsc_srb(struct vstor_packet *p, unsigned int lun, const uint8_t *cdb,
		 unsigned int cdb_len, bool data_in, uint32_t len);

#endif /* STORVSC_CLIENT_H */
