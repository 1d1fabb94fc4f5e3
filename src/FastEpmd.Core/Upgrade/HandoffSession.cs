// The running daemon's side of -upgrade, one step per readiness event or loop turn: nothing here
// waits. A trusted Hello gets an Offer (sizes as of now) while the daemon serves on; only Go
// freezes it (the host stops accepting and defers its registrations' events), lets the one-shot
// connections it had accepted finish, and then takes its state, offered again with its exact
// sizes: from then on the registry cannot change, so the image and the descriptors sent are the
// state. A client that says Hello and nothing more costs nothing. The
// fence: the daemon serves on after any failure up to Commit; it sends Commit only on the new
// process's Accept, and after that it serves again only if the new process goes away before it
// says Serving (it cannot have served then). Each step has a deadline; a new process that misses
// one before Commit is refused and the daemon serves on.
using FastEpmd.Diagnostics;
using FastEpmd.Interop;

namespace FastEpmd.Upgrade;

/// <summary>A descriptor to hand over: what it is, its key (registrations), and our fd.</summary>
internal readonly record struct HandedDescriptor(DescriptorRole Role, ulong Key, int Fd);

/// <summary>The state to hand over, taken frozen; the descriptors stay the daemon's own.</summary>
internal sealed record HandoffPayload(ushort Format, byte[] Image, IReadOnlyList<HandedDescriptor> Descriptors, int Registrations);

/// <summary>What the session needs of the daemon's loop.</summary>
internal interface IHandoffHost
{
    /// <summary>Stops accepting (every listener unwatched) and defers the registrations' events.</summary>
    void Freeze();

    /// <summary>No one-shot connection is left: nothing can change the registry any more.</summary>
    bool Drained { get; }

    /// <summary>Closes the one-shot connections still open when the drain's time is up.</summary>
    void CloseUndrained();

    /// <summary>The state, for a new process that reads these formats.</summary>
    HandoffPayload Export(in HandoffHello hello);

    /// <summary>Serves again exactly as before Freeze.</summary>
    void Thaw();

    /// <summary>Watches the session's connection for reading, or for writing too.</summary>
    void WatchControl(int fd, bool write);
}

internal enum HandoffStep
{
    /// <summary>First Offer sent; serving on.</summary>
    AwaitGo,

    /// <summary>Frozen; one-shot connections already accepted are finishing.</summary>
    Draining,

    Sending,
    AwaitAccept,

    /// <summary>Commit sent: this daemon never serves again unless the new process goes away first.</summary>
    AwaitServing,

    /// <summary>Over, not handed over: the host has thawed; close the connection.</summary>
    Aborted,

    /// <summary>Over, handed over: the new process serves; close everything and exit.</summary>
    Yielded,
}

internal sealed class HandoffSession
{
    public const int DrainMs = 500;
    public const int GoMs = 2000;
    public const int SendStallMs = 2000;
    public const int AcceptMs = 5000;

    /// <summary>After Commit: how long to wait for Serving before exiting anyway (without serving).</summary>
    public const int ServingMs = 10_000;

    private readonly IHandoffHost _host;
    private readonly Log _log;
    private readonly HandoffHello _hello;
    private readonly byte[] _record = new byte[HandoffWire.MaxMessage];
    private readonly byte[] _incoming = new byte[HandoffWire.HeaderLength + HandoffWire.MaxReason + 8];
    private readonly int[] _stray = new int[4];
    private readonly int[] _batch = new int[HandoffWire.MaxBatch];
    private readonly byte[] _chunk = new byte[HandoffWire.HeaderLength + HandoffWire.MaxChunk];
    private readonly long _startedMs;
    private HandoffPayload? _payload;
    private int _imageSent;
    private int _descriptorsSent;
    private bool _frozen;

    public HandoffSession(int fd, in HandoffHello hello, int peerPid, IHandoffHost host, Log log, long nowMs)
    {
        Fd = fd;
        PeerPid = peerPid;
        _hello = hello;
        _host = host;
        _log = log;
        _startedMs = nowMs;
        if (hello.Protocol != HandoffWire.Protocol)
        {
            Abort($"this daemon speaks handoff protocol {HandoffWire.Protocol}, not {hello.Protocol}",
                $"the new process speaks handoff protocol {hello.Protocol}");
            return;
        }
        _host.WatchControl(Fd, write: false);
        if (Offer(_host.Export(in hello))) Enter(HandoffStep.AwaitGo, nowMs, GoMs);
    }

    public int Fd { get; }
    public int PeerPid { get; }
    public HandoffStep Step { get; private set; }
    public long DeadlineMs { get; private set; }

    /// <summary>Why it did not happen (Aborted), for tests and the log line.</summary>
    public string Error { get; private set; } = "";

    public bool Over => Step is HandoffStep.Aborted or HandoffStep.Yielded;

    /// <summary>Once a loop turn: the drain, and the step's deadline.</summary>
    public void Advance(long nowMs)
    {
        if (Step == HandoffStep.Draining)
        {
            if (!_host.Drained && nowMs < DeadlineMs) return;
            if (!_host.Drained) _host.CloseUndrained();
            _payload = _host.Export(in _hello);
            if (!Offer(_payload)) return;
            Enter(HandoffStep.Sending, nowMs, SendStallMs);
            Pump(nowMs);
            return;
        }
        if (Over || nowMs < DeadlineMs) return;
        switch (Step)
        {
            case HandoffStep.AwaitServing:
                // Committed: serving again could make two daemons. The new process holds everything.
                if (_log.On(0)) _log.Write(0, $"upgrade: pid {PeerPid} took the state but did not say it serves within {ServingMs} ms; exiting without serving");
                Step = HandoffStep.Yielded;
                break;
            case HandoffStep.Sending:
                Abort("timed out", "timed out sending");
                break;
            default:
                Abort("timed out", "timed out waiting for " + (Step == HandoffStep.AwaitGo ? "Go" : "Accept"));
                break;
        }
    }

    /// <summary>The session's connection is ready.</summary>
    public void OnReady(bool readable, bool writable, long nowMs)
    {
        if (writable && Step == HandoffStep.Sending) Pump(nowMs);
        if (!readable) return;
        while (!Over)
        {
            var status = DescriptorPassing.Receive(Fd, _incoming, _stray, out int n, out int count, out int errno);
            for (int i = 0; i < count; i++) SocketIo.Close(_stray[i]);
            if (status == IoStatus.WouldBlock) return;
            if (status != IoStatus.Done)
            {
                string why = status == IoStatus.PeerClosed ? "the other process closed the connection" : "receive: " + Errno.Describe(errno);
                if (Step == HandoffStep.AwaitServing) why = "the new process went away before it served (" + why + ")";
                Abort("", why);
                return;
            }
            OnRecord(_incoming.AsSpan(0, n), nowMs);
        }
    }

    private void OnRecord(ReadOnlySpan<byte> record, long nowMs)
    {
        var type = HandoffWire.TypeOf(record);
        if (type == HandoffType.Refuse)
        {
            Abort("", "refused: " + HandoffWire.Reason(record));
            return;
        }
        switch (Step)
        {
            case HandoffStep.AwaitGo when type == HandoffType.Go:
                _host.Freeze();
                _frozen = true;
                Enter(HandoffStep.Draining, nowMs, DrainMs);
                return;
            case HandoffStep.AwaitAccept when type == HandoffType.Accept:
                Commit(nowMs);
                return;
            case HandoffStep.AwaitServing when type == HandoffType.Serving:
                Yield(nowMs);
                return;
        }
        string got = type is { } t ? t.ToString() : "garbage";
        if (Step == HandoffStep.AwaitServing)
            Abort("", $"the new process sent {got} instead of Serving");   // it does not serve without sending Serving
        else
            Abort("unexpected " + got, $"unexpected {got} record at step {Step}");
    }

    /// <summary>Sends an Offer of this payload (the first as of now, the second exact and frozen); false when aborted.</summary>
    private bool Offer(HandoffPayload payload)
    {
        if (_hello.DescriptorRoom < payload.Descriptors.Count)
        {
            Abort($"{payload.Descriptors.Count} descriptors to hand over, room for {_hello.DescriptorRoom}",
                $"the new process has room for {_hello.DescriptorRoom} descriptors, not {payload.Descriptors.Count} (ulimit -n)");
            return false;
        }
        var offer = new HandoffOffer(HandoffWire.Protocol, payload.Format, (uint)payload.Image.Length, (uint)payload.Descriptors.Count,
            Environment.ProcessId);
        return SendOrAbort(_record.AsSpan(0, HandoffWire.WriteOffer(_record, in offer)), default);
    }

    /// <summary>Sends what the socket takes now: image chunks, descriptor batches, End.</summary>
    private void Pump(long nowMs)
    {
        var payload = _payload!;
        while (Step == HandoffStep.Sending)
        {
            IoStatus status;
            int errno;
            if (_imageSent < payload.Image.Length)
            {
                int n = Math.Min(HandoffWire.MaxChunk, payload.Image.Length - _imageSent);
                status = SendChunk(new ReadOnlySpan<byte>(payload.Image, _imageSent, n), out errno);
                if (status == IoStatus.Done) _imageSent += n;
            }
            else if (_descriptorsSent < payload.Descriptors.Count)
            {
                int count = Math.Min(HandoffWire.MaxBatch, payload.Descriptors.Count - _descriptorsSent);
                int length = HandoffWire.WriteBatchHeader(_record, count);
                for (int i = 0; i < count; i++)
                {
                    var d = payload.Descriptors[_descriptorsSent + i];
                    length += HandoffWire.WriteEntry(_record.AsSpan(length), d.Role, d.Key);
                    _batch[i] = d.Fd;
                }
                status = DescriptorPassing.Send(Fd, _record.AsSpan(0, length), _batch.AsSpan(0, count), out errno);
                if (status == IoStatus.Done) _descriptorsSent += count;
            }
            else
            {
                status = DescriptorPassing.Send(Fd, _record.AsSpan(0, HandoffWire.WriteHeader(_record, HandoffType.End)), default, out errno);
                if (status == IoStatus.Done)
                {
                    _host.WatchControl(Fd, write: false);
                    Enter(HandoffStep.AwaitAccept, nowMs, AcceptMs);
                    return;
                }
            }
            if (status == IoStatus.WouldBlock)
            {
                _host.WatchControl(Fd, write: true);
                return;
            }
            if (status != IoStatus.Done)
            {
                Abort("", "send: " + Errno.Describe(errno));
                return;
            }
            DeadlineMs = nowMs + SendStallMs;   // progress: the stall deadline starts again
        }
    }

    private IoStatus SendChunk(ReadOnlySpan<byte> bytes, out int errno)
    {
        HandoffWire.WriteHeader(_chunk, HandoffType.Image);
        bytes.CopyTo(_chunk.AsSpan(HandoffWire.HeaderLength));
        return DescriptorPassing.Send(Fd, _chunk.AsSpan(0, HandoffWire.HeaderLength + bytes.Length), default, out errno);
    }

    /// <summary>The new process has everything and checked it: stop for good, then tell it to serve.</summary>
    private void Commit(long nowMs)
    {
        var status = DescriptorPassing.Send(Fd, _record.AsSpan(0, HandoffWire.WriteHeader(_record, HandoffType.Commit)), default, out int errno);
        if (status != IoStatus.Done)
        {
            // Not sent: the new process never learns it may serve, and exits. We serve on.
            Abort("", "Commit not sent: " + (status == IoStatus.WouldBlock ? "the socket is full" : Errno.Describe(errno)));
            return;
        }
        Enter(HandoffStep.AwaitServing, nowMs, ServingMs);
    }

    private void Yield(long nowMs)
    {
        Step = HandoffStep.Yielded;
        var payload = _payload!;
        if (_log.On(0))
            _log.Write(0, $"handed over to pid {PeerPid}: {payload.Registrations} registrations, {payload.Descriptors.Count} descriptors, " +
                $"state format {payload.Format}, {payload.Image.Length} bytes, in {nowMs - _startedMs} ms; exiting");
    }

    /// <summary>Serves on: tells the new process why (best effort), thaws the host, one log line.</summary>
    public void Abort(string toPeer, string why)
    {
        if (Over) return;
        if (toPeer.Length > 0)
        {
            int length = HandoffWire.WriteRefuse(_record, toPeer);
            DescriptorPassing.Send(Fd, _record.AsSpan(0, length), default, out _);
        }
        Error = why;
        Step = HandoffStep.Aborted;
        if (_frozen) _host.Thaw();
        _frozen = false;
        if (_log.On(0)) _log.Write(0, $"upgrade by pid {PeerPid} did not happen ({why}); serving on");
    }

    private bool SendOrAbort(ReadOnlySpan<byte> record, ReadOnlySpan<int> descriptors)
    {
        var status = DescriptorPassing.Send(Fd, record, descriptors, out int errno);
        if (status == IoStatus.Done) return true;
        Abort("", "send: " + (status == IoStatus.WouldBlock ? "the socket is full" : Errno.Describe(errno)));
        return false;
    }

    private void Enter(HandoffStep step, long nowMs, int timeoutMs)
    {
        Step = step;
        DeadlineMs = nowMs + timeoutMs;
    }

    /// <summary>The format to write: the newest this daemon writes that the new process reads, else our newest.</summary>
    public static ushort ChooseFormat(ReadOnlySpan<ushort> writable, ReadOnlySpan<ushort> readable)
    {
        ushort best = 0;
        bool found = false;
        foreach (ushort w in writable)
        {
            if (readable.Contains(w) && (!found || w > best))
            {
                best = w;
                found = true;
            }
        }
        if (found) return best;
        foreach (ushort w in writable) best = Math.Max(best, w);
        return best;
    }
}
