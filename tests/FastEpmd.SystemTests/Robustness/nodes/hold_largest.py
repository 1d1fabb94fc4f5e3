#!/usr/bin/env python3
# Registers COUNT nodes of the largest legal size (a 255-code-point name of 1,020 bytes, every
# character 4 bytes of UTF-8, and a 1,020-byte extra), each on its own connection kept open, and
# holds them until stdin closes. Run under `prlimit --nofile` high enough for COUNT sockets: the
# test process itself would run out of descriptors. Prints one line per 1,000 registrations and
# "registered N refused M closed K" at the end of the run; exits 0 when it has finished.
import socket
import struct
import sys

port, count = int(sys.argv[1]), int(sys.argv[2])
EXTRA = bytes(i % 256 for i in range(1020))


def name(i):
    # Three "digits" base 1024 in U+10000..U+103FF make each name distinct; the rest is filler.
    digits = [0x10000 + (i >> 20) % 1024, 0x10000 + (i >> 10) % 1024, 0x10000 + i % 1024]
    return "".join(chr(c) for c in digits + [0x1F600] * 252).encode()


def alive(n):
    body = struct.pack(">BHBBHHH", 120, 20000 + n % 40000, 77, 0, 6, 5, 1020) + name(n) + struct.pack(">H", len(EXTRA)) + EXTRA
    return struct.pack(">H", len(body)) + body


held, registered, refused, closed = [], 0, 0, 0
for i in range(count):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(alive(i))
    reply = b""
    while len(reply) < 6:
        chunk = s.recv(6 - len(reply))
        if not chunk:
            break
        reply += chunk
    if len(reply) < 6:
        closed += 1
        s.close()
    elif reply[:2] == b"v\x00":
        registered += 1
        held.append(s)
    else:
        refused += 1
        held.append(s)
    if (i + 1) % 1000 == 0:
        print(f"progress {i + 1}", flush=True)
print(f"registered {registered} refused {refused} closed {closed}", flush=True)
sys.stdin.read()
for s in held:
    s.close()
