// The new process's side of -upgrade: take the running daemon's listeners, registrations and
// state instead of opening listeners. The image is checked before the accept, so a state this
// binary cannot read is refused and the old daemon serves on; every refusal is one line, exit 1.
// It serves only after the old daemon's Commit (or once the old process is dead), and says Serving
// first: without both, it exits without having served, and the old daemon serves on.
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Service;
using FastEpmd.Restart;
using FastEpmd.Upgrade;

namespace FastEpmd.Daemon;

internal static class UpgradeTakeover
{
    /// <summary>How long each step of the conversation may take on this side (the old daemon drains first).</summary>
    public const int StepMs = 3000;

    /// <summary>After Accept: the old daemon's own Accept deadline, and a margin.</summary>
    public const int CommitMs = HandoffSession.AcceptMs + 2000;

    /// <summary>Takes over and serves; the exit code (1, with one line, when nothing was taken).</summary>
    public static int Serve(EpmdOptions options, Log log)
    {
        long softLimit = DescriptorLimit.RaiseToHard();
        string path = ControlSocketPath.For(options);
        using var receiver = HandoffReceiver.Connect(path, StepMs, out string error);
        if (receiver is null) return Fail(log, error);
        long open = Directory.GetFiles("/proc/self/fd").Length;
        uint room = (uint)Math.Clamp(softLimit - open - DescriptorLimit.Reserve, 0, uint.MaxValue);
        var received = receiver.Receive(ReadableFormats(), room);
        if (received is null) return Fail(log, receiver.Error);

        var listeners = new List<(int Fd, string Description)>();
        (int Fd, string Description)? metrics = null;
        int control = -1;
        var alive = new List<(ulong Key, int Fd)>();
        foreach (var d in received.Descriptors)
        {
            string where = $"fd {d.Fd} from pid {received.OldPid} (port {Listener.LocalPort(d.Fd)})";
            switch (d.Role)
            {
                case DescriptorRole.EpmdListener: listeners.Add((d.Fd, where)); break;
                case DescriptorRole.MetricsListener: metrics = (d.Fd, where); break;
                case DescriptorRole.ControlListener: control = d.Fd; break;
                default: alive.Add((d.Key, d.Fd)); break;
            }
        }
        // Decoded once, here: checked before the accept, then restored from.
        string? refusal = "the running daemon handed over no epmd listener";
        var image = listeners.Count == 0 ? null : StateImage.Decode(received.Image, out refusal);
        if (image == null)
        {
            receiver.Refuse(refusal!);
            received.Close();
            return Fail(log, "refused the state: " + refusal);
        }
        // The fence: Accept, then serve only on Commit (or with the old process dead).
        receiver.Accept();
        if (!receiver.AwaitCommit(received.OldPid, CommitMs))
        {
            received.Close();
            return Fail(log, "the running daemon did not commit the handover (" + receiver.Error + "); it serves on");
        }
        if (receiver.Error.Length > 0 && log.On(0)) log.Write(0, "-upgrade: " + receiver.Error + "; serving");
        receiver.SayServing();   // the old daemon may be gone already: it has committed, so we serve either way
        receiver.Dispose();
        return DaemonHost.ServeListeners(options, log, listeners, metrics, DaemonHost.TableSize(options),
            handoff: InheritedRegistrations.FromHandoff(image, alive), controlFd: control);
    }

    /// <summary>
    /// -upgrade cases said before detaching (the detached parent exits 0, as OTP's): under -systemd,
    /// and a -daemon upgrade with nobody on the control socket.
    /// </summary>
    public static bool CanStart(EpmdOptions options)
    {
        var log = new Log(options.DebugLevel) { Json = options.JsonLog };
        if (options.Systemd)
        {
            log.Write(0, "-upgrade and -systemd do not go together: under systemd, restart the service");
            return false;
        }
        string path = ControlSocketPath.For(options);
        int fd = UnixSocket.Connect(path);
        if (fd >= 0)
        {
            SocketIo.Close(fd);
            return true;
        }
        log.Write(0, "-upgrade: no daemon answers on the upgrade control socket " + path);
        return false;
    }

    /// <summary>The state formats this binary reads: 1 up to the current one.</summary>
    private static ushort[] ReadableFormats()
    {
        var formats = new List<ushort>();
        for (ushort v = StateImage.CurrentVersion; v >= 1; v--) formats.Add(v);
        return formats.ToArray();
    }

    private static int Fail(Log log, string why)
    {
        log.Write(0, "-upgrade: " + why);
        Detach.SignalReady();
        return 1;
    }
}
