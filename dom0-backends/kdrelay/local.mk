# SPDX-License-Identifier: GPL-2.0-only
#
# xen-kdrelay: relays a domain's Viridian synthetic debugger port to a TCP
# debugger, WinDbg's KDNET over UDP, or another domain's port.  Standalone
# fragment: the top-level Makefile.am includes it.

sbin_PROGRAMS += dom0-backends/kdrelay/xen-kdrelay
# main (argv, lifecycle), the port, the sinks behind kd-sink.h's table.
dom0_backends_kdrelay_xen_kdrelay_SOURCES = dom0-backends/kdrelay/xen-kdrelay.c \
	dom0-backends/kdrelay/kd-port.c dom0-backends/kdrelay/kd-port.h \
	dom0-backends/kdrelay/kd-sink.c dom0-backends/kdrelay/kd-sink.h \
	dom0-backends/kdrelay/kd-sink-tcp.c dom0-backends/kdrelay/kd-sink-udp.c \
	dom0-backends/kdrelay/kd-sink-domain.c \
	dom0-backends/kdrelay/kd-frame.c dom0-backends/kdrelay/kd-frame.h \
	dom0-backends/kdrelay/kd-dmop.c dom0-backends/kdrelay/kd-dmop.h
dom0_backends_kdrelay_xen_kdrelay_CFLAGS = $(AM_CFLAGS) $(XENCTRL_CFLAGS) \
	$(XENEVTCHN_CFLAGS) $(XENFOREIGNMEMORY_CFLAGS) $(XENSTORE_CFLAGS) $(LIBSYSTEMD_CFLAGS)
dom0_backends_kdrelay_xen_kdrelay_CPPFLAGS = $(AM_CPPFLAGS) $(DLOG_CPPFLAGS)
dom0_backends_kdrelay_xen_kdrelay_LDADD = util/libdlog.la $(XENCTRL_LIBS) $(XENEVTCHN_LIBS) \
	$(XENFOREIGNMEMORY_LIBS) $(XENSTORE_LIBS) $(LIBSYSTEMD_LIBS)
dist_man_MANS += docs/man/xen-kdrelay.8

xenvmbusinclude_HEADERS += include/xenvmbus/syndbg-port.h

# End to end on the simulated host, against the patched Xen code.
check_PROGRAMS += tests/integration/kdrelay-guest
tests_integration_kdrelay_guest_SOURCES = tests/integration/kdrelay-guest.c
tests_integration_kdrelay_guest_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/xensim
check_PROGRAMS += tests/integration/kdrelay-dmop
tests_integration_kdrelay_dmop_SOURCES = tests/integration/kdrelay-dmop.c \
	dom0-backends/kdrelay/kd-dmop.c
tests_integration_kdrelay_dmop_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/dom0-backends/kdrelay
# The simulated host's libxenctrl supplies the privcmd path (kd-dmop.c's weak
# references): keep it although nothing else here calls it.
tests_integration_kdrelay_dmop_LDFLAGS = $(AM_LDFLAGS) -Wl,--no-as-needed
tests_integration_kdrelay_dmop_LDADD = $(XENCTRL_LIBS)
dist_noinst_SCRIPTS += tests/integration/kdrelay-relay.sh
TESTS += tests/integration/kdrelay-relay.sh

# The per-guest systemd unit, xen-kdrelay@NAME.service.  Its own directory
# variable, so that other units can be added beside it without clashing.
EXTRA_DIST += tools/systemd/xen-kdrelay@.service.in
CLEANFILES += tools/systemd/xen-kdrelay@.service
tools/systemd/xen-kdrelay@.service: $(top_srcdir)/tools/systemd/xen-kdrelay@.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) tools/systemd && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' $(top_srcdir)/tools/systemd/xen-kdrelay@.service.in > $@
if HAVE_SYSTEMDSYSTEMUNITDIR
kdrelayunitdir = $(systemdsystemunitdir)
kdrelayunit_DATA = tools/systemd/xen-kdrelay@.service
endif
