// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbusctl: administer guests' VMBus from dom0.
 *
 *   attach DOM          create device/vmbus/0 and backend/vmbus/<domid>/0
 *                       with libxl's permissions (frontend owned by the
 *                       guest, readable by dom0; backend owned by dom0,
 *                       readable by the guest)
 *   detach DOM          remove both
 *   list [--json]       buses and channels with their live state
 *   status [--json]     grant mappings of each guest and of the host
 *                       against vmbusd's budgets
 *   offer DOM --pipe NAME --service PATH [--message-mode]
 *   p2p DOMA DOMB --name NAME [--mode byte|message]
 *                       a pipe between two guests: DOMA grants the rings,
 *                       DOMB maps them; vmbusd only brokers the setup
 *   rescind DOM NAME
 *   connect DOM NAME [--message-mode]
 *                       offer NAME and join this terminal to it
 *   offer DOM --ic KIND offer a Hyper-V integration service
 *   offer DOM --hvsock PATH
 *   offer DOM --nic bridge=BR,mac=MAC[,mtu=N][,ifname=NAME]
 *                       the guest's hv_sock: its ports reach PATH_<port>,
 *                       dom0 reaches its listeners through PATH
 *   offer DOM --disk PATH[,ro][,lun=N]...
 *                       a synthetic SCSI controller with these disks
 *   shutdown DOM [--reboot]
 *                       ask the guest's shutdown service
 *   kvp DOM get|set|delete|list POOL [KEY [VALUE]]
 *                       ask the guest's key/value exchange service
 *
 * It only writes xenstore; vmbusd does the rest.  Requests to integration
 * services are written under the service's offer entry and answered by
 * vmbusd under /local/domain/0/vmbusd/<domid>/ic/<kind> (its ic.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>
#include <yajl/yajl_gen.h>

#include "diskspec.h"
#include "pipename.h"

#define BE_ROOT		"/local/domain/0/backend/vmbus"
#define STATE_ROOT	"/local/domain/0/vmbusd"
#define XB_INITIALISING	"1"
#define DOMID_FIRST_RESERVED	0x7ff0u
#define SERVICE_MAX	107	/* sun_path, its NUL excluded */

static struct xs_handle *xs;
static const char *cmd;		/* the command, for messages */

/*
 * Every message is one line on standard error: the program, the command,
 * then what went wrong with what.
 */
static int say(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int say(int rc, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vmbusctl: %s%s", cmd ? cmd : "", cmd ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return rc;
}

/* A usage error: exit status 2, with a pointer to the usage. */
#define refuse(fmt, ...) say(2, fmt "; see vmbusctl --help", ##__VA_ARGS__)

static int fail(const char *what, const char *obj, int err)
{
	return say(1, "failed to %s \"%s\" (%s)", what, obj, strerror(err));
}

/*
 * DOM, a domain id or name, -> its id (> 0), or -1 after saying why:
 * ids are checked against the range Xen gives guests and against the
 * domains that exist; a name must name exactly one domain, as xl says.
 */
static int domid_of(const char *dom)
{
	unsigned int n = 0, i, found = 0, first = 0;
	char **ents, path[64], *name, *end;
	bool exists;
	unsigned long v;

	if (!*dom) {
		refuse("a domain is named by its id or name, not \"\"");
		return -1;
	}
	if (strspn(dom, "0123456789") == strlen(dom)) {
		errno = 0;
		v = strtoul(dom, &end, 10);
		if (errno || v >= DOMID_FIRST_RESERVED) {
			say(1, "domain id %s is out of range (1 to %u)", dom,
			    DOMID_FIRST_RESERVED - 1);
			return -1;
		}
		first = (unsigned int)v;
		snprintf(path, sizeof(path), "/local/domain/%u", first);
		name = xs_read(xs, XBT_NULL, path, NULL);
		exists = name != NULL;
		free(name);
		if (first && !exists) {
			say(1, "no domain %u", first);
			return -1;
		}
		found = 1;
	} else {
		ents = xs_directory(xs, XBT_NULL, "/local/domain", &n);
		for (i = 0; ents && i < n; i++) {
			snprintf(path, sizeof(path), "/local/domain/%.20s/name",
				 ents[i]);
			name = xs_read(xs, XBT_NULL, path, NULL);
			if (name && strcmp(name, dom) == 0) {
				v = strtoul(ents[i], &end, 10);
				if (!*end && v < DOMID_FIRST_RESERVED &&
				    found++ == 0)
					first = (unsigned int)v;
			}
			free(name);
		}
		free(ents);
	}
	if (found == 0) {
		say(1, "no domain named \"%s\"", dom);
		return -1;
	}
	if (found > 1) {
		say(1, "%u domains are named \"%s\"; name one by its id", found,
		    dom);
		return -1;
	}
	if (first == 0) {
		say(1, "dom0 has no bus of its own");
		return -1;
	}
	return (int)first;
}

/* Whether @domid has a bus (vmbusctl attach made its backend). */
static bool has_bus(int domid)
{
	char path[96], *v;

	snprintf(path, sizeof(path), BE_ROOT "/%d/0/frontend", domid);
	v = xs_read(xs, XBT_NULL, path, NULL);
	free(v);
	return v != NULL;
}

/*
 * Whether vmbusd runs: it publishes its pid in STATE_ROOT/pid while it
 * serves, and a daemon that was killed leaves a pid that has gone.
 */
static bool vmbusd_running(char *why, size_t len)
{
	char *v = xs_read(xs, XBT_NULL, STATE_ROOT "/pid", NULL);
	unsigned long pid;
	char *end;
	bool up;

	if (!v) {
		snprintf(why, len, "no pid in \"%s\"", STATE_ROOT "/pid");
		return false;
	}
	pid = strtoul(v, &end, 10);
	up = *v && !*end && pid > 0 && pid < (1ul << 22) &&
	     (kill((pid_t)pid, 0) == 0 || errno == EPERM);
	if (!up)
		snprintf(why, len, "its pid %.20s has gone", v);
	free(v);
	return up;
}

static bool xw(xs_transaction_t t, const char *dir, const char *key,
	       const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xs_write(xs, t, path, val, (unsigned int)strlen(val));
}

/*
 * End transaction @t whose writes all succeeded (@ok) or not: 0 once
 * committed, -EAGAIN when xenstored asks for it to be run again, 1 after
 * saying what failed (@what on @obj, or the commit).
 */
static int tx_finish(xs_transaction_t t, bool ok, const char *what,
		     const char *obj)
{
	int err = errno;

	if (!ok) {
		xs_transaction_end(xs, t, true);
		return fail(what, obj, err);
	}
	if (xs_transaction_end(xs, t, false))
		return 0;
	if (errno == EAGAIN)
		return -EAGAIN;
	return fail("commit", obj, errno);
}

static int cmd_attach(int domid)
{
	char fe[96], be[96], id[16];
	struct xs_permissions fp[2] = {
		{ .id = (unsigned int)domid, .perms = XS_PERM_NONE },
		{ .id = 0, .perms = XS_PERM_READ },
	}, bp[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = (unsigned int)domid, .perms = XS_PERM_READ },
	}, op[1] = { { .id = 0, .perms = XS_PERM_NONE } };
	char offers[128];
	xs_transaction_t t;
	int rc;

	if (has_bus(domid))
		return say(1, "domain %d already has a bus", domid);
	snprintf(fe, sizeof(fe), "/local/domain/%d/device/vmbus/0", domid);
	snprintf(be, sizeof(be), BE_ROOT "/%d/0", domid);
	snprintf(offers, sizeof(offers), "%s/offers", be);
	snprintf(id, sizeof(id), "%d", domid);
	do {
		t = xs_transaction_start(xs);
		if (!t)
			return fail("start a transaction for", be, errno);
		rc = tx_finish(t, xw(t, fe, "backend", be) &&
			       xw(t, fe, "backend-id", "0") &&
			       xw(t, fe, "state", XB_INITIALISING) &&
			       xw(t, be, "frontend", fe) &&
			       xw(t, be, "frontend-id", id) &&
			       xw(t, be, "state", XB_INITIALISING) &&
			       xs_mkdir(xs, t, offers) &&
			       xs_set_permissions(xs, t, fe, fp, 2) &&
			       xs_set_permissions(xs, t, be, bp, 2) &&
			       xs_set_permissions(xs, t, offers, op, 1),
			       "create", be);
	} while (rc == -EAGAIN);
	if (rc)
		return rc;
	/* Entries written later inherit the directories' permissions. */
	{
		static const char *const fkeys[] = { "backend", "backend-id", "state" };
		static const char *const bkeys[] = { "frontend", "frontend-id", "state" };
		char p[160];
		unsigned int i;

		for (i = 0; i < 3; i++) {
			snprintf(p, sizeof(p), "%s/%s", fe, fkeys[i]);
			xs_set_permissions(xs, XBT_NULL, p, fp, 2);
			snprintf(p, sizeof(p), "%s/%s", be, bkeys[i]);
			xs_set_permissions(xs, XBT_NULL, p, bp, 2);
		}
	}
	printf("attached the bus to domain %d\n", domid);
	return 0;
}

static int cmd_detach(int domid)
{
	char path[96];

	if (!has_bus(domid))
		return say(1, "domain %d has no bus", domid);
	snprintf(path, sizeof(path), "/local/domain/%d/device/vmbus", domid);
	xs_rm(xs, XBT_NULL, path);
	snprintf(path, sizeof(path), BE_ROOT "/%d", domid);
	if (!xs_rm(xs, XBT_NULL, path) && errno != ENOENT)
		return fail("remove", path, errno);
	printf("detached the bus of domain %d\n", domid);
	return 0;
}

/* The key of @domid's offer whose node @field is @value, or NULL (caller
 * frees). */
static char *offer_key_by(int domid, const char *field, const char *value)
{
	char dir[96], path[192], *v, *key = NULL;
	unsigned int n = 0, i;
	char **keys;

	snprintf(dir, sizeof(dir), BE_ROOT "/%d/0/offers", domid);
	keys = xs_directory(xs, XBT_NULL, dir, &n);
	for (i = 0; keys && i < n && !key; i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", dir, keys[i], field);
		v = xs_read(xs, XBT_NULL, path, NULL);
		if (v && strcmp(v, value) == 0)
			key = strdup(keys[i]);
		free(v);
	}
	free(keys);
	return key;
}

/* The offer key whose name is @name, or NULL (caller frees). */
static char *offer_key(int domid, const char *name)
{
	return offer_key_by(domid, "name", name);
}

static int cmd_offer(int domid, const char *name, const char *service,
		     bool message)
{
	char dir[96], odir[128], *k;
	unsigned int i;

	snprintf(dir, sizeof(dir), BE_ROOT "/%d/0", domid);
	if (!has_bus(domid))
		return say(1, "domain %d has no bus; run 'vmbusctl attach %d' "
			   "first", domid, domid);
	k = offer_key(domid, name);
	if (k) {
		free(k);
		return say(1, "domain %d already has a pipe \"%s\"", domid,
			   name);
	}
	for (i = 0;; i++) {
		snprintf(odir, sizeof(odir), "%s/offers/%u", dir, i);
		k = xs_read(xs, XBT_NULL, odir, NULL);
		if (!k && errno == ENOENT)
			break;
		free(k);
	}
	/* service last: the daemon takes an offer once it is there. */
	if (!xw(XBT_NULL, odir, "name", name) ||
	    !xw(XBT_NULL, odir, "mode", message ? "message" : "byte") ||
	    !xw(XBT_NULL, odir, "service", service))
		return fail("write", odir, errno);
	printf("offered pipe \"%s\" to domain %d -> %s (%s mode)\n", name,
	       domid, service, message ? "message" : "byte");
	return 0;
}

/* A free offer directory of @domid's bus, or 1 on error. */
static int offer_dir(int domid, char *odir, size_t len)
{
	char *k;
	unsigned int i;

	if (!has_bus(domid))
		return say(1, "domain %d has no bus; run 'vmbusctl attach %d' "
			   "first", domid, domid);
	for (i = 0;; i++) {
		snprintf(odir, len, BE_ROOT "/%d/0/offers/%u", domid, i);
		k = xs_read(xs, XBT_NULL, odir, NULL);
		if (!k && errno == ENOENT)
			return 0;
		free(k);
	}
}

/*
 * A pipe between guests @a and @b: @a grants the rings, @b maps them.
 * Both entries are written in one transaction, each with "peer" last
 * (the daemon takes an entry once it has a peer).
 */
static int cmd_p2p(int a, int b, const char *name, const char *mode)
{
	char da[128], db[128], ida[16], idb[16], *k;
	xs_transaction_t t;
	int i, rc;

	if (a == b)
		return refuse("a pipe joins two different domains, not "
			      "domain %d to itself", a);
	for (i = 0; i < 2; i++) {
		k = offer_key(i ? b : a, name);
		if (k) {
			free(k);
			return say(1, "domain %d already has a pipe \"%s\"",
				   i ? b : a, name);
		}
	}
	if (offer_dir(a, da, sizeof(da)) || offer_dir(b, db, sizeof(db)))
		return 1;
	snprintf(ida, sizeof(ida), "%d", a);
	snprintf(idb, sizeof(idb), "%d", b);
	do {
		t = xs_transaction_start(xs);
		if (!t)
			return fail("start a transaction for", da, errno);
		rc = tx_finish(t, xw(t, da, "name", name) &&
			       xw(t, da, "mode", mode) &&
			       xw(t, da, "role", "opener") &&
			       xw(t, da, "peer", idb) &&
			       xw(t, db, "name", name) &&
			       xw(t, db, "mode", mode) &&
			       xw(t, db, "role", "acceptor") &&
			       xw(t, db, "peer", ida), "write", da);
	} while (rc == -EAGAIN);
	if (rc)
		return rc;
	printf("offered pipe \"%s\" between domain %d (grants the rings) and "
	       "domain %d (%s mode)\n", name, a, b, mode);
	return 0;
}

static int cmd_rescind(int domid, const char *name)
{
	char path[160], *k = offer_key(domid, name), *peer, *kind;
	const char *noun = "pipe";
	unsigned long pd;

	if (!k)
		return say(1, "domain %d has no pipe \"%s\"", domid, name);
	snprintf(path, sizeof(path), BE_ROOT "/%d/0/offers/%s/kind", domid, k);
	kind = xs_read(xs, XBT_NULL, path, NULL);
	if (kind && strcmp(kind, "scsi") == 0)
		noun = "SCSI controller";
	free(kind);
	snprintf(path, sizeof(path), BE_ROOT "/%d/0/offers/%s/peer", domid, k);
	peer = xs_read(xs, XBT_NULL, path, NULL);
	snprintf(path, sizeof(path), BE_ROOT "/%d/0/offers/%s", domid, k);
	free(k);
	if (!xs_rm(xs, XBT_NULL, path)) {
		free(peer);
		return fail("remove", path, errno);
	}
	printf("rescinded %s \"%s\" of domain %d\n", noun, name, domid);
	/* A pipe between guests goes at both ends. */
	if (peer && (pd = strtoul(peer, NULL, 10)) > 0 && pd < 0x7ff0) {
		k = offer_key((int)pd, name);
		if (k) {
			snprintf(path, sizeof(path), BE_ROOT "/%lu/0/offers/%s",
				 pd, k);
			free(k);
			if (!xs_rm(xs, XBT_NULL, path) && errno != ENOENT) {
				free(peer);
				return fail("remove", path, errno);
			}
			printf("rescinded pipe \"%s\" of domain %lu\n", name,
			       pd);
		}
	}
	free(peer);
	return 0;
}

/*
 * "key=value key=value" -> value of @key (static buffer) or "".  vmbusd
 * writes the names and paths in these lines with %XX for the bytes that
 * would end a value (space, '=', '%', control characters); they are
 * decoded here.
 */
static const char *kv(const char *s, const char *key)
{
	static char out[512];
	size_t kl = strlen(key), n, i, o;
	const char *p = s, *v;
	unsigned int x;

	out[0] = '\0';
	while (p && *p) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			v = p + kl + 1;
			n = strcspn(v, " ");
			for (i = o = 0; i < n && o < sizeof(out) - 1; i++) {
				if (v[i] == '%' && i + 2 < n &&
				    isxdigit((unsigned char)v[i + 1]) &&
				    isxdigit((unsigned char)v[i + 2]) &&
				    sscanf(v + i + 1, "%2x", &x) == 1) {
					out[o++] = (char)x;
					i += 2;
				} else {
					out[o++] = v[i];
				}
			}
			out[o] = '\0';
			return out;
		}
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return out;
}

/*
 * JSON is written by libyajl: strings escaped as JSON wants them (quotes,
 * backslashes, control characters), numbers only when they are numbers.
 */
static yajl_gen json_open(void)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (g)
		yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	return g;
}

static void json_str(yajl_gen g, const char *s)
{
	char buf[2048];
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, n, k;

	if (yajl_gen_string(g, p, strlen(s)) != yajl_gen_invalid_string)
		return;
	/* Not UTF-8: each byte that does not start a sequence is U+FFFD. */
	while (*p && o + 4 < sizeof(buf)) {
		n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 :
		    (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
		for (k = 1; n && k < n; k++)
			if ((p[k] & 0xc0) != 0x80)
				n = 0;
		if (!n) {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
			continue;
		}
		memcpy(buf + o, p, n);
		o += n;
		p += n;
	}
	if (yajl_gen_string(g, (const unsigned char *)buf, o) !=
	    yajl_gen_status_ok)
		yajl_gen_string(g, (const unsigned char *)"", 0);
}

/* A counter as published: a number, or 0 when it is not one. */
static void json_num(yajl_gen g, const char *s)
{
	size_t n = strspn(s, "0123456789");

	if (n && n == strlen(s) && n < 21)
		yajl_gen_number(g, s, n);
	else
		yajl_gen_integer(g, 0);
}

static void json_kv(yajl_gen g, const char *key, const char *num)
{
	json_str(g, key);
	json_num(g, num);
}

/* Print what @g holds, one line; 1 if it could not be built. */
static int json_close(yajl_gen g)
{
	const unsigned char *buf;
	size_t len;
	int rc = 0;

	if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) {
		rc = say(1, "failed to build the JSON output");
	} else {
		fwrite(buf, 1, len, stdout);
		putchar('\n');
	}
	yajl_gen_free(g);
	return rc;
}

static const char *const num_keys[] = {
	"tx_write", "tx_read", "tx_used", "tx_size", "rx_write", "rx_read",
	"rx_used", "rx_size", "tx_packets", "rx_packets", "tx_bytes",
	"rx_bytes", "tx_signals", "rx_signals", "tx_full", "errors",
};

static const char *const ic_num_keys[] = {
	"responses", "heartbeat_seq", "heartbeats", "time_samples",
};

/* A SCSI controller's (vmbusd's storage.c). */
static const char *const scsi_num_keys[] = {
	"luns", "subs", "ready", "requests", "inflight", "inflight_peak",
	"pages_mapped", "pages_peak", "check_conditions", "refused",
	"bad_packets", "flushes", "fua_writes", "unmaps",
};

static const char *const map_keys[] = { "mapped", "limit", "gpadls",
					 "refused" };

/* "maps":{...} of domain @dom as vmbusd published it, if it did. */
static void json_maps(yajl_gen g, const char *dom)
{
	char path[96], *v;
	unsigned int m;

	snprintf(path, sizeof(path), STATE_ROOT "/%s/maps", dom);
	v = xs_read(xs, XBT_NULL, path, NULL);
	if (!v)
		return;
	json_str(g, "maps");
	yajl_gen_map_open(g);
	for (m = 0; m < sizeof(map_keys) / sizeof(map_keys[0]); m++)
		json_kv(g, map_keys[m], kv(v, map_keys[m]));
	yajl_gen_map_close(g);
	free(v);
}

/* Channels are published by relid; other entries are about the bus. */
static bool is_relid(const char *s)
{
	return s[0] >= '0' && s[0] <= '9' && strspn(s, "0123456789") == strlen(s);
}

/* Grant mappings against vmbusd's budgets: the host, then each guest. */
static int cmd_status(bool json)
{
	unsigned int nd = 0, i;
	char **doms, path[96], *host, *v, hm[32], hl[32];
	yajl_gen g = NULL;

	if (!vmbusd_running(path, sizeof(path)))
		return say(1, "vmbusd is not running (%s)", path);
	host = xs_read(xs, XBT_NULL, STATE_ROOT "/maps", NULL);
	if (!host)
		return say(1, "vmbusd publishes no grant mappings in \"%s\"",
			   STATE_ROOT "/maps");
	/* kv() returns one static buffer. */
	snprintf(hm, sizeof(hm), "%s", kv(host, "mapped")[0] ?
		 kv(host, "mapped") : "0");
	snprintf(hl, sizeof(hl), "%s", kv(host, "limit")[0] ?
		 kv(host, "limit") : "0");
	doms = xs_directory(xs, XBT_NULL, STATE_ROOT, &nd);
	if (json) {
		g = json_open();
		if (!g) {
			free(doms);
			free(host);
			return say(1, "failed to start the JSON output (%s)",
				   strerror(ENOMEM));
		}
		yajl_gen_map_open(g);
		json_str(g, "host");
		yajl_gen_map_open(g);
		json_kv(g, "mapped", hm);
		json_kv(g, "limit", hl);
		yajl_gen_map_close(g);
		json_str(g, "domains");
		yajl_gen_array_open(g);
	} else {
		printf("host: %s of %s grant pages mapped\n", hm, hl);
		printf("%-6s %-10s %-10s %-7s %s\n", "DOMID", "MAPPED",
		       "LIMIT", "GPADLS", "REFUSED");
	}
	for (i = 0; doms && i < nd; i++) {
		char val[4][32];
		unsigned int m;

		if (!is_relid(doms[i]))
			continue;
		snprintf(path, sizeof(path), STATE_ROOT "/%s/maps", doms[i]);
		v = xs_read(xs, XBT_NULL, path, NULL);
		if (!v)
			continue;
		for (m = 0; m < 4; m++)
			snprintf(val[m], sizeof(val[m]), "%s",
				 kv(v, map_keys[m])[0] ? kv(v, map_keys[m]) :
				 "0");
		if (json) {
			yajl_gen_map_open(g);
			json_kv(g, "domid", doms[i]);
			for (m = 0; m < 4; m++)
				json_kv(g, map_keys[m], val[m]);
			yajl_gen_map_close(g);
		} else {
			printf("%-6s %-10s %-10s %-7s %s\n", doms[i], val[0],
			       val[1], val[2], val[3]);
		}
		free(v);
	}
	free(doms);
	free(host);
	if (json) {
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
		return json_close(g);
	}
	return 0;
}

static const char *const work_keys[] = {
	"wakeups", "xs_steps", "ctl_messages", "ctl_dropped",
	"budget_yields", "throttles", "ctl_queued", "ctl_queue_peak",
};

/* One channel of a bus, as vmbusd published it in @v. */
static void json_channel(yajl_gen g, const char *relid, const char *v)
{
	unsigned int m;

	yajl_gen_map_open(g);
	json_kv(g, "relid", relid);
	json_str(g, "name");
	json_str(g, kv(v, "name"));
	json_str(g, "mode");
	json_str(g, kv(v, "mode"));
	json_str(g, "service");
	json_str(g, kv(v, "service"));
	if (kv(v, "peer")[0]) {
		json_kv(g, "peer", kv(v, "peer"));
		json_str(g, "role");
		json_str(g, kv(v, "role"));
	}
	json_str(g, "state");
	json_str(g, kv(v, "state"));
	for (m = 0; m < sizeof(num_keys) / sizeof(num_keys[0]); m++)
		json_kv(g, num_keys[m], kv(v, num_keys[m]));
	/* An integration service: its negotiation and its counters. */
	if (kv(v, "ic")[0]) {
		json_str(g, "ic");
		json_str(g, kv(v, "ic"));
		json_str(g, "framework");
		json_str(g, kv(v, "framework"));
		json_str(g, "version");
		json_str(g, kv(v, "version"));
		for (m = 0; m < sizeof(ic_num_keys) / sizeof(ic_num_keys[0]); m++)
			if (kv(v, ic_num_keys[m])[0])
				json_kv(g, ic_num_keys[m], kv(v, ic_num_keys[m]));
	}
	/* A SCSI controller: the protocol agreed and the VSP's counters. */
	if (kv(v, "luns")[0]) {
		if (kv(v, "vstor")[0]) {
			json_str(g, "vstor");
			json_str(g, kv(v, "vstor"));
		}
		for (m = 0; m < sizeof(scsi_num_keys) / sizeof(scsi_num_keys[0]); m++)
			if (kv(v, scsi_num_keys[m])[0])
				json_kv(g, scsi_num_keys[m], kv(v, scsi_num_keys[m]));
	}
	yajl_gen_map_close(g);
}

/* A channel's line of the table. */
static void print_channel(const char *dom, const char *bs, const char *fs,
			  const char *relid, const char *v)
{
	char tx[40], rx[40], sig[32], tp[24], rp[24], name[17], mode[9], st[8];

	snprintf(name, sizeof(name), "%s", kv(v, "name"));
	snprintf(mode, sizeof(mode), "%s", kv(v, "mode"));
	snprintf(st, sizeof(st), "%s", kv(v, "state"));
	snprintf(tx, sizeof(tx), "%s/", kv(v, "tx_write"));
	snprintf(tx + strlen(tx), sizeof(tx) - strlen(tx), "%s ", kv(v, "tx_read"));
	snprintf(tx + strlen(tx), sizeof(tx) - strlen(tx), "%s/", kv(v, "tx_used"));
	snprintf(tx + strlen(tx), sizeof(tx) - strlen(tx), "%s", kv(v, "tx_size"));
	snprintf(rx, sizeof(rx), "%s/", kv(v, "rx_write"));
	snprintf(rx + strlen(rx), sizeof(rx) - strlen(rx), "%s ", kv(v, "rx_read"));
	snprintf(rx + strlen(rx), sizeof(rx) - strlen(rx), "%s/", kv(v, "rx_used"));
	snprintf(rx + strlen(rx), sizeof(rx) - strlen(rx), "%s", kv(v, "rx_size"));
	snprintf(tp, sizeof(tp), "%s", kv(v, "tx_packets"));
	snprintf(rp, sizeof(rp), "%s", kv(v, "rx_packets"));
	snprintf(sig, sizeof(sig), "%s/", kv(v, "tx_signals"));
	snprintf(sig + strlen(sig), sizeof(sig) - strlen(sig), "%s", kv(v, "rx_signals"));
	printf("%-6s %-12s %-12s %-6s %-16s %-8s %-7s %-22s %-22s %-10s %-10s %-9s %s\n",
	       dom, bs, fs, relid, name, mode, st,
	       st[0] == 'o' && st[1] == 'p' ? tx : "-",
	       st[0] == 'o' && st[1] == 'p' ? rx : "-",
	       tp[0] ? tp : "-", rp[0] ? rp : "-",
	       st[0] == 'o' && st[1] == 'p' ? sig : "-",
	       kv(v, "errors")[0] ? kv(v, "errors") : "0");
	/* An integration service: a second line with what it negotiated. */
	if (kv(v, "ic")[0]) {
		printf("%-6s %-12s %-12s %-6s   integration service %s",
		       "", "", "", "", kv(v, "ic"));
		printf(", framework %s", kv(v, "framework"));
		printf(", version %s", kv(v, "version"));
		if (kv(v, "heartbeat_seq")[0])
			printf(", heartbeat sequence %s",
			       kv(v, "heartbeat_seq"));
		if (kv(v, "time_samples")[0])
			printf(", %s time samples", kv(v, "time_samples"));
		printf("\n");
	}
	/* A SCSI controller: a second line with its disks and requests. */
	if (kv(v, "luns")[0]) {
		printf("%-6s %-12s %-12s %-6s   SCSI controller, %s disk(s)",
		       "", "", "", "", kv(v, "luns"));
		/* kv's buffer is static: one value per printf. */
		if (kv(v, "vstor")[0]) {
			printf(", VSTOR %s", kv(v, "vstor"));
			printf(", %s requests", kv(v, "requests"));
			printf(", %s in flight", kv(v, "inflight"));
			printf(", %s grant pages mapped", kv(v, "pages_mapped"));
			printf(", %s check conditions",
			       kv(v, "check_conditions"));
			printf(", %s refused", kv(v, "refused"));
		}
		printf("\n");
	}
}

static int cmd_list(bool json)
{
	static const char *const xb[] = { "Unknown", "Initialising", "InitWait",
		"Initialised", "Connected", "Closing", "Closed" };
	unsigned int nd = 0, nc, i, j, k, m;
	char **doms, **chans, path[128], *v, *fe;
	yajl_gen g = NULL;

	if (json) {
		g = json_open();
		if (!g)
			return say(1, "failed to start the JSON output (%s)",
				   strerror(ENOMEM));
		yajl_gen_map_open(g);
		json_str(g, "domains");
		yajl_gen_array_open(g);
	} else {
		printf("%-6s %-12s %-12s %-6s %-16s %-8s %-7s %-22s %-22s %-10s %-10s %-9s %s\n",
		       "DOMID", "BACKEND", "FRONTEND", "RELID", "NAME", "MODE",
		       "STATE", "TX w/r used/size", "RX w/r used/size",
		       "TX pkts", "RX pkts", "signals", "errors");
	}
	doms = xs_directory(xs, XBT_NULL, BE_ROOT, &nd);
	for (i = 0; doms && i < nd; i++) {
		int bs, fs = 0;

		if (!is_relid(doms[i]))
			continue;
		snprintf(path, sizeof(path), BE_ROOT "/%s/0/state", doms[i]);
		v = xs_read(xs, XBT_NULL, path, NULL);
		bs = v ? atoi(v) : 0;
		free(v);
		snprintf(path, sizeof(path), BE_ROOT "/%s/0/frontend", doms[i]);
		fe = xs_read(xs, XBT_NULL, path, NULL);
		if (fe) {
			snprintf(path, sizeof(path), "%.100s/state", fe);
			v = xs_read(xs, XBT_NULL, path, NULL);
			fs = v ? atoi(v) : 0;
			free(v);
			free(fe);
		}
		if (bs < 0 || bs > 6) bs = 0;
		if (fs < 0 || fs > 6) fs = 0;
		if (json) {
			yajl_gen_map_open(g);
			json_kv(g, "domid", doms[i]);
			json_str(g, "backend");
			json_str(g, xb[bs]);
			json_str(g, "frontend");
			json_str(g, xb[fs]);
			json_maps(g, doms[i]);
			json_str(g, "channels");
			yajl_gen_array_open(g);
		}
		snprintf(path, sizeof(path), STATE_ROOT "/%s", doms[i]);
		nc = 0;
		chans = xs_directory(xs, XBT_NULL, path, &nc);
		k = 0;
		for (j = 0; chans && j < nc; j++) {
			char cp[160];

			if (!is_relid(chans[j]))
				continue;
			snprintf(cp, sizeof(cp), "%s/%s", path, chans[j]);
			v = xs_read(xs, XBT_NULL, cp, NULL);
			if (!v)
				continue;
			if (json)
				json_channel(g, chans[j], v);
			else
				print_channel(doms[i], xb[bs], xb[fs], chans[j], v);
			k++;
			free(v);
		}
		free(chans);
		if (!json) {
			if (k == 0)
				printf("%-6s %-12s %-12s (no channels)\n",
				       doms[i], xb[bs], xb[fs]);
			continue;
		}
		yajl_gen_array_close(g);
		/* What serving the bus cost vmbusd (vmbusd(8)). */
		json_str(g, "work");
		yajl_gen_map_open(g);
		snprintf(path, sizeof(path), STATE_ROOT "/%s/work", doms[i]);
		v = xs_read(xs, XBT_NULL, path, NULL);
		for (m = 0; m < sizeof(work_keys) / sizeof(work_keys[0]); m++)
			json_kv(g, work_keys[m], v ? kv(v, work_keys[m]) : "0");
		free(v);
		yajl_gen_map_close(g);
		yajl_gen_map_close(g);
	}
	free(doms);
	if (json) {
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
		return json_close(g);
	}
	return 0;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

/* Offer NAME with a socket of our own and join stdin/stdout to it. */
static int cmd_connect(int domid, const char *name, bool message,
		       unsigned int wait_s)
{
	struct timespec t0, t;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[65536];
	int ls = -1, cs = -1, rc = 1;
	bool in_open = true, out_open = true;
	struct pollfd p[2];
	ssize_t n;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/vmbusctl-%d-%d.sock",
		 domid, (int)getpid());
	unlink(sa.sun_path);
	ls = socket(AF_UNIX, message ? SOCK_SEQPACKET : SOCK_STREAM, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(ls, 1) < 0)
		return fail("listen on", sa.sun_path, errno);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (cmd_offer(domid, name, sa.sun_path, message))
		goto out;
	fprintf(stderr, "vmbusctl: connect: waiting for domain %d to open "
		"\"%s\"\n", domid, name);
	/* --wait bounds the whole wait, however often poll() returns. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	p[0] = (struct pollfd){ .fd = ls, .events = POLLIN };
	while (!stop && poll(p, 1, 500) == 0) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (wait_s && t.tv_sec - t0.tv_sec >= (time_t)wait_s) {
			say(1, "domain %d did not open \"%s\" within %u s",
			    domid, name, wait_s);
			goto rescind;
		}
	}
	if (stop)
		goto rescind;
	cs = accept(ls, NULL, NULL);
	if (cs < 0) {
		fail("accept on", sa.sun_path, errno);
		goto rescind;
	}
	fprintf(stderr, "vmbusctl: connect: connected\n");
	/*
	 * Once the guest has ended its stream, what is still coming on
	 * standard input is passed on until it stays quiet for 500 ms.
	 */
	while (!stop && (out_open || in_open)) {
		p[0] = (struct pollfd){ .fd = in_open ? 0 : -1, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = out_open ? cs : -1, .events = POLLIN };
		n = poll(p, 2, 500);
		if (n < 0 || (n == 0 && !out_open))
			break;
		if (p[0].revents) {
			n = read(0, buf, sizeof(buf));
			if (n <= 0) {
				in_open = false;
				shutdown(cs, SHUT_WR);
			} else if (write(cs, buf, (size_t)n) != n) {
				break;
			}
		}
		if (p[1].revents) {
			n = read(cs, buf, sizeof(buf));
			if (n <= 0)
				out_open = false;
			else if (write(1, buf, (size_t)n) != n)
				break;
		}
	}
	rc = 0;
rescind:
	cmd_rescind(domid, name);
out:
	if (cs >= 0)
		close(cs);
	close(ls);
	unlink(sa.sun_path);
	return rc;
}

/* --- integration services --- */

static const char *const ic_kinds[] = { "heartbeat", "shutdown", "timesync",
					"kvp" };

static bool ic_kind_known(const char *kind)
{
	unsigned int i;

	for (i = 0; i < sizeof(ic_kinds) / sizeof(ic_kinds[0]); i++)
		if (strcmp(kind, ic_kinds[i]) == 0)
			return true;
	return false;
}

/* The offer key of @domid's integration service @kind, or NULL. */
static char *ic_key(int domid, const char *kind)
{
	return offer_key_by(domid, "kind", kind);
}

static int offer_dir(int domid, char *odir, size_t len);

static int cmd_offer_ic(int domid, const char *kind)
{
	char odir[128], *k;
	int rc;

	k = ic_key(domid, kind);
	if (k) {
		free(k);
		return say(1, "domain %d already has the %s integration "
			   "service", domid, kind);
	}
	k = offer_key(domid, kind);
	if (k) {
		free(k);
		return say(1, "domain %d already has a pipe \"%s\"", domid,
			   kind);
	}
	rc = offer_dir(domid, odir, sizeof(odir));
	if (rc)
		return rc;
	/* kind last: the daemon takes the entry once it is there. */
	if (!xw(XBT_NULL, odir, "name", kind) ||
	    !xw(XBT_NULL, odir, "kind", kind))
		return fail("write", odir, errno);
	printf("offered the %s integration service to domain %d\n", kind,
	       domid);
	return 0;
}

/*
 * Ask @domid's integration service @kind: write @n pairs of @kv under its
 * entry's request/, the id last, then wait up to @wait_s (0: 10) seconds
 * for vmbusd's reply; 0 with the reply's directory in @reply, or 1.
 */
static int ic_ask(int domid, const char *kind, const char *const *kvs,
		  unsigned int n, unsigned int wait_s, char *reply,
		  size_t rlen)
{
	char rdir[160], path[224], id[48], why[96], *k, *v;
	struct timespec t0, t;
	unsigned int i;
	int rc = 1;

	if (!has_bus(domid))
		return say(1, "domain %d has no bus", domid);
	k = ic_key(domid, kind);
	if (!k)
		return say(1, "domain %d has no %s integration service; offer "
			   "it with 'vmbusctl offer %d --ic %s'", domid, kind,
			   domid, kind);
	if (!vmbusd_running(why, sizeof(why))) {
		free(k);
		return say(1, "vmbusd is not running (%s)", why);
	}
	snprintf(rdir, sizeof(rdir), BE_ROOT "/%d/0/offers/%s/request", domid,
		 k);
	free(k);
	xs_rm(xs, XBT_NULL, rdir);
	for (i = 0; i < n; i++)
		if (!xw(XBT_NULL, rdir, kvs[2 * i], kvs[2 * i + 1]))
			return fail("write", rdir, errno);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	snprintf(id, sizeof(id), "%d.%ld.%ld", (int)getpid(),
		 (long)t0.tv_sec, t0.tv_nsec);
	if (!xw(XBT_NULL, rdir, "id", id))
		return fail("write", rdir, errno);
	snprintf(reply, rlen, STATE_ROOT "/%d/ic/%s", domid, kind);
	snprintf(path, sizeof(path), "%s/id", reply);
	if (!wait_s)
		wait_s = 10;
	for (;;) {
		v = xs_read(xs, XBT_NULL, path, NULL);
		if (v && strcmp(v, id) == 0) {
			free(v);
			rc = 0;
			break;
		}
		free(v);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= (time_t)wait_s) {
			say(1, "domain %d's %s integration service did not "
			    "answer within %u s", domid, kind, wait_s);
			break;
		}
		usleep(20000);
	}
	xs_rm(xs, XBT_NULL, rdir);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/result", reply);
	v = xs_read(xs, XBT_NULL, path, NULL);
	if (!v || strcmp(v, "ok") != 0) {
		rc = say(1, "domain %d's %s integration service: %s", domid,
			 kind, v ? (strncmp(v, "error ", 6) == 0 ? v + 6 : v) :
			 "no result");
	}
	free(v);
	return rc;
}

static int cmd_offer_hvsock(int domid, const char *uds)
{
	char odir[128], *k;
	int rc;

	k = ic_key(domid, "hvsock");
	if (k) {
		free(k);
		return say(1, "domain %d already has hvsock", domid);
	}
	rc = offer_dir(domid, odir, sizeof(odir));
	if (rc)
		return rc;
	/* kind last: the daemon takes the entry once it is there. */
	if (!xw(XBT_NULL, odir, "name", "hvsock") ||
	    !xw(XBT_NULL, odir, "uds", uds) ||
	    !xw(XBT_NULL, odir, "kind", "hvsock"))
		return fail("write", odir, errno);
	printf("domain %d's hv_sock: its ports reach %s_PORT, dom0 reaches it "
	       "through %s\n", domid, uds, uds);
	return 0;
}

/*
 * A network adapter: "bridge=BR,mac=MAC[,mtu=N][,ifname=NAME]", each
 * value checked here as the daemon will (a unicast MAC, an MTU of 68-9000,
 * interface names of at most 15 bytes).
 */
static int cmd_offer_nic(int domid, const char *spec)
{
	char buf[256], odir[128], *save = NULL, *kv, *v;
	const char *keys[4] = { "bridge", "mac", "mtu", "ifname" };
	const char *vals[4] = { NULL, NULL, NULL, NULL };
	unsigned int b[6], i;
	unsigned long mtu;
	char end;
	int rc;

	if (strlen(spec) >= sizeof(buf))
		return refuse("--nic takes bridge=BR,mac=MAC[,mtu=N]"
			      "[,ifname=NAME], not %zu bytes", strlen(spec));
	snprintf(buf, sizeof(buf), "%s", spec);
	for (kv = strtok_r(buf, ",", &save); kv;
	     kv = strtok_r(NULL, ",", &save)) {
		v = strchr(kv, '=');
		if (v)
			*v++ = '\0';
		for (i = 0; i < 4 && (!v || strcmp(kv, keys[i])); i++)
			;
		if (i == 4)
			return refuse("--nic takes bridge=, mac=, mtu= and "
				      "ifname=, not \"%s\"", kv);
		vals[i] = v;
	}
	if (!vals[1] || sscanf(vals[1], "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0],
			       &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6 ||
	    (b[0] & 1))
		return refuse("--nic needs mac= a unicast MAC address "
			      "(xx:xx:xx:xx:xx:xx), not \"%s\"",
			      vals[1] ? vals[1] : "");
	if (vals[2]) {
		errno = 0;
		mtu = strtoul(vals[2], &v, 10);
		if (!vals[2][0] || *v || errno || mtu < 68 || mtu > 9000)
			return refuse("mtu= takes 68 to 9000, not \"%s\"",
				      vals[2]);
	}
	for (i = 0; i < 4; i += 3)
		if (vals[i] && (!vals[i][0] || strlen(vals[i]) > 15))
			return refuse("%s= takes an interface name of 1 to 15 "
				      "bytes, not \"%s\"", keys[i], vals[i]);
	rc = offer_dir(domid, odir, sizeof(odir));
	if (rc)
		return rc;
	for (i = 0; i < 4; i++)
		if (vals[i] && !xw(XBT_NULL, odir, keys[i], vals[i]))
			return fail("write", odir, errno);
	/* kind last: the daemon takes the entry once it is there. */
	if (!xw(XBT_NULL, odir, "name", "nic") ||
	    !xw(XBT_NULL, odir, "kind", "nic"))
		return fail("write", odir, errno);
	printf("domain %d: network adapter %s offered (%s)\n", domid, vals[1],
	       vals[0] ? vals[0] : "no bridge");
	return 0;
}

/*
 * A SCSI controller with the @n disks of @specs (checked): the entry
 * named scsiN, the first N free, one disk/<i> per disk, kind last.
 */
static int cmd_offer_disks(int domid, const struct disk_spec *d,
			   unsigned int n)
{
	char odir[128], ddir[160], name[16], idx[16];
	char spec[DISK_SPEC_PATH_MAX + 16], *k;
	unsigned int i;
	int rc;

	for (i = 0;; i++) {
		snprintf(name, sizeof(name), "scsi%u", i);
		k = offer_key(domid, name);
		if (!k)
			break;
		free(k);
	}
	rc = offer_dir(domid, odir, sizeof(odir));
	if (rc)
		return rc;
	snprintf(ddir, sizeof(ddir), "%s/disk", odir);
	if (!xw(XBT_NULL, odir, "name", name))
		return fail("write", odir, errno);
	for (i = 0; i < n; i++) {
		snprintf(idx, sizeof(idx), "%u", i);
		disk_spec_format(&d[i], spec, sizeof(spec));
		if (!xw(XBT_NULL, ddir, idx, spec))
			return fail("write", ddir, errno);
	}
	/* kind last: the daemon takes the entry once it is there. */
	if (!xw(XBT_NULL, odir, "kind", "scsi"))
		return fail("write", odir, errno);
	printf("offered SCSI controller \"%s\" to domain %d:", name, domid);
	for (i = 0; i < n; i++)
		printf("%s LUN %u %s%s", i ? "," : "", d[i].lun, d[i].path,
		       d[i].ro ? " (read-only)" : "");
	printf("\n");
	return 0;
}

static int cmd_shutdown(int domid, bool reboot, unsigned int wait_s)
{
	const char *kvs[] = { "op", reboot ? "reboot" : "shutdown" };
	char reply[128];
	int rc;

	rc = ic_ask(domid, "shutdown", kvs, 1, wait_s, reply, sizeof(reply));
	if (!rc)
		printf("domain %d accepted to %s\n", domid,
		       reboot ? "restart" : "power off");
	return rc;
}

/* Entry @i of the reply at @reply: "KEY" and "VALUE" printed. */
static void kvp_print(const char *reply, unsigned int i, bool key)
{
	char path[192], *k, *v;

	snprintf(path, sizeof(path), "%s/%u/key", reply, i);
	k = xs_read(xs, XBT_NULL, path, NULL);
	snprintf(path, sizeof(path), "%s/%u/value", reply, i);
	v = xs_read(xs, XBT_NULL, path, NULL);
	if (key)
		printf("%s=%s\n", k ? k : "", v ? v : "");
	else
		printf("%s\n", v ? v : "");
	free(k);
	free(v);
}

/* The arguments of kvp (OP POOL [KEY [VALUE]]), checked: 0 or 2. */
static int kvp_check(int argc, char **argv)
{
	const char *op = argv[0];
	unsigned long pool;
	char *end;
	int need;

	need = strcmp(op, "list") == 0 ? 2 : strcmp(op, "get") == 0 ||
	       strcmp(op, "delete") == 0 ? 3 : strcmp(op, "set") == 0 ? 4 : 0;
	if (!need)
		return refuse("kvp takes get, set, delete or list, not \"%s\"",
			      op);
	if (argc != need)
		return refuse("kvp %s takes %s", op, need == 2 ? "POOL" :
			      need == 3 ? "POOL KEY" : "POOL KEY VALUE");
	errno = 0;
	pool = strtoul(argv[1], &end, 10);
	if (!argv[1][0] || *end || errno || pool > 4)
		return refuse("a pool is 0 to 4, not \"%s\"", argv[1]);
	if (need >= 3 && (!argv[2][0] || strlen(argv[2]) > 254))
		return refuse("a key is 1 to 254 bytes, not %zu",
			      strlen(argv[2]));
	if (need == 4 && strlen(argv[3]) > 1022)
		return refuse("a value is at most 1022 bytes, not %zu",
			      strlen(argv[3]));
	return 0;
}

static int cmd_kvp(int domid, int argc, char **argv, unsigned int wait_s)
{
	const char *op = argv[0], *kvs[8];
	char reply[128], path[192], *v;
	unsigned int n = 0, i, count;
	int need, rc;

	rc = kvp_check(argc, argv);
	if (rc)
		return rc;
	need = argc;
	kvs[n * 2] = "op";
	kvs[n++ * 2 + 1] = op;
	kvs[n * 2] = "pool";
	kvs[n++ * 2 + 1] = argv[1];
	if (need >= 3) {
		kvs[n * 2] = "key";
		kvs[n++ * 2 + 1] = argv[2];
	}
	if (need == 4) {
		kvs[n * 2] = "value";
		kvs[n++ * 2 + 1] = argv[3];
	}
	rc = ic_ask(domid, "kvp", kvs, n, wait_s, reply, sizeof(reply));
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/count", reply);
	v = xs_read(xs, XBT_NULL, path, NULL);
	count = v ? (unsigned int)strtoul(v, NULL, 10) : 0;
	free(v);
	for (i = 0; i < count && i < 1024; i++)
		kvp_print(reply, i, need == 2);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: vmbusctl COMMAND [ARGS]\n"
"Administer the VMBus of Xen guests (served by vmbusd).\n\n"
"  attach DOM                       give domain DOM (id or name) a bus\n"
"  detach DOM                       remove it\n"
"  list [--json]                    buses and channels: state, ring indexes\n"
"                                   and fill, packets, signals, errors\n"
"  status [--json]                  grant pages vmbusd maps for each guest\n"
"                                   and in all, against its budgets\n"
"  offer DOM --pipe NAME --service PATH [--message-mode]\n"
"                                   offer a pipe joined to a unix socket\n"
"  p2p DOMA DOMB --name NAME [--mode byte|message]\n"
"                                   a pipe between two guests: DOMA grants\n"
"                                   the rings, DOMB maps them\n"
"  rescind DOM NAME                 take a pipe away (closing it if open;\n"
"                                   a pipe between guests at both ends)\n"
"  connect DOM NAME [--message-mode] [--wait S]\n"
"                                   offer NAME and join this terminal to it\n"
"                                   (waiting up to S seconds for the guest)\n"
"  offer DOM --ic KIND              offer a Hyper-V integration service:\n"
"                                   heartbeat, shutdown, timesync or kvp\n"
"  offer DOM --hvsock PATH          serve the guest's hv_sock: its connects\n"
"                                   to port P reach unix socket PATH_P,\n"
"                                   dom0 connects to PATH: \"CONNECT P\\n\"\n"
"  offer DOM --nic bridge=BR,mac=MAC[,mtu=N][,ifname=NAME]\n"
"                                   offer a network adapter for the guest's\n"
"                                   hv_netvsc: a tap (NAME, or vmbDOM.KEY)\n"
"                                   in bridge BR, MTU 68-9000 (1500)\n"
"  offer DOM --disk PATH[,ro][,lun=N] [--disk ...]\n"
"                                   a SCSI controller (scsi0, scsi1, ...)\n"
"                                   with these files or block devices as\n"
"                                   disks, LUN 0-63 (default: the next\n"
"                                   free); 'rescind DOM scsiN' removes it\n"
"  shutdown DOM [--reboot] [--wait S]\n"
"                                   ask the guest's shutdown service to\n"
"                                   power it off (restart it)\n"
"  kvp DOM get|delete POOL KEY, kvp DOM set POOL KEY VALUE,\n"
"  kvp DOM list POOL [--wait S]     ask the guest's key/value exchange\n"
"  --help                           this text\n"
"  --version                        the program's version\n");
}

/* The options, each allowed to the commands whose bit it carries. */
enum { O_PIPE = 1, O_SERVICE = 2, O_MESSAGE = 4, O_JSON = 8, O_NAME = 16,
       O_MODE = 32, O_WAIT = 64, O_IC = 128, O_REBOOT = 256, O_HVSOCK = 512,
       O_NIC = 1024, O_DISK = 2048 };

static const struct command {
	const char *name;
	int min_args, max_args;		/* DOM and NAME arguments */
	unsigned int opts;		/* O_* it takes */
	unsigned int needs;		/* O_* it must have */
} commands[] = {
	{ "attach", 1, 1, 0, 0 },
	{ "detach", 1, 1, 0, 0 },
	{ "list", 0, 0, O_JSON, 0 },
	{ "status", 0, 0, O_JSON, 0 },
	/* A pipe needs --pipe and --service, an IC --ic: checked in main. */
	{ "offer", 1, 1, O_PIPE | O_SERVICE | O_MESSAGE | O_IC | O_HVSOCK |
	  O_NIC | O_DISK, 0 },
	{ "p2p", 2, 2, O_NAME | O_MODE, O_NAME },
	{ "rescind", 2, 2, 0, 0 },
	{ "connect", 2, 2, O_MESSAGE | O_WAIT, 0 },
	{ "shutdown", 1, 1, O_REBOOT | O_WAIT, 0 },
	{ "kvp", 3, 5, O_WAIT, 0 },	/* DOM OP POOL [KEY [VALUE]] */
};

static const struct option opts[] = {
	{ "pipe", required_argument, NULL, 'n' },
	{ "service", required_argument, NULL, 's' },
	{ "message-mode", no_argument, NULL, 'm' },
	{ "json", no_argument, NULL, 'j' },
	{ "name", required_argument, NULL, 'N' },
	{ "mode", required_argument, NULL, 'M' },
	{ "wait", required_argument, NULL, 'w' },
	{ "ic", required_argument, NULL, 'i' },
	{ "reboot", no_argument, NULL, 'r' },
	{ "hvsock", required_argument, NULL, 'H' },
	{ "nic", required_argument, NULL, 'E' },
	{ "disk", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};
/* The O_* bit of each option above, in the same order. */
static const unsigned int opt_bits[] = {
	O_PIPE, O_SERVICE, O_MESSAGE, O_JSON, O_NAME, O_MODE, O_WAIT, O_IC,
	O_REBOOT, O_HVSOCK, O_NIC, O_DISK, 0, 0,
};

static const char *opt_name(int val)
{
	unsigned int i;

	for (i = 0; opts[i].name; i++)
		if (opts[i].val == val)
			return opts[i].name;
	return "?";
}

/* A pipe name as the guest sees it (pipe_name_problem); 0 or 2. */
static int check_pipe_name(const char *opt, const char *name)
{
	const char *why = pipe_name_problem(name);

	if (!why)
		return 0;
	if (!name[0])
		return refuse("%s needs a name, not \"\"", opt);
	return refuse("the pipe name given to %s %s (%zu bytes)", opt, why,
		      strlen(name));
}

int main(int argc, char **argv)
{
	const char *pipe = NULL, *service = NULL, *pname = NULL, *ic = NULL;
	const char *hvsock = NULL, *nic = NULL;
	static struct disk_spec disks[DISK_SPEC_LUNS];
	unsigned int ndisks = 0;
	bool reboot = false;
	const char *mode = "byte";
	const struct command *c = NULL;
	unsigned int i, given = 0, wait_s = 0;
	bool message = false, json = false;
	int o, domid = -1, peer, rc, nargs;
	char why[96], *end;

	if (argc < 2)
		return refuse("no command given");
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("vmbusctl (" PACKAGE_NAME ") " PACKAGE_VERSION "\n");
		return 0;
	}
	if (cmd[0] == '-') {
		cmd = NULL;
		return refuse("\"%s\" is not a command", argv[1]);
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd, commands[i].name) == 0)
			c = &commands[i];
	if (!c) {
		cmd = NULL;
		return refuse("no command \"%s\"", argv[1]);
	}
	/* Options may come anywhere after the command; all checked first. */
	argc--;
	argv++;
	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":hV", opts, &rc)) != -1) {
		if (o == ':')
			return refuse("option --%s needs %s", opt_name(optopt),
				      optopt == 'w' ? "a number of seconds" :
				      optopt == 's' || optopt == 'H' ? "a path" :
				      optopt == 'd' ? "PATH[,ro][,lun=N]" :
				      optopt == 'M' ?
				      "byte or message" : optopt == 'i' ?
				      "heartbeat, shutdown, timesync or kvp" :
				      "a name");
		if (o == '?') {
			if (optopt)
				return refuse("no option -%c", optopt);
			return refuse("no option \"%s\"", argv[optind - 1]);
		}
		if (o == 'h') {
			usage(stdout);
			return 0;
		}
		if (o == 'V') {
			printf("vmbusctl (" PACKAGE_NAME ") " PACKAGE_VERSION "\n");
			return 0;
		}
		if (!(c->opts & opt_bits[rc]))
			return refuse("option --%s is not one of %s's",
				      opts[rc].name, c->name);
		given |= opt_bits[rc];
		switch (o) {
		case 'n': pipe = optarg; break;
		case 's': service = optarg; break;
		case 'm': message = true; break;
		case 'j': json = true; break;
		case 'N': pname = optarg; break;
		case 'M': mode = optarg; break;
		case 'i': ic = optarg; break;
		case 'r': reboot = true; break;
		case 'H': hvsock = optarg; break;
		case 'E': nic = optarg; break;
		case 'd': {
			const char *bad;

			if (ndisks == DISK_SPEC_LUNS)
				return refuse("a controller has at most %u "
					      "disks", DISK_SPEC_LUNS);
			if (disk_spec_parse(optarg, &disks[ndisks], &bad))
				return refuse("--disk \"%s\" %s", optarg, bad);
			ndisks++;
			break;
		}
		case 'w': {
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (!optarg[0] || optarg[0] == '-' || *end || errno ||
			    v > 86400)
				return refuse("--wait takes seconds from 0 "
					      "(no bound) to 86400, not \"%s\"",
					      optarg);
			wait_s = (unsigned int)v;
			break;
		}
		}
	}
	nargs = argc - optind;
	if (nargs < c->min_args && c->min_args == 3 && nargs > 0)
		return refuse("kvp takes DOM get|delete POOL KEY, DOM set POOL "
			      "KEY VALUE or DOM list POOL");
	if (nargs < c->min_args)
		return refuse("%s", c->min_args == 2 && nargs == 1 ?
			      (c->opts & O_NAME ? "a second domain is missing" :
			       "the pipe's name is missing") :
			      "the domain is missing");
	if (nargs > c->max_args)
		return refuse("one argument too many: \"%s\"",
			      argv[optind + c->max_args]);
	if (ndisks && (given & (O_PIPE | O_SERVICE | O_MESSAGE | O_IC |
				O_HVSOCK | O_NIC)))
		return refuse("option --disk offers a SCSI controller, not a "
			      "pipe, an integration service, hv_sock nor a "
			      "network adapter");
	if (ndisks) {
		unsigned int lun;

		if (disk_spec_assign_luns(disks, ndisks, &lun))
			return refuse("two disks at LUN %u", lun);
	}
	if (hvsock && (given & (O_PIPE | O_SERVICE | O_MESSAGE | O_IC)))
		return refuse("option --hvsock serves hv_sock, not a pipe nor "
			      "an integration service");
	if (hvsock && (hvsock[0] != '/' || strlen(hvsock) > 96))
		return refuse("--hvsock takes an absolute path of at most 96 "
			      "bytes (PATH_PORT must fit a socket address), not "
			      "\"%s\"", hvsock);
	if (nic && (given & (O_PIPE | O_SERVICE | O_MESSAGE | O_IC | O_HVSOCK)))
		return refuse("option --nic offers a network adapter, not a "
			      "pipe, an integration service nor hv_sock");
	if (ic && (given & (O_PIPE | O_SERVICE | O_MESSAGE)))
		return refuse("option --ic offers an integration service, not "
			      "a pipe: no --pipe, --service or --message-mode");
	if (ic && !ic_kind_known(ic))
		return refuse("--ic takes heartbeat, shutdown, timesync or kvp, "
			      "not \"%s\"", ic);
	if (strcmp(c->name, "offer") == 0 && !ic && !hvsock && !nic && !ndisks &&
	    !(given & O_PIPE))
		return refuse("option --pipe NAME is missing");
	if (strcmp(c->name, "offer") == 0 && !ic && !hvsock && !nic && !ndisks &&
	    !(given & O_SERVICE))
		return refuse("option --service PATH is missing");
	if ((c->needs & ~given) & O_NAME)
		return refuse("option --name NAME is missing");
	if (pipe && (rc = check_pipe_name("option --pipe", pipe)))
		return rc;
	if (pname && (rc = check_pipe_name("option --name", pname)))
		return rc;
	if (c->max_args == 2 && !(c->opts & O_NAME) &&
	    (rc = check_pipe_name(c->name, argv[optind + 1])))
		return rc;
	if (service && (service[0] != '/' || strlen(service) > SERVICE_MAX))
		return refuse("--service takes an absolute path of at most %u "
			      "bytes, not \"%s\"", SERVICE_MAX, service);
	if (strcmp(mode, "byte") && strcmp(mode, "message"))
		return refuse("--mode takes byte or message, not \"%s\"", mode);
	if (strcmp(c->name, "kvp") == 0 &&
	    (rc = kvp_check(nargs - 1, argv + optind + 1)))
		return rc;

	xs = xs_open(0);
	if (!xs)
		return say(1, "failed to open xenstore (%s)", strerror(errno));
	if (strcmp(cmd, "list") == 0) {
		if (!vmbusd_running(why, sizeof(why)))
			say(0, "vmbusd is not running (%s): no live state",
			    why);
		rc = cmd_list(json);
		goto out;
	}
	if (strcmp(cmd, "status") == 0) {
		rc = cmd_status(json);
		goto out;
	}
	rc = 1;
	domid = domid_of(argv[optind]);
	if (domid < 0)
		goto out;
	if (strcmp(cmd, "attach") == 0)
		rc = cmd_attach(domid);
	else if (strcmp(cmd, "detach") == 0)
		rc = cmd_detach(domid);
	else if (strcmp(cmd, "offer") == 0 && ic)
		rc = cmd_offer_ic(domid, ic);
	else if (strcmp(cmd, "offer") == 0 && hvsock)
		rc = cmd_offer_hvsock(domid, hvsock);
	else if (strcmp(cmd, "offer") == 0 && nic)
		rc = cmd_offer_nic(domid, nic);
	else if (strcmp(cmd, "offer") == 0 && ndisks)
		rc = cmd_offer_disks(domid, disks, ndisks);
	else if (strcmp(cmd, "offer") == 0)
		rc = cmd_offer(domid, pipe, service, message);
	else if (strcmp(cmd, "shutdown") == 0)
		rc = cmd_shutdown(domid, reboot, wait_s);
	else if (strcmp(cmd, "kvp") == 0)
		rc = cmd_kvp(domid, nargs - 1, argv + optind + 1, wait_s);
	else if (strcmp(cmd, "p2p") == 0) {
		peer = domid_of(argv[optind + 1]);
		if (peer > 0)
			rc = cmd_p2p(domid, peer, pname, mode);
	} else if (strcmp(cmd, "rescind") == 0)
		rc = cmd_rescind(domid, argv[optind + 1]);
	else
		rc = cmd_connect(domid, argv[optind + 1], message, wait_s);
out:
	xs_close(xs);
	return rc;
}
