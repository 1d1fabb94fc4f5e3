// The accept gate: accept4 on a ready epmd listener, then Admit decides whether the new descriptor
// gets a slot. Every check on a newcomer (its address, the table) belongs in Admit, before a slot is
// taken; a refused descriptor is closed there and counted.
using FastEpmd.Interop;

namespace FastEpmd.Reactor;

internal sealed partial class EpmdReactor
{
    /// <summary>accept4 attempts per readiness when the kernel answers EINTR or ECONNABORTED.</summary>
    private const int AcceptRetries = 4;

    /// <summary>
    /// One connection per readiness, as OTP: the listener is level-triggered, so the next wait reports
    /// it again while more are queued, and a storm is served in turn with everything else. Draining
    /// until EAGAIN would cost a failing accept4 per wakeup, and Linux allocates the new socket and
    /// file before it finds the queue empty: about 4 us here, a fifth of a whole query.
    /// </summary>
    private void AcceptFrom(int listenFd)
    {
        // A long batch can make the loop's clock stale; deadlines count from the real accept.
        _now = _clockMs();
        int errno = 0;
        for (int attempt = 0; attempt < AcceptRetries; attempt++)
        {
            int fd = Listener.Accept(listenFd, out var peer);
            if (fd >= 0)
            {
                if (Admit(fd, in peer) is int slot and >= 0) Start(slot);
                return;
            }
            errno = -fd;
            if (errno != Errno.EINTR && errno != Errno.ECONNABORTED) break;
        }
        if (Errno.IsWouldBlock(errno) || errno == Errno.EINTR || errno == Errno.ECONNABORTED) return;
        if (Errno.IsOutOfDescriptors(errno))
        {
            ShedWithoutDescriptors(listenFd, errno);
            return;
        }
        if (_log.On(0)) _log.Write(0, "error in accept: " + Errno.Describe(errno));
    }

    /// <summary>The slot the newcomer gets, or -1 when it is refused (its descriptor is closed here).</summary>
    private int Admit(int fd, in PeerAddress peer)
    {
        int slot = _table.Allocate(fd);
        if (slot < 0 && EvictOldest()) slot = _table.Allocate(fd);
        if (slot < 0)
        {
            // Every slot holds a registration: the newcomer is the one refused, never a node.
            Counters.DroppedForFullTable++;
            if (_log.On(1)) _log.Write(1, "connection table full of registrations, closing new fd " + fd);
            SocketIo.Close(fd);
            return -1;
        }
        _table[slot].IsLocal = peer.IsLocal;
        Counters.Accepted++;
        if (_log.On(2)) _log.Write(2, (peer.IsLocal ? "Local" : "Non-local") + " peer connected, fd = " + fd);
        return slot;
    }

    private void Start(int slot)
    {
        _table.Append(slot, ConnectionTimer.Request, _now + _requestDeadlineMs);
        _table.Append(slot, ConnectionTimer.Idle, _now + _idleTimeoutMs);
        // With TCP_DEFER_ACCEPT (the default) the request is already in: read now, no poller round trip.
        OnReadable(slot);
    }
}
