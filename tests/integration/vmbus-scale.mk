# SPDX-License-Identifier: GPL-2.0-only
#
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
