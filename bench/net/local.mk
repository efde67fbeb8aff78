# SPDX-License-Identifier: GPL-2.0-only

# bench/net: the network VSP through a user-mode netvsc in a simulated
# guest against raw tap reads and writes from dom0, in one run.

pkglibexec_PROGRAMS += bench/net/netbench
bench_net_netbench_SOURCES = bench/net/netbench.c \
	tests/integration/netvsc-client.c tests/integration/netvsc-client.h
bench_net_netbench_CPPFLAGS = $(NETVSP_CPPFLAGS) \
	-I$(top_srcdir)/tests/integration $(XENGNTTAB_CFLAGS)
bench_net_netbench_LDADD = $(NETVSP_LIBS) $(LIBVMBUS_LIBS) $(XENGNTTAB_LIBS)

dist_noinst_SCRIPTS += bench/net/run.sh
