# SPDX-License-Identifier: GPL-2.0-only

# bench/ring: the VMBus ring between two simulated domains against a minimal
# spinning ring, spin and eventfd ping-pongs and libxenvchan, in one run.
# libxenvchan comes from Debian's libxen-dev (pkg-config xenvchan).

pkglibexec_PROGRAMS += bench/ring/ringbench
bench_ring_ringbench_SOURCES = bench/ring/ringbench.c
bench_ring_ringbench_CPPFLAGS = $(VMBUS_CORE_CPPFLAGS)
bench_ring_ringbench_CFLAGS = $(AM_CFLAGS) $(XENSTORE_CFLAGS) $(XENGNTTAB_CFLAGS) \
	$(XENEVTCHN_CFLAGS) $(XENVCHAN_CFLAGS)
bench_ring_ringbench_LDADD = lib/vmbus/libvmbus-core.la $(XENVCHAN_LIBS) \
	$(XENSTORE_LIBS) $(XENGNTTAB_LIBS) $(XENEVTCHN_LIBS)

dist_noinst_SCRIPTS += bench/ring/run.sh
