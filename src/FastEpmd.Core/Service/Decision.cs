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

    /// <summary>STOP: the owner connection to close (its record is already unregistered); 0: none.</summary>
    public ulong CloseOwner;

    public static Decision Silent => new() { After = AfterReply.Close };
}
