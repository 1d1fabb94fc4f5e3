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
        for (int i = 0; i < _listeners.Count; i++)
        {
            var (fd, kind) = _listeners[i];
            if (fd < 0) continue;
            _poller.Remove(fd);
            SocketIo.Close(fd);
            _listeners[i] = (-1, kind);
        }
        if (_controlFd >= 0)
        {
            _poller.Remove(_controlFd);
            SocketIo.Close(_controlFd);
            _controlFd = -1;
        }
        foreach (int slot in _table.UsedSlots())
        {
            var state = _table[slot].State;
            if (state is ConnectionState.Registered or ConnectionState.RefusedAlive) LetGo(slot);
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

    /// <summary>The open listening sockets and their kinds, to hand over.</summary>
    public List<(int Fd, ListenerKind Kind)> HandedListeners() => _listeners.FindAll(l => l.Fd >= 0);

    /// <summary>Closes our copy of a handed-over connection; the service is not told (no deregistration).</summary>
    private void LetGo(int slot)
    {
        ref var c = ref _table[slot];
        if (c.InPoller) _poller.Remove(c.Fd);
        c.Reply.Release(_service.Snapshots, _table.Spills);
        _admission.Release(slot);
        SocketIo.Close(c.Fd);
        _table.Free(slot);
    }
}
