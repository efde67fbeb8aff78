#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# grant-evtchn-guest with a PVH guest: the guest uses its grant and event
# channel devices through the same libraries. Not in the default list.
# e2e-timeout: 150
# e2e-default: no

# Separate assignments: busybox sh does not pass "VAR=x . file" on.
GRANT_GUEST_TYPE=pvh
. /e2e/scenarios/grant-evtchn-guest.sh
