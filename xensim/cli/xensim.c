// SPDX-License-Identifier: GPL-2.0-only
/*
 * xensim - the toolstack of the simulated Xen host.
 *
 * It starts and stops the host (xensimd plus Debian's unmodified xenstored
 * running on it), creates and destroys domains the way libxl does (domain,
 * xenstore page and port, the /local/domain/<id> nodes, XS_INTRODUCE), and
 * runs programs inside a domain: a program runs in domain N when the Xen
 * libraries it loads are the simulated ones and XENSIM_DOMID=N.
 */
#include "config.h"

#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>

#include "../libs/simconn.h"
#include "proc.h"

#ifndef PKGLIBDIR
#define PKGLIBDIR "/usr/local/lib/xenvmbus"
#endif
#ifndef SBINDIR
#define SBINDIR "/usr/local/sbin"
#endif

static const char *rundir;
/* When set, no wait of this command goes past it (destroy --wait). */
static double deadline;
static char exedir[PATH_MAX];

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("xensim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool exists(const char *p)
{
	return access(p, F_OK) == 0;
}

/* Paths: next to this binary in a build tree, else the installed ones. */
static const char *libdir(void)
{
	static char buf[PATH_MAX + 8];

	if (getenv("XENSIM_LIBDIR"))
		return getenv("XENSIM_LIBDIR");
	snprintf(buf, sizeof(buf), "%s/libs", exedir);
	if (exists(buf))
		return buf;
	return PKGLIBDIR "/xensim";
}

static const char *daemon_path(void)
{
	static char buf[PATH_MAX + 16];

	if (getenv("XENSIM_DAEMON"))
		return getenv("XENSIM_DAEMON");
	snprintf(buf, sizeof(buf), "%s/xensimd", exedir);
	if (exists(buf))
		return buf;
	return SBINDIR "/xensimd";
}

static void path_in_run(char *buf, size_t len, const char *leaf)
{
	if ((size_t)snprintf(buf, len, "%s/%s", rundir, leaf) >= len)
		die("run directory path \"%s\" is too long", rundir);
}

/* ---- hypercalls, as dom0 ---- */

static struct simconn hv;

static void hv_open(void)
{
	if (hv.fd > 0)
		return;
	setenv("XENSIM_DOMID", "0", 1);
	if (simconn_open(&hv, true, NULL) < 0)
		die("failed to connect to the simulated hypervisor in \"%s\": %s "
		    "(is the host started? try: xensim host start)", rundir, strerror(errno));
}

static int hv_domctl(uint32_t op, uint32_t domid, uint32_t arg)
{
	struct xensim_domctl_req q = { .hdr.op = op, .domid = domid, .arg = arg };
	struct xensim_rsp r;

	hv_open();
	return simconn_call(&hv, &q, sizeof(q), &r, sizeof(r), NULL, NULL, 0, NULL);
}

static int dominfo(struct xensim_dominfo **out)
{
	static union {
		struct xensim_dominfo_rsp r;
		uint8_t buf[XENSIM_MSG_MAX];
	} u;
	struct xensim_dominfo_req q = { .hdr.op = XENSIM_OP_DOMINFO, .max = 1024 };

	hv_open();
	if (simconn_call(&hv, &q, sizeof(q), u.buf, sizeof(u.buf), NULL, NULL, 0, NULL) < 0)
		die("failed to list domains: %s", strerror(errno));
	*out = (struct xensim_dominfo *)(&u.r + 1);
	return u.r.count;
}

/* A domain named by id or by name; @action says what it is wanted for. */
static uint32_t resolve(const char *action, const char *arg)
{
	struct xensim_dominfo *di;
	char *end;
	unsigned long id;
	int i, n;

	if (!*arg)
		die("%s domain \"\": empty domain name", action);
	id = strtoul(arg, &end, 10);
	n = dominfo(&di);
	for (i = 0; i < n; i++) {
		if ((*end == '\0' && isdigit((unsigned char)arg[0]) && di[i].domid == id) ||
		    !strcmp(di[i].name, arg))
			return di[i].domid;
	}
	die("%s domain \"%s\": no such domain", action, arg);
}

/* A decimal number from @min to @max given to option @opt, or die. */
static unsigned long parse_num(const char *action, const char *opt, const char *arg,
			       unsigned long min, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = isdigit((unsigned char)arg[0]) ? strtoul(arg, &end, 10) : (errno = EINVAL, 0);
	if (errno || *end || v < min || v > max)
		die("%s: %s \"%s\": not a number from %lu to %lu", action, opt, arg, min, max);
	return v;
}

/* getopt_long with its own one-line messages (argv[0] is the command). */
static int getopt_or_die(const char *cmd, int argc, char **argv, const char *shortopts,
			 const struct option *longopts)
{
	char spec[32];
	int opt;

	snprintf(spec, sizeof(spec), ":%s", shortopts);
	opterr = 0;
	opt = getopt_long(argc, argv, spec, longopts, NULL);
	if (opt == ':')
		die("%s: option \"%s\" needs a value", cmd, argv[optind - 1]);
	if (opt == '?') {
		if (optopt)
			die("%s: unknown option \"-%c\" (see xensim --help)", cmd, optopt);
		die("%s: unknown option \"%s\" (see xensim --help)", cmd, argv[optind - 1]);
	}
	return opt;
}

static struct xensim_dominfo *find_info(uint32_t domid)
{
	struct xensim_dominfo *di;
	int i, n = dominfo(&di);

	for (i = 0; i < n; i++)
		if (di[i].domid == domid)
			return &di[i];
	return NULL;
}

/* ---- xenstore, as dom0 ---- */

static struct xs_handle *xs_dom0(void)
{
	char path[PATH_MAX];
	struct xs_handle *xsh;

	double end = now() + 5;

	if (deadline && deadline < end)
		end = deadline;
	path_in_run(path, sizeof(path), "xenstored/socket");
	setenv("XENSTORED_PATH", path, 1);
	/*
	 * xenstored binds its socket before it listens: right after the file
	 * appears, a connect may still be refused.
	 */
	while (!(xsh = xs_open(XS_OPEN_SOCKETONLY)) && errno == ECONNREFUSED &&
	       now() < end)
		usleep(20000);
	if (!xsh)
		die("failed to connect to xenstored at \"%s\": %s", path, strerror(errno));
	return xsh;
}

static void xs_put(struct xs_handle *xsh, xs_transaction_t t, const char *path,
		   const char *val, struct xs_permissions *perms, unsigned int nperms)
{
	if (!xs_write(xsh, t, path, val, strlen(val)))
		die("failed to write xenstore node \"%s\": %s", path, strerror(errno));
	if (perms && !xs_set_permissions(xsh, t, path, perms, nperms))
		die("failed to set permissions of xenstore node \"%s\": %s", path,
		    strerror(errno));
}

/* ---- host ---- */

/* Wait for @path while child @pid runs; *status is its status if it ended, else -1. */
static int wait_for_child(pid_t pid, const char *path, double seconds, int *status)
{
	double end = now() + seconds;

	*status = -1;
	while (!exists(path)) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return -ECHILD;
		if (now() > end)
			return -ETIMEDOUT;
		usleep(10000);
	}
	return 0;
}

static pid_t read_pid(const char *leaf)
{
	char path[PATH_MAX];
	long pid = 0;
	FILE *f;

	path_in_run(path, sizeof(path), leaf);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

/*
 * Liveness of the host's daemons is their locks: xensimd holds
 * xensimd.lock, xenstored inherits xenstored.lock from the fork that
 * starts it, and a lock dies with its holder, kill -9 included.
 */
static int lock_take(const char *leaf)
{
	char path[PATH_MAX];
	int fd;

	path_in_run(path, sizeof(path), leaf);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

static bool lock_held(const char *leaf)
{
	char path[PATH_MAX];
	int fd;
	bool held;

	path_in_run(path, sizeof(path), leaf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	held = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

/*
 * End processes as a host's shutdown does: SIGTERM (to the process group
 * too when the process leads one, as `xensim run` makes it), at most @grace
 * seconds for all of them, then SIGKILL.  Waiting is on pidfds, so an exit
 * is seen at once, a zombie nobody reaps included.  A pid whose start time
 * no longer matches names another process and is left alone.
 */
static void end_procs(const pid_t *pids, const unsigned long long *starts, unsigned int n,
		      double grace)
{
	struct pollfd pfd[256];
	unsigned int i, live = 0;
	int sig, round;

	if (n > 256)
		n = 256;
	for (i = 0; i < n; i++) {
		int fd = pids[i] > 0 ? pidfd_open(pids[i], 0) : -1;

		if (fd >= 0 && starts && proc_start_time(pids[i]) != starts[i]) {
			close(fd);
			fd = -1;
		}
		pfd[i] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	for (round = 0, sig = SIGTERM; round < 2; round++, sig = SIGKILL) {
		double end = now() + (round ? 2 : grace);

		for (i = 0, live = 0; i < n; i++) {
			if (pfd[i].fd < 0)
				continue;
			if (getpgid(pids[i]) == pids[i])
				kill(-pids[i], sig);
			pidfd_send_signal(pfd[i].fd, sig, NULL, 0);
			live++;
		}
		while (live && now() < end) {
			int ms = (int)((end - now()) * 1000) + 1;

			if (poll(pfd, n, ms) < 0 && errno != EINTR)
				break;
			for (i = 0, live = 0; i < n; i++) {
				if (pfd[i].fd >= 0 && pfd[i].revents) {
					close(pfd[i].fd);
					pfd[i].fd = -1;
				}
				live += pfd[i].fd >= 0;
			}
		}
		if (!live)
			return;
	}
	for (i = 0; i < n; i++) {
		if (pfd[i].fd >= 0) {
			fprintf(stderr, "xensim: stop process %ld: still running after SIGKILL\n",
				(long)pids[i]);
			close(pfd[i].fd);
		}
	}
}

/* End the programs `xensim run` started in every domain (dom0 included). */
static void end_programs(void)
{
	static union {
		struct xensim_programs_rsp r;
		uint8_t buf[XENSIM_MSG_MAX];
	} u;
	struct xensim_req q = { .op = XENSIM_OP_PROGRAMS };
	static pid_t pids[256];
	static unsigned long long starts[256];
	struct xensim_program *pg;
	size_t got;
	uint32_t i, n;

	setenv("XENSIM_DOMID", "0", 1);
	if (simconn_open(&hv, true, NULL) < 0)
		return;
	if (simconn_call(&hv, &q, sizeof(q), u.buf, sizeof(u.buf), &got, NULL, 0, NULL) < 0 ||
	    got < sizeof(u.r)) {
		simconn_close(&hv);
		return;
	}
	simconn_close(&hv);
	memset(&hv, 0, sizeof(hv));
	pg = (struct xensim_program *)(&u.r + 1);
	n = u.r.count;
	if (n > (got - sizeof(u.r)) / sizeof(*pg))
		n = (got - sizeof(u.r)) / sizeof(*pg);
	if (n > 256)
		n = 256;
	for (i = 0; i < n; i++) {
		pids[i] = pg[i].pid;
		starts[i] = pg[i].start_time;
	}
	end_procs(pids, starts, n, 2);
}

/* Stop a daemon of the host if its lock says it runs. */
static void stop_daemon(const char *name, const char *pid_leaf, const char *lock_leaf)
{
	pid_t pid;
	unsigned long long start;

	if (!lock_held(lock_leaf))
		return;
	pid = read_pid(pid_leaf);
	if (pid <= 0 || !(start = proc_start_time(pid))) {
		fprintf(stderr, "xensim: stop %s in \"%s\": %s is locked but names no "
			"running process\n", name, rundir, lock_leaf);
		return;
	}
	end_procs(&pid, &start, 1, 5);
}

/* Remove what the daemons leave in the run directory. */
static void clean_rundir(void)
{
	static const char *const leaves[] = {
		"xensimd.pid", "xenstored.pid", "xsd_port", "xsd_kva",
	};
	char path[PATH_MAX], sub[PATH_MAX + 300];
	struct dirent *de;
	DIR *dir;
	unsigned int i;

	for (i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		path_in_run(path, sizeof(path), leaves[i]);
		unlink(path);
	}
	/* xenstored's directory and the domains' directories, one level deep. */
	dir = opendir(rundir);
	while (dir && (de = readdir(dir))) {
		unsigned int id;
		DIR *d2;
		struct dirent *e2;

		if (strcmp(de->d_name, "xenstored") && sscanf(de->d_name, "dom%u", &id) != 1)
			continue;
		path_in_run(path, sizeof(path), de->d_name);
		d2 = opendir(path);
		while (d2 && (e2 = readdir(d2))) {
			if (e2->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e2->d_name);
			unlink(sub);
		}
		if (d2)
			closedir(d2);
		rmdir(path);
	}
	if (dir)
		closedir(dir);
}

/* Stop everything that runs on the host, in the order a host shuts down. */
static void host_teardown(void)
{
	if (lock_held("xensimd.lock"))
		end_programs();
	stop_daemon("xenstored", "xenstored.pid", "xenstored.lock");
	stop_daemon("xensimd", "xensimd.pid", "xensimd.lock");
	clean_rundir();
}

/* Serialises host start and stop on one run directory. */
static void lock_host_or_die(const char *action)
{
	int fd = lock_take("xensim.lock");

	if (fd == -EWOULDBLOCK)
		die("%s host in \"%s\": another xensim host start or stop is running there",
		    action, rundir);
	if (fd < 0)
		die("%s host in \"%s\": lock \"%s/xensim.lock\": %s", action, rundir, rundir,
		    strerror(-fd));
	/* Held until this process exits. */
}

static bool host_starting;

/* A start that fails leaves no half-started host behind. */
static void undo_start(void)
{
	if (host_starting)
		host_teardown();
}

static int host_start(int argc, char **argv)
{
	const char *xenstored = getenv("XENSTORED_BIN");
	char sock[PATH_MAX], pidf[PATH_MAX], dir[PATH_MAX], log[PATH_MAX];
	char preload[2 * PATH_MAX], path[PATH_MAX + 32], lockp[PATH_MAX];
	const char *san = getenv("XENSIM_SAN_PRELOAD");
	const char *why = NULL;
	struct xs_handle *xsh;
	pid_t pid;
	int status;

	if (argc > 1)
		die("start host: unexpected argument \"%s\"", argv[1]);
	if (!xenstored || !*xenstored)
		xenstored = XENSTORED_BIN;
	if (mkdir(rundir, 0755) < 0 && errno != EEXIST)
		die("failed to create run directory \"%s\": %s", rundir, strerror(errno));
	lock_host_or_die("start");

	/* A live host is left alone; what a dead one left behind is cleaned. */
	if (lock_held("xensimd.lock") && lock_held("xenstored.lock"))
		die("start host in \"%s\": already running (xensimd pid %ld, xenstored pid %ld)",
		    rundir, (long)read_pid("xensimd.pid"), (long)read_pid("xenstored.pid"));
	if (lock_held("xensimd.lock"))
		why = "xenstored was not running";
	else if (lock_held("xenstored.lock"))
		why = "xensimd was not running";
	else if (read_pid("xensimd.pid") || read_pid("xenstored.pid"))
		why = "its daemons had died";
	if (why) {
		host_teardown();
		fprintf(stderr, "xensim: cleaned stale run directory \"%s\" (%s)\n", rundir, why);
	}
	host_starting = true;
	atexit(undo_start);

	path_in_run(pidf, sizeof(pidf), "xensimd.pid");
	pid = fork();
	if (pid == 0) {
		execl(daemon_path(), "xensimd", "--rundir", rundir, "--pid-file", pidf,
		      (char *)NULL);
		fprintf(stderr, "xensim: failed to run \"%s\": %s\n", daemon_path(),
			strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		die("failed to start the simulated hypervisor \"%s\" (see syslog)", daemon_path());

	/* Debian's xenstored, unmodified, on the simulated libraries. */
	path_in_run(dir, sizeof(dir), "xenstored");
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		die("failed to create \"%s\": %s", dir, strerror(errno));
	path_in_run(sock, sizeof(sock), "xenstored/socket");
	path_in_run(log, sizeof(log), "xenstored.log");
	path_in_run(lockp, sizeof(lockp), "xenstored.lock");
	snprintf(preload, sizeof(preload), "%s%s%s/libxensim-xsd.so",
		 san && *san ? san : "", san && *san ? ":" : "", libdir());
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		/* Not close-on-exec: xenstored holds it, and with it the lock. */
		int lfd = open(lockp, O_RDWR | O_CREAT, 0644);

		if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) < 0) {
			fprintf(stderr, "xensim: lock \"%s\": %s\n", lockp, strerror(errno));
			_exit(126);
		}
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setsid();
		setenv("LD_LIBRARY_PATH", libdir(), 1);
		setenv("LD_PRELOAD", preload, 1);
		setenv("XENSTORED_RUNDIR", dir, 1);
		setenv("XENSIM_RUNDIR", rundir, 1);
		setenv("XENSIM_DOMID", "0", 1);
		/* xenstored's own leaks are not ours to report. */
		setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
		snprintf(path, sizeof(path), "%s/xenstored.pid", rundir);
		execl(xenstored, "xenstored", "--no-fork", "--pid-file", path, (char *)NULL);
		fprintf(stderr, "xensim: failed to run \"%s\": %s\n", xenstored, strerror(errno));
		_exit(127);
	}
	if (pid < 0)
		die("failed to fork for xenstored: %s", strerror(errno));
	if (wait_for_child(pid, sock, 10, &status) < 0) {
		if (status == -1) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			die("start xenstored \"%s\": no \"%s\" within 10 s (see %s)",
			    xenstored, sock, log);
		}
		die("start xenstored \"%s\": it exited with status %d (see %s)", xenstored,
		    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), log);
	}
	/* What xen-init-dom0 writes for dom0. */
	xsh = xs_dom0();
	xs_put(xsh, XBT_NULL, "/local/domain/0/name", "Domain-0", NULL, 0);
	xs_put(xsh, XBT_NULL, "/local/domain/0/domid", "0", NULL, 0);
	xs_close(xsh);
	host_starting = false;
	printf("host up in %s\n", rundir);
	return 0;
}

static int host_stop(int argc, char **argv)
{
	if (argc > 1)
		die("stop host: unexpected argument \"%s\"", argv[1]);
	if (!exists(rundir))
		return 0;
	lock_host_or_die("stop");
	host_teardown();
	return 0;
}

/* ---- domains ---- */

static int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "memory", required_argument, NULL, 'm' },
		{ "domid", required_argument, NULL, 'd' },
		{ "hvm", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct xensim_create_req q = { .hdr.op = XENSIM_OP_DOMAIN_CREATE };
	struct xensim_create_rsp r;
	struct xs_permissions ro[2], rw[1];
	struct xs_handle *xsh;
	xs_transaction_t t;
	char base[64], path[128], val[64];
	static const char *const guest_dirs[] = {
		"device", "control", "data", "drivers", "feature", "attr", "error",
	};
	unsigned int i;
	int opt;

	struct xensim_dominfo *di;
	int n;

	while ((opt = getopt_or_die("create domain", argc, argv, "n:m:d:H", opts)) != -1) {
		switch (opt) {
		case 'n':
			if (!*optarg)
				die("create domain: --name \"\": empty name");
			if (strlen(optarg) >= sizeof(q.name))
				die("create domain \"%s\": name longer than %zu bytes", optarg,
				    sizeof(q.name) - 1);
			snprintf(q.name, sizeof(q.name), "%s", optarg);
			break;
		case 'm':
			q.memory_mb = parse_num("create domain", "--memory", optarg, 1, 16384);
			break;
		case 'd':
			q.domid = parse_num("create domain", "--domid", optarg, 1, XENSIM_MAX_DOMID);
			break;
		case 'H': q.flags |= XENSIM_CREATE_HVM; break;
		}
	}
	if (optind < argc)
		die("create domain: unexpected argument \"%s\"", argv[optind]);
	/* As xl: a name names one domain. */
	n = dominfo(&di);
	for (int k = 0; k < n; k++) {
		if (q.name[0] && !strcmp(di[k].name, q.name))
			die("create domain \"%s\": a domain with that name already exists "
			    "(domain %u)", q.name, di[k].domid);
		if (q.domid && di[k].domid == q.domid)
			die("create domain: --domid %u: domain %u already exists", q.domid, q.domid);
	}
	if (simconn_call(&hv, &q, sizeof(q), &r, sizeof(r), NULL, NULL, 0, NULL) < 0)
		die("create domain \"%s\": %s", q.name, strerror(errno));

	/* The nodes libxl__domain_make() and libxl__build_post() write. */
	xsh = xs_dom0();
	ro[0] = (struct xs_permissions){ .id = 0, .perms = XS_PERM_NONE };
	ro[1] = (struct xs_permissions){ .id = r.domid, .perms = XS_PERM_READ };
	rw[0] = (struct xs_permissions){ .id = r.domid, .perms = XS_PERM_NONE };
	snprintf(base, sizeof(base), "/local/domain/%u", r.domid);
	for (;;) {
		t = xs_transaction_start(xsh);
		if (t == XBT_NULL)
			die("failed to start a xenstore transaction: %s", strerror(errno));
		xs_put(xsh, t, base, "", ro, 2);
		snprintf(path, sizeof(path), "%s/name", base);
		xs_put(xsh, t, path, q.name[0] ? q.name : "", NULL, 0);
		snprintf(path, sizeof(path), "%s/domid", base);
		snprintf(val, sizeof(val), "%u", r.domid);
		xs_put(xsh, t, path, val, NULL, 0);
		snprintf(path, sizeof(path), "%s/memory/static-max", base);
		snprintf(val, sizeof(val), "%u", (q.memory_mb ? q.memory_mb : 64) * 1024);
		xs_put(xsh, t, path, val, NULL, 0);
		snprintf(path, sizeof(path), "%s/memory/target", base);
		xs_put(xsh, t, path, val, NULL, 0);
		for (i = 0; i < sizeof(guest_dirs) / sizeof(guest_dirs[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", base, guest_dirs[i]);
			xs_put(xsh, t, path, "", rw, 1);
		}
		snprintf(path, sizeof(path), "%s/control/shutdown", base);
		xs_put(xsh, t, path, "", rw, 1);
		snprintf(path, sizeof(path), "%s/store/port", base);
		snprintf(val, sizeof(val), "%u", r.store_port);
		xs_put(xsh, t, path, val, NULL, 0);
		snprintf(path, sizeof(path), "%s/store/ring-ref", base);
		snprintf(val, sizeof(val), "%llu", (unsigned long long)r.store_gfn);
		xs_put(xsh, t, path, val, NULL, 0);
		if (xs_transaction_end(xsh, t, false))
			break;
		if (errno != EAGAIN)
			die("failed to commit the nodes of domain %u: %s", r.domid, strerror(errno));
	}
	if (!xs_introduce_domain(xsh, r.domid, r.store_gfn, r.store_port))
		die("failed to introduce domain %u to xenstored: %s", r.domid, strerror(errno));
	xs_close(xsh);
	printf("%u\n", r.domid);
	return 0;
}

static int wait_gone(uint32_t domid, double seconds)
{
	double end = now() + seconds;

	while (find_info(domid)) {
		if (now() > end)
			return -ETIMEDOUT;
		usleep(10000);
	}
	return 0;
}

static char wait_msg[160];

static void wait_expired(int sig)
{
	ssize_t n = write(2, wait_msg, strlen(wait_msg));

	(void)sig; (void)n;
	_exit(1);
}

static int cmd_destroy(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "wait", optional_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long wait_s = 0;
	bool wait = false;
	struct xs_handle *xsh;
	char path[64];
	uint32_t domid;
	int opt;

	while ((opt = getopt_or_die("destroy domain", argc, argv, "w", opts)) != -1) {
		wait = true;
		wait_s = optarg ? parse_num("destroy domain", "--wait", optarg, 1, 3600) : 10;
	}
	if (optind >= argc)
		die("destroy domain: no domain given (xensim destroy [--wait[=SECONDS]] DOMAIN)");
	if (optind + 1 < argc)
		die("destroy domain: unexpected argument \"%s\"", argv[optind + 1]);
	/*
	 * --wait bounds everything from here on: a xenstored or hypervisor that
	 * does not answer included, not only the wait for the domain to go.
	 */
	if (wait) {
		deadline = now() + wait_s;
		snprintf(wait_msg, sizeof(wait_msg), "xensim: destroy domain \"%.64s\": not gone "
			 "after %lu s (--wait)\n", argv[optind], wait_s);
		signal(SIGALRM, wait_expired);
		alarm(wait_s + 1);
	}
	domid = resolve("destroy", argv[optind]);
	if (domid == 0)
		die("destroy domain 0: domain 0 cannot be destroyed");
	/* As libxl: the domain's directory goes, then the domain. */
	xsh = xs_dom0();
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	if (!xs_rm(xsh, XBT_NULL, path) && errno != ENOENT)
		fprintf(stderr, "xensim: failed to remove xenstore node \"%s\": %s\n",
			path, strerror(errno));
	xs_close(xsh);
	if (hv_domctl(XENSIM_OP_DOMAIN_DESTROY, domid, 0) < 0)
		die("destroy domain %u: %s", domid, strerror(errno));
	if (wait && wait_gone(domid, deadline - now()) < 0)
		die("destroy domain %u: still dying after %lu s (its pages are still mapped)",
		    domid, wait_s);
	return 0;
}

static int cmd_shutdown(int argc, char **argv)
{
	static const char *const reasons[] = { "poweroff", "reboot", "suspend", "crash" };
	uint32_t reason = 0, domid;
	unsigned int i;

	if (argc < 2)
		die("shut down domain: no domain given (xensim shutdown DOMAIN [REASON])");
	if (argc > 3)
		die("shut down domain: unexpected argument \"%s\"", argv[3]);
	if (argc == 3) {
		for (i = 0; i < 4; i++)
			if (!strcmp(argv[2], reasons[i]))
				break;
		if (i == 4)
			die("shut down domain \"%s\": unknown reason \"%s\" (poweroff, reboot, "
			    "suspend or crash)", argv[1], argv[2]);
		reason = i;
	}
	domid = resolve("shut down", argv[1]);
	if (hv_domctl(XENSIM_OP_DOMAIN_SHUTDOWN, domid, reason) < 0)
		die("shut down domain %u: %s", domid, strerror(errno));
	return 0;
}

static const char *state_str(uint32_t f)
{
	static char s[8];

	snprintf(s, sizeof(s), "%c%c%c%c%c%c",
		 (f & XENSIM_DOM_RUNNING) ? 'r' : '-', '-',
		 (f & XENSIM_DOM_PAUSED) ? 'p' : '-',
		 (f & XENSIM_DOM_SHUTDOWN) ? 's' : '-',
		 (f & XENSIM_DOM_CRASHED) ? 'c' : '-',
		 (f & XENSIM_DOM_DYING) ? 'd' : '-');
	return s;
}

static int cmd_list(int argc, char **argv)
{
	struct xensim_dominfo *di;
	int i, n;

	if (argc > 1)
		die("list domains: unexpected argument \"%s\"", argv[1]);
	n = dominfo(&di);
	printf("%-32s %5s %8s %6s\n", "Name", "ID", "Mem", "State");
	for (i = 0; i < n; i++)
		printf("%-32s %5u %8u %6s\n", di[i].name, di[i].domid,
		       di[i].max_pages / 256, state_str(di[i].flags));
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	struct xensim_domctl_req q = { .hdr.op = XENSIM_OP_STATS };
	struct xensim_stats_rsp r;
	bool json = argc > 2 && !strcmp(argv[2], "--json");

	if (argc < 2)
		die("show domain: no domain given (xensim info DOMAIN [--json])");
	if (argc > 3 || (argc == 3 && !json))
		die("show domain \"%s\": unexpected argument \"%s\"", argv[1], argv[2]);
	q.domid = resolve("show", argv[1]);
	if (simconn_call(&hv, &q, sizeof(q), &r, sizeof(r), NULL, NULL, 0, NULL) < 0)
		die("show domain %u: %s", q.domid, strerror(errno));
	if (json)
		printf("{\"domid\":%u,\"ports\":%u,\"grants\":%u,\"grant_maps\":%u,"
		       "\"maps_held\":%u,\"frames\":%u,\"connections\":%u,\"domains\":%u}\n",
		       r.domid, r.ports, r.grants, r.grant_maps, r.maps_held, r.frames,
		       r.connections, r.domains);
	else
		printf("domain %u: ports %u, grants %u (mapped %u times), foreign maps %u, "
		       "frames %u, handles %u; %u domains on the host\n",
		       r.domid, r.ports, r.grants, r.grant_maps, r.maps_held, r.frames,
		       r.connections, r.domains);
	return 0;
}

/* The environment of a program running in a domain. */
static void domain_env(uint32_t domid, bool print)
{
	char val[PATH_MAX + 64], ldp[2 * PATH_MAX + 8];
	const char *old = getenv("LD_LIBRARY_PATH");

	snprintf(val, sizeof(val), "%u", domid);
	setenv("XENSIM_DOMID", val, 1);
	setenv("XENSIM_RUNDIR", rundir, 1);
	if (domid == 0)
		snprintf(val, sizeof(val), "%s/xenstored/socket", rundir);
	else
		snprintf(val, sizeof(val), "%s/dom%u/xenbus", rundir, domid);
	setenv("XENSTORED_PATH", val, 1);
	if (old && *old && strncmp(old, libdir(), strlen(libdir())))
		snprintf(ldp, sizeof(ldp), "%s:%s", libdir(), old);
	else
		snprintf(ldp, sizeof(ldp), "%s", libdir());
	setenv("LD_LIBRARY_PATH", ldp, 1);
	if (print) {
		printf("export XENSIM_RUNDIR='%s'\n", rundir);
		printf("export XENSIM_DOMID=%u\n", domid);
		printf("export XENSTORED_PATH='%s'\n", getenv("XENSTORED_PATH"));
		printf("export LD_LIBRARY_PATH='%s'\n", ldp);
	}
}

static int cmd_env(int argc, char **argv)
{
	if (argc > 2)
		die("print environment: unexpected argument \"%s\"", argv[2]);
	domain_env(argc > 1 ? resolve("enter", argv[1]) : 0, true);
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct xensim_domctl_req q = { .hdr.op = XENSIM_OP_REGISTER_PID };
	struct xensim_rsp r;
	struct simconn sc;
	uint32_t domid;
	int i = 2;

	if (argc < 2)
		die("run in domain: no domain given (xensim run DOMAIN [--] COMMAND...)");
	if (argc > 2 && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc)
		die("run in domain \"%s\": no command given", argv[1]);
	domid = resolve("run in", argv[1]);
	domain_env(domid, false);
	/* Enrol in the domain: destroying it kills this process group. */
	if (!isatty(0))
		setpgid(0, 0);
	if (simconn_open(&sc, true, NULL) < 0)
		die("failed to enter domain %u: %s", domid, strerror(errno));
	q.arg = (uint32_t)getpid();
	if (simconn_call(&sc, &q, sizeof(q), &r, sizeof(r), NULL, NULL, 0, NULL) < 0)
		die("failed to register with domain %u: %s", domid, strerror(errno));
	simconn_close(&sc);
	execvp(argv[i], argv + i);
	die("run \"%s\" in domain %u: %s", argv[i], domid, strerror(errno));
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xensim [--rundir DIR] COMMAND [ARGS]\n"
		"The toolstack of the simulated Xen host.\n\n"
		"  host start              start the hypervisor and Debian's xenstored\n"
		"  host stop               stop them\n"
		"  create [--name N] [--memory MB] [--domid ID] [--hvm]\n"
		"                          create a domain, print its id\n"
		"  destroy [--wait[=S]] DOM  destroy a domain (wait until it is gone,\n"
		"                          at most S seconds, 10 by default)\n"
		"  shutdown DOM [REASON]   mark a domain shut down (poweroff, reboot,\n"
		"                          suspend, crash)\n"
		"  list                    list the domains\n"
		"  info DOM [--json]       resources a domain holds\n"
		"  run DOM [--] CMD...     run a program inside a domain\n"
		"  env [DOM]               print the environment of a domain's programs\n\n"
		"DOM is a domain id or name.  The run directory is $XENSIM_RUNDIR or %s.\n"
		"  --version               print the version\n",
		XENSIM_DEFAULT_RUNDIR);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "create", cmd_create },
		{ "destroy", cmd_destroy },
		{ "shutdown", cmd_shutdown },
		{ "list", cmd_list },
		{ "info", cmd_info },
		{ "run", cmd_run },
		{ "env", cmd_env },
	};
	char exe[PATH_MAX];
	ssize_t n;
	unsigned int i;

	rundir = getenv("XENSIM_RUNDIR");
	if (!rundir)
		rundir = XENSIM_DEFAULT_RUNDIR;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		*strrchr(exe, '/') = '\0';
		snprintf(exedir, sizeof(exedir), "%s", exe);
	}
	while (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "--rundir") || !strcmp(argv[1], "-r")) {
			if (argc < 3 || !*argv[2])
				die("%s: needs a directory", argv[1]);
			rundir = argv[2];
			argc -= 2;
			argv += 2;
		} else if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
			printf("xensim (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return 0;
		} else {
			die("unknown option \"%s\" (see xensim --help)", argv[1]);
		}
	}
	if (!*rundir)
		die("run directory: XENSIM_RUNDIR is empty");
	setenv("XENSIM_RUNDIR", rundir, 1);
	if (argc < 2)
		die("no command given (see xensim --help)");
	if (!strcmp(argv[1], "host")) {
		if (argc > 2 && !strcmp(argv[2], "start"))
			return host_start(argc - 2, argv + 2);
		if (argc > 2 && !strcmp(argv[2], "stop"))
			return host_stop(argc - 2, argv + 2);
		if (argc < 3)
			die("host: no action given (xensim host start|stop)");
		die("host: unknown action \"%s\" (xensim host start|stop)", argv[2]);
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	die("unknown command \"%s\" (see xensim --help)", argv[1]);
}
