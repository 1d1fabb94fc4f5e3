// One slot of the fixed connection table. Unmanaged, so the table lives in native memory whose
// pages stay untouched (not resident) until a connection uses them.
using FastEpmd.Service;

namespace FastEpmd.Reactor;

internal unsafe struct Connection
{
    public int Fd;

    /// <summary>Bumped on every reuse (24 bits, PollToken.GenerationMask): stale tokens miss.</summary>
    public uint Generation;
    public ConnectionState State;
    public AfterReply After;
    public bool IsLocal;
    public bool InPoller;
    public bool WatchingWrite;

    /// <summary>Request bytes buffered in Input (split requests only).</summary>
    public int InCount;

    /// <summary>A pooled 3,060-byte block, taken only while a split request is being read; else null.</summary>
    public byte* Input;

    public OutgoingReply Reply;

    /// <summary>The registry record this connection owns, or -1.</summary>
    public int Record;

    /// <summary>The registration's key (Decision.StoreKey): its socket's name in a descriptor store; 0 when none.</summary>
    public ulong StoreKey;

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
