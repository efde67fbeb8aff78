// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmbusd: serves every guest's VMBus from dom0.  This file is the
 * daemon's start: its options, one instance per host, the start in
 * daemon mode, privileges and main.  The registry of guests is guest.c,
 * the event loop loop.c, the configuration file config.c, the pipe
 * service pipe.c and the pipes between guests p2p.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cap-ng.h>
#include <systemd/sd-daemon.h>
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
 * Give up every capability but CAP_NET_ADMIN once started (the default;
 * --keep-caps keeps them).  CAP_NET_ADMIN makes and configures the taps
 * of the NICs offered later (nic.c).  Nothing else the daemon does after
 * start-up needs one: the Xen device
 * nodes (evtchn, gntdev, gntalloc) and xenstored's socket belong to root
 * and are opened as their owner, and their operations check no capability;
 * a pipe's service socket is connected as the uid.  So the daemon keeps
 * uid 0 and the descriptor limit raised above, and nothing else: no
 * overriding file permissions, no signalling or tracing other processes,
 * no raw I/O, and never anything more through exec (no_new_privs).
 */
static int vd_drop_caps(void)
{
	capng_select_t sets = CAPNG_SELECT_BOTH;
	bool net_admin;
	int err;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		err = errno;
		dlog(LOG_ERR, "failed to set no_new_privs (%s)", strerror(err));
		return -err;
	}
	if (capng_get_caps_process() < 0) {
		err = errno ? errno : EPERM;
		dlog(LOG_ERR, "failed to read the capabilities of the daemon "
		     "(%s)", strerror(err));
		return -err;
	}
	/* Started without CAP_SETPCAP: the bounding set is not ours to drop. */
	if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP)) {
		sets = CAPNG_SELECT_CAPS;
		dlog(LOG_INFO, "bounding set left as it is (started without "
		     "CAP_SETPCAP)");
	}
	/* NICs offered later make and configure their taps (nic.c), if
	 * the daemon may at all. */
	net_admin = capng_have_capability(CAPNG_PERMITTED, CAP_NET_ADMIN);
	capng_clear(CAPNG_SELECT_BOTH);
	if (net_admin)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
			     (sets == CAPNG_SELECT_BOTH ? CAPNG_BOUNDING_SET : 0),
			     CAP_NET_ADMIN);
	if (capng_apply(sets) < 0) {
		err = errno ? errno : EPERM;
		dlog(LOG_ERR, "failed to drop the capabilities (%s)",
		     strerror(err));
		return -err;
	}
	return 0;
}

/* What --keep-caps keeps, and why one would. */
static void vd_keep_caps_said(void)
{
	char *text = NULL;

	if (capng_get_caps_process() == 0)
		text = capng_print_caps_text(CAPNG_PRINT_BUFFER, CAPNG_EFFECTIVE);
	dlog(LOG_WARNING, "keeping the capabilities it was started with "
	     "(--keep-caps): %s; the daemon needs none of them except to "
	     "reach a service socket its uid %u may not write",
	     text && text[0] ? text : "none", (unsigned int)getuid());
	free(text);
}

/* Said once the daemon serves (in daemon mode, not on the terminal). */
static void vd_drop_caps_said(void)
{
	dlog(LOG_NOTICE, "dropped every capability but net_admin (the NICs' "
	     "taps), no_new_privs set; kept uid %u, which owns the Xen device "
	     "nodes and xenstored's socket (--keep-caps keeps the "
	     "capabilities)", (unsigned int)getuid());
}

/* --- main --- */

static void usage(FILE *f, const char *argv0)
{
	fprintf(f,
"Usage: %s [-F] [--pid-file FILE] [--run-dir DIR] [--config FILE]\n"
"          [--keep-caps] [-v]\n"
"          [--guest-map-pages N] [--host-map-pages N]\n"
"Serve the VMBus of every guest attached with 'vmbusctl attach'.\n\n"
"  -F, --foreground     stay in the foreground, log to stderr too\n"
"  -p, --pid-file FILE  write the daemon's pid to FILE once it serves\n"
"  -c, --config FILE    guests and their pipes, made whenever a guest of\n"
"                       that name is created (default " VD_CONFIG_FILE ")\n"
"  -r, --run-dir DIR    where the lock that keeps a second vmbusd away\n"
"                       lives (default: the pid file's directory, else\n"
"                       " VD_RUN_DIR ")\n"
"  -K, --keep-caps      keep the capabilities (by default every one is\n"
"                       given up after start-up)\n"
"  -g, --guest-map-pages N\n"
"                       grant pages one guest may have mapped (default %u)\n"
"  -H, --host-map-pages N\n"
"                       grant pages all guests may have mapped (default %u)\n"
"  -v, --verbose        log informational messages\n"
"  -h, --help           this text\n"
"  -V, --version        the program's version\n\n"
"Offers are read from " VD_BACKEND_ROOT "/<domid>/0/offers; live state\n"
"is published under " VD_STATE_ROOT "/<domid> ('vmbusctl list').\n",
		argv0, VMBUS_SERVER_GUEST_MAPS_DEFAULT,
		VMBUS_SERVER_HOST_MAPS_DEFAULT);
}

/* --- one instance, start-up and readiness --- */

static int lock_fd = -1;
static int ready_fd = -1;		/* daemon mode: the waiting parent */

/*
 * One vmbusd serves a host: the first takes an exclusive flock on
 * @path and keeps it while it runs; a second one finds it held and goes,
 * touching neither the lock nor the pid file.  The kernel lets go of the
 * lock of a daemon that was killed, so a stale lock is only a file: the
 * next daemon takes it over and says whose it was.
 */
static int vd_lock(const char *path)
{
	char old[32] = "";
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = errno;
		dlog(LOG_ERR, "failed to open lock file \"%s\" (%s)", path,
		     strerror(err));
		return -err;
	}
	n = pread(fd, old, sizeof(old) - 1, 0);
	old[n > 0 ? n : 0] = '\0';
	old[strcspn(old, "\n")] = '\0';
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		err = errno;
		if (err == EWOULDBLOCK)
			dlog(LOG_ERR, "failed to lock \"%s\": vmbusd %s%s%sserves "
			     "this host already", path, old[0] ? "pid " : "",
			     old[0] ? old : "", old[0] ? " " : "");
		else
			dlog(LOG_ERR, "failed to lock \"%s\" (%s)", path,
			     strerror(err));
		close(fd);
		return -err;
	}
	if (old[0])
		dlog(LOG_NOTICE, "took over \"%s\" from vmbusd pid %s, which "
		     "ended without letting go of it", path, old);
	lock_fd = fd;
	n = snprintf(old, sizeof(old), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, old, (size_t)n, 0) != n) {
		err = errno;
		dlog(LOG_ERR, "failed to write \"%s\" (%s)", path,
		     strerror(err));
		return -err;
	}
	return 0;
}

/* The lock file of a daemon writing @pidfile to @run_dir, or NULL. */
static char *vd_lock_path(const char *run_dir, const char *pidfile)
{
	char *path = NULL;
	int len;

	if (run_dir) {
		len = asprintf(&path, "%s/vmbusd.lock", run_dir);
	} else if (pidfile) {
		const char *slash = strrchr(pidfile, '/');

		if (!slash)
			len = asprintf(&path, "vmbusd.lock");
		else
			len = asprintf(&path, "%.*s/vmbusd.lock",
				       (int)(slash - pidfile + (slash == pidfile)),
				       pidfile);
	} else {
		/* Made here: nobody else makes /run/xenvmbus. */
		if (mkdir(VD_RUN_DIR, 0755) < 0 && errno != EEXIST) {
			dlog(LOG_ERR, "failed to create \"%s\" (%s)", VD_RUN_DIR,
			     strerror(errno));
			return NULL;
		}
		len = asprintf(&path, VD_RUN_DIR "/vmbusd.lock");
	}
	return len < 0 ? NULL : path;
}

static int vd_write_pidfile(const char *pidfile)
{
	FILE *f = fopen(pidfile, "w");

	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
		int err = errno;

		dlog(LOG_ERR, "failed to write pid file \"%s\" (%s)", pidfile,
		     strerror(err));
		return -err;
	}
	return 0;
}

/*
 * Daemon mode: the parent stays until the child serves or fails, so an
 * error of the start-up (xenstore unreachable, a second instance) is on
 * the terminal and in the exit status of the command that started it,
 * not only in syslog.  The child writes one byte to the pipe when ready;
 * the parent ends with the child's status when the pipe closes without.
 */
static int vd_daemon_start(void)
{
	int p[2], st;
	pid_t pid;
	ssize_t n;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		fprintf(stderr, "vmbusd: failed to start the daemon (%s)\n",
			strerror(errno));
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		do
			n = read(p[0], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n == 1)
			_exit(0);
		/* It said why on standard error, which it shares with us. */
		if (waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		    WEXITSTATUS(st))
			_exit(WEXITSTATUS(st));
		fprintf(stderr, "vmbusd: the daemon ended during its start\n");
		_exit(1);
	}
	close(p[0]);
	ready_fd = p[1];
	setsid();
	if (chdir("/") < 0)
		return -1;
	return 0;
}

/* Serving: the parent may go, the daemon leaves the terminal. */
static void vd_daemon_ready(void)
{
	int fd;

	if (ready_fd < 0)
		return;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	dlog_open("vmbusd", DLOG_SYSLOG, LOG_DEBUG);
	if (write(ready_fd, "r", 1) < 0)
		dlog(LOG_WARNING, "failed to tell the starting parent "
		     "(%s)", strerror(errno));
	close(ready_fd);
	ready_fd = -1;
}

/* Refuse the command line in one line on standard error. */
static int vd_refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int vd_refuse(const char *fmt, ...)
{
	va_list ap;

	fputs("vmbusd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("; see vmbusd --help\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'F' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "drop-caps", no_argument, NULL, 'D' },	/* the default */
		{ "keep-caps", no_argument, NULL, 'K' },
		{ "guest-map-pages", required_argument, NULL, 'g' },
		{ "host-map-pages", required_argument, NULL, 'H' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pidfile = NULL, *run_dir = NULL;
	const char *config = VD_CONFIG_FILE;
	bool config_given = false;
	char *lock_path = NULL;
	int c, li, rc = 1;
	bool verbose = false, drop_caps = true, pid_written = false;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":Fp:r:c:DKg:H:vhV", opts, &li)) != -1) {
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
			    v < VMBUS_SERVER_MAPS_MIN || v > UINT32_MAX)
				return vd_refuse("--%s takes a number of pages "
					"from %u to %u, not \"%s\"",
					c == 'g' ? "guest-map-pages" :
					"host-map-pages", VMBUS_SERVER_MAPS_MIN,
					UINT32_MAX, optarg);
			if (c == 'g')
				vd_guest_map_pages = (uint32_t)v;
			else
				vmbus_server_set_host_map_limit((uint32_t)v);
			break;
		}
		case 'F': foreground = true; break;
		case 'p':
		case 'r':
		case 'c':
			if (!optarg[0])
				return vd_refuse("--%s needs a path, not \"\"",
						 opts[li].name);
			if (c == 'p')
				pidfile = optarg;
			else if (c == 'r')
				run_dir = optarg;
			else
				config = optarg, config_given = true;
			break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout, argv[0]); return 0;
		case 'V':
			printf("vmbusd (" PACKAGE_NAME ") " PACKAGE_VERSION "\n");
			return 0;
		case ':':
			return vd_refuse("option %s needs a value",
					 argv[optind - 1]);
		default:
			if (optopt)
				return vd_refuse("no option -%c", optopt);
			return vd_refuse("no option \"%s\"", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return vd_refuse("no arguments are taken, not \"%s\"",
				 argv[optind]);
	/*
	 * Everything on stderr until the daemon serves (then, in daemon
	 * mode, only syslog); syslog per the mask below.
	 */
	dlog_open("vmbusd", DLOG_SYSLOG | DLOG_STDERR,
		  foreground || verbose ? LOG_DEBUG : LOG_NOTICE);
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
	/* The file is read first: a mistake in it is said on the terminal. */
	if (vd_config_load(config, config_given) < 0) {
		vd_config_free();
		return 1;
	}
	if (!foreground && vd_daemon_start() < 0)
		return 1;
	lock_path = vd_lock_path(run_dir, pidfile);
	if (!lock_path || vd_lock(lock_path) < 0)
		goto out;
	if (vd_loop_init(vd_publish) < 0 ||
	    vd_service_register(&vd_pipe_service) < 0 ||
	    vd_service_register(&vd_p2p_service) < 0 ||
	    vd_service_register(&vd_hvsock_service) < 0 ||
	    vd_service_register(&vd_nic_service) < 0 ||
	    vd_service_register(&vd_ic_heartbeat_service) < 0 ||
	    vd_service_register(&vd_ic_shutdown_service) < 0 ||
	    vd_service_register(&vd_ic_timesync_service) < 0 ||
	    vd_service_register(&vd_ic_kvp_service) < 0 ||
	    vd_service_register(&vd_storage_service) < 0)
		goto out;
	vd_xs = xs_open(0);
	if (!vd_xs) {
		dlog(LOG_ERR, "failed to open xenstore (%s)", strerror(errno));
		goto out;
	}
	if (!xs_watch(vd_xs, VD_BACKEND_ROOT, "backend") ||
	    !xs_watch(vd_xs, "@releaseDomain", "release") ||
	    !xs_watch(vd_xs, "@introduceDomain", "introduce")) {
		dlog(LOG_ERR, "failed to watch \"%s\" (%s)", VD_BACKEND_ROOT,
		       strerror(errno));
		goto out;
	}
	if (vd_registry_start() < 0)
		goto out;
	if (drop_caps && vd_drop_caps() < 0)
		goto out;
	/*
	 * What a daemon before this one published goes; the state of the
	 * guests served now is there before anyone is told that it serves.
	 */
	vd_config_scan(vd_xs);
	vd_rescan();
	if (vd_publish_start() < 0)
		goto out;
	if (pidfile) {
		if (vd_write_pidfile(pidfile) < 0)
			goto out;
		pid_written = true;
	}
	vd_daemon_ready();
	sd_notify(0, "READY=1");
	if (drop_caps)
		vd_drop_caps_said();
	else
		vd_keep_caps_said();
	{
		uint32_t mapped, limit;

		vmbus_server_host_maps(&mapped, &limit);
		dlog(LOG_NOTICE, "serving buses under %s (grant mappings: %u "
		       "pages per guest, %u in all)", VD_BACKEND_ROOT,
		       vd_guest_map_pages ? vd_guest_map_pages :
		       VMBUS_SERVER_GUEST_MAPS_DEFAULT, limit);
	}
	rc = vd_loop_run() < 0 ? 1 : 0;
	sd_notify(0, "STOPPING=1\nSTATUS=releasing every bus");
	dlog(LOG_NOTICE, "exiting");
out:
	vd_guests_release();
	vd_loop_fini();
	if (vd_xs) {
		xs_rm(vd_xs, XBT_NULL, VD_STATE_ROOT);
		xs_close(vd_xs);
	}
	if (pid_written)
		unlink(pidfile);
	/* An empty lock file: the next daemon finds no stale pid in it. */
	if (lock_fd >= 0 && ftruncate(lock_fd, 0) < 0)
		dlog(LOG_WARNING, "failed to empty \"%s\" (%s)", lock_path,
		     strerror(errno));
	free(lock_path);
	vd_config_free();
	return rc;
}
