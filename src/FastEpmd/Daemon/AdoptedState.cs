// The daemon's entry points for a handoff (-upgrade): start serving with what the old process
// passed (listeners, its state image, its ALIVE sockets by name), and, on the old process's loop
// thread, export that state. InheritedRegistrations does the judging and adopting.
using FastEpmd.Adoption;
using FastEpmd.Diagnostics;
using FastEpmd.Reactor;
using FastEpmd.Service;
using FastEpmd.State;

namespace FastEpmd.Daemon;

internal static class AdoptedState
{
    /// <summary>
    /// The receiving side: serves until stopped with these listeners, restoring the image (already
    /// decoded and checked before the accept) and adopting each live ALIVE socket by its key. A bad
    /// or unknown socket is closed and its registration dropped (one line each). Returns the
    /// daemon's exit code.
    /// </summary>
    public static int Serve(EpmdOptions options, Log log, List<(int Fd, string Description)> listeners,
        (int Fd, string Description)? metrics, DecodedState image, List<(ulong Key, int Fd)> alive, int controlFd = -1)
    {
        var handoff = InheritedRegistrations.FromHandoff(image, alive);
        return DaemonHost.ServeListeners(options, log, listeners, metrics, DaemonHost.TableSize(options), handoff: handoff,
            controlFd: controlFd);
    }

    /// <summary>The sending side, on the loop thread: image bytes, (key, fd) pairs and listeners.</summary>
    public static ExportedState Export(EpmdReactor reactor, EpmdService service) => InheritedRegistrations.Export(reactor, service);
}
