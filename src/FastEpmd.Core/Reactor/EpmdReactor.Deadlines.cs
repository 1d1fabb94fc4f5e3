// Timers on the fake-able clock: the packet (idle) timer, reset by every byte read, and the
// whole-request deadline from accept, never shorter than the packet timeout (slow-loris).
namespace FastEpmd.Reactor;

internal sealed partial class EpmdReactor
{
    private readonly long _idleTimeoutMs;
    private readonly long _requestDeadlineMs;

    /// <summary>
    /// OTP closes when last_read + N &lt; now in whole seconds, so a connection quiet for N s plus a
    /// little survives (epmd_SUITE slow_get_port_nr sends with 1 s gaps under -packet_timeout 1) and
    /// one quiet for N + 1 s does not (measured: N = 2 closes after 3.0 s). We close at exactly N + 1 s.
    /// </summary>
    public static long IdleTimeoutMs(int packetTimeoutSeconds) => (Math.Max(1, packetTimeoutSeconds) + 1) * 1000L;

    private int NextTimeout(int requested)
    {
        long now = _clockMs();
        long next = long.MaxValue;
        int idle = _table.Head(ConnectionTimer.Idle);
        if (idle >= 0) next = _table[idle].Idle.DeadlineMs;
        int request = _table.Head(ConnectionTimer.Request);
        if (request >= 0) next = Math.Min(next, _table[request].Request.DeadlineMs);
        next = Math.Min(next, NextListenerResumeMs());
        next = Math.Min(next, NextMetricsDeadline());
        next = Math.Min(next, NextControlDeadline());
        long wait = next == long.MaxValue ? -1 : Math.Max(0, next - now);
        if (requested >= 0 && (wait < 0 || wait > requested)) wait = requested;
        return (int)Math.Min(wait, int.MaxValue);
    }

    private void ExpireDeadlines()
    {
        int slot;
        while ((slot = _table.Head(ConnectionTimer.Idle)) >= 0 && _table[slot].Idle.DeadlineMs <= _now)
        {
            Counters.Timeouts++;
            if (_log.On(1)) _log.Write(1, "closing because timed out on receive, fd " + _table[slot].Fd);
            CloseConnection(slot);
        }
        while ((slot = _table.Head(ConnectionTimer.Request)) >= 0 && _table[slot].Request.DeadlineMs <= _now)
        {
            Counters.RequestDeadlines++;
            if (_table[slot].State == ConnectionState.Writing) Counters.SlowReadersClosed++;
            if (_log.On(1)) _log.Write(1, "closing because the request deadline passed, fd " + _table[slot].Fd);
            CloseConnection(slot);
        }
    }
}
