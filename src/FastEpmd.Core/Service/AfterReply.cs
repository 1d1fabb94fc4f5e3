namespace FastEpmd.Service;

/// <summary>What the reactor does with a connection once its reply is written.</summary>
internal enum AfterReply : byte
{
    /// <summary>One-shot requests and every silent rejection.</summary>
    Close,

    /// <summary>ALIVE2 accepted: the connection now is the registration.</summary>
    KeepRegistration,

    /// <summary>ALIVE2 refused: OTP keeps the socket open (we add a deadline).</summary>
    KeepRefusedAlive,

    /// <summary>KILL accepted: close everything and exit 0.</summary>
    StopDaemon,
}
