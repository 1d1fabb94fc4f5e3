// Stopping: no new connections, unfinished requests dropped, replies being written get a budget.
namespace FastEpmd.Reactor;

internal sealed partial class EpmdReactor
{
    /// <summary>
    /// Stops serving: no new connections, unfinished requests dropped, replies already being
    /// written get up to budgetMs to finish (events go through the same Dispatch), then every
    /// connection (registrations included: the nodes see EOF, as after OTP's KILL) is closed.
    /// </summary>
    /// <param name="keepRegistrations">
    /// A restart that keeps its registrations (a descriptor store, a handoff): ALIVE sockets are
    /// closed here without a deregistration, so the registry, its image and the store are untouched.
    /// </param>
    public void Shutdown(int budgetMs = 0, bool keepRegistrations = false)
    {
        EndSessionAtStop();
        CloseListeners(ListenerKind.Epmd);
        foreach (int slot in _table.UsedSlots())
        {
            if (_table[slot].State == ConnectionState.Reading) CloseConnection(slot);
        }
        long until = _clockMs() + budgetMs;
        // Metrics connections are served through the drain too: a probe sees 503, not a reset.
        while ((AnyWriting() || AnyMetricsConnection()) && _clockMs() < until)
        {
            int n = _poller.Wait(_events, (int)Math.Max(1, until - _clockMs()));
            _now = _clockMs();
            for (int i = 0; i < n; i++) Dispatch(in _events[i]);
        }
        foreach (int slot in _table.UsedSlots())
        {
            if (keepRegistrations && _table[slot].State == ConnectionState.Registered) ReleaseRegistration(slot);
            else CloseConnection(slot);
        }
        CloseListeners(ListenerKind.Metrics);
        CloseAllMetrics();
    }

    private bool AnyWriting()
    {
        foreach (int slot in _table.UsedSlots())
        {
            if (_table[slot].State == ConnectionState.Writing) return true;
        }
        return false;
    }
}
