/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * GPADLs: the messages that announce and tear one down, written once for
 * the rings of a channel and for data (client.c, xfer.c) and for the rings
 * a server forwards to the other guest of a peer channel; and the server's
 * registry of the GPADLs a guest created, with their holds.
 *
 * Grant mappings are a host resource (dom0's maptrack table is shared with
 * blkback, netback and QEMU), so a GPADL in the registry is only a list of
 * grant references until something uses it: the rings of a channel being
 * opened, or a data GPADL an application or a transfer page set holds
 * (vmbus_gpadl_reg_get).  It is unmapped again when that use ends.  A
 * guest names each grant of a GPADL once.  The registry maps through its
 * owner (the server counts every mapping against its budgets), and asks
 * the owner to let go of what uses a GPADL before it goes.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "private.h"

/* The largest range buffer taken: every range head and every grant. */
#define REG_ASM_BUFSIZE	(REG_MAX_GPADL_RANGES * \
			 sizeof(struct vmbus_gpa_range) + \
			 REG_MAX_GPADL_GREFS * sizeof(vmbus_gref_t))
#define REG_MAX_GPADLS		64
#define REG_MAX_GPADL_GREFS	VMBUS_GPADL_MAX_PAGES
#define REG_MAX_GPADL_RANGES	16
_Static_assert(REG_ASM_BUFSIZE <= VMBUS_GPADL_MAX_BUFLEN,
	       "the largest GPADL taken fits range_buflen");

/* --- the messages --- */

int vmbus_gpadl_announce(struct vmbus_conn *cn, uint32_t relid, uint32_t id,
			 uint32_t npages, const uint32_t *refs, bool to_peer)
{
	struct vmbus_gpa_desc range = {
		.byte_count = npages * VMBUS_GRANT_PAGE_SIZE,
		.byte_offset = 0,
		.gref_count = npages,
		.grefs = refs,
	};
	uint32_t nmsgs = vmbus_gpadl_msg_count(
		(uint32_t)VMBUS_GPA_RANGE_BYTES(npages));
	struct vmbus_msg *msgs = calloc(nmsgs, sizeof(*msgs));
	int rc, n, i;

	if (!msgs)
		return -ENOMEM;
	n = vmbus_gpadl_build(msgs, nmsgs, relid, id, &range, 1);
	rc = n < 0 ? n : 0;
	if (!rc && to_peer)
		vmbus_gpadl_to_peer(msgs, (uint32_t)n);
	for (i = 0; !rc && i < n; i++)
		rc = vmbus_conn_send_up(cn, &msgs[i]);
	free(msgs);
	return rc;
}

int vmbus_gpadl_teardown(struct vmbus_conn *cn, uint32_t relid, uint32_t id)
{
	struct vmbus_msg m;

	vmbus_msg_init(&m, VMBUS_MSG_GPADL_TEARDOWN);
	m.u.gpadl_teardown.child_relid = relid;
	m.u.gpadl_teardown.gpadl_id = id;
	return vmbus_conn_send_up(cn, &m);
}

/* --- the server's registry --- */

void vmbus_gpadl_reg_init(struct vmbus_gpadl_reg *reg,
			  const struct vmbus_gpadl_reg_ops *ops, void *owner,
			  struct vmbus_faults *faults)
{
	memset(reg, 0, sizeof(*reg));
	reg->ops = ops;
	reg->owner = owner;
	reg->faults = faults;
}

struct srv_gpadl *vmbus_gpadl_reg_find(struct vmbus_gpadl_reg *reg,
				       uint32_t id)
{
	struct srv_gpadl *g;

	for (g = reg->head; g; g = g->next)
		if (g->id == id)
			return g;
	return NULL;
}

/* GPADLs of offer @relid the guest created. */
static unsigned int reg_count(struct vmbus_gpadl_reg *reg, uint32_t relid)
{
	struct srv_gpadl *g;
	unsigned int n = 0;

	for (g = reg->head; g; g = g->next)
		n += g->relid == relid;
	return n;
}

int vmbus_gpadl_reg_map(struct vmbus_gpadl_reg *reg, struct srv_gpadl *g,
			bool rings)
{
	int rc;

	if (g->mem)
		return 0;
	g->mem = reg->ops->map(reg->owner, g->npages, g->grefs,
			       PROT_READ | PROT_WRITE);
	if (!g->mem && errno != ENOSPC && !rings) {
		/* Granted read-only: a data buffer the server only reads. */
		g->mem = reg->ops->map(reg->owner, g->npages, g->grefs,
				       PROT_READ);
		g->readonly = g->mem != NULL;
	}
	if (!g->mem) {
		rc = -(errno ? errno : EFAULT);
		if (rc != -ENOSPC)
			vmbus_fault(reg->faults, FAULT_MAP, "failed to map the "
				    "%u grants of GPADL %u (%s)", g->npages,
				    g->id, strerror(-rc));
		return rc;
	}
	return 0;
}

void vmbus_gpadl_reg_unmap(struct vmbus_gpadl_reg *reg, struct srv_gpadl *g)
{
	if (!g->mem)
		return;
	reg->ops->unmap(reg->owner, g->mem, g->npages);
	g->mem = NULL;
	g->readonly = false;
}

void vmbus_gpadl_reg_free(struct vmbus_gpadl_reg *reg, struct srv_gpadl *g)
{
	struct srv_gpadl **pp;

	reg->ops->release(reg->owner, g);
	for (pp = &reg->head; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	vmbus_gpadl_reg_unmap(reg, g);
	free(g->grefs);
	reg->n--;
	free(g);
}

void vmbus_gpadl_reg_clear(struct vmbus_gpadl_reg *reg)
{
	unsigned int i;

	while (reg->head)
		vmbus_gpadl_reg_free(reg, reg->head);
	for (i = 0; i < VMBUS_GPADL_REG_ASM; i++)
		vmbus_gpadl_reg_asm_free(&reg->gasm[i]);
}

/*
 * A complete GPADL: parse and check it, and keep its grant references.
 * Nothing is mapped here.  Not @data: one GPADL, shaped as rings.
 */
static int reg_take(struct vmbus_gpadl_reg *reg, struct vmbus_gpadl_asm *a,
		    struct srv_gpadl *g, bool data, bool peer)
{
	struct vmbus_gpa_desc ranges[REG_MAX_GPADL_RANGES];
	vmbus_gref_t *grefs, *scratch = NULL;
	uint32_t nranges, ngrefs;
	int rc;

	grefs = calloc(REG_MAX_GPADL_GREFS, sizeof(*grefs));
	if (!grefs)
		return -ENOMEM;
	rc = vmbus_gpadl_asm_finish(a, ranges, REG_MAX_GPADL_RANGES,
				    &nranges, grefs, REG_MAX_GPADL_GREFS,
				    &ngrefs);
	if (rc < 0) {
		vmbus_fault(reg->faults, FAULT_GPADL, "malformed GPADL %u (%s)",
			    g->id, strerror(-rc));
		goto out;
	}
	if (peer) {
		/*
		 * Granted to the peer, not to us: check that it can be a ring
		 * pair (one page-aligned range of whole pages) and keep it.
		 */
		if (!vmbus_gpadl_is_peer_rings(ranges, nranges, ngrefs)) {
			rc = -EINVAL;
			vmbus_fault(reg->faults, FAULT_GPADL, "refused GPADL "
				    "%u of a peer channel: %u ranges, %u "
				    "grants", g->id, nranges, ngrefs);
			goto out;
		}
	} else if (!data && (nranges != 1 || ranges[0].byte_offset ||
			     ngrefs < 4 || ranges[0].byte_count !=
			     ngrefs * VMBUS_GRANT_PAGE_SIZE)) {
		rc = -EINVAL;
		vmbus_fault(reg->faults, FAULT_GPADL, "refused GPADL %u of "
			    "channel %u: not rings (%u ranges, %u grants), and "
			    "the offer takes no other", g->id, g->relid,
			    nranges, ngrefs);
		goto out;
	}
	scratch = malloc(ngrefs * sizeof(*scratch));
	if (!scratch) {
		rc = -ENOMEM;
		goto out;
	}
	rc = vmbus_gpa_grefs_unique(grefs, ngrefs, scratch);
	if (rc) {
		vmbus_fault(reg->faults, FAULT_GPADL, "refused GPADL %u: it "
			    "names a grant twice", g->id);
		rc = -EINVAL;
		goto out;
	}
	g->grefs = malloc(ngrefs * sizeof(*g->grefs));
	if (!g->grefs) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(g->grefs, grefs, ngrefs * sizeof(*g->grefs));
	g->npages = ngrefs;
	g->peer = peer;
out:
	free(scratch);
	free(grefs);
	return rc;
}

int vmbus_gpadl_reg_add(struct vmbus_gpadl_reg *reg, struct srv_asm *a,
			bool gpadls, bool peer)
{
	uint32_t relid = a->a.child_relid, id = a->a.gpadl_id;
	struct srv_gpadl *g;
	int rc;

	if (vmbus_gpadl_reg_find(reg, id) || id == 0)
		return -EEXIST;
	if (reg->n >= REG_MAX_GPADLS) {
		vmbus_fault(reg->faults, FAULT_GPADL, "refused GPADL %u of "
			    "channel %u: %u GPADLs held", id, relid, reg->n);
		return -ENOSPC;
	}
	if (!gpadls && reg_count(reg, relid)) {
		vmbus_fault(reg->faults, FAULT_GPADL, "refused GPADL %u of "
			    "channel %u: the offer takes its ring GPADL only",
			    id, relid);
		return -ENOSPC;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->id = id;
	g->relid = relid;
	rc = reg_take(reg, &a->a, g, gpadls && !peer, peer);
	if (rc) {
		free(g->grefs);
		free(g);
		return rc;
	}
	g->next = reg->head;
	reg->head = g;
	reg->n++;
	return 0;
}

/* --- GPADLs being reassembled --- */

struct srv_asm *vmbus_gpadl_reg_asm(struct vmbus_gpadl_reg *reg, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < VMBUS_GPADL_REG_ASM; i++)
		if (reg->gasm[i].buf && reg->gasm[i].a.gpadl_id == id)
			return &reg->gasm[i];
	return NULL;
}

int vmbus_gpadl_reg_asm_new(struct vmbus_gpadl_reg *reg, uint32_t id,
			    struct srv_asm **out)
{
	struct srv_asm *a = NULL;
	unsigned int i;

	for (i = 0; i < VMBUS_GPADL_REG_ASM && !a; i++)
		if (!reg->gasm[i].buf)
			a = &reg->gasm[i];
	if (!a) {
		vmbus_fault(reg->faults, FAULT_GPADL, "refused GPADL %u: %u in "
			    "flight", id, VMBUS_GPADL_REG_ASM);
		return -ENOSPC;
	}
	a->buf = malloc(REG_ASM_BUFSIZE);
	if (!a->buf)
		return -ENOMEM;
	vmbus_gpadl_asm_init(&a->a, a->buf, REG_ASM_BUFSIZE);
	a->a.gpadl_id = id;	/* the key, even if refused later */
	*out = a;
	return 0;
}

void vmbus_gpadl_reg_asm_free(struct srv_asm *a)
{
	free(a->buf);
	memset(a, 0, sizeof(*a));
}

/* --- data GPADLs held by channels (xfer.c) --- */

int vmbus_gpadl_reg_get(struct vmbus_gpadl_reg *reg, uint32_t relid,
			uint32_t id, void **mem, uint32_t *npages,
			bool *writable)
{
	struct srv_gpadl *g = vmbus_gpadl_reg_find(reg, id);
	int rc;

	/*
	 * Not the rings of a channel, not one being torn down, and only on
	 * an offer that takes data GPADLs.  Mapped on the first hold.
	 */
	if (!g || g->relid != relid || g->chan || g->torn || g->peer ||
	    !reg->ops->takes_data(reg->owner, relid))
		return -ENOENT;
	if (!g->refs) {
		rc = vmbus_gpadl_reg_map(reg, g, false);
		if (rc)
			return rc;
	}
	g->refs++;
	*mem = g->mem;
	*npages = g->npages;
	*writable = !g->readonly;
	return 0;
}

void vmbus_gpadl_reg_put(struct vmbus_gpadl_reg *reg, uint32_t id)
{
	struct srv_gpadl *g = vmbus_gpadl_reg_find(reg, id);

	if (!g || !g->refs || --g->refs)
		return;
	if (!g->torn) {
		vmbus_gpadl_reg_unmap(reg, g);	/* unused again: unmapped */
		return;
	}
	vmbus_gpadl_reg_free(reg, g);
	reg->ops->torndown(reg->owner, id);
}
