// The metrics endpoint: a minimal HTTP/1.1 responder on the loop (GET /metrics, GET /healthz, else
// 404), one request per connection, then a FIN. Its connections are slots of the loop's one table
// under a quota of their own (the table is sized for them on top of the epmd connections), so nothing
// on this port ever costs an epmd client its slot; when the quota is full, its oldest connection
// makes room. One deadline covers the whole exchange. Each connection's buffer (request, then
// response) is one of Capacity blocks allocated once in native memory, not resident until used.
using System.Runtime.InteropServices;
using FastEpmd.Diagnostics;
using FastEpmd.Endpoints.Epmd;
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Poller;

namespace FastEpmd.Endpoints.Metrics;

internal sealed unsafe class MetricsEndpoint : IEndpoint, IRestartable, IDisposable
{
    public const string EndpointName = "metrics";

    /// <summary>A scraper or two, a probe, an operator's curl: more at once is a flood.</summary>
    public const int DefaultCapacity = 16;

    /// <summary>A request's headers (with one byte to see "over the limit") or a whole response.</summary>
    public const int BufferSize = 32768;

    /// <summary>Request read and response written within this of accept, or the connection is closed.</summary>
    public const int DeadlineMs = 5000;

    private struct Exchange
    {
        public int Slot;
        public bool InUse;
        public bool Writing;
        public int InCount;
        public int OutOffset;
        public int OutLength;
    }

    private readonly EventLoop _loop;
    private readonly int _id;
    private readonly EpmdEndpoint _epmd;
    private readonly Log _log;
    private readonly Exchange[] _exchanges;
    private readonly byte* _buffers;
    private readonly TimerList _deadline;
    private readonly byte[] _version;
    private readonly long _startUnixMs;
    private readonly List<int> _listeners = new();
    private readonly int _acceptBatch;

    /// <summary>The responder's own counters.</summary>
    public MetricsCounters Counters;

    public MetricsEndpoint(EventLoop loop, EpmdEndpoint epmd, Log log, string version, long startUnixMs,
        int capacity = DefaultCapacity, int acceptBatch = 1)
    {
        _acceptBatch = acceptBatch;
        _loop = loop;
        _epmd = epmd;
        _log = log;
        _id = loop.Attach(this, capacity);
        _exchanges = new Exchange[capacity];
        _buffers = (byte*)NativeMemory.AllocZeroed((nuint)capacity, BufferSize);
        _deadline = loop.CreateTimer(_id, lane: 0, DeadlineMs);
        _version = System.Text.Encoding.ASCII.GetBytes(version);
        _startUnixMs = startUnixMs;
    }

    public string Name => EndpointName;
    public int Capacity => _exchanges.Length;

    /// <summary>Metrics connections open now.</summary>
    public int Count => _loop.Table.CountOf(_id);

    /// <summary>Serves HTTP on a listening socket; false (logged) when the poller refused it.</summary>
    public bool AddListener(int fd)
    {
        int index = _loop.AddListener(fd, _id, _acceptBatch);
        if (index < 0) return false;
        _listeners.Add(index);
        return true;
    }

    /// <summary>/healthz: the loop runs and the epmd listeners are open (not yet shutting down).</summary>
    public bool Healthy => !_loop.StopRequested && _epmd.Listening;

    public void OnAccepted(int listener, int fd, in PeerAddress peer)
    {
        int slot = _loop.Open(fd, _id);
        if (slot < 0 && _deadline.Head >= 0)
        {
            int oldest = _deadline.Head;
            Counters.DroppedForFullTable++;
            if (_log.On(1)) _log.Write(1, "metrics connections full, closing oldest fd " + _loop.FdOf(oldest));
            Close(oldest);
            slot = _loop.Open(fd, _id);
        }
        if (slot < 0)
        {
            // The table itself is full (it is sized for our quota, so only a broken invariant gets here).
            SocketIo.Close(fd);
            return;
        }
        int index = FreeExchange();
        _exchanges[index] = new Exchange { Slot = slot, InUse = true };
        _loop.Table[slot].Data = index;
        _loop.Arm(slot, _deadline);
        if (_log.On(2)) _log.Write(2, "metrics client connected, fd = " + fd);
        OnReadable(slot);
    }

    private int FreeExchange()
    {
        for (int i = 0; i < _exchanges.Length; i++)
        {
            if (!_exchanges[i].InUse) return i;
        }
        throw new InvalidOperationException("more metrics connections than exchanges");
    }

    public void OnReady(int slot, PollFlags flags)
    {
        if (At(slot).Writing) Write(slot);
        else OnReadable(slot);
    }

    public void OnTimer(int slot, TimerList list)
    {
        Counters.Deadlines++;
        if (_log.On(1)) _log.Write(1, "metrics request deadline passed, closing fd " + _loop.FdOf(slot));
        Close(slot);
    }

    private ref Exchange At(int slot) => ref _exchanges[_loop.Table[slot].Data];

    private Span<byte> Buffer(int slot) => new(_buffers + (long)_loop.Table[slot].Data * BufferSize, BufferSize);

    private void OnReadable(int slot)
    {
        ref var c = ref At(slot);
        var buffer = Buffer(slot);
        int fd = _loop.FdOf(slot);
        while (true)
        {
            // One byte past the header limit is enough to know it is over.
            var room = buffer[c.InCount..(HttpRequest.MaxHeaderBytes + 1)];
            var status = SocketIo.Receive(fd, room, out int n, out _);
            if (status == IoStatus.WouldBlock)
            {
                Watch(slot, PollInterest.Read);
                return;
            }
            if (status != IoStatus.Done)
            {
                if (_log.On(1)) _log.Write(1, "metrics client closed before a whole request, fd " + fd);
                Close(slot);
                return;
            }
            c.InCount += n;
            switch (HttpRequest.TryParse(buffer[..c.InCount], out var target))
            {
                case HttpParseStatus.Complete:
                    Respond(slot, target);
                    return;
                case HttpParseStatus.BadRequest:
                    Counters.BadRequests++;
                    if (_log.On(1)) _log.Write(1, "bad HTTP request line on the metrics listener, fd " + fd);
                    RespondText(slot, 400, "bad request\n"u8);
                    return;
                case HttpParseStatus.TooLarge:
                    Counters.TooLarge++;
                    if (_log.On(1)) _log.Write(1, "HTTP headers over 8 KiB on the metrics listener, closing fd " + fd);
                    Close(slot);
                    return;
                default:
                    if (c.InCount > HttpRequest.MaxHeaderBytes)
                    {
                        Counters.TooLarge++;
                        Close(slot);
                        return;
                    }
                    break;
            }
        }
    }

    private void Respond(int slot, HttpTarget target)
    {
        switch (target)
        {
            case HttpTarget.Metrics:
                RespondMetrics(slot);
                break;
            case HttpTarget.Health when Healthy:
                Counters.HealthOk++;
                RespondText(slot, 200, "ok\n"u8);
                break;
            case HttpTarget.Health:
                Counters.HealthUnavailable++;
                RespondText(slot, 503, "shutting down\n"u8);
                break;
            default:
                Counters.NotFound++;
                RespondText(slot, 404, "not found\n"u8);
                break;
        }
    }

    private void RespondMetrics(int slot)
    {
        Counters.Scrapes++;
        var service = _epmd.Service;
        var writer = new PrometheusWriter(Buffer(slot)[HttpResponse.HeaderRoom..]);
        var view = new MetricsView
        {
            Reactor = _epmd.Counters,
            Loop = _loop.Counters,
            Http = Counters,
            Service = service.Counters,
            Refusals = service.Refusals,
            Registrations = service.Registry.RegisteredCount,
            Connections = _epmd.Count,
            TableSlots = _epmd.Quota,
            ReplyMemoryBytes = service.Snapshots.MappedBytes,
            ReplyMemoryBudgetBytes = service.Snapshots.BudgetBytes,
            MetricsConnections = Count,
            Version = _version,
            StartUnixMs = _startUnixMs,
        };
        MetricsExposition.Write(ref writer, in view);
        if (writer.Overflow)
        {
            // A broken invariant (the families are fixed), but answering beats closing silently.
            if (_log.On(0)) _log.Write(0, "metrics exposition does not fit its buffer");
            RespondText(slot, 500, "metrics too large\n"u8);
            return;
        }
        StartWrite(slot, 200, HttpResponse.MetricsType, writer.Length);
    }

    private void RespondText(int slot, int status, ReadOnlySpan<byte> text)
    {
        int length = HttpResponse.WriteText(Buffer(slot), text);
        StartWrite(slot, status, HttpResponse.TextType, length);
    }

    private void StartWrite(int slot, int status, ReadOnlySpan<byte> contentType, int bodyLength)
    {
        ref var c = ref At(slot);
        c.OutOffset = HttpResponse.WriteHead(Buffer(slot), status, contentType, bodyLength);
        c.OutLength = HttpResponse.HeaderRoom + bodyLength;
        c.Writing = true;
        Write(slot);
    }

    private void Write(int slot)
    {
        ref var c = ref At(slot);
        var buffer = Buffer(slot);
        int fd = _loop.FdOf(slot);
        while (c.OutOffset < c.OutLength)
        {
            var status = SocketIo.Send(fd, buffer[c.OutOffset..c.OutLength], endsStream: true, out int sent, out _);
            if (status == IoStatus.Done)
            {
                c.OutOffset += sent;
                continue;
            }
            if (status == IoStatus.WouldBlock)
            {
                Watch(slot, PollInterest.Write);
                return;
            }
            Close(slot);
            return;
        }
        Close(slot, replied: true);
    }

    private void Watch(int slot, PollInterest interest)
    {
        if (!_loop.Watch(slot, interest)) Close(slot);
    }

    private void Close(int slot, bool replied = false)
    {
        At(slot).InUse = false;
        _loop.Close(slot, replied);
    }

    // ---- stopping and the restart seam ----

    /// <summary>The listener stays open through the drain: a probe sees 503, not a refused connection.</summary>
    public void OnStopping()
    {
    }

    /// <summary>Metrics connections are served through the drain too.</summary>
    public bool Busy => Count > 0;

    public void OnStopped()
    {
        foreach (int index in _listeners) _loop.CloseListener(index);
        foreach (int slot in _loop.Table.SlotsOf(_id)) Close(slot);
    }

    public void Export(List<HeldDescriptor> into)
    {
        foreach (int index in _listeners)
        {
            if (_loop.ListenerOpen(index)) into.Add(new HeldDescriptor(EndpointName, HeldRole.Listener, 0, _loop.ListenerFd(index)));
        }
    }

    public bool Adopt(in HeldDescriptor descriptor)
    {
        if (descriptor.Role == HeldRole.Listener && AddListener(descriptor.Fd)) return true;
        SocketIo.Close(descriptor.Fd);
        return false;
    }

    /// <summary>The successor has the listener; connections already accepted are still answered in the drain.</summary>
    public void LetGo()
    {
        foreach (int index in _listeners) _loop.CloseListener(index);
    }

    public void Dispose()
    {
        foreach (int slot in _loop.Table.SlotsOf(_id)) Close(slot);
        foreach (int index in _listeners) _loop.CloseListener(index);
        NativeMemory.Free(_buffers);
    }
}
