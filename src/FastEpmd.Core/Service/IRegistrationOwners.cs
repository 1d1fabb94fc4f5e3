namespace FastEpmd.Service;

/// <summary>The reactor's view of registration sockets, for the decisions that need one.</summary>
internal interface IRegistrationOwners
{
    /// <summary>
    /// True when the owner's socket has already been closed or reset by the peer (or sent a byte,
    /// which also ends a registration) but the loop has not processed it yet.
    /// </summary>
    bool IsGone(ulong owner);

    /// <summary>Closes the owner's connection and drops its registration now.</summary>
    void Drop(ulong owner);
}
