# SPDX-License-Identifier: GPL-2.0-only

# The conformance suite: public Xen APIs only, linked against Debian's real
# libraries; it runs on the simulated host through LD_LIBRARY_PATH.
pkglibexec_PROGRAMS += tests/conformance/xen-conformance
tests_conformance_xen_conformance_SOURCES = tests/conformance/xen-conformance.c
tests_conformance_xen_conformance_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) \
	$(XENCTRL_CFLAGS) $(XENSTORE_CFLAGS) $(XENGNTTAB_CFLAGS) $(XENEVTCHN_CFLAGS)
tests_conformance_xen_conformance_LDADD = $(CHECK_LIBS) \
	$(XENCTRL_LIBS) $(XENSTORE_LIBS) $(XENGNTTAB_LIBS) $(XENEVTCHN_LIBS)

dist_noinst_SCRIPTS += tests/integration/xensim-host.sh
TESTS += tests/integration/xensim-host.sh

# Sourced by the vmbus-*.sh tests.
EXTRA_DIST += tests/integration/tap-lib.sh

# Malformed requests from a guest program, for the integration test.
check_PROGRAMS += tests/integration/hostile-client
tests_integration_hostile_client_SOURCES = tests/integration/hostile-client.c
tests_integration_hostile_client_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/xensim $(XENSTORE_CFLAGS)

# bench/ring/run.sh, one short run: every measurement runs and checks its data.
dist_noinst_SCRIPTS += tests/integration/ringbench-smoke.sh
TESTS += tests/integration/ringbench-smoke.sh

# Every program fed bad input; the cases are tests/bad-input/*.cases.
dist_noinst_SCRIPTS += tests/bad-input/bad-input.sh
TESTS += tests/bad-input/bad-input.sh
EXTRA_DIST += \
	tests/bad-input/vmbusctl.cases \
	tests/bad-input/vmbusd.cases \
	tests/bad-input/vmbus-pipe-client.cases
