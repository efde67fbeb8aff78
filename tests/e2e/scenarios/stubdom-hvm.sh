#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# An HVM guest whose device model is QEMU in a Linux stub domain
# (stubdom/build.sh), started by stock xl create with
# device_model_stubdomain_override = 1, stubdomain_kernel and
# stubdomain_ramdisk. The guest boots from an emulated IDE disk (SeaBIOS,
# SYSLINUX, the Debian kernel and the test initramfs) and writes to its
# serial port, which the stub domain's QEMU emulates; the line must reach
# dom0's file. xl destroy must then remove the guest, its stub domain, the
# dom0 helpers (QMP proxy, console backend) and every xenstore node of both.
# While a PV guest B runs, the stub domain's init runs stubdom-rights
# (progs/stubdom-rights.c, stubdomain_cmdline "stubdom.rights=B,0"): it
# must map its target's memory and get EPERM for B's and dom0's, and map
# none of their grants. Then, in the same boot, the same disk with QEMU in
# dom0 as the baseline.
# Reports the times from the start of xl create to the first serial byte,
# to the guest's /init and to its serial line, the stub domain's memory
# and the dom0 processes' resident sets, for both.
# e2e-timeout: 1500
# e2e-default: no
# e2e-order: 95
# e2e-stubdom: yes
. /e2e/lib.sh

case $1 in
guest)
	# Guest B of the rights check only waits to be destroyed.
	[ "$2" = other ] && exec sleep 3600
	echo "E2E-GUEST: guest_type=$(cat /sys/hypervisor/guest_type 2>/dev/null)"
	echo "E2E-GUEST: SERIAL-OK uptime=$(cut -d' ' -f1 /proc/uptime)" >/dev/ttyS0 ||
		echo "E2E-GUEST: writing to /dev/ttyS0 failed"
	echo "E2E-GUEST: WAITING"
	# dom0 destroys the guest: that is the lifecycle under test.
	sleep 3600
	exit 0
	;;
esac

D=/e2e/stubdom
for f in qemu-stubdom-linux-kernel qemu-stubdom-linux-rootfs guest-disk.img; do
	[ -r $D/$f ] || e2e_skip "$D/$f is missing (tests/e2e/run builds it for scenarios marked e2e-stubdom)"
done
E2E_BOOT_TIMEOUT=${E2E_BOOT_TIMEOUT:-600}
STUBDOM_MEM=${STUBDOM_MEM:-128}
# QEMU's ioreq trace events (and ioctls, with E2E_STUBDOM_STRACE) on the
# stub domain's console.
STUBDOM_DEBUG=1

# $1 name, $2 1 for a stub domain, 0 for QEMU in dom0.
write_cfg() {
	{
		echo "name = \"$1\""
		echo 'type = "hvm"'
		echo 'memory = 128'
		echo 'vcpus = 1'
		echo 'on_poweroff = "destroy"'
		echo 'on_reboot = "destroy"'
		echo 'on_crash = "destroy"'
		echo 'device_model_version = "qemu-xen"'
		echo "device_model_stubdomain_override = $2"
		if [ "$2" = 1 ]; then
			echo "stubdomain_kernel = \"$D/qemu-stubdom-linux-kernel\""
			echo "stubdomain_ramdisk = \"$D/qemu-stubdom-linux-rootfs\""
			echo "stubdomain_memory = $STUBDOM_MEM"
			echo "stubdomain_cmdline = \"stubdom.ready=early stubdom.rights=$OTHER,0${STUBDOM_DEBUG:+ stubdom.debug}\""
		fi
		echo "disk = [ \"format=raw,vdev=hda,access=rw,target=$D/guest-disk.img\" ]"
		echo 'boot = "c"'
		echo "serial = \"file:$E2E_OUT/serial-$1.log\""
		echo 'vga = "none"'
		echo 'nographic = 1'
		echo 'vnc = 0'
	} >"$E2E_OUT/$1.cfg"
}

# Resident set in kB of the process whose pid xenstore key $1 holds.
rss_of() {
	_p=$(xenstore-read "$1" 2>/dev/null) || { echo -; return; }
	awk '/^VmRSS/ { print $2 }' /proc/$_p/status 2>/dev/null || echo -
}

# Wait for the first byte in the serial file $1 of guest $2; sets SERIAL_S.
# Gives up at once when the stub domain's init reports an error (QEMU
# gone: the guest would never print anything).
wait_serial() {
	e2e_up
	_end=$((E2E_UP + E2E_BOOT_TIMEOUT))
	until [ -s "$1" ]; do
		e2e_up
		[ "$E2E_UP" -lt "$_end" ] || return 1
		grep -aq '^stubdom: .*error:' /var/log/xen/qemu-dm-$2.log 2>/dev/null && return 1
		sleep 0.2
	done
	SERIAL_S=$(e2e_since "$E2E_T0")
}

fail_dump() {
	e2e_guest_dump "$1"
	_fd=$(xl domid "$1" 2>/dev/null) _fs=$(xl domid "$1-dm" 2>/dev/null)
	xl destroy "$1" >/dev/null 2>&1
	sleep 2
	echo "---- left after xl destroy of $1 ($_fd, stub domain $_fs): $(leftovers $_fd $_fs | tr '\n' ' ')"
	for f in /var/log/xen/qemu-dm-$1*.log /var/log/xen/qmp-proxy-$1*.log \
		 /var/log/xen/xl-$1.log; do
		[ -f "$f" ] || continue
		cp "$f" "$E2E_OUT/" 2>/dev/null
		echo "---- $f (last 40 lines)"
		tail -n 40 "$f" | tr -d '\r'
	done
	e2e_fail "$2"
}

# Every trace of domains $@ in xenstore and xl list, one per line.
leftovers() {
	for _d in "$@"; do
		xl list "$_d" >/dev/null 2>&1 && echo "domain $_d still in xl list"
		for _k in /local/domain/$_d /libxl/$_d /local/domain/0/device-model/$_d; do
			xenstore-exists "$_k" 2>/dev/null && echo "xenstore $_k"
		done
		for _t in $(xenstore-list /local/domain/0/backend 2>/dev/null); do
			xenstore-exists "/local/domain/0/backend/$_t/$_d" 2>/dev/null &&
				echo "xenstore /local/domain/0/backend/$_t/$_d"
		done
	done
}

# boot NAME STUBDOM(1|0) TAG: boot, measure, destroy, check what is left.
boot() {
	_n=$1 _s=$2 _tag=$3
	write_cfg "$_n" "$_s"
	e2e_guest_create "$E2E_OUT/$_n.cfg" || fail_dump "$_n" "xl create of the $_tag guest failed"
	_g=$(e2e_guest_domid "$_n")
	_vm=$(xenstore-read /local/domain/$_g/vm 2>/dev/null)
	_sd= _dmrss=- _proxyrss=- _dm0rss=- _mem=-
	if [ "$_s" = 1 ]; then
		_sd=$(e2e_guest_domid "$_n-dm")
		[ -n "$_sd" ] || fail_dump "$_n" "no stub domain $_n-dm after xl create"
		[ "$(xenstore-read /local/domain/$_sd/target 2>/dev/null)" = "$_g" ] ||
			fail_dump "$_n" "stub domain $_sd does not target domain $_g"
		_mem=$(xl list "$_sd" | awk 'NR == 2 { print $3 }')
		# dom0's share of a stock 4.17 stub domain: QEMU serving its
		# consoles (xenconsoled cannot serve more than one) and the
		# QMP proxy.
		_dm0rss=$(rss_of /local/domain/$_sd/image/device-model-pid)
		_proxyrss=$(rss_of /local/domain/$_sd/image/qmp-proxy-pid)
		# The rights check runs in the stub domain as QEMU starts.
		_i=0
		until grep -aq 'stubdom-rights: RESULT' /var/log/xen/qemu-dm-$_n.log 2>/dev/null; do
			_i=$((_i + 1))
			[ $_i -le 240 ] || fail_dump "$_n" "no result from the rights check in stub domain $_sd within 120 s"
			sleep 0.5
		done
		grep -a 'stubdom-rights:' /var/log/xen/qemu-dm-$_n.log | tr -d '\r'
		e2e_note "$(grep -a 'stubdom-rights: RESULT' /var/log/xen/qemu-dm-$_n.log | tr -d '\r')"
		grep -aq 'stubdom-rights: RESULT PASS' /var/log/xen/qemu-dm-$_n.log ||
			fail_dump "$_n" "rights check in stub domain $_sd failed"
		RIGHTS=$(grep -ac 'stubdom-rights: domain .*: refused' /var/log/xen/qemu-dm-$_n.log)
	else
		_dmrss=$(rss_of /local/domain/$_g/image/device-model-pid)
	fi
	if ! wait_serial "$E2E_OUT/serial-$_n.log" "$_n"; then
		_why=$(grep -a '^stubdom: .*error:' /var/log/xen/qemu-dm-$_n.log 2>/dev/null | tr -d '\r' | head -n 1)
		fail_dump "$_n" "$_tag guest: nothing on its serial port (${_why:-within ${E2E_BOOT_TIMEOUT}s})"
	fi
	_first=$SERIAL_S
	e2e_guest_wait "$_n" '^E2E-GUEST: READY' "$E2E_BOOT_TIMEOUT" ||
		fail_dump "$_n" "$_tag guest did not reach its init (serial: $(head -c 200 "$E2E_OUT/serial-$_n.log" | tr -d '\r' | tr '\n' ' '))"
	_ready=$E2E_WAIT_S
	e2e_up
	_end=$((E2E_UP + 120))
	until grep -aq 'E2E-GUEST: SERIAL-OK' "$E2E_OUT/serial-$_n.log"; do
		e2e_up
		[ "$E2E_UP" -lt "$_end" ] ||
			fail_dump "$_n" "$_tag guest's line on ttyS0 did not reach $E2E_OUT/serial-$_n.log"
		sleep 0.5
	done
	_line=$(e2e_since "$E2E_T0")
	e2e_guest_wait "$_n" '^E2E-GUEST: WAITING' 60 || fail_dump "$_n" "$_tag guest did not finish its role"
	_type=$(sed -n 's/^E2E-GUEST: guest_type=\([A-Za-z]*\).*/\1/p' $E2E_CONSOLE_DIR/guest-$_n.log | head -n 1)
	[ "$_type" = HVM ] || fail_dump "$_n" "$_tag guest reports guest_type '$_type'"
	if [ "$_s" = 1 ]; then
		# What the stub domain's init reports 15 s after QEMU started.
		_i=0
		until grep -q 'stubdom: memory:' /var/log/xen/qemu-dm-$_n.log 2>/dev/null; do
			_i=$((_i + 1))
			[ $_i -le 60 ] || break
			sleep 0.5
		done
		_inside=$(sed -n 's/.*stubdom: memory: //p' /var/log/xen/qemu-dm-$_n.log | head -n 1)
		e2e_note "$_tag stub domain $_sd: ${_mem} MB allocated; inside: $_inside"
		_dm0rss=$(rss_of /local/domain/$_sd/image/device-model-pid)
		_proxyrss=$(rss_of /local/domain/$_sd/image/qmp-proxy-pid)
		_pids="$(xenstore-read /local/domain/$_sd/image/device-model-pid) $(xenstore-read /local/domain/$_sd/image/qmp-proxy-pid)"
	else
		_dmrss=$(rss_of /local/domain/$_g/image/device-model-pid)
		_pids=$(xenstore-read /local/domain/$_g/image/device-model-pid)
	fi
	cp /var/log/xen/qemu-dm-$_n*.log /var/log/xen/qmp-proxy-$_n*.log "$E2E_OUT/" 2>/dev/null
	e2e_time "$_tag.create=$E2E_CREATE_S $_tag.first-serial=$_first $_tag.init=$_ready $_tag.serial-line=$_line"
	eval "T_${_tag}_first=\$_first T_${_tag}_init=\$_ready"

	# Lifecycle: xl destroy of the guest takes everything with it.
	xl destroy "$_n" >"$E2E_OUT/xl-destroy-$_n.log" 2>&1 ||
		fail_dump "$_n" "xl destroy $_n failed: $(tail -n 1 "$E2E_OUT/xl-destroy-$_n.log")"
	_i=0
	while :; do
		_left=$(leftovers $_g $_sd)
		[ -n "$_vm" ] && xenstore-exists "$_vm" 2>/dev/null && _left="$_left xenstore $_vm"
		for _p in $_pids; do
			[ -d /proc/$_p ] && _left="$_left process $_p ($(tr '\0' ' ' </proc/$_p/cmdline | cut -c1-60))"
		done
		[ -z "$_left" ] && break
		_i=$((_i + 1))
		[ $_i -le 60 ] || e2e_fail "after xl destroy of $_tag guest $_g${_sd:+ (stub domain $_sd)}, left behind: $(echo $_left)"
		sleep 0.5
	done
	echo "$_tag: xl destroy left nothing of domains $_g $_sd"
	eval "R_${_tag}=\"mem=$_mem dm0-qemu-rss=$_dm0rss qmp-proxy-rss=$_proxyrss dom0-dm-rss=$_dmrss\""
}

# Guest B: a domain the stub domain has no rights over.
e2e_guest_boot pv e2e-other stubdom-hvm other || e2e_fail "PV guest B did not boot"
OTHER=$(e2e_guest_domid e2e-other)
boot e2e-stubdom 1 stubdom
xl destroy e2e-other
boot e2e-stubbase 0 dom0dm

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
e2e_note "stubdom: $R_stubdom"
e2e_note "dom0 QEMU: $R_dom0dm"
e2e_time "ratio.first-serial=$(ratio "$T_stubdom_first" "$T_dom0dm_first") ratio.init=$(ratio "$T_stubdom_init" "$T_dom0dm_init")"
e2e_pass "stub domain: first serial byte ${T_stubdom_first}s, init ${T_stubdom_init}s ($R_stubdom); dom0 QEMU: ${T_dom0dm_first}s, ${T_dom0dm_init}s ($R_dom0dm); rights: target mapped, $RIGHTS foreign maps of B (domain $OTHER) and dom0 refused; xl destroy left nothing"
