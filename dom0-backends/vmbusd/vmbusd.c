// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbusd: serves every guest's VMBus from dom0.  This file is the
 * daemon's start: its options, privileges and main; the registry of
 * guests is guest.c, the event loop loop.c, the pipe service pipe.c and
 * the pipes between guests p2p.c.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <xenstore.h>

#include "vmbusd.h"

static bool foreground;

static void lib_log(int prio, const char *msg, void *arg)
{
	(void)arg;
	dlog(prio, "%s", msg);
}

/* --- privileges --- */

/*
 * Give up every capability once started (the default; --keep-caps keeps
 * them).  Nothing the daemon does after start-up needs one: the Xen device
 * nodes (evtchn, gntdev, gntalloc) and xenstored's socket belong to root
 * and are opened as their owner, and their operations check no capability;
 * a pipe's service socket is connected as the uid.  So the daemon keeps
 * uid 0 and the descriptor limit raised above, and nothing else: no
 * overriding file permissions, no signalling or tracing other processes,
 * no raw I/O, and never anything more through exec (no_new_privs).
 */
static int vd_drop_caps(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	unsigned long cap;
	int err;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		err = errno;
		dlog(LOG_ERR, "failed to set no_new_privs (%s)", strerror(err));
		return -err;
	}
	for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
			err = errno;
			/* Started without CAP_SETPCAP: nothing to take back. */
			if (err == EPERM && cap == 0) {
				dlog(LOG_INFO, "bounding set left as it is "
				       "(started without CAP_SETPCAP)");
				break;
			}
			dlog(LOG_ERR, "failed to drop capability %lu from the "
			       "bounding set (%s)", cap, strerror(err));
			return -err;
		}
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0) {
		err = errno;
		dlog(LOG_ERR, "failed to drop the capabilities (%s)",
		       strerror(err));
		return -err;
	}
	dlog(LOG_NOTICE, "dropped every capability, no_new_privs set; kept "
	     "uid %u, which owns the Xen device nodes and xenstored's socket "
	     "(--keep-caps keeps the capabilities)", (unsigned int)getuid());
	return 0;
}

/* --- main --- */

static void usage(FILE *f, const char *argv0)
{
	fprintf(f,
"Usage: %s [-F] [--pid-file FILE] [--keep-caps] [-v]\n"
"          [--guest-map-pages N] [--host-map-pages N]\n"
"Serve the VMBus of every guest attached with 'vmbusctl attach'.\n\n"
"  -F, --foreground     stay in the foreground, log to stderr too\n"
"  -p, --pid-file FILE  write the daemon's pid to FILE\n"
"  -K, --keep-caps      keep the capabilities (by default every one is\n"
"                       given up after start-up)\n"
"  -g, --guest-map-pages N\n"
"                       grant pages one guest may have mapped (default %u)\n"
"  -H, --host-map-pages N\n"
"                       grant pages all guests may have mapped (default %u)\n"
"  -v, --verbose        log informational messages\n"
"  -h, --help           this text\n\n"
"Offers are read from " VD_BACKEND_ROOT "/<domid>/0/offers; live state\n"
"is published under " VD_STATE_ROOT "/<domid> ('vmbusctl list').\n",
		argv0, VMBUS_SERVER_GUEST_MAPS_DEFAULT,
		VMBUS_SERVER_HOST_MAPS_DEFAULT);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'F' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "drop-caps", no_argument, NULL, 'D' },	/* the default */
		{ "keep-caps", no_argument, NULL, 'K' },
		{ "guest-map-pages", required_argument, NULL, 'g' },
		{ "host-map-pages", required_argument, NULL, 'H' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pidfile = NULL;
	int c, rc = 1;
	bool verbose = false, drop_caps = true;

	while ((c = getopt_long(argc, argv, "Fp:DKg:H:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'D': drop_caps = true; break;
		case 'K': drop_caps = false; break;
		case 'g':
		case 'H': {
			unsigned long v;
			char *end;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || !*optarg || *end || *optarg == '-' ||
			    v < VMBUS_SERVER_MAPS_MIN || v > UINT32_MAX) {
				fprintf(stderr, "vmbusd: --%s takes a number of "
					"pages from %u to %u, not \"%s\"\n",
					c == 'g' ? "guest-map-pages" :
					"host-map-pages", VMBUS_SERVER_MAPS_MIN,
					UINT32_MAX, optarg);
				return 2;
			}
			if (c == 'g')
				vd_guest_map_pages = (uint32_t)v;
			else
				vmbus_server_set_host_map_limit((uint32_t)v);
			break;
		}
		case 'F': foreground = true; break;
		case 'p': pidfile = optarg; break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout, argv[0]); return 0;
		default: usage(stderr, argv[0]); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr, argv[0]);
		return 2;
	}
	/* Everything on stderr in the foreground; syslog per the mask below. */
	dlog_open("vmbusd", DLOG_SYSLOG | (foreground ? DLOG_STDERR : 0), LOG_DEBUG);
	setlogmask(LOG_UPTO(verbose ? LOG_INFO : LOG_NOTICE));
	/* Each served guest holds descriptors (xenstore, event channels, pipe
	 * sockets): take every descriptor the administrator allows. */
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	vmbus_set_log(lib_log, NULL);
	if (!foreground && daemon(0, 0) < 0) {
		fprintf(stderr, "vmbusd: failed to daemonize (%s)\n",
			strerror(errno));
		return 1;
	}
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");

		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
			dlog(LOG_ERR, "failed to write pid file \"%s\" (%s)",
			       pidfile, strerror(errno));
			return 1;
		}
	}
	if (vd_loop_init() < 0)
		goto out;
	vd_xs = xs_open(0);
	if (!vd_xs) {
		dlog(LOG_ERR, "failed to open xenstore (%s)", strerror(errno));
		goto out;
	}
	if (!xs_watch(vd_xs, VD_BACKEND_ROOT, "backend") ||
	    !xs_watch(vd_xs, "@releaseDomain", "release")) {
		dlog(LOG_ERR, "failed to watch \"%s\" (%s)", VD_BACKEND_ROOT,
		       strerror(errno));
		goto out;
	}
	if (vd_loop_watch_xs() < 0)
		goto out;
	/* Started: the pid file is written, the loop is set up. */
	if (drop_caps && vd_drop_caps() < 0)
		goto out;
	if (!drop_caps)
		dlog(LOG_WARNING, "keeping every capability (--keep-caps)");
	{
		uint32_t mapped, limit;

		vmbus_server_host_maps(&mapped, &limit);
		dlog(LOG_NOTICE, "serving buses under %s (grant mappings: %u "
		       "pages per guest, %u in all)", VD_BACKEND_ROOT,
		       vd_guest_map_pages ? vd_guest_map_pages :
		       VMBUS_SERVER_GUEST_MAPS_DEFAULT, limit);
	}
	vd_rescan();

	vd_loop_run();
	dlog(LOG_NOTICE, "exiting");
	rc = 0;
out:
	vd_loop_fini();
	if (vd_xs) {
		xs_rm(vd_xs, XBT_NULL, VD_STATE_ROOT);
		xs_close(vd_xs);
	}
	if (pidfile)
		unlink(pidfile);
	return rc;
}
