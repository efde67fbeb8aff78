/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Transaction ids for requests that want a completion.
 *
 * An id is (generation << 32) | (slot + 1): a completion names a slot and
 * the generation it was issued under, so a peer that completes twice, late,
 * or with an invented id is told -ENOENT instead of reaching someone else's
 * request.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/string.h>
#else
#include <errno.h>
#include <string.h>
#endif

#include "vmbus_ring.h"

int vmbus_trans_init(struct vmbus_trans_table *t,
		     struct vmbus_trans_slot *slots, uint32_t nslots)
{
	uint32_t i;

	if (!slots || !nslots || nslots == UINT32_MAX)
		return -EINVAL;
	memset(slots, 0, nslots * sizeof(*slots));
	for (i = 0; i < nslots; i++)
		slots[i].next_free = i + 1 < nslots ? i + 2 : 0;
	t->slots = slots;
	t->nslots = nslots;
	t->free_head = 1;
	t->inuse = 0;
	return 0;
}

int vmbus_trans_alloc(struct vmbus_trans_table *t, void *ctx, uint64_t *id)
{
	struct vmbus_trans_slot *s;
	uint32_t slot = t->free_head;

	if (!slot)
		return -ENOSPC;
	s = &t->slots[slot - 1];
	t->free_head = s->next_free;
	s->busy = true;
	s->ctx = ctx;
	s->gen++;
	t->inuse++;
	*id = (uint64_t)s->gen << 32 | slot;
	return 0;
}

int vmbus_trans_complete(struct vmbus_trans_table *t, uint64_t id,
			 void **ctx)
{
	uint32_t slot = (uint32_t)id, gen = (uint32_t)(id >> 32);
	struct vmbus_trans_slot *s;

	if (!slot || slot > t->nslots)
		return -ENOENT;
	s = &t->slots[slot - 1];
	if (!s->busy || s->gen != gen)
		return -ENOENT;
	*ctx = s->ctx;
	s->busy = false;
	s->ctx = NULL;
	s->next_free = t->free_head;
	t->free_head = slot;
	t->inuse--;
	return 0;
}
