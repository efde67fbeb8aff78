# SPDX-License-Identifier: GPL-2.0-only
#
# tests/unit: check suites of one layer each, built against that layer
# alone (stubs for what lies below it).  They speak TAP.

check_PROGRAMS += tests/unit/vmbus-ring-test tests/unit/vmbus-msg-test
TESTS += tests/unit/vmbus-ring-test tests/unit/vmbus-msg-test

tests_unit_vmbus_ring_test_SOURCES = tests/unit/vmbus-ring-test.c
tests_unit_vmbus_ring_test_CPPFLAGS = $(VMBUS_CORE_CPPFLAGS)
tests_unit_vmbus_ring_test_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -pthread
tests_unit_vmbus_ring_test_LDADD = lib/vmbus/libvmbus-core.la $(CHECK_LIBS) -lpthread

tests_unit_vmbus_msg_test_SOURCES = tests/unit/vmbus-msg-test.c
tests_unit_vmbus_msg_test_CPPFLAGS = $(VMBUS_CORE_CPPFLAGS)
tests_unit_vmbus_msg_test_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_vmbus_msg_test_LDADD = lib/vmbus/libvmbus-core.la $(CHECK_LIBS)

check_PROGRAMS += tests/unit/dlog-test
TESTS += tests/unit/dlog-test
tests_unit_dlog_test_SOURCES = tests/unit/dlog-test.c
tests_unit_dlog_test_CPPFLAGS = $(AM_CPPFLAGS) $(DLOG_CPPFLAGS)
tests_unit_dlog_test_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_dlog_test_LDADD = util/libdlog.la $(CHECK_LIBS)

# The connection and channel layers alone, against a stub event channel
# library.
check_PROGRAMS += tests/unit/vmbus-chan-test
TESTS += tests/unit/vmbus-chan-test
tests_unit_vmbus_chan_test_SOURCES = tests/unit/vmbus-chan-test.c \
	lib/libvmbus/util.c \
	lib/libvmbus/conn.c \
	lib/libvmbus/chan.c
tests_unit_vmbus_chan_test_CPPFLAGS = $(LIBVMBUS_CPPFLAGS) \
	$(VMBUS_CORE_CPPFLAGS) $(XENSTORE_CFLAGS) $(XENGNTTAB_CFLAGS) \
	$(XENEVTCHN_CFLAGS)
tests_unit_vmbus_chan_test_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_vmbus_chan_test_LDADD = lib/vmbus/libvmbus-core.la $(CHECK_LIBS)

# The decoder of libvmbus's memory-naming packets.
check_PROGRAMS += tests/unit/vmbus-xfer-test
TESTS += tests/unit/vmbus-xfer-test
tests_unit_vmbus_xfer_test_SOURCES = tests/unit/vmbus-xfer-test.c \
	lib/libvmbus/xfer-pkt.c
tests_unit_vmbus_xfer_test_CPPFLAGS = $(LIBVMBUS_CPPFLAGS) \
	-I$(top_srcdir)/lib
tests_unit_vmbus_xfer_test_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_vmbus_xfer_test_LDADD = lib/vmbus/libvmbus-core.la $(CHECK_LIBS)

# xen-kdrelay's Ethernet/IPv4/UDP framing, on its own.
check_PROGRAMS += tests/unit/kdrelay-frame-test
TESTS += tests/unit/kdrelay-frame-test
tests_unit_kdrelay_frame_test_SOURCES = tests/unit/kdrelay-frame-test.c \
	dom0-backends/kdrelay/kd-frame.c
tests_unit_kdrelay_frame_test_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/dom0-backends/kdrelay
tests_unit_kdrelay_frame_test_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_kdrelay_frame_test_LDADD = $(CHECK_LIBS)

# The integration service messages: parser, builder, negotiation, strings.
check_PROGRAMS += tests/unit/vmbus-ic-test
TESTS += tests/unit/vmbus-ic-test
tests_unit_vmbus_ic_test_SOURCES = tests/unit/vmbus-ic-test.c
tests_unit_vmbus_ic_test_CPPFLAGS = $(VMBUS_CORE_CPPFLAGS)
tests_unit_vmbus_ic_test_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_vmbus_ic_test_LDADD = lib/vmbus/libvmbus-core.la $(CHECK_LIBS)
# The storage VSP's SCSI disk emulation alone, against a disk in memory.
check_PROGRAMS += tests/unit/storvsp-scsi-test
TESTS += tests/unit/storvsp-scsi-test
tests_unit_storvsp_scsi_test_SOURCES = tests/unit/storvsp-scsi-test.c \
	dom0-backends/storvsp/scsi.c dom0-backends/storvsp/scsi.h
tests_unit_storvsp_scsi_test_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/dom0-backends/storvsp
tests_unit_storvsp_scsi_test_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_storvsp_scsi_test_LDADD = $(CHECK_LIBS)
