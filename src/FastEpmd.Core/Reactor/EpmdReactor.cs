// The loop: one thread, one poller. Bytes in, frame, decision, reply bytes out, and the close of
// a registration's socket as its deregistration, all here. RunOnce is the unit the daemon loops
// and tests step (redis aeProcessEvents, libuv uv_run(UV_RUN_ONCE)).
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Poller;
using FastEpmd.Registry;
using FastEpmd.Service;
using FastEpmd.Wire;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Reactor;

internal sealed unsafe class EpmdReactor : IRegistrationOwners, IDisposable
{
    /// <summary>accept4 attempts per readiness when the kernel answers EINTR or ECONNABORTED.</summary>
    private const int AcceptRetries = 4;
    private const int WakeId = 0xFFFF;
    private const int ListenerPauseMs = 100;
    private static readonly byte[] s_deadlineLists = { DeadlineList.Requests, DeadlineList.Refused };

    private readonly EpmdOptions _options;
    private readonly EpmdService _service;
    private readonly NodeRegistry _registry;
    private readonly IPoller _poller;
    private readonly ConnectionTable _table;
    private readonly Log _log;
    private readonly Func<long> _clockMs;
    private readonly List<int> _listeners = new();
    private readonly PollEvent[] _events = new PollEvent[256];
    private readonly byte[] _readScratch = new byte[Limits.MaxFirstRead];
    private readonly byte[] _replyScratch = new byte[Limits.MaxSmallReply];
    private readonly long _requestTimeoutMs;
    private readonly long _refusedTimeoutMs;
    private readonly int _wakeFd;
    private int _spareFd;
    private long _listenersPausedUntil = -1;
    private long _now;
    private volatile bool _stopRequested;

    public EpmdReactor(EpmdOptions options, EpmdService service, IPoller poller, ConnectionTable table, Log log,
        Func<long>? clockMs = null)
    {
        _options = options;
        _service = service;
        _registry = service.Registry;
        _poller = poller;
        _table = table;
        _log = log;
        _clockMs = clockMs ?? (static () => Environment.TickCount64);
        _refusedTimeoutMs = Math.Max(1, options.PacketTimeoutSeconds) * 1000L;
        _requestTimeoutMs = options.RequestDeadlineMs > 0
            ? Math.Min(options.RequestDeadlineMs, _refusedTimeoutMs)
            : _refusedTimeoutMs;
        _now = _clockMs();
        service.Owners = this;

        _wakeFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (_wakeFd < 0) throw new ErrnoException("eventfd", Errno.Last);
        _poller.Add(_wakeFd, ConnectionTable.Token(WakeId, 0), PollInterest.Read);
        _spareFd = Listener.OpenSpare();
    }

    public bool StopRequested => _stopRequested;
    public ConnectionTable Table => _table;
    public long DroppedForFullTable { get; private set; }
    public long DroppedForNoDescriptors { get; private set; }
    public long Timeouts { get; private set; }

    public void AddListener(int fd)
    {
        _poller.Add(fd, ConnectionTable.Token(_listeners.Count, 0), PollInterest.Read);
        _listeners.Add(fd);
    }

    /// <summary>Asks the loop to stop; safe from any thread (signal handlers use it).</summary>
    public void RequestStop()
    {
        ulong one = 1;
        write(_wakeFd, &one, sizeof(ulong));
    }

    /// <summary>Waits for events (at most timeoutMs, -1: until the next deadline) and handles them.</summary>
    public int RunOnce(int timeoutMs = -1)
    {
        int n = _poller.Wait(_events, NextTimeout(timeoutMs));
        if (_options.DelayAcceptSeconds > 0) Thread.Sleep(_options.DelayAcceptSeconds * 1000);
        _now = _clockMs();
        for (int i = 0; i < n && !_stopRequested; i++) Dispatch(in _events[i]);
        ExpireDeadlines();
        ResumeListeners();
        return n;
    }

    private int NextTimeout(int requested)
    {
        long now = _clockMs();
        long next = long.MaxValue;
        foreach (byte list in s_deadlineLists)
        {
            int head = _table.Head(list);
            if (head >= 0) next = Math.Min(next, _table[head].DeadlineMs);
        }
        if (_listenersPausedUntil >= 0) next = Math.Min(next, _listenersPausedUntil);
        long wait = next == long.MaxValue ? -1 : Math.Max(0, next - now);
        if (requested >= 0 && (wait < 0 || wait > requested)) wait = requested;
        return (int)Math.Min(wait, int.MaxValue);
    }

    private void Dispatch(in PollEvent ev)
    {
        if (ConnectionTable.GenerationOf(ev.Token) == 0)
        {
            int id = ConnectionTable.SlotOf(ev.Token);
            if (id == WakeId)
            {
                ulong value;
                read(_wakeFd, &value, sizeof(ulong));
                _stopRequested = true;
            }
            else
            {
                AcceptFrom(id);
            }
            return;
        }

        // A slot closed and reused within this batch keeps its old token: drop the stale event.
        int slot = _table.Resolve(ev.Token);
        if (slot < 0) return;
        switch (_table[slot].State)
        {
            case ConnectionState.Reading:
                OnReadable(slot);
                break;
            case ConnectionState.Writing:
                Write(slot, fromScratch: false);
                break;
            case ConnectionState.Registered:
            case ConnectionState.RefusedAlive:
                // Any byte, a FIN (even a half-close) or an error ends an ALIVE connection (OTP).
                if (_log.On(1)) _log.Write(1, "ALIVE connection closed or sent data, fd = " + _table[slot].Fd);
                CloseConnection(slot);
                break;
        }
    }

    /// <summary>
    /// Up to -accept_batch connections per readiness (default one, as OTP): the listener is
    /// level-triggered, so the next wait reports it again while more are queued, and a storm is served
    /// in turn with everything else. A batch stops at EAGAIN, and that failing accept4 is the price:
    /// Linux allocates the new socket and file before it finds the queue empty, about 4 us here.
    /// </summary>
    private void AcceptFrom(int listener)
    {
        int listenFd = _listeners[listener];
        // A long batch can make the loop's clock stale; deadlines count from the real accept.
        _now = _clockMs();
        for (int n = 0; n < _options.AcceptBatch && !_stopRequested; n++)
        {
            int errno = AcceptOne(listenFd);
            if (errno == 0) continue;
            if (Errno.IsWouldBlock(errno) || errno == Errno.EINTR || errno == Errno.ECONNABORTED) return;
            if (Errno.IsOutOfDescriptors(errno))
            {
                ShedWithoutDescriptors(listenFd, errno);
                return;
            }
            if (_log.On(0)) _log.Write(0, "error in accept: " + Errno.Describe(errno));
            return;
        }
    }

    /// <summary>One accept4 (retried on EINTR/ECONNABORTED) and the new connection served: 0, or the errno.</summary>
    private int AcceptOne(int listenFd)
    {
        int errno = 0;
        for (int attempt = 0; attempt < AcceptRetries; attempt++)
        {
            int fd = Listener.Accept(listenFd, out bool isLocal);
            if (fd >= 0)
            {
                Accepted(fd, isLocal);
                return 0;
            }
            errno = -fd;
            if (errno != Errno.EINTR && errno != Errno.ECONNABORTED) break;
        }
        return errno;
    }

    private void Accepted(int fd, bool isLocal)
    {
        int slot = _table.Allocate(fd, _now);
        if (slot < 0 && EvictOldest()) slot = _table.Allocate(fd, _now);
        if (slot < 0)
        {
            // Every slot holds a registration: the newcomer is the one refused, never a node.
            DroppedForFullTable++;
            if (_log.On(1)) _log.Write(1, "connection table full of registrations, closing new fd " + fd);
            SocketIo.Close(fd);
            return;
        }
        ref var c = ref _table[slot];
        c.IsLocal = isLocal;
        _table.Append(slot, DeadlineList.Requests, _now + _requestTimeoutMs);
        if (_log.On(2)) _log.Write(2, (isLocal ? "Local" : "Non-local") + " peer connected, fd = " + fd);
        // With TCP_DEFER_ACCEPT (the default) the request is already in: read now, no poller round trip.
        OnReadable(slot);
    }

    /// <summary>
    /// EMFILE/ENFILE: OTP exits here and every registration on the host is lost. We give up the
    /// spare descriptor, accept and close what is queued (so the listener stops being readable and
    /// the loop does not spin), then take the spare back. Without a spare the listeners pause briefly.
    /// </summary>
    private void ShedWithoutDescriptors(int listenFd, int errno)
    {
        if (_log.On(0)) _log.Write(0, "accept: " + Errno.Describe(errno) + "; shedding queued connections");
        if (_spareFd >= 0)
        {
            SocketIo.Close(_spareFd);
            _spareFd = -1;
            for (int i = 0; i < 4096; i++)
            {
                int fd = Listener.Accept(listenFd, out _);
                if (fd < 0) break;
                SocketIo.Close(fd);
                DroppedForNoDescriptors++;
            }
            _spareFd = Listener.OpenSpare();
        }
        if (_spareFd < 0) PauseListeners();
    }

    private void PauseListeners()
    {
        foreach (int fd in _listeners) _poller.Modify(fd, 0, PollInterest.None);
        _listenersPausedUntil = _now + ListenerPauseMs;
    }

    private void ResumeListeners()
    {
        if (_listenersPausedUntil < 0 || _now < _listenersPausedUntil) return;
        _listenersPausedUntil = -1;
        if (_spareFd < 0) _spareFd = Listener.OpenSpare();
        for (int i = 0; i < _listeners.Count; i++)
            _poller.Modify(_listeners[i], ConnectionTable.Token(i, 0), PollInterest.Read);
    }

    /// <summary>Table full: close the oldest connection that is not a registration.</summary>
    private bool EvictOldest()
    {
        int a = _table.Head(DeadlineList.Requests);
        int b = _table.Head(DeadlineList.Refused);
        int victim = a < 0 ? b : b < 0 ? a : (_table[a].StartMs <= _table[b].StartMs ? a : b);
        if (victim < 0) return false;
        DroppedForFullTable++;
        if (_log.On(1)) _log.Write(1, "connection table full, closing oldest idle fd " + _table[victim].Fd);
        CloseConnection(victim);
        return true;
    }

    /// <summary>Reads what OTP would read: greedily until the header is known, then exactly the rest.</summary>
    private void OnReadable(int slot)
    {
        ref var c = ref _table[slot];
        while (true)
        {
            Span<byte> destination = c.InCount == 0
                ? _readScratch
                : _table.Input(slot).Slice(c.InCount, Frame.NextReadSize(_table.Input(slot)[..c.InCount]));
            var status = SocketIo.Receive(c.Fd, destination, out int n, out int errno);
            if (status == IoStatus.WouldBlock)
            {
                Watch(slot, PollInterest.Read);
                return;
            }
            if (status != IoStatus.Done)
            {
                if (_log.On(1))
                    _log.Write(1, status == IoStatus.PeerClosed
                        ? "got partial packet only on fd " + c.Fd
                        : "error in read, fd " + c.Fd + ": " + Errno.Describe(errno));
                CloseConnection(slot);
                return;
            }

            // Fast path: a whole request in one read is parsed from the shared scratch buffer;
            // only split requests touch the slot's own buffer.
            ReadOnlySpan<byte> buffered;
            if (c.InCount == 0)
            {
                buffered = _readScratch.AsSpan(0, n);
            }
            else
            {
                c.InCount += n;
                buffered = _table.Input(slot)[..c.InCount];
            }
            switch (Frame.TryRead(buffered, out var request))
            {
                case FrameStatus.Complete:
                    Process(slot, request);
                    return;
                case FrameStatus.Invalid:
                    if (_log.On(1)) _log.Write(1, "bad request length or trailing bytes, closing fd " + c.Fd);
                    CloseConnection(slot);
                    return;
                default:
                    if (c.InCount == 0)
                    {
                        buffered.CopyTo(_table.Input(slot));
                        c.InCount = n;
                    }
                    break;
            }
        }
    }

    private void Process(int slot, ReadOnlySpan<byte> request)
    {
        ref var c = ref _table[slot];
        ulong token = _table.TokenOf(slot);
        var decision = _service.Handle(request, c.IsLocal, token, c.Fd, _replyScratch);
        c.InCount = 0;
        c.After = decision.After;
        if (decision.After == AfterReply.KeepRegistration) c.Record = decision.Record;
        if (decision.CloseOwner != 0) Drop(decision.CloseOwner);

        if (decision.ReplyLength == 0 && decision.Snapshot is null)
        {
            CloseConnection(slot);
            return;
        }
        if (_options.DelayWriteSeconds > 0) Thread.Sleep(_options.DelayWriteSeconds * 1000);
        c.OutOffset = 0;
        if (decision.Snapshot is { } snapshot)
        {
            _table.Snapshot(slot) = snapshot;
            c.OutLength = snapshot.Length;
            Write(slot, fromScratch: false);
        }
        else
        {
            c.OutLength = decision.ReplyLength;
            Write(slot, fromScratch: true);
        }
    }

    /// <summary>Writes what is pending without blocking; a slow reader parks the slot on EPOLLOUT.</summary>
    private void Write(int slot, bool fromScratch)
    {
        ref var c = ref _table[slot];
        var snapshot = _table.Snapshot(slot);
        ReadOnlySpan<byte> source = snapshot is not null ? snapshot.Bytes
            : fromScratch ? _replyScratch : _table.Output(slot);
        bool endsStream = c.After is AfterReply.Close or AfterReply.StopDaemon;
        while (c.OutOffset < c.OutLength)
        {
            var status = SocketIo.Send(c.Fd, source[c.OutOffset..c.OutLength], endsStream, out int sent, out int errno);
            if (status == IoStatus.Done)
            {
                c.OutOffset += sent;
                continue;
            }
            if (status == IoStatus.WouldBlock)
            {
                if (fromScratch && snapshot is null)
                {
                    int rest = c.OutLength - c.OutOffset;
                    _replyScratch.AsSpan(c.OutOffset, rest).CopyTo(_table.Output(slot));
                    c.OutOffset = 0;
                    c.OutLength = rest;
                }
                c.State = ConnectionState.Writing;
                Watch(slot, PollInterest.Write);
                return;
            }
            // The peer reset before the reply went out. OTP then unregisters the *name*, evicting
            // the real owner after a refused duplicate; we drop only a record this socket owns.
            if (_log.On(1)) _log.Write(1, "error in write, fd " + c.Fd + ": " + Errno.Describe(errno));
            if (c.After == AfterReply.StopDaemon) _stopRequested = true;
            CloseConnection(slot);
            return;
        }
        ReleaseSnapshot(slot);
        Finish(slot);
    }

    private void Finish(int slot)
    {
        ref var c = ref _table[slot];
        switch (c.After)
        {
            case AfterReply.KeepRegistration:
                _table.Unlink(slot);
                c.State = ConnectionState.Registered;
                Watch(slot, PollInterest.Read);
                break;
            case AfterReply.KeepRefusedAlive:
                // OTP keeps a refused ALIVE socket open forever; we keep it for one packet timeout.
                c.State = ConnectionState.RefusedAlive;
                _table.Append(slot, DeadlineList.Refused, _now + _refusedTimeoutMs);
                Watch(slot, PollInterest.Read);
                break;
            case AfterReply.StopDaemon:
                CloseConnection(slot, replied: true);
                _stopRequested = true;
                break;
            default:
                CloseConnection(slot, replied: true);
                break;
        }
    }

    private void Watch(int slot, PollInterest interest)
    {
        ref var c = ref _table[slot];
        bool write = interest == PollInterest.Write;
        if (c.InPoller && c.WatchingWrite == write) return;
        try
        {
            if (c.InPoller) _poller.Modify(c.Fd, _table.TokenOf(slot), interest);
            else _poller.Add(c.Fd, _table.TokenOf(slot), interest);
            c.InPoller = true;
            c.WatchingWrite = write;
        }
        catch (ErrnoException e)
        {
            if (_log.On(0)) _log.Write(0, "cannot watch fd " + c.Fd + ": " + e.Message);
            CloseConnection(slot);
        }
    }

    private void ExpireDeadlines()
    {
        foreach (byte list in s_deadlineLists)
        {
            int slot;
            while ((slot = _table.Head(list)) >= 0 && _table[slot].DeadlineMs <= _now)
            {
                Timeouts++;
                if (_log.On(1)) _log.Write(1, "closing because timed out on receive, fd " + _table[slot].Fd);
                CloseConnection(slot);
            }
        }
    }

    private void ReleaseSnapshot(int slot)
    {
        ref var snapshot = ref _table.Snapshot(slot);
        if (snapshot is null) return;
        snapshot.Cache.Release(snapshot);
        snapshot = null;
    }

    /// <summary>
    /// Closes a connection; if it still owns its registration, that is the deregistration.
    /// <paramref name="replied"/>: a whole reply was written with MSG_MORE and goes out with the FIN.
    /// </summary>
    private void CloseConnection(int slot, bool replied = false)
    {
        ref var c = ref _table[slot];
        if (c.Record >= 0)
        {
            ref readonly var record = ref _registry[c.Record];
            if (record.State == NodeState.Registered && record.Owner == _table.TokenOf(slot))
            {
                if (_log.On(1)) _log.Write(1, "unregistering '" + Log.Text(_registry.Name(c.Record)) + "'");
                _registry.Unregister(c.Record);
            }
        }
        ReleaseSnapshot(slot);
        if (replied) SocketIo.Finish(c.Fd);
        else SocketIo.Close(c.Fd);
        _table.Free(slot);
    }

    public bool IsGone(ulong owner)
    {
        int slot = _table.Resolve(owner);
        return slot < 0 || SocketIo.Peek(_table[slot].Fd) != IoStatus.WouldBlock;
    }

    public void Drop(ulong owner)
    {
        int slot = _table.Resolve(owner);
        if (slot >= 0) CloseConnection(slot);
    }

    /// <summary>
    /// Stops serving: no new connections, unfinished requests dropped, replies already being
    /// written get up to budgetMs to finish, then every connection (registrations included: the
    /// nodes see EOF, as after OTP's KILL) is closed.
    /// </summary>
    public void Shutdown(int budgetMs = 0)
    {
        foreach (int fd in _listeners) SocketIo.Close(fd);
        _listeners.Clear();
        foreach (int slot in _table.UsedSlots())
        {
            if (_table[slot].State == ConnectionState.Reading) CloseConnection(slot);
        }
        long until = _clockMs() + budgetMs;
        while (AnyWriting() && _clockMs() < until)
        {
            int n = _poller.Wait(_events, (int)Math.Max(1, until - _clockMs()));
            _now = _clockMs();
            for (int i = 0; i < n; i++)
            {
                int slot = _table.Resolve(_events[i].Token);
                if (slot >= 0 && _table[slot].State == ConnectionState.Writing) Write(slot, fromScratch: false);
            }
        }
        foreach (int slot in _table.UsedSlots()) CloseConnection(slot);
    }

    private bool AnyWriting()
    {
        foreach (int slot in _table.UsedSlots())
        {
            if (_table[slot].State == ConnectionState.Writing) return true;
        }
        return false;
    }

    public void Dispose()
    {
        Shutdown();
        SocketIo.Close(_wakeFd);
        if (_spareFd >= 0) SocketIo.Close(_spareFd);
    }
}
