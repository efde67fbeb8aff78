#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Boot an HVM Linux guest (hvmloader, SeaBIOS, qemu-xen device model in dom0, direct kernel boot),
# check that it knows its guest type, and that it powers off and the domain
# is gone. Reports create.hvm (xl create returned) and boot.hvm (guest /init
# ran), in seconds from the start of xl create.
# e2e-timeout: 480
# e2e-default: yes
# e2e-order: 22
. /e2e/lib.sh

case $1 in
guest)
	# Inside the guest: report what the kernel believes it runs on.
	echo "E2E-GUEST: guest_type=$(cat /sys/hypervisor/guest_type 2>/dev/null)"
	exit 0
	;;
esac

# An HVM Linux boot is the slowest thing in the tier: 40 s on an idle
# 2-core host, 150-260 s seen on a busy one (load average 6).
E2E_BOOT_TIMEOUT=420
name=e2e-hvm
want=HVM
e2e_guest_boot hvm $name hvm-guest || e2e_fail "hvm guest did not reach its init"
boot=$E2E_WAIT_S
if ! e2e_guest_wait $name '^E2E-GUEST: EXIT rc=' 60; then
	e2e_guest_dump $name
	e2e_fail "hvm guest did not finish its role script"
fi
got=$(sed -n 's/^E2E-GUEST: guest_type=\([A-Za-z]*\).*/\1/p' $E2E_CONSOLE_DIR/guest-$name.log | head -n 1)
[ "$got" = "$want" ] || { e2e_guest_dump $name; e2e_fail "guest reports guest_type '$got', expected '$want'"; }
e2e_guest_gone $name 60 || { e2e_guest_dump $name; e2e_fail "hvm guest did not power off"; }
e2e_time "gone.hvm=$(e2e_since $E2E_T0)"
e2e_pass "create=${E2E_CREATE_S}s boot=${boot}s guest_type=$got"
