// Carrying out what EpmdService decided for a complete request: effects on other connections
// first (probe or close an owner), then this connection's reply and what follows it.
using FastEpmd.Poller;
using FastEpmd.Service;

namespace FastEpmd.Reactor;

internal sealed partial class EpmdReactor
{
    private void Process(int slot, ReadOnlySpan<byte> request)
    {
        ref var c = ref _table[slot];
        ulong token = _table.TokenOf(slot);
        var decision = _service.Handle(request, c.IsLocal, token, c.Fd, _replyScratch);
        if (decision.ProbeOwner != 0)
        {
            ulong alive = ProbeOwner(decision.ProbeOwner) ? decision.ProbeOwner : 0;
            decision = _service.Handle(request, c.IsLocal, token, c.Fd, _replyScratch, liveOwner: alive);
        }
        if (decision.CloseOwner != 0 && _table.Resolve(decision.CloseOwner) is int owner and >= 0)
            CloseConnection(owner);

        c.InCount = 0;
        c.After = decision.After;
        if (decision.After == AfterReply.KeepRegistration) c.Record = decision.Record;
        _table.Unlink(slot, ConnectionTimer.Idle);   // the packet timer runs while reading only

        if (decision.ReplyLength == 0 && decision.Snapshot is null)
        {
            CloseConnection(slot);
            return;
        }
        if (_options.DelayWriteSeconds > 0) Thread.Sleep(_options.DelayWriteSeconds * 1000);
        c.OutOffset = 0;
        if (decision.Snapshot is { } snapshot)
        {
            _table.Snapshot(slot) = snapshot;
            c.OutLength = snapshot.Length;
            Write(slot, fromScratch: false);
        }
        else
        {
            c.OutLength = decision.ReplyLength;
            Write(slot, fromScratch: true);
        }
    }

    /// <summary>
    /// True when the owner's connection is alive. One whose peer already closed, reset or sent a
    /// byte (which ends a registration too) is closed now, which frees its name.
    /// </summary>
    private bool ProbeOwner(ulong owner)
    {
        int slot = _table.Resolve(owner);
        if (slot < 0)
        {
            // A record owned by no connection would be a broken invariant; refusing keeps the name.
            if (_log.On(0)) _log.Write(0, "registration without a connection; refusing the duplicate");
            return true;
        }
        if (SocketIo.Peek(_table[slot].Fd) == IoStatus.WouldBlock) return true;
        Counters.DeadOwnersDropped++;
        DrainAndClose(slot);
        return false;
    }

    /// <summary>The reply is out: keep the connection as a registration or refused ALIVE, or end it.</summary>
    private void Finish(int slot)
    {
        ref var c = ref _table[slot];
        switch (c.After)
        {
            case AfterReply.KeepRegistration:
                _table.Unlink(slot, ConnectionTimer.Request);
                c.State = ConnectionState.Registered;
                Watch(slot, PollInterest.Read);
                break;
            case AfterReply.KeepRefusedAlive:
                // OTP keeps a refused ALIVE socket open forever; we keep it for one packet timeout.
                _table.Unlink(slot, ConnectionTimer.Request);
                c.State = ConnectionState.RefusedAlive;
                _table.Append(slot, ConnectionTimer.Idle, _now + _idleTimeoutMs);
                Watch(slot, PollInterest.Read);
                break;
            case AfterReply.StopDaemon:
                CloseConnection(slot, replied: true);
                _stopRequested = true;
                break;
            default:
                CloseConnection(slot, replied: true);
                break;
        }
    }
}
