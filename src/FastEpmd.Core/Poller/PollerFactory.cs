// The one place a poller backend is chosen: the daemon asks for its platform's, the loop suite asks
// for each kind in turn. Nothing else names a backend.
using FastEpmd.Interop;

namespace FastEpmd.Poller;

internal static class PollerFactory
{
    /// <summary>epoll on Linux; kqueue on macOS and FreeBSD (the BSDs .NET runs on).</summary>
    public static PollerKind ForThisPlatform =>
        OperatingSystem.IsLinux() ? PollerKind.Epoll
        : OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? PollerKind.Kqueue
        : throw new PlatformNotSupportedException("no epoll or kqueue on " + System.Runtime.InteropServices.RuntimeInformation.OSDescription);

    /// <summary>
    /// A poller of that kind returning at most capacity events per wait. kqueue goes through the
    /// linked shim unless kqueue names other fe_kq_* functions (KqueueCalls).
    /// </summary>
    public static IPoller Create(PollerKind kind, int capacity = 256, KqueueCalls kqueue = default) => kind switch
    {
        PollerKind.Epoll => new EpollPoller(capacity),
        PollerKind.Kqueue => new KqueuePoller(capacity, kqueue),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown poller kind"),
    };
}
