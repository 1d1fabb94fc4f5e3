namespace FastEpmd.Poller;

/// <summary>Readiness bits, the same for every backend.</summary>
[Flags]
internal enum PollFlags : uint
{
    None = 0,
    Read = 1,
    Write = 2,
    Hangup = 4,
    Error = 8,
}

/// <summary>What a descriptor is watched for.</summary>
internal enum PollInterest : byte
{
    Read,
    Write,

    /// <summary>Registered but reporting nothing (a paused listener).</summary>
    None,
}

/// <summary>One readiness event: the token given at Add/Modify and what is ready.</summary>
internal struct PollEvent
{
    public ulong Token;
    public PollFlags Flags;
}
