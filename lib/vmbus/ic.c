// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Hyper-V integration service messages: the parser of what a peer sent,
 * the builder of requests and the version negotiation of both ends
 * (vmbus_ic.h; the wire in <xenvmbus/ic.h>).
 *
 * The guest writes these messages: every length and count is read once
 * into a local, checked against the packet, then used.
 */
#include <errno.h>
#include <string.h>

#include "vmbus_ic.h"

int vmbus_ic_parse(const void *buf, size_t len, struct vmbus_ic_msg *m)
{
	const uint8_t *p = buf;
	struct vmbus_ic_pipe_hdr ph;
	struct vmbus_ic_hdr h;
	uint8_t dir;

	if (len < VMBUS_IC_HDRS_SIZE || len > UINT32_MAX)
		return -EMSGSIZE;
	memcpy(&ph, p, sizeof(ph));
	memcpy(&h, p + sizeof(ph), sizeof(h));
	/*
	 * A VMBus packet's length is a multiple of 8: the pipe header says
	 * how much of it is the message (Linux answers with the padded
	 * length and the host's pipe header unchanged).
	 */
	if (ph.flags != VMBUS_IC_PIPE_DATA || ph.size < sizeof(h) ||
	    ph.size > len - sizeof(ph))
		return -EPROTO;
	len = sizeof(ph) + ph.size;
	if (h.size > len - VMBUS_IC_HDRS_SIZE)
		return -EMSGSIZE;
	dir = h.flags & (VMBUS_IC_FLAG_REQUEST | VMBUS_IC_FLAG_RESPONSE);
	if (dir != VMBUS_IC_FLAG_REQUEST && dir != VMBUS_IC_FLAG_RESPONSE)
		return -EPROTO;
	m->hdr = h;
	m->body = p + VMBUS_IC_HDRS_SIZE;
	m->room = (uint32_t)(len - VMBUS_IC_HDRS_SIZE);
	return 0;
}

static struct vmbus_ic_version ic_ver(uint32_t v)
{
	struct vmbus_ic_version r = { (uint16_t)(v >> 16), (uint16_t)v };

	return r;
}

int vmbus_ic_build(void *buf, size_t cap, uint16_t type, uint32_t fw,
		   uint32_t ver, uint8_t flags, const void *body,
		   size_t body_len)
{
	struct vmbus_ic_pipe_hdr ph;
	struct vmbus_ic_hdr h;
	uint8_t *p = buf;

	if (body_len > UINT16_MAX || cap < VMBUS_IC_HDRS_SIZE + body_len)
		return -E2BIG;
	memset(&h, 0, sizeof(h));
	h.framework = ic_ver(fw);
	h.type = type;
	h.version = ic_ver(ver);
	h.size = (uint16_t)body_len;
	h.flags = flags;
	ph.flags = VMBUS_IC_PIPE_DATA;
	ph.size = (uint32_t)(sizeof(h) + body_len);
	memcpy(p, &ph, sizeof(ph));
	memcpy(p + sizeof(ph), &h, sizeof(h));
	if (body_len)
		memcpy(p + VMBUS_IC_HDRS_SIZE, body, body_len);
	return (int)(VMBUS_IC_HDRS_SIZE + body_len);
}

int vmbus_ic_negotiate_build(void *buf, size_t cap, const uint32_t *fw,
			     unsigned int nfw, const uint32_t *msg,
			     unsigned int nmsg)
{
	uint8_t body[sizeof(struct vmbus_ic_negotiate) +
		     2 * VMBUS_IC_NEGOTIATE_MAX * sizeof(struct vmbus_ic_version)];
	struct vmbus_ic_negotiate n = { 0 };
	struct vmbus_ic_version v;
	size_t off = sizeof(n);
	unsigned int i;

	if (nfw > VMBUS_IC_NEGOTIATE_MAX || nmsg > VMBUS_IC_NEGOTIATE_MAX)
		return -E2BIG;
	n.framework_count = (uint16_t)nfw;
	n.message_count = (uint16_t)nmsg;
	memcpy(body, &n, sizeof(n));
	for (i = 0; i < nfw + nmsg; i++) {
		v = ic_ver(i < nfw ? fw[i] : msg[i - nfw]);
		memcpy(body + off, &v, sizeof(v));
		off += sizeof(v);
	}
	return vmbus_ic_build(buf, cap, VMBUS_IC_MSG_NEGOTIATE, 0, 0,
			      VMBUS_IC_FLAG_TRANSACTION |
			      VMBUS_IC_FLAG_REQUEST, body, off);
}

/* The negotiation body of @m and its version list, checked. */
static int ic_negotiate_body(const uint8_t *body, uint32_t room,
			     struct vmbus_ic_negotiate *n)
{
	if (room < sizeof(*n))
		return -EMSGSIZE;
	memcpy(n, body, sizeof(*n));
	if (n->framework_count > VMBUS_IC_NEGOTIATE_MAX ||
	    n->message_count > VMBUS_IC_NEGOTIATE_MAX)
		return -EPROTO;
	if (room < sizeof(*n) + ((size_t)n->framework_count +
				 n->message_count) * 4)
		return -EMSGSIZE;
	return 0;
}

static uint32_t ic_ver_at(const uint8_t *body, unsigned int i)
{
	struct vmbus_ic_version v;

	memcpy(&v, body + sizeof(struct vmbus_ic_negotiate) + 4 * i, 4);
	return VMBUS_IC_VER((uint32_t)v.major, v.minor);
}

static bool ic_listed(uint32_t v, const uint32_t *list, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

int vmbus_ic_negotiate_result(const struct vmbus_ic_msg *m,
			      const uint32_t *fw, unsigned int nfw,
			      const uint32_t *msg, unsigned int nmsg,
			      uint32_t *fw_out, uint32_t *msg_out)
{
	struct vmbus_ic_negotiate n;
	uint32_t f, v;
	int rc;

	if (m->hdr.type != VMBUS_IC_MSG_NEGOTIATE ||
	    !(m->hdr.flags & VMBUS_IC_FLAG_RESPONSE))
		return -EPROTO;
	/* Linux answers counts 0 and 0 with the two slots still written. */
	rc = ic_negotiate_body(m->body, m->room, &n);
	if (rc)
		return rc;
	if (n.framework_count == 0 && n.message_count == 0)
		return -EPROTONOSUPPORT;
	if (n.framework_count != 1 || n.message_count != 1)
		return -EPROTO;
	/* Only what was offered may be chosen. */
	f = ic_ver_at(m->body, 0);
	v = ic_ver_at(m->body, 1);
	if (!ic_listed(f, fw, nfw) || !ic_listed(v, msg, nmsg))
		return -EPROTO;
	*fw_out = f;
	*msg_out = v;
	return 0;
}

/* The first of @mine found among @n versions of @body from @first. */
static bool ic_pick(const uint8_t *body, unsigned int first, unsigned int n,
		    const uint32_t *mine, unsigned int nmine, uint32_t *out)
{
	unsigned int i, j;

	for (i = 0; i < nmine; i++)
		for (j = first; j < first + n; j++)
			if (ic_ver_at(body, j) == mine[i]) {
				*out = mine[i];
				return true;
			}
	return false;
}

int vmbus_ic_negotiate_answer(void *buf, size_t len, const uint32_t *fw,
			      unsigned int nfw, const uint32_t *msg,
			      unsigned int nmsg, uint32_t *fw_out,
			      uint32_t *msg_out)
{
	struct vmbus_ic_negotiate n;
	struct vmbus_ic_version v[2];
	struct vmbus_ic_msg m;
	uint8_t *p = buf, flags;
	uint32_t f = 0, s = 0;
	bool ok;
	int rc;

	rc = vmbus_ic_parse(buf, len, &m);
	if (rc)
		return rc;
	if (m.hdr.type != VMBUS_IC_MSG_NEGOTIATE)
		return -EPROTO;
	rc = ic_negotiate_body(m.body, m.room, &n);
	if (rc)
		return rc;
	/* The answer writes two versions: they must fit the packet. */
	if (m.room < sizeof(n) + sizeof(v))
		return -EMSGSIZE;
	ok = ic_pick(m.body, 0, n.framework_count, fw, nfw, &f) &&
	     ic_pick(m.body, n.framework_count, n.message_count, msg, nmsg,
		     &s);
	n.framework_count = n.message_count = ok ? 1 : 0;
	v[0] = ic_ver(f);
	v[1] = ic_ver(s);
	memcpy(p + VMBUS_IC_HDRS_SIZE, &n, sizeof(n));
	memcpy(p + VMBUS_IC_HDRS_SIZE + sizeof(n), v, sizeof(v));
	flags = VMBUS_IC_FLAG_TRANSACTION | VMBUS_IC_FLAG_RESPONSE;
	memcpy(p + 8 + offsetof(struct vmbus_ic_hdr, flags), &flags, 1);
	if (fw_out)
		*fw_out = f;
	if (msg_out)
		*msg_out = s;
	return ok ? 0 : -EPROTONOSUPPORT;
}

int vmbus_ic_utf16(uint8_t *out, size_t cap, const char *s)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t o = 0;
	uint32_t c;
	unsigned int extra, i;

	while (*p) {
		if (*p < 0x80) {
			c = *p;
			extra = 0;
		} else if ((*p & 0xe0) == 0xc0) {
			c = *p & 0x1f;
			extra = 1;
		} else if ((*p & 0xf0) == 0xe0) {
			c = *p & 0x0f;
			extra = 2;
		} else if ((*p & 0xf8) == 0xf0) {
			c = *p & 0x07;
			extra = 3;
		} else {
			return -EILSEQ;
		}
		for (i = 1; i <= extra; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return -EILSEQ;
			c = (c << 6) | (p[i] & 0x3f);
		}
		if ((extra == 1 && c < 0x80) || (extra == 2 && c < 0x800) ||
		    (extra == 3 && (c < 0x10000 || c > 0x10ffff)) ||
		    (c >= 0xd800 && c <= 0xdfff))
			return -EILSEQ;
		p += extra + 1;
		if (c >= 0x10000) {
			if (o + 4 > cap)
				return -E2BIG;
			c -= 0x10000;
			out[o++] = (uint8_t)((0xd800 | (c >> 10)) & 0xff);
			out[o++] = (uint8_t)((0xd800 | (c >> 10)) >> 8);
			out[o++] = (uint8_t)((0xdc00 | (c & 0x3ff)) & 0xff);
			out[o++] = (uint8_t)((0xdc00 | (c & 0x3ff)) >> 8);
		} else {
			if (o + 2 > cap)
				return -E2BIG;
			out[o++] = (uint8_t)(c & 0xff);
			out[o++] = (uint8_t)(c >> 8);
		}
	}
	if (o + 2 > cap)
		return -E2BIG;
	out[o++] = 0;
	out[o++] = 0;
	return (int)o;
}

int vmbus_ic_utf8(char *out, size_t cap, const uint8_t *in, size_t len)
{
	size_t i = 0, o = 0;
	uint32_t c, lo;

	if (len & 1)
		return -EILSEQ;
	while (i + 2 <= len) {
		c = (uint32_t)in[i] | (uint32_t)in[i + 1] << 8;
		i += 2;
		if (c == 0)
			break;
		if (c >= 0xdc00 && c <= 0xdfff)
			return -EILSEQ;
		if (c >= 0xd800 && c <= 0xdbff) {
			if (i + 2 > len)
				return -EILSEQ;
			lo = (uint32_t)in[i] | (uint32_t)in[i + 1] << 8;
			if (lo < 0xdc00 || lo > 0xdfff)
				return -EILSEQ;
			i += 2;
			c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
		}
		if (o + (c < 0x80 ? 1u : c < 0x800 ? 2u : c < 0x10000 ? 3u : 4u) +
		    1 > cap)
			return -E2BIG;
		if (c < 0x80) {
			out[o++] = (char)c;
		} else if (c < 0x800) {
			out[o++] = (char)(0xc0 | (c >> 6));
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			out[o++] = (char)(0xe0 | (c >> 12));
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else {
			out[o++] = (char)(0xf0 | (c >> 18));
			out[o++] = (char)(0x80 | ((c >> 12) & 0x3f));
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	if (o + 1 > cap)
		return -E2BIG;
	out[o] = '\0';
	return (int)o;
}
