# SPDX-License-Identifier: GPL-2.0-only
#
# `make stubdom`: the Linux stub domain (kernel and initramfs) that runs an
# HVM guest's QEMU, with this tree's installed files in it. Optional: it
# downloads Debian packages (see stubdom/README.md). The cache defaults to
# the build tree; STUBDOM_CACHE from the environment or the make command
# line wins. STUBDOM_FLAGS passes more options to build.sh, for example
#   make stubdom STUBDOM_FLAGS="--tools-version 4.17.5+72-g01140da4e8-1"

STUBDOM_STAGE = $(abs_builddir)/stubdom-stage
STUBDOM_OUT = $(abs_builddir)/stubdom/out
STUBDOM_FLAGS =

.PHONY: stubdom
stubdom: all
	rm -rf $(STUBDOM_STAGE)
	$(MAKE) $(AM_MAKEFLAGS) install DESTDIR=$(STUBDOM_STAGE) \
		systemdsystemunitdir='$(prefix)/lib/systemd/system'
	$(top_srcdir)/stubdom/build.sh \
		--cache "$${STUBDOM_CACHE:-$(abs_builddir)/stubdom-cache}" \
		--out $(STUBDOM_OUT) --stage $(STUBDOM_STAGE) $(STUBDOM_FLAGS)

EXTRA_DIST += stubdom/build.sh stubdom/init
