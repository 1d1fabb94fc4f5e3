// Reading requests: what OTP would read (greedily until the header is known, then exactly the rest),
// each byte restarting the packet timer; and the end of an ALIVE connection on any event.
using FastEpmd.Interop;
using FastEpmd.Poller;
using FastEpmd.Wire;

namespace FastEpmd.Endpoints.Epmd;

internal sealed unsafe partial class EpmdEndpoint
{
    /// <summary>Reads drained from an ALIVE socket before it is closed; the rest (a flood) may reset.</summary>
    private const int AliveDrainReads = 16;

    // Not _readScratch: a probe drains a dead owner while the newcomer's request is still in there.
    private readonly byte[] _drainScratch = new byte[1024];

    private void OnReadable(int slot)
    {
        ref var c = ref _connections[slot];
        int fd = _loop.FdOf(slot);
        while (true)
        {
            Span<byte> destination = c.InCount == 0
                ? _readScratch
                : Input(slot).Slice(c.InCount, Frame.NextReadSize(Input(slot)[..c.InCount]));
            var status = SocketIo.Receive(fd, destination, out int n, out int errno);
            if (status == IoStatus.WouldBlock)
            {
                Watch(slot, PollInterest.Read);
                return;
            }
            if (status != IoStatus.Done)
            {
                if (_log.On(1))
                    _log.Write(1, status == IoStatus.PeerClosed
                        ? "got partial packet only on file descriptor " + fd + " (" + c.InCount + ")"
                        : "error in read, fd " + fd + ": " + Errno.Describe(errno));
                CloseConnection(slot);
                return;
            }
            Counters.BytesReceived += n;
            // OTP 25's packet timeout is an idle timer: every byte read restarts it.
            _loop.Arm(slot, _idle);

            // Fast path: a whole request in one read is parsed from the shared scratch buffer;
            // only split requests touch the slot's own buffer.
            ReadOnlySpan<byte> buffered;
            if (c.InCount == 0)
            {
                buffered = _readScratch.AsSpan(0, n);
            }
            else
            {
                c.InCount += n;
                buffered = Input(slot)[..c.InCount];
            }
            switch (Frame.TryRead(buffered, out var request))
            {
                case FrameStatus.Complete:
                    Process(slot, request);
                    return;
                case FrameStatus.Invalid:
                    if (_log.On(1)) _log.Write(1, "bad request length or trailing bytes, closing fd " + fd);
                    CloseConnection(slot);
                    return;
                default:
                    if (c.InCount == 0)
                    {
                        if (!TakeInput(slot))
                        {
                            if (_log.On(0)) _log.Write(0, "no memory for a split request, closing fd " + fd);
                            CloseConnection(slot);
                            return;
                        }
                        buffered.CopyTo(Input(slot));
                        c.InCount = n;
                    }
                    break;
            }
        }
    }

    /// <summary>
    /// Any byte, a FIN (even a half-close) or an error ends an ALIVE connection (OTP). What is
    /// pending is read first: close() with unread input sends an RST, and OTP's peer sees a FIN.
    /// </summary>
    private void OnAliveEvent(int slot)
    {
        if (_log.On(2)) _log.Write(2, "ALIVE connection closed or sent data, fd = " + _loop.FdOf(slot));
        DrainAndClose(slot);
    }

    private void DrainAndClose(int slot)
    {
        int fd = _loop.FdOf(slot);
        for (int i = 0; i < AliveDrainReads; i++)
        {
            if (SocketIo.Receive(fd, _drainScratch, out _, out _) != IoStatus.Done) break;
        }
        CloseConnection(slot);
    }
}
