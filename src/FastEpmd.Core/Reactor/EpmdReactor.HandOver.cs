// After a handoff the new daemon owns the listeners and every registration's socket. Ours are
// copies of the same open files, so each is taken out of our epoll set before it is closed (epoll
// forgets a file only when every copy is gone), and no registration is ended: the node's socket
// stays open in the new process. One-shot connections already accepted are still answered.
namespace FastEpmd.Reactor;

internal sealed partial class EpmdReactor
{
    /// <summary>
    /// Lets go of everything handed over, then serves the one-shot connections already accepted
    /// (the service refuses registry changes now) for up to budgetMs, and closes what is left.
    /// </summary>
    public void HandOver(int budgetMs)
    {
        _service.HandedOver = true;
        CloseListeners(ListenerKind.Epmd);
        CloseListeners(ListenerKind.Metrics);
        CloseControl();
        foreach (int slot in _table.UsedSlots())
        {
            ref var c = ref _table[slot];
            if (c.State != ConnectionState.Registered) continue;
            if (c.InPoller) _poller.Remove(c.Fd);
            ReleaseRegistration(slot);
        }

        long until = _clockMs() + budgetMs;
        while ((_table.Count > 0 || AnyMetricsConnection()) && _clockMs() < until)
        {
            int n = _poller.Wait(_events, (int)Math.Max(1, until - _clockMs()));
            _now = _clockMs();
            for (int i = 0; i < n; i++) Dispatch(in _events[i]);
        }
        foreach (int slot in _table.UsedSlots()) CloseConnection(slot);
        CloseAllMetrics();
    }
}
