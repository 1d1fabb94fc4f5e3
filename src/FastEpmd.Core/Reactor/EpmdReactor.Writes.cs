// Writing replies without blocking: a slow reader parks the slot on EPOLLOUT, a small reply's
// unsent tail moves from the shared scratch into the slot's own buffer.
using FastEpmd.Interop;
using FastEpmd.Poller;
using FastEpmd.Service;

namespace FastEpmd.Reactor;

internal sealed partial class EpmdReactor
{
    private void Write(int slot, bool fromScratch)
    {
        ref var c = ref _table[slot];
        var snapshot = _table.Snapshot(slot);
        ReadOnlySpan<byte> source = snapshot is not null ? snapshot.Bytes
            : fromScratch ? _replyScratch : _table.Output(slot);
        bool endsStream = c.After is AfterReply.Close or AfterReply.StopDaemon;
        while (c.OutOffset < c.OutLength)
        {
            var status = SocketIo.Send(c.Fd, source[c.OutOffset..c.OutLength], endsStream, out int sent, out int errno);
            if (status == IoStatus.Done)
            {
                c.OutOffset += sent;
                Counters.BytesSent += sent;
                continue;
            }
            if (status == IoStatus.WouldBlock)
            {
                if (fromScratch && snapshot is null)
                {
                    int rest = c.OutLength - c.OutOffset;
                    _replyScratch.AsSpan(c.OutOffset, rest).CopyTo(_table.Output(slot));
                    c.OutOffset = 0;
                    c.OutLength = rest;
                }
                c.State = ConnectionState.Writing;
                Watch(slot, PollInterest.Write);
                return;
            }
            // The peer reset before the reply went out. OTP then unregisters the *name*, evicting
            // the real owner after a refused duplicate; the service drops only a record this socket owns.
            if (_log.On(1)) _log.Write(1, "error in write, fd " + c.Fd + ": " + Errno.Describe(errno));
            if (c.After == AfterReply.StopDaemon) _stopRequested = true;
            CloseConnection(slot);
            return;
        }
        ReleaseSnapshot(slot);
        Finish(slot);
    }

    private void ReleaseSnapshot(int slot)
    {
        ref var snapshot = ref _table.Snapshot(slot);
        if (snapshot is null) return;
        snapshot.Cache.Release(snapshot);
        snapshot = null;
    }
}
