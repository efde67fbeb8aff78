// SPDX-License-Identifier: GPL-2.0-only
/*
 * xensimd - the simulated Xen hypervisor.
 *
 * It owns the host: domains and their memory, grant tables, event channels,
 * and each guest's xenbus device.  Libraries with Xen's sonames (see
 * xensim/libs) reach it through one socket per domain.  This file holds the
 * command line and the table ops[]: one row per request, naming its handler
 * (in the file of its feature: evtchn.c, grant.c, domain.c, debugport.c,
 * conn.c) and its flags.  loop.c runs the event loop; conn.c turns a
 * handler's negative errno into the reply in one place (conn_request()).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "xensimd.h"

static bool verbose;

/* Each request: its handler, its shortest valid length and its flags. */
const struct op_row ops[XENSIM_OP_MAX] = {
	[XENSIM_OP_HELLO] = { op_hello, sizeof(struct xensim_hello_req), 0 },
	[XENSIM_OP_EVTCHN_UNBOUND] = { op_evtchn_unbound, sizeof(struct xensim_evtchn_req), 0 },
	[XENSIM_OP_EVTCHN_INTERDOMAIN] = { op_evtchn_interdomain, sizeof(struct xensim_evtchn_req), 0 },
	[XENSIM_OP_EVTCHN_VIRQ] = { op_evtchn_virq, sizeof(struct xensim_evtchn_req), 0 },
	[XENSIM_OP_EVTCHN_UNBIND] = { op_evtchn_unbind, sizeof(struct xensim_evtchn_req), 0 },
	[XENSIM_OP_EVTCHN_PEER] = { op_evtchn_peer, sizeof(struct xensim_evtchn_req), 0 },
	[XENSIM_OP_GNT_SHARE] = { op_gnt_share, sizeof(struct xensim_share_req), 0 },
	[XENSIM_OP_GNT_UNSHARE] = { op_gnt_unshare, sizeof(struct xensim_unshare_req), 0 },
	[XENSIM_OP_GNT_MAP] = { op_gnt_map, sizeof(struct xensim_map_req), 0 },
	[XENSIM_OP_GNT_UNMAP] = { op_gnt_unmap, sizeof(struct xensim_unmap_req), 0 },
	[XENSIM_OP_FMEM_MAP] = { op_fmem_map, sizeof(struct xensim_fmem_req), OP_PRIV },
	[XENSIM_OP_DOMINFO] = { op_dominfo, sizeof(struct xensim_dominfo_req), OP_PRIV },
	[XENSIM_OP_DOMAIN_CREATE] = { op_domain_create, sizeof(struct xensim_create_req), OP_PRIV },
	[XENSIM_OP_DOMAIN_DESTROY] = { op_domain_destroy, sizeof(struct xensim_domctl_req), OP_PRIV },
	[XENSIM_OP_DOMAIN_SHUTDOWN] = { op_domain_shutdown, sizeof(struct xensim_domctl_req), 0 },
	[XENSIM_OP_DOMAIN_PAUSE] = { op_domain_pause, sizeof(struct xensim_domctl_req), OP_PRIV },
	[XENSIM_OP_DOMAIN_UNPAUSE] = { op_domain_pause, sizeof(struct xensim_domctl_req), OP_PRIV },
	[XENSIM_OP_REGISTER_PID] = { op_register_pid, sizeof(struct xensim_domctl_req), 0 },
	[XENSIM_OP_STATS] = { op_stats, sizeof(struct xensim_domctl_req), OP_PRIV },
	[XENSIM_OP_HOST_STOP] = { op_host_stop, sizeof(struct xensim_req), OP_PRIV },
	[XENSIM_OP_DM_OP] = { op_dm_op, sizeof(struct xensim_dm_op_req), OP_PRIV },
	[XENSIM_OP_RESOURCE_MAP] = { op_resource_map, sizeof(struct xensim_resource_req), OP_PRIV },
	[XENSIM_OP_VCPU_DEBUG] = { op_vcpu_debug, sizeof(struct xensim_vcpu_debug_req), 0 },
	[XENSIM_OP_PROGRAMS] = { op_programs, sizeof(struct xensim_req), OP_PRIV },
};

/* ---- the command line ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xensimd [OPTIONS]\n"
		"The simulated Xen hypervisor: domains, memory, grant tables, event\n"
		"channels and each guest's xenbus device, served to programs linked\n"
		"with the simulated libxenctrl/libxengnttab/libxenevtchn.\n\n"
		"  -r, --rundir DIR     socket directory (default %s, or $XENSIM_RUNDIR)\n"
		"  -F, --foreground     stay in the foreground, log to stderr\n"
		"  -p, --pid-file FILE  write the daemon's pid to FILE\n"
		"  -m, --dom0-memory MB memory of domain 0 (default 256)\n"
		"  -v, --verbose        log every failed request\n"
		"  -h, --help           this text\n"
		"  -V, --version        print the version\n", XENSIM_DEFAULT_RUNDIR);
}

static int write_pidfile(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) ? -errno : 0;
}

/*
 * One xensimd per run directory.  The lock is taken before the daemon
 * forks (the child inherits it) and before anything in the directory is
 * touched, so a second daemon leaves the first one's sockets and pid file
 * alone; the lock file names the holder.
 */
static int lock_rundir(void)
{
	char path[PATH_MAX + 16], buf[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/xensimd.lock", rundir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "xensimd: open lock file \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (errno != EWOULDBLOCK) {
		fprintf(stderr, "xensimd: lock \"%s\": %s\n", path, strerror(errno));
	} else {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		fprintf(stderr, "xensimd: lock run directory \"%s\": another xensimd%s%s%s "
			"is running there\n", rundir, buf[0] ? " (pid " : "", buf,
			buf[0] ? ")" : "");
	}
	close(fd);
	return -1;
}

static void lock_name_holder(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, n, 0) != n)
		dlog(LOG_WARNING, "failed to write the pid to the lock file: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rundir", required_argument, NULL, 'r' },
		{ "foreground", no_argument, NULL, 'F' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "dom0-memory", required_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pidfile = NULL;
	unsigned long dom0_mb = 256;
	bool foreground = false;
	struct domain *dom0;
	int opt, err, lockfd, ready[2] = { -1, -1 };
	char c = 0;

	if (getenv("XENSIM_RUNDIR"))
		rundir = getenv("XENSIM_RUNDIR");
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":r:Fp:m:vhV", opts, NULL)) != -1) {
		char *end;

		switch (opt) {
		case 'r': rundir = optarg; break;
		case 'F': foreground = true; break;
		case 'p': pidfile = optarg; break;
		case 'm':
			errno = 0;
			dom0_mb = isdigit((unsigned char)optarg[0]) ? strtoul(optarg, &end, 10) : 0;
			if (errno || !dom0_mb || *end || dom0_mb > 16384) {
				fprintf(stderr, "xensimd: --dom0-memory \"%s\": not a number "
					"from 1 to 16384\n", optarg);
				return 2;
			}
			break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("xensimd (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION); return 0;
		case ':':
			fprintf(stderr, "xensimd: option \"%s\" needs a value\n", argv[optind - 1]);
			return 2;
		default:
			if (optopt)
				fprintf(stderr, "xensimd: unknown option \"-%c\" (see xensimd --help)\n",
					optopt);
			else
				fprintf(stderr, "xensimd: unknown option \"%s\" (see xensimd --help)\n",
					argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xensimd: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (!*rundir || (pidfile && !*pidfile)) {
		fprintf(stderr, "xensimd: %s: empty path\n", *rundir ? "--pid-file" : "--rundir");
		return 2;
	}
	dlog_open("xensimd", DLOG_STDERR, verbose ? LOG_DEBUG : LOG_INFO);

	if (mkdir(rundir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "xensimd: failed to create run directory \"%s\": %s\n",
			rundir, strerror(errno));
		return 1;
	}
	lockfd = lock_rundir();
	if (lockfd < 0)
		return 1;

	if (!foreground) {
		pid_t pid;

		if (pipe2(ready, O_CLOEXEC) < 0) {
			perror("xensimd: failed to create a pipe");
			return 1;
		}
		pid = fork();
		if (pid < 0) {
			perror("xensimd: failed to fork");
			return 1;
		}
		if (pid > 0) {
			/* Parent: return once the host is up, with its status. */
			close(ready[1]);
			if (read(ready[0], &c, 1) != 1)
				c = 1;
			return c;
		}
		close(ready[0]);
		setsid();
		dlog_open("xensimd", DLOG_SYSLOG, verbose ? LOG_DEBUG : LOG_INFO);
	}

	conn_init(ops);
	if ((err = loop_init()) < 0) {
		dlog(LOG_ERR, "failed to set up the event loop: %s", strerror(-err));
		goto fail;
	}

	dom0 = domain_create(0, "Domain-0", dom0_mb, 0, &err);
	if (!dom0) {
		dlog(LOG_ERR, "failed to create domain 0 in \"%s\": %s", rundir, strerror(-err));
		goto fail;
	}
	lock_name_holder(lockfd);
	if (pidfile && (err = write_pidfile(pidfile)) < 0) {
		dlog(LOG_ERR, "failed to write pid file \"%s\": %s", pidfile, strerror(-err));
		goto fail;
	}
	if ((err = debugport_init()) < 0)
		goto fail;
	dlog(LOG_INFO, "host up in \"%s\"", rundir);
	if (ready[1] >= 0) {
		int devnull = open("/dev/null", O_RDWR);

		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
			close(devnull);
		}
		if (write(ready[1], &c, 1) != 1)
			goto fail;
		close(ready[1]);
		ready[1] = -1;
	}

	loop_run();
	dlog(LOG_INFO, "host down");
	domains_free_all();
	if (pidfile)
		unlink(pidfile);
	return 0;

fail:
	if (ready[1] >= 0) {
		c = 1;
		if (write(ready[1], &c, 1) < 0)
			return 1;
	}
	return 1;
}
