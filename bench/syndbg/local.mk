# SPDX-License-Identifier: GPL-2.0-only

# bench/syndbg: guest exits per KiB through the synthetic debugger's port on
# the simulated Xen (the patched Xen code as xensimd's plugin), hypercalls
# and SYNDBG MSRs, against a 16550 UART measured in the same run.

pkglibexec_PROGRAMS += bench/syndbg/syndbg-bench
bench_syndbg_syndbg_bench_SOURCES = bench/syndbg/syndbg-bench.c \
	xensim/syndbg/guest-calls.h dom0-backends/kdrelay/kd-dmop.c
bench_syndbg_syndbg_bench_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/xensim \
	-I$(top_srcdir)/dom0-backends/kdrelay
bench_syndbg_syndbg_bench_CFLAGS = $(AM_CFLAGS) -pthread $(XENCTRL_CFLAGS) \
	$(XENEVTCHN_CFLAGS) $(XENFOREIGNMEMORY_CFLAGS)
bench_syndbg_syndbg_bench_LDADD = -lpthread $(XENCTRL_LIBS) $(XENEVTCHN_LIBS) \
	$(XENFOREIGNMEMORY_LIBS)

dist_noinst_SCRIPTS += bench/syndbg/run.sh
