#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fetch Debian's xen source, apply the synthetic debugger series with
# `patch -p1 --fuzz=0`, and build the hypervisor (and, with --tools,
# libxenlight and xl) from it.
#
# Usage: build-xen.sh [--cache DIR] [--jobs N] [--tools] [MODE]
#   MODE build    (default) apply and build; prints the hypervisor path
#        check    only verify that the series applies without fuzz
#        prepare  apply the series into the cache (used by the unit tests)
#                 and print the patched tree's path
#
# The cache (default: $XDG_CACHE_HOME/xenvmbus-xen or ~/.cache/...) holds
#   src/            the `apt-get source` download and its unpacked tree
#   tree-<hash>/    the tree with the series applied (hash of the series)
#   out/xen, out/xen.gz, out/xen-syms   the last hypervisor built
# Reruns reuse the download and, for an unchanged series, the patched tree
# and its objects, so they only rebuild what changed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/xenvmbus-xen
jobs=2
tools=no
mode=build
# The source version the series is written against; override with care.
xen_version=${XEN_SRC_VERSION:-4.17.5+72-g01140da4e8-1}

usage() {
    sed -n '4,17p' "$0" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

while [ $# -gt 0 ]; do
    case "$1" in
    --cache) cache=$2; shift 2 ;;
    --cache=*) cache=${1#*=}; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    --jobs=*) jobs=${1#*=}; shift ;;
    --tools) tools=yes; shift ;;
    -h|--help) usage 0 ;;
    build|check|prepare) mode=$1; shift ;;
    *) echo "build-xen.sh: unknown argument \"$1\"" >&2; usage 2 >&2 ;;
    esac
done

log() { echo "build-xen.sh: $*" >&2; }
die() { log "$*"; exit 1; }

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# Only one run at a time per cache: concurrent `make check` and CI runs share it.
exec 9>"$cache/.lock"
flock 9

# --- 1. the Debian source, downloaded once -----------------------------------
ensure_deb_src() {
    if apt-cache showsrc xen 2>/dev/null | grep -q "^Version: ${xen_version}\$"; then
        return 0
    fi
    [ "$(id -u)" = 0 ] || die "no deb-src entry offers xen ${xen_version}; add one for bookworm (as root) and run apt-get update"
    local f=/etc/apt/sources.list.d/deb-src-bookworm.sources
    if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ &&
       ! grep -qs '^deb-src' /etc/apt/sources.list; then
        log "adding $f"
        cat >"$f" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    fi
    apt-get update -qq || die "apt-get update failed"
    apt-cache showsrc xen 2>/dev/null | grep -q "^Version: ${xen_version}\$" ||
        die "the configured archives do not offer xen source ${xen_version}"
}

fetch_source() {
    local src=$cache/src upstream=${xen_version%-*}
    pristine=$src/xen-$upstream
    if [ -f "$src/.unpacked-$xen_version" ] && [ -d "$pristine" ]; then
        return 0
    fi
    command -v dpkg-source >/dev/null || die "dpkg-source (package dpkg-dev) is required"
    ensure_deb_src
    rm -rf "$src" && mkdir -p "$src"
    log "fetching xen ${xen_version} with apt-get source"
    (cd "$src" && apt-get source -qq "xen=${xen_version}" 2>&1 |
        grep -v -e 'unsandboxed' -e '^dpkg-source: info' >&2 || true)
    [ -d "$pristine" ] || die "apt-get source did not unpack $pristine"
    touch "$src/.unpacked-$xen_version"
}

# --- 2. the series, applied without fuzz ---------------------------------------
series_hash() {
    (cd "$here" && cat series $(cat series)) | sha256sum | cut -c1-16
}

# apply_series DIR: apply every patch in series order; fail on any fuzz.
apply_series() {
    local dir=$1 p out
    while read -r p; do
        case "$p" in ''|'#'*) continue ;; esac
        out=$(cd "$dir" && patch -p1 --fuzz=0 --no-backup-if-mismatch <"$here/$p" 2>&1) ||
            { printf '%s\n' "$out" >&2; die "$p does not apply without fuzz"; }
        if printf '%s' "$out" | grep -q -e fuzz -e offset; then
            printf '%s\n' "$out" >&2
            die "$p applies only with offset or fuzz"
        fi
        log "applied $p"
    done <"$here/series"
}

prepare_tree() {
    tree=$cache/tree-$(series_hash)
    if [ -f "$tree/.series-applied" ]; then
        return 0
    fi
    rm -rf "$cache"/tree-*
    log "copying the pristine tree"
    cp -a "$pristine" "$tree.tmp"
    apply_series "$tree.tmp"
    touch "$tree.tmp/.series-applied"
    mv "$tree.tmp" "$tree"
}

# --- 3. builds ----------------------------------------------------------------
build_hypervisor() {
    local t0 t1
    t0=$(date +%s)
    if [ ! -f "$tree/xen/.config" ]; then
        # Debian's own hypervisor configuration (debian/rules does the same),
        # plus the synthetic debugger, which the series adds default off.
        cp "$tree/debian/xen-kconfig" "$tree/xen/.config"
        echo "CONFIG_VIRIDIAN_SYNDBG=y" >>"$tree/xen/.config"
        make -s -C "$tree/xen" olddefconfig PYTHON=/usr/bin/python3 >/dev/null
        grep -q '^CONFIG_VIRIDIAN_SYNDBG=y' "$tree/xen/.config" ||
            die "olddefconfig did not keep CONFIG_VIRIDIAN_SYNDBG=y"
    fi
    make -C "$tree/xen" -j"$jobs" PYTHON=/usr/bin/python3 >"$cache/xen-build.log" 2>&1 ||
        { tail -40 "$cache/xen-build.log" >&2; die "hypervisor build failed (log: $cache/xen-build.log)"; }
    t1=$(date +%s)
    mkdir -p "$cache/out"
    cp "$tree/xen/xen" "$tree/xen/xen.gz" "$tree/xen/xen-syms" "$cache/out/" 2>/dev/null ||
        cp "$tree/xen/xen" "$cache/out/"
    log "hypervisor built in $((t1 - t0)) s"
}

# Configured like debian/rules (paths, firmware, device model) so that the
# resulting xl and libxenlight drop into a dom0 running Debian's Xen
# packages; stubdom, docs and the OCaml bindings are left out for speed.
tools_configure_args="--disable-stubdom --disable-docs --disable-ocamltools \
    --prefix=/usr --includedir=/usr/include --libdir=/usr/lib/x86_64-linux-gnu \
    --with-libexec-libdir-suffix=/x86_64-linux-gnu --sysconfdir=/etc \
    --localstatedir=/var --with-libexec-leaf-dir=xen-4.17 \
    --disable-qemu-traditional --disable-rombios \
    --with-system-qemu=/usr/libexec/xen-qemu-system-i386 \
    --enable-ovmf --with-system-ovmf=/usr/share/ovmf/OVMF.fd \
    --with-system-seabios=/usr/share/seabios/bios-256k.bin"

build_tools() {
    local t0 t1 f
    t0=$(date +%s)
    if [ ! -f "$tree/config/Tools.mk" ] ||
       [ "$(cat "$tree/.tools-configure-args" 2>/dev/null)" != "$tools_configure_args" ]; then
        for f in config.guess config.sub; do
            [ -f /usr/share/misc/$f ] && cp /usr/share/misc/$f "$tree/$f"
        done
        # shellcheck disable=SC2086
        (cd "$tree" && ./autogen.sh >/dev/null &&
         ./configure $tools_configure_args >"$cache/tools-configure.log" 2>&1) ||
            die "tools configure failed (log: $cache/tools-configure.log; it needs python3-dev, acpica-tools, uuid-dev and libyajl-dev)"
        printf '%s' "$tools_configure_args" >"$tree/.tools-configure-args"
    fi
    { make -C "$tree/tools/include" PYTHON=/usr/bin/python3 &&
      make -C "$tree/tools/libs" -j"$jobs" PYTHON=/usr/bin/python3 &&
      make -C "$tree/tools/xl" -j"$jobs" PYTHON=/usr/bin/python3; } >"$cache/tools-build.log" 2>&1 ||
        { tail -40 "$cache/tools-build.log" >&2; die "tools build failed (log: $cache/tools-build.log)"; }
    t1=$(date +%s)
    mkdir -p "$cache/out"
    cp "$tree/tools/xl/xl" "$cache/out/"
    cp -P "$tree"/tools/libs/light/libxenlight.so* "$tree"/tools/libs/util/libxlutil.so* "$cache/out/"
    log "libxenlight, libxlutil and xl built in $((t1 - t0)) s"
}

fetch_source

case "$mode" in
check)
    tmp=$(mktemp -d "$cache/check.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    cp -a "$pristine" "$tmp/xen"
    apply_series "$tmp/xen"
    log "series applies to xen ${xen_version} without fuzz"
    ;;
prepare)
    prepare_tree
    echo "$tree"
    ;;
build)
    prepare_tree
    build_hypervisor
    [ "$tools" = yes ] && build_tools
    echo "$cache/out/xen"
    ;;
esac
