// After a handoff the new daemon owns the listeners and every registration's socket. Ours are
// copies of the same open files, so each is taken out of our epoll set before it is closed (epoll
// forgets a file only when every copy is gone), and no registration is ended: the node's socket
// stays open in the new process. No one-shot connection is left (the session drained them before
// it took the state); metrics connections and refused ALIVE2 ones are closed.
namespace FastEpmd.Reactor;

internal sealed partial class EpmdReactor
{
    /// <summary>Lets go of everything handed over, without serving anything again.</summary>
    public void HandOver()
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
        foreach (int slot in _table.UsedSlots())
        {
            if (_table[slot].InPoller) _poller.Remove(_table[slot].Fd);
            CloseConnection(slot);
        }
        CloseAllMetrics();
    }
}
