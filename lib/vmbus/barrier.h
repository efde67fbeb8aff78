/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared-memory accessors for the VMBus ring: every access to a field the
 * peer can see goes through one of these, so that the kernel build can map
 * them to virt_*() / READ_ONCE() and userspace to the __atomic builtins.
 *
 * The peer is another domain on another CPU, so even on a uniprocessor guest
 * the barriers are real (the kernel's virt_mb(), not smp_mb()).
 */
#ifndef VMBUS_BARRIER_H
#define VMBUS_BARRIER_H

#ifdef __KERNEL__
#include <asm/barrier.h>
#include <linux/compiler.h>
#define vmbus_load_once(p)		READ_ONCE(*(p))
#define vmbus_store_once(p, v)		WRITE_ONCE(*(p), (v))
#define vmbus_load_acquire(p)		virt_load_acquire(p)
#define vmbus_store_release(p, v)	virt_store_release(p, v)
#define vmbus_mb()			virt_mb()
#else
/* A single, untorn access the compiler may not repeat or merge. */
#define vmbus_load_once(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define vmbus_store_once(p, v)		__atomic_store_n((p), (v), __ATOMIC_RELAXED)
/* Later loads and stores stay after this load. */
#define vmbus_load_acquire(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
/* Earlier loads and stores complete before this store is visible. */
#define vmbus_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
/* Full fence: orders earlier stores before later loads (store->load). */
#define vmbus_mb()			__atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

#endif /* VMBUS_BARRIER_H */
