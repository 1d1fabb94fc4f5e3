#!/usr/bin/env python3
# Whether port 4369 is served, and how long it was not, while units change hands (HandInstalledUnits.cs).
# Run in the machine's network namespace (nsenter -n):
#   HandInstalledProbe.py SECONDS STOP
# sends NAMES on a new connection, one after another, until the file STOP exists (at most SECONDS).
# A NAMES is answered when the reply starts with the port 4369 (00 00 11 11), whatever daemon sent
# it. Prints "running" after the first answer, then JSON:
#   unserved_ms     the longest window with no listener: from the start of a NAMES that failed
#                   (refused, or reset from a closing backlog) to the connect of the next one answered;
#                   a loop that is never answered again counts to its end
#   longest_gap_ms  the longest time between two answers in a row (a query waiting in a socket
#                   unit's backlog while systemd starts the service counts here, not above)
#   served_at_end   whether the last NAMES was answered
import json, os, socket, struct, sys, time

def main(seconds, stop):
    end = time.monotonic() + seconds
    requests, answered, failures = 0, 0, []
    last_answer, longest_gap, said, last_ok = None, 0.0, False, True
    unserved_since, unserved = None, 0.0
    while not os.path.exists(stop) and time.monotonic() < end:
        start = time.monotonic()
        connected = start
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", 4369))
            connected = time.monotonic()
            s.sendall(struct.pack(">H", 1) + b"n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            ok, why = data[:4] == b"\x00\x00\x11\x11", "reply without the port header"
        except OSError as e:
            ok, why = False, str(e)
        finally:
            s.close()
        now = time.monotonic()
        requests += 1
        last_ok = ok
        if ok:
            answered += 1
            if last_answer is not None:
                longest_gap = max(longest_gap, now - last_answer)
            last_answer = now
            if unserved_since is not None:
                unserved = max(unserved, connected - unserved_since)
                unserved_since = None
            if not said:
                print("running", flush=True)
                said = True
        else:
            if unserved_since is None:
                unserved_since = start
            if len(failures) < 5:
                failures.append("%.1f ms: %s" % ((start - end + seconds) * 1000, why))
    now = time.monotonic()
    if unserved_since is not None:
        unserved = max(unserved, now - unserved_since)
    if not last_ok and last_answer is not None:
        longest_gap = max(longest_gap, now - last_answer)
    print(json.dumps({"requests": requests, "answered": answered, "failures": failures,
                      "unserved_ms": round(unserved * 1000, 1), "longest_gap_ms": round(longest_gap * 1000, 1),
                      "served_at_end": last_ok}), flush=True)

main(float(sys.argv[1]), sys.argv[2])
