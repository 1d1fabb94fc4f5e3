// The loop: one thread, one poller, no protocol (redis aeProcessEvents, libuv uv_run(UV_RUN_ONCE)).
// It owns descriptors, readiness, timers, listeners and the one connection table; endpoints own
// protocols and get each event through IEndpoint. RunOnce waits, dispatches by the token's kind,
// expires timers and resumes paused listeners; stopping and a handoff's drain step the same RunOnce.
// Close is two steps everywhere: out of the poller, then close(2). An epoll registration belongs to
// the open file, so a copy held by another process would otherwise keep reporting a dead token.
// Every poller call goes through GuardedPoller: a refusal is logged, the connection is closed or the
// listener retried by a timer, and the loop serves on; a descriptor the poller will not let go of
// stays open until it does.
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Poller;
using static Tmds.Linux.LibC;

namespace FastEpmd.Loop;

internal sealed unsafe class EventLoop : IDisposable
{
    /// <summary>Out of descriptors with no spare to give up: every listener rests this long.</summary>
    private const int ListenerPauseMs = 100;

    /// <summary>accept4 attempts per readiness while the kernel answers an error worth retrying at once.</summary>
    private const int AcceptRetries = 4;

    /// <summary>At most this many queued connections are shed per exhaustion.</summary>
    private const int ShedLimit = 4096;

    private sealed class ListenerEntry
    {
        public int Fd;
        public int Endpoint;
        public int Batch;
        public bool InPoller;
        public PollInterest Interest;
        public readonly ListenerBackoff Backoff = new();
    }

    private readonly GuardedPoller _poller;
    private readonly ConnectionTable _table;
    private readonly Log _log;
    private readonly Func<long> _clockMs;
    private readonly PollEvent[] _events = new PollEvent[256];
    private readonly List<IEndpoint> _endpoints = new();
    private readonly List<ListenerEntry> _listeners = new();
    private int _spareFd;
    private long _now;
    private long _listenersPausedUntil = -1;
    private int _frozenExcept = -1;   // FreezeListeners: the one endpoint whose listeners are watched
    private bool _stopRequested;
    private bool _draining;

    /// <summary>What the loop itself has done, as plain fields: read them, never write them from outside.</summary>
    public LoopCounters Counters;

    public EventLoop(IPoller poller, ConnectionTable table, Log log, Func<long>? clockMs = null)
    {
        _poller = new GuardedPoller(poller, log);
        _table = table;
        _log = log;
        _clockMs = clockMs ?? (static () => Environment.TickCount64);
        _now = _clockMs();
        // Start-up: without its waker the loop could not be stopped, so this one may throw.
        poller.AddWaker(LoopToken.Waker);
        _spareFd = Listener.OpenSpare();
    }

    public ConnectionTable Table => _table;
    public long NowMs => _now;
    public Log Log => _log;
    public bool StopRequested => _stopRequested;

    /// <summary>Run after each wait (OTP's -delay_accept is the daemon's only user).</summary>
    public Action? AfterWait { get; init; }

    /// <summary>accept4 on a listener: the new descriptor or -errno (Listener.Accept; a test passes a failing one).</summary>
    public AcceptFunction Accept { get; init; } = Listener.Accept;

    /// <summary>The daemon's exit code once the loop stops: 1 when a listener turned out not to be one (OTP).</summary>
    public int ExitCode { get; private set; }

    /// <summary>An endpoint joins the loop; its id (for Open, AddListener and timers). quota: most slots it may hold, 0 for all.</summary>
    public int Attach(IEndpoint endpoint, int quota = 0)
    {
        if (_endpoints.Count == ConnectionTable.MaxEndpoints) throw new InvalidOperationException("too many endpoints");
        _endpoints.Add(endpoint);
        _table.SetQuota(_endpoints.Count - 1, quota);
        return _endpoints.Count - 1;
    }

    /// <summary>Asks the loop to stop; safe from any thread (signal handlers use it).</summary>
    public void RequestStop()
    {
        _poller.Inner.Wake();
    }

    /// <summary>Stops from the loop thread (STOP_REQ, a broken listener) with this exit code.</summary>
    public void Stop(int exitCode = 0)
    {
        if (exitCode != 0) ExitCode = exitCode;
        _stopRequested = true;
    }

    /// <summary>Waits for events (at most timeoutMs, -1: until the next deadline) and handles them.</summary>
    public int RunOnce(int timeoutMs = -1)
    {
        int n = _poller.Inner.Wait(_events, NextTimeout(timeoutMs));
        AfterWait?.Invoke();
        _now = _clockMs();
        // A stop asked for mid-batch leaves the rest to the drain, which dispatches everything.
        for (int i = 0; i < n && (_draining || !_stopRequested); i++) Dispatch(in _events[i]);
        _poller.RetryPending();
        ExpireTimers();
        ResumeListeners();
        return n;
    }

    private void Dispatch(in PollEvent ev)
    {
        switch (LoopToken.KindOf(ev.Token))
        {
            case TokenKind.Connection:
                // A slot closed and reused within this batch keeps its old token: drop the stale event.
                int slot = _table.Resolve(ev.Token);
                if (slot >= 0) _endpoints[_table[slot].Endpoint].OnReady(slot, ev.Flags);
                break;
            case TokenKind.Listener:
                int index = LoopToken.IndexOf(ev.Token);
                if ((uint)index < (uint)_listeners.Count && _listeners[index].Fd >= 0) AcceptFrom(index);
                break;
            case TokenKind.Waker:   // the poller consumed the wake-up
                _stopRequested = true;
                break;
        }
    }

    /// <summary>
    /// Stops: each endpoint stops accepting and drops what need not finish, the loop runs while any
    /// is busy and at most budgetMs (the one drain: stopping and a handoff use it), then each closes
    /// what is left.
    /// </summary>
    public void Shutdown(int budgetMs)
    {
        _stopRequested = true;
        foreach (var endpoint in _endpoints) endpoint.OnStopping();
        long until = _clockMs() + budgetMs;
        _draining = true;
        while (AnyBusy() && _clockMs() < until) RunOnce((int)Math.Max(1, until - _clockMs()));
        _draining = false;
        foreach (var endpoint in _endpoints) endpoint.OnStopped();
    }

    private bool AnyBusy()
    {
        foreach (var endpoint in _endpoints)
        {
            if (endpoint.Busy) return true;
        }
        return false;
    }

    // ---- connections ----

    /// <summary>A slot for the endpoint's fd (not yet watched), or -1 when the table or its quota is full.</summary>
    public int Open(int fd, int endpoint) => _table.Allocate(fd, endpoint);

    public int FdOf(int slot) => _table[slot].Fd;

    public ulong TokenOf(int slot) => _table.TokenOf(slot);

    /// <summary>The live slot a token names, or -1.</summary>
    public int Resolve(ulong token) => _table.Resolve(token);

    /// <summary>Watches the slot for interest (nothing when unchanged); false, logged, when the poller refuses: close it then.</summary>
    public bool Watch(int slot, PollInterest interest)
    {
        ref var c = ref _table[slot];
        if (c.InPoller && c.Interest == interest) return true;
        if (!_poller.Watch(c.Fd, _table.TokenOf(slot), c.InPoller, interest, "fd ")) return false;
        c.InPoller = true;
        c.Interest = interest;
        return true;
    }

    /// <summary>
    /// Out of the poller, then closed, then the slot is free. finish: a whole reply was written with
    /// MSG_MORE and goes out with the FIN (SocketIo.ShutdownWrite).
    /// </summary>
    public void Close(int slot, bool finish = false)
    {
        bool released = Release(slot);
        int fd = _table[slot].Fd;
        _table.Free(slot);
        if (finish) SocketIo.ShutdownWrite(fd);
        _poller.Close(fd, released);
    }

    /// <summary>Out of the poller and the table, still open: the caller owns fd now.</summary>
    public int Detach(int slot)
    {
        int fd = Unwatch(slot);
        _table.Free(slot);
        return fd;
    }

    /// <summary>Out of the poller, still the endpoint's (a registration held during a handoff's freeze); Watch puts it back.</summary>
    public int Unwatch(int slot)
    {
        Release(slot);
        return _table[slot].Fd;
    }

    /// <summary>The slot's fd out of the poller; false (logged) when the poller refused to let go of it.</summary>
    private bool Release(int slot)
    {
        ref var c = ref _table[slot];
        bool released = !c.InPoller || _poller.Leave(c.Fd, "fd ");
        c.InPoller = false;
        return released;
    }

    // ---- timers ----

    public TimerList CreateTimer(int endpoint, int lane, long timeoutMs) => _table.CreateTimer(endpoint, lane, timeoutMs);

    /// <summary>(Re)starts the slot's timer on list: its deadline is now + the list's timeout.</summary>
    public void Arm(int slot, TimerList list) => _table.Append(slot, list, _now + list.TimeoutMs);

    public void Disarm(int slot, TimerList list)
    {
        if (_table.Link(slot, list.Lane).List == list.Id + 1) _table.Unlink(slot, list.Lane);
    }

    public bool Armed(int slot, TimerList list) => _table.Link(slot, list.Lane).List == list.Id + 1;

    public long DeadlineOf(int slot, TimerList list) => _table.Link(slot, list.Lane).DeadlineMs;

    /// <summary>Reads the clock again (a long accept batch makes the loop's time stale).</summary>
    public void RefreshClock() => _now = _clockMs();

    private void ExpireTimers()
    {
        foreach (var list in _table.Timers)
        {
            int slot;
            while ((slot = list.Head) >= 0 && _table.Link(slot, list.Lane).DeadlineMs <= _now)
            {
                _endpoints[list.Endpoint].OnTimer(slot, list);
                // A handler that neither closed nor re-armed must not expire the same slot forever.
                if (list.Head == slot && _table.Link(slot, list.Lane).DeadlineMs <= _now) _table.Unlink(slot, list.Lane);
            }
        }
    }

    private int NextTimeout(int requested)
    {
        long now = _clockMs();
        long next = _listenersPausedUntil >= 0 ? _listenersPausedUntil : long.MaxValue;
        foreach (var list in _table.Timers)
        {
            if (list.Head >= 0) next = Math.Min(next, _table.Link(list.Head, list.Lane).DeadlineMs);
        }
        foreach (var l in _listeners)
        {
            if (l.Backoff.Paused) next = Math.Min(next, l.Backoff.ResumeAtMs);
        }
        if (_poller.PendingCount > 0) next = Math.Min(next, now + PendingCloses.RetryMs);
        long wait = next == long.MaxValue ? -1 : Math.Max(0, next - now);
        if (requested >= 0 && (wait < 0 || wait > requested)) wait = requested;
        return (int)Math.Min(wait, int.MaxValue);
    }

    // ---- listeners ----

    /// <summary>
    /// Serves a listening socket for the endpoint: up to batch accepts per readiness (it is
    /// level-triggered, so the next wait reports it again while more are queued, and a storm is
    /// served in turn with everything else). The listener's id, or -1 (logged) when the poller refused it.
    /// </summary>
    public int AddListener(int fd, int endpoint, int batch = 1)
    {
        var entry = new ListenerEntry { Fd = fd, Endpoint = endpoint, Batch = Math.Max(1, batch) };
        _listeners.Add(entry);
        if (SetListenerInterest(_listeners.Count - 1, PollInterest.Read)) return _listeners.Count - 1;
        entry.Fd = -1;
        return -1;
    }

    public int ListenerFd(int index) => _listeners[index].Fd;

    public bool ListenerOpen(int index) => index >= 0 && _listeners[index].Fd >= 0;

    /// <summary>Out of the poller and closed; its id stays taken so the others keep their tokens.</summary>
    public void CloseListener(int index)
    {
        var l = _listeners[index];
        if (l.Fd < 0) return;
        bool released = !l.InPoller || _poller.Leave(l.Fd, "listener fd ");
        l.InPoller = false;
        _poller.Close(DetachListener(index), released);
    }

    /// <summary>Out of the poller, still open: the caller owns fd now; -1 when it was closed already.</summary>
    public int DetachListener(int index)
    {
        var l = _listeners[index];
        int fd = l.Fd;
        if (fd < 0) return -1;
        if (l.InPoller) _poller.Leave(fd, "listener fd ");
        l.InPoller = false;
        l.Fd = -1;
        return fd;
    }

    private void AcceptFrom(int index)
    {
        // A long batch can make the loop's clock stale; deadlines count from the real accept.
        _now = _clockMs();
        var l = _listeners[index];
        for (int n = 0; n < l.Batch && !_stopRequested && l.Fd >= 0; n++)
        {
            if (!AcceptOne(index, l)) return;
        }
    }

    /// <summary>
    /// One accept4 (retried at once while the error is worth it), handed to the endpoint. False when
    /// the batch ends here: the queue is empty, or the error was handled by its class.
    /// </summary>
    private bool AcceptOne(int index, ListenerEntry l)
    {
        int errno = 0;
        var kind = AcceptErrorKind.QueueEmpty;
        for (int attempt = 0; attempt < AcceptRetries; attempt++)
        {
            int fd = Accept(l.Fd, out var peer);
            if (fd >= 0)
            {
                l.Backoff.Succeeded();
                _endpoints[l.Endpoint].OnAccepted(index, fd, in peer);
                return true;
            }
            errno = -fd;
            kind = AcceptError.Classify(errno);
            if (!AcceptError.RetryAtOnce(kind)) break;
        }
        switch (kind)
        {
            case AcceptErrorKind.QueueEmpty:
            case AcceptErrorKind.Interrupted:
                break;
            case AcceptErrorKind.OutOfResources:
                if (!ShedWithoutDescriptors(l.Fd, errno)) PauseListener(index, errno);
                break;
            case AcceptErrorKind.NotAListener:
                // OTP's line and exit code: this descriptor will never accept anything.
                if (_log.On(0)) _log.Write(0, "error in accept: " + Errno.Describe(errno));
                Stop(exitCode: 1);
                break;
            default:
                PauseListener(index, errno);
                break;
        }
        return false;
    }

    /// <summary>
    /// OTP exits here and every registration on the host is lost. We give up the spare descriptor,
    /// accept and close what is queued (so the listener stops being readable and the loop does not
    /// spin), then take the spare back; without a spare every listener rests briefly. False when not
    /// even one connection could be shed: the spare does not cure this error (a lasting ENOMEM, say),
    /// so the caller backs the listener off instead.
    /// </summary>
    private bool ShedWithoutDescriptors(int listenFd, int errno)
    {
        int shed = 0;
        if (_spareFd >= 0)
        {
            SocketIo.Close(_spareFd);
            _spareFd = -1;
            for (; shed < ShedLimit; shed++)
            {
                int fd = Accept(listenFd, out _);
                if (fd < 0) break;
                SocketIo.Close(fd);
                Counters.DroppedForNoDescriptors++;
            }
            _spareFd = Listener.OpenSpare();
            if (shed == 0 && _spareFd >= 0) return false;
        }
        if (_log.On(0)) _log.Write(0, "accept: " + Errno.Describe(errno) + "; shed " + shed + " queued connections");
        if (_spareFd < 0)
        {
            _listenersPausedUntil = _now + ListenerPauseMs;
            for (int i = 0; i < _listeners.Count; i++) SetListenerInterest(i, PollInterest.None);
        }
        return true;
    }

    /// <summary>
    /// A persistent accept error: the level-triggered listener would report it again at once, so it
    /// is not watched until its backoff ends. One log line a second at most, with the count.
    /// </summary>
    private void PauseListener(int index, int errno)
    {
        var l = _listeners[index];
        if (l.Backoff.Fail(_now, out int failures) && _log.On(0))
        {
            _log.Write(0, "error in accept: " + Errno.Describe(errno) + "; listener fd " + l.Fd
                + " paused for " + (l.Backoff.ResumeAtMs - _now) + " ms (" + failures + (failures == 1 ? " failure" : " failures")
                + " since the last such line)");
        }
        SetListenerInterest(index, PollInterest.None);
    }

    /// <summary>
    /// A handoff's freeze: every listener but one endpoint's stops being watched (frozen) or is
    /// watched again unless a backoff holds it; a refused epoll_ctl is handled as any pause or resume.
    /// </summary>
    public void FreezeListeners(bool frozen, int exceptEndpoint)
    {
        _frozenExcept = frozen ? exceptEndpoint : -1;
        for (int i = 0; i < _listeners.Count; i++)
        {
            var l = _listeners[i];
            if (l.Endpoint == exceptEndpoint || l.Fd < 0) continue;
            if (frozen) SetListenerInterest(i, PollInterest.None);
            else if (!l.Backoff.Paused && _listenersPausedUntil < 0 && !SetListenerInterest(i, PollInterest.Read)) l.Backoff.Fail(_now, out _);
        }
    }

    /// <summary>Watches again each listener whose pause is over (all of them, or its own backoff), unless frozen.</summary>
    private void ResumeListeners()
    {
        bool allResume = _listenersPausedUntil >= 0 && _now >= _listenersPausedUntil;
        if (allResume)
        {
            _listenersPausedUntil = -1;
            if (_spareFd < 0) _spareFd = Listener.OpenSpare();
        }
        for (int i = 0; i < _listeners.Count; i++)
        {
            var l = _listeners[i];
            if (_frozenExcept >= 0 && l.Endpoint != _frozenExcept) continue;
            bool resumes = l.Backoff.TryResume(_now) || allResume;
            if (resumes && !l.Backoff.Paused && _listenersPausedUntil < 0 && l.Fd >= 0 && !SetListenerInterest(i, PollInterest.Read))
            {
                // The poller refused: try again after a backoff step rather than never.
                l.Backoff.Fail(_now, out _);
            }
        }
    }

    /// <summary>
    /// Pauses (None) or resumes (Read) a listener. A refused pause takes it out of the poller
    /// instead, so a failing accept cannot spin; a refused resume leaves it paused. False when the
    /// listener is not watched as asked.
    /// </summary>
    private bool SetListenerInterest(int index, PollInterest interest)
    {
        var l = _listeners[index];
        if (l.Fd < 0) return true;
        if (l.InPoller && l.Interest == interest) return true;
        if (_poller.Watch(l.Fd, LoopToken.ForListener(index), l.InPoller, interest, "listener fd "))
        {
            l.InPoller = true;
            l.Interest = interest;
            return true;
        }
        if (interest == PollInterest.None && l.InPoller) l.InPoller = !_poller.Leave(l.Fd, "listener fd ");
        return false;
    }

    /// <summary>Poller calls refused so far (each closed a connection, delayed a listener or a close).</summary>
    public long PollerRefusals => _poller.Refusals;

    public void Dispose()
    {
        for (int i = 0; i < _listeners.Count; i++) CloseListener(i);
        for (int slot = 0; slot < _table.HighWater; slot++)
        {
            if (_table[slot].InUse) Close(slot);
        }
        _poller.CloseAll();
        if (_spareFd >= 0) SocketIo.Close(_spareFd);
    }
}

internal delegate int AcceptFunction(int listenFd, out PeerAddress peer);
