# SPDX-License-Identifier: GPL-2.0-only
#
# The micro-guest: a freestanding 32-bit ELF, not a program for the build
# host, so a plain rule around build.sh instead of an automake _PROGRAMS
# entry (build.sh holds the one copy of the flags; tests/e2e/run uses it too).

E2E_MICROGUEST = %reldir%/microguest.elf
E2E_MICROGUEST_SRCS = %reldir%/head.S %reldir%/main.c %reldir%/micro.h \
	%reldir%/microguest.ld
# The image of the syndbg scenario: the same plus the debugger tests.
E2E_MICROGUEST_SYNDBG = %reldir%/microguest-syndbg.elf
E2E_MICROGUEST_SYNDBG_SRCS = %reldir%/syndbg.c %reldir%/smp.c %reldir%/call64.S

$(E2E_MICROGUEST): $(E2E_MICROGUEST_SRCS) %reldir%/build.sh
	$(AM_V_GEN)$(MKDIR_P) $(@D) && \
	CC='$(CC)' $(SHELL) $(srcdir)/%reldir%/build.sh $@

$(E2E_MICROGUEST_SYNDBG): $(E2E_MICROGUEST_SRCS) $(E2E_MICROGUEST_SYNDBG_SRCS) %reldir%/build.sh
	$(AM_V_GEN)$(MKDIR_P) $(@D) && \
	CC='$(CC)' $(SHELL) $(srcdir)/%reldir%/build.sh $@ syndbg

all-local: $(E2E_MICROGUEST) $(E2E_MICROGUEST_SYNDBG)
CLEANFILES += $(E2E_MICROGUEST) $(E2E_MICROGUEST_SYNDBG)
EXTRA_DIST += $(E2E_MICROGUEST_SRCS) $(E2E_MICROGUEST_SYNDBG_SRCS) \
	%reldir%/build.sh %reldir%/local.mk
