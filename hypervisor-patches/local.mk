# SPDX-License-Identifier: GPL-2.0-only
#
# The Viridian synthetic debugger series for Debian's Xen 4.17.5 source, and
# the userspace unit tests of the patched hypervisor code.
#
# `make check` runs tests/hypervisor/run-syndbg-tests.sh: it fetches
# Debian's xen source with apt-get into $(HV_XEN_CACHE) (once; kept out of
# git), applies the series with patch --fuzz=0 and compiles the patched
# xen/arch/x86/hvm/viridian/{syndbg,debugport}.c against
# tests/hypervisor/stub with this build's compiler and sanitizer flags.
# Without the source the test reports SKIP and says why.
#
# `make hypervisor` builds the patched hypervisor (Debian's configuration)
# in the same cache; `make hypervisor-tools` adds libxenlight and xl;
# `make hypervisor-series-check` only checks that the series applies.

HV_XEN_CACHE = $(abs_top_builddir)/hypervisor-patches/xen-cache
HV_BUILD_XEN = $(top_srcdir)/hypervisor-patches/build-xen.sh --cache $(HV_XEN_CACHE)

dist_noinst_SCRIPTS += \
	hypervisor-patches/build-xen.sh \
	tests/hypervisor/run-syndbg-tests.sh

EXTRA_DIST += \
	hypervisor-patches/README.md \
	hypervisor-patches/series \
	hypervisor-patches/0001-x86-viridian-add-syndbg-group-and-cpuid.patch \
	hypervisor-patches/0002-x86-viridian-add-the-debug-port.patch \
	hypervisor-patches/0003-x86-viridian-syndbg-msrs-and-debug-hypercalls.patch \
	hypervisor-patches/0004-x86-hvm-raw-debug-vmcall-for-syndbg-domains.patch \
	hypervisor-patches/0005-x86-viridian-syndbg-save-restore.patch \
	hypervisor-patches/0006-x86-viridian-syndbg-build-option.patch \
	tests/hypervisor/test-syndbg.c \
	tests/hypervisor/stub/xen-stub.h \
	tests/hypervisor/stub/xen-base.h \
	tests/hypervisor/stub/stub.c \
	tests/hypervisor/stub/stub-state.h \
	tests/hypervisor/stub/include/xen/sched.h \
	tests/hypervisor/stub/include/xen/bitops.h \
	tests/hypervisor/stub/include/xen/domain_page.h \
	tests/hypervisor/stub/include/xen/event.h \
	tests/hypervisor/stub/include/xen/lib.h \
	tests/hypervisor/stub/include/xen/page-size.h \
	tests/hypervisor/stub/include/xen/softirq.h \
	tests/hypervisor/stub/include/xen/time.h \
	tests/hypervisor/stub/include/xen/timer.h \
	tests/hypervisor/stub/include/xen/types.h \
	tests/hypervisor/stub/include/xen/vmap.h \
	tests/hypervisor/stub/include/asm/p2m.h \
	tests/hypervisor/stub/include/asm/paging.h \
	tests/hypervisor/stub/include/asm/hvm/save.h \
	tests/hypervisor/stub/include/asm/hvm/support.h \
	tests/hypervisor/stub/dm/dm-env.h \
	tests/hypervisor/stub/dm/xen/guest_access.h \
	tests/hypervisor/stub/dm/xen/hypercall.h \
	tests/hypervisor/stub/dm/xen/ioreq.h \
	tests/hypervisor/stub/dm/xen/nospec.h \
	tests/hypervisor/stub/dm/asm/hap.h \
	tests/hypervisor/stub/dm/asm/shadow.h \
	tests/hypervisor/stub/dm/asm/hvm/cacheattr.h \
	tests/hypervisor/stub/dm/xsm/xsm.h \
	tests/hypervisor/stub/dm/compat/hvm/dm_op.h \
	tests/hypervisor/smoke/run-smoke.sh \
	tests/hypervisor/smoke/dom0-scenario.sh \
	tests/hypervisor/smoke/dom0-syndbg-probe.c \
	tests/hypervisor/smoke/guest-syndbg-probe.c

TESTS += tests/hypervisor/run-syndbg-tests.sh
CLEANFILES += tests/hypervisor/test-syndbg tests/hypervisor/dm.o

AM_TESTS_ENVIRONMENT += \
	HV_CC='$(CC)'; export HV_CC; \
	HV_CFLAGS='$(SAN_CFLAGS)'; export HV_CFLAGS; \
	HV_LDFLAGS='$(SAN_LDFLAGS)'; export HV_LDFLAGS; \
	HV_CHECK_CFLAGS='$(CHECK_CFLAGS)'; export HV_CHECK_CFLAGS; \
	HV_CHECK_LIBS='$(CHECK_LIBS)'; export HV_CHECK_LIBS; \
	HV_XEN_CACHE='$(HV_XEN_CACHE)'; export HV_XEN_CACHE;

.PHONY: hypervisor hypervisor-tools hypervisor-series-check
hypervisor:
	$(HV_BUILD_XEN) build
hypervisor-tools:
	$(HV_BUILD_XEN) --tools build
hypervisor-series-check:
	$(HV_BUILD_XEN) check
