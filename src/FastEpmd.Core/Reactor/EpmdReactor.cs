// The loop: one thread, one poller. RunOnce is the unit the daemon loops and tests step (redis
// aeProcessEvents, libuv uv_run(UV_RUN_ONCE)): wait, dispatch each event by its token's kind, expire
// timers. The reactor owns descriptors and bytes only; EpmdService makes every decision. The rest
// of the class is split by idea: EpmdReactor.Listeners (listener kinds and their registration),
// .AcceptGate (admit or refuse an accepted fd), .DescriptorExhaustion (EMFILE shedding), .Eviction
// (full table), .Reads, .Decisions (carrying out what the service decided), .Writes, .Connections
// (poller interest and close), .Deadlines, .Shutdown, .Control (the -upgrade control socket and
// the freeze a handoff needs) and .HandOver (after a handoff).
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Poller;
using FastEpmd.Service;
using FastEpmd.Wire;
using static Tmds.Linux.LibC;

namespace FastEpmd.Reactor;

internal sealed unsafe partial class EpmdReactor : IDisposable
{
    private readonly EpmdOptions _options;
    private readonly EpmdService _service;
    private readonly IPoller _poller;
    private readonly ConnectionTable _table;
    private readonly Log _log;
    private readonly Func<long> _clockMs;
    private readonly PollEvent[] _events = new PollEvent[256];
    private readonly byte[] _readScratch = new byte[Limits.MaxFirstRead];
    private readonly byte[] _replyScratch = new byte[Limits.MaxSmallReply];
    private readonly int _wakeFd;
    private long _now;
    private volatile bool _stopRequested;

    /// <summary>What the loop has done, as plain fields: read them, never write them from outside.</summary>
    public ReactorCounters Counters;

    public EpmdReactor(EpmdOptions options, EpmdService service, IPoller poller, ConnectionTable table, Log log,
        Func<long>? clockMs = null)
    {
        _options = options;
        _service = service;
        _poller = poller;
        _table = table;
        _log = log;
        _clockMs = clockMs ?? (static () => Environment.TickCount64);
        _idleTimeoutMs = IdleTimeoutMs(options.PacketTimeoutSeconds);
        _requestDeadlineMs = Math.Max(_idleTimeoutMs, options.RequestDeadlineMs);
        _now = _clockMs();
        _admission = service.CreateAdmission(table.Capacity);

        _wakeFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (_wakeFd < 0) throw new ErrnoException("eventfd", Errno.Last);
        _poller.Add(_wakeFd, PollToken.Make(TokenKind.Waker, 0), PollInterest.Read);
        _spareFd = Listener.OpenSpare();
    }

    public bool StopRequested => _stopRequested;

    /// <summary>The daemon's exit code once the loop stops: 1 when a listener turned out not to be one (OTP).</summary>
    public int ExitCode { get; private set; }
    public ConnectionTable Table => _table;

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
        ExpireMetricsDeadlines();
        ExpireControl();
        ResumeListeners();
        return n;
    }

    private void Dispatch(in PollEvent ev)
    {
        switch (PollToken.KindOf(ev.Token))
        {
            case TokenKind.Connection:
                OnConnectionEvent(ev.Token);
                break;
            case TokenKind.Listener:
                OnListenerReady(PollToken.IndexOf(ev.Token));
                break;
            case TokenKind.Metrics:
                OnMetricsEvent(ev.Token);
                break;
            case TokenKind.Control:
                OnControlEvent(PollToken.IndexOf(ev.Token), ev.Flags);
                break;
            case TokenKind.Waker:
                ulong value;
                read(_wakeFd, &value, sizeof(ulong));
                _stopRequested = true;
                break;
        }
    }

    private void OnConnectionEvent(ulong token)
    {
        // A slot closed and reused within this batch keeps its old token: drop the stale event.
        int slot = _table.Resolve(token);
        if (slot < 0) return;
        switch (_table[slot].State)
        {
            case ConnectionState.Reading:
                OnReadable(slot);
                break;
            case ConnectionState.Writing:
                Write(slot);
                break;
            case ConnectionState.Registered:
            case ConnectionState.RefusedAlive:
                if (_frozen) Defer(slot);
                else OnAliveEvent(slot);
                break;
        }
    }

    public void Dispose()
    {
        Shutdown();
        SocketIo.Close(_wakeFd);
        _metrics?.Dispose();
        CloseControl();
        if (_spareFd >= 0) SocketIo.Close(_spareFd);
        _admission.Dispose();
    }
}
