namespace FastEpmd.Service;

/// <summary>EpmdService's answer to one complete request.</summary>
internal struct Decision
{
    public AfterReply After;

    /// <summary>Reply bytes written into the caller's reply span (0: none).</summary>
    public int ReplyLength;

    /// <summary>A shared NAMES/DUMP reply (an id in EpmdService.Snapshots; 0: none) instead of reply-span bytes.</summary>
    public int Snapshot;

    /// <summary>KeepRegistration: the record this connection now owns.</summary>
    public int Record;

    /// <summary>KeepRegistration: the registration's key, under which a descriptor store keeps its socket.</summary>
    public ulong StoreKey;

    // Effects on another connection, which the reactor carries out. At most one is set.

    /// <summary>STOP: the owner connection to close (its record is already unregistered); 0: none.</summary>
    public ulong CloseOwner;

    /// <summary>
    /// ALIVE2 for a name in use: nothing is decided yet. The reactor looks at this owner's socket;
    /// if it is gone it closes it (ConnectionClosed), then asks again passing what it found.
    /// </summary>
    public ulong ProbeOwner;

    /// <summary>
    /// NAMES/DUMP and the reply budget is spent: nothing is decided yet. The reactor closes every
    /// connection still sending this (oldest) snapshot, which frees it, then asks again.
    /// </summary>
    public int ShedSnapshot;

    /// <summary>No reply and no effect elsewhere: the connection is closed.</summary>
    public readonly bool IsSilent => ReplyLength == 0 && Snapshot == 0;

    public static Decision Silent => new() { After = AfterReply.Close };
}
