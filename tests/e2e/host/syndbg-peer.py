#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
#
# Host-side peer of the syndbg scenario: the debugger end of the synthetic
# debugger path, outside QEMU. tests/e2e/run starts it when the scenario
# begins, as
#     syndbg-peer.py HOST PORT
# where HOST:PORT is QEMU's loopback forward to xen-kdrelay in dom0.
#
# It speaks xen-kdrelay's TCP framing (u16 length big endian, u8 type
# 1 DATA / 2 RESET, u8 flags, payload) and answers the micro-guest
# (tests/e2e/microguest/syndbg.c, which states the contract):
#   - each DATA payload with the payload reversed and complemented;
#   - "WAIT <ms>" the same way, after <ms> milliseconds;
#   - "STATS" with "STATS frames=<n> bytes=<n> resets=<n>" (what came
#     before it on the same connection: each relay, one per guest, makes
#     its own), after which the peer exits 0.
# RESET records are counted. Until dom0's relay listens, QEMU accepts the
# connection and closes it at once: the peer then connects again, until
# $E2E_TIMEOUT seconds (default 300) have passed. Exit status 1 when the
# exchange never finished or a frame was malformed.
import os
import socket
import struct
import sys
import time

DATA, RESET = 1, 2


def log(msg):
    print(f"syndbg-peer: [{time.monotonic() - T0:7.1f}s] {msg}", flush=True)


def recv_exact(sock, n, deadline):
    buf = b""
    while len(buf) < n:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no data within the time limit ({len(buf)} of {n} bytes)")
        try:
            chunk = sock.recv(n - len(buf))
        except socket.timeout:
            continue
        if not chunk:
            return None
        buf += chunk
    return buf


def send_frame(sock, payload):
    sock.sendall(struct.pack(">HBB", len(payload), DATA, 0) + payload)


def serve(sock, stats, deadline):
    """Serve one connection. True once STATS was answered."""
    while True:
        hdr = recv_exact(sock, 4, deadline)
        if hdr is None:
            return False
        length, ftype, flags = struct.unpack(">HBB", hdr)
        payload = recv_exact(sock, length, deadline) if length else b""
        if payload is None:
            return False
        if ftype == RESET:
            stats["resets"] += 1
            log(f"RESET record (purge flags {flags:#x})")
            continue
        if ftype != DATA:
            raise ValueError(f"frame of unknown type {ftype}")
        if payload.startswith(b"STATS"):
            answer = "STATS frames={frames} bytes={bytes} resets={resets}".format(**stats)
            send_frame(sock, answer.encode())
            log(f"answered {answer}")
            return True
        stats["frames"] += 1
        stats["bytes"] += length
        if payload.startswith(b"WAIT "):
            delay = int(payload[5:].decode()) / 1000.0
            log(f"WAIT: answering after {delay:.1f} s")
            time.sleep(delay)
        send_frame(sock, bytes(0xFF - b for b in reversed(payload)))
        if stats["frames"] <= 8 or stats["frames"] % 8 == 0:
            log(f"frame {stats['frames']}: {length} bytes answered")


def main():
    if len(sys.argv) != 3:
        print("usage: syndbg-peer.py HOST PORT", file=sys.stderr)
        return 2
    host, port = sys.argv[1], int(sys.argv[2])
    deadline = T0 + float(os.environ.get("E2E_TIMEOUT", "300"))
    stats = {"frames": 0, "bytes": 0, "resets": 0}
    attempts = 0
    while time.monotonic() < deadline:
        attempts += 1
        try:
            sock = socket.create_connection((host, port), timeout=5)
        except OSError as e:
            if attempts == 1 or attempts % 30 == 0:
                log(f"connecting to {host}:{port} failed ({e.strerror}); retrying")
            time.sleep(1)
            continue
        sock.settimeout(1.0)
        stats = {"frames": 0, "bytes": 0, "resets": 0}
        try:
            done = serve(sock, stats, deadline)
        except (OSError, TimeoutError, ValueError) as e:
            log(f"connection to {host}:{port} failed: {e}")
            sock.close()
            if isinstance(e, ValueError):
                return 1
            continue
        if done:
            time.sleep(1)  # let the relay take the answer before closing
            sock.close()
            log(f"done after {attempts} connection attempt(s): {stats['frames']} frames, "
                f"{stats['bytes']} bytes, {stats['resets']} resets")
            return 0
        sock.close()
        if stats["frames"]:
            log(f"the relay closed the connection after {stats['frames']} frames; connecting again")
        time.sleep(0.5)
    log(f"gave up: no STATS exchange within the time limit ({attempts} connection attempts, "
        f"{stats['frames']} frames seen)")
    return 1


T0 = time.monotonic()
if __name__ == "__main__":
    sys.exit(main())
