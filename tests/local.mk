# SPDX-License-Identifier: GPL-2.0-only

# The conformance suite: public Xen APIs only, linked against Debian's real
# libraries; it runs on the simulated host through LD_LIBRARY_PATH.
pkglibexec_PROGRAMS += tests/conformance/xen-conformance
tests_conformance_xen_conformance_SOURCES = tests/conformance/xen-conformance.c
tests_conformance_xen_conformance_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) \
	$(XENCTRL_CFLAGS) $(XENSTORE_CFLAGS) $(XENGNTTAB_CFLAGS) $(XENEVTCHN_CFLAGS)
tests_conformance_xen_conformance_LDADD = $(CHECK_LIBS) \
	$(XENCTRL_LIBS) $(XENSTORE_LIBS) $(XENGNTTAB_LIBS) $(XENEVTCHN_LIBS)

# Every program fed bad input; the cases are tests/bad-input/*.cases.
dist_noinst_SCRIPTS += tests/bad-input/bad-input.sh
TESTS += tests/bad-input/bad-input.sh
EXTRA_DIST += \
	tests/bad-input/vmbusctl.cases \
	tests/bad-input/xen-kdrelay.cases \
	tests/bad-input/xensim.cases \
	tests/bad-input/vmbusd.cases \
	tests/bad-input/vmbus-pipe-client.cases
