#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the Linux stub domain that runs an HVM guest's device model: a PV
# kernel and an initramfs that stock `xl create` starts with
#   device_model_stubdomain_override = 1
#   stubdomain_kernel  = "OUT/qemu-stubdom-linux-kernel"
#   stubdomain_ramdisk = "OUT/qemu-stubdom-linux-rootfs"
# (or with nothing more when both files are installed in
# /usr/lib/xen-4.17/boot, where libxl looks by default).
#
# Everything comes from Debian packages: the kernel (linux-image-amd64's
# real package), busybox-static, qemu-system-xen and the libraries it needs
# (resolved with ldd, from the extracted packages first, then from this
# host, which must be the same Debian release), the Xen libraries,
# xenstore-utils and vchan-socket-proxy at the version of the Xen tools in
# dom0, plus the project's installed files when --stage is given.
#
#   stubdom/build.sh [--cache DIR] [--out DIR] [--stage DIR]
#                    [--tools-version VER] [--kernel-pkg PKG] [--extra SRC:DEST]
#
# Cache (default ./stubdom-cache): debs/ (apt-get download), root-<key>/
# (packages extracted, keyed by the exact .deb names), rootfs-<key>/
# (the assembled tree, keyed by the packages, this script, init and
# busybox), image-<key>/ (the output, keyed by the tree and the staged
# files and --extra files, SRC copied to DEST in the tree). Output
# (default CACHE/out): qemu-stubdom-linux-kernel (Debian's
# bzImage as is), qemu-stubdom-linux-rootfs (zstd'ed newc cpio; the cpio is
# built from sorted names with fixed owners and mtimes, so equal inputs give
# an equal file), and SHA256SUMS.

set -uo pipefail

SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MULTIARCH=usr/lib/x86_64-linux-gnu

# Built from Debian's "xen" source: pinned together to --tools-version,
# because libxenctrl's hypercall interface must match dom0's hypervisor.
XEN_PKGS="libxencall1 libxenevtchn1 libxenforeignmemory1 libxengnttab1
 libxenmisc4.17 libxenstore4 libxentoollog1 libxenhypfs1 libxendevicemodel1
 libxentoolcore1 xenstore-utils xen-utils-common xen-utils-4.17"
OTHER_PKGS="qemu-system-xen"
# PV frontends for the target's disks and NICs, the device nodes QEMU
# maps the target's memory and binds its event channels through.
MODULES="xen-blkfront xen-netfront xen-evtchn xen-gntdev xen-gntalloc
 xen-privcmd xenfs loop squashfs"

log() { printf 'stubdom: %s\n' "$*" >&2; }
die() { printf 'stubdom: error: %s\n' "$*" >&2; exit 1; }

usage() {
	sed -n 's/^#   stubdom/  stubdom/p; s/^#                    /                    /p' "$0"
}

cache= out= stage= tools_ver=${STUBDOM_TOOLS_VERSION:-} kpkg= extras=()
while [ $# -gt 0 ]; do
	case $1 in
	--cache|--out|--stage|--tools-version|--kernel-pkg|--extra)
		[ -n "${2:-}" ] || die "option $1 needs an argument" ;;
	esac
	case $1 in
	--cache) cache=$2; shift ;;
	--out) out=$2; shift ;;
	--stage) stage=$2; shift ;;
	--tools-version) tools_ver=$2; shift ;;
	--kernel-pkg) kpkg=$2; shift ;;
	--extra)
		[ -f "${2%%:*}" ] && [ "${2#*:}" != "$2" ] || die "--extra wants SRC:DEST with SRC a file, not '$2'"
		extras+=("$2"); shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument $1" ;;
	esac
	shift
done

cache=${cache:-$PWD/stubdom-cache}
mkdir -p "$cache" || die "creating the cache directory $cache failed"
cache=$(cd "$cache" && pwd)
out=${out:-$cache/out}
mkdir -p "$out" || die "creating the output directory $out failed"
out=$(cd "$out" && pwd)
if [ -n "$stage" ]; then
	[ -d "$stage" ] || die "staging directory $stage does not exist"
	stage=$(cd "$stage" && pwd)
fi
for t in apt-get apt-cache dpkg-deb cpio zstd mksquashfs depmod ldd file sha256sum; do
	command -v $t >/dev/null || die "$t not found (apt-get install apt dpkg cpio zstd squashfs-tools kmod libc-bin file coreutils)"
done
file -L /bin/busybox | grep -q 'statically linked' ||
	die "/bin/busybox is not statically linked (apt-get install busybox-static)"

exec {lockfd}>"$cache/lock"
flock "$lockfd"

# ---- packages -------------------------------------------------------------

# "PKG FILE" for each PKG[=VER], FILE the name apt-get download gives it.
deb_names() {
	apt-cache show --no-all-versions "$@" 2>/dev/null | awk '
		function out() { if (p != "") print p, p "_" v "_" a ".deb"; p = "" }
		/^Package:/      { p = $2 }
		/^Version:/      { v = $2; gsub(/:/, "%3a", v) }
		/^Architecture:/ { a = $2 }
		/^$/             { out() }
		END              { out() }'
}

[ -n "$kpkg" ] || kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$kpkg" ] || die "resolving the kernel behind linux-image-amd64 found nothing (apt-get update?)"

specs=()
for p in $XEN_PKGS; do specs+=("$p${tools_ver:+=$tools_ver}"); done
for p in $OTHER_PKGS "$kpkg"; do specs+=("$p"); done
declare -A found=()
while read -r p f; do found[$p]=$f; done < <(deb_names "${specs[@]}")
names=() missing=()
mkdir -p "$cache/debs"
for p in "${specs[@]}"; do
	f=${found[${p%%=*}]:-}
	[ -n "$f" ] || die "package $p is unknown to apt-cache (wrong --tools-version, or apt-get update needed)"
	names+=("$f")
	[ -s "$cache/debs/$f" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "downloading ${missing[*]}"
	( cd "$cache/debs" && apt-get download -q "${missing[@]}" ) >"$cache/debs/download.log" 2>&1 ||
		{ tail -n 20 "$cache/debs/download.log" >&2; die "apt-get download of ${missing[*]} failed"; }
fi

key=$(printf '%s\n' "${names[@]}" | sort | sha256sum | cut -c1-16)
root=$cache/root-$key
if [ ! -e "$root/.complete" ]; then
	log "extracting ${#names[@]} packages into $root"
	rm -rf "$root" "$root.tmp"
	mkdir -p "$root.tmp"
	for f in "${names[@]}"; do
		dpkg-deb -x "$cache/debs/$f" "$root.tmp" || die "extracting $f failed"
	done
	k=$(ls "$root.tmp/lib/modules" | head -n 1)
	[ -n "$k" ] || die "no kernel modules in the extracted $kpkg"
	depmod -b "$root.tmp" "$k" || die "depmod for $k failed"
	printf '%s\n' "${names[@]}" | sort >"$root.tmp/.packages"
	touch "$root.tmp/.complete"
	mv "$root.tmp" "$root" || die "renaming $root.tmp failed"
fi
kver=$(ls "$root/lib/modules" | head -n 1)
[ -n "$kver" ] || die "no kernel modules in $root (package $kpkg)"

# ---- the tree -------------------------------------------------------------

# Copy every shared library the ELF files under $1 need and $1 lacks.
copy_libs() {
	local r=$1 f lib rel
	find "$r" -type f | while read -r f; do
		file -b "$f" | grep -q 'ELF.*dynamic' || continue
		LD_LIBRARY_PATH=$r/$MULTIARCH:$root/$MULTIARCH ldd "$f" 2>&1 |
			awk -v f="$f" '/not found/ { print "MISSING", $1, f; next }
				       /=> \// { print $3 }
				       /^\t\/lib64\// { print $1 }'
	done | sort -u | while read -r lib rest; do
		[ "$lib" = MISSING ] && { log "error: $rest needs a library that is nowhere"; exit 1; }
		case $lib in
		"$r"/*) continue ;;
		"$root"/*) rel=${lib#"$root"/} ;;
		*) rel=${lib#/}; rel=usr/${rel#usr/} ;;
		esac
		[ -e "$r/$rel" ] && continue
		mkdir -p "$(dirname "$r/$rel")" && cp -L "$lib" "$r/$rel" || exit 1
	done
}

base_key=$(cat "$root/.packages" "$SRCDIR/build.sh" "$SRCDIR/init" /bin/busybox | sha256sum | cut -c1-16)
base=$cache/rootfs-$base_key
if [ ! -e "$base.complete" ]; then
	log "assembling the stub domain tree in $base"
	rm -rf "$base"
	r=$base
	mkdir -p "$r"/usr/bin "$r"/usr/sbin "$r"/usr/lib64 "$r/$MULTIARCH" "$r"/usr/libexec \
		"$r"/proc "$r"/sys "$r"/dev "$r"/run "$r"/tmp "$r"/var "$r"/etc "$r"/root \
		"$r"/usr/share/qemu || die "creating the skeleton in $r failed"
	for a in bin sbin lib lib64; do ln -s usr/$a "$r/$a"; done
	ln -s ../run "$r/var/run"
	cp /bin/busybox "$r/usr/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ -e "$r/usr/bin/$a" ] || ln -s busybox "$r/usr/bin/$a"
	done
	printf '%s\n' "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"
	printf '%s\n' "root:x:0:" >"$r/etc/group"
	cp -L /lib64/ld-linux-x86-64.so.2 "$r/usr/lib64/" &&
	# glibc dlopen()s libgcc_s for pthread_cancel; ldd cannot see that.
	cp -L /lib/x86_64-linux-gnu/libgcc_s.so.1 "$r/$MULTIARCH/" &&
	cp "$root"/usr/bin/xenstore* "$r/usr/bin/" &&
	# /usr/bin/vchan-socket-proxy is Debian's version wrapper.
	cp "$root/usr/lib/xen-4.17/bin/vchan-socket-proxy" "$r/usr/bin/" &&
	cp -a "$root/$MULTIARCH"/libxen* "$r/$MULTIARCH/" ||
		die "copying the Xen tools into $r failed"
	# Kernel modules and what they depend on.
	src=$root/lib/modules/$kver
	for m in $MODULES; do
		grep -E "(^|/)$m\.ko(\.xz)?:" "$src/modules.dep" || die "module $m is not in $kpkg"
	done | tr -d ':' | tr ' ' '\n' | sort -u | while read -r k; do
		[ -n "$k" ] || continue
		mkdir -p "$r/lib/modules/$kver/$(dirname "$k")" &&
		cp "$src/$k" "$r/lib/modules/$kver/$k" || exit 1
	done || die "copying kernel modules failed"
	cp "$src"/modules.order "$src"/modules.builtin "$src"/modules.builtin.modinfo \
		"$r/lib/modules/$kver/" || die "copying the module indexes failed"
	depmod -b "$r" "$kver" || die "depmod in $r failed"
	cp "$SRCDIR/init" "$r/init" && chmod 755 "$r/init" || die "copying init failed"
	copy_libs "$r" || die "copying shared libraries into $r failed"

	# QEMU and its libraries (35 MB) as a squashfs image that init
	# mounts: unpacked into the initramfs they would not fit in the
	# root tmpfs (half of a 128 MB domain's memory) and would all stay
	# resident; from squashfs only the pages QEMU touches are read, into
	# page cache the kernel can drop again.
	q=$cache/qemu-$base_key
	rm -rf "$q"
	mkdir -p "$q/bin" "$q/lib" &&
	cp "$root/usr/libexec/xen-qemu-system-i386" "$q/bin/" &&
	cp -L /lib/x86_64-linux-gnu/libgcc_s.so.1 "$q/lib/" || die "copying QEMU into $q failed"
	LD_LIBRARY_PATH=$root/$MULTIARCH ldd "$q/bin/xen-qemu-system-i386" 2>&1 |
		awk '/not found/ { print "MISSING", $1; next } /=> \// { print $3 }' |
		while read -r lib rest; do
			[ "$lib" = MISSING ] && { log "error: QEMU needs $rest, which is nowhere"; exit 1; }
			cp -L "$lib" "$q/lib/" || exit 1
		done || die "copying QEMU's libraries into $q failed"
	find "$q" -exec touch -h -d @0 {} +
	mkdir -p "$r/usr/lib/stubdom" "$r/opt/qemu"
	mksquashfs "$q" "$r/usr/lib/stubdom/qemu.sqfs" -comp zstd -Xcompression-level 15 \
		-noappend -all-root -mkfs-time 0 -all-time 0 -quiet -no-progress >/dev/null ||
		die "mksquashfs of $q failed"
	rm -rf "$q"
	touch "$base.complete"
fi

# ---- the project's files, the image ---------------------------------------

# The image is cached too, keyed by the tree and the staged files.
stage_key=
[ -n "$stage" ] || [ ${#extras[@]} -gt 0 ] && stage_key=$( {
	[ -n "$stage" ] && ( cd "$stage" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum )
	for x in "${extras[@]}"; do echo "$x"; sha256sum <"${x%%:*}"; done; } | sha256sum | cut -c1-16)
img=$cache/image-$base_key${stage_key:+-$stage_key}
if [ ! -e "$img/.complete" ]; then
	log "writing the image into $img"
	work=$cache/work
	rm -rf "$work" "$img"
	mkdir -p "$work" "$img"
	cp -a "$base" "$work/root" || die "copying $base failed"
	if [ -n "$stage" ]; then
		( cd "$stage" && tar -cf - --exclude='*/include' --exclude='*/share/man' \
			--exclude='*/share/doc' --exclude='*.a' --exclude='*.la' \
			--exclude='*/pkgconfig' --exclude='*/systemd' . ) | tar -xf - -C "$work/root" ||
			die "copying the staging directory $stage failed"
		( cd "$stage" && find . -type f ) | while read -r f; do
			f=$work/root/${f#./}
			file -b "$f" | grep -q '^ELF' && strip --strip-debug "$f" 2>/dev/null
		done
		copy_libs "$work/root" || die "copying the staged files' libraries failed"
	fi
	for x in "${extras[@]}"; do
		mkdir -p "$work/root/$(dirname "${x#*:}")" && cp "${x%%:*}" "$work/root/${x#*:}" ||
			die "copying the extra file $x failed"
	done
	[ ${#extras[@]} -eq 0 ] || copy_libs "$work/root" || die "copying the extra files' libraries failed"
	echo "$kver" >"$work/root/etc/stubdom-kernel"
	cp "$root/.packages" "$work/root/etc/stubdom-packages"

	# Reproducible archive: sorted names, root owner, fixed mtimes.
	# zstd, not gzip: libxenguest gunzips a gzip'ed ramdisk into the new
	# domain's memory, so the 40 MB tree would sit there twice while the
	# kernel unpacks it (that does not fit in libxl's 128 MB); the kernel
	# unpacks zstd itself, and fast.
	find "$work/root" -exec touch -h -d @0 {} + 2>/dev/null
	( cd "$work/root" && find . | LC_ALL=C sort |
		cpio -o -H newc --quiet -R 0:0 --reproducible ) |
		zstd -q -15 -T1 >"$img/qemu-stubdom-linux-rootfs" || die "writing the initramfs failed"
	cp "$root/boot/vmlinuz-$kver" "$img/qemu-stubdom-linux-kernel" || die "copying the kernel failed"
	( cd "$img" && sha256sum qemu-stubdom-linux-kernel qemu-stubdom-linux-rootfs >SHA256SUMS )
	echo "$(du -sk "$work/root" | cut -f1)" >"$img/unpacked-kb"
	rm -rf "$work"
	touch "$img/.complete"
fi
cp "$img"/qemu-stubdom-linux-kernel "$img"/qemu-stubdom-linux-rootfs "$img"/SHA256SUMS "$out/" ||
	die "writing $out failed"
log "kernel $kver, rootfs $(du -k "$out/qemu-stubdom-linux-rootfs" | cut -f1) KB compressed, $(cat "$img/unpacked-kb") KB unpacked"
log "wrote $out/qemu-stubdom-linux-kernel and $out/qemu-stubdom-linux-rootfs"
