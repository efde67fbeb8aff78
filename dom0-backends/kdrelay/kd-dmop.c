// SPDX-License-Identifier: GPL-2.0-only
/*
 * kd-dmop.c - XEN_DMOP_syndbg_backend through the privcmd driver.
 *
 * On the simulated host (xensim) there is no privcmd driver: its
 * libxenctrl, loaded in place of Xen's, defines xensim_privcmd_open() and
 * xensim_privcmd_ioctl(), which take the driver's place with the same
 * ioctl semantics.  Against Xen's libraries these weak references stay
 * NULL and the real device is used.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/sys/privcmd.h>

#include <xenvmbus/syndbg-port.h>

#include "kd-dmop.h"

#define KD_PRIVCMD	"/dev/xen/privcmd"

extern int xensim_privcmd_open(void) __attribute__((weak));
extern int xensim_privcmd_ioctl(int fd, unsigned long req, void *arg) __attribute__((weak));

static int kd_ioctl(int fd, unsigned long req, void *arg)
{
	if (xensim_privcmd_ioctl)
		return xensim_privcmd_ioctl(fd, req, arg);
	return ioctl(fd, req, arg);
}

int kd_privcmd_open(void)
{
	if (xensim_privcmd_open)
		return xensim_privcmd_open();
	return open(KD_PRIVCMD, O_RDWR | O_CLOEXEC);
}

int kd_privcmd_restrict(int fd, uint32_t domid)
{
	domid_t dom = (domid_t)domid;

	return kd_ioctl(fd, IOCTL_PRIVCMD_RESTRICT, &dom) < 0 ? -1 : 0;
}

int kd_dm_syndbg(int fd, uint32_t domid, unsigned int op, uint32_t *backend)
{
	struct syndbg_dm_op dm;
	privcmd_dm_op_buf_t buf = { .uptr = &dm, .size = sizeof(dm) };
	privcmd_dm_op_t call = { .dom = (domid_t)domid, .num = 1, .ubufs = &buf };

	memset(&dm, 0, sizeof(dm));
	dm.op = SYNDBG_DMOP;
	dm.sub = (uint16_t)op;
	dm.backend = SYNDBG_DOMID_INVALID;
	if (kd_ioctl(fd, IOCTL_PRIVCMD_DM_OP, &call) < 0)
		return -1;
	if (backend)
		*backend = dm.backend;
	return 0;
}
