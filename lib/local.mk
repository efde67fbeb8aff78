# SPDX-License-Identifier: GPL-2.0-only
#
# lib/vmbus: the transport-independent VMBus core -- ring buffers, packet
# and channel-message codecs, GPADL range buffers, version negotiation.
# A libtool convenience library: the shared libvmbus and the daemons link
# it; the unit tests and the fuzz targets exercise it directly.

noinst_LTLIBRARIES += lib/vmbus/libvmbus-core.la
lib_vmbus_libvmbus_core_la_SOURCES = \
	lib/vmbus/barrier.h \
	lib/vmbus/vmbus_ring.h \
	lib/vmbus/vmbus_msg.h \
	lib/vmbus/ring.c \
	lib/vmbus/gpadl.c \
	lib/vmbus/trans.c \
	lib/vmbus/msg.c \
	lib/vmbus/guid.c \
	lib/vmbus/vmbus_ic.h \
	lib/vmbus/ic.c

# Wire-format headers (kernel and userspace), installed as <xenvmbus/*.h>.
xenvmbusincludedir = $(includedir)/xenvmbus
xenvmbusinclude_HEADERS = \
	include/xenvmbus/compat.h \
	include/xenvmbus/gpadl.h \
	include/xenvmbus/ring.h \
	include/xenvmbus/msg.h \
	include/xenvmbus/ic.h \
	include/xenvmbus/xenstore.h

# Users of the core include "vmbus/vmbus_ring.h" and "vmbus/vmbus_msg.h".
VMBUS_CORE_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/lib

# libFuzzer targets, built with clang by fuzz/run-fuzzers.sh (not by make).
EXTRA_DIST += \
	fuzz/run-fuzzers.sh \
	fuzz/gen-seeds.c \
	fuzz/fuzz-ring.c \
	fuzz/fuzz-msg.c \
	fuzz/fuzz-gpadl.c \
	fuzz/fuzz-xfer.c \
	fuzz/fuzz-kdframe.c \
	fuzz/fuzz-ic.c \
	fuzz/regressions/README.md \
	fuzz/regressions/bus/xferset-unmapped-under-service \
	fuzz/regressions/bus/service-reads-gpadl-packet-after-unmap \
	fuzz/regressions/bus/service-keeps-xfer-packet-past-next-receive \
	fuzz/regressions/bus/data-gpadl-into-removed-xfer-set \
	fuzz/regressions/bus/service-keeps-xfer-packet-within-one-receive-loop \
	fuzz/regressions/ic/negotiation-answer-not-offered

# The stateful bus target built by the ordinary compiler, without libFuzzer,
# over the in-memory Xen (no Xen library is linked): `make check` replays
# fuzz/regressions/bus/ through it in every build, sanitized or not.
check_PROGRAMS += fuzz/fuzz-bus-replay
TESTS += fuzz/fuzz-bus-replay
fuzz_fuzz_bus_replay_SOURCES = \
	fuzz/replay.c \
	fuzz/fuzz-bus.c \
	fuzz/fuzz-bus.h \
	fuzz/fake-xen.c \
	fuzz/fake-xen.h \
	lib/libvmbus/util.c \
	lib/libvmbus/xs.c \
	lib/libvmbus/conn.c \
	lib/libvmbus/chan.c \
	lib/libvmbus/gpadl.c \
	lib/libvmbus/xfer-pkt.c \
	lib/libvmbus/xfer.c \
	lib/libvmbus/client.c \
	lib/libvmbus/server.c \
	lib/libvmbus/server-p2p.c \
	dom0-backends/vmbusd/pipe.c
fuzz_fuzz_bus_replay_CPPFLAGS = $(VMBUS_CORE_CPPFLAGS) \
	-I$(top_srcdir)/lib/libvmbus -I$(top_srcdir)/dom0-backends/vmbusd \
	$(DLOG_CPPFLAGS) \
	$(XENSTORE_CFLAGS) $(XENGNTTAB_CFLAGS) $(XENEVTCHN_CFLAGS) \
	-DFUZZ_REGRESSIONS='"$(abs_top_srcdir)/fuzz/regressions/bus"'
fuzz_fuzz_bus_replay_LDADD = lib/vmbus/libvmbus-core.la
