// The -upgrade control socket inside the loop, never waiting on it: the listener, at most one
// connection that has not said Hello yet (closed at its deadline, on garbage or on a stranger's
// uid), and at most one handoff session (Upgrade/HandoffSession), which the loop steps on each
// readiness and each turn. Asking costs epmd clients one accept; only a trusted peer's valid Hello
// starts a session, which freezes serving (the host side below) until it is over.
using FastEpmd.Interop;
using FastEpmd.Poller;
using FastEpmd.Upgrade;

namespace FastEpmd.Reactor;

internal sealed partial class EpmdReactor : IHandoffHost
{
    private const int ControlListenerIndex = 0;
    private const int ControlPendingIndex = 1;
    private const int ControlSessionIndex = 2;
    private const int ControlAcceptsPerWake = 4;
    public const int HelloTimeoutMs = 1000;

    private int _controlFd = -1;
    private int _controlPendingFd = -1;
    private int _controlPendingPid;
    private long _controlHelloDeadlineMs = long.MaxValue;
    private readonly byte[] _helloScratch = new byte[HandoffWire.MaxHelloLength + 1];
    private bool _sessionWatchingWrite;
    private bool _sessionInPoller;

    // Frozen for a handoff: listeners unwatched, and registrations whose socket stirred are taken
    // out of the poller (level-triggered, they would fire again at once) until Thaw.
    private bool _frozen;
    private readonly List<(int Slot, ulong Token)> _deferred = new();

    /// <summary>The handoff in progress, if any.</summary>
    public HandoffSession? Session { get; private set; }

    /// <summary>The state to hand over, taken by the daemon (it knows formats and descriptors' roles).</summary>
    public Func<HandoffHello, HandoffPayload>? ExportForHandoff { get; set; }

    /// <summary>A session ended with the new process serving: hand over (HandOver) and exit.</summary>
    public bool HandedOff { get; private set; }

    /// <summary>Commit was sent: this daemon must not serve again (unless the session thaws it).</summary>
    public bool Committed => Session?.Step is HandoffStep.AwaitServing or HandoffStep.Yielded;

    public int ControlFd => _controlFd;

    public void AddControlListener(int fd)
    {
        _poller.Add(fd, PollToken.Make(TokenKind.Control, ControlListenerIndex), PollInterest.Read);
        _controlFd = fd;
    }

    private void OnControlEvent(int index, PollFlags flags)
    {
        if (index == ControlSessionIndex)
        {
            if (Session is { } session)
            {
                session.OnReady((flags & (PollFlags.Read | PollFlags.Hangup | PollFlags.Error)) != 0, (flags & PollFlags.Write) != 0, _now);
                FinishSession();
            }
            return;
        }
        if (index == ControlPendingIndex)
        {
            ReadHello();
            return;
        }
        if (_controlFd < 0) return;
        for (int i = 0; i < ControlAcceptsPerWake; i++)
        {
            int fd = UnixSocket.Accept(_controlFd);
            if (fd < 0) return;   // EAGAIN, or an error the next readiness retries
            if (!UnixSocket.IsTrustedPeer(fd, out uint uid, out int pid))
            {
                if (_log.On(1)) _log.Write(1, $"upgrade request from uid {uid} (pid {pid}), neither root nor ours: closed", fd);
                SocketIo.Close(fd);
                continue;
            }
            if (_controlPendingFd >= 0 || Session is not null)
            {
                if (_log.On(1)) _log.Write(1, $"upgrade request from pid {pid} while another is open: closed", fd);
                SocketIo.Close(fd);
                continue;
            }
            _controlPendingFd = fd;
            _controlPendingPid = pid;
            _controlHelloDeadlineMs = _now + HelloTimeoutMs;
            _poller.Add(fd, PollToken.Make(TokenKind.Control, ControlPendingIndex), PollInterest.Read);
            ReadHello();
        }
    }

    private void ReadHello()
    {
        int fd = _controlPendingFd;
        if (fd < 0) return;
        var status = SocketIo.Receive(fd, _helloScratch, out int n, out _);
        if (status == IoStatus.WouldBlock) return;
        if (status == IoStatus.Done && HandoffWire.TryReadHello(_helloScratch.AsSpan(0, n), out var hello) && ExportForHandoff != null)
        {
            _poller.Remove(fd);
            int pid = _controlPendingPid;
            ForgetPendingControl();
            _sessionInPoller = false;
            Session = new HandoffSession(fd, hello, pid, this, _log, _now);
            FinishSession();
            return;
        }
        if (_log.On(1)) _log.Write(1, status == IoStatus.Done ? "not an upgrade Hello on the control socket: closed" : "upgrade request went away", fd);
        DropPendingControl();
    }

    /// <summary>Once a loop turn: the pending Hello's deadline, and the session's drain and deadline.</summary>
    private void ExpireControl()
    {
        if (_controlPendingFd >= 0 && _now >= _controlHelloDeadlineMs)
        {
            if (_log.On(1)) _log.Write(1, "no upgrade Hello within " + HelloTimeoutMs + " ms: closed", _controlPendingFd);
            DropPendingControl();
        }
        if (Session is { } session)
        {
            session.Advance(_now);
            FinishSession();
        }
    }

    private long NextControlDeadline()
    {
        long next = _controlHelloDeadlineMs;
        // Draining is checked every turn; a short wait keeps it prompt without a timer per connection.
        if (Session is { Over: false } session)
            next = Math.Min(next, session.Step == HandoffStep.Draining ? _now + 5 : session.DeadlineMs);
        return next;
    }

    /// <summary>An aborted session's connection is closed; a yielded one makes the daemon hand over.</summary>
    private void FinishSession()
    {
        if (Session is not { Over: true } session) return;
        if (session.Step == HandoffStep.Yielded)
        {
            HandedOff = true;
            return;
        }
        if (_sessionInPoller) _poller.Remove(session.Fd);
        _sessionInPoller = false;
        SocketIo.Close(session.Fd);
        Session = null;
    }

    /// <summary>At stop: a session not yet committed is refused (the daemon stops as it would have).</summary>
    private void EndSessionAtStop()
    {
        if (Session is { Over: false } session && !Committed) session.Abort("the running daemon is stopping", "the daemon is stopping");
        FinishSession();
    }

    private void DropPendingControl()
    {
        _poller.Remove(_controlPendingFd);
        SocketIo.Close(_controlPendingFd);
        ForgetPendingControl();
    }

    private void ForgetPendingControl()
    {
        _controlPendingFd = -1;
        _controlHelloDeadlineMs = long.MaxValue;
    }

    private void CloseControl()
    {
        if (_controlPendingFd >= 0) DropPendingControl();
        if (Session is { } session)
        {
            if (_sessionInPoller) _poller.Remove(session.Fd);
            SocketIo.Close(session.Fd);
            Session = null;
            _sessionInPoller = false;
        }
        if (_controlFd >= 0)
        {
            _poller.Remove(_controlFd);   // after a handoff the new daemon holds it too
            SocketIo.Close(_controlFd);
        }
        _controlFd = -1;
    }

    // IHandoffHost: what a session asks of the loop.

    void IHandoffHost.Freeze()
    {
        _frozen = true;
        for (int i = 0; i < _listeners.Count; i++)
        {
            if (_listeners[i].Fd >= 0) _poller.Modify(_listeners[i].Fd, PollToken.Make(TokenKind.Listener, i), PollInterest.None);
        }
    }

    bool IHandoffHost.Drained
    {
        get
        {
            foreach (int slot in _table.UsedSlots())
            {
                if (_table[slot].State is ConnectionState.Reading or ConnectionState.Writing) return false;
            }
            return true;
        }
    }

    void IHandoffHost.CloseUndrained()
    {
        foreach (int slot in _table.UsedSlots())
        {
            if (_table[slot].State is not (ConnectionState.Reading or ConnectionState.Writing)) continue;
            if (_log.On(1)) _log.Write(1, "closing an unfinished request for the handoff", _table[slot].Fd);
            CloseConnection(slot);
        }
    }

    HandoffPayload IHandoffHost.Export(in HandoffHello hello) => ExportForHandoff!(hello);

    void IHandoffHost.Thaw()
    {
        _frozen = false;
        foreach (var (slot, token) in _deferred)
        {
            if (_table.Resolve(token) == slot) Watch(slot, PollInterest.Read);
        }
        _deferred.Clear();
        for (int i = 0; i < _listeners.Count; i++)
        {
            if (_listeners[i].Fd >= 0 && !_backoffs[i].Paused && _listenersPausedUntil < 0)
                _poller.Modify(_listeners[i].Fd, PollToken.Make(TokenKind.Listener, i), PollInterest.Read);
        }
    }

    void IHandoffHost.WatchControl(int fd, bool write)
    {
        var interest = write ? PollInterest.Write : PollInterest.Read;
        if (!TryWatch(fd, PollToken.Make(TokenKind.Control, ControlSessionIndex), interest, ref _sessionInPoller, ref _sessionWatchingWrite)
            && Session is { } session)
            session.Abort("", "cannot watch the control connection");
    }

    /// <summary>Frozen: a registration's socket that stirs waits, out of the poller, until Thaw (or the handover).</summary>
    private void Defer(int slot)
    {
        ref var c = ref _table[slot];
        if (c.InPoller) _poller.Remove(c.Fd);
        c.InPoller = false;
        _deferred.Add((slot, _table.TokenOf(slot)));
    }
}
