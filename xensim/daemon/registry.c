// SPDX-License-Identifier: GPL-2.0-only
/*
 * registry.c - the domains of the simulated host and their memory: finding
 * a domain, its frames, its directory, and freeing it once it is dead and
 * nobody maps its pages.  Everything else in xensimd builds on this; it
 * calls nothing above the loop (domain.c holds the life cycle).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "xensimd.h"

struct list domains = LIST_INIT(domains);
const char *rundir = XENSIM_DEFAULT_RUNDIR;

struct domain *domain_find(uint32_t domid)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &domains) {
		struct domain *d = container_of(pos, struct domain, link);

		if (d->domid == domid)
			return d;
	}
	return NULL;
}
struct domain *domain_find_name(const char *name)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &domains) {
		struct domain *d = container_of(pos, struct domain, link);

		if (!strcmp(d->name, name))
			return d;
	}
	return NULL;
}
int frame_alloc(struct domain *d, uint32_t *gfn)
{
	uint32_t i;

	for (i = 0; i < d->max_pages; i++) {
		if (!d->frame_used[i]) {
			d->frame_used[i] = 1;
			d->nr_frames++;
			*gfn = i;
			return 0;
		}
	}
	return -ENOMEM;
}
void frame_free(struct domain *d, uint32_t gfn)
{
	if (gfn >= d->max_pages || !d->frame_used[gfn])
		return;
	/* Return the page to the host; the next user finds it zeroed. */
	fallocate(d->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		  (off_t)gfn << XENSIM_PAGE_SHIFT, XENSIM_PAGE_SIZE);
	d->frame_used[gfn] = 0;
	d->nr_frames--;
}
void *frame_map(struct domain *d, uint32_t gfn)
{
	void *p = mmap(NULL, XENSIM_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       d->memfd, (off_t)gfn << XENSIM_PAGE_SHIFT);

	return p == MAP_FAILED ? NULL : p;
}
int unix_listen(const char *path, mode_t mode, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, mode) < 0 || listen(fd, 64) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}
void domain_rmdir(struct domain *d)
{
	char path[PATH_MAX + 32];

	if (!d->dir[0])
		return;
	snprintf(path, sizeof(path), "%s/hypervisor.sock", d->dir);
	unlink(path);
	if (d->domid == 0) {
		snprintf(path, sizeof(path), "%s/xsd_port", rundir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/xsd_kva", rundir);
		unlink(path);
	}
	rmdir(d->dir);
}
void domain_free(struct domain *d)
{
	if (d->listen.fd >= 0) {
		loop_del(&d->listen);
		close(d->listen.fd);
	}
	domain_rmdir(d);
	if (d->evp)
		munmap(d->evp, sizeof(*d->evp));
	if (d->evpfd >= 0)
		close(d->evpfd);
	if (d->memfd >= 0)
		close(d->memfd);
	if (d->memfd_ro >= 0)
		close(d->memfd_ro);
	free(d->frame_used);
	free(d->ports);
	free(d->grants);
	list_del(&d->link);
	free(d);
}
/*
 * A dying domain goes with the last mapping of its pages; true when it
 * went (the caller raises VIRQ_DOM_EXC).
 */
bool domain_maybe_free(struct domain *d)
{
	uint32_t i;

	if (!(d->flags & XENSIM_DOM_DYING) || d->grant_maps || d->tearing_down)
		return false;
	for (i = 0; i < d->max_pages; i++)
		if (d->frame_used[i])
			frame_free(d, i);
	dlog(LOG_INFO, "domain %u released", d->domid);
	domain_free(d);
	return true;
}
