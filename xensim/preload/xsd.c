// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libxensim-xsd.so - preloaded into Debian's unmodified xenstored on the
 * simulated host.
 *
 * xenstored's dom0_init() reads dom0's xenstore event channel from
 * /proc/xen/xsd_port and maps dom0's xenstore page from /proc/xen/xsd_kva;
 * both are hard-coded and only a Xen-enabled Linux kernel provides them.
 * This library turns exactly those two opens into opens of the files the
 * simulated hypervisor publishes in $XENSIM_RUNDIR (xsd_kva there is a link
 * to dom0's memory), and passes every other open through untouched.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PUBLIC __attribute__((visibility("default")))

static const char *redirect(const char *path, char *buf, size_t len)
{
	const char *dir;
	const char *leaf;

	if (strcmp(path, "/proc/xen/xsd_port") == 0)
		leaf = "xsd_port";
	else if (strcmp(path, "/proc/xen/xsd_kva") == 0)
		leaf = "xsd_kva";
	else
		return path;
	dir = getenv("XENSIM_RUNDIR");
	if (!dir)
		dir = "/run/xensim";
	if ((size_t)snprintf(buf, len, "%s/%s", dir, leaf) >= len)
		return path;
	return buf;
}

typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);

static int call_open(const char *sym, const char *path, int flags, mode_t mode)
{
	open_fn real = (open_fn)dlsym(RTLD_NEXT, sym);
	char buf[4096];

	return real(redirect(path, buf, sizeof(buf)), flags, mode);
}

PUBLIC int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return call_open("open", path, flags, mode);
}

PUBLIC int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return call_open("open64", path, flags, mode);
}

PUBLIC int openat(int dirfd, const char *path, int flags, ...)
{
	openat_fn real = (openat_fn)dlsym(RTLD_NEXT, "openat");
	mode_t mode = 0;
	char buf[4096];

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return real(dirfd, redirect(path, buf, sizeof(buf)), flags, mode);
}
