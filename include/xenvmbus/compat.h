/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fixed-width types and compile-time checks for the VMBus-over-Xen wire
 * headers, so that the same headers compile in the Linux kernel and in
 * userspace.  Nothing here has a layout of its own.
 *
 * All multi-byte wire fields are little-endian, as on Hyper-V; the hosts Xen
 * runs on (x86, Arm) are little-endian and the structures are used in place.
 */
#ifndef XENVMBUS_COMPAT_H
#define XENVMBUS_COMPAT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/stddef.h>
typedef u8 vmbus_u8;
typedef u16 vmbus_u16;
typedef u32 vmbus_u32;
typedef u64 vmbus_u64;
#else
#include <stddef.h>
#include <stdint.h>
typedef uint8_t vmbus_u8;
typedef uint16_t vmbus_u16;
typedef uint32_t vmbus_u32;
typedef uint64_t vmbus_u64;
#endif

/* _Static_assert is C11; both the kernel (gnu11) and userspace build use it. */
#define VMBUS_STATIC_ASSERT(cond, what) _Static_assert(cond, what)

/* Pin the size of a wire structure. */
#define VMBUS_CHECK_SIZE(type, size) \
	VMBUS_STATIC_ASSERT(sizeof(type) == (size), "size of " #type)

/* Pin the offset of one field of a wire structure. */
#define VMBUS_CHECK_OFFSET(type, field, off) \
	VMBUS_STATIC_ASSERT(__builtin_offsetof(type, field) == (off), \
			    "offset of " #type "." #field)

#endif /* XENVMBUS_COMPAT_H */
