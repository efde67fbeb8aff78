# SPDX-License-Identifier: GPL-2.0-only
#
# dom0-backends/netvsp: the network VSP as a library (NVSP and RNDIS, the
# guest's receive and send buffers, the tap device).

noinst_LTLIBRARIES += dom0-backends/netvsp/libnetvsp.la
dom0_backends_netvsp_libnetvsp_la_SOURCES = \
	dom0-backends/netvsp/netvsp.h \
	dom0-backends/netvsp/netvsp-private.h \
	dom0-backends/netvsp/tap.c \
	dom0-backends/netvsp/vsp.c
dom0_backends_netvsp_libnetvsp_la_CPPFLAGS = $(LIBVMBUS_CPPFLAGS) \
	$(XENGNTTAB_CFLAGS)
dom0_backends_netvsp_libnetvsp_la_LIBADD = $(LIBVMBUS_LIBS) $(XENGNTTAB_LIBS)
NETVSP_CPPFLAGS = $(LIBVMBUS_CPPFLAGS) -I$(top_srcdir)/dom0-backends/netvsp
NETVSP_LIBS = dom0-backends/netvsp/libnetvsp.la

xenvmbusinclude_HEADERS += include/xenvmbus/netvsc.h

# The libFuzzer target of NVSP/RNDIS parsing (fuzz/run-fuzzers.sh netvsp).
EXTRA_DIST += fuzz/fuzz-netvsp.c

dist_doc_DATA += docs/network.md
