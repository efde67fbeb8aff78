# SPDX-License-Identifier: GPL-2.0-only

# bench/storage: the storage VSP through a user-mode storvsc in a simulated
# guest against raw io_uring on the same file, in one run.

pkglibexec_PROGRAMS += bench/storage/storbench
bench_storage_storbench_SOURCES = bench/storage/storbench.c \
	tests/integration/storvsc-client.c tests/integration/storvsc-client.h
bench_storage_storbench_CPPFLAGS = $(STORVSP_CPPFLAGS) \
	-I$(top_srcdir)/tests/integration $(XENGNTTAB_CFLAGS) $(LIBURING_CFLAGS)
bench_storage_storbench_LDADD = $(STORVSP_LIBS) $(LIBVMBUS_LIBS) \
	$(XENGNTTAB_LIBS) $(LIBURING_LIBS)

dist_noinst_SCRIPTS += bench/storage/run.sh
