/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kd-dmop.h - XEN_DMOP_syndbg_backend from a debug backend in dom0.
 *
 * Debian's libxendevicemodel does not know the operation and exports no
 * generic dm_op call, so the backend issues it as that library does: an
 * IOCTL_PRIVCMD_DM_OP on a privcmd descriptor of its own, which it may
 * restrict to the debuggee (IOCTL_PRIVCMD_RESTRICT) so that the descriptor
 * it keeps after dropping its privileges reaches that domain only.
 */
#ifndef KD_DMOP_H
#define KD_DMOP_H

#include <stdint.h>

/* Opens a privcmd descriptor (close-on-exec); -1 with errno set. */
int kd_privcmd_open(void);

/* Restricts it to domid for good; -1 with errno set. */
int kd_privcmd_restrict(int fd, uint32_t domid);

/*
 * XEN_DMOP_syndbg_backend's operation op (SYNDBG_DMOP_*) on domid; the
 * backend attached afterwards in *backend.  0, or -1 with errno set.
 */
int kd_dm_syndbg(int fd, uint32_t domid, unsigned int op, uint32_t *backend);

#endif
