// A connection's poller interest and its close. The close is reported to the service, which
// decides whether it was a deregistration.
using FastEpmd.Interop;
using FastEpmd.Poller;

namespace FastEpmd.Reactor;

internal sealed partial class EpmdReactor
{
    private void Watch(int slot, PollInterest interest)
    {
        ref var c = ref _table[slot];
        bool write = interest == PollInterest.Write;
        if (c.InPoller && c.WatchingWrite == write) return;
        try
        {
            if (c.InPoller) _poller.Modify(c.Fd, _table.TokenOf(slot), interest);
            else _poller.Add(c.Fd, _table.TokenOf(slot), interest);
            c.InPoller = true;
            c.WatchingWrite = write;
        }
        catch (ErrnoException e)
        {
            if (_log.On(0)) _log.Write(0, "cannot watch fd " + c.Fd + ": " + e.Message);
            CloseConnection(slot);
        }
    }

    /// <summary>
    /// Closes a connection and tells the service (a registration's close is its deregistration).
    /// <paramref name="replied"/>: a whole reply was written with MSG_MORE and goes out with the FIN.
    /// </summary>
    private void CloseConnection(int slot, bool replied = false)
    {
        ref var c = ref _table[slot];
        _service.ConnectionClosed(c.Record, _table.TokenOf(slot));
        ReleaseSnapshot(slot);
        _admission.Release(slot);
        if (replied) SocketIo.Finish(c.Fd);
        else SocketIo.Close(c.Fd);
        _table.Free(slot);
    }
}
