# SPDX-License-Identifier: GPL-2.0-only
#
# The real-Xen test tier: Debian's Xen 4.17 (or a patched hypervisor) booted
# under QEMU/TCG with the project's installed files in dom0 and the guests.
# `make e2e` stages `make install` and runs the default scenarios; pass
# options and scenario names with E2E_FLAGS, for example
#   make e2e E2E_FLAGS="--xen-binary /path/to/xen micro-hvm"
# Not part of TESTS: CI decides when to run it (see tests/e2e/README.md).

include %reldir%/microguest/local.mk

# Userspace on both ends of a grant + event channel round trip.
noinst_PROGRAMS += %reldir%/progs/grant-pingpong
%canon_reldir%_progs_grant_pingpong_SOURCES = %reldir%/progs/grant-pingpong.c
%canon_reldir%_progs_grant_pingpong_CFLAGS = $(AM_CFLAGS) \
	$(XENGNTTAB_CFLAGS) $(XENEVTCHN_CFLAGS) $(XENSTORE_CFLAGS)
%canon_reldir%_progs_grant_pingpong_LDADD = \
	$(XENGNTTAB_LIBS) $(XENEVTCHN_LIBS) $(XENSTORE_LIBS)

# Everything is staged under the prefix: a unit directory outside it
# (/lib/systemd/system) would put a real lib/ over the images' /lib -> usr/lib.
# The cache defaults to the build tree; E2E_CACHE from the environment or
# the make command line wins (read by the shell, so both work).
E2E_STAGE = $(abs_builddir)/e2e-stage
E2E_FLAGS =

.PHONY: e2e
e2e: all
	rm -rf $(E2E_STAGE)
	$(MAKE) $(AM_MAKEFLAGS) install DESTDIR=$(E2E_STAGE) \
		systemdsystemunitdir='$(prefix)/lib/systemd/system'
	$(top_srcdir)/%reldir%/run --stage $(E2E_STAGE) \
		--cache "$${E2E_CACHE:-$(abs_builddir)/e2e-cache}" \
		--microguest $(E2E_MICROGUEST) \
		--microguest-syndbg $(E2E_MICROGUEST_SYNDBG) \
		--pingpong %reldir%/progs/grant-pingpong$(EXEEXT) $(E2E_FLAGS)

EXTRA_DIST += \
	%reldir%/README.md \
	%reldir%/DEPENDENCIES \
	%reldir%/run \
	%reldir%/lib/common.sh \
	%reldir%/lib/fetch.sh \
	%reldir%/lib/images.sh \
	%reldir%/lib/boot.sh \
	%reldir%/dom0/init \
	%reldir%/dom0/e2e-lib.sh \
	%reldir%/guest/init \
	%reldir%/scenarios/xl-info.sh \
	%reldir%/scenarios/stage-libs.sh \
	%reldir%/scenarios/pv-guest.sh \
	%reldir%/scenarios/pvh-guest.sh \
	%reldir%/scenarios/hvm-guest.sh \
	%reldir%/scenarios/micro-hvm.sh \
	%reldir%/scenarios/micro-hvm-seabios.sh \
	%reldir%/scenarios/grant-evtchn-guest.sh \
	%reldir%/scenarios/grant-evtchn-pvh.sh \
	%reldir%/scenarios/grant-evtchn-hvm.sh \
	%reldir%/scenarios/conformance.sh \
	%reldir%/scenarios/vmbus-pipe.sh \
	%reldir%/scenarios/vmbus-p2p.sh \
	%reldir%/scenarios/kmod-bus.sh \
	%reldir%/scenarios/syndbg.sh \
	%reldir%/scenarios/stubdom-hvm.sh \
	%reldir%/progs/stubdom-rights.c \
	%reldir%/host/syndbg-peer.py \
	%reldir%/scenarios/broken-guest-never-connects.sh \
	%reldir%/scenarios/broken-dom0-crash.sh
