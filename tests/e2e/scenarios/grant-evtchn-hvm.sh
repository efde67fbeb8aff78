#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# grant-evtchn-guest with an HVM guest: the guest uses its grant and event
# channel devices through the same libraries. Not in the default list.
# e2e-timeout: 540
# e2e-default: no

# Separate assignments: busybox sh does not pass "VAR=x . file" on.
GRANT_GUEST_TYPE=hvm
# An HVM Linux guest boots slowly under TCG (see hvm-guest).
E2E_BOOT_TIMEOUT=420
. /e2e/scenarios/grant-evtchn-guest.sh
