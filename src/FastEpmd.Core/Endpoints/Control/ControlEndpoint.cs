// The -upgrade control socket as an endpoint of the loop: a SEQPACKET listener and at most one
// connection asking, in a slot of the loop's table with a Hello deadline. Bytes only: a trusted
// peer's valid Hello leaves the loop with its descriptor, parked in PendingUpgrade for the daemon,
// which runs the handoff. What is not a trusted peer with a valid Hello within HelloTimeoutMs is
// closed, with a debug line, so a flood of control connections costs the epmd clients one accept
// each and nothing more.
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Poller;
using FastEpmd.Upgrade;

namespace FastEpmd.Endpoints.Control;

/// <summary>A trusted peer asked for the state: its connection (the daemon owns it now) and Hello.</summary>
internal readonly record struct UpgradeRequest(int Fd, HandoffHello Hello, int PeerPid);

internal sealed class ControlEndpoint : IEndpoint, IRestartable, IDisposable
{
    public const string EndpointName = "control";
    public const int HelloTimeoutMs = 1000;
    private const int AcceptsPerWake = 4;

    /// <summary>Connections at once: the one asking.</summary>
    private const int Quota = 1;

    private readonly EventLoop _loop;
    private readonly int _id;
    private readonly Log _log;
    private readonly TimerList _hello;
    private readonly byte[] _helloScratch = new byte[HandoffWire.MaxHelloLength + 1];
    private int _listener = -1;
    private int _pendingSlot = -1;
    private int _pendingPid;

    public ControlEndpoint(EventLoop loop, Log log)
    {
        _loop = loop;
        _log = log;
        _id = loop.Attach(this, Quota);
        _hello = loop.CreateTimer(_id, lane: 0, HelloTimeoutMs);
    }

    public string Name => EndpointName;

    /// <summary>Set when a Hello came in; the daemon takes it with TakeUpgradeRequest.</summary>
    public UpgradeRequest? PendingUpgrade { get; private set; }

    /// <summary>The control listener's descriptor, or -1.</summary>
    public int ListenerFd => _loop.ListenerOpen(_listener) ? _loop.ListenerFd(_listener) : -1;

    /// <summary>Serves the control socket; false (logged by the loop) when the poller refused it.</summary>
    public bool AddListener(int fd)
    {
        _listener = _loop.AddListener(fd, _id, AcceptsPerWake);
        return _listener >= 0;
    }

    /// <summary>The request, handed to the caller (with its descriptor), or null.</summary>
    public UpgradeRequest? TakeUpgradeRequest()
    {
        var request = PendingUpgrade;
        PendingUpgrade = null;
        return request;
    }

    public void OnAccepted(int listener, int fd, in PeerAddress peer)
    {
        if (!UnixSocket.IsTrustedPeer(fd, out uint uid, out int pid))
        {
            if (_log.On(1)) _log.Write(1, $"upgrade request from uid {uid} (pid {pid}), neither root nor ours: closed", fd);
            SocketIo.Close(fd);
            return;
        }
        int slot = _pendingSlot < 0 && PendingUpgrade is null ? _loop.Open(fd, _id) : -1;
        if (slot < 0)
        {
            if (_log.On(1)) _log.Write(1, $"upgrade request from pid {pid} while another is open: closed", fd);
            SocketIo.Close(fd);
            return;
        }
        _pendingSlot = slot;
        _pendingPid = pid;
        _loop.Arm(slot, _hello);
        if (!_loop.Watch(slot, PollInterest.Read))
        {
            Drop(slot);
            return;
        }
        ReadHello(slot);
    }

    public void OnReady(int slot, PollFlags flags) => ReadHello(slot);

    private void ReadHello(int slot)
    {
        int fd = _loop.FdOf(slot);
        var status = SocketIo.Receive(fd, _helloScratch, out int n, out _);
        if (status == IoStatus.WouldBlock) return;
        if (status == IoStatus.Done && HandoffWire.TryReadHello(_helloScratch.AsSpan(0, n), out var hello))
        {
            _pendingSlot = -1;
            PendingUpgrade = new UpgradeRequest(_loop.Detach(slot), hello, _pendingPid);
            return;
        }
        if (_log.On(1)) _log.Write(1, status == IoStatus.Done ? "not an upgrade Hello on the control socket: closed" : "upgrade request went away", fd);
        Drop(slot);
    }

    public void OnTimer(int slot, TimerList list)
    {
        if (_log.On(1)) _log.Write(1, "no upgrade Hello within " + HelloTimeoutMs + " ms: closed", _loop.FdOf(slot));
        Drop(slot);
    }

    private void Drop(int slot)
    {
        _pendingSlot = -1;
        _loop.Close(slot);
    }

    // ---- stopping and the restart seam ----

    public void OnStopping()
    {
    }

    public bool Busy => false;

    public void OnStopped() => CloseAll();

    public void Export(List<HeldDescriptor> into)
    {
        if (ListenerFd >= 0) into.Add(new HeldDescriptor(EndpointName, HeldRole.Listener, 0, ListenerFd));
    }

    public bool Adopt(in HeldDescriptor descriptor)
    {
        if (descriptor.Role == HeldRole.Listener && _listener < 0 && AddListener(descriptor.Fd)) return true;
        SocketIo.Close(descriptor.Fd);
        return false;
    }

    /// <summary>The new daemon holds the listener too: ours leaves the poller and closes.</summary>
    public void LetGo() => CloseAll();

    private void CloseAll()
    {
        if (_pendingSlot >= 0) Drop(_pendingSlot);
        if (PendingUpgrade is { } request) SocketIo.Close(request.Fd);
        PendingUpgrade = null;
        if (_listener >= 0) _loop.CloseListener(_listener);
    }

    public void Dispose() => CloseAll();
}
