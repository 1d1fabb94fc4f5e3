// The epmd endpoint's counters, plain fields in one struct so a reader (logs, a metrics endpoint on the same
// thread) takes them as they are, without locks or allocation.
namespace FastEpmd.Endpoints.Epmd;

internal struct EpmdCounters
{
    /// <summary>Connections accepted and given a slot.</summary>
    public long Accepted;

    /// <summary>Connections closed because the table was full (evicted idle ones and refused newcomers).</summary>
    public long DroppedForFullTable;

    /// <summary>Connections closed by the packet (idle) timeout, a refused ALIVE's included.</summary>
    public long Timeouts;

    /// <summary>Connections closed by the whole-request deadline while still sending or reading.</summary>
    public long RequestDeadlines;

    /// <summary>ALIVE2 for a name in use whose owner's socket was already gone (OTP issue 11083).</summary>
    public long DeadOwnersDropped;

    /// <summary>NAMES/DUMP readers closed because their old snapshot held reply memory a new one needed.</summary>
    public long SnapshotReadersShed;

    /// <summary>Of RequestDeadlines, those closed while their reply was still being written (slow readers).</summary>
    public long SlowReadersClosed;

    /// <summary>Bytes read from and written to epmd connections.</summary>
    public long BytesReceived;
    public long BytesSent;
}
