# SPDX-License-Identifier: GPL-2.0-only
#
# tests/integration: the simulated host end to end -- the scripts start a
# host, its daemons and guest programs (the helper programs built here),
# and speak TAP.

dist_noinst_SCRIPTS += tests/integration/xensim-host.sh
TESTS += tests/integration/xensim-host.sh

# Sourced by the vmbus-*.sh tests.
EXTRA_DIST += tests/integration/tap-lib.sh

# Guest programs that speak the bus below libvmbus (their own rings,
# grants and messages, to break the protocol on purpose).
RAW_GUEST_SOURCES = tests/integration/raw-guest.c tests/integration/raw-guest.h
RAW_GUEST_CPPFLAGS = $(VMBUS_CORE_CPPFLAGS) \
	$(XENSTORE_CFLAGS) $(XENGNTTAB_CFLAGS) $(XENEVTCHN_CFLAGS)
RAW_GUEST_LIBS = lib/vmbus/libvmbus-core.la \
	$(XENSTORE_LIBS) $(XENGNTTAB_LIBS) $(XENEVTCHN_LIBS)

# Malformed requests from a guest program, for the integration test.
check_PROGRAMS += tests/integration/hostile-client
tests_integration_hostile_client_SOURCES = tests/integration/hostile-client.c
tests_integration_hostile_client_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/xensim $(XENSTORE_CFLAGS)

# bench/ring/run.sh, one short run: every measurement runs and checks its data.
dist_noinst_SCRIPTS += tests/integration/ringbench-smoke.sh
TESTS += tests/integration/ringbench-smoke.sh


# A guest client and a one-guest server exercising the library directly.
check_PROGRAMS += tests/integration/vmbus-echo-peer
tests_integration_vmbus_echo_peer_SOURCES = tests/integration/vmbus-echo-peer.c
tests_integration_vmbus_echo_peer_CPPFLAGS = $(LIBVMBUS_CPPFLAGS)
tests_integration_vmbus_echo_peer_LDADD = $(LIBVMBUS_LIBS)
dist_noinst_SCRIPTS += tests/integration/vmbus-lib.sh
TESTS += tests/integration/vmbus-lib.sh
# The library re-opens a channel after its server died and came back.
dist_noinst_SCRIPTS += tests/integration/vmbus-reopen.sh
TESTS += tests/integration/vmbus-reopen.sh

# A client whose control messages wait for room in the ring.
check_PROGRAMS += tests/integration/vmbus-ctl-flow
tests_integration_vmbus_ctl_flow_SOURCES = tests/integration/vmbus-ctl-flow.c
tests_integration_vmbus_ctl_flow_CPPFLAGS = $(LIBVMBUS_CPPFLAGS)
tests_integration_vmbus_ctl_flow_LDADD = $(LIBVMBUS_LIBS)
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


# Pipes between two guests on the simulated host, and a guest client that
# breaks the protocol around them.
check_PROGRAMS += tests/integration/vmbus-p2p-hostile
tests_integration_vmbus_p2p_hostile_SOURCES = tests/integration/vmbus-p2p-hostile.c \
	$(RAW_GUEST_SOURCES)
tests_integration_vmbus_p2p_hostile_CPPFLAGS = $(RAW_GUEST_CPPFLAGS)
tests_integration_vmbus_p2p_hostile_LDADD = $(RAW_GUEST_LIBS)
dist_noinst_SCRIPTS += tests/integration/vmbus-p2p.sh
TESTS += tests/integration/vmbus-p2p.sh

# A guest flooding the daemon with GPADLs, within its mapping budget.
check_PROGRAMS += tests/integration/vmbus-gpadl-hostile
tests_integration_vmbus_gpadl_hostile_SOURCES = tests/integration/vmbus-gpadl-hostile.c \
	$(RAW_GUEST_SOURCES)
tests_integration_vmbus_gpadl_hostile_CPPFLAGS = $(RAW_GUEST_CPPFLAGS)
tests_integration_vmbus_gpadl_hostile_LDADD = $(RAW_GUEST_LIBS)
dist_noinst_SCRIPTS += tests/integration/vmbus-gpadl.sh
TESTS += tests/integration/vmbus-gpadl.sh
# A guest that loads the bus daemon through its control ring (bursts,
# oversized packets, unread answers, signal storms, a dying client) while
# another guest's pipe is measured.
check_PROGRAMS += tests/integration/vmbus-bus-hostile
tests_integration_vmbus_bus_hostile_SOURCES = tests/integration/vmbus-bus-hostile.c \
	$(RAW_GUEST_SOURCES)
tests_integration_vmbus_bus_hostile_CPPFLAGS = $(RAW_GUEST_CPPFLAGS)
tests_integration_vmbus_bus_hostile_LDADD = $(RAW_GUEST_LIBS)
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

# 256 guests with 4 pipes each served by one bus daemon: all connect, the
# idle daemon sleeps, and tearing them all down leaks nothing.  The script
# runs VMBUS_SCALE_GUESTS guests (default 32; the full run is 256:
# VMBUS_SCALE_GUESTS=256 top_builddir=$PWD tests/integration/vmbus-scale.sh
# from the build tree).
check_PROGRAMS += tests/integration/vmbus-scale-client
tests_integration_vmbus_scale_client_SOURCES = tests/integration/vmbus-scale-client.c
tests_integration_vmbus_scale_client_CPPFLAGS = $(LIBVMBUS_CPPFLAGS)
tests_integration_vmbus_scale_client_LDADD = $(LIBVMBUS_LIBS)
dist_noinst_SCRIPTS += tests/integration/vmbus-scale.sh
TESTS += tests/integration/vmbus-scale.sh

# libvmbus's memory-naming packets (GPADLs for data, transfer page sets,
# completions by transaction id), both ends on the simulated host.
check_PROGRAMS += tests/integration/vmbus-xfer-peer
tests_integration_vmbus_xfer_peer_SOURCES = tests/integration/vmbus-xfer-peer.c
tests_integration_vmbus_xfer_peer_CPPFLAGS = $(LIBVMBUS_CPPFLAGS)
tests_integration_vmbus_xfer_peer_LDADD = $(LIBVMBUS_LIBS)
dist_noinst_SCRIPTS += tests/integration/vmbus-xfer.sh
TESTS += tests/integration/vmbus-xfer.sh

# The systemd units as systemd-analyze reads them, against the programs built.
dist_noinst_SCRIPTS += tests/integration/systemd-units.sh
TESTS += tests/integration/systemd-units.sh

# Hyper-V integration services served by vmbusd, against a guest that
# answers them as Linux's hv_utils does.
check_PROGRAMS += tests/integration/vmbus-ic-guest
tests_integration_vmbus_ic_guest_SOURCES = tests/integration/vmbus-ic-guest.c
tests_integration_vmbus_ic_guest_CPPFLAGS = $(LIBVMBUS_CPPFLAGS) -I$(top_srcdir)/lib
tests_integration_vmbus_ic_guest_LDADD = $(LIBVMBUS_LIBS) lib/vmbus/libvmbus-core.la
dist_noinst_SCRIPTS += tests/integration/vmbus-ic.sh
TESTS += tests/integration/vmbus-ic.sh

# Hyper-V sockets served by vmbusd: hv_sock's guest side and a dom0
# program on the hybrid vsock sockets.
check_PROGRAMS += tests/integration/vmbus-hvsock-peer
tests_integration_vmbus_hvsock_peer_SOURCES = tests/integration/vmbus-hvsock-peer.c
tests_integration_vmbus_hvsock_peer_CPPFLAGS = $(LIBVMBUS_CPPFLAGS)
tests_integration_vmbus_hvsock_peer_LDADD = $(LIBVMBUS_LIBS)
dist_noinst_SCRIPTS += tests/integration/vmbus-hvsock.sh
TESTS += tests/integration/vmbus-hvsock.sh
# The storage VSP on the simulated host: a one-guest server offering a
# synthetic SCSI controller, and a user-mode storvsc in the guest.
check_PROGRAMS += tests/integration/storvsp-peer
tests_integration_storvsp_peer_SOURCES = tests/integration/storvsp-peer.c \
	tests/integration/storvsc-client.c tests/integration/storvsc-client.h
tests_integration_storvsp_peer_CPPFLAGS = $(STORVSP_CPPFLAGS) $(UTIL_CPPFLAGS) $(XENGNTTAB_CFLAGS)
tests_integration_storvsp_peer_LDADD = $(STORVSP_LIBS) util/libdiskspec.la $(LIBVMBUS_LIBS) $(XENGNTTAB_LIBS)
dist_noinst_SCRIPTS += tests/integration/storvsp.sh
TESTS += tests/integration/storvsp.sh

# The network VSP on the simulated host: a one-guest server offering a
# synthetic NIC on a tap, and a user-mode netvsc in the guest.
check_PROGRAMS += tests/integration/netvsp-peer
tests_integration_netvsp_peer_SOURCES = tests/integration/netvsp-peer.c \
	tests/integration/netvsc-client.c tests/integration/netvsc-client.h
tests_integration_netvsp_peer_CPPFLAGS = $(NETVSP_CPPFLAGS) $(XENGNTTAB_CFLAGS)
tests_integration_netvsp_peer_LDADD = $(NETVSP_LIBS) $(LIBVMBUS_LIBS) $(XENGNTTAB_LIBS)
dist_noinst_SCRIPTS += tests/integration/netvsp.sh
TESTS += tests/integration/netvsp.sh
dist_noinst_SCRIPTS += tests/integration/vmbus-nic.sh
TESTS += tests/integration/vmbus-nic.sh
# The same controllers served by vmbusd: configured, hot added and removed
# under load.
dist_noinst_SCRIPTS += tests/integration/storvsp-vmbusd.sh
TESTS += tests/integration/storvsp-vmbusd.sh
# Writes acknowledged durable survive vmbusd killed under load.
dist_noinst_SCRIPTS += tests/integration/storvsp-crash.sh
TESTS += tests/integration/storvsp-crash.sh
