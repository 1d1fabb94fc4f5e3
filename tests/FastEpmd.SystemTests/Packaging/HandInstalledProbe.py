#!/usr/bin/env python3
# Whether port 4369 is served, and how long it was not, while units change hands (HandInstalledUnits.cs).
# Run in the machine's network namespace (nsenter -n):
#   HandInstalledProbe.py SECONDS STOP
# sends NAMES on a new connection, one after another, until the file STOP exists (at most SECONDS).
# A NAMES is answered when the reply starts with the port 4369 (00 00 11 11), whatever daemon sent
# it. Prints "running" after the first answer, then JSON: the counts, the first failures, and the
# longest time between two answers in a row (the gap a client could have seen).
import json, os, socket, struct, sys, time

def names():
    s = socket.create_connection(("127.0.0.1", 4369), timeout=2)
    try:
        s.sendall(struct.pack(">H", 1) + b"n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
    finally:
        s.close()

def main(seconds, stop):
    end = time.monotonic() + seconds
    requests, answered, failures, last_answer, longest, said, last_ok = 0, 0, [], None, 0.0, False, True
    while not os.path.exists(stop) and time.monotonic() < end:
        start = time.monotonic()
        try:
            ok = names()[:4] == b"\x00\x00\x11\x11"
            why = "reply without the port header"
        except OSError as e:
            ok, why = False, str(e)
        now = time.monotonic()
        requests += 1
        last_ok = ok
        if ok:
            answered += 1
            if last_answer is not None:
                longest = max(longest, now - last_answer)
            last_answer = now
            if not said:
                print("running", flush=True)
                said = True
        elif len(failures) < 5:
            failures.append("%.1f ms: %s" % ((start - end + seconds) * 1000, why))
    if not last_ok and last_answer is not None:
        longest = max(longest, time.monotonic() - last_answer)   # never answered again
    print(json.dumps({"requests": requests, "answered": answered, "failures": failures,
                      "longest_gap_ms": round(longest * 1000, 1)}), flush=True)

main(float(sys.argv[1]), sys.argv[2])
