// The -upgrade control socket as an endpoint of the loop, never waiting on it: the listener, and
// one slot (its quota) for the one connection asking: before its Hello, under a Hello deadline
// (closed then, on garbage, or on a stranger's uid); after a trusted peer's valid Hello, the
// handoff session's (Upgrade/HandoffSession), stepped on each readiness and on a short tick. So a
// flood of control connections costs the epmd clients one accept each. This endpoint is the
// session's host (IHandoffHost): on Go it freezes the other endpoints' listeners (the loop) and
// the registry's changes (IFreezable, the epmd endpoint), drains, lets the session take the state
// (ExportForHandoff, the daemon's), and thaws on any failure up to Commit. After Serving the
// daemon sees HandedOff, and after Commit Committed: it lets every endpoint go and exits.
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Poller;
using FastEpmd.Upgrade;

namespace FastEpmd.Endpoints.Control;

internal sealed class ControlEndpoint : IEndpoint, IRestartable, IHandoffHost, IDisposable
{
    public const string EndpointName = "control";
    public const int HelloTimeoutMs = 1000;

    /// <summary>How often a session's drain and step deadline are looked at.</summary>
    public const int SessionTickMs = 10;

    private const int AcceptsPerWake = 4;

    /// <summary>Connections at once: the one asking, or the session.</summary>
    private const int Quota = 1;

    private readonly EventLoop _loop;
    private readonly int _id;
    private readonly Log _log;
    private readonly IFreezable? _served;
    private readonly TimerList _hello;
    private readonly TimerList _tick;
    private readonly byte[] _helloScratch = new byte[HandoffWire.MaxHelloLength + 1];
    private int _listener = -1;
    private int _slot = -1;
    private int _pendingPid;
    private bool _watchRefused;

    /// <param name="served">What a handoff freezes beside the listeners (the epmd endpoint), or null.</param>
    public ControlEndpoint(EventLoop loop, Log log, IFreezable? served = null)
    {
        _loop = loop;
        _log = log;
        _served = served;
        _id = loop.Attach(this, Quota);
        _hello = loop.CreateTimer(_id, lane: 0, HelloTimeoutMs);
        _tick = loop.CreateTimer(_id, lane: 1, SessionTickMs);
    }

    public string Name => EndpointName;

    /// <summary>The handoff in progress, if any.</summary>
    public HandoffSession? Session { get; private set; }

    /// <summary>The state to hand over, taken by the daemon (it knows formats and descriptors' roles); null: no handoff.</summary>
    public Func<HandoffHello, HandoffPayload>? ExportForHandoff { get; set; }

    /// <summary>A session ended with the new process serving: let every endpoint go and exit.</summary>
    public bool HandedOff { get; private set; }

    /// <summary>Commit was sent: this daemon must not serve again (unless the session thaws it).</summary>
    public bool Committed => Session?.Step is HandoffStep.AwaitServing or HandoffStep.Yielded;

    /// <summary>The control listener's descriptor, or -1.</summary>
    public int ListenerFd => _loop.ListenerOpen(_listener) ? _loop.ListenerFd(_listener) : -1;

    /// <summary>Serves the control socket; false (logged by the loop) when the poller refused it.</summary>
    public bool AddListener(int fd)
    {
        _listener = _loop.AddListener(fd, _id, AcceptsPerWake);
        return _listener >= 0;
    }

    public void OnAccepted(int listener, int fd, in PeerAddress peer)
    {
        if (!UnixSocket.IsTrustedPeer(fd, out uint uid, out int pid))
        {
            if (_log.On(1)) _log.Write(1, $"upgrade request from uid {uid} (pid {pid}), neither root nor ours: closed", fd);
            SocketIo.Close(fd);
            return;
        }
        int slot = _slot < 0 ? _loop.Open(fd, _id) : -1;
        if (slot < 0)
        {
            if (_log.On(1)) _log.Write(1, $"upgrade request from pid {pid} while another is open: closed", fd);
            SocketIo.Close(fd);
            return;
        }
        _slot = slot;
        _pendingPid = pid;
        _loop.Arm(slot, _hello);
        if (!_loop.Watch(slot, PollInterest.Read))
        {
            Drop();
            return;
        }
        ReadHello(slot);
    }

    public void OnReady(int slot, PollFlags flags)
    {
        if (Session is not { } session)
        {
            ReadHello(slot);
            return;
        }
        session.OnReady((flags & (PollFlags.Read | PollFlags.Hangup | PollFlags.Error)) != 0, (flags & PollFlags.Write) != 0, _loop.NowMs);
        // A Go with nothing to drain (the usual case) takes the state now, not at the next tick.
        session.Advance(_loop.NowMs);
        FinishSession();
    }

    private void ReadHello(int slot)
    {
        int fd = _loop.FdOf(slot);
        var status = SocketIo.Receive(fd, _helloScratch, out int n, out _);
        if (status == IoStatus.WouldBlock) return;
        if (status == IoStatus.Done && HandoffWire.TryReadHello(_helloScratch.AsSpan(0, n), out var hello) && ExportForHandoff != null)
        {
            _loop.Disarm(slot, _hello);
            _watchRefused = false;
            Session = new HandoffSession(fd, hello, _pendingPid, this, _log, _loop.NowMs);
            if (_watchRefused) Session.Abort("", "cannot watch the control connection");
            _loop.Arm(slot, _tick);
            FinishSession();
            return;
        }
        if (_log.On(1)) _log.Write(1, status == IoStatus.Done ? "not an upgrade Hello on the control socket: closed" : "upgrade request went away", fd);
        Drop();
    }

    public void OnTimer(int slot, TimerList list)
    {
        if (Session is { } session)
        {
            session.Advance(_loop.NowMs);
            FinishSession();
            if (Session is { Over: false }) _loop.Arm(slot, _tick);
            return;
        }
        if (_log.On(1)) _log.Write(1, "no upgrade Hello within " + HelloTimeoutMs + " ms: closed", _loop.FdOf(slot));
        Drop();
    }

    /// <summary>An aborted session's connection is closed; a yielded one makes the daemon let go and exit.</summary>
    private void FinishSession()
    {
        if (Session is not { Over: true } session) return;
        if (session.Step == HandoffStep.Yielded)
        {
            HandedOff = true;
            return;
        }
        Session = null;
        Drop();
    }

    private void Drop()
    {
        if (_slot >= 0) _loop.Close(_slot);
        _slot = -1;
    }

    // ---- IHandoffHost: what a session asks of the loop ----

    void IHandoffHost.Freeze()
    {
        _loop.FreezeListeners(true, exceptEndpoint: _id);
        _served?.Freeze();
    }

    bool IHandoffHost.Drained => _served?.Drained ?? true;

    void IHandoffHost.CloseUndrained() => _served?.CloseUndrained();

    HandoffPayload IHandoffHost.Export(in HandoffHello hello) => ExportForHandoff!(hello);

    void IHandoffHost.Thaw()
    {
        _served?.Thaw();
        _loop.FreezeListeners(false, exceptEndpoint: _id);
    }

    void IHandoffHost.WatchControl(int fd, bool write)
    {
        if (_slot >= 0 && _loop.Watch(_slot, write ? PollInterest.Write : PollInterest.Read)) return;
        if (Session is { } session) session.Abort("", "cannot watch the control connection");
        else _watchRefused = true;
    }

    // ---- stopping and the restart seam ----

    /// <summary>At stop: a session not yet committed is refused (the daemon stops as it would have).</summary>
    public void OnStopping()
    {
        if (Session is { Over: false } session && !Committed) session.Abort("the running daemon is stopping", "the daemon is stopping");
        if (Session is { Over: true, Step: HandoffStep.Aborted }) FinishSession();
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

    /// <summary>The new daemon holds the listener too: ours leaves the poller and closes, with the session's connection.</summary>
    public void LetGo() => CloseAll();

    private void CloseAll()
    {
        Drop();
        if (_listener >= 0) _loop.CloseListener(_listener);
    }

    public void Dispose() => CloseAll();
}
