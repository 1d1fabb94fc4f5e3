namespace FastEpmd.Reactor;

/// <summary>A socket call's result, classified once so the reactor never looks at errno.</summary>
internal enum IoStatus
{
    Done,
    WouldBlock,
    PeerClosed,
    Reset,
    Failed,
}
