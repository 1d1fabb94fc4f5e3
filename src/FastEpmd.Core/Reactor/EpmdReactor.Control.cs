// The -upgrade control socket: a SEQPACKET listener and at most one connection asking. Bytes only:
// a trusted peer's Hello is parked in UpgradeRequest for the daemon, which runs the handoff. What
// is not a trusted peer with a valid Hello within HelloTimeoutMs is closed, with a debug line, so
// a flood of control connections costs the epmd clients one accept each and nothing more.
using FastEpmd.Interop;
using FastEpmd.Poller;
using FastEpmd.Upgrade;

namespace FastEpmd.Reactor;

/// <summary>A trusted peer asked for the state: its connection (the daemon owns it now) and Hello.</summary>
internal readonly record struct UpgradeRequest(int Fd, HandoffHello Hello, int PeerPid);

internal sealed partial class EpmdReactor
{
    private const int ControlListenerIndex = 0;
    private const int ControlPendingIndex = 1;
    private const int ControlAcceptsPerWake = 4;
    public const int HelloTimeoutMs = 1000;

    private int _controlFd = -1;
    private int _controlPendingFd = -1;
    private int _controlPendingPid;
    private long _controlHelloDeadlineMs = long.MaxValue;
    private readonly byte[] _helloScratch = new byte[HandoffWire.MaxHelloLength + 1];

    /// <summary>Set when a Hello came in; the daemon takes it with TakeUpgradeRequest.</summary>
    public UpgradeRequest? PendingUpgrade { get; private set; }

    public int ControlFd => _controlFd;

    public void AddControlListener(int fd)
    {
        _poller.Add(fd, PollToken.Make(TokenKind.Control, ControlListenerIndex), PollInterest.Read);
        _controlFd = fd;
    }

    /// <summary>The request, handed to the caller (with its descriptor), or null.</summary>
    public UpgradeRequest? TakeUpgradeRequest()
    {
        var request = PendingUpgrade;
        PendingUpgrade = null;
        return request;
    }

    private void OnControlEvent(int index)
    {
        if (index == ControlPendingIndex)
        {
            ReadHello();
            return;
        }
        if (_controlFd < 0) return;
        for (int i = 0; i < ControlAcceptsPerWake; i++)
        {
            int fd = UnixSocket.Accept(_controlFd);
            if (fd < 0) return;   // EAGAIN, or an error the next readiness retries
            if (!UnixSocket.IsTrustedPeer(fd, out uint uid, out int pid))
            {
                if (_log.On(1)) _log.Write(1, $"upgrade request from uid {uid} (pid {pid}), neither root nor ours: closed", fd);
                SocketIo.Close(fd);
                continue;
            }
            if (_controlPendingFd >= 0 || PendingUpgrade is not null)
            {
                if (_log.On(1)) _log.Write(1, $"upgrade request from pid {pid} while another is open: closed", fd);
                SocketIo.Close(fd);
                continue;
            }
            _controlPendingFd = fd;
            _controlPendingPid = pid;
            _controlHelloDeadlineMs = _now + HelloTimeoutMs;
            _poller.Add(fd, PollToken.Make(TokenKind.Control, ControlPendingIndex), PollInterest.Read);
            ReadHello();
        }
    }

    private void ReadHello()
    {
        int fd = _controlPendingFd;
        if (fd < 0) return;
        var status = SocketIo.Receive(fd, _helloScratch, out int n, out _);
        if (status == IoStatus.WouldBlock) return;
        if (status == IoStatus.Done && HandoffWire.TryReadHello(_helloScratch.AsSpan(0, n), out var hello))
        {
            _poller.Remove(fd);
            PendingUpgrade = new UpgradeRequest(fd, hello, _controlPendingPid);
            ForgetPendingControl();
            return;
        }
        if (_log.On(1)) _log.Write(1, status == IoStatus.Done ? "not an upgrade Hello on the control socket: closed" : "upgrade request went away", fd);
        DropPendingControl();
    }

    private void ExpireControlHello()
    {
        if (_controlPendingFd < 0 || _now < _controlHelloDeadlineMs) return;
        if (_log.On(1)) _log.Write(1, "no upgrade Hello within " + HelloTimeoutMs + " ms: closed", _controlPendingFd);
        DropPendingControl();
    }

    private void DropPendingControl()
    {
        _poller.Remove(_controlPendingFd);
        SocketIo.Close(_controlPendingFd);
        ForgetPendingControl();
    }

    private void ForgetPendingControl()
    {
        _controlPendingFd = -1;
        _controlHelloDeadlineMs = long.MaxValue;
    }

    private void CloseControl()
    {
        if (_controlPendingFd >= 0) DropPendingControl();
        if (PendingUpgrade is { } request) SocketIo.Close(request.Fd);
        PendingUpgrade = null;
        if (_controlFd >= 0)
        {
            _poller.Remove(_controlFd);   // after a handoff the new daemon holds it too
            SocketIo.Close(_controlFd);
        }
        _controlFd = -1;
    }
}
