# SPDX-License-Identifier: GPL-2.0-only
#
# dom0-backends/storvsp: the storage VSP as a library (SCSI disk emulation,
# the VSTOR protocol, grant mapping, io_uring backing store), and a
# one-guest server that offers it on the simulated host until the bus
# daemon plugs it in.

noinst_LTLIBRARIES += dom0-backends/storvsp/libstorvsp.la
dom0_backends_storvsp_libstorvsp_la_SOURCES = \
	dom0-backends/storvsp/scsi.h \
	dom0-backends/storvsp/scsi.c \
	dom0-backends/storvsp/storvsp.h \
	dom0-backends/storvsp/vsp.c \
	dom0-backends/storvsp/serve.c
dom0_backends_storvsp_libstorvsp_la_CPPFLAGS = $(LIBVMBUS_CPPFLAGS) \
	$(LIBURING_CFLAGS) $(XENGNTTAB_CFLAGS)
dom0_backends_storvsp_libstorvsp_la_LIBADD = $(LIBVMBUS_LIBS) \
	$(LIBURING_LIBS) $(XENGNTTAB_LIBS)
STORVSP_CPPFLAGS = $(LIBVMBUS_CPPFLAGS) -I$(top_srcdir)/dom0-backends/storvsp
STORVSP_LIBS = dom0-backends/storvsp/libstorvsp.la

xenvmbusinclude_HEADERS += include/xenvmbus/storvsc.h

# The libFuzzer target of the request path (fuzz/run-fuzzers.sh storvsp).
EXTRA_DIST += fuzz/fuzz-storvsp.c

dist_doc_DATA += docs/storage.md
