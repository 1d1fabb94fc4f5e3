// How a test gets a poller: the loop suite runs once per backend ([TestFixture(PollerBackend.Epoll)]
// and [TestFixture(PollerBackend.Kqueue)]) and makes its poller here, through the daemon's factory.
// On Linux the kqueue backend runs over libkqueue (Libkqueue.cs).
using FastEpmd.Poller;

namespace FastEpmd.Tests.Pollers;

/// <summary>A poller backend, as a test fixture's argument (PollerKind is Core's, internal).</summary>
public enum PollerBackend
{
    Epoll,
    Kqueue,
}

internal static class PollerBackends
{
    public static PollerKind Kind(PollerBackend backend) => backend switch
    {
        PollerBackend.Epoll => PollerKind.Epoll,
        PollerBackend.Kqueue => PollerKind.Kqueue,
        _ => throw new ArgumentOutOfRangeException(nameof(backend)),
    };

    /// <summary>
    /// A poller of that backend from PollerFactory. kqueue uses the platform's where the linked shim
    /// has it (BSD, macOS) and libkqueue's on Linux, whose shim has only the ENOSYS stubs.
    /// </summary>
    public static IPoller Create(PollerBackend backend, int capacity = 256)
    {
        var kind = Kind(backend);
        if (kind == PollerKind.Kqueue && !KqueuePoller.IsSupported)
            return PollerFactory.Create(kind, capacity, Libkqueue.Calls);
        return PollerFactory.Create(kind, capacity);
    }
}
