#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Unit tests of the patched Viridian synthetic debugger sources, in the
# manner of Xen's tools/tests/vpci: fetch Debian's xen source and apply
# hypervisor-patches/ (cached under the build tree, never committed), then
# compile xen/arch/x86/hvm/viridian/{syndbg,debugport}.c unchanged against
# stub/ with the host compiler and run the check suite.  Speaks TAP; when
# the source cannot be fetched or patched the whole test is skipped, with
# the reason.  xen/arch/x86/hvm/dm.c is compiled unchanged as well (against
# stub/dm and stub/), so that XEN_DMOP_syndbg_backend is tested through
# dm_op()'s own checks.
#
# Environment: top_srcdir, top_builddir (set by make check), HV_CC,
# HV_CFLAGS, HV_LDFLAGS (the sanitizer flags), HV_CHECK_CFLAGS,
# HV_CHECK_LIBS (libcheck; else pkg-config), HV_XEN_CACHE (cache dir).

set -u

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-$srcdir}
here=$srcdir/tests/hypervisor
out=$builddir/tests/hypervisor
cache=${HV_XEN_CACHE:-$builddir/hypervisor-patches/xen-cache}
cc=${HV_CC:-cc}

mkdir -p "$out"

skip() {
    echo "1..0 # SKIP $*"
    exit 0
}

fail() {
    echo "1..1"
    echo "not ok 1 - $*"
    exit 1
}

tree=$("$srcdir/hypervisor-patches/build-xen.sh" --cache "$cache" prepare 2>"$out/prepare.log") ||
    skip "cannot fetch or patch Debian's xen source: $(tail -n 1 "$out/prepare.log")"

viridian=$tree/xen/arch/x86/hvm/viridian
[ -f "$viridian/syndbg.c" ] && [ -f "$viridian/debugport.c" ] ||
    fail "patched tree $tree lacks viridian/syndbg.c or debugport.c"
dm_c=$tree/xen/arch/x86/hvm/dm.c

if [ -n "${HV_CHECK_LIBS:-}" ]; then
    ck_cflags=${HV_CHECK_CFLAGS:-}
    ck_libs=$HV_CHECK_LIBS
elif command -v pkg-config >/dev/null && pkg-config --exists check; then
    ck_cflags=$(pkg-config --cflags check)
    ck_libs=$(pkg-config --libs check)
else
    skip "libcheck (pkg-config check) is not installed"
fi

# dm.c, in its own environment (stub/dm first: the headers dm.c names).
# shellcheck disable=SC2086
if ! $cc -std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter ${HV_CFLAGS:-} \
        -include "$here/stub/xen-stub.h" -include "$here/stub/dm/dm-env.h" \
        -I"$here/stub/dm" -I"$here/stub/include" -I"$here/stub" \
        -I"$tree/xen/include" -I"$tree/xen/arch/x86/include" \
        -c "$dm_c" -o "$out/dm.o" >"$out/compile.log" 2>&1; then
    sed 's/^/# /' "$out/compile.log"
    fail "compiling the patched dm.c against the stubs"
fi

# shellcheck disable=SC2086
if ! $cc -std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter ${HV_CFLAGS:-} \
        -include "$here/stub/xen-stub.h" \
        -I"$here/stub/include" -I"$here/stub" \
        -I"$tree/xen/include" -I"$tree/xen/arch/x86/include" -I"$viridian" \
        $ck_cflags \
        "$viridian/syndbg.c" "$viridian/debugport.c" \
        "$here/stub/stub.c" "$here/test-syndbg.c" "$out/dm.o" \
        -o "$out/test-syndbg" ${HV_LDFLAGS:-} $ck_libs \
        >>"$out/compile.log" 2>&1; then
    sed 's/^/# /' "$out/compile.log"
    fail "compiling the patched sources against the stubs"
fi

CK_TAP_LOG_FILE_NAME=${CK_TAP_LOG_FILE_NAME:--}
CK_FORK=${CK_FORK:-yes}
export CK_TAP_LOG_FILE_NAME CK_FORK
exec "$out/test-syndbg"
