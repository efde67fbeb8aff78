// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest side of the Hyper-V integration services, in user mode over
 * libvmbus, for the simulation tier: it answers the host as Linux's
 * hv_utils does (drivers/hv/hv_util.c, hv_kvp.c with hv_kvp_daemon behind
 * it): the version negotiation chosen from its own lists in order of
 * preference (vmbus_prep_negotiate_resp), heartbeats with the sequence
 * plus one, shutdown requests by flags, time samples, key/value requests
 * from pools kept in memory; every answer is the request's buffer sent
 * back at its length with TRANSACTION|RESPONSE and the status.
 *
 * usage: vmbus-ic-guest [--old] [--seconds N] [--heartbeats N]
 *                       [--exit-on-shutdown] [--kvp POOL:KEY=VALUE]...
 *   --old         speak only framework 1.0 and message version 1.0 (a
 *                 guest from before Windows Server 2012 R2's ICs)
 *   --heartbeats  exit 0 once N heartbeats were answered
 * Prints one line per event: "negotiated KIND framework=F version=V",
 * "no-common-version KIND", "heartbeat seq=N", "shutdown flags=N",
 * "timesync flags=N", "kvp OP pool=P key=K [value=V]".  Exits 0 on its
 * condition (or after --seconds), 1 on an error, 2 on a usage error.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libvmbus.h"
#include "vmbus/vmbus_ic.h"

struct ic_def {
	const char *kind;
	const char *guid;
	uint16_t type;
	uint32_t versions[4];		/* preferred first, as hv_util.c */
	unsigned int nversions;
};

static const struct ic_def defs[] = {
	{ "heartbeat", VMBUS_IC_HEARTBEAT_GUID, VMBUS_IC_MSG_HEARTBEAT,
	  { VMBUS_IC_VER(3, 0), VMBUS_IC_VER(1, 0) }, 2 },
	{ "shutdown", VMBUS_IC_SHUTDOWN_GUID, VMBUS_IC_MSG_SHUTDOWN,
	  { VMBUS_IC_VER(3, 2), VMBUS_IC_VER(3, 1), VMBUS_IC_VER(3, 0),
	    VMBUS_IC_VER(1, 0) }, 4 },
	{ "timesync", VMBUS_IC_TIMESYNC_GUID, VMBUS_IC_MSG_TIMESYNC,
	  { VMBUS_IC_VER(4, 0), VMBUS_IC_VER(3, 0), VMBUS_IC_VER(1, 0) }, 3 },
	{ "kvp", VMBUS_IC_KVP_GUID, VMBUS_IC_MSG_KVP,
	  { VMBUS_IC_VER(4, 0), VMBUS_IC_VER(3, 0) }, 2 },
};
#define NDEFS	(sizeof(defs) / sizeof(defs[0]))

static const uint32_t fw_new[] = { VMBUS_IC_FW_3_0, VMBUS_IC_FW_1_0 };
static const uint32_t fw_old[] = { VMBUS_IC_FW_1_0 };
static const uint32_t fw_kvp[] = { VMBUS_IC_FW_3_0 };	/* hv_kvp.c's only */
static const uint32_t msg_old[] = { VMBUS_IC_VER(1, 0) };

/* The key/value pools, as hv_kvp_daemon keeps them (in files there). */
#define KVP_MAX	64
static struct { unsigned int pool; char key[512]; char value[2048]; } kvps[KVP_MAX];
static unsigned int nkvp;

static bool old;
static unsigned long heartbeats_wanted, heartbeats;
static bool exit_on_shutdown, shutdown_seen;

static int kvp_find(unsigned int pool, const char *key)
{
	unsigned int i;

	for (i = 0; i < nkvp; i++)
		if (kvps[i].pool == pool && strcmp(kvps[i].key, key) == 0)
			return (int)i;
	return -1;
}

static int kvp_set(unsigned int pool, const char *key, const char *value)
{
	int i = kvp_find(pool, key);

	if (i < 0) {
		if (nkvp == KVP_MAX)
			return -ENOSPC;
		i = (int)nkvp++;
	}
	kvps[i].pool = pool;
	snprintf(kvps[i].key, sizeof(kvps[i].key), "%s", key);
	snprintf(kvps[i].value, sizeof(kvps[i].value), "%s", value);
	return 0;
}

/* Entry @index of @pool, or -1. */
static int kvp_nth(unsigned int pool, uint32_t index)
{
	unsigned int i, n = 0;

	for (i = 0; i < nkvp; i++)
		if (kvps[i].pool == pool && n++ == index)
			return (int)i;
	return -1;
}

/* Answer a KVP request in place (the body after both headers). */
static uint32_t kvp_answer(uint8_t *body, uint32_t room)
{
	struct vmbus_ic_kvp k;
	char key[512], value[2048];
	int i;

	if (room < sizeof(k))
		return VMBUS_IC_E_FAIL;
	memcpy(&k, body, sizeof(k));
	if (k.hdr.pool >= VMBUS_IC_KVP_POOLS)
		return VMBUS_IC_E_FAIL;
	switch (k.hdr.operation) {
	case VMBUS_IC_KVP_ENUMERATE:
		i = kvp_nth(k.hdr.pool, k.u.enumerate.index);
		if (i < 0)
			return VMBUS_IC_S_CONT;
		k.u.enumerate.data.key_size = (uint32_t)vmbus_ic_utf16(
			k.u.enumerate.data.key, sizeof(k.u.enumerate.data.key) - 2,
			kvps[i].key);
		k.u.enumerate.data.value_size = (uint32_t)vmbus_ic_utf16(
			k.u.enumerate.data.value,
			sizeof(k.u.enumerate.data.value) - 2, kvps[i].value);
		k.u.enumerate.data.value_type = VMBUS_IC_KVP_REG_SZ;
		printf("kvp enumerate pool=%u index=%u\n", k.hdr.pool,
		       k.u.enumerate.index);
		break;
	case VMBUS_IC_KVP_GET:
	case VMBUS_IC_KVP_SET:
		if (k.u.get.key_size > sizeof(k.u.get.key) ||
		    vmbus_ic_utf8(key, sizeof(key), k.u.get.key,
				  k.u.get.key_size) < 0)
			return VMBUS_IC_E_FAIL;
		if (k.hdr.operation == VMBUS_IC_KVP_SET) {
			if (k.u.get.value_size > sizeof(k.u.get.value) ||
			    vmbus_ic_utf8(value, sizeof(value), k.u.get.value,
					  k.u.get.value_size) < 0 ||
			    kvp_set(k.hdr.pool, key, value) < 0)
				return VMBUS_IC_E_FAIL;
			printf("kvp set pool=%u key=%s value=%s\n", k.hdr.pool,
			       key, value);
			break;
		}
		i = kvp_find(k.hdr.pool, key);
		printf("kvp get pool=%u key=%s\n", k.hdr.pool, key);
		if (i < 0)
			return VMBUS_IC_E_FAIL;
		k.u.get.value_size = (uint32_t)vmbus_ic_utf16(k.u.get.value,
			sizeof(k.u.get.value) - 2, kvps[i].value);
		k.u.get.value_type = VMBUS_IC_KVP_REG_SZ;
		break;
	case VMBUS_IC_KVP_DELETE:
		if (k.u.del.key_size > sizeof(k.u.del.key) ||
		    vmbus_ic_utf8(key, sizeof(key), k.u.del.key,
				  k.u.del.key_size) < 0 ||
		    (i = kvp_find(k.hdr.pool, key)) < 0)
			return VMBUS_IC_E_FAIL;
		kvps[i] = kvps[--nkvp];
		printf("kvp delete pool=%u key=%s\n", k.hdr.pool, key);
		break;
	default:
		return VMBUS_IC_E_FAIL;
	}
	memcpy(body, &k, sizeof(k));
	return VMBUS_IC_S_OK;
}

/* Answer one request of IC @d in @buf (@len bytes, answered in place). */
static int ic_answer(const struct ic_def *d, struct vmbus_chan *chan,
		     uint8_t *buf, uint32_t len, uint64_t tid)
{
	struct vmbus_ic_msg m;
	uint8_t *body = buf + VMBUS_IC_HDRS_SIZE, flags;
	uint32_t status = VMBUS_IC_S_OK, fw, ver;
	int rc;

	rc = vmbus_ic_parse(buf, len, &m);
	if (rc) {
		printf("bad-message %s (%s)\n", d->kind, strerror(-rc));
		return rc;
	}
	if (m.hdr.type == VMBUS_IC_MSG_NEGOTIATE) {
		const uint32_t *f = old ? fw_old :
			d->type == VMBUS_IC_MSG_KVP ? fw_kvp : fw_new;
		unsigned int nf = old || d->type == VMBUS_IC_MSG_KVP ? 1 : 2;

		rc = vmbus_ic_negotiate_answer(buf, len, f, nf,
			old ? msg_old : d->versions, old ? 1 : d->nversions,
			&fw, &ver);
		if (rc == -EPROTONOSUPPORT)
			printf("no-common-version %s\n", d->kind);
		else if (rc == 0)
			printf("negotiated %s framework=%u.%u version=%u.%u\n",
			       d->kind, fw >> 16, fw & 0xffff, ver >> 16,
			       ver & 0xffff);
		else
			return rc;
		return vmbus_chan_send(chan, buf, len, tid, 0);
	}
	if (m.hdr.type != d->type) {
		status = VMBUS_IC_E_FAIL;
	} else if (d->type == VMBUS_IC_MSG_HEARTBEAT) {
		uint64_t seq;

		if (m.room < sizeof(struct vmbus_ic_heartbeat))
			return -EMSGSIZE;
		memcpy(&seq, body, 8);
		seq++;
		memcpy(body, &seq, 8);
		heartbeats++;
		printf("heartbeat seq=%llu\n", (unsigned long long)seq);
	} else if (d->type == VMBUS_IC_MSG_SHUTDOWN) {
		struct vmbus_ic_shutdown sd;

		if (m.room < sizeof(sd))
			return -EMSGSIZE;
		memcpy(&sd, body, sizeof(sd));
		status = sd.flags <= 3 ? VMBUS_IC_S_OK : VMBUS_IC_E_FAIL;
		printf("shutdown flags=%u\n", sd.flags);
		shutdown_seen = true;
	} else if (d->type == VMBUS_IC_MSG_TIMESYNC) {
		struct vmbus_ic_timesync ts;

		if (m.room < VMBUS_IC_TIMESYNC_WIRE_SIZE)
			return -EMSGSIZE;
		memset(&ts, 0, sizeof(ts));
		memcpy(&ts, body, VMBUS_IC_TIMESYNC_WIRE_SIZE);
		printf("timesync flags=%u unix=%llu\n", ts.flags,
		       (unsigned long long)((ts.parent_time -
					     VMBUS_IC_TIME_DELTA) / 10000000u));
	} else {
		status = kvp_answer(body, m.room);
	}
	memcpy(buf + 8 + offsetof(struct vmbus_ic_hdr, status), &status, 4);
	flags = VMBUS_IC_FLAG_TRANSACTION | VMBUS_IC_FLAG_RESPONSE;
	memcpy(buf + 8 + offsetof(struct vmbus_ic_hdr, flags), &flags, 1);
	return vmbus_chan_send(chan, buf, len, tid, 0);
}

static int usage(void)
{
	fprintf(stderr, "usage: vmbus-ic-guest [--old] [--seconds N] "
		"[--heartbeats N] [--exit-on-shutdown] [--kvp POOL:KEY=VALUE]...\n");
	return 2;
}

int main(int argc, char **argv)
{
	static uint64_t buf[(VMBUS_IC_MSG_MAX + 4096) / 8];
	struct vmbus_chan *chans[NDEFS] = { 0 };
	const struct ic_def *cdef[NDEFS];
	struct vmbus_offer offers[32];
	struct pollfd pfd[NDEFS];
	struct vmbus_bus *bus;
	unsigned long seconds = 30;
	unsigned int nch = 0, i, j;
	struct timespec t0, t;
	int n, rc, status = 1;

	for (i = 1; i < (unsigned int)argc; i++) {
		if (strcmp(argv[i], "--old") == 0) {
			old = true;
		} else if (strcmp(argv[i], "--exit-on-shutdown") == 0) {
			exit_on_shutdown = true;
		} else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < (unsigned int)argc) {
			seconds = strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--heartbeats") == 0 && i + 1 < (unsigned int)argc) {
			heartbeats_wanted = strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--kvp") == 0 && i + 1 < (unsigned int)argc) {
			char *a = argv[++i], *colon = strchr(a, ':'), *eq = strchr(a, '=');

			if (!colon || !eq || eq < colon)
				return usage();
			*colon = *eq = '\0';
			kvp_set((unsigned int)atoi(a), colon + 1, eq + 1);
		} else {
			return usage();
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = vmbus_bus_open(&bus, 20000);
	if (rc) {
		fprintf(stderr, "vmbus-ic-guest: failed to open the bus (%s)\n",
			strerror(-rc));
		return 1;
	}
	n = vmbus_bus_offers(bus, offers, 32);
	for (i = 0; i < (unsigned int)n; i++) {
		for (j = 0; j < NDEFS; j++) {
			uint8_t g[16];

			vmbus_guid_parse(defs[j].guid, g);
			if (memcmp(g, offers[i].type, 16) == 0)
				break;
		}
		if (j == NDEFS)
			continue;
		rc = vmbus_chan_open(bus, offers[i].relid, 4, 1, 10000,
				     &chans[nch]);
		if (rc) {
			fprintf(stderr, "vmbus-ic-guest: failed to open %s (%s)\n",
				defs[j].kind, strerror(-rc));
			goto out;
		}
		printf("opened %s channel %u\n", defs[j].kind, offers[i].relid);
		cdef[nch++] = &defs[j];
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		for (i = 0; i < nch; i++)
			pfd[i] = (struct pollfd){ vmbus_chan_fd(chans[i]), POLLIN, 0 };
		poll(pfd, nch, 200);
		for (i = 0; i < nch; i++) {
			struct vmbus_packet pkt;

			vmbus_chan_ack(chans[i]);
			while ((rc = vmbus_chan_recv(chans[i], &pkt, buf,
						     sizeof(buf))) == 0) {
				/* Answered in place: the payload to the front. */
				memmove(buf, pkt.data, pkt.len);
				if (ic_answer(cdef[i], chans[i], (uint8_t *)buf,
					      pkt.len, pkt.trans_id) < 0)
					goto out;
			}
			if (rc != -EAGAIN) {
				fprintf(stderr, "vmbus-ic-guest: %s: %s\n",
					cdef[i]->kind, strerror(-rc));
				goto out;
			}
		}
		if (heartbeats_wanted && heartbeats >= heartbeats_wanted)
			break;
		if (exit_on_shutdown && shutdown_seen)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= (time_t)seconds) {
			if (heartbeats_wanted || exit_on_shutdown) {
				fprintf(stderr, "vmbus-ic-guest: timed out\n");
				goto out;
			}
			break;
		}
	}
	status = 0;
out:
	for (i = 0; i < nch; i++)
		vmbus_chan_close(chans[i]);
	vmbus_bus_close(bus);
	return status;
}
