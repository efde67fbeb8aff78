/* SPDX-License-Identifier: GPL-2.0-only */
/* Stub: everything lives in xen-stub.h and xen/sched.h. */
#include <xen/sched.h>
