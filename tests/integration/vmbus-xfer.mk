# SPDX-License-Identifier: GPL-2.0-only
#
# libvmbus's memory-naming packets: GPADLs for data, transfer page sets,
# completions by transaction id.  The decoder's unit test, and both ends
# on the simulated host.

check_PROGRAMS += tests/unit/vmbus-xfer-test
TESTS += tests/unit/vmbus-xfer-test
tests_unit_vmbus_xfer_test_SOURCES = tests/unit/vmbus-xfer-test.c \
	lib/libvmbus/xfer-pkt.c
tests_unit_vmbus_xfer_test_CPPFLAGS = $(LIBVMBUS_CPPFLAGS) \
	-I$(top_srcdir)/lib
tests_unit_vmbus_xfer_test_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_vmbus_xfer_test_LDADD = lib/vmbus/libvmbus-core.la $(CHECK_LIBS)

check_PROGRAMS += tests/integration/vmbus-xfer-peer
tests_integration_vmbus_xfer_peer_SOURCES = tests/integration/vmbus-xfer-peer.c
tests_integration_vmbus_xfer_peer_CPPFLAGS = $(LIBVMBUS_CPPFLAGS)
tests_integration_vmbus_xfer_peer_LDADD = $(LIBVMBUS_LIBS)
dist_noinst_SCRIPTS += tests/integration/vmbus-xfer.sh
TESTS += tests/integration/vmbus-xfer.sh

# Its libFuzzer target, built with clang by fuzz/run-fuzzers.sh.
EXTRA_DIST += fuzz/fuzz-xfer.c

dist_doc_DATA += docs/libvmbus-data.md
