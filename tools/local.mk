# SPDX-License-Identifier: GPL-2.0-only
#
# tools: the VMBus administrator CLI, the guest pipe client and the demo.

sbin_PROGRAMS += tools/vmbusctl
tools_vmbusctl_SOURCES = tools/vmbusctl.c
tools_vmbusctl_CPPFLAGS = $(AM_CPPFLAGS) $(XENSTORE_CFLAGS) $(YAJL_CFLAGS)
tools_vmbusctl_LDADD = $(XENSTORE_LIBS) $(YAJL_LIBS)

# The guest end of a pipe (and a dom0 echo service), for the demo and tests.
bin_PROGRAMS += tools/vmbus-pipe-client
tools_vmbus_pipe_client_SOURCES = tools/vmbus-pipe-client.c
tools_vmbus_pipe_client_CPPFLAGS = $(LIBVMBUS_CPPFLAGS)
tools_vmbus_pipe_client_LDADD = $(LIBVMBUS_LIBS)

# The demo on the simulated Xen host (run from a build tree).
dist_noinst_SCRIPTS += tools/vmbus-demo

dist_man_MANS += docs/man/vmbusctl.8 docs/man/vmbus-pipe-client.1
