namespace FastEpmd.Poller;

/// <summary>The readiness backends: epoll (Linux) and kqueue (the BSDs, macOS).</summary>
internal enum PollerKind
{
    Epoll,
    Kqueue,
}
