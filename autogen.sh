#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Regenerate the build system: ./autogen.sh && ./configure && make
set -e
cd "$(dirname "$0")"
mkdir -p build-aux m4
autoreconf -fi
# automake does not install its TAP driver on its own.
if [ ! -f build-aux/tap-driver.sh ]; then
	for d in /usr/share/automake-*; do
		[ -f "$d/tap-driver.sh" ] && cp "$d/tap-driver.sh" build-aux/ && break
	done
fi
