/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hyper-V integration service messages (<xenvmbus/ic.h>): parse what the
 * peer sent, build requests, negotiate versions.  Pure functions over
 * private buffers, no I/O; both ends use them (vmbusd as the host, test
 * clients as the guest, which Linux's hv_utils is in reality).
 *
 * Errors are negative errno values: -EMSGSIZE too short for what it says,
 * -EPROTO a field the protocol does not allow, -EPROTONOSUPPORT no common
 * version, -E2BIG beyond the caller's buffer, -EILSEQ a bad string.
 */
#ifndef VMBUS_IC_API_H
#define VMBUS_IC_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xenvmbus/ic.h>

/* A parsed IC packet: the header copied, the body left in the buffer. */
struct vmbus_ic_msg {
	struct vmbus_ic_hdr hdr;
	const uint8_t *body;		/* hdr.size bytes */
	uint32_t room;			/* bytes from body to the message's end */
};

/*
 * Check the @len bytes at @buf (a private copy of an in-band payload,
 * padded to 8 bytes as every VMBus packet is): both headers present, the
 * pipe header's flag right and its size inside the packet (the message
 * ends there), the body size inside the message, the flags one of request
 * or response.
 */
int vmbus_ic_parse(const void *buf, size_t len, struct vmbus_ic_msg *m);

/*
 * Write the headers of a message of @type with @body_len bytes of @body
 * after them into @buf (@cap bytes), @flags VMBUS_IC_FLAG_*; versions as
 * VMBUS_IC_VER.  The packet's length, or -E2BIG.
 */
int vmbus_ic_build(void *buf, size_t cap, uint16_t type, uint32_t fw,
		   uint32_t ver, uint8_t flags, const void *body,
		   size_t body_len);

/* A negotiation request listing @nfw framework and @nmsg message versions. */
int vmbus_ic_negotiate_build(void *buf, size_t cap, const uint32_t *fw,
			     unsigned int nfw, const uint32_t *msg,
			     unsigned int nmsg);
/*
 * The host reads the guest's answer to its lists @fw and @msg: 0 and the
 * versions chosen, or -EPROTONOSUPPORT (the guest listed none), -EPROTO
 * (not an answer of one of each, or a version the host did not offer).
 */
int vmbus_ic_negotiate_result(const struct vmbus_ic_msg *m,
			      const uint32_t *fw, unsigned int nfw,
			      const uint32_t *msg, unsigned int nmsg,
			      uint32_t *fw_out, uint32_t *msg_out);
/*
 * The guest answers a negotiation in place, as Linux's
 * vmbus_prep_negotiate_resp does: the first of its own framework versions
 * (@fw, preferred first) that the request lists, likewise of its message
 * versions; counts 1 and 1, or 0 and 0 with -EPROTONOSUPPORT.  @buf holds
 * the @len bytes of the request; the answer is as long.  Sets the
 * response flags.  -EPROTO/-EMSGSIZE: malformed, @buf untouched.
 */
int vmbus_ic_negotiate_answer(void *buf, size_t len, const uint32_t *fw,
			      unsigned int nfw, const uint32_t *msg,
			      unsigned int nmsg, uint32_t *fw_out,
			      uint32_t *msg_out);

/* UTF-8 @s -> UTF-16LE with its NUL: bytes written, -E2BIG, -EILSEQ. */
int vmbus_ic_utf16(uint8_t *out, size_t cap, const char *s);
/*
 * UTF-16LE of @len bytes (up to a NUL) -> UTF-8 with a NUL: bytes written
 * without the NUL, -E2BIG, -EILSEQ (an odd length, a lone surrogate).
 */
int vmbus_ic_utf8(char *out, size_t cap, const uint8_t *in, size_t len);

#endif /* VMBUS_IC_API_H */
