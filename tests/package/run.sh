#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The package tier: build the .debs from a clean export of the tree, check
# them with lintian, install them into a clean Debian 12 root and run the
# README's demo and an outside program built against libvmbus-dev there,
# from the installed files only.  Then purge them.
#
# Usage: tests/package/run.sh [WORKDIR]
#   (as root; WORKDIR default $BUILD_ROOT/package, BUILD_ROOT default
#   ./_build).  The Debian base root is made once with debootstrap and
#   kept as WORKDIR/cache/bookworm-<arch>-<hash>.tar, with the packages apt
#   fetched for it, so that later runs download only the package lists.
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian),
#   DEBIAN_SECURITY (default http://deb.debian.org/debian-security),
#   JOBS (default: number of CPUs), DEMO_MB (default 16).
#
# Prints a TAP-like line per step and, last, "N passed, N failed[, N
# skipped]"; exits 0 when nothing failed.
set -u

src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(realpath -m "${1:-${BUILD_ROOT:-$src/_build}/package}")
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
jobs=${JOBS:-$(nproc)}
demo_mb=${DEMO_MB:-16}
# What the base root holds besides minbase: the compiler for the
# outside program.  The packages' own dependencies come from apt.
base_include=gcc,libc6-dev,pkg-config
packages="xenvmbus-daemons libvmbus0 libvmbus-dev xenvmbus-sim"

n=0 passed=0 failed=0 skipped=0
ok() { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); skipped=$((skipped + 1)); echo "ok $n # SKIP $1"; }
summary() {
	if [ "$skipped" -gt 0 ]; then
		echo "$passed passed, $failed failed, $skipped skipped"
	else
		echo "$passed passed, $failed failed"
	fi
	[ "$failed" -eq 0 ]
	exit
}
# The last lines of a step's log, as TAP comments.
show() { tail -n "${2:-40}" "$1" | sed 's/^/# /'; }

[ "$(id -u)" = 0 ] || { skip "the package tier: not root (chroot and debootstrap need it)"; summary; }
for t in debootstrap dpkg-buildpackage dh chroot; do
	command -v "$t" >/dev/null || { skip "the package tier: $t is not installed (README's test command installs it)"; summary; }
done

arch=$(dpkg --print-architecture)
root=$work/root
mkdir -p "$work/cache/apt" || { not_ok "create $work"; summary; }
logs=$work/logs
rm -rf "$logs" "$work/build"
mkdir -p "$logs" "$work/build"

# The root's mounts and programs go away whatever happens.
in_root_pids() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && echo "${p#/proc/}"
	done
}
cleanup() {
	local pids
	pids=$(in_root_pids)
	[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	mountpoint -q "$root/proc" && umount "$root/proc"
	# Never delete through a mount that is still there.
	if ! grep -q " $root/" /proc/mounts; then
		rm -rf "$root"
	else
		echo "# $root: still mounted, left in place" >&2
	fi
}
trap cleanup EXIT

# 1. A clean export: what is committed, with the working tree's changes
# to tracked files (git stash create), never the build outputs.
export_dir=$work/build/xenvmbus
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	rev=$(git -C "$src" stash create 2>/dev/null)
	rev=${rev:-HEAD}
	mkdir -p "$export_dir" &&
		git -C "$src" archive --format=tar "$rev" | tar -xf - -C "$export_dir"
	rc=$?
else
	rc=1
	echo "# $src is not a git checkout: nothing to export" >&2
fi
[ $rc -eq 0 ] && ok "export the tree (git archive $rev)" || { not_ok "export the tree"; summary; }

# 2. The binary packages, without the test suite (the other tiers run it).
t0=$(date +%s)
(cd "$export_dir" && DEB_BUILD_OPTIONS="nocheck parallel=$jobs" dpkg-buildpackage -us -uc -b) >"$logs/build.log" 2>&1
rc=$?
if [ $rc -eq 0 ]; then
	ok "dpkg-buildpackage -us -uc -b ($(( $(date +%s) - t0 )) s)"
else
	not_ok "dpkg-buildpackage -us -uc -b"
	show "$logs/build.log" 60
	summary
fi
debs=()
for p in $packages; do
	f=$(ls "$work/build/${p}_"*"_$arch.deb" 2>/dev/null | head -n 1)
	[ -n "$f" ] || { not_ok "package $p was built"; summary; }
	debs+=("$f")
done

# 3. lintian: no errors; the warnings are listed.
if command -v lintian >/dev/null; then
	lintian --tag-display-limit 0 "$work/build/"xenvmbus_*_"$arch".changes >"$logs/lintian.log" 2>&1
	sed -n 's/^\([EW]\): /# lintian \1: /p' "$logs/lintian.log"
	if grep -q '^E: ' "$logs/lintian.log"; then
		not_ok "lintian: $(grep -c '^E: ' "$logs/lintian.log") error(s)"
	else
		ok "lintian: no errors, $(grep -c '^W: ' "$logs/lintian.log") warning(s)"
	fi
else
	skip "lintian is not installed"
fi

# 4. A clean Debian 12 root, from the cached base or debootstrap.
# Named by what it holds, so that a change of base_include makes a new one.
base=$work/cache/bookworm-$arch-$(echo "$base_include" | md5sum | cut -c1-8).tar
if [ ! -s "$base" ]; then
	t0=$(date +%s)
	rm -rf "$root.new"
	if debootstrap --variant=minbase --arch="$arch" --include="$base_include" \
		bookworm "$root.new" "$mirror" >"$logs/debootstrap.log" 2>&1 &&
		tar --numeric-owner -C "$root.new" -cf "$base.tmp" . && mv "$base.tmp" "$base"; then
		ok "debootstrap --variant=minbase bookworm from $mirror ($(( $(date +%s) - t0 )) s, cached)"
	else
		not_ok "debootstrap --variant=minbase bookworm from $mirror"
		show "$logs/debootstrap.log"
		rm -rf "$root.new" "$base.tmp"
		summary
	fi
	rm -rf "$root.new"
else
	ok "the Debian 12 base root, cached in $base"
fi
rm -rf "$root"
mkdir -p "$root" && tar --numeric-owner -C "$root" -xf "$base" ||
	{ not_ok "unpack $base"; summary; }
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
EOF
# No service starts inside the root.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
mount -t proc proc "$root/proc" || { not_ok "mount /proc in the root"; summary; }
mkdir -p "$root/tmp/debs" "$root/tmp/installed-use"
cp "${debs[@]}" "$root/tmp/debs/"
cp "$src/tests/package/installed-use.c" "$src/tests/package/installed-use.sh" "$root/tmp/installed-use/"
cp "$work/cache/apt/"*.deb "$root/var/cache/apt/archives/" 2>/dev/null

inroot() { timeout "$1" chroot "$root" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "${@:2}"; }

# 5. The packages and what they depend on, from the mirror.
t0=$(date +%s)
inroot 900 sh -c 'apt-get update -q && apt-get install -y -q --no-install-recommends /tmp/debs/*.deb' \
	>"$logs/install.log" 2>&1
rc=$?
cp "$root/var/cache/apt/archives/"*.deb "$work/cache/apt/" 2>/dev/null
if [ $rc -eq 0 ]; then
	ok "apt-get install $packages ($(( $(date +%s) - t0 )) s)"
else
	not_ok "apt-get install $packages"
	show "$logs/install.log"
	summary
fi

# 6. The simulated Xen libraries never shadow the system's.
if inroot 60 ldconfig -p | grep -q '/xenvmbus/'; then
	not_ok "the simulated Xen libraries are out of the dynamic linker's search path"
	inroot 60 ldconfig -p | grep '/xenvmbus/' | sed 's/^/# /'
else
	ok "the simulated Xen libraries are out of the dynamic linker's search path"
fi

# 7. The README's demo, from the installed files.
t0=$(date +%s)
inroot 600 vmbus-demo "$demo_mb" >"$logs/demo.log" 2>&1
rc=$?
grep -E '^  (negotiation|offers seen|byte pipe|message pipe|rescind|guest death|result):' "$logs/demo.log" | sed 's/^ */# /'
if [ $rc -eq 0 ] && grep -q 'result: *OK' "$logs/demo.log"; then
	ok "vmbus-demo $demo_mb on the installed packages ($(( $(date +%s) - t0 )) s)"
else
	not_ok "vmbus-demo $demo_mb on the installed packages (exit $rc)"
	show "$logs/demo.log"
fi
pids=$(in_root_pids)
if [ -z "$pids" ]; then
	ok "the demo left no program running"
else
	not_ok "the demo left no program running: $(for p in $pids; do tr '\0' ' ' <"/proc/$p/cmdline"; echo; done)"
fi

# 8. An outside program built with pkg-config against libvmbus-dev.
if inroot 120 sh /tmp/installed-use/installed-use.sh /tmp/installed-use/installed-use.c \
	"/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo "$(uname -m)-linux-gnu")" \
	>"$logs/installed-use.log" 2>&1; then
	ok "a program built with pkg-config --cflags --libs libvmbus runs"
else
	not_ok "a program built with pkg-config --cflags --libs libvmbus runs"
fi
show "$logs/installed-use.log" 5

# 9. And the packages go away cleanly.
if inroot 300 apt-get purge -y -q $packages >"$logs/purge.log" 2>&1; then
	ok "apt-get purge $packages"
else
	not_ok "apt-get purge $packages"
	show "$logs/purge.log"
fi

summary
