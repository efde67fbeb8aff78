/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VMBus channel-message codec, GPADL assembly and version negotiation:
 * pure functions over private buffers, no I/O.  The wire format and the
 * client/server contract are in <xenvmbus/msg.h>.
 *
 * Errors are negative errno values: -EINVAL malformed, -EPROTO a message
 * the sender may not send, -EMSGSIZE wrong length, -E2BIG beyond the
 * caller's bounds, -EPROTONOSUPPORT no common version.
 */
#ifndef VMBUS_MSG_API_H
#define VMBUS_MSG_API_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif

#include <xenvmbus/msg.h>

#include "vmbus_ring.h"

/*
 * A GUID's text <-> its 16 bytes on the bus, in Hyper-V's byte order (the
 * first three fields little-endian, as Linux's guid_t): guid.c.  Exported
 * by libvmbus as well.
 */
int vmbus_guid_parse(const char *s, uint8_t guid[16]);
void vmbus_guid_format(const uint8_t guid[16], char out[37]);

/* A message in private memory: @len wire bytes of @u. */
struct vmbus_msg {
	uint32_t len;
	union {
		struct vmbus_msg_hdr hdr;
		struct vmbus_msg_empty empty;
		struct vmbus_msg_initiate_contact initiate_contact;
		struct vmbus_msg_version_response version_response;
		struct vmbus_msg_offer_channel offer;
		struct vmbus_msg_relid relid;
		struct vmbus_msg_open_channel open;
		struct vmbus_msg_open_result open_result;
		struct vmbus_msg_gpadl_header gpadl_header;
		struct vmbus_msg_gpadl_body gpadl_body;
		struct vmbus_msg_gpadl_created gpadl_created;
		struct vmbus_msg_gpadl_teardown gpadl_teardown;
		struct vmbus_msg_gpadl_torndown gpadl_torndown;
		struct vmbus_msg_peer_open peer_open;
		struct vmbus_msg_tl_connect_request tl_connect;
		struct vmbus_msg_tl_connect_result tl_result;
		uint8_t raw[VMBUS_MSG_MAX_SIZE];
		uint64_t align;
	} u;
};

/* "OFFERCHANNEL", ... or NULL for a type this protocol does not define. */
const char *vmbus_msg_name(uint32_t type);
/* VMBUS_MSG_DIR_* of a type, 0 if unknown. */
unsigned int vmbus_msg_dir(uint32_t type);

/* Zero @m and set its type and fixed length; -EINVAL for unknown types. */
int vmbus_msg_init(struct vmbus_msg *m, uint32_t type);
/*
 * Validate @m as a message sent in direction @dir (VMBUS_MSG_DIR_*, or 0
 * for either): known type, exact length, field sanity.
 */
int vmbus_msg_check(const struct vmbus_msg *m, unsigned int dir);
/* Check, then copy to @buf; returns the wire length or -errno. */
int vmbus_msg_encode(const struct vmbus_msg *m, void *buf, size_t buflen);
/* Copy @len bytes from @buf (sent in direction @dir) into @m and check. */
int vmbus_msg_decode(struct vmbus_msg *m, const void *buf, size_t len,
		     unsigned int dir);

/* Status codes <-> negative errno: the one place the mapping lives. */
uint32_t vmbus_status_from_errno(int err);
int vmbus_status_to_errno(uint32_t status);

/* --- GPADLs over GPADL_HEADER + GPADL_BODY --- */

/*
 * Split a GPADL into messages (each filled to VMBUS_MSG_MAX_SIZE).  Returns
 * the number of messages written to @msgs, or -errno (-E2BIG when more than
 * @max_msgs or more than VMBUS_GPADL_MAX_BUFLEN would be needed).
 */
int vmbus_gpadl_build(struct vmbus_msg *msgs, uint32_t max_msgs,
		      uint32_t child_relid, uint32_t gpadl_id,
		      const struct vmbus_gpa_desc *ranges, uint32_t nranges);
/* Messages vmbus_gpadl_build needs for a range buffer of @buflen bytes. */
uint32_t vmbus_gpadl_msg_count(uint32_t buflen);

/*
 * The same GPADL as PEER_GPADL_HEADER/PEER_GPADL_BODY messages (a server
 * forwarding a peer's rings): build, then retype @n messages in place.
 */
void vmbus_gpadl_to_peer(struct vmbus_msg *msgs, uint32_t n);

/*
 * The rings of a channel between two guests: at least 2 pages each way,
 * at most 256.  Whether a parsed GPADL can be them: one range of whole
 * pages, starting on a page.  The server checks it before forwarding the
 * GPADL, the acceptor again before mapping it.
 */
#define VMBUS_PEER_RING_MIN_GREFS	4u
#define VMBUS_PEER_RING_MAX_GREFS	512u
bool vmbus_gpadl_is_peer_rings(const struct vmbus_gpa_desc *ranges,
			       uint32_t nranges, uint32_t ngrefs);

/*
 * Whether a ring GPADL of @npages pages can be split after @down pages
 * (OPENCHANNEL's downstream_page_offset): both rings keep a header page
 * and at least one data page.
 */
bool vmbus_gpadl_rings_split_ok(uint32_t npages, uint32_t down);

/*
 * Reassembly of one GPADL (GPADL_HEADER + GPADL_BODY on the server,
 * PEER_GPADL_HEADER + PEER_GPADL_BODY on a client); @buf bounds the total
 * size.  The caller decoded each message for its direction.
 */
struct vmbus_gpadl_asm {
	uint8_t *buf;
	uint32_t bufsize;
	uint32_t child_relid;
	uint32_t gpadl_id;
	uint32_t buflen;		/* announced range_buflen */
	uint32_t have;			/* bytes received so far */
	uint32_t range_count;
	uint32_t next_msgnum;
	uint32_t body_type;		/* GPADL_BODY or PEER_GPADL_BODY */
	bool active;
};

int vmbus_gpadl_asm_init(struct vmbus_gpadl_asm *a, void *buf, size_t bufsize);
/* Feed a decoded GPADL_HEADER: 1 = bodies follow, 0 = complete, -errno. */
int vmbus_gpadl_asm_header(struct vmbus_gpadl_asm *a,
			   const struct vmbus_msg *m);
/* Feed a decoded GPADL_BODY: 1 = more follow, 0 = complete, -errno. */
int vmbus_gpadl_asm_body(struct vmbus_gpadl_asm *a, const struct vmbus_msg *m);
/*
 * Parse the complete range buffer into @ranges / @grefs (descriptors point
 * into @grefs).  Resets the assembler.
 */
int vmbus_gpadl_asm_finish(struct vmbus_gpadl_asm *a,
			   struct vmbus_gpa_desc *ranges, uint32_t max_ranges,
			   uint32_t *nranges, vmbus_gref_t *grefs,
			   uint32_t max_grefs, uint32_t *ngrefs);

/* --- versions (VMI rules, see <xenvmbus/msg.h>) --- */

/* What one side implements for one major: up to @version's minor, and
 * at least @need_minor. */
struct vmbus_version_cap {
	uint32_t version;
	uint16_t need_minor;
};

/* A peer speaking @have satisfies a need of @need. */
bool vmbus_version_compatible(uint32_t have, uint32_t need);
/*
 * Pick the version to use from the peer's @offered list (preferred first):
 * the first offered entry whose major we implement, at the lower of the two
 * minors, provided that minor meets our need.  -EPROTONOSUPPORT if none.
 */
int vmbus_version_choose(const uint32_t *offered, uint32_t noffered,
			 const struct vmbus_version_cap *caps, uint32_t ncaps,
			 uint32_t *chosen);
/*
 * Check the peer's choice against what we offered and what we need:
 * true iff @chosen is at or below an offered entry of its major and meets
 * our cap for that major.
 */
bool vmbus_version_accept(uint32_t chosen, const uint32_t *offered,
			  uint32_t noffered,
			  const struct vmbus_version_cap *caps, uint32_t ncaps);

#endif /* VMBUS_MSG_API_H */
