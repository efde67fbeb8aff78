# SPDX-License-Identifier: GPL-2.0-only
#
# Build the initramfs images booted by the test tier.
#
# Each image is two concatenated newc cpio archives (the kernel unpacks them
# in order, later files replace earlier ones):
#   base     Debian-only content (busybox, the Xen tools and libraries, kernel
#            modules, guest kernels). Cached under $E2E_CACHE/base-<key>,
#            <key> covering the extracted package tree and this file.
#   overlay  the project's staging directory, the scenario scripts and the
#            harness programs. Rebuilt on every run; small.
#
# dom0 image:  / of dom0, /init = dom0/init, guest kernels and the guest
#              initramfs under /e2e/guest.
# guest image: busybox, the Xen userspace libraries and xenstore-utils, the
#              gntdev/gntalloc/evtchn modules, /init = guest/init, plus the
#              same staging directory (guest-side programs).

E2E_DOM0_MODULES="xenfs xen-evtchn xen-gntdev xen-gntalloc xen-privcmd
 xen-blkback xen-netback loop bridge virtio_pci virtio_blk virtio_net"
# hv_utils and hv_sock (with hv_vmbus and vsock, their dependencies) are
# Debian's Hyper-V class drivers that scenario kmod-bus binds to the
# project's xen-vmbus module.
E2E_GUEST_MODULES="xen-evtchn xen-gntdev xen-gntalloc xenfs hv_utils hv_sock"
E2E_MULTIARCH=usr/lib/x86_64-linux-gnu

# Copy the kernel modules named in $3.. and their dependencies from the
# extracted tree $1 into root $2, then index them.
e2e_copy_modules() {
	local src=$1/lib/modules/$E2E_KVER dst=$2 m k
	shift 2
	for m in "$@"; do
		k=$(grep -E "(^|/)$m\.ko(\.xz)?:" "$src/modules.dep") ||
			e2e_die "kernel module $m not found in $src/modules.dep"
		printf '%s\n' "$k" | tr -d ':' | tr ' ' '\n'
	done | sort -u | while read -r k; do
		[ -n "$k" ] || continue
		mkdir -p "$dst/lib/modules/$E2E_KVER/$(dirname "$k")"
		cp "$src/$k" "$dst/lib/modules/$E2E_KVER/$k" || exit 1
	done || e2e_die "copying kernel modules into $dst failed"
	cp "$src"/modules.order "$src"/modules.builtin "$src"/modules.builtin.modinfo \
		"$dst/lib/modules/$E2E_KVER/" || e2e_die "copying module indexes into $dst failed"
	e2e_run "running depmod in $dst" depmod -b "$dst" "$E2E_KVER"
}

# Copy into root $1 every shared library the ELF files below $1 (or the
# files listed after it) need and that $1 does not have yet. Libraries come
# from the extracted packages first, then from the host (same Debian
# release). Extra search directories: $E2E_LIBPATH.
e2e_copy_libs() {
	local root=$1 f lib dest rel
	shift
	{
		if [ $# -gt 0 ]; then
			printf '%s\n' "$@"
		elif [ -n "${E2E_BASEROOT:-}" ]; then
			# An overlay is small: look at every file, since
			# installed libraries need not be executable.
			find "$root" -type f
		else
			find "$root" -type f -perm -u+x
		fi
	} | while read -r f; do
		file -b "$f" | grep -q 'ELF.*dynamically' || continue
		LD_LIBRARY_PATH=$root/$E2E_MULTIARCH:${E2E_BASEROOT:+$E2E_BASEROOT/$E2E_MULTIARCH:}$E2E_ROOT/$E2E_MULTIARCH${E2E_LIBPATH:+:$E2E_LIBPATH} \
			ldd "$f" 2>&1 | awk -v f="$f" '
				/not found/   { print "MISSING " $1 " " f; next }
				/=> \//       { print $3 }
				/^\t\/lib64\// { print $1 }'
	done | sort -u | while read -r lib rest; do
		if [ "$lib" = MISSING ]; then
			e2e_log "warning: library $rest is not available"
			continue
		fi
		case $lib in
		"$root"/*|"${E2E_BASEROOT:-/nonexistent}"/*) continue ;;
		"$E2E_ROOT"/*) rel=${lib#"$E2E_ROOT"/} ;;
		*) rel=${lib#/}; rel=usr/${rel#usr/} ;;
		esac
		dest=$root/$rel
		[ -e "$dest" ] && continue
		[ -n "${E2E_BASEROOT:-}" ] && [ -e "$E2E_BASEROOT/$rel" ] && continue
		mkdir -p "$(dirname "$dest")" && cp -L "$lib" "$dest" || exit 1
	done || e2e_die "copying shared libraries into $root failed"
}

# Create the merged-/usr skeleton with busybox in root $1.
e2e_skeleton() {
	local r=$1 a n
	rm -rf "$r"
	mkdir -p "$r"/usr/bin "$r"/usr/sbin "$r"/usr/lib64 "$r/$E2E_MULTIARCH" \
		"$r"/proc "$r"/sys "$r"/dev "$r"/run "$r"/tmp "$r"/var "$r"/etc "$r"/root ||
		e2e_die "creating the skeleton in $r failed"
	for a in bin sbin lib lib64; do ln -s usr/$a "$r/$a"; done
	cp /bin/busybox "$r/usr/bin/busybox"
	for a in $(/bin/busybox --list-full); do
		n=${a##*/}
		[ -e "$r/usr/bin/$n" ] || ln -s busybox "$r/usr/bin/$n"
	done
	# nobody: what daemons such as xen-kdrelay drop to by default.
	printf '%s\n' "root:x:0:0:root:/root:/bin/sh" \
		"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin" >"$r/etc/passwd"
	printf '%s\n' "root:x:0:" "nogroup:x:65534:" >"$r/etc/group"
	cp -L /lib64/ld-linux-x86-64.so.2 "$r/usr/lib64/"
	# glibc dlopen()s libgcc_s for pthread_cancel; ldd cannot see that.
	cp -L /lib/x86_64-linux-gnu/libgcc_s.so.1 "$r/$E2E_MULTIARCH/"
}

e2e_cpio() {  # e2e_cpio DIR OUT [gzip]
	( cd "$1" && find . | sort | cpio -o -H newc --quiet -R 0:0 ) |
		if [ "${3:-}" = gzip ]; then gzip -1; else cat; fi >"$2.tmp" &&
		mv "$2.tmp" "$2" || e2e_die "writing the cpio archive $2 from $1 failed"
}

# Build (or reuse) the cached base images. Sets E2E_BASE.
e2e_build_base() {
	local key base tmp r g
	file -L /bin/busybox | grep -q 'statically linked' ||
		e2e_die "/bin/busybox is not statically linked (install busybox-static)"
	key=$(e2e_hash -s "$E2E_ROOT" -f "$E2E_SRCDIR/lib/images.sh" /bin/busybox)
	base=$E2E_CACHE/base-$key
	E2E_BASE=$base
	[ -e "$base/complete" ] && return 0

	e2e_log "building the base images in $base"
	tmp=$base.tmp.$$
	rm -rf "$tmp" "$base"
	mkdir -p "$tmp"

	# ---- guest
	g=$tmp/guestroot
	e2e_skeleton "$g"
	cp -a "$E2E_ROOT/$E2E_MULTIARCH"/libxen* "$g/$E2E_MULTIARCH/"
	cp -a "$E2E_ROOT"/usr/bin/xenstore* "$g/usr/bin/"
	e2e_copy_modules "$E2E_ROOT" "$g" $E2E_GUEST_MODULES
	# Clients of hv_sock and hv_utils (scenario kmod-bus), from Debian.
	cp "$E2E_ROOT"/usr/bin/socat "$E2E_ROOT"/usr/sbin/hv_kvp_daemon "$g/usr/bin/" ||
		e2e_die "copying socat and hv_kvp_daemon into $g failed"
	if [ -d "$E2E_ROOT/usr/libexec/hypervkvpd" ]; then
		mkdir -p "$g/usr/libexec"
		cp -a "$E2E_ROOT/usr/libexec/hypervkvpd" "$g/usr/libexec/"
	fi
	mkdir -p "$g/var/lib/hyperv"
	cp "$E2E_ROOT"/etc/os-release "$g/etc/" 2>/dev/null || cp /etc/os-release "$g/etc/"
	e2e_copy_libs "$g"
	e2e_cpio "$g" "$tmp/guest-base.cpio.gz" gzip

	# ---- dom0
	r=$tmp/dom0root
	e2e_skeleton "$r"
	cp -a "$E2E_ROOT/usr/lib/xen-4.17" "$E2E_ROOT/usr/lib/xen-common" "$r/usr/lib/"
	cp -a "$E2E_ROOT/$E2E_MULTIARCH/." "$r/$E2E_MULTIARCH/"
	cp -a "$E2E_ROOT"/usr/bin/. "$r/usr/bin/"
	cp -a "$E2E_ROOT"/usr/sbin/. "$r/usr/sbin/"
	cp -a "$E2E_ROOT/usr/libexec" "$r/usr/"
	cp -a "$E2E_ROOT/etc/xen" "$E2E_ROOT/etc/default" "$r/etc/"
	# Firmware for the HVM device model: SeaBIOS and the option ROMs that
	# direct kernel boot and multiboot need, nothing else.
	mkdir -p "$r/usr/share/qemu" "$r/usr/share/seabios"
	cp "$E2E_ROOT"/usr/share/qemu/{linuxboot.bin,linuxboot_dma.bin,kvmvapic.bin,multiboot.bin,multiboot_dma.bin,pvh.bin} \
		"$r/usr/share/qemu/"
	cp "$E2E_ROOT"/usr/share/seabios/{bios-256k.bin,bios.bin,vgabios-stdvga.bin,vgabios-cirrus.bin} \
		"$r/usr/share/seabios/"
	cp -a "$E2E_ROOT/usr/share/qemu/keymaps" "$r/usr/share/qemu/" 2>/dev/null
	# The hotplug scripts in /etc/xen/scripts need bash and flock
	# (busybox-static has no flock applet). rm first: they are applet links.
	rm -f "$r/usr/bin/bash" "$r/usr/bin/flock"
	cp /bin/bash /usr/bin/flock "$r/usr/bin/"
	e2e_copy_libs "$r"
	e2e_copy_modules "$E2E_ROOT" "$r" $E2E_DOM0_MODULES
	mkdir -p "$r/e2e/guest"
	cp "$E2E_ROOT/.e2e/vmlinux" "$r/e2e/guest/vmlinux"
	cp "$E2E_ROOT/boot/vmlinuz-$E2E_KVER" "$r/e2e/guest/vmlinuz"
	e2e_cpio "$r" "$tmp/dom0-base.cpio"

	# The unpacked roots stay: the overlay build checks against them
	# which libraries the base already has.
	touch "$tmp/complete"
	mv "$tmp" "$base" || e2e_die "renaming $tmp to $base failed"
}

# Copy the staging directory $1 into root $2: runtime files only, debug
# info stripped from our copies. Writes /e2e/env (PATH and LD_LIBRARY_PATH
# additions) and /e2e/stage-files (every staged path).
e2e_add_stage() {
	local stage=$1 r=$2 d paths= libs= f
	mkdir -p "$r/e2e"
	: >"$r/e2e/stage-files"
	if [ -n "$stage" ]; then
		( cd "$stage" && tar -cf - --exclude='*/include' --exclude='*/share/man' \
			--exclude='*/share/doc' --exclude='*.a' --exclude='*.la' \
			--exclude='*/pkgconfig' . ) | tar -xf - -C "$r" ||
			e2e_die "copying the staging directory $stage into $r failed"
		( cd "$stage" && find . ! -type d | sed 's|^\.||' | sort ) >"$r/e2e/stage-files"
		while read -r f; do
			[ -f "$r$f" ] && [ ! -L "$r$f" ] || continue
			file -b "$r$f" | grep -q '^ELF' || continue
			strip --strip-debug "$r$f" 2>/dev/null || true
		done <"$r/e2e/stage-files"
		for d in $(sed -n 's|^\(.*/s\{0,1\}bin\)/[^/]*$|\1|p' "$r/e2e/stage-files" | sort -u); do
			paths=$paths${paths:+:}$d
		done
		# Only the standard library directories: private ones (the
		# project keeps simulated libxen* with Xen's own sonames under
		# lib/xenvmbus/) must never shadow the real Xen libraries;
		# their users find them through their RUNPATH.
		for d in $(grep -E '\.so(\.[0-9]+)*$' "$r/e2e/stage-files" | sed 's|/[^/]*$||' |
			   grep -E '/lib(64|/x86_64-linux-gnu)?$' | sort -u); do
			libs=$libs${libs:+:}$d
		done
	fi
	{
		echo "E2E_STAGE_PATH='$paths'"
		echo "E2E_STAGE_LIBPATH='$libs'"
	} >"$r/e2e/env"
	E2E_LIBPATH=
	for d in ${libs//:/ }; do E2E_LIBPATH=$E2E_LIBPATH${E2E_LIBPATH:+:}$r$d; done
}

# Put the patched toolstack of $E2E_XEN_TOOLS_DIR (xl, libxenlight,
# libxlutil from hypervisor-patches/build-xen.sh --tools) over Debian's in
# root $1: same paths, so every user (xl, the hotplug scripts) gets it.
e2e_add_xen_tools() {
	local d=$E2E_XEN_TOOLS_DIR r=$1
	mkdir -p "$r/usr/lib/xen-4.17/bin" "$r/$E2E_MULTIARCH" &&
	cp "$d/xl" "$r/usr/lib/xen-4.17/bin/xl" &&
	cp -P "$d"/libxenlight.so* "$d"/libxlutil.so* "$r/$E2E_MULTIARCH/" ||
		e2e_die "copying the toolstack of $d into $r failed"
}

# e2e_build_kmod OUTDIR: build frontends/linux (xen-vmbus.ko) against the
# headers of $E2E_KVER into OUTDIR and check its CRCs against what Debian's
# hv_utils and hv_sock import.  Sets E2E_KMOD_STATUS to "ok", "skip WHY"
# (no headers for that kernel) or "fail WHY"; E2E_KMOD to the module.
e2e_build_kmod() {
	local out=$1 src=$E2E_SRCDIR/../../frontends/linux kdir= d f m bad=
	E2E_KMOD=
	for d in /lib/modules/$E2E_KVER/build /usr/src/linux-headers-$E2E_KVER; do
		[ -f "$d/Makefile" ] && [ -f "$d/Module.symvers" ] && { kdir=$d; break; }
	done
	if [ -z "$kdir" ]; then
		E2E_KMOD_STATUS="skip no kernel headers for $E2E_KVER (apt-get install linux-headers-$E2E_KVER)"
		return 0
	fi
	rm -rf "$out"
	mkdir -p "$out" || e2e_die "creating $out failed"
	for f in Kbuild xvmb.h xvmb-api.h "$src"/*.c; do
		cp "$src/${f##*/}" "$out/" || e2e_die "copying $src/${f##*/} failed"
	done
	if ! make -C "$kdir" M="$out" XVMB_INCLUDE="$E2E_SRCDIR/../../include" \
		modules >"$out/build.log" 2>&1; then
		tail -n 20 "$out/build.log" >&2
		E2E_KMOD_STATUS="fail building xen-vmbus.ko against $kdir failed (see $out/build.log)"
		return 0
	fi
	# Each vmbus symbol Debian's class drivers import, with their CRC.
	for m in hv_utils hv_sock; do
		f=$(grep -E "(^|/)$m\.ko(\.xz)?:" "$E2E_ROOT/lib/modules/$E2E_KVER/modules.dep" | cut -d: -f1)
		[ -n "$f" ] || continue
		modprobe --dump-modversions "$E2E_ROOT/lib/modules/$E2E_KVER/$f"
	done | sort -u | while read -r crc sym; do
		grep -qP "\t$sym\tdrivers/hv/hv_vmbus\t" "$kdir/Module.symvers" || continue
		grep -qP "^$crc\t$sym\t" "$out/Module.symvers" || echo "$sym"
	done >"$out/crc-mismatch"
	bad=$(tr '\n' ' ' <"$out/crc-mismatch")
	if [ -n "$bad" ]; then
		E2E_KMOD_STATUS="fail CRCs differ from hv_vmbus's for: $bad"
		return 0
	fi
	E2E_KMOD=$out/xen-vmbus.ko
	E2E_KMOD_STATUS=ok
}

# e2e_add_kmod ROOT TMP: xen-vmbus.ko under updates/ of the guest overlay ROOT,
# the base image's module indexes redone with it (so depmod resolves the
# class drivers' vmbus symbols to it) and its modprobe.d file.  Files go
# under usr/lib: a real lib/ would replace the images' /lib -> usr/lib.
e2e_add_kmod() {
	local x=$1 t=$2 m
	echo "$E2E_KMOD_STATUS" >"$x/e2e/kmod-status"
	[ "$E2E_KMOD_STATUS" = ok ] || return 0
	rm -rf "$t"
	mkdir -p "$t/lib/modules" || e2e_die "creating $t failed"
	cp -a "$E2E_BASE/guestroot/usr/lib/modules/$E2E_KVER" "$t/lib/modules/" &&
	mkdir -p "$t/lib/modules/$E2E_KVER/updates" &&
	cp "$E2E_KMOD" "$t/lib/modules/$E2E_KVER/updates/" &&
	strip --strip-debug "$t/lib/modules/$E2E_KVER/updates/xen-vmbus.ko" ||
		e2e_die "staging xen-vmbus.ko in $t failed"
	e2e_run "running depmod with xen-vmbus.ko" depmod -b "$t" "$E2E_KVER"
	m=$x/usr/lib/modules/$E2E_KVER
	mkdir -p "$m" "$x/etc/modprobe.d" &&
	cp -a "$t/lib/modules/$E2E_KVER/updates" "$t/lib/modules/$E2E_KVER"/modules.* "$m/" &&
	cp "$E2E_SRCDIR/../../frontends/linux/xen-vmbus.conf" "$x/etc/modprobe.d/" ||
		e2e_die "adding xen-vmbus.ko to $x failed"
}

# e2e_build_overlays WORK STAGE PROGDIR EXTRA...
# Build $WORK/dom0.cpio (base + overlay) for QEMU. PROGDIR holds the
# harness programs (micro-guest, grant-pingpong), installed to /e2e/bin in
# dom0 and guests. EXTRA items are SRC:DEST, copied into both images.
# With $E2E_XEN_TOOLS_DIR set, dom0 gets that toolstack (e2e_add_xen_tools).
e2e_build_overlays() {
	local work=$1 stage=$2 progdir=$3 d x extra
	shift 3
	for d in dom0 guest; do
		x=$work/$d-overlay
		rm -rf "$x"
		mkdir -p "$x/e2e/bin" "$x/e2e/scenarios"
		E2E_LIBPATH=
		e2e_add_stage "$stage" "$x"
		cp "$E2E_SRCDIR"/dom0/e2e-lib.sh "$x/e2e/lib.sh"
		cp "$E2E_SRCDIR"/scenarios/*.sh "$x/e2e/scenarios/"
		[ -n "$progdir" ] && cp -a "$progdir"/. "$x/e2e/bin/"
		for extra in "$@"; do
			mkdir -p "$x/$(dirname "${extra#*:}")" &&
			cp -a "${extra%%:*}" "$x/${extra#*:}" ||
				e2e_die "copying extra file ${extra%%:*} to ${extra#*:} failed"
		done
		if [ $d = dom0 ]; then
			cp "$E2E_SRCDIR/dom0/init" "$x/init"
			[ -n "${E2E_XEN_TOOLS_DIR:-}" ] && e2e_add_xen_tools "$x"
			echo "$E2E_KMOD_STATUS" >"$x/e2e/kmod-status"
		else
			cp "$E2E_SRCDIR/guest/init" "$x/init"
			e2e_add_kmod "$x" "$work/kmod-root"
		fi
		chmod 755 "$x/init" "$x"/e2e/scenarios/*.sh
		E2E_BASEROOT=$E2E_BASE/${d}root e2e_copy_libs "$x"
	done
	# The guest initramfs travels inside dom0's; concatenated gzip
	# members form one valid initramfs.
	mkdir -p "$work/dom0-overlay/e2e/guest"
	e2e_cpio "$work/guest-overlay" "$work/guest-overlay.cpio.gz" gzip
	cat "$E2E_BASE/guest-base.cpio.gz" "$work/guest-overlay.cpio.gz" \
		>"$work/dom0-overlay/e2e/guest/initrd.gz" ||
		e2e_die "writing the guest initramfs failed"
	[ -z "${E2E_STUBDOM_OUT:-}" ] ||
		e2e_add_stubdom "$work/dom0-overlay" "$work/dom0-overlay/e2e/guest/initrd.gz"
	e2e_cpio "$work/dom0-overlay" "$work/dom0-overlay.cpio"
	cat "$E2E_BASE/dom0-base.cpio" "$work/dom0-overlay.cpio" >"$work/dom0.cpio" ||
		e2e_die "writing $work/dom0.cpio failed"
}

# e2e_boot_disk OUT KERNEL INITRD CMDLINE: a raw disk that BIOS firmware
# boots: one FAT file system over the whole disk (no partition table; the
# boot sector is SYSLINUX's, which SeaBIOS runs as the disk's first
# sector), SYSLINUX loading KERNEL and INITRD with CMDLINE and talking on
# COM1. Built without root with mtools and syslinux's mtools installer.
e2e_boot_disk() {
	local img=$1 kernel=$2 initrd=$3 cmdline=$4 kb mb cfg
	for t in mformat mcopy syslinux; do
		command -v $t >/dev/null ||
			e2e_die "$t not found (apt-get install mtools syslinux syslinux-common)"
	done
	kb=$(( $(stat -c %s "$kernel") / 1024 + $(stat -c %s "$initrd") / 1024 + 1024 ))
	mb=$(( kb / 1024 + 2 ))
	rm -f "$img"
	truncate -s ${mb}M "$img" || e2e_die "creating $img failed"
	cfg=$img.cfg
	printf '%s\n' "SERIAL 0 115200" "DEFAULT linux" "TIMEOUT 0" "PROMPT 0" \
		"LABEL linux" "  KERNEL vmlinuz" "  INITRD initrd.gz" "  APPEND $cmdline" >"$cfg"
	e2e_run "formatting $img" mformat -i "$img" -T $((mb * 2048)) -h 64 -s 32 -H 0 -v E2EBOOT ::
	e2e_run "installing SYSLINUX on $img" syslinux --install "$img"
	e2e_run "copying the guest kernel to $img" mcopy -i "$img" "$kernel" ::vmlinuz
	e2e_run "copying the guest initramfs to $img" mcopy -i "$img" "$initrd" ::initrd.gz
	e2e_run "copying syslinux.cfg to $img" mcopy -i "$img" "$cfg" ::syslinux.cfg
	rm -f "$cfg"
}

# The stub domain's kernel and initramfs ($E2E_STUBDOM_OUT, from
# stubdom/build.sh) under /e2e/stubdom in dom0 root $1, with guest-disk.img:
# the guest kernel and the guest initramfs $2 on a disk SeaBIOS boots (the
# QEMU in a stub domain cannot read dom0's files, so no direct kernel boot).
# Its kernel command line names role stubdom-hvm; COM1 is the first console
# (the serial port the stub domain's QEMU emulates), hvc0 /dev/console.
e2e_add_stubdom() {
	local r=$1 initrd=$2 d=$1/e2e/stubdom
	mkdir -p "$d" &&
	cp "$E2E_STUBDOM_OUT"/qemu-stubdom-linux-kernel "$E2E_STUBDOM_OUT"/qemu-stubdom-linux-rootfs "$d/" ||
		e2e_die "copying the stub domain image into $d failed"
	e2e_boot_disk "$d/guest-disk.img" "$E2E_ROOT/boot/vmlinuz-$E2E_KVER" "$initrd" \
		"console=ttyS0,115200 console=hvc0 pci=noearly quiet e2e.role=stubdom-hvm"
}
