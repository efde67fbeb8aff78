// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbusd's configuration file: guests, by name, that have a bus and the
 * pipes offered to them, so that they survive a reboot of dom0 and a
 * re-creation of the guest with no vmbusctl.
 *
 *   # comment
 *   [NAME]                          a guest named NAME has a bus
 *   pipe = PIPE SERVICE [byte|message]
 *                                   offered pipe PIPE, joined to the unix
 *                                   socket SERVICE
 *   ic = KIND...                    Hyper-V integration services offered:
 *                                   heartbeat shutdown timesync kvp, or all
 *                                   (none unless named)
 *   hvsock = PATH                   the guest's hv_sock: its connects to
 *                                   port P reach PATH_P, dom0 reaches its
 *                                   listeners through PATH
 *   disk = PATH[,ro][,lun=N]        a disk of the guest's SCSI controller
 *                                   scsi0 (one controller, a line per LUN)
 *
 * When a domain of a configured name is there (at start, and on every
 * @introduceDomain), the daemon writes what 'vmbusctl attach' and
 * 'vmbusctl offer' would, once per domain; the backend watch then serves
 * it as any other.  What the administrator changes afterwards with
 * vmbusctl stays until the domain is created again or the daemon
 * restarts.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "diskspec.h"
#include "pipename.h"
#include "vmbusd.h"

_Static_assert(PIPE_NAME_MAX == VMBUS_PIPE_NAME_MAX,
	       "util's pipe name limit is libvmbus's");

#define XB_INITIALISING	"1"

struct vd_conf_pipe {
	char name[VMBUS_PIPE_NAME_MAX + 1];
	char service[108];
	bool message;
	struct vd_conf_pipe *next;
};

static const char *const ic_kinds[] = { "heartbeat", "shutdown", "timesync",
					"kvp" };
#define IC_KINDS	(sizeof(ic_kinds) / sizeof(ic_kinds[0]))

struct vd_conf_guest {
	char name[65];
	unsigned int ics;		/* bit i: ic_kinds[i] offered */
	char hvsock[97];		/* hv_sock's socket path, or "" */
	struct disk_spec *disks;	/* its SCSI controller's, or NULL */
	unsigned int ndisks;
	unsigned int npipes;
	struct vd_conf_pipe *pipes;
	struct vd_conf_guest *next;
};

static struct vd_conf_guest *conf;
static struct xs_handle *cxs;		/* the daemon's, during a scan */
static const char *conf_path;
/* Domains the configuration was applied to, once each. */
static unsigned int *applied;
static unsigned int napplied, capplied;

static int conf_error(const char *path, unsigned int line, const char *what,
		      const char *arg)
{
	dlog(LOG_ERR, "failed to read \"%s\" line %u: %s \"%s\"", path, line,
	     what, arg);
	return -EINVAL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			 e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* "PIPE SERVICE [MODE]" of a pipe line into @p. */
static int parse_pipe(char *v, struct vd_conf_pipe *p)
{
	char *name, *svc, *mode, *extra, *save;

	name = strtok_r(v, " \t", &save);
	svc = strtok_r(NULL, " \t", &save);
	mode = strtok_r(NULL, " \t", &save);
	extra = strtok_r(NULL, " \t", &save);
	if (!name || !svc || extra)
		return -1;
	if (pipe_name_problem(name))
		return -2;
	if (svc[0] != '/' || strlen(svc) >= sizeof(p->service))
		return -3;
	if (mode && strcmp(mode, "byte") && strcmp(mode, "message"))
		return -4;
	strcpy(p->name, name);
	strcpy(p->service, svc);
	p->message = mode && strcmp(mode, "message") == 0;
	return 0;
}

/* "KIND..." of an ic line into the bits of @ics; the bad word in @bad. */
static int parse_ic(char *v, unsigned int *ics, char *bad, size_t len)
{
	char *w, *save;
	unsigned int i;

	snprintf(bad, len, "%s", v);
	for (w = strtok_r(v, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (strcmp(w, "all") == 0) {
			*ics |= (1u << IC_KINDS) - 1;
			continue;
		}
		for (i = 0; i < IC_KINDS; i++)
			if (strcmp(w, ic_kinds[i]) == 0)
				break;
		if (i == IC_KINDS) {
			snprintf(bad, len, "%s", w);
			return -EINVAL;
		}
		*ics |= 1u << i;
	}
	return *bad ? 0 : -EINVAL;
}

/*
 * Read @path; a missing file is no configuration unless @must.  One
 * line on the log names the file, the line and what is wrong with it.
 */
int vd_config_load(const char *path, bool must)
{
	static const char *const why[] = { "", "a pipe line is \"pipe = NAME "
		"SERVICE [byte|message]\", not", "a pipe name is 1 to 115 "
		"bytes without '/', not", "a service is an absolute path of at "
		"most 107 bytes, not", "a mode is byte or message, not" };
	struct vd_conf_guest *g = NULL, *x;
	struct vd_conf_pipe *p, *q;
	unsigned int line = 0;
	char buf[1024], text[1024], *s, *v;
	FILE *f;
	int rc;

	conf_path = path;
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && !must)
			return 0;
		rc = -errno;
		dlog(LOG_ERR, "failed to open \"%s\" (%s)", path, strerror(-rc));
		return rc;
	}
	rc = 0;
	while (!rc && fgets(buf, sizeof(buf), f)) {
		line++;
		if (!strchr(buf, '\n') && !feof(f)) {
			rc = conf_error(path, line, "a line is at most 1022 "
					"bytes, not", "...");
			break;
		}
		s = trim(buf);
		if (!*s || *s == '#')
			continue;
		if (*s == '[') {
			v = strchr(s, ']');
			if (!v || v[1] || v == s + 1 || v - s - 1 >= 65 ||
			    memchr(s + 1, '/', (size_t)(v - s - 1))) {
				rc = conf_error(path, line, "a guest is \"[NAME]\", "
						"a name of 1 to 64 bytes, not", s);
				break;
			}
			*v = '\0';
			for (x = conf; x; x = x->next)
				if (strcmp(x->name, s + 1) == 0)
					break;
			if (x) {
				rc = conf_error(path, line, "a second section "
						"for guest", s + 1);
				break;
			}
			g = calloc(1, sizeof(*g));
			if (!g) {
				rc = -ENOMEM;
				break;
			}
			strcpy(g->name, s + 1);
			g->next = conf;
			conf = g;
			continue;
		}
		v = strchr(s, '=');
		if (v && strcmp(trim((*v = '\0', s)), "ic") == 0) {
			if (!g) {
				rc = conf_error(path, line, "an ic line belongs "
						"to a guest's \"[NAME]\" section, "
						"above", "ic");
				break;
			}
			rc = parse_ic(trim(v + 1), &g->ics, text, sizeof(text));
			if (rc) {
				rc = conf_error(path, line, "an integration "
						"service is heartbeat, shutdown, "
						"timesync, kvp or all, not",
						text);
				break;
			}
			continue;
		}
		if (v && strcmp(s, "hvsock") == 0) {
			v = trim(v + 1);
			if (!g || v[0] != '/' || strlen(v) >= sizeof(g->hvsock) ||
			    strchr(v, ' ') || strchr(v, '\t')) {
				rc = conf_error(path, line, g ? "hvsock takes an "
					"absolute path of at most 96 bytes, not" :
					"an hvsock line belongs to a guest's "
					"\"[NAME]\" section, above", v);
				break;
			}
			strcpy(g->hvsock, v);
			continue;
		}
		if (v && strcmp(s, "disk") == 0) {
			const char *bad;
			unsigned int lun;

			v = trim(v + 1);
			if (!g) {
				rc = conf_error(path, line, "a disk line belongs "
						"to a guest's \"[NAME]\" section, "
						"above", v);
				break;
			}
			if (!g->disks)
				g->disks = calloc(DISK_SPEC_LUNS,
						  sizeof(*g->disks));
			if (!g->disks) {
				rc = -ENOMEM;
				break;
			}
			if (g->ndisks == DISK_SPEC_LUNS) {
				rc = conf_error(path, line, "a controller has at "
						"most 64 disks, not one more:", v);
				break;
			}
			if (disk_spec_parse(v, &g->disks[g->ndisks], &bad)) {
				snprintf(text, sizeof(text), "a disk is "
					 "\"PATH[,ro][,lun=N]\"; this one %s:",
					 bad);
				rc = conf_error(path, line, text, v);
				break;
			}
			g->ndisks++;
			/* LUNs given twice are said at the line of the second. */
			{
				struct disk_spec tmp[DISK_SPEC_LUNS];

				memcpy(tmp, g->disks, g->ndisks * sizeof(*tmp));
				if (disk_spec_assign_luns(tmp, g->ndisks, &lun)) {
					snprintf(text, sizeof(text), "%u", lun);
					rc = conf_error(path, line, "a second disk "
							"at LUN", text);
					break;
				}
			}
			continue;
		}
		if (!v || strcmp(s, "pipe") != 0) {
			rc = conf_error(path, line, "a line is \"[NAME]\", "
					"\"pipe = ...\", \"ic = ...\", "
					"\"hvsock = ...\" or \"disk = ...\", "
					"not", s);
			break;
		}
		if (!g) {
			rc = conf_error(path, line, "a pipe belongs to a guest's "
					"\"[NAME]\" section, above", "pipe");
			break;
		}
		v = trim(v + 1);
		p = calloc(1, sizeof(*p));
		if (!p) {
			rc = -ENOMEM;
			break;
		}
		snprintf(text, sizeof(text), "%s", v);
		rc = parse_pipe(v, p);
		if (rc) {
			free(p);
			rc = conf_error(path, line, why[-rc], text);
			break;
		}
		for (q = g->pipes; q; q = q->next)
			if (strcmp(q->name, p->name) == 0)
				break;
		if (q) {
			free(p);
			rc = conf_error(path, line, "a second pipe named",
					q->name);
			break;
		}
		p->next = g->pipes;
		g->pipes = p;
		g->npipes++;
	}
	fclose(f);
	return rc;
}

void vd_config_free(void)
{
	struct vd_conf_guest *g;
	struct vd_conf_pipe *p;

	while ((g = conf)) {
		conf = g->next;
		while ((p = g->pipes)) {
			g->pipes = p->next;
			free(p);
		}
		free(g->disks);
		free(g);
	}
	free(applied);
	applied = NULL;
	napplied = capplied = 0;
}

static bool xw(xs_transaction_t t, const char *dir, const char *key,
	       const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xs_write(cxs, t, path, val, (unsigned int)strlen(val));
}

/* Whether @domid's bus has an offer named @name. */
static bool has_offer(const char *offers, const char *name)
{
	unsigned int n = 0, i;
	char **keys, path[256], *v;
	bool found = false;

	keys = xs_directory(cxs, XBT_NULL, offers, &n);
	for (i = 0; keys && i < n && !found; i++) {
		snprintf(path, sizeof(path), "%s/%s/name", offers, keys[i]);
		v = xs_read(cxs, XBT_NULL, path, NULL);
		found = v && strcmp(v, name) == 0;
		free(v);
	}
	free(keys);
	return found;
}

/* Whether the offers under @offers have an entry of kind @kind. */
static bool has_kind(const char *offers, const char *kind)
{
	unsigned int n = 0, i;
	char **keys, path[256], *v;
	bool found = false;

	keys = xs_directory(cxs, XBT_NULL, offers, &n);
	for (i = 0; keys && i < n && !found; i++) {
		snprintf(path, sizeof(path), "%s/%s/kind", offers, keys[i]);
		v = xs_read(cxs, XBT_NULL, path, NULL);
		found = v && strcmp(v, kind) == 0;
		free(v);
	}
	free(keys);
	return found;
}

/* A free key under @offers. */
static unsigned int free_key(const char *offers)
{
	char path[256], *v;
	unsigned int i;

	for (i = 0;; i++) {
		snprintf(path, sizeof(path), "%s/%u", offers, i);
		v = xs_read(cxs, XBT_NULL, path, NULL);
		if (!v)
			return i;
		free(v);
	}
}

/*
 * The bus of @domid as 'vmbusctl attach' makes it (libxl's permissions:
 * the frontend the guest's, the backend dom0's, each readable by the
 * other), then the pipes it lacks, each in one transaction.
 */
static int vd_config_attach(unsigned int domid, const struct vd_conf_guest *g)
{
	struct xs_permissions fp[2] = {
		{ .id = domid, .perms = XS_PERM_NONE },
		{ .id = 0, .perms = XS_PERM_READ },
	}, bp[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = domid, .perms = XS_PERM_READ },
	}, op[1] = { { .id = 0, .perms = XS_PERM_NONE } };
	char fe[96], be[96], offers[128], odir[160], id[16], *v;
	const struct vd_conf_pipe *p;
	unsigned int made = 0, i;
	xs_transaction_t t;
	bool ok, was_attached;
	int tries;

	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vmbus/0", domid);
	snprintf(be, sizeof(be), VD_BACKEND_ROOT "/%u/0", domid);
	snprintf(offers, sizeof(offers), "%s/offers", be);
	snprintf(id, sizeof(id), "%u", domid);
	snprintf(odir, sizeof(odir), "%s/frontend", be);
	v = xs_read(cxs, XBT_NULL, odir, NULL);
	was_attached = v != NULL;
	for (tries = 0; !v && tries < 8; tries++) {
		t = xs_transaction_start(cxs);
		if (!t)
			break;
		ok = xw(t, fe, "backend", be) && xw(t, fe, "backend-id", "0") &&
		     xw(t, fe, "state", XB_INITIALISING) &&
		     xw(t, be, "frontend", fe) && xw(t, be, "frontend-id", id) &&
		     xw(t, be, "state", XB_INITIALISING) &&
		     xs_mkdir(cxs, t, offers) &&
		     xs_set_permissions(cxs, t, fe, fp, 2) &&
		     xs_set_permissions(cxs, t, be, bp, 2) &&
		     xs_set_permissions(cxs, t, offers, op, 1);
		if (xs_transaction_end(cxs, t, !ok) && ok)
			break;
		if (ok && errno == EAGAIN)
			continue;
		dlog(LOG_ERR, "domain %u (\"%s\"): failed to create \"%s\" "
		     "(%s)", domid, g->name, be, strerror(errno));
		return -errno;
	}
	/* Written before their directories' permissions were set. */
	if (!v) {
		static const char *const fkeys[] = { "backend", "backend-id",
						     "state" };
		static const char *const bkeys[] = { "frontend", "frontend-id",
						     "state" };
		char k[160];

		for (i = 0; i < 3; i++) {
			snprintf(k, sizeof(k), "%s/%s", fe, fkeys[i]);
			xs_set_permissions(cxs, XBT_NULL, k, fp, 2);
			snprintf(k, sizeof(k), "%s/%s", be, bkeys[i]);
			xs_set_permissions(cxs, XBT_NULL, k, bp, 2);
		}
	}
	free(v);
	for (p = g->pipes; p; p = p->next) {
		if (has_offer(offers, p->name))
			continue;
		snprintf(odir, sizeof(odir), "%s/%u", offers, free_key(offers));
		/* The daemon takes an offer once its service is written. */
		if (!xw(XBT_NULL, odir, "name", p->name) ||
		    !xw(XBT_NULL, odir, "mode", p->message ? "message" : "byte") ||
		    !xw(XBT_NULL, odir, "service", p->service)) {
			dlog(LOG_ERR, "domain %u (\"%s\"): failed to write \"%s\" "
			     "(%s)", domid, g->name, odir, strerror(errno));
			continue;
		}
		made++;
	}
	for (i = 0; i < IC_KINDS; i++) {
		if (!(g->ics & (1u << i)) || has_kind(offers, ic_kinds[i]))
			continue;
		snprintf(odir, sizeof(odir), "%s/%u", offers, free_key(offers));
		/* The daemon takes an IC's entry once its kind is written. */
		if (!xw(XBT_NULL, odir, "name", ic_kinds[i]) ||
		    !xw(XBT_NULL, odir, "kind", ic_kinds[i]))
			dlog(LOG_ERR, "domain %u (\"%s\"): failed to write "
			     "\"%s\" (%s)", domid, g->name, odir,
			     strerror(errno));
	}
	if (g->hvsock[0] && !has_kind(offers, "hvsock")) {
		snprintf(odir, sizeof(odir), "%s/%u", offers, free_key(offers));
		if (!xw(XBT_NULL, odir, "name", "hvsock") ||
		    !xw(XBT_NULL, odir, "uds", g->hvsock) ||
		    !xw(XBT_NULL, odir, "kind", "hvsock"))
			dlog(LOG_ERR, "domain %u (\"%s\"): failed to write "
			     "\"%s\" (%s)", domid, g->name, odir,
			     strerror(errno));
	}
	if (g->ndisks && !has_kind(offers, "scsi")) {
		struct disk_spec d[DISK_SPEC_LUNS];
		char spec[DISK_SPEC_PATH_MAX + 16], ddir[192], idx[16];
		bool w;

		memcpy(d, g->disks, g->ndisks * sizeof(*d));
		disk_spec_assign_luns(d, g->ndisks, &i);
		snprintf(odir, sizeof(odir), "%s/%u", offers, free_key(offers));
		snprintf(ddir, sizeof(ddir), "%s/disk", odir);
		w = xw(XBT_NULL, odir, "name", "scsi0");
		for (i = 0; w && i < g->ndisks; i++) {
			snprintf(idx, sizeof(idx), "%u", i);
			disk_spec_format(&d[i], spec, sizeof(spec));
			w = xw(XBT_NULL, ddir, idx, spec);
		}
		/* The daemon takes a controller's entry once its kind is written. */
		if (!w || !xw(XBT_NULL, odir, "kind", "scsi"))
			dlog(LOG_ERR, "domain %u (\"%s\"): failed to write "
			     "\"%s\" (%s)", domid, g->name, odir,
			     strerror(errno));
	}
	dlog(made || !was_attached ? LOG_NOTICE : LOG_INFO,
	     "domain %u (\"%s\"): bus and %u of %u pipe(s) from "
	     "\"%s\"", domid, g->name, made, g->npipes, conf_path);
	return 0;
}

static bool was_applied(unsigned int domid)
{
	unsigned int i;

	for (i = 0; i < napplied; i++)
		if (applied[i] == domid)
			return true;
	return false;
}

/*
 * The domains there now that the configuration names and that it was not
 * applied to yet get their bus and pipes; the domains gone are forgotten
 * (a guest created again may come back with the same id on some hosts).
 */
void vd_config_scan(struct xs_handle *xs)
{
	unsigned int n = 0, i, j;
	char **ents, path[64], *name, *end;
	struct vd_conf_guest *g;
	unsigned long v;

	if (!conf)
		return;
	cxs = xs;
	for (i = j = 0; i < napplied; i++)
		if (xs_is_domain_introduced(cxs, applied[i]))
			applied[j++] = applied[i];
	napplied = j;
	ents = xs_directory(cxs, XBT_NULL, "/local/domain", &n);
	for (i = 0; ents && i < n; i++) {
		v = strtoul(ents[i], &end, 10);
		if (*end || v == 0 || v >= 0x7ff0 ||
		    was_applied((unsigned int)v) ||
		    !xs_is_domain_introduced(cxs, (unsigned int)v))
			continue;
		snprintf(path, sizeof(path), "/local/domain/%lu/name", v);
		name = xs_read(cxs, XBT_NULL, path, NULL);
		if (!name)
			continue;
		for (g = conf; g; g = g->next)
			if (strcmp(g->name, name) == 0)
				break;
		free(name);
		if (napplied == capplied) {
			unsigned int c = capplied ? capplied * 2 : 16;
			unsigned int *a = realloc(applied, c * sizeof(*a));

			if (!a)
				break;
			applied = a;
			capplied = c;
		}
		applied[napplied++] = (unsigned int)v;
		if (g)
			vd_config_attach((unsigned int)v, g);
	}
	free(ents);
}
