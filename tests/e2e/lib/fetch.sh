# SPDX-License-Identifier: GPL-2.0-only
#
# Fetch the Debian packages the test tier boots (hypervisor, Xen tools and
# libraries, the HVM device model and firmware, the Linux kernel) with
# `apt-get download`, and extract them once into the cache. Nothing is
# installed on the host.
#
# Cache layout (under $E2E_CACHE):
#   debs/                 downloaded .deb files, named as apt-get names them
#   root-<key>/           all packages extracted with dpkg-deb -x, plus
#     .e2e/xen            the stock hypervisor, gunzipped (QEMU's multiboot
#                         loader wants the 32-bit ELF, not xen.gz)
#     .e2e/vmlinux        uncompressed ELF kernel for PV/PVH guests (saves
#                         the in-dom0 xz decompression, ~4.5 s per guest)
#     .e2e/kver           kernel release
# <key> hashes the exact .deb file names, so changing the tool version or a
# package update gives a new tree and never a half-updated one.

# Packages built from Debian's "xen" source; pinned to --tools-version.
E2E_XEN_PKGS="xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common
 xenstore-utils libxencall1 libxenevtchn1 libxenforeignmemory1 libxengnttab1
 libxenmisc4.17 libxenstore4 libxentoollog1 libxenhypfs1 libxendevicemodel1
 libxentoolcore1"
# Everything else at the version apt would install. qemu-system-xen is the
# HVM device model (xen-qemu-system-i386); seabios and qemu-system-data
# carry the guest firmware and option ROMs it loads. socat (with libwrap0,
# its one library a build host may lack) and hyperv-daemons are real
# clients of the guest kernel's bus (scenario kmod-bus): socat's VSOCK
# addresses over hv_sock, hv_kvp_daemon behind hv_utils' KVP.
E2E_OTHER_PKGS="libyajl2 qemu-system-xen qemu-system-data seabios
 socat libwrap0 hyperv-daemons"

# Print, for each PKG[=VERSION] argument, "PKG FILE" where FILE is the name
# apt-get download gives the .deb. One apt-cache call: each costs ~0.6 s.
e2e_deb_names() {
	apt-cache show --no-all-versions "$@" 2>/dev/null | awk '
		function out() { if (p != "") print p, p "_" v "_" a ".deb"; p = "" }
		/^Package:/      { p = $2 }
		/^Version:/      { v = $2; gsub(/:/, "%3a", v) }
		/^Architecture:/ { a = $2 }
		/^$/             { out() }
		END              { out() }'
}

# The real kernel package behind the linux-image-amd64 metapackage.
e2e_kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

# e2e_fetch TOOLS_VERSION KERNEL_PKG
# Sets E2E_ROOT (extracted tree), E2E_KVER.
e2e_fetch() {
	local tools_ver=$1 kpkg=$2 debs=$E2E_CACHE/debs
	local specs=() names=() missing=() p name key root tmp d

	[ -n "$kpkg" ] || kpkg=$(e2e_kernel_pkg)
	[ -n "$kpkg" ] || e2e_die "resolving the kernel package behind linux-image-amd64: apt-cache depends found nothing (run apt-get update?)"

	for p in $E2E_XEN_PKGS; do specs+=("$p${tools_ver:+=$tools_ver}"); done
	for p in $E2E_OTHER_PKGS "$kpkg"; do specs+=("$p"); done

	mkdir -p "$debs" || e2e_die "creating $debs failed"
	declare -A found=()
	while read -r p name; do found[$p]=$name; done < <(e2e_deb_names "${specs[@]}")
	for p in "${specs[@]}"; do
		name=${found[${p%%=*}]}
		[ -n "$name" ] || e2e_die "package $p is unknown to apt-cache (wrong --tools-version, or apt-get update needed)"
		names+=("$name")
		[ -s "$debs/$name" ] || missing+=("$p")
	done

	if [ ${#missing[@]} -gt 0 ]; then
		e2e_log "downloading ${#missing[@]} package(s): ${missing[*]}"
		( cd "$debs" && apt-get download -q "${missing[@]}" ) >"$debs/download.log" 2>&1 ||
			{ tail -n 20 "$debs/download.log" >&2
			  e2e_die "apt-get download of ${missing[*]} failed (see $debs/download.log)"; }
		for name in "${names[@]}"; do
			[ -s "$debs/$name" ] || e2e_die "apt-get download did not produce $debs/$name"
		done
	fi

	key=$(printf '%s\n' "${names[@]}" | sort | sha256sum | cut -c1-16)
	root=$E2E_CACHE/root-$key
	if [ ! -e "$root/.e2e/complete" ]; then
		e2e_log "extracting ${#names[@]} packages into $root"
		tmp=$root.tmp.$$
		rm -rf "$tmp" "$root"
		mkdir -p "$tmp/.e2e" || e2e_die "creating $tmp failed"
		for name in "${names[@]}"; do
			e2e_run "extracting $name" dpkg-deb -x "$debs/$name" "$tmp"
		done
		d=$(ls "$tmp/lib/modules" 2>/dev/null | head -n 1)
		[ -n "$d" ] || e2e_die "no /lib/modules in the extracted $kpkg"
		echo "$d" >"$tmp/.e2e/kver"
		e2e_run "running depmod for $d" depmod -b "$tmp" "$d"
		gunzip -c "$tmp"/boot/xen-4.17-amd64.gz >"$tmp/.e2e/xen" ||
			e2e_die "gunzip of $tmp/boot/xen-4.17-amd64.gz failed"
		e2e_extract_vmlinux "$tmp/boot/vmlinuz-$d" "$tmp/.e2e/vmlinux"
		printf '%s\n' "${names[@]}" >"$tmp/.e2e/packages"
		touch "$tmp/.e2e/complete"
		mv "$tmp" "$root" || e2e_die "renaming $tmp to $root failed"
	fi
	E2E_ROOT=$root
	E2E_KVER=$(cat "$root/.e2e/kver")
}

# The Debian bzImage carries an xz stream; unpack it to the ELF vmlinux.
e2e_extract_vmlinux() {
	local bz=$1 out=$2 off
	off=$(grep -abo $'\xfd7zXZ\x00' "$bz" | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || e2e_die "no xz stream in $bz"
	# xz complains about the trailing bytes after the stream; the ELF
	# magic check below is what matters.
	tail -c +$((off + 1)) "$bz" | xz -dc >"$out" 2>/dev/null
	[ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = '177ELF' ] ||
		e2e_die "extracting vmlinux from $bz gave no ELF file"
}
