// SPDX-License-Identifier: GPL-2.0-only
/*
 * storbench: the storage VSP through a user-mode storvsc against raw
 * io_uring on the same file, on the simulated host (bench/storage/run.sh
 * runs the sides and prints the table and the JSON line).
 *
 *   storbench server DOMID FILE         (dom0) offer a SCSI controller
 *                                       with FILE at LUN 0, run the VSP
 *   storbench vsp MODE SECS             (guest) MODE through the VSP
 *   storbench raw FILE MODE SECS        (dom0) MODE with io_uring on FILE
 *                                       (O_DIRECT), as the VSP does
 *   storbench fill FILE MIB             (dom0) write FILE with data
 * MODE: randread4k | randwrite4k (4 KiB at random, 32 in flight),
 *       seqread1m | seqwrite1m (1 MiB in order, 4 in flight).
 * Each measuring side prints "ops N bytes N secs S".  Both sides reuse
 * buffer slots in turn: with completions out of order a slot may be
 * refilled while its request runs, the same for both; data is not checked
 * here (tests/integration/storvsp.sh checks it).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "storvsc-client.h"
#include "storvsp.h"

#define TIMEOUT_MS	10000
#define MAX_QD		32

struct mode {
	const char *name;
	bool write, random;
	uint32_t size, qd;
};

static const struct mode modes[] = {
	{ "randread4k", false, true, 4096, 32 },
	{ "randwrite4k", true, true, 4096, 32 },
	{ "seqread1m", false, false, 1u << 20, 4 },
	{ "seqwrite1m", true, false, 1u << 20, 4 },
};

static const struct mode *find_mode(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(modes[i].name, name))
			return &modes[i];
	fprintf(stderr, "storbench: no mode \"%s\"\n", name);
	exit(2);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Where request number @n goes: random 4 KiB blocks or in order. */
static uint64_t next_off(const struct mode *m, uint64_t *state, uint64_t n,
			 uint64_t size)
{
	uint64_t x = *state, units = size / m->size;

	if (!m->random)
		return (n % units) * m->size;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return (x % units) * m->size;
}

/* ---- dom0: the server ---- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void srv_serving(unsigned int domid, void *arg)
{
	(void)arg;
	printf("server: serving domain %u\n", domid);
	fflush(stdout);
}

static const struct storvsp_serve_ops serve_ops = { srv_serving, NULL,
						    NULL, NULL };

static int run_server(unsigned int domid, const char *path)
{
	struct storvsp_disk_cfg disk = { path, false, 0 };
	struct storvsp *vsp;
	int rc;

	rc = storvsp_create(&vsp, &disk, 1, NULL);
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

/* ---- the guest: through the VSP ---- */

static void rw16(uint8_t *cdb, bool write, uint64_t lba, uint32_t blocks)
{
	unsigned int i;

	memset(cdb, 0, 16);
	cdb[0] = write ? 0x8a : 0x88;
	for (i = 0; i < 8; i++)
		cdb[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
	for (i = 0; i < 4; i++)
		cdb[10 + i] = (uint8_t)(blocks >> (24 - 8 * i));
}

static uint64_t read_capacity(struct storvsc_client *c)
{
	uint8_t cdb[16] = { 0x9e, 0x10 };
	struct vstor_packet p;
	uint64_t last = 0;
	int i;

	cdb[13] = 32;
	storvsc_srb(&p, 0, cdb, 16, true, 32);
	if (storvsc_client_exec(c, &p, 1, 0, 32, TIMEOUT_MS) ||
	    p.srb.scsi_status)
		return 0;
	for (i = 0; i < 8; i++)
		last = last << 8 | c->mem[i];
	return (last + 1) * 512;
}

static int run_vsp(const struct mode *m, double secs)
{
	struct storvsc_client c;
	struct vstor_packet p;
	uint8_t cdb[16];
	uint64_t size, state = 88172645463325252ull, n = 0, done = 0, id;
	uint64_t bytes = 0;
	double t0, t1;
	uint32_t slot, busy = 0;
	int rc;

	if (storvsc_client_open(&c, STORVSC_POOL_MAX_PAGES, 256, TIMEOUT_MS) ||
	    storvsc_client_init(&c, NULL, TIMEOUT_MS))
		return 1;
	size = read_capacity(&c);
	if (!size || (uint64_t)m->size * m->qd > (uint64_t)c.npages * 4096)
		return 1;
	memset(c.mem, 0x5a, (size_t)c.npages * 4096);
	t0 = now_s();
	t1 = t0 + secs;
	/* Request ids are slot numbers: a completed slot is refilled. */
	for (;;) {
		while (busy < m->qd && now_s() < t1) {
			slot = (uint32_t)(n % m->qd);
			rw16(cdb, m->write, next_off(m, &state, n, size) / 512,
			     m->size / 512);
			storvsc_srb(&p, 0, cdb, 16, !m->write, m->size);
			rc = storvsc_client_send(&c, &p, n + 1, slot * m->size,
						 m->size, NULL);
			if (rc == -EAGAIN)
				break;
			if (rc)
				return 1;
			n++;
			busy++;
		}
		if (!busy)
			break;
		if (storvsc_client_recv(&c, &p, &id, TIMEOUT_MS))
			return 1;
		if (p.srb.scsi_status || p.srb.srb_status != 1) {
			fprintf(stderr, "vsp: request failed: srb %02x scsi %02x\n",
				p.srb.srb_status, p.srb.scsi_status);
			return 1;
		}
		busy--;
		done++;
		bytes += m->size;
	}
	printf("ops %llu bytes %llu secs %.3f\n", (unsigned long long)done,
	       (unsigned long long)bytes, now_s() - t0);
	storvsc_client_close(&c);
	return 0;
}

/* ---- dom0: raw io_uring ---- */

static int run_raw(const char *path, const struct mode *m, double secs)
{
	struct io_uring ring;
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	uint64_t size, state = 88172645463325252ull, n = 0, done = 0;
	uint8_t *buf;
	uint32_t busy = 0, slot;
	struct stat st;
	double t0, t1;
	int fd;

	fd = open(path, O_RDWR | O_DIRECT);
	if (fd < 0 || fstat(fd, &st) < 0 ||
	    io_uring_queue_init(64, &ring, 0) ||
	    posix_memalign((void **)&buf, 4096, (size_t)m->size * m->qd)) {
		fprintf(stderr, "raw: set up %s: %s\n", path, strerror(errno));
		return 1;
	}
	memset(buf, 0x5a, (size_t)m->size * m->qd);
	size = (uint64_t)st.st_size;
	t0 = now_s();
	t1 = t0 + secs;
	for (;;) {
		while (busy < m->qd && now_s() < t1) {
			slot = (uint32_t)(n % m->qd);
			sqe = io_uring_get_sqe(&ring);
			if (m->write)
				io_uring_prep_write(sqe, fd, buf + (size_t)slot * m->size,
						    m->size,
						    next_off(m, &state, n, size));
			else
				io_uring_prep_read(sqe, fd, buf + (size_t)slot * m->size,
						   m->size,
						   next_off(m, &state, n, size));
			n++;
			busy++;
		}
		io_uring_submit(&ring);
		if (!busy)
			break;
		if (io_uring_wait_cqe(&ring, &cqe))
			return 1;
		if (cqe->res != (int)m->size) {
			fprintf(stderr, "raw: I/O failed: %d\n", cqe->res);
			return 1;
		}
		io_uring_cqe_seen(&ring, cqe);
		busy--;
		done++;
	}
	printf("ops %llu bytes %llu secs %.3f\n", (unsigned long long)done,
	       (unsigned long long)done * m->size, now_s() - t0);
	io_uring_queue_exit(&ring);
	close(fd);
	return 0;
}

static int run_fill(const char *path, uint64_t mib)
{
	uint64_t state = 1, i;
	uint8_t *buf = malloc(1 << 20);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t k;

	if (fd < 0 || !buf)
		return 1;
	for (i = 0; i < mib; i++) {
		for (k = 0; k < (1 << 20); k += 8) {
			state = state * 6364136223846793005ull + 1;
			memcpy(buf + k, &state, 8);
		}
		if (write(fd, buf, 1 << 20) != 1 << 20)
			return 1;
	}
	fsync(fd);
	close(fd);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "server"))
		return run_server((unsigned int)strtoul(argv[2], NULL, 10),
				  argv[3]);
	if (argc == 4 && !strcmp(argv[1], "vsp"))
		return run_vsp(find_mode(argv[2]), atof(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "raw"))
		return run_raw(argv[2], find_mode(argv[3]), atof(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "fill"))
		return run_fill(argv[2], strtoull(argv[3], NULL, 10));
	fprintf(stderr, "usage: %s server DOMID FILE | vsp MODE SECS | raw "
		"FILE MODE SECS | fill FILE MIB\n", argv[0]);
	return 2;
}
