// SPDX-License-Identifier: GPL-2.0-only
/*
 * The export of hv_vmbus's drivers/hv/connection.c; the includes are that
 * file's (hv-channel.c says why).
 */
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/wait.h>
#include <linux/delay.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/hyperv.h>
#include <linux/export.h>
#include <linux/io.h>
#include <linux/set_memory.h>
#include <asm/mshyperv.h>
/* hyperv_vmbus.h's */
#include <linux/list.h>
#include <linux/bitops.h>
#include <asm/sync_bitops.h>
#include <asm/hyperv-tlfs.h>
#include <linux/atomic.h>
#include <linux/interrupt.h>
#include <linux/tracepoint.h>

/*
 * The Hyper-V protocol version the class drivers see.  hv_sock refuses to
 * load below VERSION_WIN10 and uses no feature of a later one; hv_utils
 * reads it only to pick integration-service versions.  README.md lists
 * what of WIN10 the bus really provides.
 */
__u32 vmbus_proto_version = VERSION_WIN10;
EXPORT_SYMBOL_GPL(vmbus_proto_version);
