# SPDX-License-Identifier: GPL-2.0-only
#
# The simulated Xen: the hypervisor daemon, its toolstack CLI, the libraries
# with Xen's sonames (built as plain shared objects so they carry exactly
# Xen's names: libxenctrl.so.4.17 has no libtool equivalent) and the
# preload library that lets Debian's xenstored find dom0's xenstore page.

xensimlibdir = $(pkglibdir)/xensim

sbin_PROGRAMS += xensim/xensimd
xensim_xensimd_SOURCES = \
	xensim/daemon/main.c \
	xensim/daemon/loop.c \
	xensim/daemon/registry.c \
	xensim/daemon/conn.c \
	xensim/daemon/domain.c \
	xensim/daemon/evtchn.c \
	xensim/daemon/grant.c \
	xensim/daemon/xenbus.c \
	xensim/daemon/debugport.c \
	xensim/syndbg/syndbg-plugin.h \
	xensim/daemon/xensimd.h \
	xensim/xensim-proto.h
xensim_xensimd_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/xensim $(DLOG_CPPFLAGS) \
	$(XENSTORE_CFLAGS)
xensim_xensimd_LDADD = util/libdlog.la util/libproc.la

bin_PROGRAMS += xensim/xensim
xensim_xensim_SOURCES = \
	xensim/cli/xensim.c \
	xensim/libs/simconn.c \
	xensim/libs/simconn.h
xensim_xensim_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/xensim $(UTIL_CPPFLAGS) $(XENSTORE_CFLAGS) \
	-DPKGLIBDIR='"$(pkglibdir)"' -DSBINDIR='"$(sbindir)"'
xensim_xensim_LDADD = util/libproc.la $(XENSTORE_LIBS)

# Shared objects named as Xen names them.
SIMLIB_CPP = $(AM_CPPFLAGS) -I$(top_srcdir)/xensim
SIMLIB_CC = $(AM_CFLAGS) -fPIC -fvisibility=hidden
SIMLIB_LD = $(AM_LDFLAGS) -Xcompiler -shared -Wl,-z,defs -Wl,--no-undefined

xensimlib_PROGRAMS = \
	xensim/libs/libxenevtchn.so.1 \
	xensim/libs/libxengnttab.so.1 \
	xensim/libs/libxenctrl.so.4.17 \
	xensim/libs/libxenforeignmemory.so.1 \
	xensim/libs/libxensim-xsd.so

xensim_libs_libxenevtchn_so_1_SOURCES = xensim/libs/evtchn.c xensim/libs/simconn.c xensim/libs/simconn.h
xensim_libs_libxenevtchn_so_1_CPPFLAGS = $(SIMLIB_CPP) $(XENEVTCHN_CFLAGS)
xensim_libs_libxenevtchn_so_1_CFLAGS = $(SIMLIB_CC)
xensim_libs_libxenevtchn_so_1_LDFLAGS = $(SIMLIB_LD) -Wl,-soname,libxenevtchn.so.1 \
	-Wl,--version-script=$(top_srcdir)/xensim/libs/libxenevtchn.map
EXTRA_xensim_libs_libxenevtchn_so_1_DEPENDENCIES = xensim/libs/libxenevtchn.map

xensim_libs_libxengnttab_so_1_SOURCES = xensim/libs/gnttab.c xensim/libs/simconn.c xensim/libs/simconn.h
xensim_libs_libxengnttab_so_1_CPPFLAGS = $(SIMLIB_CPP) $(XENGNTTAB_CFLAGS)
xensim_libs_libxengnttab_so_1_CFLAGS = $(SIMLIB_CC)
xensim_libs_libxengnttab_so_1_LDFLAGS = $(SIMLIB_LD) -Wl,-soname,libxengnttab.so.1 \
	-Wl,--version-script=$(top_srcdir)/xensim/libs/libxengnttab.map
EXTRA_xensim_libs_libxengnttab_so_1_DEPENDENCIES = xensim/libs/libxengnttab.map

xensim_libs_libxenctrl_so_4_17_SOURCES = xensim/libs/ctrl.c xensim/libs/ctrl-unsupported.c \
	xensim/libs/simconn.c xensim/libs/simconn.h
xensim_libs_libxenctrl_so_4_17_CPPFLAGS = $(SIMLIB_CPP) $(XENCTRL_CFLAGS)
xensim_libs_libxenctrl_so_4_17_CFLAGS = $(SIMLIB_CC)
xensim_libs_libxenctrl_so_4_17_LDFLAGS = $(SIMLIB_LD) -Wl,-soname,libxenctrl.so.4.17 \
	-Wl,--version-script=$(top_srcdir)/xensim/libs/libxenctrl.map -Wl,--no-as-needed
EXTRA_xensim_libs_libxenctrl_so_4_17_DEPENDENCIES = xensim/libs/libxenctrl.map
# What Debian's libxenctrl needs, it needs too: libxenguest finds
# libxenforeignmemory, libxencall and libxentoollog only through it.
xensim_libs_libxenctrl_so_4_17_LDADD = \
	xensim/libs/libxenevtchn.so.1 xensim/libs/libxengnttab.so.1 \
	xensim/libs/libxenforeignmemory.so.1 \
	$(XENTOOLLOG_LIBS) $(XENCALL_LIBS) $(XENDEVICEMODEL_LIBS)

xensim_libs_libxenforeignmemory_so_1_SOURCES = xensim/libs/foreignmemory.c xensim/libs/simconn.c xensim/libs/simconn.h
xensim_libs_libxenforeignmemory_so_1_CPPFLAGS = $(SIMLIB_CPP) $(XENFOREIGNMEMORY_CFLAGS)
xensim_libs_libxenforeignmemory_so_1_CFLAGS = $(SIMLIB_CC)
xensim_libs_libxenforeignmemory_so_1_LDFLAGS = $(SIMLIB_LD) -Wl,-soname,libxenforeignmemory.so.1 \
	-Wl,--version-script=$(top_srcdir)/xensim/libs/libxenforeignmemory.map
EXTRA_xensim_libs_libxenforeignmemory_so_1_DEPENDENCIES = xensim/libs/libxenforeignmemory.map

# Loaded into a foreign program: no sanitizer runtime of its own.
xensim_libs_libxensim_xsd_so_SOURCES = xensim/preload/xsd.c
xensim_libs_libxensim_xsd_so_CFLAGS = $(WARN_CFLAGS) -fPIC -fvisibility=hidden
xensim_libs_libxensim_xsd_so_LDFLAGS = -Xcompiler -shared -Wl,-soname,libxensim-xsd.so
xensim_libs_libxensim_xsd_so_LDADD = -ldl

EXTRA_DIST += \
	xensim/libs/libxenevtchn.map \
	xensim/libs/libxengnttab.map \
	xensim/libs/libxenctrl.map \
	xensim/libs/libxenforeignmemory.map

# The environment the patched Xen syndbg code is compiled in for xensimd's
# debug-port plugin (built by tests/integration/kdrelay-relay.sh).
EXTRA_DIST += xensim/syndbg/env.c xensim/syndbg/env.h
