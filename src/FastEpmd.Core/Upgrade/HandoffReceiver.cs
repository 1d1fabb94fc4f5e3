// The new process's side of the handoff: ask, check the offer (protocol, format, room), take the
// image and every descriptor, then accept or refuse once the caller has checked the state, and wait
// for the old daemon's Commit: only then (or once the old process is dead) may the caller serve,
// after saying Serving. Whatever fails before, the descriptors received so far are closed and the
// old daemon serves on.
using FastEpmd.Interop;

namespace FastEpmd.Upgrade;

/// <summary>What the old daemon handed over; the descriptors are ours until Close.</summary>
internal sealed class ReceivedHandoff
{
    public ushort Format { get; init; }
    public int OldPid { get; init; }
    public byte[] Image { get; init; } = [];
    public List<HandedDescriptor> Descriptors { get; } = new();

    public void Close()
    {
        foreach (var d in Descriptors) SocketIo.Close(d.Fd);
        Descriptors.Clear();
    }
}

internal sealed class HandoffReceiver : IDisposable
{
    private readonly HandoffChannel _channel;

    /// <summary>Over a connected control socket (Connect, or a test's socketpair).</summary>
    internal HandoffReceiver(int fd, int timeoutMs) => _channel = new HandoffChannel(fd, timeoutMs);

    public string Error => _channel.Error;

    /// <summary>Connects to the running daemon's control socket; null, with why, when none answers.</summary>
    public static HandoffReceiver? Connect(string controlPath, int timeoutMs, out string error)
    {
        int fd = UnixSocket.Connect(controlPath);
        if (fd < 0)
        {
            error = -fd == Errno.ECONNREFUSED || -fd == Errno.ENOENT
                ? "no daemon answers on the upgrade control socket " + controlPath
                : "cannot reach the upgrade control socket " + controlPath + ": " + Errno.Describe(-fd);
            return null;
        }
        if (!UnixSocket.IsTrustedPeer(fd, out uint uid, out int pid))
        {
            SocketIo.Close(fd);
            error = $"the upgrade control socket {controlPath} belongs to uid {uid} (pid {pid}), neither root nor us";
            return null;
        }
        error = "";
        return new HandoffReceiver(fd, timeoutMs);
    }

    /// <summary>Asks for the state and takes it; null (Error says why) when the handoff did not happen.</summary>
    public ReceivedHandoff? Receive(ReadOnlySpan<ushort> readable, uint descriptorRoom)
    {
        Span<byte> hello = stackalloc byte[HandoffWire.MaxHelloLength];
        if (!_channel.Send(hello[..HandoffWire.WriteHello(hello, descriptorRoom, readable)])) return null;
        if (!_channel.Receive(out var record, out var stray)) return null;
        foreach (int fd in stray) SocketIo.Close(fd);
        if (HandoffWire.TypeOf(record) == HandoffType.Refuse)
        {
            _channel.Fail("the running daemon declined: " + HandoffWire.Reason(record));
            return null;
        }
        if (!HandoffWire.TryReadOffer(record, out var offer)) return Refuse("the running daemon sent no valid offer");
        if (offer.Protocol != HandoffWire.Protocol) return Refuse($"handoff protocol {offer.Protocol} is not {HandoffWire.Protocol}");
        if (!readable.Contains(offer.Format))
            return Refuse($"state format {offer.Format} is not one this binary reads ({string.Join(",", readable.ToArray())})");
        if (offer.Descriptors > descriptorRoom) return Refuse($"{offer.Descriptors} descriptors, room for {descriptorRoom}");
        if (offer.ImageLength > int.MaxValue / 2) return Refuse($"a state image of {offer.ImageLength} bytes");
        if (!_channel.SendType(HandoffType.Go)) return null;
        // Go froze the old daemon; its second Offer has the exact sizes of what comes now.
        if (!_channel.Receive(out record, out stray)) return null;
        foreach (int fd in stray) SocketIo.Close(fd);
        if (HandoffWire.TypeOf(record) == HandoffType.Refuse)
        {
            _channel.Fail("the running daemon declined: " + HandoffWire.Reason(record));
            return null;
        }
        var first = offer;
        if (!HandoffWire.TryReadOffer(record, out offer) || offer.Protocol != first.Protocol || offer.Format != first.Format)
            return Refuse("the running daemon's second offer does not match its first");
        if (offer.Descriptors > descriptorRoom) return Refuse($"{offer.Descriptors} descriptors, room for {descriptorRoom}");
        if (offer.ImageLength > int.MaxValue / 2) return Refuse($"a state image of {offer.ImageLength} bytes");

        var received = new ReceivedHandoff { Format = offer.Format, OldPid = offer.Pid, Image = new byte[offer.ImageLength] };
        if (!ReceiveImage(received.Image) || !ReceiveDescriptors(received, (int)offer.Descriptors))
        {
            received.Close();
            return null;
        }
        return received;
    }

    private bool ReceiveImage(byte[] image)
    {
        for (int got = 0; got < image.Length;)
        {
            if (!_channel.Expect(HandoffType.Image, out var record)) return false;
            var bytes = HandoffWire.Body(record);
            if (bytes.Length == 0 || bytes.Length > image.Length - got) return _channel.Fail("image records do not add up to the offer");
            bytes.CopyTo(image.AsSpan(got));
            got += bytes.Length;
        }
        return true;
    }

    private bool ReceiveDescriptors(ReceivedHandoff received, int expected)
    {
        while (true)
        {
            if (!_channel.Receive(out var record, out var fds))
            {
                // Everything came but End, and the old side went away: keep it. Serving still waits
                // for Commit or for the old process to be dead (AwaitCommit).
                return _channel.Error == "the other process closed the connection" && received.Descriptors.Count == expected;
            }
            var type = HandoffWire.TypeOf(record);
            if (type == HandoffType.End && fds.IsEmpty)
                return received.Descriptors.Count == expected || _channel.Fail($"{received.Descriptors.Count} descriptors came, {expected} offered");
            if (!HandoffWire.TryReadBatch(record, fds.Length, out int count) || received.Descriptors.Count + count > expected)
            {
                foreach (int fd in fds) SocketIo.Close(fd);
                return _channel.Fail(type == HandoffType.Refuse ? "refused: " + HandoffWire.Reason(record) : "a bad descriptor batch");
            }
            for (int i = 0; i < count; i++)
            {
                var (role, key) = HandoffWire.Entry(record, i);
                received.Descriptors.Add(new HandedDescriptor(role, key, fds[i]));
            }
        }
    }

    /// <summary>The state checked and taken: the old daemon may commit. Serve only after AwaitCommit says so.</summary>
    public bool Accept() => _channel.SendType(HandoffType.Accept);

    /// <summary>
    /// Whether this process may serve: the old daemon's Commit came (true), or the connection ended
    /// without one and the old process (oldPid) is dead, so nobody else can serve (true, with why in
    /// Error). False: a Refuse, a timeout, or an end while the old process lives on; it serves on.
    /// </summary>
    public bool AwaitCommit(int oldPid, int timeoutMs)
    {
        _channel.NextStepMs = timeoutMs;
        if (_channel.Expect(HandoffType.Commit, out _)) return true;
        if (_channel.Error.StartsWith("refused", StringComparison.Ordinal)) return false;
        if (!OldProcessGone(oldPid)) return false;
        _channel.Fail($"no Commit ({_channel.Error}), and pid {oldPid} is gone");
        return true;
    }

    /// <summary>Said before serving: the old daemon exits on it (and serves on if this never comes).</summary>
    public bool SayServing() => _channel.SendType(HandoffType.Serving);

    /// <summary>
    /// Dead or a zombie, waiting up to a second: a killed process drops its descriptors (the EOF we
    /// saw) a moment before it becomes a zombie. An old daemon that aborts says Refuse and lives on.
    /// </summary>
    public static bool OldProcessGone(int pid)
    {
        if (pid <= 0) return false;
        for (int i = 0; i < 50; i++)
        {
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{pid}/stat");
            }
            catch (IOException)
            {
                return true;
            }
            int end = stat.LastIndexOf(')');
            if (end > 0 && end + 2 < stat.Length && stat[end + 2] is 'Z' or 'X') return true;
            Thread.Sleep(20);
        }
        return false;
    }

    /// <summary>Tells the old daemon to serve on, and why; returns null for the caller's convenience.</summary>
    public ReceivedHandoff? Refuse(string reason)
    {
        _channel.SendRefuse(reason);
        _channel.Fail(reason);
        return null;
    }

    public void Dispose() => SocketIo.Close(_channel.Fd);
}
