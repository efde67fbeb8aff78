/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VMBus channel-message codec.
 *
 * The peer contract is at the top of <xenvmbus/msg.h>.  Every message the
 * peer sends is copied into a private struct vmbus_msg, then checked against
 * one row of vmbus_msg_types[]: known type, the direction it may travel,
 * its exact length, then a per-type check of the fields the receiver will
 * act on.  Encoding runs the same checks, so we never send what we would
 * refuse.  A new message is one row and one check function.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/string.h>
#else
#include <errno.h>
#include <string.h>
#endif

#include "vmbus_msg.h"

#define C2S	VMBUS_MSG_DIR_C2S
#define S2C	VMBUS_MSG_DIR_S2C

/* Flags of a row. */
#define MSG_F_RANGES	0x1	/* a range-buffer tail follows the fixed part */

struct vmbus_msg_type {
	const char *name;
	uint16_t size;		/* exact, or the fixed part with MSG_F_RANGES */
	uint8_t dir;
	uint8_t flags;
	int (*check)(const struct vmbus_msg *m);
};

static inline uint32_t align8(uint32_t n)
{
	return (n + VMBUS_MSG_ALIGN - 1) & ~(VMBUS_MSG_ALIGN - 1);
}

static int check_none(const struct vmbus_msg *m)
{
	(void)m;
	return 0;
}

static int check_initiate_contact(const struct vmbus_msg *m)
{
	const struct vmbus_msg_initiate_contact *c = &m->u.initiate_contact;
	uint32_t n = c->version_count;

	if (n < 1 || n > VMBUS_MSG_MAX_VERSIONS ||
	    c->version_requested != c->versions[0])
		return -EINVAL;
	return 0;
}

static int check_version_response(const struct vmbus_msg *m)
{
	return m->u.version_response.version_supported > 1 ? -EINVAL : 0;
}

static int check_offer(const struct vmbus_msg *m)
{
	const struct vmbus_msg_offer_channel *o = &m->u.offer;
	uint32_t pipe_mode;

	if (!o->child_relid || o->class_version_count < 1 ||
	    o->class_version_count > VMBUS_OFFER_MAX_CLASS_VERSIONS)
		return -EINVAL;
	if ((o->peer_flags & ~VMBUS_OFFER_PEER_FLAGS) ||
	    ((o->peer_flags & VMBUS_OFFER_PEER_OPENER) &&
	     !(o->peer_flags & VMBUS_OFFER_PEER_VALID)) ||
	    o->peer_domid > VMBUS_PEER_DOMID_MAX)
		return -EINVAL;
	if (o->channel_flags & VMBUS_OFFER_NAMED_PIPE_MODE) {
		memcpy(&pipe_mode, o->user_data, sizeof(pipe_mode));
		if (pipe_mode != VMBUS_PIPE_TYPE_BYTE &&
		    pipe_mode != VMBUS_PIPE_TYPE_MESSAGE)
			return -EINVAL;
	}
	return 0;
}

static int check_relid(const struct vmbus_msg *m)
{
	return m->u.relid.child_relid ? 0 : -EINVAL;
}

static int check_open(const struct vmbus_msg *m)
{
	const struct vmbus_msg_open_channel *o = &m->u.open;

	if (!o->child_relid)
		return -EINVAL;
	/* The acceptor of a peer channel: its rings come with PEER_OPEN. */
	if (!o->ring_gpadl && !o->event_channel && !o->downstream_page_offset)
		return 0;
	/* The send ring needs its header page and at least one data page. */
	if (!o->ring_gpadl || !o->event_channel ||
	    o->downstream_page_offset < 2)
		return -EINVAL;
	return 0;
}

static int check_peer_open(const struct vmbus_msg *m)
{
	const struct vmbus_msg_peer_open *o = &m->u.peer_open;

	if (!o->child_relid || !o->ring_gpadl || !o->event_channel ||
	    o->downstream_page_offset < 2 ||
	    o->peer_domid > VMBUS_PEER_DOMID_MAX)
		return -EINVAL;
	return 0;
}

static int check_open_result(const struct vmbus_msg *m)
{
	const struct vmbus_msg_open_result *o = &m->u.open_result;

	return !o->child_relid || o->status > VMBUS_STATUS_MAX ? -EINVAL : 0;
}

/*
 * How many range-buffer bytes a GPADL message of @len bytes with a fixed
 * part of @fixed carries when @remaining are still expected: all it can if
 * that is less than the rest, otherwise exactly the rest plus padding.
 */
static int gpadl_chunk(uint32_t len, uint32_t fixed, uint32_t remaining,
		       uint32_t *chunk)
{
	uint32_t room;

	if (len <= fixed)
		return -EMSGSIZE;
	room = len - fixed;
	if (room < remaining) {
		*chunk = room;		/* a multiple of 4: len % 8, fixed % 4 */
		return 0;
	}
	if (len != align8(fixed + remaining))
		return -EMSGSIZE;
	*chunk = remaining;
	return 0;
}

static int check_gpadl_header(const struct vmbus_msg *m)
{
	const struct vmbus_msg_gpadl_header *h = &m->u.gpadl_header;
	uint32_t chunk, count = h->range_count, buflen = h->range_buflen;

	/* Each range is at least a head and one grant. */
	if (!h->child_relid || !h->gpadl_id || !count || buflen % 4 ||
	    buflen < count * VMBUS_GPA_RANGE_BYTES(1) ||
	    buflen > VMBUS_GPADL_MAX_BUFLEN)
		return -EINVAL;
	return gpadl_chunk(m->len, sizeof(*h), buflen, &chunk);
}

static int check_gpadl_body(const struct vmbus_msg *m)
{
	const struct vmbus_msg_gpadl_body *b = &m->u.gpadl_body;

	if (!b->msgnumber || !b->gpadl_id)
		return -EINVAL;
	return m->len > sizeof(*b) ? 0 : -EMSGSIZE;
}

static int check_gpadl_created(const struct vmbus_msg *m)
{
	const struct vmbus_msg_gpadl_created *c = &m->u.gpadl_created;

	return !c->child_relid || !c->gpadl_id ||
	       c->status > VMBUS_STATUS_MAX ? -EINVAL : 0;
}

static int check_gpadl_teardown(const struct vmbus_msg *m)
{
	const struct vmbus_msg_gpadl_teardown *t = &m->u.gpadl_teardown;

	return !t->child_relid || !t->gpadl_id ? -EINVAL : 0;
}

static int check_gpadl_torndown(const struct vmbus_msg *m)
{
	return m->u.gpadl_torndown.gpadl_id ? 0 : -EINVAL;
}

static int check_tl_result(const struct vmbus_msg *m)
{
	/* Only refusals are sent: a success is the offer itself. */
	return m->u.tl_result.status & 0x80000000u ? 0 : -EINVAL;
}

#define ROW(type, st, d, f, fn) \
	[VMBUS_MSG_##type] = { #type, sizeof(st), d, f, fn }

static const struct vmbus_msg_type vmbus_msg_types[VMBUS_MSG_COUNT] = {
	ROW(OFFERCHANNEL, struct vmbus_msg_offer_channel, S2C, 0, check_offer),
	ROW(RESCIND_CHANNELOFFER, struct vmbus_msg_relid, S2C, 0, check_relid),
	ROW(REQUESTOFFERS, struct vmbus_msg_empty, C2S, 0, check_none),
	ROW(ALLOFFERS_DELIVERED, struct vmbus_msg_empty, S2C, 0, check_none),
	ROW(OPENCHANNEL, struct vmbus_msg_open_channel, C2S, 0, check_open),
	ROW(OPENCHANNEL_RESULT, struct vmbus_msg_open_result, S2C, 0,
	    check_open_result),
	ROW(CLOSECHANNEL, struct vmbus_msg_relid, C2S, 0, check_relid),
	ROW(GPADL_HEADER, struct vmbus_msg_gpadl_header, C2S, MSG_F_RANGES,
	    check_gpadl_header),
	ROW(GPADL_BODY, struct vmbus_msg_gpadl_body, C2S, MSG_F_RANGES,
	    check_gpadl_body),
	ROW(GPADL_CREATED, struct vmbus_msg_gpadl_created, S2C, 0,
	    check_gpadl_created),
	ROW(GPADL_TEARDOWN, struct vmbus_msg_gpadl_teardown, C2S, 0,
	    check_gpadl_teardown),
	ROW(GPADL_TORNDOWN, struct vmbus_msg_gpadl_torndown, S2C, 0,
	    check_gpadl_torndown),
	ROW(RELID_RELEASED, struct vmbus_msg_relid, C2S, 0, check_relid),
	ROW(INITIATE_CONTACT, struct vmbus_msg_initiate_contact, C2S, 0,
	    check_initiate_contact),
	ROW(VERSION_RESPONSE, struct vmbus_msg_version_response, S2C, 0,
	    check_version_response),
	ROW(UNLOAD, struct vmbus_msg_empty, C2S, 0, check_none),
	ROW(UNLOAD_RESPONSE, struct vmbus_msg_empty, S2C, 0, check_none),
	ROW(TL_CONNECT_REQUEST, struct vmbus_msg_tl_connect_request, C2S, 0,
	    check_none),
	ROW(TL_CONNECT_RESULT, struct vmbus_msg_tl_connect_result, S2C, 0,
	    check_tl_result),
	ROW(PEER_GPADL_HEADER, struct vmbus_msg_gpadl_header, S2C, MSG_F_RANGES,
	    check_gpadl_header),
	ROW(PEER_GPADL_BODY, struct vmbus_msg_gpadl_body, S2C, MSG_F_RANGES,
	    check_gpadl_body),
	ROW(PEER_OPEN, struct vmbus_msg_peer_open, S2C, 0, check_peer_open),
	ROW(PEER_OPEN_RESULT, struct vmbus_msg_open_result, C2S, 0,
	    check_open_result),
};

static const struct vmbus_msg_type *msg_type(uint32_t type)
{
	if (type >= VMBUS_MSG_COUNT || !vmbus_msg_types[type].name)
		return NULL;
	return &vmbus_msg_types[type];
}

const char *vmbus_msg_name(uint32_t type)
{
	const struct vmbus_msg_type *t = msg_type(type);

	return t ? t->name : NULL;
}

unsigned int vmbus_msg_dir(uint32_t type)
{
	const struct vmbus_msg_type *t = msg_type(type);

	return t ? t->dir : 0;
}

int vmbus_msg_init(struct vmbus_msg *m, uint32_t type)
{
	const struct vmbus_msg_type *t = msg_type(type);

	memset(m, 0, sizeof(*m));
	if (!t)
		return -EINVAL;
	m->u.hdr.msgtype = type;
	m->len = align8(t->size);
	return 0;
}

int vmbus_msg_check(const struct vmbus_msg *m, unsigned int dir)
{
	const struct vmbus_msg_type *t;

	if (m->len < sizeof(struct vmbus_msg_hdr) ||
	    m->len > VMBUS_MSG_MAX_SIZE || m->len % VMBUS_MSG_ALIGN)
		return -EMSGSIZE;
	t = msg_type(m->u.hdr.msgtype);
	if (!t)
		return -EINVAL;
	if (dir && !(t->dir & dir))
		return -EPROTO;
	if (t->flags & MSG_F_RANGES) {
		if (m->len <= t->size)
			return -EMSGSIZE;
	} else if (m->len != align8(t->size)) {
		return -EMSGSIZE;
	}
	return t->check(m);
}

int vmbus_msg_encode(const struct vmbus_msg *m, void *buf, size_t buflen)
{
	int rc = vmbus_msg_check(m, 0);

	if (rc)
		return rc;
	if (buflen < m->len)
		return -ENOBUFS;
	memcpy(buf, &m->u, m->len);
	return (int)m->len;
}

int vmbus_msg_decode(struct vmbus_msg *m, const void *buf, size_t len,
		     unsigned int dir)
{
	memset(m, 0, sizeof(*m));
	if (len < sizeof(struct vmbus_msg_hdr) || len > VMBUS_MSG_MAX_SIZE)
		return -EMSGSIZE;
	/* One copy out of the sender's buffer; only the copy is examined. */
	memcpy(&m->u, buf, len);
	m->len = (uint32_t)len;
	return vmbus_msg_check(m, dir);
}

/* ------------------------------------------------------------------ */
/* Status codes                                                        */
/* ------------------------------------------------------------------ */

static const struct {
	uint32_t status;
	int err;
} vmbus_status_map[] = {
	{ VMBUS_STATUS_SUCCESS, 0 },
	{ VMBUS_STATUS_INVALID, -EINVAL },
	{ VMBUS_STATUS_NO_RESOURCES, -ENOMEM },
	{ VMBUS_STATUS_NO_RESOURCES, -ENOSPC },
	{ VMBUS_STATUS_NOT_FOUND, -ENOENT },
	{ VMBUS_STATUS_BUSY, -EBUSY },
	{ VMBUS_STATUS_VERSION, -EPROTONOSUPPORT },
	{ VMBUS_STATUS_FAILURE, -EIO },
};

uint32_t vmbus_status_from_errno(int err)
{
	size_t i;

	for (i = 0; i < sizeof(vmbus_status_map) / sizeof(vmbus_status_map[0]); i++)
		if (vmbus_status_map[i].err == err)
			return vmbus_status_map[i].status;
	return VMBUS_STATUS_FAILURE;
}

int vmbus_status_to_errno(uint32_t status)
{
	size_t i;

	for (i = 0; i < sizeof(vmbus_status_map) / sizeof(vmbus_status_map[0]); i++)
		if (vmbus_status_map[i].status == status)
			return vmbus_status_map[i].err;
	return -EIO;
}

/* ------------------------------------------------------------------ */
/* GPADL split and reassembly                                          */
/* ------------------------------------------------------------------ */

/* Walks the encoding of a range list without staging it. */
struct gpa_cursor {
	const struct vmbus_gpa_desc *ranges;
	uint32_t nranges, i, pos;	/* pos: byte within range i's encoding */
};

static void gpa_cursor_copy(struct gpa_cursor *c, uint8_t *dst, uint32_t n)
{
	struct vmbus_gpa_range head;
	const struct vmbus_gpa_desc *r;
	uint32_t rlen, take;

	while (n && c->i < c->nranges) {
		r = &c->ranges[c->i];
		rlen = (uint32_t)VMBUS_GPA_RANGE_BYTES(r->gref_count);
		take = rlen - c->pos < n ? rlen - c->pos : n;
		if (c->pos < sizeof(head)) {
			uint32_t h = sizeof(head) - c->pos < take ?
				     sizeof(head) - c->pos : take;

			head.byte_count = r->byte_count;
			head.byte_offset = r->byte_offset;
			memcpy(dst, (uint8_t *)&head + c->pos, h);
			if (take > h)
				memcpy(dst + h, r->grefs, take - h);
		} else {
			memcpy(dst, (const uint8_t *)r->grefs +
				    (c->pos - sizeof(head)), take);
		}
		dst += take;
		n -= take;
		c->pos += take;
		if (c->pos == rlen) {
			c->i++;
			c->pos = 0;
		}
	}
}

uint32_t vmbus_gpadl_msg_count(uint32_t buflen)
{
	if (buflen <= VMBUS_GPADL_HEADER_MAX_DATA)
		return 1;
	buflen -= VMBUS_GPADL_HEADER_MAX_DATA;
	return 1 + (buflen + VMBUS_GPADL_BODY_MAX_DATA - 1) /
		   VMBUS_GPADL_BODY_MAX_DATA;
}

int vmbus_gpadl_build(struct vmbus_msg *msgs, uint32_t max_msgs,
		      uint32_t child_relid, uint32_t gpadl_id,
		      const struct vmbus_gpa_desc *ranges, uint32_t nranges)
{
	struct gpa_cursor cur = { ranges, nranges, 0, 0 };
	struct vmbus_msg *m;
	uint32_t left, chunk, i, count;
	int64_t blen;

	blen = vmbus_gpa_encoded_len(ranges, nranges);
	if (blen < 0)
		return (int)blen;
	if (blen > VMBUS_GPADL_MAX_BUFLEN || nranges > UINT16_MAX)
		return -E2BIG;
	if (!child_relid || !gpadl_id)
		return -EINVAL;
	count = vmbus_gpadl_msg_count((uint32_t)blen);
	if (count > max_msgs)
		return -E2BIG;

	left = (uint32_t)blen;
	for (i = 0; i < count; i++) {
		m = &msgs[i];
		if (i == 0) {
			vmbus_msg_init(m, VMBUS_MSG_GPADL_HEADER);
			m->u.gpadl_header.child_relid = child_relid;
			m->u.gpadl_header.gpadl_id = gpadl_id;
			m->u.gpadl_header.range_buflen = (uint16_t)blen;
			m->u.gpadl_header.range_count = (uint16_t)nranges;
			chunk = left < VMBUS_GPADL_HEADER_MAX_DATA ?
				left : VMBUS_GPADL_HEADER_MAX_DATA;
			gpa_cursor_copy(&cur, m->u.raw + sizeof(m->u.gpadl_header),
					chunk);
			m->len = align8(sizeof(m->u.gpadl_header) + chunk);
		} else {
			vmbus_msg_init(m, VMBUS_MSG_GPADL_BODY);
			m->u.gpadl_body.msgnumber = i;
			m->u.gpadl_body.gpadl_id = gpadl_id;
			chunk = left < VMBUS_GPADL_BODY_MAX_DATA ?
				left : VMBUS_GPADL_BODY_MAX_DATA;
			gpa_cursor_copy(&cur, m->u.raw + sizeof(m->u.gpadl_body),
					chunk);
			m->len = align8(sizeof(m->u.gpadl_body) + chunk);
		}
		left -= chunk;
	}
	return (int)count;
}

void vmbus_gpadl_to_peer(struct vmbus_msg *msgs, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		msgs[i].u.hdr.msgtype =
			msgs[i].u.hdr.msgtype == VMBUS_MSG_GPADL_HEADER ?
			VMBUS_MSG_PEER_GPADL_HEADER : VMBUS_MSG_PEER_GPADL_BODY;
}

bool vmbus_gpadl_is_peer_rings(const struct vmbus_gpa_desc *ranges,
			       uint32_t nranges, uint32_t ngrefs)
{
	return nranges == 1 && ranges[0].byte_offset == 0 &&
	       ngrefs >= VMBUS_PEER_RING_MIN_GREFS &&
	       ngrefs <= VMBUS_PEER_RING_MAX_GREFS &&
	       ranges[0].byte_count == ngrefs * VMBUS_GRANT_PAGE_SIZE;
}

bool vmbus_gpadl_rings_split_ok(uint32_t npages, uint32_t down)
{
	/* A header page and a data page each way; no unsigned wrap. */
	return npages >= 4 && down >= 2 && down <= npages - 2;
}

int vmbus_gpadl_asm_init(struct vmbus_gpadl_asm *a, void *buf, size_t bufsize)
{
	memset(a, 0, sizeof(*a));
	if (!buf)
		return -EINVAL;
	a->buf = buf;
	a->bufsize = bufsize > VMBUS_GPADL_MAX_BUFLEN ?
		     VMBUS_GPADL_MAX_BUFLEN : (uint32_t)bufsize;
	return 0;
}

static int gpadl_asm_take(struct vmbus_gpadl_asm *a, const struct vmbus_msg *m,
			  uint32_t fixed)
{
	uint32_t chunk;
	int rc;

	rc = gpadl_chunk(m->len, fixed, a->buflen - a->have, &chunk);
	if (rc)
		return rc;
	memcpy(a->buf + a->have, m->u.raw + fixed, chunk);
	a->have += chunk;
	return a->have < a->buflen ? 1 : 0;
}

int vmbus_gpadl_asm_header(struct vmbus_gpadl_asm *a,
			   const struct vmbus_msg *m)
{
	const struct vmbus_msg_gpadl_header *h = &m->u.gpadl_header;
	int rc;

	a->active = false;
	rc = vmbus_msg_check(m, 0);
	if (rc)
		return rc;
	/* A client's GPADL, or a peer's forwarded by the server. */
	if (h->hdr.msgtype == VMBUS_MSG_GPADL_HEADER)
		a->body_type = VMBUS_MSG_GPADL_BODY;
	else if (h->hdr.msgtype == VMBUS_MSG_PEER_GPADL_HEADER)
		a->body_type = VMBUS_MSG_PEER_GPADL_BODY;
	else
		return -EINVAL;
	if (h->range_buflen > a->bufsize)
		return -E2BIG;
	a->child_relid = h->child_relid;
	a->gpadl_id = h->gpadl_id;
	a->buflen = h->range_buflen;
	a->range_count = h->range_count;
	a->have = 0;
	a->next_msgnum = 1;
	rc = gpadl_asm_take(a, m, sizeof(*h));
	a->active = rc > 0;
	return rc;
}

int vmbus_gpadl_asm_body(struct vmbus_gpadl_asm *a, const struct vmbus_msg *m)
{
	const struct vmbus_msg_gpadl_body *b = &m->u.gpadl_body;
	int rc;

	if (!a->active)
		return -EPROTO;
	rc = vmbus_msg_check(m, 0);
	if (!rc && (b->hdr.msgtype != a->body_type ||
		    b->gpadl_id != a->gpadl_id ||
		    b->msgnumber != a->next_msgnum))
		rc = -EINVAL;
	if (!rc)
		rc = gpadl_asm_take(a, m, sizeof(*b));
	if (rc <= 0)
		a->active = false;	/* complete, or the GPADL is abandoned */
	else
		a->next_msgnum++;
	return rc;
}

int vmbus_gpadl_asm_finish(struct vmbus_gpadl_asm *a,
			   struct vmbus_gpa_desc *ranges, uint32_t max_ranges,
			   uint32_t *nranges, vmbus_gref_t *grefs,
			   uint32_t max_grefs, uint32_t *ngrefs)
{
	int64_t used;
	int rc = 0;

	if (a->active || !a->buflen || a->have != a->buflen) {
		rc = -EPROTO;
		goto out;
	}
	used = vmbus_gpa_parse(a->buf, a->buflen, a->range_count, ranges,
			       max_ranges, grefs, max_grefs, ngrefs);
	if (used < 0)
		rc = (int)used;
	else if ((uint32_t)used != a->buflen)
		rc = -EINVAL;	/* trailing bytes: the counts disagree */
	else
		*nranges = a->range_count;
out:
	a->buflen = a->have = 0;
	a->active = false;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Versions                                                            */
/* ------------------------------------------------------------------ */

bool vmbus_version_compatible(uint32_t have, uint32_t need)
{
	return VMBUS_VERSION_MAJOR(have) == VMBUS_VERSION_MAJOR(need) &&
	       VMBUS_VERSION_MINOR(have) >= VMBUS_VERSION_MINOR(need);
}

static const struct vmbus_version_cap *
version_cap(uint32_t major, const struct vmbus_version_cap *caps,
	    uint32_t ncaps)
{
	uint32_t i;

	for (i = 0; i < ncaps; i++)
		if (VMBUS_VERSION_MAJOR(caps[i].version) == major)
			return &caps[i];
	return NULL;
}

int vmbus_version_choose(const uint32_t *offered, uint32_t noffered,
			 const struct vmbus_version_cap *caps, uint32_t ncaps,
			 uint32_t *chosen)
{
	const struct vmbus_version_cap *cap;
	uint32_t i, major, minor;

	if (!noffered || !ncaps)
		return -EINVAL;
	for (i = 0; i < noffered; i++) {
		major = VMBUS_VERSION_MAJOR(offered[i]);
		cap = version_cap(major, caps, ncaps);
		if (!cap)
			continue;
		minor = VMBUS_VERSION_MINOR(offered[i]);
		if (minor > VMBUS_VERSION_MINOR(cap->version))
			minor = VMBUS_VERSION_MINOR(cap->version);
		if (minor < cap->need_minor)
			continue;
		*chosen = VMBUS_VERSION(major, minor);
		return 0;
	}
	return -EPROTONOSUPPORT;
}

bool vmbus_version_accept(uint32_t chosen, const uint32_t *offered,
			  uint32_t noffered,
			  const struct vmbus_version_cap *caps, uint32_t ncaps)
{
	const struct vmbus_version_cap *cap;
	uint32_t i;

	cap = version_cap(VMBUS_VERSION_MAJOR(chosen), caps, ncaps);
	if (!cap || VMBUS_VERSION_MINOR(chosen) < cap->need_minor ||
	    !vmbus_version_compatible(cap->version, chosen))
		return false;
	for (i = 0; i < noffered; i++)
		if (vmbus_version_compatible(offered[i], chosen))
			return true;
	return false;
}
