#!/usr/bin/env python3
# systemd's part of the descriptor store, done by hand around the real binary: a listener on fd 3,
# a NOTIFY_SOCKET that receives FDSTORE=1 / FDSTOREREMOVE=1 with their descriptors, FDSTORE=N in
# the environment. Run 1 registers nodes and is SIGKILLed; what it stored (maybe tampered with, per
# MODE) is passed to run 2 with LISTEN_FDS/LISTEN_FDNAMES, as systemd does on a restart. Prints one
# JSON object. Every wait is bounded; both daemons are ended by PID.
import fcntl, json, os, select, signal, socket, struct, sys, tempfile, time

mode, binary, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
work = tempfile.mkdtemp(prefix="fe-store-")
notify_path = os.path.join(work, "notify")
notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
notify.bind(notify_path)
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(64)
store = {}          # FDNAME -> fd, as systemd keeps it
messages = []

def receive(timeout):
    """One notify datagram (text, fds) within timeout, or None."""
    r, _, _ = select.select([notify], [], [], timeout)
    if not r:
        return None
    text, fds, _, _ = socket.recv_fds(notify, 4096, 16)
    for fd in fds:
        os.set_inheritable(fd, False)   # recv_fds does not set close-on-exec; systemd's copies never leak
    text = text.decode()
    messages.append(text)
    fields = dict(l.split("=", 1) for l in text.split("\n") if "=" in l)
    if fields.get("FDSTORE") == "1":
        for fd in fds:
            old = store.pop(fields.get("FDNAME", "stored"), None)
            if old is not None:
                os.close(old)
            store[fields.get("FDNAME", "stored")] = fd
    elif fields.get("FDSTOREREMOVE") == "1":
        old = store.pop(fields["FDNAME"], None)
        if old is not None:
            os.close(old)
    else:
        for fd in fds:
            os.close(fd)
    return text

def wait_for(predicate, timeout=5.0):
    end = time.monotonic() + timeout
    while not predicate() and time.monotonic() < end:
        receive(max(0.0, end - time.monotonic()))
    return predicate()

def start(passed, names, log):
    """Starts the daemon with the listener and passed fds at 3, 4, ... (systemd's exec step)."""
    err = open(log, "wb")
    pid = os.fork()
    if pid == 0:
        fds = [listener.fileno()] + passed
        # Move everything above the target range first, then into place: no dup2 clobbers a source.
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 1000) for fd in fds]
        for i, fd in enumerate(high):
            os.dup2(fd, 3 + i, inheritable=True)
        os.dup2(err.fileno(), 2)
        os.environ.update(LISTEN_FDS=str(len(fds)), LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES=":".join(names),
                          NOTIFY_SOCKET=notify_path, FDSTORE="8")
        os.execv(binary, [binary, "-systemd"])
    err.close()
    if not wait_for(lambda: any("READY=1" in m for m in messages[start.seen:]), 10.0):
        raise SystemExit("daemon never sent READY=1: " + open(log).read())
    start.seen = len(messages)
    return pid
start.seen = 0

def alive_request(name, port_no):
    body = b"x" + struct.pack(">HBBHHH", port_no, 77, 0, 6, 5, len(name)) + name + struct.pack(">H", 0)
    return struct.pack(">H", len(body)) + body

def register(name, port_no):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(alive_request(name, port_no))
    reply = b""
    while len(reply) < 6:
        chunk = s.recv(6 - len(reply))
        if not chunk:
            raise SystemExit("ALIVE2 connection closed")
        reply += chunk
    assert reply[:2] == b"v\x00", reply
    return s, struct.unpack(">I", reply[2:6])[0]

def query(request):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(struct.pack(">H", len(request)) + request)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk

def closed(s):
    r, _, _ = select.select([s], [], [], 0.2)
    if not r:
        return False
    try:
        return s.recv(16, socket.MSG_PEEK) == b""
    except ConnectionError:
        return True

log1, log2 = os.path.join(work, "run1.log"), os.path.join(work, "run2.log")
pid1 = start([], ["fastepmd.socket"], log1)
nodes = {}
for i, name in enumerate([b"keep", b"other", b"third"]):
    nodes[name] = register(name, 7100 + i)
gone, _ = register(b"gone", 7199)
gone.close()
ok = wait_for(lambda: "state" in store and all(f"alive-{k}" in store for k in (1, 2, 3)) and "alive-4" not in store
              and any("FDSTOREREMOVE=1\nFDNAME=alive-4" in m for m in messages))
os.kill(pid1, signal.SIGKILL)
os.waitpid(pid1, 0)
stored_before = sorted(store)

if mode == "truncated":
    os.ftruncate(store["state"], 100)
elif mode == "notsocket":
    r, w = os.pipe()
    os.close(store["alive-1"])
    store["alive-1"] = r
elif mode == "noname":
    store["stored"] = store.pop("alive-1")
elif mode == "nodescriptor":
    os.close(store.pop("alive-2"))
elif mode == "dirty":
    nodes[b"other"][0].sendall(b"\x00")
    time.sleep(0.05)

names = ["fastepmd.socket"] + list(store)
pid2 = start([store[n] for n in store], names, log2)
# systemd acts on what run 2 sends at start (removes of the sockets it dropped) before anyone looks.
wait_for(lambda: False, 0.3)
port_please = {n.decode(): query(b"z" + n).hex() for n in nodes}
names_reply = query(b"n")[4:].decode()
dump_reply = query(b"d")[4:].decode(errors="replace")
node_closed = {n.decode(): closed(s) for n, (s, _) in nodes.items()}
after_ready = messages[start.seen:]
os.kill(pid2, signal.SIGTERM)
deadline = time.monotonic() + 5
while time.monotonic() < deadline and os.waitpid(pid2, os.WNOHANG) == (0, 0):
    time.sleep(0.02)
else:
    pass
try:
    os.kill(pid2, signal.SIGKILL)
    os.waitpid(pid2, 0)
except (ProcessLookupError, ChildProcessError):
    pass
print(json.dumps({
    "stored_ok": ok, "stored_before": stored_before, "creations": {n.decode(): c for n, (_, c) in nodes.items()},
    "port_please": port_please, "names": names_reply, "dump": dump_reply, "closed": node_closed,
    "after_ready": after_ready,
    "state_kib": os.fstat(store["state"]).st_blocks * 512 // 1024 if "state" in store else -1,
    "state_bytes": os.fstat(store["state"]).st_size if "state" in store else -1, "log2": open(log2, errors="replace").read(), "store_after": sorted(store),
}))
