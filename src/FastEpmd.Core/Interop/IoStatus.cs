namespace FastEpmd.Interop;

/// <summary>A socket call's result, classified once so the loop and the endpoints never look at errno.</summary>
internal enum IoStatus
{
    Done,
    WouldBlock,
    PeerClosed,
    Reset,
    Failed,
}
