# SPDX-License-Identifier: GPL-2.0-only
#
# libvmbus: the user-mode VMBus library for guests (client) and dom0
# (server), over Xen grants and event channels.  The library itself is
# LGPL-2.1-or-later (see its sources); it links the transport core.

lib_LTLIBRARIES += lib/libvmbus/libvmbus.la
lib_libvmbus_libvmbus_la_SOURCES = \
	lib/libvmbus/private.h \
	lib/libvmbus/util.c \
	lib/libvmbus/xs.c \
	lib/libvmbus/conn.c \
	lib/libvmbus/chan.c \
	lib/libvmbus/gpadl.c \
	lib/libvmbus/xfer-pkt.h \
	lib/libvmbus/xfer-pkt.c \
	lib/libvmbus/xfer.c \
	lib/libvmbus/client.c \
	lib/libvmbus/server.h \
	lib/libvmbus/server.c \
	lib/libvmbus/server-p2p.c
lib_libvmbus_libvmbus_la_CPPFLAGS = $(VMBUS_CORE_CPPFLAGS) \
	-I$(top_srcdir)/lib/libvmbus \
	$(XENSTORE_CFLAGS) $(XENGNTTAB_CFLAGS) $(XENEVTCHN_CFLAGS)
lib_libvmbus_libvmbus_la_LDFLAGS = -version-info 4:0:4 \
	-Wl,--version-script=$(top_srcdir)/lib/libvmbus/libvmbus.map
lib_libvmbus_libvmbus_la_LIBADD = lib/vmbus/libvmbus-core.la \
	$(XENSTORE_LIBS) $(XENGNTTAB_LIBS) $(XENEVTCHN_LIBS)
EXTRA_lib_libvmbus_libvmbus_la_DEPENDENCIES = lib/libvmbus/libvmbus.map
EXTRA_DIST += lib/libvmbus/libvmbus.map

# The public header, installed as <xenvmbus/libvmbus.h> beside the wire
# headers; programs outside the tree build with
# `pkg-config --cflags --libs libvmbus`.
xenvmbusinclude_HEADERS += lib/libvmbus/libvmbus.h
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = lib/libvmbus/libvmbus.pc
EXTRA_DIST += lib/libvmbus/libvmbus.pc.in
dist_man_MANS += docs/man/libvmbus.3

# Users of libvmbus in this tree.
LIBVMBUS_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/lib/libvmbus
LIBVMBUS_LIBS = lib/libvmbus/libvmbus.la

# An outside program built against the installed headers, libvmbus.pc and
# library (make installcheck; distcheck runs it on its staged install).
EXTRA_DIST += tests/package/installed-use.c
dist_noinst_SCRIPTS += tests/package/installed-use.sh
installcheck-local:
	CC='$(CC)' PKG_CONFIG='$(PKG_CONFIG)' $(SHELL) $(srcdir)/tests/package/installed-use.sh \
		$(srcdir)/tests/package/installed-use.c '$(libdir)' '$(DESTDIR)'

# The libFuzzer target of its memory-naming packets, built with clang by fuzz/run-fuzzers.sh.
EXTRA_DIST += fuzz/fuzz-xfer.c

dist_doc_DATA += docs/libvmbus-data.md
