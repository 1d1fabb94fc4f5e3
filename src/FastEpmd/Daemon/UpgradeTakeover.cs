// The new process's side of -upgrade: take the running daemon's listeners, registrations and
// state instead of opening listeners, then accept once the state is adopted, so the old daemon
// exits only when this one can serve. Every refusal is one line and exit 1; the old one serves on.
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Reactor;
using FastEpmd.Service;
using FastEpmd.Upgrade;

namespace FastEpmd.Daemon;

internal sealed class UpgradeTakeover : IDisposable
{
    /// <summary>Test-only: "descriptors" makes the new process kill itself (SIGKILL) once it holds everything.</summary>
    public const string DieVariable = "FASTEPMD_TEST_UPGRADE_DIE";

    private readonly HandoffReceiver _receiver;
    private readonly ReceivedHandoff _received;

    private UpgradeTakeover(HandoffReceiver receiver, ReceivedHandoff received)
    {
        _receiver = receiver;
        _received = received;
        foreach (var d in received.Descriptors)
        {
            switch (d.Role)
            {
                case DescriptorRole.EpmdListener:
                    Listeners.Add((d.Fd, $"fd {d.Fd} from pid {received.OldPid} (port {Listener.LocalPort(d.Fd)})"));
                    break;
                case DescriptorRole.MetricsListener:
                    Metrics = (d.Fd, $"fd {d.Fd} from pid {received.OldPid} (port {Listener.LocalPort(d.Fd)})");
                    break;
                case DescriptorRole.ControlListener:
                    ControlFd = d.Fd;
                    break;
            }
        }
    }

    public List<(int Fd, string Description)> Listeners { get; } = new();
    public (int Fd, string Description)? Metrics { get; }
    public int ControlFd { get; } = -1;
    public ReceivedHandoff Received => _received;

    /// <summary>Asks the running daemon for everything; null (one line written) when it cannot be had.</summary>
    public static UpgradeTakeover? Receive(EpmdOptions options, Log log, long softLimit)
    {
        var receiver = HandoffReceiver.Connect(ControlSocketName.For(options), UpgradeControl.HandoffTimeoutMs, out string error);
        if (receiver is null)
        {
            log.Write(0, "-upgrade: " + error);
            return null;
        }
        long open = Directory.GetFiles("/proc/self/fd").Length;
        uint room = (uint)Math.Clamp(softLimit - open - DescriptorLimit.Reserve, 0, uint.MaxValue);
        var received = receiver.Receive(StateHandoff.ReadableFormats(), room);
        if (received is null)
        {
            log.Write(0, "-upgrade: " + receiver.Error);
            receiver.Dispose();
            return null;
        }
        if (Environment.GetEnvironmentVariable(DieVariable) == "descriptors") DieNow();
        var takeover = new UpgradeTakeover(receiver, received);
        if (takeover.Listeners.Count == 0)
        {
            takeover.Refuse(log, "the running daemon handed over no epmd listener", ownsListeners: true);
            return null;
        }
        return takeover;
    }

    /// <summary>Adopts the state into the built reactor and tells the old daemon; false (one line, refused) when it cannot.</summary>
    public bool Complete(EpmdReactor reactor, Log log)
    {
        var refusal = StateHandoff.Adopt(_received, reactor, log);
        if (refusal != null)
        {
            // The reactor closes the listeners and the metrics listener it was given.
            Refuse(log, refusal, ownsListeners: false);
            return false;
        }
        // The old daemon gone before reading this still leaves everything with us: serve.
        if (!_receiver.Accept() && log.On(0)) log.Write(0, "-upgrade: the old daemon did not take the accept (" + _receiver.Error + "); serving");
        _receiver.Dispose();
        return true;
    }

    private void Refuse(Log log, string reason, bool ownsListeners)
    {
        _receiver.Refuse(reason);
        foreach (var d in _received.Descriptors)
        {
            if (ownsListeners || d.Role is DescriptorRole.Alive or DescriptorRole.ControlListener) SocketIo.Close(d.Fd);
        }
        _received.Descriptors.Clear();
        _receiver.Dispose();
        log.Write(0, "-upgrade refused: " + reason);
    }

    private static unsafe void DieNow() => Tmds.Linux.LibC.kill(Environment.ProcessId, 9);

    public void Dispose() => _receiver.Dispose();
}
