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
        if (!TryWatch(c.Fd, _table.TokenOf(slot), interest, ref c.InPoller, ref c.WatchingWrite)) CloseConnection(slot);
    }

    /// <summary>Adds or modifies a descriptor's interest (nothing when unchanged); false, logged, when the poller refuses.</summary>
    private bool TryWatch(int fd, ulong token, PollInterest interest, ref bool inPoller, ref bool watchingWrite)
    {
        bool write = interest == PollInterest.Write;
        if (inPoller && watchingWrite == write) return true;
        try
        {
            if (inPoller) _poller.Modify(fd, token, interest);
            else _poller.Add(fd, token, interest);
            inPoller = true;
            watchingWrite = write;
            return true;
        }
        catch (ErrnoException e)
        {
            if (_log.On(0)) _log.Write(0, "cannot watch fd " + fd + ": " + e.Message);
            return false;
        }
    }

    /// <summary>
    /// Closes a connection and tells the service (a registration's close is its deregistration).
    /// <paramref name="replied"/>: a whole reply was written with MSG_MORE and goes out with the FIN.
    /// </summary>
    private void CloseConnection(int slot, bool replied = false)
    {
        ref var c = ref _table[slot];
        _service.ConnectionClosed(c.Record, _table.TokenOf(slot), c.Fd, c.State == ConnectionState.RefusedAlive);
        // Whoever ended the registration (its node, STOP), the store's copy would keep the node's
        // socket open: it goes too.
        if (c.State == ConnectionState.Registered && c.StoreKey != 0) _store?.Remove(c.StoreKey);
        c.Reply.Release(_service.Snapshots, _table.Spills);
        _admission.Release(slot);
        if (replied) SocketIo.Finish(c.Fd);
        else SocketIo.Close(c.Fd);
        _table.Free(slot);
    }
}
