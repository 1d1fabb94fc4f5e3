// Writing replies without blocking: a slow reader parks the slot on EPOLLOUT, a small reply's
// unsent tail moves from the shared scratch into the slot's own buffer.
using FastEpmd.Interop;
using FastEpmd.Poller;
using FastEpmd.Service;

namespace FastEpmd.Endpoints.Epmd;

internal sealed unsafe partial class EpmdEndpoint
{
    private void Write(int slot)
    {
        ref var c = ref _connections[slot];
        int fd = _loop.FdOf(slot);
        bool endsStream = c.After is AfterReply.Close or AfterReply.StopDaemon;
        while (!c.Reply.Done)
        {
            var pending = c.Reply.Pending(_replyScratch, _service.Snapshots);
            var status = SocketIo.Send(fd, pending, endsStream, out int sent, out int errno);
            if (status == IoStatus.Done)
            {
                c.Reply.Offset += sent;
                Counters.BytesSent += sent;
                continue;
            }
            if (status == IoStatus.WouldBlock)
            {
                if (!c.Reply.KeepUnsent(_replyScratch, Spills))
                {
                    if (_log.On(0)) _log.Write(0, "no memory to hold a reply, closing fd " + fd);
                    CloseConnection(slot);
                    return;
                }
                c.State = ConnectionState.Writing;
                Watch(slot, PollInterest.Write);
                return;
            }
            // The peer reset before the reply went out. OTP then unregisters the *name*, evicting
            // the real owner after a refused duplicate; the service drops only a record this socket owns.
            if (_log.On(1)) _log.Write(1, "error in write, fd " + fd + ": " + Errno.Describe(errno));
            if (c.After == AfterReply.StopDaemon) _loop.Stop();
            CloseConnection(slot);
            return;
        }
        c.Reply.Release(_service.Snapshots, Spills);
        Finish(slot);
    }
}
