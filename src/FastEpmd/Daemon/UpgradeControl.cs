// The running daemon's side of -upgrade: its control listener, and the handoff itself when a new
// process asks. The loop is not running meanwhile, so nothing is accepted, read or registered
// while the state is in flight; a refusal (or a new process that dies) returns to the loop as if
// nothing had happened.
using System.Diagnostics;
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
    /// <summary>The whole handoff, offer to accept, must fit in this; a new process that hangs costs this much.</summary>
    public const int HandoffTimeoutMs = 5000;

    /// <summary>After the accept: how long one-shot connections already accepted may take to be answered.</summary>
    public const int HandOverBudgetMs = 1000;

    /// <summary>The control listener, or -1 (logged) when there is none: the daemon serves on without -upgrade.</summary>
    public static int OpenListener(EpmdOptions options, Log log)
    {
        string name = ControlSocketName.For(options);
        int fd = UnixSocket.Listen(name);
        if (fd >= 0) return fd;
        if (log.On(0)) log.Write(0, $"no -upgrade for this daemon: control socket @{name}: {Errno.Describe(-fd)}");
        return -1;
    }

    /// <summary>Runs the handoff a new process asked for; true when it took everything (the endpoints let go, we exit 0).</summary>
    public static bool HandOff(in UpgradeRequest request, IReadOnlyList<IRestartable> endpoints, EpmdService service, Log log)
    {
        var watch = Stopwatch.StartNew();
        var channel = new HandoffChannel(request.Fd, HandoffTimeoutMs);
        var state = InheritedRegistrations.Export(service, endpoints);
        ushort format = HandoffSender.ChooseFormat([StateImage.CurrentVersion], request.Hello.Formats);

        bool accepted = HandoffSender.Run(channel, request.Hello, format, state.Image, state.Descriptors);
        SocketIo.Close(request.Fd);
        if (accepted)
        {
            if (log.On(0)) log.Write(0, $"handed over to pid {request.PeerPid}: {state.Registrations} registrations, {state.Descriptors.Count} descriptors, state format {format}, {state.Image.Length} bytes, in {watch.ElapsedMilliseconds} ms; exiting");
            return true;
        }
        if (log.On(0)) log.Write(0, $"upgrade by pid {request.PeerPid} did not happen ({channel.Error}); serving on");
        return false;
    }
}
