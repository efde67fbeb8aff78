# SPDX-License-Identifier: GPL-2.0-only
#
# tools: the VMBus administrator CLI, the guest pipe client and the demo.

sbin_PROGRAMS += tools/vmbusctl
tools_vmbusctl_SOURCES = tools/vmbusctl.c
tools_vmbusctl_CPPFLAGS = $(AM_CPPFLAGS) $(UTIL_CPPFLAGS) $(XENSTORE_CFLAGS) $(YAJL_CFLAGS)
tools_vmbusctl_LDADD = util/libpipename.la util/libdiskspec.la $(XENSTORE_LIBS) $(YAJL_LIBS)

# The guest end of a pipe (and a dom0 echo service), for the demo and tests.
bin_PROGRAMS += tools/vmbus-pipe-client
tools_vmbus_pipe_client_SOURCES = tools/vmbus-pipe-client.c
tools_vmbus_pipe_client_CPPFLAGS = $(LIBVMBUS_CPPFLAGS)
tools_vmbus_pipe_client_LDADD = $(LIBVMBUS_LIBS)

# The demo on the simulated Xen host, from a build tree or installed.
dist_bin_SCRIPTS += tools/vmbus-demo
dist_man_MANS += docs/man/vmbus-demo.1 docs/man/vmbus-pipe-client.1 docs/man/xensim-demo.1

dist_man_MANS += docs/man/vmbusctl.8

# Boot: vmbusd's systemd unit, its options in /etc/default/xenvmbus, and
# the configuration of guests and pipes.
EXTRA_DIST += tools/systemd/vmbusd.service.in
dist_noinst_DATA = tools/systemd/xenvmbus.default tools/systemd/vmbusd.conf
if HAVE_SYSTEMD_UNITDIR
systemdsystemunit_DATA = tools/systemd/vmbusd.service
endif
CLEANFILES += tools/systemd/vmbusd.service
tools/systemd/vmbusd.service: $(top_srcdir)/tools/systemd/vmbusd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) tools/systemd && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
		$(top_srcdir)/tools/systemd/vmbusd.service.in > $@.tmp && mv $@.tmp $@
all-local: tools/systemd/vmbusd.service

# Existing files are the administrator's: never overwritten.
install-data-local:
	$(MKDIR_P) $(DESTDIR)$(sysconfdir)/default $(DESTDIR)$(sysconfdir)/xenvmbus
	test -e $(DESTDIR)$(sysconfdir)/default/xenvmbus || \
		$(INSTALL_DATA) $(top_srcdir)/tools/systemd/xenvmbus.default \
			$(DESTDIR)$(sysconfdir)/default/xenvmbus
	test -e $(DESTDIR)$(sysconfdir)/xenvmbus/vmbusd.conf || \
		$(INSTALL_DATA) $(top_srcdir)/tools/systemd/vmbusd.conf \
			$(DESTDIR)$(sysconfdir)/xenvmbus/vmbusd.conf
uninstall-local:
	-cmp -s $(top_srcdir)/tools/systemd/xenvmbus.default \
		$(DESTDIR)$(sysconfdir)/default/xenvmbus && \
		rm -f $(DESTDIR)$(sysconfdir)/default/xenvmbus
	-cmp -s $(top_srcdir)/tools/systemd/vmbusd.conf \
		$(DESTDIR)$(sysconfdir)/xenvmbus/vmbusd.conf && \
		rm -f $(DESTDIR)$(sysconfdir)/xenvmbus/vmbusd.conf

# make distcheck installs under its own prefix, systemd's directory too.
AM_DISTCHECK_CONFIGURE_FLAGS = \
	--with-systemdsystemunitdir='$${dc_install_base}/lib/systemd/system'
