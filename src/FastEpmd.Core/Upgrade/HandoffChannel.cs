// The new process's end of the handoff conversation: whole records (and their descriptors) sent and
// received on a non-blocking SEQPACKET socket, each call waiting at most one step's time. The new
// process serves nothing yet, so it may wait; the old daemon's side never does (HandoffSession).
using FastEpmd.Interop;

namespace FastEpmd.Upgrade;

internal sealed class HandoffChannel
{
    private readonly int _fd;
    private readonly int _stepMs;
    private long _deadlineMs;
    private readonly byte[] _record = new byte[HandoffWire.HeaderLength + HandoffWire.MaxChunk];
    private readonly int[] _descriptors = new int[HandoffWire.MaxBatch];

    /// <param name="stepMs">How long each Send or Receive may wait.</param>
    public HandoffChannel(int fd, int stepMs)
    {
        _fd = fd;
        _stepMs = stepMs;
    }

    /// <summary>The next Send or Receive may wait this long (a step with a longer deadline).</summary>
    public int NextStepMs { get; set; }

    private void StartStep()
    {
        _deadlineMs = Environment.TickCount64 + (NextStepMs > 0 ? NextStepMs : _stepMs);
        NextStepMs = 0;
    }

    public int Fd => _fd;

    /// <summary>Why the last call failed, for the one log line.</summary>
    public string Error { get; private set; } = "";

    private int Left => (int)Math.Max(0, _deadlineMs - Environment.TickCount64);

    public bool Send(ReadOnlySpan<byte> record, ReadOnlySpan<int> descriptors = default)
    {
        StartStep();
        while (true)
        {
            var status = DescriptorPassing.Send(_fd, record, descriptors, out int errno);
            if (status == IoStatus.Done) return true;
            if (status != IoStatus.WouldBlock) return Fail("send: " + Errno.Describe(errno));
            if (!UnixSocket.Wait(_fd, forWrite: true, Left)) return Fail("timed out sending");
        }
    }

    /// <summary>
    /// The next record (valid until the next call) and the descriptors that came with it, which the
    /// caller now owns. False when the peer went away, the deadline passed or the record was cut.
    /// </summary>
    public bool Receive(out ReadOnlySpan<byte> record, out ReadOnlySpan<int> descriptors)
    {
        record = default;
        descriptors = default;
        StartStep();
        while (true)
        {
            var status = DescriptorPassing.Receive(_fd, _record, _descriptors, out int n, out int count, out int errno);
            if (status == IoStatus.Done)
            {
                record = _record.AsSpan(0, n);
                descriptors = _descriptors.AsSpan(0, count);
                return true;
            }
            if (status == IoStatus.PeerClosed) return Fail("the other process closed the connection");
            if (status != IoStatus.WouldBlock) return Fail("receive: " + Errno.Describe(errno));
            if (!UnixSocket.Wait(_fd, forWrite: false, Left)) return Fail("timed out waiting");
        }
    }

    /// <summary>Receives a record that must be of one type (a Refuse is reported with its reason).</summary>
    public bool Expect(HandoffType type, out ReadOnlySpan<byte> record)
    {
        if (!Receive(out record, out var descriptors)) return false;
        foreach (int fd in descriptors) SocketIo.Close(fd);
        var got = HandoffWire.TypeOf(record);
        if (got == type && descriptors.IsEmpty) return true;
        if (got == HandoffType.Refuse) return Fail("refused: " + HandoffWire.Reason(record));
        return Fail($"expected a {type} record, got {(got is { } g ? g.ToString() : "garbage")}");
    }

    public bool SendType(HandoffType type)
    {
        Span<byte> record = stackalloc byte[HandoffWire.HeaderLength];
        HandoffWire.WriteHeader(record, type);
        return Send(record);
    }

    /// <summary>Tells the peer why (best effort: it may be gone already).</summary>
    public void SendRefuse(string reason)
    {
        Span<byte> record = stackalloc byte[HandoffWire.HeaderLength + HandoffWire.MaxReason];
        DescriptorPassing.Send(_fd, record[..HandoffWire.WriteRefuse(record, reason)], default, out _);
    }

    public bool Fail(string error)
    {
        Error = error;
        return false;
    }
}
