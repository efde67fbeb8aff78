# SPDX-License-Identifier: GPL-2.0-only
#
# libvmbus: the user-mode VMBus library for guests (client) and dom0
# (server), over Xen grants and event channels.  The library itself is
# LGPL-2.1-or-later (see its sources); it links the transport core.

lib_LTLIBRARIES += lib/libvmbus/libvmbus.la
lib_libvmbus_libvmbus_la_SOURCES = \
	lib/libvmbus/private.h \
	lib/libvmbus/chan.c \
	lib/libvmbus/xs.c \
	lib/libvmbus/client.c \
	lib/libvmbus/server.c \
	lib/libvmbus/xfer-pkt.h \
	lib/libvmbus/xfer-pkt.c \
	lib/libvmbus/xfer.c
lib_libvmbus_libvmbus_la_CPPFLAGS = $(VMBUS_CORE_CPPFLAGS) \
	-I$(top_srcdir)/lib/libvmbus \
	$(XENSTORE_CFLAGS) $(XENGNTTAB_CFLAGS) $(XENEVTCHN_CFLAGS)
lib_libvmbus_libvmbus_la_LDFLAGS = -version-info 3:0:3 \
	-Wl,--version-script=$(top_srcdir)/lib/libvmbus/libvmbus.map
lib_libvmbus_libvmbus_la_LIBADD = lib/vmbus/libvmbus-core.la \
	$(XENSTORE_LIBS) $(XENGNTTAB_LIBS) $(XENEVTCHN_LIBS)
EXTRA_lib_libvmbus_libvmbus_la_DEPENDENCIES = lib/libvmbus/libvmbus.map
EXTRA_DIST += lib/libvmbus/libvmbus.map

# The public header, installed as <xenvmbus/libvmbus.h> beside the wire
# headers; programs outside the tree build with
# `pkg-config --cflags --libs libvmbus`.
xenvmbusinclude_HEADERS += lib/libvmbus/libvmbus.h
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = lib/libvmbus/libvmbus.pc
EXTRA_DIST += lib/libvmbus/libvmbus.pc.in
dist_man_MANS += docs/man/libvmbus.3

# Users of libvmbus in this tree.
LIBVMBUS_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/lib/libvmbus
LIBVMBUS_LIBS = lib/libvmbus/libvmbus.la

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

# The channel layer alone, against a stub event channel library.
check_PROGRAMS += tests/unit/vmbus-chan-test
TESTS += tests/unit/vmbus-chan-test
tests_unit_vmbus_chan_test_SOURCES = tests/unit/vmbus-chan-test.c \
	lib/libvmbus/chan.c
tests_unit_vmbus_chan_test_CPPFLAGS = $(LIBVMBUS_CPPFLAGS) \
	$(VMBUS_CORE_CPPFLAGS) $(XENSTORE_CFLAGS) $(XENGNTTAB_CFLAGS) \
	$(XENEVTCHN_CFLAGS)
tests_unit_vmbus_chan_test_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_vmbus_chan_test_LDADD = lib/vmbus/libvmbus-core.la $(CHECK_LIBS)

# A client whose control messages wait for room in the ring.
check_PROGRAMS += tests/integration/vmbus-ctl-flow
tests_integration_vmbus_ctl_flow_SOURCES = tests/integration/vmbus-ctl-flow.c
tests_integration_vmbus_ctl_flow_CPPFLAGS = $(LIBVMBUS_CPPFLAGS)
tests_integration_vmbus_ctl_flow_LDADD = $(LIBVMBUS_LIBS)

# An outside program built against the installed headers, libvmbus.pc and
# library (make installcheck; distcheck runs it on its staged install).
EXTRA_DIST += tests/package/installed-use.c
dist_noinst_SCRIPTS += tests/package/installed-use.sh
installcheck-local:
	CC='$(CC)' PKG_CONFIG='$(PKG_CONFIG)' $(SHELL) $(srcdir)/tests/package/installed-use.sh \
		$(srcdir)/tests/package/installed-use.c '$(libdir)' '$(DESTDIR)'
