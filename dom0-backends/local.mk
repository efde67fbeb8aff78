# SPDX-License-Identifier: GPL-2.0-only
#
# dom0-backends: the bus daemon and its service providers.

sbin_PROGRAMS += dom0-backends/vmbusd/vmbusd
dom0_backends_vmbusd_vmbusd_SOURCES = \
	dom0-backends/vmbusd/vmbusd.h \
	dom0-backends/vmbusd/vmbusd.c \
	dom0-backends/vmbusd/loop.c \
	dom0-backends/vmbusd/guest.c \
	dom0-backends/vmbusd/config.c \
	dom0-backends/vmbusd/pipe.c \
	dom0-backends/vmbusd/p2p.c
dom0_backends_vmbusd_vmbusd_CPPFLAGS = $(LIBVMBUS_CPPFLAGS) $(DLOG_CPPFLAGS) $(XENSTORE_CFLAGS) \
	$(LIBSYSTEMD_CFLAGS) $(LIBCAPNG_CFLAGS) -DVD_CONFIG_FILE='"$(sysconfdir)/xenvmbus/vmbusd.conf"'
dom0_backends_vmbusd_vmbusd_LDADD = $(LIBVMBUS_LIBS) lib/daemon/libdlog.la $(XENSTORE_LIBS) \
	$(LIBSYSTEMD_LIBS) $(LIBCAPNG_LIBS)

# The daemon, vmbusctl and pipes end to end on the simulated host.
dist_noinst_SCRIPTS += tests/integration/vmbus-pipe.sh
TESTS += tests/integration/vmbus-pipe.sh
# Odd pipe names through every --json output of vmbusctl, parsed back.
dist_noinst_SCRIPTS += tests/integration/vmbus-json.sh
TESTS += tests/integration/vmbus-json.sh
# Guests and pipes from vmbusd's configuration, through a re-created guest
# and a restarted daemon.
dist_noinst_SCRIPTS += tests/integration/vmbus-config.sh
TESTS += tests/integration/vmbus-config.sh

dist_man_MANS += docs/man/vmbusd.8

# Pipes between two guests on the simulated host, and a guest client that
# breaks the protocol around them.
check_PROGRAMS += tests/integration/vmbus-p2p-hostile
tests_integration_vmbus_p2p_hostile_SOURCES = tests/integration/vmbus-p2p-hostile.c
tests_integration_vmbus_p2p_hostile_CPPFLAGS = $(VMBUS_CORE_CPPFLAGS) \
	$(XENSTORE_CFLAGS) $(XENGNTTAB_CFLAGS) $(XENEVTCHN_CFLAGS)
tests_integration_vmbus_p2p_hostile_LDADD = lib/vmbus/libvmbus-core.la \
	$(XENSTORE_LIBS) $(XENGNTTAB_LIBS) $(XENEVTCHN_LIBS)
dist_noinst_SCRIPTS += tests/integration/vmbus-p2p.sh
TESTS += tests/integration/vmbus-p2p.sh

# A guest flooding the daemon with GPADLs, within its mapping budget.
check_PROGRAMS += tests/integration/vmbus-gpadl-hostile
tests_integration_vmbus_gpadl_hostile_SOURCES = tests/integration/vmbus-gpadl-hostile.c
tests_integration_vmbus_gpadl_hostile_CPPFLAGS = $(VMBUS_CORE_CPPFLAGS) \
	$(XENSTORE_CFLAGS) $(XENGNTTAB_CFLAGS) $(XENEVTCHN_CFLAGS)
tests_integration_vmbus_gpadl_hostile_LDADD = lib/vmbus/libvmbus-core.la \
	$(XENSTORE_LIBS) $(XENGNTTAB_LIBS) $(XENEVTCHN_LIBS)
dist_noinst_SCRIPTS += tests/integration/vmbus-gpadl.sh
TESTS += tests/integration/vmbus-gpadl.sh
# A guest that loads the bus daemon through its control ring (bursts,
# oversized packets, unread answers, signal storms, a dying client) while
# another guest's pipe is measured.
check_PROGRAMS += tests/integration/vmbus-bus-hostile
tests_integration_vmbus_bus_hostile_SOURCES = tests/integration/vmbus-bus-hostile.c
tests_integration_vmbus_bus_hostile_CPPFLAGS = $(VMBUS_CORE_CPPFLAGS) \
	$(XENSTORE_CFLAGS) $(XENGNTTAB_CFLAGS) $(XENEVTCHN_CFLAGS)
tests_integration_vmbus_bus_hostile_LDADD = lib/vmbus/libvmbus-core.la \
	$(XENSTORE_LIBS) $(XENGNTTAB_LIBS) $(XENEVTCHN_LIBS)
# A guest whose pipe ring is full of packets that carry no data, or that
# storms its pipe's port.
check_PROGRAMS += tests/integration/vmbus-pipe-flood
tests_integration_vmbus_pipe_flood_SOURCES = tests/integration/vmbus-pipe-flood.c
tests_integration_vmbus_pipe_flood_CPPFLAGS = $(LIBVMBUS_CPPFLAGS) $(VMBUS_CORE_CPPFLAGS) \
	$(XENSTORE_CFLAGS) $(XENGNTTAB_CFLAGS) $(XENEVTCHN_CFLAGS)
tests_integration_vmbus_pipe_flood_LDADD = $(LIBVMBUS_LIBS) $(XENEVTCHN_LIBS)
dist_noinst_SCRIPTS += tests/integration/vmbus-hostile-bus.sh
TESTS += tests/integration/vmbus-hostile-bus.sh
# The daemon or a guest's program killed: the other end notices, the bus
# connects again.
dist_noinst_SCRIPTS += tests/integration/vmbus-peer-death.sh
TESTS += tests/integration/vmbus-peer-death.sh
