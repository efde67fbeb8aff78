#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The shape of the tree, checked: no circle of files that use each other
inside lib/, dom0-backends/ and xensim/, and no arrow from a lower folder
to a higher one.

Two graphs over the source files: the include graph (#include "..." and
<...> that resolve to a file of the tree) and the call graph, read with nm
from the objects of the build (a file uses another when one of its objects
needs a global symbol the other's object defines, resolved as the linker
would: within the same program or library first, then in the project's own
libraries).  The folders and what each may use are declared in
tests/structure/layers; the circles that exist today and are to go are in
tests/structure/allowed-circles.  Speaks TAP.

Usage: check-structure.py [SRCDIR [BUILDDIR]]  (default $top_srcdir,
$top_builddir, as make check sets them).
"""
import os
import re
import subprocess
import sys

SRC = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("top_srcdir", "."))
BUILD = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.environ.get("top_builddir", "."))
HERE = os.path.join(SRC, "tests", "structure")

# Where a quoted or angled include is looked up after the including file's
# folder: the -I directories the build gives each folder's code.
INCLUDE_DIRS = {
    "lib": ["include", "lib", "lib/libvmbus"],
    "dom0-backends": ["include", "util", "lib", "lib/libvmbus"],
    "tools": ["include", "util", "lib", "lib/libvmbus"],
    "xensim": ["include", "util", "xensim"],
    "util": ["include", "util"],
    "include": ["include"],
}
# Folders whose circles are checked.
CIRCLE_ROOTS = ("lib/", "dom0-backends/", "xensim/")
# The project's libraries a program may link: the call graph resolves a
# symbol in them when its own objects do not define it.
PROJECT_LIBS = ("lib/vmbus", "libvmbus_la", "util")

n = 0
failed = 0


def ok(cond, what, detail=()):
    global n, failed
    n += 1
    if not cond:
        failed += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (n, what))
    for line in detail:
        print("# " + line)


def read_list(name):
    """Lines of a data file without comments and blank lines, split."""
    rows = []
    with open(os.path.join(HERE, name)) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                rows.append(line.split())
    return rows


def load_layers():
    layers = {}
    for row in read_list("layers"):
        folder = row[0].rstrip(":").rstrip("/")
        layers[folder] = set(r.rstrip("/") for r in row[1:])
    return layers


def folder_of(path, layers):
    """The longest declared folder that holds path, or None."""
    best = None
    for f in layers:
        if path == f or path.startswith(f + "/"):
            if best is None or len(f) > len(best):
                best = f
    return best


def source_files(layers):
    files = []
    for folder in layers:
        top = os.path.join(SRC, folder)
        for dirpath, dirnames, filenames in os.walk(top):
            rel = os.path.relpath(dirpath, SRC)
            # a subfolder declared on its own is walked as itself
            dirnames[:] = [d for d in dirnames
                           if os.path.join(rel, d) not in layers and not d.startswith(".")]
            for fn in filenames:
                if fn.endswith((".c", ".h")):
                    files.append(os.path.normpath(os.path.join(rel, fn)))
    return sorted(set(files))


INC_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def include_edges(files):
    edges = set()
    known = set(files)
    for f in files:
        with open(os.path.join(SRC, f), errors="replace") as fh:
            for line in fh:
                m = INC_RE.match(line)
                if not m:
                    continue
                kind, name = m.groups()
                cands = ([os.path.join(os.path.dirname(f), name)] if kind == '"' else [])
                top = f.split("/", 1)[0]
                cands += [os.path.join(d, name) for d in INCLUDE_DIRS.get(top, ["include"])]
                for c in cands:
                    c = os.path.normpath(c)
                    if c in known:
                        if c != f:
                            edges.add((f, c, "includes"))
                        break
    return edges


def objects():
    """(object path, source file, link group) for every object of the build."""
    out = []
    for dirpath, dirnames, filenames in os.walk(BUILD):
        rel = os.path.relpath(dirpath, BUILD)
        if rel.startswith(("tests", "bench", "fuzz", "_", "hypervisor-patches")):
            continue
        for fn in filenames:
            if not fn.endswith(".o"):
                continue
            srcdir = rel[:-len("/.libs")] if rel.endswith("/.libs") else rel
            base = fn[:-2]
            # automake names a target's object TARGET-SOURCE.o when the
            # target has its own flags, SOURCE.o otherwise.
            group, name = srcdir, base
            if "-" in base:
                g, rest = base.split("-", 1)
                if os.path.exists(os.path.join(SRC, srcdir, rest + ".c")):
                    group, name = g, rest
            # Objects built for a test or benchmark program are not the tree's.
            if group.startswith(("tests_", "bench_")):
                continue
            src = os.path.normpath(os.path.join(srcdir, name + ".c"))
            if os.path.exists(os.path.join(SRC, src)):
                out.append((os.path.join(dirpath, fn), src, group))
    return out


def call_edges(known):
    defs = {}	# symbol -> {(group, source)}
    undefs = []	# (group, source, symbol)
    for obj, src, group in objects():
        res = subprocess.run(["nm", obj], capture_output=True, text=True)
        if res.returncode != 0:
            continue
        for line in res.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBR":
                defs.setdefault(parts[2], set()).add((group, src))
            elif len(parts) == 2 and parts[0] == "U":
                undefs.append((group, src, parts[1]))
    edges = set()
    for group, src, sym in undefs:
        cands = defs.get(sym, set())
        mine = [s for g, s in cands if g == group]
        libs = [s for g, s in cands if g in PROJECT_LIBS]
        for target in (mine or libs):
            if target != src and src in known and target in known:
                edges.add((src, target, "calls " + sym))
    return edges


def circles(nodes, adj):
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in adj.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def main():
    layers = load_layers()
    files = source_files(layers)
    known = set(files)
    edges = include_edges(files) | call_edges(known)
    ncalls = sum(1 for e in edges if e[2].startswith("calls"))
    ok(files and ncalls > 0, "include and call graph read: %d files, %d edges (%d calls)"
       % (len(files), len(edges), ncalls))

    # Arrows between folders must point down.
    bad = {}
    for a, b, why in edges:
        fa, fb = folder_of(a, layers), folder_of(b, layers)
        if fa and fb and fa != fb and fb not in layers[fa]:
            bad.setdefault((fa, fb), []).append("%s %s (%s)" % (a, why, b))
    detail = []
    for (fa, fb), what in sorted(bad.items()):
        detail.append("%s may not use %s:" % (fa, fb))
        detail += ["  " + w for w in sorted(what)[:10]]
    ok(not bad, "no arrow from a lower folder to a higher one (tests/structure/layers)", detail)

    # Circles, within the checked folders, against the allow-list.
    adj = {}
    for a, b, why in edges:
        if a.startswith(CIRCLE_ROOTS) and b.startswith(CIRCLE_ROOTS):
            adj.setdefault(a, set()).add(b)
    found = circles(known, adj)
    allowed = [set(row) for row in read_list("allowed-circles")]
    new, seen = [], set()
    for comp in found:
        match = [i for i, a in enumerate(allowed) if set(comp) <= a]
        if match:
            seen.update(match)
            print("# allowed circle: " + " ".join(comp))
        else:
            new.append(comp)
    detail = []
    for comp in new:
        detail.append("circle: " + " ".join(comp))
        inside = sorted(e for e in edges if e[0] in comp and e[1] in comp and e[0] != e[1])
        detail += ["  %s %s" % (a, why + (" of " + b if why.startswith("calls") else " " + b))
                   for a, b, why in inside[:12]]
    ok(not new, "no circle of files in lib/, dom0-backends/, xensim/ but the allowed ones "
       "(tests/structure/allowed-circles)", detail)
    for i, a in enumerate(allowed):
        if i not in seen:
            print("# allow-list entry no longer needed (remove it): " + " ".join(sorted(a)))
    print("1..%d" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
