# SPDX-License-Identifier: GPL-2.0-only
#
# dom0-backends: the bus daemon and its service providers.

sbin_PROGRAMS += dom0-backends/vmbusd/vmbusd
dom0_backends_vmbusd_vmbusd_SOURCES = \
	dom0-backends/vmbusd/vmbusd.h \
	dom0-backends/vmbusd/vmbusd.c \
	dom0-backends/vmbusd/loop.c \
	dom0-backends/vmbusd/guest.c \
	dom0-backends/vmbusd/config.c \
	dom0-backends/vmbusd/pipe.c \
	dom0-backends/vmbusd/p2p.c \
	dom0-backends/vmbusd/hvsock.c \
	dom0-backends/vmbusd/nic.c \
	dom0-backends/vmbusd/ic.h \
	dom0-backends/vmbusd/ic.c \
	dom0-backends/vmbusd/ic-heartbeat.c \
	dom0-backends/vmbusd/ic-shutdown.c \
	dom0-backends/vmbusd/ic-timesync.c \
	dom0-backends/vmbusd/ic-kvp.c \
	dom0-backends/vmbusd/storage.c
dom0_backends_vmbusd_vmbusd_CPPFLAGS = $(LIBVMBUS_CPPFLAGS) -I$(top_srcdir)/lib -I$(top_srcdir)/dom0-backends/netvsp $(XENGNTTAB_CFLAGS) $(DLOG_CPPFLAGS) $(UTIL_CPPFLAGS) $(XENSTORE_CFLAGS) \
	$(LIBSYSTEMD_CFLAGS) $(LIBCAPNG_CFLAGS) -I$(top_srcdir)/dom0-backends/storvsp -DVD_CONFIG_FILE='"$(sysconfdir)/xenvmbus/vmbusd.conf"'
dom0_backends_vmbusd_vmbusd_LDADD = $(NETVSP_LIBS) $(XENGNTTAB_LIBS) $(LIBVMBUS_LIBS) lib/vmbus/libvmbus-core.la util/libdlog.la util/libpipename.la $(XENSTORE_LIBS) \
	$(LIBSYSTEMD_LIBS) $(LIBCAPNG_LIBS) \
	dom0-backends/storvsp/libstorvsp.la util/libdiskspec.la

dist_man_MANS += docs/man/vmbusd.8 docs/man/vmbusd.conf.5

