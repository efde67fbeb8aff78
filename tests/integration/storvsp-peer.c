// SPDX-License-Identifier: GPL-2.0-only
/*
 * Both ends of the storage VSP on the simulated host, for storvsp.sh:
 *   storvsp-peer server DOMID [--max-inflight N] PATH[,ro][,lun=N]...
 *        (dom0) serve DOMID's bus with libvmbus and offer one synthetic
 *        SCSI controller (Hyper-V's class GUID) whose channel runs the VSP
 *        over the given disks; prints the VSP's counters when it closes.
 *   storvsp-peer client SIZE_MIB
 *        (the guest) a user-mode storvsc: negotiates as hv_storvsc does and
 *        runs the scenario against LUN 0 (read-write, SIZE_MIB) and LUN 1
 *        (read-only); prints "PASS name" or "FAIL name: why" per check.
 *   storvsp-peer busy SIZE_MIB
 *        (the guest) keeps writes and reads in flight until the controller
 *        is rescinded, then says how its requests in flight ended
 *   storvsp-peer journal SIZE_MIB AFTER TOTAL
 *        (the guest) journals the writes acknowledged durable (FUA, or
 *        before a completed SYNCHRONIZE CACHE) and goes on across a crash
 *        of the server, AFTER durable writes past it
 *   storvsp-peer verify FILE JOURNAL   each journalled write is in FILE
 *   storvsp-peer sum FILE OFF LEN      FNV-1a of a file range
 *   storvsp-peer hole FILE OFF LEN     "hole" if the range has no data
 * The client shares its buffers with xengntshr and names them by grant
 * reference in DATA_USING_GPA_DIRECT packets, as the guest bus driver does
 * for hv_storvsc's page lists.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xengnttab.h>

#include <xenvmbus/gpadl.h>
#include <xenvmbus/ring.h>
#include <xenvmbus/storvsc.h>

#include "diskspec.h"
#include "libvmbus.h"
#include "storvsc-client.h"
#include "storvsp.h"

#define RING_PAGES	64
#define POOL_PAGES	1024		/* 4 MiB of shared buffers (xensim shares up to 1024 at once) */
#define CHUNK		(256u * 1024)	/* bulk request size */
#define QD		8
#define TIMEOUT_MS	10000

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (; n >= 8; n -= 8, p += 8) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		memcpy(p, &x, 8);
	}
}

/* ------------------------------------------------------------------ */
/* Server                                                               */
/* ------------------------------------------------------------------ */

static volatile sig_atomic_t stop;
static struct storvsp *vsp;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void srv_serving(unsigned int domid, void *arg)
{
	(void)arg;
	printf("server: serving domain %u\n", domid);
}

static void srv_opened(struct vmbus_chan *c, void *arg)
{
	(void)arg;
	printf("server: channel %u opened\n", vmbus_chan_relid(c));
}

static void srv_closed(struct vmbus_chan *c, const struct storvsp_stats *st,
		       void *arg)
{
	struct storvsp_stats after;

	(void)arg;
	printf("server: channel %u closed: version 0x%x requests %llu "
	       "check_conditions %llu refused %llu bad_packets %llu "
	       "flushes %llu fua_writes %llu unmaps %llu inflight_peak %u "
	       "pages_peak %u direct %d\n", vmbus_chan_relid(c), st->version,
	       (unsigned long long)st->requests,
	       (unsigned long long)st->check_conditions,
	       (unsigned long long)st->refused,
	       (unsigned long long)st->bad_packets,
	       (unsigned long long)st->flushes,
	       (unsigned long long)st->fua_writes,
	       (unsigned long long)st->unmaps, st->inflight_peak,
	       st->pages_peak, st->direct[0]);
	storvsp_get_stats(vsp, &after);
	printf("server: after close: inflight %u pages_mapped %u\n",
	       after.inflight, after.pages_mapped);
}

static const struct storvsp_serve_ops serve_ops = {
	srv_serving, srv_opened, srv_closed, NULL,
};

static int run_server(int argc, char **argv)
{
	struct storvsp_disk_cfg disks[DISK_SPEC_LUNS];
	static struct disk_spec specs[DISK_SPEC_LUNS];
	struct storvsp_limits lim = { 0 };
	unsigned int domid = (unsigned int)strtoul(argv[0], NULL, 10), n = 0;
	const char *why;
	int rc, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--max-inflight") && i + 1 < argc) {
			lim.max_inflight = (uint32_t)strtoul(argv[++i], NULL, 10);
			continue;
		}
		if (n == DISK_SPEC_LUNS ||
		    disk_spec_parse(argv[i], &specs[n], &why)) {
			fprintf(stderr, "server: bad disk \"%s\"\n", argv[i]);
			return 2;
		}
		disks[n] = (struct storvsp_disk_cfg){ specs[n].path,
			specs[n].ro, specs[n].lun };
		n++;
	}
	rc = storvsp_create(&vsp, disks, n, &lim);
	if (rc) {
		fprintf(stderr, "server: create the VSP: %s\n", strerror(-rc));
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	rc = storvsp_serve(domid, vsp, &serve_ops, &stop);
	storvsp_destroy(vsp);
	return rc ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Client: a user-mode storvsc                                          */
/* ------------------------------------------------------------------ */

struct cli {
	struct storvsc_client sc;
	struct vstor_channel_properties props;
	uint64_t next_id;
	int failed;
};

static void result(struct cli *c, bool ok, const char *name, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));
#include <stdarg.h>
static void result(struct cli *c, bool ok, const char *name, const char *fmt,
		   ...)
{
	va_list ap;

	if (ok) {
		printf("PASS %s\n", name);
	} else {
		c->failed++;
		printf("FAIL %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

static int send_retry(struct cli *c, const struct vstor_packet *p,
		      uint64_t id, uint32_t off, uint32_t len)
{
	int rc, tries = 0;

	while ((rc = storvsc_client_send(&c->sc, p, id, off, len, NULL)) ==
	       -EAGAIN &&
	       tries++ < 1000)
		vmbus_chan_wait(c->sc.ch, 10);
	return rc;
}

/* One request, waited for; the answer in @p. */
static int exec(struct cli *c, struct vstor_packet *p, uint32_t off,
		uint32_t len)
{
	uint64_t id = ++c->next_id, got;
	int rc = send_retry(c, p, id, off, len);

	if (rc)
		return rc;
	/* Skip what an earlier, failed step left unanswered. */
	do
		rc = storvsc_client_recv(&c->sc, p, &got, TIMEOUT_MS);
	while (!rc && got != id);
	return rc;
}

/* A SCSI command; data at pool offset @off.  Returns exec's rc. */
static int scsi(struct cli *c, unsigned int lun, const uint8_t *cdb,
		unsigned int cdb_len, bool data_in, uint32_t off, uint32_t len,
		struct vstor_packet *p)
{
	storvsc_srb(p, lun, cdb, cdb_len, data_in, len);
	return exec(c, p, off, len);
}

static bool good(const struct vstor_packet *p)
{
	return p->operation == VSTOR_OP_COMPLETE_IO && !p->status &&
	       p->srb.srb_status == VSTOR_SRB_STATUS_SUCCESS &&
	       !p->srb.scsi_status;
}

/* CHECK CONDITION with fixed sense @key/@asc. */
static bool sense_is(const struct vstor_packet *p, uint8_t key, uint8_t asc)
{
	return p->srb.scsi_status == 2 &&
	       (p->srb.srb_status & VSTOR_SRB_STATUS_AUTOSENSE_VALID) &&
	       p->srb.sense_info_length >= 14 &&
	       p->srb.sense_data[0] == 0x70 &&
	       (p->srb.sense_data[2] & 0xf) == key &&
	       p->srb.sense_data[12] == asc;
}

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = v >> 24; b[1] = v >> 16; b[2] = v >> 8; b[3] = (uint8_t)v;
}
static void put64(uint8_t *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b + 4, (uint32_t)v);
}
static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}
static uint64_t get64(const uint8_t *b)
{
	return (uint64_t)get32(b) << 32 | get32(b + 4);
}

static void rw10(uint8_t *cdb, bool write, uint32_t lba, uint16_t blocks,
		 bool fua)
{
	memset(cdb, 0, 10);
	cdb[0] = write ? 0x2a : 0x28;
	cdb[1] = fua ? 0x08 : 0;
	put32(cdb + 2, lba);
	cdb[7] = blocks >> 8;
	cdb[8] = (uint8_t)blocks;
}

static int negotiate(struct cli *c)
{
	static const uint16_t versions[] = { VSTOR_PROTO_VERSION_WIN10,
		VSTOR_PROTO_VERSION_WIN8_1, VSTOR_PROTO_VERSION_WIN8 };
	struct vstor_packet p;
	uint8_t tur[6] = { 0 };
	unsigned int i;
	bool ok;

	/* An SRB before the initialisation: refused. */
	storvsc_srb(&p, 0, tur, 6, false, 0);
	ok = !exec(c, &p, 0, 0) && p.status == VSTOR_STATUS_INVALID_DEVICE_STATE;
	result(c, ok, "srb-before-init-refused", "status 0x%x", p.status);

	memset(&p, 0, sizeof(p));
	p.operation = VSTOR_OP_BEGIN_INITIALIZATION;
	p.flags = VSTOR_FLAG_REQUEST_COMPLETION;
	if (exec(c, &p, 0, 0) || p.status)
		return -EPROTO;
	/* A version nobody speaks, then hv_storvsc's list. */
	memset(&p, 0, sizeof(p));
	p.operation = VSTOR_OP_QUERY_PROTOCOL_VERSION;
	p.version.major_minor = VSTOR_PROTO_VERSION(9, 9);
	ok = !exec(c, &p, 0, 0) && p.status == VSTOR_STATUS_REVISION_MISMATCH;
	result(c, ok, "unknown-version-refused", "status 0x%x", p.status);
	for (i = 0; i < 3; i++) {
		memset(&p, 0, sizeof(p));
		p.operation = VSTOR_OP_QUERY_PROTOCOL_VERSION;
		p.flags = VSTOR_FLAG_REQUEST_COMPLETION;
		p.version.major_minor = versions[i];
		if (exec(c, &p, 0, 0))
			return -EPROTO;
		if (!p.status)
			break;
	}
	result(c, i == 0, "version-win10", "agreed on entry %u", i);
	memset(&p, 0, sizeof(p));
	p.operation = VSTOR_OP_QUERY_PROPERTIES;
	p.flags = VSTOR_FLAG_REQUEST_COMPLETION;
	/* Sub-channels where the server can offer them (vmbusd), else none. */
	ok = !exec(c, &p, 0, 0) && !p.status &&
	     p.props.max_transfer_bytes == (1u << 20) &&
	     !p.props.max_channel_cnt ==
	     !(p.props.flags & VSTOR_PROP_MULTI_CHANNEL);
	c->props = p.props;
	result(c, ok, "properties", "status 0x%x max_transfer %u channels %u",
	       p.status, p.props.max_transfer_bytes, p.props.max_channel_cnt);
	memset(&p, 0, sizeof(p));
	p.operation = VSTOR_OP_CREATE_SUB_CHANNELS;
	p.sub_channel_count = (uint16_t)(c->props.max_channel_cnt + 1);
	ok = !exec(c, &p, 0, 0) && p.status == VSTOR_STATUS_INVALID_PARAMETER;
	result(c, ok, "sub-channels-beyond-count-refused", "status 0x%x",
	       p.status);
	memset(&p, 0, sizeof(p));
	p.operation = VSTOR_OP_END_INITIALIZATION;
	p.flags = VSTOR_FLAG_REQUEST_COMPLETION;
	ok = !exec(c, &p, 0, 0) && !p.status;
	result(c, ok, "end-initialization", "status 0x%x", p.status);
	return ok ? 0 : -EPROTO;
}

/*
 * As hv_storvsc after its initialisation: ask for 2 sub-channels (or
 * what the properties allow), open the offers of the controller's
 * instance with sub-channel index 1.., read through each and find the
 * answer on that channel.  Nothing to check where none are offered.
 */
static void check_subs(struct cli *c)
{
	struct vmbus_offer offs[16], prim;
	struct vmbus_chan *subs[2] = { NULL, NULL }, *primary = c->sc.ch;
	struct vstor_packet p;
	unsigned int want, got = 0, good_n = 0, i;
	uint8_t cdb[10];
	int n, k, waited, rc;
	bool ok;

	if (!c->props.max_channel_cnt)
		return;
	want = c->props.max_channel_cnt < 2 ? c->props.max_channel_cnt : 2;
	memset(&p, 0, sizeof(p));
	p.operation = VSTOR_OP_CREATE_SUB_CHANNELS;
	p.flags = VSTOR_FLAG_REQUEST_COMPLETION;
	p.sub_channel_count = (uint16_t)want;
	ok = !exec(c, &p, 0, 0) && !p.status;
	result(c, ok, "sub-channels-created", "status 0x%x", p.status);
	memset(&p, 0, sizeof(p));
	p.operation = VSTOR_OP_CREATE_SUB_CHANNELS;
	p.sub_channel_count = 1;
	ok = !exec(c, &p, 0, 0) && p.status == VSTOR_STATUS_INVALID_PARAMETER;
	result(c, ok, "sub-channels-asked-twice-refused", "status 0x%x",
	       p.status);
	n = vmbus_bus_offers(c->sc.bus, offs, 16);
	for (k = 0; k < n && offs[k].relid != vmbus_chan_relid(primary); k++)
		;
	if (k == n) {
		result(c, false, "sub-channels-offered", "primary not found");
		return;
	}
	prim = offs[k];
	for (waited = 0; got < want && waited < TIMEOUT_MS; waited += 50) {
		vmbus_bus_wait(c->sc.bus, 50);
		n = vmbus_bus_offers(c->sc.bus, offs, 16);
		for (got = 0, k = 0; k < n; k++)
			if (!memcmp(offs[k].type, prim.type, 16) &&
			    !memcmp(offs[k].instance, prim.instance, 16) &&
			    vmbus_bus_offer_sub_index(c->sc.bus, offs[k].relid) > 0)
				got++;
	}
	result(c, got == want, "sub-channels-offered", "%u of %u", got, want);
	for (k = 0, i = 0; k < n && i < want; k++) {
		if (memcmp(offs[k].instance, prim.instance, 16) ||
		    vmbus_bus_offer_sub_index(c->sc.bus, offs[k].relid) <= 0)
			continue;
		rc = vmbus_chan_open(c->sc.bus, offs[k].relid, RING_PAGES, 1,
				     TIMEOUT_MS, &subs[i]);
		if (rc)
			break;
		i++;
	}
	result(c, i == want, "sub-channels-opened", "%u of %u", i, want);
	/* A read on each: answered on the channel it was sent on. */
	for (k = 0; k < (int)i; k++) {
		c->sc.ch = subs[k];
		rw10(cdb, false, (uint32_t)k * 8, 8, false);
		storvsc_srb(&p, 0, cdb, 10, true, 4096);
		if (!exec(c, &p, 0, 4096) && good(&p) &&
		    p.srb.data_transfer_length == 4096)
			good_n++;
	}
	c->sc.ch = primary;
	result(c, i && good_n == i, "sub-channels-carry-requests",
	       "%u of %u", good_n, i);
	for (k = 0; k < (int)i; k++)
		vmbus_chan_close(subs[k]);
}

static void check_inquiry(struct cli *c, uint64_t nblocks)
{
	struct vstor_packet p;
	uint8_t cdb[16], *d = c->sc.mem;
	static const uint8_t pages[] = { 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };
	unsigned int i;
	bool ok;

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x12;
	cdb[4] = 96;
	ok = !scsi(c, 0, cdb, 6, true, 0, 96, &p) && good(&p) &&
	     p.srb.data_transfer_length == 36 && d[0] == 0 &&
	     !memcmp(d + 8, "Msft    Virtual Disk    ", 24);
	result(c, ok, "inquiry-standard", "len %u pdt %u",
	       p.srb.data_transfer_length, d[0]);
	cdb[1] = 1;
	for (i = 0; i < sizeof(pages); i++) {
		char name[32];

		cdb[2] = pages[i];
		memset(d, 0xee, 256);
		ok = !scsi(c, 0, cdb, 6, true, 0, 96, &p) && good(&p) &&
		     d[1] == pages[i] && p.srb.data_transfer_length > 4;
		if (ok && pages[i] == 0x00)
			ok = d[3] == 6 && !memcmp(d + 4, pages, 6);
		if (ok && pages[i] == 0x80)
			ok = d[3] > 0 && !memcmp(d + 4, "XVB", 3);
		if (ok && pages[i] == 0x83)
			ok = d[4] == 1 && d[5] == 3 && d[7] == 8 &&
			     (d[8] >> 4) == 3;
		if (ok && pages[i] == 0xb0)
			ok = get32(d + 8) == 2048 && get32(d + 24) > 0;
		if (ok && pages[i] == 0xb1)
			ok = d[4] == 0 && d[5] == 1;
		if (ok && pages[i] == 0xb2)
			ok = (d[5] & 0x80) && (d[5] & 0x40);
		snprintf(name, sizeof(name), "inquiry-vpd-%02x", pages[i]);
		result(c, ok, name, "len %u page %02x",
		       p.srb.data_transfer_length, d[1]);
	}
	cdb[2] = 0x99;
	ok = !scsi(c, 0, cdb, 6, true, 0, 96, &p) && sense_is(&p, 5, 0x24);
	result(c, ok, "inquiry-unknown-vpd-invalid-field", "scsi %u",
	       p.srb.scsi_status);
	memset(cdb, 0, 6);
	cdb[0] = 0x12;
	cdb[4] = 36;
	ok = !scsi(c, 5, cdb, 6, true, 0, 36, &p) && good(&p) && d[0] == 0x7f;
	result(c, ok, "inquiry-absent-lun-pq3", "byte0 %02x", d[0]);

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = 0x25;
	ok = !scsi(c, 0, cdb, 10, true, 0, 8, &p) && good(&p) &&
	     get32(d) == nblocks - 1 && get32(d + 4) == 512;
	result(c, ok, "read-capacity-10", "last %u size %u", get32(d),
	       get32(d + 4));
	cdb[0] = 0x9e;
	cdb[1] = 0x10;
	cdb[13] = 32;
	ok = !scsi(c, 0, cdb, 16, true, 0, 32, &p) && good(&p) &&
	     get64(d) == nblocks - 1 && get32(d + 8) == 512 &&
	     (d[14] & 0xc0) == 0xc0;
	result(c, ok, "read-capacity-16", "last %llu lbp %02x",
	       (unsigned long long)get64(d), d[14]);
	memset(cdb, 0, 16);
	cdb[0] = 0xa0;
	put32(cdb + 6, 256);
	ok = !scsi(c, 0, cdb, 12, true, 0, 256, &p) && good(&p) &&
	     get32(d) == 16 && d[9] == 0 && d[17] == 1;
	result(c, ok, "report-luns", "list %u", get32(d));
	memset(cdb, 0, 16);
	cdb[0] = 0x1a;
	cdb[2] = 0x08;
	cdb[4] = 64;
	ok = !scsi(c, 0, cdb, 6, true, 0, 64, &p) && good(&p) &&
	     !(d[2] & 0x80) && d[3] == 8 && d[12] == 0x08 && (d[14] & 0x04);
	result(c, ok, "mode-sense-6-caching-wce", "wp %02x page %02x",
	       d[2], d[12]);
	ok = !scsi(c, 1, cdb, 6, true, 0, 64, &p) && good(&p) && (d[2] & 0x80);
	result(c, ok, "mode-sense-6-ro-wp", "dsp %02x", d[2]);
	memset(cdb, 0, 16);
	cdb[0] = 0x5a;
	cdb[2] = 0x3f;
	cdb[8] = 128;
	ok = !scsi(c, 0, cdb, 10, true, 0, 128, &p) && good(&p) &&
	     d[7] == 8 && d[16] == 0x08;
	result(c, ok, "mode-sense-10-all", "bdl %u page %02x", d[7], d[16]);
	memset(cdb, 0, 16);
	ok = !scsi(c, 0, cdb, 6, false, 0, 0, &p) && good(&p);
	result(c, ok, "test-unit-ready", "scsi %u", p.srb.scsi_status);
	cdb[0] = 0x03;
	cdb[4] = 18;
	ok = !scsi(c, 0, cdb, 6, true, 0, 18, &p) && good(&p) &&
	     d[0] == 0x70 && d[2] == 0;
	result(c, ok, "request-sense", "%02x %02x", d[0], d[2]);
}

/* Write or read @bytes at LBA @lba in CHUNK requests, QD deep. */
static int bulk(struct cli *c, bool write, uint64_t lba, uint64_t bytes)
{
	uint32_t nreq = (uint32_t)(bytes / CHUNK), sent = 0, done = 0, blocks;
	uint32_t owner[QD], slot;
	bool busy[QD] = { false };
	struct vstor_packet p;
	uint8_t cdb[10], *want;
	uint64_t id;
	int rc;

	blocks = CHUNK / 512;
	while (done < nreq) {
		/* Completions come in any order: a slot is reused once free. */
		for (slot = 0; sent < nreq && slot < QD; slot++) {
			if (busy[slot])
				continue;
			rw10(cdb, write, (uint32_t)(lba + (uint64_t)sent * blocks),
			     (uint16_t)blocks, false);
			storvsc_srb(&p, 0, cdb, 10, !write, CHUNK);
			if (write)
				fill(c->sc.mem + slot * CHUNK, CHUNK, sent);
			rc = send_retry(c, &p, 1000 + sent, slot * CHUNK, CHUNK);
			if (rc)
				return rc;
			busy[slot] = true;
			owner[slot] = sent++;
		}
		rc = storvsc_client_recv(&c->sc, &p, &id, TIMEOUT_MS);
		if (rc)
			return rc;
		for (slot = 0; slot < QD; slot++)
			if (busy[slot] && owner[slot] == id - 1000)
				break;
		if (slot == QD)
			return -EPROTO;
		if (!good(&p) || p.srb.data_transfer_length != CHUNK)
			return -EIO;
		if (!write) {
			/* Check the chunk against what was written there. */
			want = malloc(CHUNK);
			fill(want, CHUNK, owner[slot]);
			rc = memcmp(want, c->sc.mem + slot * CHUNK, CHUNK);
			free(want);
			if (rc)
				return -EILSEQ;
		}
		busy[slot] = false;
		done++;
	}
	return 0;
}

static void check_data(struct cli *c, uint64_t nblocks)
{
	struct vstor_packet p;
	uint8_t cdb[16], *buf;
	uint64_t bytes = 8u << 20, sum = 0xcbf29ce484222325ull;
	uint32_t k;
	int rc;
	bool ok;

	rc = bulk(c, true, 0, bytes);
	result(c, !rc, "write-8mib-qd8", "%s", strerror(-rc));
	rc = bulk(c, false, 0, bytes);
	result(c, !rc, "read-back-8mib-checksums", "%s", strerror(-rc));
	buf = malloc(CHUNK);
	for (k = 0; k < bytes / CHUNK; k++) {
		fill(buf, CHUNK, k);
		sum = fnv(sum, buf, CHUNK);
	}
	free(buf);
	printf("written-sum %016llx\n", (unsigned long long)sum);

	/* FUA write and a flush. */
	fill(c->sc.mem, 4096, 77);
	rw10(cdb, true, 20000, 8, true);
	ok = !scsi(c, 0, cdb, 10, false, 0, 4096, &p) && good(&p) &&
	     p.srb.data_transfer_length == 4096;
	result(c, ok, "write-fua", "scsi %u", p.srb.scsi_status);
	memset(cdb, 0, 16);
	cdb[0] = 0x35;
	ok = !scsi(c, 0, cdb, 10, false, 0, 0, &p) && good(&p);
	result(c, ok, "synchronize-cache", "scsi %u", p.srb.scsi_status);

	/* UNMAP 1 MiB of data at 12 MiB, then it reads as zeroes. */
	rc = bulk(c, true, 24576, 1u << 20);
	result(c, !rc, "write-before-unmap", "%s", strerror(-rc));
	memset(c->sc.mem, 0, 24);
	c->sc.mem[1] = 22;
	c->sc.mem[3] = 16;
	put64(c->sc.mem + 8, 24576);
	put32(c->sc.mem + 16, 2048);
	memset(cdb, 0, 16);
	cdb[0] = 0x42;
	cdb[8] = 24;
	ok = !scsi(c, 0, cdb, 10, false, 0, 24, &p) && good(&p);
	result(c, ok, "unmap-1mib", "scsi %u key %u", p.srb.scsi_status,
	       p.srb.sense_data[2]);
	memset(c->sc.mem, 0xaa, 65536);
	rw10(cdb, false, 24576 + 1024, 128, false);
	ok = !scsi(c, 0, cdb, 10, true, 0, 65536, &p) && good(&p);
	for (k = 0; ok && k < 65536; k++)
		ok = !c->sc.mem[k];
	result(c, ok, "unmapped-reads-zero", "byte %u", k);
	/* WRITE SAME(16), UNMAP + NDOB, over 256 KiB of data at 14 MiB. */
	rc = bulk(c, true, 28672, CHUNK);
	result(c, !rc, "write-before-write-same", "%s", strerror(-rc));
	memset(cdb, 0, 16);
	cdb[0] = 0x93;
	cdb[1] = 0x08 | 0x01;
	put64(cdb + 2, 28672);
	put32(cdb + 10, 512);
	ok = !scsi(c, 0, cdb, 16, false, 0, 0, &p) && good(&p);
	result(c, ok, "write-same-16-unmap", "scsi %u key %u asc %02x",
	       p.srb.scsi_status, p.srb.sense_data[2], p.srb.sense_data[12]);
	(void)nblocks;
}

static void check_errors(struct cli *c, uint64_t nblocks)
{
	struct vstor_packet p;
	uint8_t cdb[16];
	uint32_t bad[2] = { 0xdeadbeef, 0xdeadbef0 };
	uint64_t id;
	bool ok;
	int rc;

	rw10(cdb, true, 0, 8, false);
	ok = !scsi(c, 1, cdb, 10, false, 0, 4096, &p) && sense_is(&p, 7, 0x27);
	result(c, ok, "ro-write-protected", "scsi %u key %u asc %02x",
	       p.srb.scsi_status, p.srb.sense_data[2], p.srb.sense_data[12]);
	memset(c->sc.mem, 0, 24);
	c->sc.mem[1] = 22; c->sc.mem[3] = 16;
	put32(c->sc.mem + 16, 8);
	memset(cdb, 0, 16);
	cdb[0] = 0x42;
	cdb[8] = 24;
	ok = !scsi(c, 1, cdb, 10, false, 0, 24, &p) && sense_is(&p, 7, 0x27);
	result(c, ok, "ro-unmap-write-protected", "key %u",
	       p.srb.sense_data[2]);
	rw10(cdb, false, 0, 8, false);
	ok = !scsi(c, 1, cdb, 10, true, 0, 4096, &p) && good(&p);
	result(c, ok, "ro-read-allowed", "scsi %u", p.srb.scsi_status);

	rw10(cdb, false, (uint32_t)nblocks, 1, false);
	ok = !scsi(c, 0, cdb, 10, true, 0, 512, &p) && sense_is(&p, 5, 0x21);
	result(c, ok, "lba-beyond-capacity", "key %u asc %02x",
	       p.srb.sense_data[2], p.srb.sense_data[12]);
	memset(cdb, 0, 16);
	cdb[0] = 0x88;
	put64(cdb + 2, ~0ull - 2);
	put32(cdb + 10, 8);
	ok = !scsi(c, 0, cdb, 16, true, 0, 4096, &p) && sense_is(&p, 5, 0x21);
	result(c, ok, "lba-plus-length-overflow", "key %u asc %02x",
	       p.srb.sense_data[2], p.srb.sense_data[12]);
	rw10(cdb, false, 0, 8, false);
	ok = !scsi(c, 0, cdb, 6, true, 0, 4096, &p) && sense_is(&p, 5, 0x24);
	result(c, ok, "cdb-shorter-than-opcode", "key %u asc %02x",
	       p.srb.sense_data[2], p.srb.sense_data[12]);
	storvsc_srb(&p, 0, cdb, 10, true, 4096);
	p.srb.cdb_length = 17;
	ok = !exec(c, &p, 0, 4096) &&
	     p.srb.srb_status == VSTOR_SRB_STATUS_INVALID_REQUEST;
	result(c, ok, "cdb-length-17-refused", "srb %02x", p.srb.srb_status);
	rw10(cdb, false, 0, 16, false);
	ok = !scsi(c, 0, cdb, 10, true, 0, 4096, &p) && sense_is(&p, 5, 0x24);
	result(c, ok, "cdb-length-beyond-buffer", "key %u asc %02x",
	       p.srb.sense_data[2], p.srb.sense_data[12]);
	storvsc_srb(&p, 0, cdb, 10, true, 8192);
	ok = !exec(c, &p, 0, 4096) &&
	     p.srb.srb_status == VSTOR_SRB_STATUS_INVALID_REQUEST;
	result(c, ok, "transfer-length-beyond-range-refused", "srb %02x",
	       p.srb.srb_status);
	memset(cdb, 0, 16);
	cdb[0] = 0xc1;
	ok = !scsi(c, 0, cdb, 16, false, 0, 0, &p) && sense_is(&p, 5, 0x20);
	result(c, ok, "invalid-opcode", "key %u asc %02x",
	       p.srb.sense_data[2], p.srb.sense_data[12]);
	/* Grant references the guest never made. */
	rw10(cdb, false, 0, 8, false);
	storvsc_srb(&p, 0, cdb, 10, true, 4096);
	rc = storvsc_client_send(&c->sc, &p, 4242, 0, 4096, bad);
	ok = !rc && !storvsc_client_recv(&c->sc, &p, &id, TIMEOUT_MS) && id == 4242 &&
	     p.srb.srb_status == VSTOR_SRB_STATUS_INVALID_REQUEST;
	result(c, ok, "bad-grant-refs-refused", "rc %d srb %02x", rc,
	       p.srb.srb_status);
}

/* A GPA-direct packet whose range buffer says two ranges but holds one. */
static void check_bad_range(struct cli *c)
{
	struct {
		uint32_t reserved, count;
		struct vmbus_gpa_range r;
		uint32_t gref;
	} h = { 0, 2, { 4096, 0 }, 0 };
	struct vstor_packet p;
	uint8_t cdb[16];
	uint64_t id;
	bool ok;

	h.gref = c->sc.refs[0];
	rw10(cdb, false, 0, 8, false);
	storvsc_srb(&p, 0, cdb, 10, true, 4096);
	ok = !vmbus_chan_send_raw(c->sc.ch, VMBUS_PKT_DATA_USING_GPA_DIRECT, 1,
				  4343, &h, sizeof(h), &p, c->sc.pkt_len) &&
	     !storvsc_client_recv(&c->sc, &p, &id, TIMEOUT_MS) && id == 4343 &&
	     p.srb.srb_status == VSTOR_SRB_STATUS_INVALID_REQUEST;
	result(c, ok, "bad-range-count-refused", "srb %02x",
	       p.srb.srb_status);
}

/*
 * Eight reads sent at once, the fourth naming grants never made: the VSP
 * maps a turn's requests together, and one bad grant must fail only its
 * own request.
 */
static void check_bad_grant_in_batch(struct cli *c)
{
	uint32_t bad[1] = { 0xdeadbeef }, good_n = 0, bad_n = 0, i;
	struct vstor_packet p;
	uint8_t cdb[16];
	uint64_t id;
	int rc = 0;

	for (i = 0; i < 8 && !rc; i++) {
		rw10(cdb, false, i * 8, 8, false);
		storvsc_srb(&p, 0, cdb, 10, true, 4096);
		rc = storvsc_client_send(&c->sc, &p, 6000 + i, i * 4096, 4096,
					 i == 3 ? bad : NULL);
	}
	for (i = 0; i < 8 && !rc; i++) {
		rc = storvsc_client_recv(&c->sc, &p, &id, TIMEOUT_MS);
		if (rc)
			break;
		if (id == 6003 &&
		    p.srb.srb_status == VSTOR_SRB_STATUS_INVALID_REQUEST)
			bad_n++;
		else if (id != 6003 && good(&p))
			good_n++;
	}
	result(c, !rc && good_n == 7 && bad_n == 1,
	       "bad-grant-fails-only-its-request", "rc %d good %u bad %u", rc,
	       good_n, bad_n);
}

/* 2000 reads of 4 KiB sent as fast as the ring takes them. */
static void check_flood(struct cli *c)
{
	struct vstor_packet p, a;
	uint32_t sent = 0, done = 0, bad = 0, n = 2000;
	uint8_t cdb[10];
	uint64_t id;
	int rc, stalls = 0;

	while (done < n && stalls < 400) {
		while (sent < n) {
			rw10(cdb, false, (sent * 8) % 8192, 8, false);
			storvsc_srb(&p, 0, cdb, 10, true, 4096);
			rc = storvsc_client_send(&c->sc, &p, 50000 + sent, (sent % 64) * 4096,
				      4096, NULL);
			if (rc)
				break;
			sent++;
		}
		rc = storvsc_client_recv(&c->sc, &a, &id, TIMEOUT_MS);
		if (rc) {
			stalls++;
			continue;
		}
		if (!good(&a))
			bad++;
		done++;
	}
	result(c, done == n && !bad, "flood-2000-bounded", "done %u bad %u",
	       done, bad);
}

static int run_client(uint64_t size_mib)
{
	struct cli *c = calloc(1, sizeof(*c));
	uint64_t nblocks = size_mib << 11;
	int rc;

	if (!c || storvsc_client_open(&c->sc, POOL_PAGES, RING_PAGES,
				      TIMEOUT_MS))
		return 1;
	if (negotiate(c)) {
		result(c, false, "negotiation", "protocol error");
		return 1;
	}
	check_subs(c);
	check_inquiry(c, nblocks);
	check_data(c, nblocks);
	check_errors(c, nblocks);
	check_bad_range(c);
	check_bad_grant_in_batch(c);
	check_flood(c);
	storvsc_client_close(&c->sc);
	printf("client: %d failed\n", c->failed);
	rc = c->failed ? 1 : 0;
	free(c);
	return rc;
}

/*
 * Until the controller goes: writes of 64 KiB, 16 in flight, every
 * fourth with FUA, each followed by a read of the block written before
 * it.  "busy" once 200 requests completed; when the channel is rescinded
 * every request still in flight must fail, none may hang:
 *   "rescinded completed N outstanding M error E"
 * and the exit status is 0 if E is ENOTCONN and nothing hung.
 */
#define BUSY_QD		16
#define BUSY_BYTES	(64u * 1024)

static int run_busy(uint64_t size_mib)
{
	struct cli *c = calloc(1, sizeof(*c));
	uint64_t units = (size_mib << 20) / BUSY_BYTES, done = 0, id, next = 0;
	bool busy[BUSY_QD] = { false }, said = false;
	unsigned int slot, outstanding = 0;
	struct vstor_packet p;
	uint8_t cdb[10];
	int rc = 0, err = 0;

	if (!c || storvsc_client_open(&c->sc, POOL_PAGES, RING_PAGES,
				      TIMEOUT_MS) ||
	    storvsc_client_init(&c->sc, NULL, TIMEOUT_MS)) {
		printf("busy: no controller\n");
		return 1;
	}
	for (;;) {
		for (slot = 0; slot < BUSY_QD; slot++) {
			bool wr = next % 2 == 0;
			uint64_t unit = (next / 2 + (wr ? 0 : units - 1)) % units;

			if (busy[slot])
				continue;
			rw10(cdb, wr, (uint32_t)(unit * (BUSY_BYTES / 512)),
			     BUSY_BYTES / 512, wr && next % 8 == 0);
			storvsc_srb(&p, 0, cdb, 10, !wr, BUSY_BYTES);
			if (wr)
				fill(c->sc.mem + slot * BUSY_BYTES, BUSY_BYTES,
				     next);
			rc = storvsc_client_send(&c->sc, &p, 1 + slot,
						 slot * BUSY_BYTES, BUSY_BYTES,
						 NULL);
			if (rc == -EAGAIN)
				break;
			if (rc) {
				err = rc;
				goto out;
			}
			busy[slot] = true;
			outstanding++;
			next++;
		}
		rc = storvsc_client_recv(&c->sc, &p, &id, TIMEOUT_MS);
		if (rc) {
			err = rc;
			goto out;
		}
		if (id < 1 || id > BUSY_QD || !busy[id - 1]) {
			err = -EPROTO;
			goto out;
		}
		busy[id - 1] = false;
		outstanding--;
		if (!good(&p)) {
			err = -EIO;
			goto out;
		}
		if (++done == 200 && !said) {
			printf("busy\n");
			said = true;
		}
	}
out:
	printf("rescinded completed %llu outstanding %u error %s closed %d\n",
	       (unsigned long long)done, outstanding, strerror(-err),
	       vmbus_chan_is_closed(c->sc.ch));
	storvsc_client_close(&c->sc);
	free(c);
	return err == -ENOTCONN ? 0 : 1;
}

/*
 * Writes the VSP acknowledged as durable, journalled for the check after
 * a crash: 4 KiB writes, 8 in flight, each to a block never written
 * before (block = sequence number), every fourth with FUA; after every 32
 * other writes acknowledged, a SYNCHRONIZE CACHE, which makes durable
 * those acknowledged before it was sent.  For each durable write, once
 * known:  "durable SEQ SUM" (SUM: FNV-1a of the block).  When the channel
 * fails (the server killed), the requests in flight and the writes not
 * yet durable are forgotten, the controller opened again once offered and
 * the writes go on: "reopened" then.  Ends after @after durable writes
 * past the last reopen, or @total in all, with "done durable N reopened K".
 */
#define JNL_QD		8
#define JNL_BLOCK	4096u
#define JNL_FLUSH_EVERY	32

static uint64_t block_sum(uint64_t seq, uint8_t *buf)
{
	fill(buf, JNL_BLOCK, seq + 1);
	return fnv(0xcbf29ce484222325ull, buf, JNL_BLOCK);
}

static int run_journal(uint64_t size_mib, unsigned int after,
		       unsigned int total)
{
	struct cli *c = calloc(1, sizeof(*c));
	uint64_t blocks = (size_mib << 20) / JNL_BLOCK, next = 0, id;
	uint64_t slot_seq[JNL_QD], *acked = NULL, *flushing = NULL;
	bool busy[JNL_QD] = { false }, fua[JNL_QD], flush_busy = false;
	unsigned int nacked = 0, nflushing = 0, durable = 0, since = 0;
	unsigned int reopened = 0, slot, i, fails = 0;
	struct vstor_packet p;
	uint8_t cdb[10];
	int rc;

	acked = calloc(blocks, sizeof(*acked));
	flushing = calloc(blocks, sizeof(*flushing));
	if (!c || !acked || !flushing ||
	    storvsc_client_open(&c->sc, POOL_PAGES, RING_PAGES, TIMEOUT_MS) ||
	    storvsc_client_init(&c->sc, NULL, TIMEOUT_MS)) {
		printf("journal: no controller\n");
		return 1;
	}
	while (next < blocks && durable < total &&
	       (!reopened || since < after)) {
		rc = 0;
		for (slot = 0; slot < JNL_QD && next < blocks; slot++) {
			if (busy[slot])
				continue;
			fua[slot] = next % 4 == 0;
			rw10(cdb, true, (uint32_t)(next * (JNL_BLOCK / 512)),
			     JNL_BLOCK / 512, fua[slot]);
			storvsc_srb(&p, 0, cdb, 10, false, JNL_BLOCK);
			fill(c->sc.mem + slot * JNL_BLOCK, JNL_BLOCK, next + 1);
			rc = storvsc_client_send(&c->sc, &p, 1 + slot,
						 slot * JNL_BLOCK, JNL_BLOCK,
						 NULL);
			if (rc)
				break;
			busy[slot] = true;
			slot_seq[slot] = next++;
		}
		if (!rc && !flush_busy && nacked >= JNL_FLUSH_EVERY) {
			/* Durable once answered: what was acknowledged now. */
			memset(cdb, 0, sizeof(cdb));
			cdb[0] = 0x35;
			storvsc_srb(&p, 0, cdb, 10, false, 0);
			rc = storvsc_client_send(&c->sc, &p, 1000, 0, 0, NULL);
			if (!rc) {
				memcpy(flushing, acked, nacked * sizeof(*acked));
				nflushing = nacked;
				nacked = 0;
				flush_busy = true;
			}
		}
		if (!rc || rc == -EAGAIN)
			rc = storvsc_client_recv(&c->sc, &p, &id, TIMEOUT_MS);
		if (rc) {
			/* The server is gone: forget what it did not make durable. */
			printf("lost after %u durable (%s)\n", durable,
			       strerror(-rc));
			rc = storvsc_client_reopen(&c->sc, 30000);
			if (rc) {
				printf("journal: reopen failed (%s)\n",
				       strerror(-rc));
				break;
			}
			memset(busy, 0, sizeof(busy));
			flush_busy = false;
			nacked = nflushing = 0;
			reopened++;
			since = 0;
			printf("reopened\n");
			continue;
		}
		if (id == 1000 && flush_busy) {
			flush_busy = false;
			if (!good(&p)) {
				fails++;
				continue;
			}
			for (i = 0; i < nflushing; i++) {
				printf("durable %llu %016llx\n",
				       (unsigned long long)flushing[i],
				       (unsigned long long)block_sum(flushing[i],
						c->sc.mem + JNL_QD * JNL_BLOCK));
				durable++;
				since++;
			}
			nflushing = 0;
			continue;
		}
		if (id < 1 || id > JNL_QD || !busy[id - 1])
			continue;	/* an answer from before a reopen */
		slot = (unsigned int)id - 1;
		busy[slot] = false;
		if (!good(&p)) {
			fails++;
			continue;
		}
		if (fua[slot]) {
			printf("durable %llu %016llx\n",
			       (unsigned long long)slot_seq[slot],
			       (unsigned long long)block_sum(slot_seq[slot],
					c->sc.mem + JNL_QD * JNL_BLOCK));
			durable++;
			since++;
		} else {
			acked[nacked++] = slot_seq[slot];
		}
	}
	printf("done durable %u reopened %u failed %u\n", durable, reopened,
	       fails);
	storvsc_client_close(&c->sc);
	free(acked);
	free(flushing);
	free(c);
	return reopened && !fails && since >= after ? 0 : 1;
}

/* Every "durable SEQ SUM" line of @journal against the blocks of @path. */
static int verify_journal(const char *path, const char *journal)
{
	uint8_t buf[JNL_BLOCK];
	unsigned long long seq, sum;
	unsigned int ok = 0, bad = 0;
	char line[128];
	FILE *f = fopen(journal, "r");
	int fd = open(path, O_RDONLY);

	if (!f || fd < 0)
		return 1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "durable %llu %llx", &seq, &sum) != 2)
			continue;
		if (pread(fd, buf, JNL_BLOCK, (off_t)(seq * JNL_BLOCK)) !=
		    JNL_BLOCK ||
		    fnv(0xcbf29ce484222325ull, buf, JNL_BLOCK) != sum) {
			if (!bad++)
				printf("block %llu is not what was acknowledged\n",
				       seq);
		} else {
			ok++;
		}
	}
	printf("verified %u bad %u\n", ok, bad);
	fclose(f);
	close(fd);
	return bad || !ok;
}

/* ------------------------------------------------------------------ */
/* Host-side checks of the backing file                                 */
/* ------------------------------------------------------------------ */

static int file_sum(const char *path, uint64_t off, uint64_t len)
{
	uint64_t sum = 0xcbf29ce484222325ull;
	uint8_t buf[65536];
	ssize_t k;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 1;
	while (len) {
		k = pread(fd, buf, len < sizeof(buf) ? len : sizeof(buf),
			  (off_t)off);
		if (k <= 0)
			return 1;
		sum = fnv(sum, buf, (size_t)k);
		off += (uint64_t)k;
		len -= (uint64_t)k;
	}
	printf("%016llx\n", (unsigned long long)sum);
	return 0;
}

static int file_hole(const char *path, uint64_t off, uint64_t len)
{
	int fd = open(path, O_RDONLY);
	off_t d;

	if (fd < 0)
		return 1;
	d = lseek(fd, (off_t)off, SEEK_DATA);
	printf("%s\n", d < 0 || (uint64_t)d >= off + len ? "hole" : "data");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && !strcmp(argv[1], "server"))
		return run_server(argc - 2, argv + 2);
	if (argc == 3 && !strcmp(argv[1], "client"))
		return run_client(strtoull(argv[2], NULL, 10));
	if (argc == 3 && !strcmp(argv[1], "busy"))
		return run_busy(strtoull(argv[2], NULL, 10));
	if (argc == 5 && !strcmp(argv[1], "journal"))
		return run_journal(strtoull(argv[2], NULL, 10),
				   (unsigned int)strtoul(argv[3], NULL, 10),
				   (unsigned int)strtoul(argv[4], NULL, 10));
	if (argc == 4 && !strcmp(argv[1], "verify"))
		return verify_journal(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "sum"))
		return file_sum(argv[2], strtoull(argv[3], NULL, 0),
				strtoull(argv[4], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "hole"))
		return file_hole(argv[2], strtoull(argv[3], NULL, 0),
				 strtoull(argv[4], NULL, 0));
	fprintf(stderr, "usage: %s server DOMID [--max-inflight N] "
		"PATH[,ro][,lun=N]... | client SIZE_MIB | busy SIZE_MIB | journal SIZE_MIB AFTER TOTAL | verify FILE JOURNAL | sum|hole FILE OFF "
		"LEN\n", argv[0]);
	return 2;
}
