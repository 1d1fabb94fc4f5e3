// The new process's side of -upgrade: take the running daemon's listeners, registrations and
// state instead of opening listeners. The image is checked before the accept, so a state this
// binary cannot read is refused and the old daemon serves on; every refusal is one line, exit 1.
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Service;
using FastEpmd.Restart;
using FastEpmd.Upgrade;

namespace FastEpmd.Daemon;

internal static class UpgradeTakeover
{
    /// <summary>Test-only: the state formats this binary claims to read, comma-separated (README, -upgrade).</summary>
    public const string ReadsVariable = "FASTEPMD_TEST_UPGRADE_READS";

    /// <summary>Test-only: "descriptors" makes the new process SIGKILL itself once it holds everything.</summary>
    public const string DieVariable = "FASTEPMD_TEST_UPGRADE_DIE";

    /// <summary>Takes over and serves; the exit code (1, with one line, when nothing was taken).</summary>
    public static int Serve(EpmdOptions options, Log log)
    {
        long softLimit = DescriptorLimit.RaiseToHard();
        using var receiver = HandoffReceiver.Connect(ControlSocketName.For(options), UpgradeControl.HandoffTimeoutMs, out string error);
        if (receiver is null) return Fail(log, error);
        long open = Directory.GetFiles("/proc/self/fd").Length;
        uint room = (uint)Math.Clamp(softLimit - open - DescriptorLimit.Reserve, 0, uint.MaxValue);
        var received = receiver.Receive(ReadableFormats(), room);
        if (received is null) return Fail(log, receiver.Error);
        if (Environment.GetEnvironmentVariable(DieVariable) == "descriptors") DieNow();

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
        // The old daemon gone before reading this still leaves everything with us: serve.
        if (!receiver.Accept() && log.On(0)) log.Write(0, "-upgrade: the old daemon did not take the accept (" + receiver.Error + "); serving");
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
        int fd = UnixSocket.Connect(ControlSocketName.For(options));
        if (fd >= 0)
        {
            SocketIo.Close(fd);
            return true;
        }
        log.Write(0, "-upgrade: no daemon answers on the upgrade control socket @" + ControlSocketName.For(options));
        return false;
    }

    /// <summary>The formats this binary reads (1 up to the current one), or what the test knob says.</summary>
    private static ushort[] ReadableFormats()
    {
        var knob = Environment.GetEnvironmentVariable(ReadsVariable);
        var formats = new List<ushort>();
        if (knob is null)
        {
            for (ushort v = StateImage.CurrentVersion; v >= 1; v--) formats.Add(v);
            return formats.ToArray();
        }
        foreach (var part in knob.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            if (ushort.TryParse(part, out ushort f)) formats.Add(f);
        }
        return formats.ToArray();
    }

    private static int Fail(Log log, string why)
    {
        log.Write(0, "-upgrade: " + why);
        Detach.SignalReady();
        return 1;
    }

    private static void DieNow() => Tmds.Linux.LibC.kill(Environment.ProcessId, 9);
}
