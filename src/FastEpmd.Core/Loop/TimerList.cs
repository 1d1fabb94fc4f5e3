// A timer list: every entry has the same timeout, so appending keeps it sorted by deadline and the
// first deadline is always at the head (O(1) arm, disarm and expire; redis admits its timer search
// is O(N)). An endpoint makes one per kind of deadline; a slot is in at most one list per lane.
namespace FastEpmd.Loop;

internal sealed class TimerList
{
    public TimerList(int id, int endpoint, int lane, long timeoutMs)
    {
        if (lane is not (0 or 1)) throw new ArgumentOutOfRangeException(nameof(lane));
        Id = id;
        Endpoint = endpoint;
        Lane = lane;
        TimeoutMs = timeoutMs;
    }

    public int Id { get; }
    public int Endpoint { get; }

    /// <summary>Which of a slot's two links this list uses: an endpoint gives lists a slot may be in at once different lanes.</summary>
    public int Lane { get; }
    public long TimeoutMs { get; }

    /// <summary>The slot with the first deadline, or -1.</summary>
    public int Head { get; internal set; } = -1;
    internal int Tail { get; set; } = -1;
}
