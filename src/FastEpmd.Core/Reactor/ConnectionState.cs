namespace FastEpmd.Reactor;

internal enum ConnectionState : byte
{
    Free,

    /// <summary>Waiting for a whole request; under the request deadline.</summary>
    Reading,

    /// <summary>A reply is partly written; still under the request deadline.</summary>
    Writing,

    /// <summary>An ALIVE2 connection that holds a registration: no deadline, any event ends it.</summary>
    Registered,

    /// <summary>An ALIVE2 connection whose request was refused: kept as OTP does, with a deadline.</summary>
    RefusedAlive,
}
