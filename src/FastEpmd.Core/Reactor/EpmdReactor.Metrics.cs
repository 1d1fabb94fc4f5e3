// The metrics listener: a minimal HTTP/1.1 responder on the same loop (GET /metrics, GET /healthz,
// else 404). Its connections live in their own small table with one deadline for the whole
// exchange; when that table is full its oldest connection makes room, so nothing on this port
// ever costs an epmd client its slot. One request per connection, then a FIN.
using FastEpmd.Interop;
using FastEpmd.Metrics;
using FastEpmd.Poller;

namespace FastEpmd.Reactor;

internal sealed partial class EpmdReactor
{
    /// <summary>Request read and response written within this of accept, or the connection is closed.</summary>
    public const int MetricsDeadlineMs = 5000;

    private MetricsConnectionTable? _metrics;
    private byte[] _version = "unknown"u8.ToArray();
    private long _startUnixMs;

    /// <summary>The responder's own counters.</summary>
    public MetricsCounters MetricsCounters;

    public MetricsConnectionTable? MetricsTable => _metrics;

    /// <summary>Serves HTTP on listenFd (non-blocking, listening) from this loop.</summary>
    public void AddMetricsListener(int listenFd, string version, long startUnixMs,
        int capacity = MetricsConnectionTable.DefaultCapacity)
    {
        _metrics ??= new MetricsConnectionTable(capacity);
        _version = System.Text.Encoding.ASCII.GetBytes(version);
        _startUnixMs = startUnixMs;
        AddListener(listenFd, ListenerKind.Metrics);
    }

    /// <summary>/healthz: the loop runs and the epmd listeners are open (not yet shutting down).</summary>
    public bool Healthy
    {
        get
        {
            if (_stopRequested) return false;
            foreach (var (fd, kind) in _listeners)
            {
                if (kind == ListenerKind.Epmd && fd >= 0) return true;
            }
            return false;
        }
    }

    /// <summary>A newcomer on the metrics listener (accepted by AcceptOne): its own table, oldest out when full.</summary>
    private void AdmitMetrics(int fd)
    {
        var table = _metrics!;
        int slot = table.Allocate(fd, _now + MetricsDeadlineMs);
        if (slot < 0)
        {
            int oldest = table.Oldest();
            MetricsCounters.DroppedForFullTable++;
            if (_log.On(1)) _log.Write(1, "metrics connections full, closing oldest fd " + table[oldest].Fd);
            CloseMetrics(oldest);
            slot = table.Allocate(fd, _now + MetricsDeadlineMs);
        }
        if (_log.On(2)) _log.Write(2, "metrics client connected, fd = " + fd);
        OnMetricsReadable(slot);
    }

    private void OnMetricsEvent(ulong token)
    {
        if (_metrics is null || _metrics.Resolve(token) is not (int slot and >= 0)) return;
        if (_metrics[slot].Writing) WriteMetrics(slot);
        else OnMetricsReadable(slot);
    }

    private void OnMetricsReadable(int slot)
    {
        var table = _metrics!;
        ref var c = ref table[slot];
        var buffer = table.Buffer(slot);
        while (true)
        {
            // One byte past the header limit is enough to know it is over.
            var room = buffer[c.InCount..(HttpRequest.MaxHeaderBytes + 1)];
            var status = SocketIo.Receive(c.Fd, room, out int n, out _);
            if (status == IoStatus.WouldBlock)
            {
                WatchMetrics(slot, PollInterest.Read);
                return;
            }
            if (status != IoStatus.Done)
            {
                if (_log.On(1)) _log.Write(1, "metrics client closed before a whole request, fd " + c.Fd);
                CloseMetrics(slot);
                return;
            }
            c.InCount += n;
            switch (HttpRequest.TryParse(buffer[..c.InCount], out var target))
            {
                case HttpParseStatus.Complete:
                    Respond(slot, target);
                    return;
                case HttpParseStatus.BadRequest:
                    MetricsCounters.BadRequests++;
                    if (_log.On(1)) _log.Write(1, "bad HTTP request line on the metrics listener, fd " + c.Fd);
                    RespondText(slot, 400, "bad request\n"u8);
                    return;
                case HttpParseStatus.TooLarge:
                    MetricsCounters.TooLarge++;
                    if (_log.On(1)) _log.Write(1, "HTTP headers over 8 KiB on the metrics listener, closing fd " + c.Fd);
                    CloseMetrics(slot);
                    return;
                default:
                    if (c.InCount > HttpRequest.MaxHeaderBytes)
                    {
                        MetricsCounters.TooLarge++;
                        CloseMetrics(slot);
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
                MetricsCounters.HealthOk++;
                RespondText(slot, 200, "ok\n"u8);
                break;
            case HttpTarget.Health:
                MetricsCounters.HealthUnavailable++;
                RespondText(slot, 503, "shutting down\n"u8);
                break;
            default:
                MetricsCounters.NotFound++;
                RespondText(slot, 404, "not found\n"u8);
                break;
        }
    }

    private void RespondMetrics(int slot)
    {
        var buffer = _metrics!.Buffer(slot);
        MetricsCounters.Scrapes++;
        var writer = new PrometheusWriter(buffer[HttpResponse.HeaderRoom..]);
        var view = new MetricsView
        {
            Reactor = Counters,
            Http = MetricsCounters,
            Service = _service.Counters,
            Refusals = _service.Refusals,
            Registrations = _service.Registry.RegisteredCount,
            Connections = _table.Count,
            TableSlots = _table.Capacity,
            ReplyMemoryBytes = _service.Snapshots.MappedBytes,
            ReplyMemoryBudgetBytes = _service.Snapshots.BudgetBytes,
            MetricsConnections = _metrics.Count,
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
        int length = HttpResponse.WriteText(_metrics!.Buffer(slot), text);
        StartWrite(slot, status, HttpResponse.TextType, length);
    }

    private void StartWrite(int slot, int status, ReadOnlySpan<byte> contentType, int bodyLength)
    {
        ref var c = ref _metrics![slot];
        c.OutOffset = HttpResponse.WriteHead(_metrics.Buffer(slot), status, contentType, bodyLength);
        c.OutLength = HttpResponse.HeaderRoom + bodyLength;
        c.Writing = true;
        WriteMetrics(slot);
    }

    private void WriteMetrics(int slot)
    {
        ref var c = ref _metrics![slot];
        var buffer = _metrics.Buffer(slot);
        while (c.OutOffset < c.OutLength)
        {
            var status = SocketIo.Send(c.Fd, buffer[c.OutOffset..c.OutLength], endsStream: true, out int sent, out _);
            if (status == IoStatus.Done)
            {
                c.OutOffset += sent;
                continue;
            }
            if (status == IoStatus.WouldBlock)
            {
                WatchMetrics(slot, PollInterest.Write);
                return;
            }
            CloseMetrics(slot);
            return;
        }
        CloseMetrics(slot, replied: true);
    }

    private void WatchMetrics(int slot, PollInterest interest)
    {
        ref var c = ref _metrics![slot];
        if (!TryWatch(c.Fd, _metrics.TokenOf(slot), interest, ref c.InPoller, ref c.WatchingWrite)) CloseMetrics(slot);
    }

    private void CloseMetrics(int slot, bool replied = false)
    {
        int fd = _metrics![slot].Fd;
        if (replied) SocketIo.Finish(fd);
        else SocketIo.Close(fd);
        _metrics.Free(slot);
    }

    /// <summary>The earliest metrics deadline, or long.MaxValue.</summary>
    private long NextMetricsDeadline()
    {
        if (_metrics is null || _metrics.Count == 0) return long.MaxValue;
        int oldest = _metrics.Oldest();
        return _metrics[oldest].DeadlineMs;
    }

    private void ExpireMetricsDeadlines()
    {
        if (_metrics is null) return;
        for (int slot = 0; slot < _metrics.Capacity; slot++)
        {
            if (!_metrics[slot].InUse || _metrics[slot].DeadlineMs > _now) continue;
            MetricsCounters.Deadlines++;
            if (_log.On(1)) _log.Write(1, "metrics request deadline passed, closing fd " + _metrics[slot].Fd);
            CloseMetrics(slot);
        }
    }

    private bool AnyMetricsConnection() => _metrics is { Count: > 0 };

    private void CloseAllMetrics()
    {
        if (_metrics is null) return;
        for (int slot = 0; slot < _metrics.Capacity; slot++)
        {
            if (_metrics[slot].InUse) CloseMetrics(slot);
        }
    }
}
