namespace FastEpmd.Service;

/// <summary>EpmdService's answer to one complete request.</summary>
internal struct Decision
{
    public AfterReply After;

    /// <summary>Reply bytes written into the caller's reply span (0: none).</summary>
    public int ReplyLength;

    /// <summary>A shared NAMES/DUMP reply, pinned for the caller, instead of reply-span bytes.</summary>
    public ReplySnapshot? Snapshot;

    /// <summary>KeepRegistration: the record this connection now owns.</summary>
    public int Record;

    // Effects on another connection, which the reactor carries out. At most one is set.

    /// <summary>STOP: the owner connection to close (its record is already unregistered); 0: none.</summary>
    public ulong CloseOwner;

    /// <summary>
    /// ALIVE2 for a name in use: nothing is decided yet. The reactor looks at this owner's socket;
    /// if it is gone it closes it (ConnectionClosed), then asks again passing what it found.
    /// </summary>
    public ulong ProbeOwner;

    public static Decision Silent => new() { After = AfterReply.Close };
}
