# SPDX-License-Identifier: GPL-2.0-only

# Benchmarks print a table and a JSON line with their baselines measured in
# the same run; they are never part of make check's verdict.
pkglibexec_PROGRAMS += bench/xenbench
bench_xenbench_SOURCES = bench/xenbench.c
bench_xenbench_CFLAGS = $(AM_CFLAGS) $(XENSTORE_CFLAGS) $(XENGNTTAB_CFLAGS) $(XENEVTCHN_CFLAGS)
bench_xenbench_LDADD = $(XENSTORE_LIBS) $(XENGNTTAB_LIBS) $(XENEVTCHN_LIBS)

dist_bin_SCRIPTS += tools/xensim-demo
dist_noinst_SCRIPTS += bench/run-xensim.sh

include bench/syndbg/local.mk
