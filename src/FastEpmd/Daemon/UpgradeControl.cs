// The running daemon's side of -upgrade: its control listener (a socket file in a private
// directory, Upgrade/ControlSocketPath) and the state a handoff session takes. The conversation
// itself runs inside the loop (Upgrade/HandoffSession), one step at a time.
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Endpoints.Control;
using FastEpmd.Loop;
using FastEpmd.Restart;
using FastEpmd.Service;
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

    /// <summary>The state a handoff session takes (on the loop thread, frozen): the image and every endpoint's descriptors.</summary>
    public static HandoffPayload Export(EpmdService service, IReadOnlyList<IRestartable> endpoints, HandoffHello hello)
    {
        var state = InheritedRegistrations.Export(service, endpoints);
        ushort format = HandoffSession.ChooseFormat([StateImage.CurrentVersion], hello.Formats);
        return new HandoffPayload(format, state.Image, state.Descriptors, state.Registrations);
    }
}
