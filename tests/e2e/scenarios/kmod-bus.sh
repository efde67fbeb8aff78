#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The guest kernel's bus: xen-vmbus.ko (frontends/linux, built by the
# harness against the headers of the booted kernel, its CRCs checked
# against Debian's hv_utils and hv_sock) with Debian's unmodified Hyper-V
# class drivers, in a PV, a PVH and an HVM guest, one after the other.
# dom0 runs vmbusd and offers the echo pipe.  In each guest: modprobe xen-vmbus
# connects to vmbusd and the pipe appears under /sys/bus/vmbus/devices
# with hv_vmbus's attributes (class_id, device_id, modalias, ...);
# modprobe hv_utils and hv_sock load against xen-vmbus (no unknown symbol,
# no CRC disagreement) and register their drivers on the bus; dom0
# rescinds the pipe and its device disappears; xen-vmbus unloads, and
# loaded again it connects again.
# The guest side runs from the guests' /init (role kmod-bus).
# SKIP when the harness found no kernel headers for the booted kernel.
# e2e-timeout: 900
# e2e-default: yes
# e2e-order: 97
. /e2e/lib.sh

# The pipe class (libvmbus.h VMBUS_PIPE_CLASS_GUID); vmbusd sends the
# bytes in this string's order.
PIPE_CLASS=6d8e0d2a-96c3-4e58-9d5f-3b2a5e7c1f01

if [ "$1" = guest ]; then
	K() { echo "KMOD: $*"; }
	# A bounded wait: until "$@" succeeds, at most $T half-seconds.
	until_ok() { _n=0; until "$@"; do _n=$((_n + 1)); [ $_n -le $T ] || return 1; sleep 0.5; done; }
	has_dev() { [ -n "$(ls /sys/bus/vmbus/devices 2>/dev/null)" ]; }
	gone() { [ ! -e "/sys/bus/vmbus/devices/$dev" ]; }
	kdmesg() {
		dmesg | grep -iE 'unknown symbol|disagrees|xen.vmbus|vmbus|hv_sock|hv_utils|hv_|call trace|warning|oops|bug:' |
			sed 's/^/KMOD-DMESG: /'
	}
	modprobe xen-vmbus
	K "modprobe xen-vmbus rc=$?"
	T=120 until_ok has_dev || { K "no vmbus device within 60 s"; kdmesg; exit 1; }
	for d in /sys/bus/vmbus/devices/*; do
		dev=${d##*/}
		K "device $dev class_id=$(cat $d/class_id) device_id=$(cat $d/device_id) id=$(cat $d/id) state=$(cat $d/state) modalias=$(cat $d/modalias) vendor=$(cat $d/vendor)"
	done
	modprobe hv_utils
	K "modprobe hv_utils rc=$?"
	modprobe hv_sock
	K "modprobe hv_sock rc=$?"
	K "drivers $(ls /sys/bus/vmbus/drivers | tr '\n' ' ')"
	K "modules $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
	K "rescind-ready $dev"
	if T=120 until_ok gone; then K "rescinded $dev"; else K "still there 60 s after the rescind: $dev"; fi
	# xenbus holds a reference on a frontend's module while its device is
	# bound (as for every Xen frontend): unbind, then unload.
	rmmod hv_sock hv_utils && echo vmbus-0 >/sys/bus/xen/drivers/vmbus/unbind && rmmod xen_vmbus
	K "rmmod rc=$?"
	K "modules-after $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
	# Loaded again, the bus connects again.
	connected() { [ "$(dmesg | grep -c 'bus version')" -ge 2 ]; }
	modprobe xen-vmbus && T=60 until_ok connected && K "reload connected" || K "reload did not connect"
	kdmesg
	exit 0
fi

# ---- dom0 ----
st=$(cat /e2e/kmod-status 2>/dev/null)
case $st in
ok) ;;
skip*) e2e_skip "${st#skip }" ;;
*) e2e_fail "the guest bus module: ${st#fail }" ;;
esac

PV=e2e-kmod-pv PVH=e2e-kmod-pvh HVM=e2e-kmod-hvm
e2e_vmbus_init $PV $PVH /tmp/kmod-bus-echo.sock
ctl=$E2E_VMBUSCTL
e2e_vmbus_start

# %pUl of the bytes of a GUID string written in byte order: the first three
# fields reversed, as hv_vmbus prints class_id and device_id.
pul() {
	echo "$1" | awk -F- '{
		r = ""
		for (i = 1; i <= 3; i++) {
			f = $i; s = ""
			for (j = length(f) - 1; j >= 1; j -= 2) s = s substr(f, j, 2)
			r = r s "-"
		}
		print r $4 "-" $5 }'
}
want_class="{$(pul $PIPE_CLASS)}"
want_alias="vmbus:$(echo $PIPE_CLASS | tr -d -)"

xl vcpu-pin 0 all 0 >/dev/null 2>&1
# e2e_vmbus_fail shows the consoles of $PV and $PVH; this one first.
kfail() {
	echo "---- console of guest $n (last 40 lines)"
	tail -n 40 "$E2E_CONSOLE_DIR/guest-$n.log" 2>/dev/null | tr -d '\r'
	e2e_vmbus_fail "$@"
}
summary=
for t in pv pvh hvm; do
	n=e2e-kmod-$t
	# An HVM guest boots through SeaBIOS and qemu-xen: slow under TCG.
	boot=${E2E_BOOT_TIMEOUT:-150}; [ $t = hvm ] && boot=420
	# A PV or PVH guest gets more than the default 128 MB: the kernel, the
	# initramfs and its unpacked copy must fit (a later "memory" line wins
	# in xl).  An HVM guest keeps 128 MB: its boot under TCG grows with it.
	mem=256; [ $t = hvm ] && mem=128
	cfg=$(e2e_guest_cfg $t $n kmod-bus -- 'cpus = "1"' "memory = $mem") || kfail "cannot write the $t guest's config"
	e2e_guest_create "$cfg" || kfail "xl create of the $t guest failed"
	d=$(e2e_guest_domid $n)
	[ -n "$d" ] || kfail "no domid for $n"
	"$ctl" attach $d >>vmbusctl.log 2>&1 || kfail "vmbusctl attach $d failed: $(tail -n 1 vmbusctl.log)"
	"$ctl" offer $d --pipe echo --service /tmp/kmod-bus-echo.sock >>vmbusctl.log 2>&1 ||
		kfail "vmbusctl offer $d failed: $(tail -n 1 vmbusctl.log)"
	e2e_guest_wait $n '^E2E-GUEST: READY' $boot || kfail "$t guest did not reach its init"
	e2e_guest_wait_count $n '^KMOD: (rescind-ready|no vmbus device)' 1 120 ||
		kfail "$t guest: no device report within 120 s: $(e2e_guest_line $n '^KMOD' '$')"
	"$ctl" list >vmbusctl-list-$t.txt 2>&1
	"$ctl" rescind $d echo >>vmbusctl.log 2>&1 || kfail "vmbusctl rescind $d echo failed: $(tail -n 1 vmbusctl.log)"
	e2e_guest_wait $n '^E2E-GUEST: EXIT rc=' 120 || kfail "$t guest did not finish"
	cp "$E2E_CONSOLE_DIR/guest-$n.log" . 2>/dev/null
	grep -a '^KMOD' "$E2E_CONSOLE_DIR/guest-$n.log" | tr -d '\r'

	line() { e2e_guest_line $n "^KMOD: $1" 1; }
	[ "$(line 'modprobe xen-vmbus')" = "KMOD: modprobe xen-vmbus rc=0" ] ||
		kfail "$t: $(line 'modprobe xen-vmbus')"
	dl=$(line 'device ')
	[ -n "$dl" ] || kfail "$t: the pipe's device did not appear: $(e2e_guest_line $n '^KMOD' '$')"
	dev=$(echo "$dl" | sed -n 's/^KMOD: device \([^ ]*\) .*/\1/p')
	val() { echo "$dl" | sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p"; }
	[ "$(val class_id)" = "$want_class" ] || kfail "$t: class_id $(val class_id), want $want_class"
	[ "$(val modalias)" = "$want_alias" ] || kfail "$t: modalias $(val modalias), want $want_alias"
	[ "$(val device_id)" = "{$dev}" ] || kfail "$t: device_id $(val device_id) is not the device's name $dev"
	case $(val device_id) in "{0000$(printf %04x $d)-"*) ;; *)
		kfail "$t: device_id $(val device_id) does not carry domain $d as vmbusd's pipe instances do" ;;
	esac
	[ "$(val state)" = 0 ] || kfail "$t: state $(val state), want 0 (offered, closed)"
	[ "$(val vendor)" = 0x1414 ] || kfail "$t: vendor $(val vendor)"
	for m in hv_utils hv_sock; do
		[ "$(line "modprobe $m")" = "KMOD: modprobe $m rc=0" ] || kfail "$t: $(line "modprobe $m")"
	done
	drv=$(line 'drivers ')
	case $drv in *hv_utils*hv_sock*|*hv_sock*hv_utils*) ;; *) kfail "$t: drivers on the bus: $drv" ;; esac
	mods=$(line 'modules ')
	case " $mods " in *" hv_vmbus "*) kfail "$t: hv_vmbus was loaded: $mods" ;; esac
	case " $mods " in *" xen_vmbus "*) ;; *) kfail "$t: xen_vmbus is not loaded: $mods" ;; esac
	bad=$(grep -aiE '^KMOD-DMESG: .*(unknown symbol|disagrees|call trace|oops|bug:|warning:)' "$E2E_CONSOLE_DIR/guest-$n.log" | head -n 3 | tr -d '\r')
	[ -z "$bad" ] || kfail "$t: guest kernel log: $bad"
	[ "$(line 'rescinded')" = "KMOD: rescinded $dev" ] ||
		kfail "$t: the rescinded pipe's device stayed: $(line 'still there')"
	[ "$(line 'rmmod')" = "KMOD: rmmod rc=0" ] || kfail "$t: $(line 'rmmod')"
	[ "$(line 'reload')" = "KMOD: reload connected" ] ||
		kfail "$t: xen-vmbus loaded again: $(line 'reload')"
	r=$(e2e_guest_line $n '^E2E-GUEST: EXIT rc=' 1)
	[ "$r" = "E2E-GUEST: EXIT rc=0" ] || kfail "$t guest's side failed ($r)"
	summary="$summary $t(d$d $dev)"
	xl destroy $n >/dev/null 2>&1
done
kill -0 $E2E_VMBUSD_PID 2>/dev/null || kfail "vmbusd is no longer running"
e2e_vmbus_collect >/dev/null
e2e_pass "xen-vmbus.ko: pipe offers became vmbus devices (class_id $want_class, $want_alias), hv_utils and hv_sock loaded and registered against it, rescind removed the device, rmmod clean, reloaded and connected again in:$summary"
