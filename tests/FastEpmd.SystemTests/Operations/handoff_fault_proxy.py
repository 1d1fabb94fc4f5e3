#!/usr/bin/env python3
"""The -upgrade fault injector (test-only): a man in the middle of the handoff conversation.

It listens where the new process looks for the control socket, connects to the running daemon's,
and forwards every SOCK_SEQPACKET record with its SCM_RIGHTS descriptors, in order, each way. A
rule acts on one record of one direction (both processes are the same user as the proxy, so it may
signal them; their pids come from SO_PEERCRED):

  DIR:TYPE:delay=MS       hold the record MS ms before forwarding it (later records queue behind it)
  DIR:TYPE:kill-sender    SIGKILL the process that sent it, and drop it
  DIR:TYPE:kill-receiver  forward it, then SIGKILL the process it was for; nothing that process
                          sends after the record was forwarded reaches the other side
  new:H:formats=N,M       rewrite the Hello's list of readable state formats
  old:O:format=N          rewrite the Offer's state format

DIR is "new" (records the new process sends) or "old"; TYPE is the record's type letter (H Hello,
O Offer, G Go, I Image, D descriptor batch, E End, K Accept, C Commit, S Serving, R Refuse). A rule
fires on the first record of its kind only. Addresses: "@name" (abstract) or a path.
Prints one line per record to stdout ("<ms> <dir> <type> <what was done>"), flushed at once.
"""
import os
import signal
import socket
import struct
import sys
import threading
import time

MAGIC = b"FEUP"
START = time.monotonic()
LOCK = threading.Lock()


def log(text):
    with LOCK:
        print(f"{int((time.monotonic() - START) * 1000)} {text}", flush=True)


def address(text):
    return "\0" + text[1:] if text.startswith("@") else text


def peer_pid(sock):
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[0]


def parse_rules(args):
    rules = []
    for arg in args:
        direction, kind, action = arg.split(":", 2)
        rules.append({"dir": direction, "type": kind, "action": action, "fired": False})
    return rules


def rewrite_formats(record, formats):
    # Hello: magic, 'H', protocol u16, room u32, n u8, formats u16 * n
    head = record[:11]
    values = [int(f) for f in formats.split(",") if f]
    return head + bytes([len(values)]) + b"".join(struct.pack(">H", v) for v in values)


def pump(source, target, direction, rules, pids, done, killed):
    # killed: the sides this proxy has killed. A side is marked before its kill, and what it sent
    # after the mark is dropped: a process that answers faster than SIGKILL lands (the new side's
    # Serving right after the Commit) must not reach the other side as if it had lived.
    receiver = "old" if direction == "new" else "new"
    try:
        while True:
            try:
                data, fds, _flags, _addr = socket.recv_fds(source, 1 << 17, 256)
            except OSError as error:
                log(f"{direction} - receive failed: {error}")
                break
            if not data and not fds:
                log(f"{direction} - closed")
                break
            kind = chr(data[4]) if len(data) >= 5 and data[:4] == MAGIC else "?"
            if direction in killed:
                for fd in fds:
                    os.close(fd)
                log(f"{direction} {kind} dropped: its sender was killed")
                continue
            action = "forwarded"
            drop = False
            kill_receiver = False
            for rule in rules:
                if rule["fired"] or rule["dir"] != direction or rule["type"] != kind:
                    continue
                rule["fired"] = True
                what = rule["action"]
                if what.startswith("delay="):
                    ms = int(what[6:])
                    log(f"{direction} {kind} held {ms} ms")
                    time.sleep(ms / 1000)
                    action = f"forwarded after {ms} ms"
                elif what == "kill-sender":
                    killed.add(direction)
                    os.kill(pids[direction], signal.SIGKILL)
                    action = f"dropped; sender pid {pids[direction]} killed"
                    drop = True
                elif what == "kill-receiver":
                    kill_receiver = True
                    killed.add(receiver)
                elif what.startswith("format="):
                    data = data[:7] + struct.pack(">H", int(what[7:])) + data[9:]
                    action = "format rewritten to " + what[7:]
                elif what.startswith("formats="):
                    data = rewrite_formats(data, what[8:])
                    action = "formats rewritten to " + what[8:]
            if not drop:
                try:
                    socket.send_fds(target, [data], fds) if fds else target.send(data)
                except OSError as error:
                    action = f"not delivered: {error}"
            for fd in fds:
                os.close(fd)
            if kill_receiver:
                os.kill(pids[receiver], signal.SIGKILL)
                action += f"; receiver pid {pids[receiver]} killed"
            log(f"{direction} {kind} {action}")
    finally:
        for s in (source, target):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        done.set()


def main():
    listen_at, connect_to = sys.argv[1], sys.argv[2]
    rules = parse_rules(sys.argv[3:])
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    if not listen_at.startswith("@") and os.path.exists(listen_at):
        os.unlink(listen_at)
    listener.bind(address(listen_at))
    listener.listen(4)
    log("listening")
    new_side, _ = listener.accept()
    old_side = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    old_side.connect(address(connect_to))
    pids = {"new": peer_pid(new_side), "old": peer_pid(old_side)}
    log(f"connected new pid {pids['new']} to old pid {pids['old']}")
    done = threading.Event()
    killed = set()
    threads = [threading.Thread(target=pump, args=(new_side, old_side, "new", rules, pids, done, killed), daemon=True),
               threading.Thread(target=pump, args=(old_side, new_side, "old", rules, pids, done, killed), daemon=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    log("finished")


if __name__ == "__main__":
    main()
