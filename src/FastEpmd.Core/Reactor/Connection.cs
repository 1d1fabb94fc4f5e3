// One slot of the fixed connection table. Unmanaged, so the table lives in native memory whose
// pages stay untouched (not resident) until a connection uses them.
using FastEpmd.Service;

namespace FastEpmd.Reactor;

internal struct Connection
{
    public int Fd;

    /// <summary>Bumped on every reuse (24 bits, PollToken.GenerationMask): stale tokens miss.</summary>
    public uint Generation;
    public ConnectionState State;
    public AfterReply After;
    public bool IsLocal;
    public bool InPoller;
    public bool WatchingWrite;

    /// <summary>Request bytes buffered in this slot's input region (split requests only).</summary>
    public int InCount;

    /// <summary>Pending reply bytes: in the slot's output region, or in its snapshot.</summary>
    public int OutOffset;
    public int OutLength;

    /// <summary>The registry record this connection owns, or -1.</summary>
    public int Record;

    /// <summary>The packet (idle) timer: reset by every byte read; also a refused ALIVE's timer.</summary>
    public TimerLink Idle;

    /// <summary>The whole-request deadline, counted from accept.</summary>
    public TimerLink Request;
}

/// <summary>A slot's place in one timer list (see ConnectionTable): its deadline and neighbours.</summary>
internal struct TimerLink
{
    public long DeadlineMs;
    public int Prev;
    public int Next;
    public bool Linked;
}
