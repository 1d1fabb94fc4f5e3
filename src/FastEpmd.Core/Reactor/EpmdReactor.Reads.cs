// Reading requests: what OTP would read (greedily until the header is known, then exactly the rest),
// each byte restarting the packet timer; and the end of an ALIVE connection on any event.
using FastEpmd.Interop;
using FastEpmd.Poller;
using FastEpmd.Wire;

namespace FastEpmd.Reactor;

internal sealed partial class EpmdReactor
{
    /// <summary>Reads drained from an ALIVE socket before it is closed; the rest (a flood) may reset.</summary>
    private const int AliveDrainReads = 16;

    // Not _readScratch: a probe drains a dead owner while the newcomer's request is still in there.
    private readonly byte[] _drainScratch = new byte[1024];

    private void OnReadable(int slot)
    {
        ref var c = ref _table[slot];
        while (true)
        {
            Span<byte> destination = c.InCount == 0
                ? _readScratch
                : _table.Input(slot).Slice(c.InCount, Frame.NextReadSize(_table.Input(slot)[..c.InCount]));
            var status = SocketIo.Receive(c.Fd, destination, out int n, out int errno);
            if (status == IoStatus.WouldBlock)
            {
                Watch(slot, PollInterest.Read);
                return;
            }
            if (status != IoStatus.Done)
            {
                if (_log.On(1))
                    _log.Write(1, status == IoStatus.PeerClosed
                        ? "got partial packet only on file descriptor " + c.Fd + " (" + c.InCount + ")"
                        : "error in read, fd " + c.Fd + ": " + Errno.Describe(errno));
                CloseConnection(slot);
                return;
            }
            Counters.BytesReceived += n;
            // OTP 25's packet timeout is an idle timer: every byte read restarts it.
            _table.Append(slot, ConnectionTimer.Idle, _now + _idleTimeoutMs);

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
                buffered = _table.Input(slot)[..c.InCount];
            }
            switch (Frame.TryRead(buffered, out var request))
            {
                case FrameStatus.Complete:
                    Process(slot, request);
                    return;
                case FrameStatus.Invalid:
                    if (_log.On(1)) _log.Write(1, "bad request length or trailing bytes, closing fd " + c.Fd);
                    CloseConnection(slot);
                    return;
                default:
                    if (c.InCount == 0)
                    {
                        if (!_table.TakeInput(slot))
                        {
                            if (_log.On(0)) _log.Write(0, "no memory for a split request, closing fd " + c.Fd);
                            CloseConnection(slot);
                            return;
                        }
                        buffered.CopyTo(_table.Input(slot));
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
        if (_log.On(2)) _log.Write(2, "ALIVE connection closed or sent data, fd = " + _table[slot].Fd);
        DrainAndClose(slot);
    }

    private void DrainAndClose(int slot)
    {
        int fd = _table[slot].Fd;
        for (int i = 0; i < AliveDrainReads; i++)
        {
            if (SocketIo.Receive(fd, _drainScratch, out _, out _) != IoStatus.Done) break;
        }
        CloseConnection(slot);
    }
}
