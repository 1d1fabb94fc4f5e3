// Carrying out what EpmdService decided for a complete request: effects on other connections
// first (probe or close an owner), then this connection's reply and what follows it.
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Poller;
using FastEpmd.Service;

namespace FastEpmd.Endpoints.Epmd;

internal sealed unsafe partial class EpmdEndpoint
{
    /// <summary>Effects on other connections a decision may ask for before it is final.</summary>
    private const int MaxDecisionRounds = ReplySnapshots.MaxSnapshots + 2;

    private void Process(int slot, ReadOnlySpan<byte> request)
    {
        ref var c = ref _connections[slot];
        ulong token = _loop.TokenOf(slot);
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
        if (decision.CloseOwner != 0 && _loop.Resolve(decision.CloseOwner) is int owner and >= 0 && _loop.Table[owner].Endpoint == _id)
            CloseConnection(owner);

        ReturnInput(slot);   // the request is decided: its bytes are no longer needed
        c.After = decision.After;
        if (decision.After == AfterReply.KeepRegistration)
        {
            c.Record = decision.Record;
            c.StoreKey = decision.StoreKey;
        }
        _loop.Disarm(slot, _idle);   // the packet timer runs while reading only

        if (decision.IsSilent)
        {
            CloseConnection(slot);
            return;
        }
        if (_options.DelayWriteSeconds > 0) Thread.Sleep(_options.DelayWriteSeconds * 1000);   // OTP's -delay_write
        if (decision.Snapshot != 0) c.Reply.FromSnapshot(_service.Snapshots, decision.Snapshot);
        else c.Reply.FromScratch(decision.ReplyLength);
        Write(slot);
    }

    /// <summary>The service's decision; a managed allocation it could not make (registry growth) sheds this connection.</summary>
    private Decision Decide(int slot, ReadOnlySpan<byte> request, ulong token, ulong liveOwner, bool retry)
    {
        ref var c = ref _connections[slot];
        try
        {
            return _service.Handle(request, c.IsLocal, token, _loop.FdOf(slot), _replyScratch, liveOwner, retry);
        }
        catch (OutOfMemoryException)
        {
            if (_log.On(0)) _log.Write(0, "out of memory deciding a request, closing fd " + _loop.FdOf(slot));
            return Decision.Silent;
        }
    }

    /// <summary>Closes every connection still sending this snapshot; the last one frees it.</summary>
    private void CloseReadersOf(int snapshot)
    {
        int closed = 0;
        for (int slot = 0; slot < _loop.Table.HighWater; slot++)
        {
            if (_connections[slot].State == ConnectionState.Writing && _connections[slot].Reply.Snapshot == snapshot)
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
        int slot = _loop.Resolve(owner);
        if (slot < 0 || _loop.Table[slot].Endpoint != _id)
        {
            // A record owned by no connection would be a broken invariant; refusing keeps the name.
            if (_log.On(0)) _log.Write(0, "registration without a connection; refusing the duplicate");
            return true;
        }
        if (SocketIo.Peek(_loop.FdOf(slot)) == IoStatus.WouldBlock) return true;
        Counters.DeadOwnersDropped++;
        DrainAndClose(slot);
        return false;
    }

    /// <summary>The reply is out: keep the connection as a registration or refused ALIVE, or end it.</summary>
    private void Finish(int slot)
    {
        ref var c = ref _connections[slot];
        switch (c.After)
        {
            case AfterReply.KeepRegistration:
                _loop.Disarm(slot, _request);
                c.State = ConnectionState.Registered;
                // The reply is out: from now on a restart keeps this registration.
                _store?.Store(c.StoreKey, _loop.FdOf(slot));
                Watch(slot, PollInterest.Read);
                break;
            case AfterReply.KeepRefusedAlive:
                // OTP keeps a refused ALIVE socket open forever; we keep it for one packet timeout.
                _loop.Disarm(slot, _request);
                c.State = ConnectionState.RefusedAlive;
                _loop.Arm(slot, _idle);
                Watch(slot, PollInterest.Read);
                break;
            case AfterReply.StopDaemon:
                KeepRegistrationsAtStop = false;
                CloseConnection(slot, replied: true);
                _loop.Stop();
                break;
            default:
                CloseConnection(slot, replied: true);
                break;
        }
    }
}
