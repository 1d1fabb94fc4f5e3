// One slot of the fixed connection table. Unmanaged, so the table lives in native memory whose
// pages stay untouched (not resident) until a connection uses them.
using FastEpmd.Service;

namespace FastEpmd.Reactor;

internal struct Connection
{
    public int Fd;
    public uint Generation;
    public ConnectionState State;
    public AfterReply After;
    public bool IsLocal;
    public bool InPoller;
    public bool WatchingWrite;

    /// <summary>Deadline list the slot is on (DeadlineList.*), for O(1) unlink.</summary>
    public byte List;

    /// <summary>Request bytes buffered in this slot's input region (split requests only).</summary>
    public int InCount;

    /// <summary>Pending reply bytes: in the slot's output region, or in its snapshot.</summary>
    public int OutOffset;
    public int OutLength;

    /// <summary>The registry record this connection owns, or -1.</summary>
    public int Record;

    public long StartMs;
    public long DeadlineMs;

    /// <summary>Links in a deadline list, or in the free list.</summary>
    public int Prev;
    public int Next;
}
