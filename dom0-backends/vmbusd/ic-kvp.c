// SPDX-License-Identifier: GPL-2.0-only
/*
 * The key/value exchange integration service: `vmbusctl kvp DOM get POOL
 * KEY`, `set POOL KEY VALUE`, `delete POOL KEY` and `list POOL` ask the
 * guest, whose kernel (hv_utils' hv_kvp.c) passes each request to
 * hv_kvp_daemon (Debian's hyperv-daemons) and sends its answer back.
 *
 * Keys and values travel as UTF-16LE; the administrator's are UTF-8.
 * A listing is one ENUMERATE per index until the guest answers with
 * anything but success (HV_S_CONT: no more), at most KVP_LIST_MAX.  What
 * the guest answers is copied, its sizes checked against the fields, and
 * converted; an answer that does not convert is an error, not a value.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ic.h"

/* Message versions, oldest first (hv_kvp.c kvp_versions). */
static const uint32_t kvp_versions[] = { VMBUS_IC_VER(3, 0), VMBUS_IC_VER(4, 0) };

#define KVP_LIST_MAX	1024

static int kvp_send(struct vd_ic *ic, struct vmbus_ic_kvp *k)
{
	return vd_ic_send(ic, VMBUS_IC_MSG_KVP, k, sizeof(*k));
}

static int kvp_enumerate(struct vd_ic *ic)
{
	struct vmbus_ic_kvp k;

	memset(&k, 0, sizeof(k));
	k.hdr.operation = VMBUS_IC_KVP_ENUMERATE;
	k.hdr.pool = (uint8_t)ic->kvp_pool;
	k.u.enumerate.index = ic->kvp_index;
	return kvp_send(ic, &k);
}

static int kvp_request(struct vd_ic *ic, const char *op, const char *dir,
		       const char **why)
{
	struct vmbus_ic_kvp k;
	char *pool, *key = NULL, *value = NULL, *end;
	unsigned long p;
	int rc = -EINVAL, n;

	memset(&k, 0, sizeof(k));
	pool = vd_xs_read(dir, "pool");
	p = pool ? strtoul(pool, &end, 10) : VMBUS_IC_KVP_POOLS;
	if (!pool || !pool[0] || *end || p >= VMBUS_IC_KVP_POOLS) {
		*why = "error a pool is 0 to 4";
		goto out;
	}
	k.hdr.pool = (uint8_t)p;
	if (strcmp(op, "list") == 0) {
		ic->kvp_pool = (uint32_t)p;
		ic->kvp_index = 0;
		rc = kvp_enumerate(ic);
		goto sent;
	}
	key = vd_xs_read(dir, "key");
	n = key ? vmbus_ic_utf16(k.u.get.key, sizeof(k.u.get.key), key) :
		  -EINVAL;
	if (n <= 2) {
		*why = "error a key is 1 to 255 UTF-16 units of UTF-8";
		goto out;
	}
	if (strcmp(op, "get") == 0) {
		k.hdr.operation = VMBUS_IC_KVP_GET;
		k.u.get.key_size = (uint32_t)n;
	} else if (strcmp(op, "delete") == 0) {
		k.hdr.operation = VMBUS_IC_KVP_DELETE;
		/* DELETE's key comes right after its size: move it. */
		memmove(k.u.del.key, k.u.get.key, (size_t)n);
		memset(k.u.del.key + n, 0, sizeof(k.u.del.key) - (size_t)n);
		k.u.del.key_size = (uint32_t)n;
	} else if (strcmp(op, "set") == 0) {
		k.hdr.operation = VMBUS_IC_KVP_SET;
		k.u.get.key_size = (uint32_t)n;
		value = vd_xs_read(dir, "value");
		n = value ? vmbus_ic_utf16(k.u.get.value,
					   sizeof(k.u.get.value), value) :
			    -EINVAL;
		if (n < 2) {
			*why = "error a value is at most 1023 UTF-16 units of "
			       "UTF-8";
			goto out;
		}
		k.u.get.value_type = VMBUS_IC_KVP_REG_SZ;
		k.u.get.value_size = (uint32_t)n;
	} else {
		goto out;
	}
	rc = kvp_send(ic, &k);
sent:
	if (rc < 0)
		*why = "error failed to send the request";
out:
	free(pool);
	free(key);
	free(value);
	return rc;
}

/* The guest's key and value of @v, as UTF-8; 0 or -errno. */
static int kvp_decode(const struct vmbus_ic_kvp_value *v, bool with_key,
		      char *key, size_t keylen, char *val, size_t vallen)
{
	uint32_t ks = v->key_size, vs = v->value_size, type = v->value_type;

	key[0] = '\0';
	if (with_key && (ks > sizeof(v->key) ||
			 vmbus_ic_utf8(key, keylen, v->key, ks & ~1u) < 0))
		return -EILSEQ;
	switch (type) {
	case VMBUS_IC_KVP_REG_U32: {
		uint32_t u;

		memcpy(&u, v->value, sizeof(u));
		snprintf(val, vallen, "%u", u);
		return 0;
	}
	case VMBUS_IC_KVP_REG_U64: {
		uint64_t u;

		memcpy(&u, v->value, sizeof(u));
		snprintf(val, vallen, "%llu", (unsigned long long)u);
		return 0;
	}
	default:
		if (vs > sizeof(v->value) ||
		    vmbus_ic_utf8(val, vallen, v->value, vs & ~1u) < 0)
			return -EILSEQ;
		return 0;
	}
}

static void kvp_response(struct vd_ic *ic, const struct vmbus_ic_msg *m)
{
	/* Large: a copy of the guest's answer, then its UTF-8. */
	static struct vmbus_ic_kvp k;
	static char key[3 * VMBUS_IC_KVP_KEY_MAX / 2 + 1];
	static char val[3 * VMBUS_IC_KVP_VALUE_MAX / 2 + 1];
	char why[80];
	size_t n = m->room < sizeof(k) ? m->room : sizeof(k);

	memset(&k, 0, sizeof(k));
	memcpy(&k, m->body, n);
	switch (k.hdr.operation) {
	case VMBUS_IC_KVP_ENUMERATE:
		if (m->hdr.status != VMBUS_IC_S_OK ||
		    ic->kvp_index >= KVP_LIST_MAX) {
			vd_ic_reply_count(ic, ic->kvp_index);
			vd_ic_reply(ic, "ok");
			return;
		}
		if (n < sizeof(k) ||
		    kvp_decode(&k.u.enumerate.data, true, key, sizeof(key),
			       val, sizeof(val)) < 0) {
			vd_ic_reply_count(ic, ic->kvp_index);
			vd_ic_reply(ic, "error the guest's entry does not "
				    "convert");
			return;
		}
		vd_ic_reply_entry(ic, ic->kvp_index, key, val);
		ic->kvp_index++;
		if (kvp_enumerate(ic) < 0) {
			vd_ic_reply_count(ic, ic->kvp_index);
			vd_ic_reply(ic, "error failed to send the request");
		}
		return;
	case VMBUS_IC_KVP_GET:
		if (m->hdr.status != VMBUS_IC_S_OK)
			break;
		if (n < 4 + sizeof(k.u.get) ||
		    kvp_decode(&k.u.get, false, key, sizeof(key), val,
			       sizeof(val)) < 0) {
			vd_ic_reply(ic, "error the guest's value does not "
				    "convert");
			return;
		}
		vd_ic_reply_entry(ic, 0, "", val);
		vd_ic_reply_count(ic, 1);
		vd_ic_reply(ic, "ok");
		return;
	default:
		if (m->hdr.status != VMBUS_IC_S_OK)
			break;
		vd_ic_reply(ic, "ok");
		return;
	}
	snprintf(why, sizeof(why), "error the guest failed it (status "
		 "0x%08x)", m->hdr.status);
	vd_ic_reply(ic, why);
}

static const struct vd_ic_kind kvp_kind = {
	.kind = "kvp",
	.guid = VMBUS_IC_KVP_GUID,
	.versions = kvp_versions,
	.nversions = sizeof(kvp_versions) / sizeof(kvp_versions[0]),
	.request = kvp_request,
	.response = kvp_response,
};

const struct vd_service vd_ic_kvp_service = VD_IC_SERVICE("kvp", &kvp_kind);
