// One slot of the loop's connection table: the descriptor, who owns it and where it stands with the
// poller and the timers. What a protocol keeps per connection lives in its endpoint, indexed by the
// same slot. Unmanaged, so the table lives in native memory untouched (not resident) until used.
using FastEpmd.Poller;

namespace FastEpmd.Loop;

internal struct LoopConnection
{
    public int Fd;

    /// <summary>Bumped on every reuse (24 bits, LoopToken.GenerationMask): stale tokens miss.</summary>
    public uint Generation;

    /// <summary>The owning endpoint's id (EventLoop.Attach); meaningful while InUse.</summary>
    public byte Endpoint;
    public bool InUse;
    public bool InPoller;
    public PollInterest Interest;

    /// <summary>An int the owning endpoint keeps with the connection (the metrics endpoint's buffer index).</summary>
    public int Data;

    /// <summary>The slot's place in up to two timer lists at once, one per lane (TimerList.Lane).</summary>
    public TimerLink Lane0;
    public TimerLink Lane1;
}

/// <summary>A slot's place in one timer list: its deadline, its neighbours and the list it is in.</summary>
internal struct TimerLink
{
    public long DeadlineMs;
    public int Prev;
    public int Next;

    /// <summary>TimerList.Id + 1 of the list the slot is in; 0: in none.</summary>
    public int List;
}
