// The accept gate: accept4 on a ready listener (a metrics one admits into its own table), then Admit decides whether the new descriptor
// gets a slot. Every check on a newcomer (its address, the table) belongs in Admit, before a slot is
// taken; a refused descriptor is closed there and counted.
using FastEpmd.Interop;
using FastEpmd.Service;

namespace FastEpmd.Reactor;

internal sealed partial class EpmdReactor
{
    /// <summary>accept4 attempts per readiness while the kernel answers an error worth retrying at once.</summary>
    private const int AcceptRetries = 4;

    /// <summary>-allow and -max_per_peer, decided by the service's rules before a slot is taken.</summary>
    private readonly PeerAdmission _admission;

    public PeerAdmission Admission => _admission;

    /// <summary>
    /// Up to -accept_batch connections per readiness (default one, as OTP): the listener is
    /// level-triggered, so the next wait reports it again while more are queued, and a storm is served
    /// in turn with everything else. A batch stops at EAGAIN, and that failing accept4 is its price:
    /// Linux allocates the new socket and file before it finds the queue empty, about 4 us here, a
    /// fifth of a whole query (bench/results/FINDINGS.md, third pass).
    /// </summary>
    private void AcceptFrom(int listener, int listenFd)
    {
        // A long batch can make the loop's clock stale; deadlines count from the real accept.
        _now = _clockMs();
        for (int n = 0; n < _options.AcceptBatch && !_stopRequested; n++)
        {
            if (!AcceptOne(listener, listenFd)) return;
        }
    }

    /// <summary>
    /// One accept4 (retried at once while the error is worth it), the newcomer admitted and started.
    /// False when the batch ends here: the queue is empty, or the error was handled by its class.
    /// </summary>
    private bool AcceptOne(int listener, int listenFd)
    {
        int errno = 0;
        var kind = AcceptErrorKind.QueueEmpty;
        for (int attempt = 0; attempt < AcceptRetries; attempt++)
        {
            int fd = Listener.Accept(listenFd, out var peer);
            if (fd >= 0)
            {
                _backoffs[listener].Succeeded();
                if (_listeners[listener].Kind == ListenerKind.Metrics) AdmitMetrics(fd);
                else if (Admit(fd, in peer) is int slot and >= 0) Start(slot);
                return true;
            }
            errno = -fd;
            kind = AcceptError.Classify(errno);
            if (!AcceptError.RetryAtOnce(kind)) break;
        }
        switch (kind)
        {
            case AcceptErrorKind.QueueEmpty:
            case AcceptErrorKind.Interrupted:
                break;
            case AcceptErrorKind.OutOfResources:
                if (!ShedWithoutDescriptors(listenFd, errno)) PauseListener(listener, errno);
                break;
            case AcceptErrorKind.NotAListener:
                // OTP's line and exit code: this descriptor will never accept anything.
                if (_log.On(0)) _log.Write(0, "error in accept: " + Errno.Describe(errno));
                ExitCode = 1;
                _stopRequested = true;
                break;
            default:
                PauseListener(listener, errno);
                break;
        }
        return false;
    }

    /// <summary>The slot the newcomer gets, or -1 when it is refused (its descriptor is closed here).</summary>
    private int Admit(int fd, in PeerAddress peer)
    {
        // First, so that a refused peer evicts no one and none of its bytes is read.
        var ip = peer.ToPeerIp();
        var verdict = _admission.Admit(in ip, peer.IsLocal);
        if (verdict != PeerVerdict.Admitted)
        {
            if (_log.On(1))
                _log.Write(1, (verdict == PeerVerdict.NotAllowed ? "peer not in -allow, closing fd " : "peer over -max_per_peer, closing fd ")
                    + fd + " from " + ip);
            SocketIo.Close(fd);
            return -1;
        }
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
        HoldSlot(slot, in ip, peer.IsLocal);
        Counters.Accepted++;
        if (_log.On(2)) _log.Write(2, (peer.IsLocal ? "Local" : "Non-local") + " peer connected, fd = " + fd);
        return slot;
    }

    /// <summary>The slot counts against its peer's -max_per_peer, and keeps OTP's local rule.</summary>
    private void HoldSlot(int slot, in PeerIp ip, bool isLocal)
    {
        _admission.Hold(slot, in ip, isLocal);
        _table[slot].IsLocal = isLocal;
    }

    private void Start(int slot)
    {
        _table.Append(slot, ConnectionTimer.Request, _now + _requestDeadlineMs);
        _table.Append(slot, ConnectionTimer.Idle, _now + _idleTimeoutMs);
        // With TCP_DEFER_ACCEPT (the default) the request is already in: read now, no poller round trip.
        OnReadable(slot);
    }
}
