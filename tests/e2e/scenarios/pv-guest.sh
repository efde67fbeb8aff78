#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Boot a PV Linux guest (ELF vmlinux loaded by libxenguest),
# check that it knows its guest type, and that it powers off and the domain
# is gone. Reports create.pv (xl create returned) and boot.pv (guest /init
# ran), in seconds from the start of xl create.
# e2e-timeout: 90
# e2e-default: yes
# e2e-order: 20
. /e2e/lib.sh

case $1 in
guest)
	# Inside the guest: report what the kernel believes it runs on.
	echo "E2E-GUEST: guest_type=$(cat /sys/hypervisor/guest_type 2>/dev/null)"
	exit 0
	;;
esac

name=e2e-pv
want=PV
e2e_guest_boot pv $name pv-guest || e2e_fail "pv guest did not reach its init"
boot=$E2E_WAIT_S
if ! e2e_guest_wait $name '^E2E-GUEST: EXIT rc=' 60; then
	e2e_guest_dump $name
	e2e_fail "pv guest did not finish its role script"
fi
got=$(sed -n 's/^E2E-GUEST: guest_type=\([A-Za-z]*\).*/\1/p' $E2E_CONSOLE_DIR/guest-$name.log | head -n 1)
[ "$got" = "$want" ] || { e2e_guest_dump $name; e2e_fail "guest reports guest_type '$got', expected '$want'"; }
e2e_guest_gone $name 60 || { e2e_guest_dump $name; e2e_fail "pv guest did not power off"; }
e2e_time "gone.pv=$(e2e_since $E2E_T0)"
e2e_pass "create=${E2E_CREATE_S}s boot=${boot}s guest_type=$got"
