# SPDX-License-Identifier: GPL-2.0-only
#
# The guest kernel's bus module (xen-vmbus.ko), built with kbuild against
# the kernel headers configure found (--with-linux-headers).  kbuild writes
# next to its sources, so they are copied into the build tree first (a
# read-only source tree, as in distcheck, stays untouched).

KMOD_SOURCES = \
	%reldir%/Kbuild \
	%reldir%/xvmb.h \
	%reldir%/xvmb-api.h \
	%reldir%/ring.c \
	%reldir%/channel.c \
	%reldir%/connection.c \
	%reldir%/bus.c \
	%reldir%/hv-channel.c \
	%reldir%/hv-channel-mgmt.c \
	%reldir%/hv-connection.c \
	%reldir%/hv-ring-buffer.c \
	%reldir%/hv-vmbus-drv.c

EXTRA_DIST += $(KMOD_SOURCES) \
	%reldir%/Makefile \
	%reldir%/dkms.conf.in \
	%reldir%/xen-vmbus.conf

KMOD_DIR = $(abs_builddir)/%reldir%/_kbuild

# Copy the changed sources (a fresh copy is writable and newer than the
# objects), then kbuild; XVMB_INCLUDE names the wire headers.
kmod:
	$(MKDIR_P) $(KMOD_DIR)
	for f in $(KMOD_SOURCES); do \
		d=$(KMOD_DIR)/$${f##*/}; \
		cmp -s $(srcdir)/$$f $$d || { rm -f $$d && cp $(srcdir)/$$f $$d; } || exit 1; \
	done
	$(MAKE) -C $(LINUX_KDIR) M=$(KMOD_DIR) \
		XVMB_INCLUDE=$(abs_top_srcdir)/include modules

if BUILD_KMOD
all-local: kmod
endif

clean-local: clean-kmod
clean-kmod:
	-rm -rf $(KMOD_DIR)

.PHONY: kmod clean-kmod
