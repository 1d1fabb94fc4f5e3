// A full table: the connection that has been quiet longest and is not a registration makes room.
namespace FastEpmd.Reactor;

internal sealed partial class EpmdReactor
{
    /// <summary>Closes the oldest connection that is not a registration; false when every slot is one.</summary>
    private bool EvictOldest()
    {
        // The idle list's head was last active longest ago among readers and refused ALIVEs; the
        // request list's head was accepted first (it may be writing). The earlier of the two goes.
        int idle = _table.Head(ConnectionTimer.Idle);
        int request = _table.Head(ConnectionTimer.Request);
        int victim;
        if (idle < 0) victim = request;
        else if (request < 0) victim = idle;
        else
            victim = _table[idle].Idle.DeadlineMs - _idleTimeoutMs <= _table[request].Request.DeadlineMs - _requestDeadlineMs
                ? idle
                : request;
        if (victim < 0) return false;
        Counters.DroppedForFullTable++;
        if (_log.On(1)) _log.Write(1, "connection table full, closing oldest idle fd " + _table[victim].Fd);
        CloseConnection(victim);
        return true;
    }
}
