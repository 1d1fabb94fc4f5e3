#!/usr/bin/env python3
# The restart tests' raw side, run in the machine's network namespace (nsenter -n) against its 4369:
#   hold COUNT SECONDS   registers COUNT raw ALIVE2 nodes (raw000...) and keeps them; prints their
#                        creations as JSON, then answers stdin lines: "report" (which connections
#                        ended, JSON), "close NAME", "quit". Lives at most SECONDS.
#   load SECONDS STOP NAMES EXPECTED
#                        PORT_PLEASE2 for each name in the file NAMES in turn, and NAMES, each on a new
#                        connection, until the file STOP exists (at most SECONDS); a lookup counts as
#                        answered when found, a NAMES when it lists EXPECTED nodes. Prints JSON.
#   snapshot             NAMES and DUMP replies, hex, as JSON.
#   alive NAME PORT      registers once, prints the creation, closes.
import json, os, select, socket, struct, sys, time

ADDRESS = ("127.0.0.1", 4369)

def alive_request(name, port):
    body = b"x" + struct.pack(">HBBHHH", port, 72, 0, 6, 5, len(name)) + name + struct.pack(">H", 2) + b"\x00\x07"
    return struct.pack(">H", len(body)) + body

def read_exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed after %d bytes" % len(data))
        data += chunk
    return data

def register(name, port):
    s = socket.create_connection(ADDRESS, timeout=10)
    s.sendall(alive_request(name, port))
    reply = read_exactly(s, 6)
    if reply[:2] != b"v\x00":
        raise SystemExit("ALIVE2 refused for %r: %s" % (name, reply.hex()))
    return s, struct.unpack(">I", reply[2:])[0]

def request(payload, timeout=10.0):
    s = socket.create_connection(ADDRESS, timeout=timeout)
    try:
        s.sendall(struct.pack(">H", len(payload)) + payload)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
    finally:
        s.close()

def hold(count, seconds):
    nodes, creations = {}, {}
    for i in range(count):
        name = b"raw%03d" % i
        nodes[name], creations[name.decode()] = register(name, 20000 + i)
    print(json.dumps({"creations": creations}), flush=True)
    ended = set()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        live = [s for n, s in nodes.items() if n not in ended]
        readable, _, _ = select.select(live + [sys.stdin], [], [], 0.2)
        for s in readable:
            if s is sys.stdin:
                line = sys.stdin.readline().split()
                if not line or line[0] == "quit":
                    return
                if line[0] == "report":
                    print(json.dumps({"ended": sorted(n.decode() for n in ended)}), flush=True)
                elif line[0] == "close":
                    name = line[1].encode()
                    nodes[name].close()
                    ended.add(name)
                    print(json.dumps({"closed": line[1]}), flush=True)
                continue
            # epmd never writes on an ALIVE socket after its reply: readable means EOF, a reset or garbage.
            ended.add(next(n for n, v in nodes.items() if v is s))

def load(seconds, stop, names_file, expected):
    names = [l.strip().encode() for l in open(names_file) if l.strip()]
    results, failures, i = [], [], 0
    end = time.monotonic() + seconds
    while not os.path.exists(stop) and time.monotonic() < end:
        start = time.monotonic()
        if i % 2 == 0:
            name = names[(i // 2) % len(names)]
            kind = "PORT_PLEASE2 " + name.decode()
            try:
                reply = request(b"z" + name)
                ok = reply[:2] == b"w\x00"
            except OSError as e:
                reply, ok = str(e).encode(), False
        else:
            kind = "NAMES"
            try:
                reply = request(b"n")
                ok = reply[4:].count(b"\n") == expected
            except OSError as e:
                reply, ok = str(e).encode(), False
        took = (time.monotonic() - start) * 1000
        results.append(took)
        if not ok:
            failures.append("%s: %r" % (kind, reply[:80]))
        i += 1
        if i == 1:
            # The test starts its disruption only once the loop is really running.
            print("running", flush=True)
    ordered = sorted(results)
    print(json.dumps({"requests": len(results), "answered": len(results) - len(failures), "failures": failures[:5],
                      "max_ms": round(ordered[-1], 1) if ordered else 0,
                      "median_ms": round(ordered[len(ordered) // 2], 2) if ordered else 0}), flush=True)

def snapshot():
    print(json.dumps({"names": request(b"n").hex(), "dump": request(b"d").hex()}), flush=True)

cmd = sys.argv[1]
if cmd == "hold":
    hold(int(sys.argv[2]), float(sys.argv[3]))
elif cmd == "load":
    load(float(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]))
elif cmd == "snapshot":
    snapshot()
elif cmd == "alive":
    s, creation = register(sys.argv[2].encode(), int(sys.argv[3]))
    print(json.dumps({"creation": creation}), flush=True)
    s.close()
