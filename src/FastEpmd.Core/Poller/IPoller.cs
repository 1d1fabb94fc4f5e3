namespace FastEpmd.Poller;

/// <summary>
/// The backend seam (redis ae_*.c, libuv uv__io_poll): one call per batch to wait, one per
/// connection to add or change. Closing a descriptor removes it; stale events from a closed and
/// reused descriptor are dropped by the generation in the token, not here.
/// </summary>
internal interface IPoller : IDisposable
{
    void Add(int fd, ulong token, PollInterest interest);
    void Modify(int fd, ulong token, PollInterest interest);

    /// <summary>
    /// Stops watching fd. Needed before closing a descriptor whose open file another process also
    /// holds (a handed-over socket): close alone would not remove it. 0, also when fd was not
    /// watched or is not open (nothing is left to remove); else the errno of the refusal.
    /// </summary>
    int Remove(int fd);

    /// <summary>Waits up to timeoutMs (-1: forever). EINTR returns 0 events; other errors throw.</summary>
    int Wait(Span<PollEvent> events, int timeoutMs);

    /// <summary>
    /// Watches the backend's own wake-up descriptor (Waker) under token: after Wake, a Wait reports
    /// one event with that token, already consumed. Once, at start; it throws when the backend refuses.
    /// </summary>
    void AddWaker(ulong token);

    /// <summary>Wakes a Wait in progress, or the next one. Safe from any thread, never blocks.</summary>
    void Wake();
}
