// The running daemon's side of -upgrade: its control listener (a socket file in a private
// directory, Upgrade/ControlSocketPath) and the state a handoff session takes. The conversation
// itself runs inside the loop (Upgrade/HandoffSession), one step at a time.
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Reactor;
using FastEpmd.Service;
using FastEpmd.State;
using FastEpmd.Upgrade;

namespace FastEpmd.Daemon;

internal static class UpgradeControl
{
    /// <summary>The control listener, or -1 (logged) when there is none: the daemon serves on without -upgrade.</summary>
    public static int OpenListener(EpmdOptions options, Log log)
    {
        int fd = ControlSocketPath.Listen(ControlSocketPath.For(options), out string error);
        if (fd >= 0) return fd;
        if (log.On(0)) log.Write(0, "no -upgrade for this daemon: control socket " + error);
        return -1;
    }

    /// <summary>Removes the socket file at a plain stop (after a handoff the new daemon listens on it).</summary>
    public static void RemoveSocketFile(EpmdOptions options) => UnixSocket.Unlink(ControlSocketPath.For(options));

    /// <summary>Lets the loop's handoff sessions take this daemon's state (on the loop thread, frozen).</summary>
    public static void Enable(EpmdReactor reactor, EpmdService service) =>
        reactor.ExportForHandoff = hello => Export(reactor, service, hello);

    private static HandoffPayload Export(EpmdReactor reactor, EpmdService service, HandoffHello hello)
    {
        var state = AdoptedState.Export(reactor, service);
        var descriptors = new List<HandedDescriptor>();
        foreach (var (fd, kind) in state.Listeners)
            descriptors.Add(new HandedDescriptor(kind == ListenerKind.Metrics ? DescriptorRole.MetricsListener : DescriptorRole.EpmdListener, 0, fd));
        if (reactor.ControlFd >= 0) descriptors.Add(new HandedDescriptor(DescriptorRole.ControlListener, 0, reactor.ControlFd));
        foreach (var (key, fd) in state.Alive) descriptors.Add(new HandedDescriptor(DescriptorRole.Alive, key, fd));
        ushort format = HandoffSession.ChooseFormat([StateImage.CurrentVersion], hello.Formats);
        return new HandoffPayload(format, state.Image, descriptors, state.Alive.Count);
    }
}
