#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Build tests/package/installed-use.c against an installed libvmbus with
# pkg-config alone, and run it.  Used by `make installcheck` (and so by
# distcheck) on a staged install, and by the package tier inside a Debian
# root where the libvmbus-dev package is installed.
#
# Usage: installed-use.sh SOURCE LIBDIR [SYSROOT]
#   SOURCE   installed-use.c
#   LIBDIR   the libdir libvmbus was installed to (as configured)
#   SYSROOT  where that install was staged (make install DESTDIR=...)
set -u
src=$1 libdir=$2 sysroot=${3:-}
cc=${CC:-cc}
pc=${PKG_CONFIG:-pkg-config}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/installed-use.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# Only the installed libvmbus.pc, with its paths inside the staged root.
PKG_CONFIG_LIBDIR=$sysroot$libdir/pkgconfig
PKG_CONFIG_SYSROOT_DIR=$sysroot
export PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
flags=$($pc --cflags --libs libvmbus) || { echo "installed-use: pkg-config libvmbus failed in $PKG_CONFIG_LIBDIR" >&2; exit 1; }
echo "installed-use: cc $flags"
# shellcheck disable=SC2086 # $flags are words
$cc -std=c11 -Wall -Wextra -Werror -o "$tmp/prog" "$src" $flags ||
	{ echo "installed-use: compile against the installed libvmbus failed" >&2; exit 1; }
LD_LIBRARY_PATH=$sysroot$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$tmp/prog" ||
	{ echo "installed-use: the program built against the installed libvmbus failed" >&2; exit 1; }
