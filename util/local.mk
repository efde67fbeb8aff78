# SPDX-License-Identifier: GPL-2.0-only
#
# util: the bottom of the tree.  Everything may use it; it uses nothing of
# the project but include/.

# How the dom0 daemons log (stderr, syslog or both): linked by each daemon.
noinst_LTLIBRARIES += util/libdlog.la
util_libdlog_la_SOURCES = util/dlog.c util/dlog.h
DLOG_CPPFLAGS = -I$(top_srcdir)/util

# Facts about processes from /proc: the simulator's toolstack and daemon.
noinst_LTLIBRARIES += util/libproc.la
util_libproc_la_SOURCES = util/proc.c util/proc.h
UTIL_CPPFLAGS = -I$(top_srcdir)/util

# What a pipe name may be: vmbusd's configuration and vmbusctl's options.
noinst_LTLIBRARIES += util/libpipename.la
util_libpipename_la_SOURCES = util/pipename.c util/pipename.h

# What a disk of a SCSI controller is: vmbusctl, vmbusd and the storage
# test and benchmark servers.
noinst_LTLIBRARIES += util/libdiskspec.la
util_libdiskspec_la_SOURCES = util/diskspec.c util/diskspec.h
