// SPDX-License-Identifier: GPL-2.0-only
/*
 * xen-kdrelay - relay a domain's Viridian synthetic debugger port.
 *
 * Attaches to the debug port of one domain (kd-port.c) and carries its
 * PDUs to one sink (kd-sink.h): a stream debugger (--tcp), WinDbg's KDNET
 * (--udp) or another domain's port (--to-domain).  This file is the
 * command line and the lifecycle: one relay per domain (a lock in the run
 * dir), start-up errors reported before the daemon detaches, readiness
 * and status for systemd, the privilege drop, and the loop.
 *
 * The debuggee is a domain id (-d: the relay exits when that domain is
 * gone), a name (-n: looked up at start, then followed across reboots) or
 * a name to follow from the start (--follow: the domain may not exist yet;
 * what a xen-kdrelay@NAME unit runs).  Its death and rebirth come from the
 * xenstore watches @releaseDomain and @introduceDomain; without xenstore
 * the relay checks once a second.
 *
 * Nothing is lost by this relay: an out record is consumed (cons advanced)
 * only once the sink accepted it, and in records are only produced when
 * they fit.  cons lives in the shared page, so a restarted relay resumes
 * where the previous one stopped; the only window for a repeat is a relay
 * killed between handing a record to the sink and storing cons.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenctrl.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "dlog.h"

#include "kd-dmop.h"
#include "kd-port.h"
#include "kd-sink.h"

#define KD_EXIT_ERROR		1
#define KD_EXIT_USAGE		2
#define KD_EXIT_GONE		3
#define KD_NOBODY		65534	/* when the system has no "nobody" */
/*
 * With the xenstore watches, what no event tells: another backend's
 * --detach, a port Xen marked broken.  Without them, everything.
 */
#define KD_RECHECK_MS		10000
#define KD_POLL_CHECK_MS	1000
#define KD_MAX_WAIT		86400	/* --wait: a day */
#define KD_DEFAULT_RUNDIR	"/run/xen-kdrelay"

static bool verbose;
static volatile sig_atomic_t stopping;

/* ---- the command line ---- */

/*
 * Numbers are decimal, without sign, within [min, max]: "--tcp 99999",
 * "--domain -1" and "--wait 1e9" are errors, not wrapped values.
 */
static int parse_num(const char *opt, const char *arg, unsigned long min, unsigned long max,
		     unsigned long *v)
{
	char *end;

	errno = 0;
	if (*arg < '0' || *arg > '9' || (*v = strtoul(arg, &end, 10), errno) || *end ||
	    *v < min || *v > max) {
		dlog(LOG_ERR, "failed to parse %s \"%s\" (not a number from %lu to %lu)", opt,
		     arg, min, max);
		return -EINVAL;
	}
	return 0;
}

static int parse_domid(const char *opt, const char *arg, uint32_t *domid)
{
	unsigned long v;

	if (parse_num(opt, arg, 0, DOMID_FIRST_RESERVED - 1, &v) < 0)
		return -EINVAL;
	*domid = v;
	return 0;
}

/* A domain name as xl takes it, usable in a lock file's name. */
static int check_name(const char *opt, const char *name)
{
	const char *why = !*name ? "empty name" :
			  strchr(name, '/') ? "a domain name has no '/'" :
			  strlen(name) > 64 ? "longer than 64 characters" : NULL;

	if (why) {
		dlog(LOG_ERR, "failed to parse %s \"%s\" (%s)", opt, name, why);
		return -EINVAL;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: xen-kdrelay (-d DOMID | -n NAME | --follow NAME)\n"
"                   (--tcp [ADDR:]PORT [--token FILE] | --udp HOST:PORT [--frames MODE] |\n"
"                    --to-domain DOMID) [options]\n"
"       xen-kdrelay --detach -d DOMID\n"
"Relay the Viridian synthetic debugger port of a domain.\n"
"  -d, --domain DOMID      the debuggee; the relay exits when it is gone\n"
"  -n, --name NAME         the debuggee by name (must exist), followed across reboots\n"
"      --follow NAME       the same, waiting for NAME when it does not exist (units)\n"
"  -t, --tcp [ADDR:]PORT   listen for one stream debugger (default 127.0.0.1)\n"
"  -k, --token FILE        first line of FILE must open each TCP session\n"
"  -u, --udp HOST:PORT     WinDbg KDNET endpoint (one datagram per PDU)\n"
"  -f, --frames MODE       what the guest's PDUs carry for --udp: auto (default:\n"
"                          as the hypervisor marks them, else by content),\n"
"                          ethernet (Ethernet/IPv4/UDP frames) or bare (payload)\n"
"  -D, --to-domain DOMID   another domain's debug port\n"
"      --wait-for-syndbg   wait for a domain without a synthetic debugger to get one\n"
"      --wait SECS         give up waiting after SECS seconds (0 to %d)\n"
"  -r, --run-dir DIR       where the per-domain locks are (default %s)\n"
"  -U, --user USER         drop to USER after attaching (default: nobody if root)\n"
"  -F, --foreground        stay in the foreground, log to stderr\n"
"  -p, --pid-file FILE     write the daemon's pid to FILE\n"
"  -v, --verbose           log debug messages\n"
"      --detach            detach whichever backend is attached and exit\n"
"  -V, --version           print the version\n"
"  -h, --help              this text\n", KD_MAX_WAIT, KD_DEFAULT_RUNDIR);
}

/* ---- privileges ---- */

/* Close every descriptor inherited beyond stdio before opening our own. */
static void close_inherited(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fds[256], n = 0, i;

	if (!d)
		return;
	while ((e = readdir(d)) && n < (int)(sizeof(fds) / sizeof(fds[0]))) {
		int fd = atoi(e->d_name);

		if (fd > 2 && fd != dirfd(d))
			fds[n++] = fd;
	}
	closedir(d);
	for (i = 0; i < n; i++)
		close(fds[i]);
}

/*
 * Become user (default "nobody" when started as root, uid and gid 65534
 * where no such user exists).  The handles
 * opened before (privcmd, foreign memory, event channels, xenstore, the
 * sockets and the locks) stay usable, which is all a re-attach needs.
 */
static int drop_privileges(const char *user)
{
	struct passwd *pw;
	uid_t uid = KD_NOBODY;
	gid_t gid = KD_NOBODY;

	if (geteuid() != 0) {
		if (user)
			dlog(LOG_DEBUG, "not root: keeping uid %u", (unsigned int)geteuid());
		return 0;
	}
	errno = 0;
	pw = getpwnam(user ? user : "nobody");
	if (pw) {
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	} else if (user) {
		dlog(LOG_ERR, "failed to look up user \"%s\" (%s)", user,
		       errno ? strerror(errno) : "no such user");
		return -ENOENT;
	}
	/* Without a "nobody" entry (a minimal dom0), its customary ids. */
	if (!user)
		user = "nobody";
	if (uid == 0) {
		dlog(LOG_WARNING, "keeping root privileges (--user %s)", user);
		return 0;
	}
	if (chdir("/") < 0 || setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		int err = errno;

		dlog(LOG_ERR, "failed to drop privileges to user \"%s\" (%s)", user,
		       strerror(err));
		return -err;
	}
	if (setuid(0) == 0) {
		dlog(LOG_ERR, "failed to drop privileges to user \"%s\" (root regained)", user);
		return -EPERM;
	}
	dlog(LOG_INFO, "running as user \"%s\" (uid %u gid %u)", user, (unsigned int)uid,
	       (unsigned int)gid);
	return 0;
}

/* ---- lifecycle ---- */

/*
 * Daemon mode: the parent stays until the child is ready or failed, so a
 * start-up error reaches the caller's standard error and exit status.
 * Returns in the child with *ready_fd to signal on, or never in the parent.
 */
static int kd_daemonize(int *ready_fd)
{
	int pfd[2], status;
	char c;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		dlog(LOG_ERR, "failed to daemonize: pipe (%s)", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		dlog(LOG_ERR, "failed to daemonize: fork (%s)", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		ssize_t n;

		/* A byte: the child is ready.  EOF: it ended; its status is ours. */
		close(pfd[1]);
		while ((n = read(pfd[0], &c, 1)) < 0 && errno == EINTR)
			;
		if (n == 1)
			_exit(0);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : KD_EXIT_ERROR);
	}
	close(pfd[0]);
	if (setsid() < 0)
		dlog(LOG_WARNING, "failed to start a new session (%s)", strerror(errno));
	*ready_fd = pfd[1];
	return 0;
}

/* The daemon is ready: the parent may go, standard streams are let go. */
static void kd_daemon_ready(int *ready_fd)
{
	int fd;

	if (*ready_fd < 0)
		return;
	dlog_open("xen-kdrelay", DLOG_SYSLOG, verbose ? LOG_DEBUG : LOG_INFO);
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (write(*ready_fd, "r", 1) < 0)
		dlog(LOG_DEBUG, "failed to tell the parent we are ready (%s)", strerror(errno));
	close(*ready_fd);
	*ready_fd = -1;
}

/* READY=1 and STATUS= lines for a Type=notify unit; nothing elsewhere. */
static void kd_notify(const char *fmt, ...)
{
#ifdef HAVE_LIBSYSTEMD
	static char last[256];
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!strcmp(msg, last))
		return;
	snprintf(last, sizeof(last), "%s", msg);
	sd_notify(0, msg);
#else
	(void)fmt;
#endif
}

/* What the port is doing, as STATUS= says it. */
static void kd_status(const struct kd_port *p, const char *sink)
{
	if (p->attached && p->name)
		kd_notify("STATUS=attached to d%u (\"%s\"), relaying to %s", p->domid, p->name,
			  sink);
	else if (p->attached)
		kd_notify("STATUS=attached to d%u, relaying to %s", p->domid, sink);
	else if (p->name && !p->have_domid)
		kd_notify("STATUS=%s; waiting for a domain named \"%s\"",
			  p->attached_once ? "guest gone" : "no such guest", p->name);
	else if (p->attach_err == -EOPNOTSUPP)
		kd_notify("STATUS=waiting: d%u has no synthetic debugger", p->domid);
	else
		kd_notify("STATUS=waiting to attach to d%u (%s)", p->domid,
			  strerror(-p->attach_err));
}

/* ---- one relay per debuggee ---- */

/*
 * The run dir holds a lock per domain id ("dID.lock") and per name
 * ("name-NAME.lock"), held with flock(2) while the relay runs and holding
 * its pid.  A relay by id takes its domain's id and name, one by name the
 * name: any two relays of the same debug port meet on one of them, and
 * nothing needs a new lock after the privileges are dropped.  A lock left
 * by a relay killed with SIGKILL is free: flock dies with its holder.
 */
static const char *kd_rundir;
static int kd_locks[4] = { -1, -1, -1, -1 };

/* The run dir: given, the simulated host's, or the system's. */
static int kd_open_rundir(const char *dir)
{
	static char sim[4096];
	const char *xs = getenv("XENSIM_RUNDIR");

	if (!dir && xs && *xs) {
		snprintf(sim, sizeof(sim), "%s/kdrelay", xs);
		dir = sim;
	}
	kd_rundir = dir ? dir : KD_DEFAULT_RUNDIR;
	if (mkdir(kd_rundir, 0755) < 0 && errno != EEXIST) {
		dlog(LOG_ERR, "failed to create run dir \"%s\" (%s)", kd_rundir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Takes DIR/KEY.lock for what (as the refusal names it); 0 or -1, logged. */
static int kd_lock(const char *key, const char *what)
{
	char path[4096], buf[32];
	unsigned int i;
	int fd, len;
	ssize_t n;

	for (i = 0; i < sizeof(kd_locks) / sizeof(kd_locks[0]) && kd_locks[i] >= 0; i++)
		;
	if (i == sizeof(kd_locks) / sizeof(kd_locks[0]))
		return -1;
	snprintf(path, sizeof(path), "%s/%s.lock", kd_rundir, key);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		dlog(LOG_ERR, "failed to open lock \"%s\" (%s)", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int err = errno;

		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (err == EWOULDBLOCK)
			dlog(LOG_ERR, "failed to lock \"%s\" (%s is already relayed by pid %s)",
			     path, what, *buf ? buf : "unknown");
		else
			dlog(LOG_ERR, "failed to lock \"%s\" (%s)", path, strerror(err));
		close(fd);
		return -1;
	}
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, len, 0) != len) {
		dlog(LOG_ERR, "failed to write lock \"%s\" (%s)", path, strerror(errno));
		close(fd);
		return -1;
	}
	kd_locks[i] = fd;
	return 0;
}

static int kd_lock_name(const char *name)
{
	char key[96], what[96];

	snprintf(key, sizeof(key), "name-%s", name);
	snprintf(what, sizeof(what), "domain \"%s\"", name);
	return kd_lock(key, what);
}

/* A debuggee or peer given by id: its id, and its name if it has one. */
static int kd_lock_domain(uint32_t domid)
{
	char key[32], *name = kd_domain_name(domid);
	int rc;

	snprintf(key, sizeof(key), "d%u", domid);
	rc = kd_lock(key, key);
	if (!rc && name && *name && !strchr(name, '/'))
		rc = kd_lock_name(name);
	free(name);
	return rc;
}

static void kd_unlock_all(void)
{
	for (unsigned int i = 0; i < sizeof(kd_locks) / sizeof(kd_locks[0]); i++) {
		if (kd_locks[i] >= 0)
			close(kd_locks[i]);
		kd_locks[i] = -1;
	}
}

/* Why the first attach failed, in one line; waited: after --wait SECS. */
static void kd_attach_refusal(const struct kd_port *p, unsigned long waited)
{
	const char *why;

	switch (-p->attach_err) {
	case EOPNOTSUPP:
		why = waited ? "the domain has no synthetic debugger" :
		      "the domain has no synthetic debugger: create it with viridian "
		      "\"syndbg\", or use --wait-for-syndbg";
		break;
	case EBUSY:
		why = "another backend is attached; xen-kdrelay --detach ends its session";
		break;
	case ESRCH:
		why = "the domain is dying";
		break;
	default:
		why = strerror(-p->attach_err);
	}
	if (waited)
		dlog(LOG_ERR, "failed to attach to the debug port of d%u (%s; gave up after "
		     "--wait %lu s)", p->domid, why, waited);
	else
		dlog(LOG_ERR, "failed to attach to the debug port of d%u (%s)", p->domid, why);
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* --detach: end whoever's session on the port of domid. */
static int kd_detach_port(uint32_t domid)
{
	uint32_t backend;
	int fd = kd_privcmd_open();

	if (fd < 0 || kd_privcmd_restrict(fd, domid) < 0 ||
	    kd_dm_syndbg(fd, domid, SYNDBG_DMOP_DETACH, &backend) < 0) {
		dlog(LOG_ERR, "failed to detach the debug port of d%u (%s)", domid,
		     errno == EOPNOTSUPP ? "the domain has no synthetic debugger" :
		     errno == ESRCH ? "no such domain" : strerror(errno));
		if (fd >= 0)
			close(fd);
		return KD_EXIT_ERROR;
	}
	close(fd);
	dlog(LOG_INFO, "detached the debug port of d%u", domid);
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_DETACH = 0x100, OPT_FOLLOW, OPT_WAIT, OPT_WAIT_SYNDBG };
	static const struct option opts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "name", required_argument, NULL, 'n' },
		{ "follow", required_argument, NULL, OPT_FOLLOW },
		{ "tcp", required_argument, NULL, 't' },
		{ "token", required_argument, NULL, 'k' },
		{ "udp", required_argument, NULL, 'u' },
		{ "frames", required_argument, NULL, 'f' },
		{ "to-domain", required_argument, NULL, 'D' },
		{ "wait-for-syndbg", no_argument, NULL, OPT_WAIT_SYNDBG },
		{ "wait", required_argument, NULL, OPT_WAIT },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "user", required_argument, NULL, 'U' },
		{ "foreground", no_argument, NULL, 'F' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "detach", no_argument, NULL, OPT_DETACH },
		{ NULL, 0, NULL, 0 },
	};
	struct kd_port port = KD_PORT_INIT;
	struct kd_sink_conf conf = { .frames = KD_FRAMES_AUTO };
	const struct kd_sink_ops *sink = NULL;
	const char *pidfile = NULL, *user = NULL, *rundir = NULL, *sinkdesc = "";
	bool foreground = false, detach = false, follow = false, wait_syndbg = false;
	bool pid_written = false, sink_open = false, have_wait = false;
	unsigned long wait_secs = 0, v;
	long long deadline = 0, next_check;
	int opt, rc = KD_EXIT_ERROR, ready_fd = -1, watch_fd;
	unsigned int nsinks = 0;

	dlog_open("xen-kdrelay", DLOG_STDERR, LOG_INFO);	/* for the options */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":d:n:t:k:u:f:D:r:U:Fp:vVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (parse_domid("--domain", optarg, &port.domid) < 0)
				return KD_EXIT_USAGE;
			if (port.have_domid) {
				dlog(LOG_ERR, "failed to parse the command line (one --domain only)");
				return KD_EXIT_USAGE;
			}
			port.have_domid = true;
			break;
		case 'n':
		case OPT_FOLLOW:
			if (check_name(opt == 'n' ? "--name" : "--follow", optarg) < 0)
				return KD_EXIT_USAGE;
			if (port.name) {
				dlog(LOG_ERR, "failed to parse the command line (one --name or "
				     "--follow only)");
				return KD_EXIT_USAGE;
			}
			port.name = optarg;
			follow = opt == OPT_FOLLOW;
			break;
		case 't':
			sink = &kd_sink_tcp;
			conf.arg = optarg;
			nsinks++;
			break;
		case 'k': conf.token_file = optarg; break;
		case 'u':
			sink = &kd_sink_udp;
			conf.arg = optarg;
			nsinks++;
			break;
		case 'f':
			if (!strcmp(optarg, "auto")) {
				conf.frames = KD_FRAMES_AUTO;
			} else if (!strcmp(optarg, "ethernet")) {
				conf.frames = KD_FRAMES_ETHERNET;
			} else if (!strcmp(optarg, "bare")) {
				conf.frames = KD_FRAMES_BARE;
			} else {
				dlog(LOG_ERR, "failed to parse --frames \"%s\" (not auto, "
				     "ethernet or bare)", optarg);
				return KD_EXIT_USAGE;
			}
			break;
		case 'D':
			if (parse_domid("--to-domain", optarg, &conf.peer_domid) < 0)
				return KD_EXIT_USAGE;
			sink = &kd_sink_domain;
			nsinks++;
			break;
		case OPT_WAIT_SYNDBG: wait_syndbg = true; break;
		case OPT_WAIT:
			if (parse_num("--wait", optarg, 0, KD_MAX_WAIT, &v) < 0)
				return KD_EXIT_USAGE;
			wait_secs = v;
			have_wait = true;
			break;
		case 'r':
			if (!*optarg) {
				dlog(LOG_ERR, "failed to parse --run-dir \"\" (empty path)");
				return KD_EXIT_USAGE;
			}
			rundir = optarg;
			break;
		case 'U': user = optarg; break;
		case 'F': foreground = true; break;
		case 'p': pidfile = optarg; break;
		case 'v': verbose = true; break;
		case 'V':
			printf("xen-kdrelay (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return 0;
		case 'h': usage(stdout); return 0;
		case OPT_DETACH: detach = true; break;
		case ':':
			dlog(LOG_ERR, "failed to parse the command line (%s needs a value; "
			     "see --help)", argv[optind - 1]);
			return KD_EXIT_USAGE;
		default:
			if (optopt)
				dlog(LOG_ERR, "failed to parse the command line (unknown option "
				     "-%c; see --help)", optopt);
			else
				dlog(LOG_ERR, "failed to parse the command line (unknown option "
				     "\"%s\"; see --help)", argv[optind - 1]);
			return KD_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		dlog(LOG_ERR, "failed to parse the command line (unexpected argument \"%s\"; "
		     "see --help)", argv[optind]);
		return KD_EXIT_USAGE;
	}
	if (detach) {
		if (!port.have_domid || port.name || nsinks) {
			dlog(LOG_ERR, "failed to parse the command line (--detach takes -d DOMID "
			     "and nothing else)");
			return KD_EXIT_USAGE;
		}
		return kd_detach_port(port.domid);
	}
	if (port.have_domid == !!port.name) {
		dlog(LOG_ERR, "failed to parse the command line (give the debuggee: -d DOMID, "
		     "-n NAME or --follow NAME; see --help)");
		return KD_EXIT_USAGE;
	}
	if (nsinks != 1) {
		dlog(LOG_ERR, "failed to parse the command line (give one sink: --tcp, --udp "
		     "or --to-domain; see --help)");
		return KD_EXIT_USAGE;
	}
	if (conf.arg && kd_sink_check_addr(sink == &kd_sink_tcp ? "--tcp" : "--udp",
					   conf.arg) < 0)
		return KD_EXIT_USAGE;
	if (sink == &kd_sink_domain && port.have_domid && conf.peer_domid == port.domid) {
		dlog(LOG_ERR, "failed to parse --to-domain %u (the debuggee itself)",
		     conf.peer_domid);
		return KD_EXIT_USAGE;
	}
	if ((conf.token_file && sink != &kd_sink_tcp) ||
	    (conf.frames != KD_FRAMES_AUTO && sink != &kd_sink_udp)) {
		dlog(LOG_ERR, "failed to parse the command line (%s goes with %s)",
		     conf.token_file ? "--token" : "--frames", conf.token_file ? "--tcp" : "--udp");
		return KD_EXIT_USAGE;
	}
	close_inherited();
	if (!foreground) {
		/* Errors until ready go to the caller's terminal and to syslog. */
		dlog_open("xen-kdrelay", DLOG_STDERR | DLOG_SYSLOG, verbose ? LOG_DEBUG : LOG_INFO);
		if (kd_daemonize(&ready_fd) < 0)
			return KD_EXIT_ERROR;
	} else {
		dlog_open("xen-kdrelay", DLOG_STDERR, verbose ? LOG_DEBUG : LOG_INFO);
	}

	/* One relay per debuggee: the locks come before anything touches it. */
	if (kd_open_rundir(rundir) < 0 || (port.name && kd_lock_name(port.name) < 0))
		goto out;
	if (kd_xen_open(port.name != NULL) < 0)
		goto out;
	if (port.have_domid && kd_domain_live(port.domid) == 0) {
		dlog(LOG_ERR, "failed to attach to the debug port of d%u (no such domain)",
		     port.domid);
		goto out;
	}
	if (port.name && !follow) {
		int err = kd_resolve_name(port.name, &port.domid);

		if (err < 0) {
			dlog(LOG_ERR, "failed to look up domain \"%s\" (%s)", port.name,
			     err == -ENOENT ? "no such domain; --follow waits for it" :
			     strerror(-err));
			goto out;
		}
		port.have_domid = true;
	}
	if (sink == &kd_sink_domain && kd_domain_live(conf.peer_domid) == 0) {
		dlog(LOG_ERR, "failed to attach to the debug port of d%u (no such domain)",
		     conf.peer_domid);
		goto out;
	}
	if ((port.have_domid && !port.name && kd_lock_domain(port.domid) < 0) ||
	    (sink == &kd_sink_domain && kd_lock_domain(conf.peer_domid) < 0))
		goto out;
	if (kd_port_open(&port) < 0)
		goto out;
	if (sink->open(&port, &conf) < 0)
		goto out;
	sink_open = true;
	sinkdesc = sink == &kd_sink_domain ? "another domain's port" : conf.arg;
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");

		if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
			dlog(LOG_ERR, "failed to write pid file \"%s\" (%s)", pidfile,
			     strerror(errno));
			goto out;
		}
		pid_written = true;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);

	/* Attach while privileged, then give the privileges up for good. */
	kd_check_cause = "start";
	if (!kd_port_check(&port))
		goto out_gone;
	if (!port.attached && port.have_domid &&
	    !(wait_syndbg && port.attach_err == -EOPNOTSUPP) && !follow) {
		kd_attach_refusal(&port, 0);
		goto out;
	}
	if (sink->check && !sink->check())
		goto out_gone;
	if (!port.attached) {
		if (port.attach_err == -EOPNOTSUPP)
			dlog(LOG_INFO, "d%u has no synthetic debugger; waiting for one%s",
			     port.domid, follow ? " (or for the next domain of its name)" : "");
		else if (port.have_domid && port.attach_err)
			dlog(LOG_INFO, "cannot attach to d%u yet (%s); waiting",
			     port.domid, strerror(-port.attach_err));
		if (have_wait)
			deadline = now_ms() + wait_secs * 1000LL;
	}
	watch_fd = kd_watch_open();
	if (drop_privileges(user) < 0)
		goto out;
	kd_daemon_ready(&ready_fd);
	kd_status(&port, sinkdesc);
	kd_notify("READY=1");
	next_check = now_ms() + (watch_fd >= 0 ? KD_RECHECK_MS : KD_POLL_CHECK_MS);

	while (!stopping) {
		struct pollfd pfd[2 + KD_SINK_MAX_FDS];
		unsigned int n = 0, isink;
		long long now = now_ms(), due = next_check;
		int iwatch = -1, retry;
		bool check = false;

		if (deadline && port.attached)
			deadline = 0;
		if (deadline && deadline < due)
			due = deadline;
		kd_port_pump(&port, sink->put);
		if (sink->pump)
			sink->pump();

		pfd[n++] = (struct pollfd){ .fd = kd_evtchn_fd(), .events = POLLIN };
		if (watch_fd >= 0) {
			iwatch = n;
			pfd[n++] = (struct pollfd){ .fd = watch_fd, .events = POLLIN };
		}
		isink = n;
		n += sink->poll_fds(pfd + n);
		retry = sink->poll_timeout ? sink->poll_timeout() : -1;
		if (retry >= 0 && now + retry < due)
			due = now + retry;
		if (poll(pfd, n, due > now ? (int)(due - now) : 0) < 0 && errno != EINTR) {
			dlog(LOG_ERR, "failed to poll (%s)", strerror(errno));
			goto out;
		}
		if (pfd[0].revents & POLLIN)
			kd_evtchn_ack();
		if (iwatch >= 0 && (pfd[iwatch].revents & POLLIN)) {
			const char *fired = kd_watch_read();

			if (fired) {
				kd_check_cause = fired;
				check = true;
			}
		}
		now = now_ms();
		if (now >= next_check) {
			kd_check_cause = watch_fd >= 0 ? "periodic check" : "check";
			check = true;
		}
		if (check) {
			next_check = now + (watch_fd >= 0 ? KD_RECHECK_MS : KD_POLL_CHECK_MS);
			if (!kd_port_check(&port) || (sink->check && !sink->check())) {
				kd_notify("STATUS=guest gone; exiting");
				goto out_gone;
			}
			kd_status(&port, sinkdesc);
		}
		if (deadline && now >= deadline && !port.attached) {
			if (port.have_domid)
				kd_attach_refusal(&port, wait_secs ? wait_secs : 1);
			else
				dlog(LOG_ERR, "failed to look up domain \"%s\" (none appeared "
				     "within --wait %lu s)", port.name, wait_secs);
			goto out;
		}
		sink->poll_done(pfd + isink);
	}
	rc = 0;
	goto out;
out_gone:
	rc = KD_EXIT_GONE;
out:
	kd_notify("STOPPING=1");
	/* The port stays attached: a restarted relay resumes where this one stopped. */
	if (sink_open)
		sink->close();
	kd_port_close(&port);
	kd_xen_close();
	kd_unlock_all();
	if (pid_written && unlink(pidfile) < 0 && errno != ENOENT)
		dlog(LOG_DEBUG, "failed to remove pid file \"%s\" (%s)", pidfile,
		     strerror(errno));
	return rc;
}
