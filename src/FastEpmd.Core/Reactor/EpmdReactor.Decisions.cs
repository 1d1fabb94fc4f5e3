// Carrying out what EpmdService decided for a complete request: effects on other connections
// first (probe or close an owner), then this connection's reply and what follows it.
using FastEpmd.Diagnostics;
using FastEpmd.Poller;
using FastEpmd.Service;

namespace FastEpmd.Reactor;

internal sealed partial class EpmdReactor
{
    /// <summary>Effects on other connections a decision may ask for before it is final.</summary>
    private const int MaxDecisionRounds = ReplySnapshots.MaxSnapshots + 2;

    private void Process(int slot, ReadOnlySpan<byte> request)
    {
        ref var c = ref _table[slot];
        ulong token = _table.TokenOf(slot);
        ulong liveOwner = 0;
        Decision decision = default;
        for (int round = 0; round < MaxDecisionRounds; round++)
        {
            decision = Decide(slot, request, token, liveOwner, retry: round > 0);
            if (decision.ProbeOwner != 0)
                liveOwner = ProbeOwner(decision.ProbeOwner) ? decision.ProbeOwner : 0;
            else if (decision.ShedSnapshot != 0)
                CloseReadersOf(decision.ShedSnapshot);
            else
                break;
        }
        if (decision.ProbeOwner != 0 || decision.ShedSnapshot != 0) Invariant.Broken("a decision that never settles");
        if (decision.CloseOwner != 0 && _table.Resolve(decision.CloseOwner) is int owner and >= 0)
            CloseConnection(owner);

        _table.ReturnInput(slot);   // the request is decided: its bytes are no longer needed
        c.After = decision.After;
        if (decision.After == AfterReply.KeepRegistration)
        {
            c.Record = decision.Record;
            c.StoreKey = decision.StoreKey;
        }
        _table.Unlink(slot, ConnectionTimer.Idle);   // the packet timer runs while reading only

        if (decision.IsSilent)
        {
            CloseConnection(slot);
            return;
        }
        if (_options.DelayWriteSeconds > 0) Thread.Sleep(_options.DelayWriteSeconds * 1000);
        if (decision.Snapshot != 0) c.Reply.FromSnapshot(_service.Snapshots, decision.Snapshot);
        else c.Reply.FromScratch(decision.ReplyLength);
        Write(slot);
    }

    /// <summary>The service's decision; a managed allocation it could not make (registry growth) sheds this connection.</summary>
    private Decision Decide(int slot, ReadOnlySpan<byte> request, ulong token, ulong liveOwner, bool retry)
    {
        ref var c = ref _table[slot];
        try
        {
            return _service.Handle(request, c.IsLocal, token, c.Fd, _replyScratch, liveOwner, retry);
        }
        catch (OutOfMemoryException)
        {
            if (_log.On(0)) _log.Write(0, "out of memory deciding a request, closing fd " + c.Fd);
            return Decision.Silent;
        }
    }

    /// <summary>Closes every connection still sending this snapshot; the last one frees it.</summary>
    private void CloseReadersOf(int snapshot)
    {
        int closed = 0;
        for (int slot = 0; slot < _table.HighWater; slot++)
        {
            if (_table[slot].State == ConnectionState.Writing && _table[slot].Reply.Snapshot == snapshot)
            {
                CloseConnection(slot);
                closed++;
            }
        }
        Counters.SnapshotReadersShed += closed;
        if (_log.On(1)) _log.Write(1, "reply memory budget reached, closed " + closed + " readers of an older NAMES/DUMP snapshot");
        if (_service.Snapshots.Readers(snapshot) != 0) Invariant.Broken("a snapshot pinned by no connection");
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
                // The reply is out: from now on a restart keeps this registration.
                _store?.Store(c.StoreKey, c.Fd);
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
                KeepRegistrationsAtStop = false;
                CloseConnection(slot, replied: true);
                _stopRequested = true;
                break;
            default:
                CloseConnection(slot, replied: true);
                break;
        }
    }
}
