#!/usr/bin/env python3
# Writes state-v1.bin, the version-1 state image fixture, from the layout alone (not from our
# encoder): StateImageFixtureTests decodes it forever, so a later format must keep reading it.
import struct

def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF

STRIDE, FIXED = 2112, 48

def slot(index, state, ntype, proto, port, hi, lo, name, extra, creation, fd, key, seq):
    head = struct.pack("<BBBBHHHHHHIiQQI", state, ntype, proto, 0, port, hi, lo, len(name), len(extra), 0,
                       creation, fd, key, seq, 0)
    assert len(head) == 44
    crc = crc32c(head + name + extra, index)   # seeded with the slot index
    body = head + struct.pack("<I", crc) + name + extra
    return body + bytes(STRIDE - len(body))

slots = [
    slot(0, 1, 77, 0, 5001, 6, 5, b"alpha", b"", 0x6553F101, 7, 1, 1),
    slot(1, 2, 72, 0, 5003, 6, 5, b"gamma", b"x1", 0x6553F105, 9, 3, 4),
    slot(2, 1, 77, 1, 5002, 6, 5, b"beta", b"\x00\x01", 0x6553F102, 8, 2, 2),
    bytes(STRIDE),
]
head = struct.pack("<IHHiiq", 0x54534546, 1, 32, STRIDE, len(slots), 32 + STRIDE * len(slots))
head += struct.pack("<I", crc32c(head)) + bytes(4)
with open("state-v1.bin", "wb") as f:
    f.write(head + b"".join(slots))
