// The in-process fuzz target: bytes go through Frame.TryRead with the reactor's read sizes and
// EpmdService.Handle decides, while a model of the reactor holds ALIVE connections, closes them and
// plays dead owners (OTP issue 11083). After every connection the registry and every reply are
// checked; a broken rule throws HarnessViolation, which AFL and the NUnit test both report.
using System.Buffers.Binary;
using FastEpmd.Diagnostics;
using FastEpmd.Registry;
using FastEpmd.Service;
using FastEpmd.Wire;

namespace FastEpmd.Fuzzing;

public sealed class HarnessViolation(string message) : Exception(message);

public sealed class DecoderHarness
{
    private const long FixedUnixSeconds = 1_800_000_000;
    private const int MaxHeld = 48;

    private readonly Random _random;
    private readonly EpmdOptions _options;
    private readonly NodeRegistry _registry;
    private readonly EpmdService _service;
    private readonly byte[] _reply = new byte[Limits.MaxSmallReply];
    private readonly byte[] _input = new byte[Limits.InputBufferSize];
    private readonly Dictionary<ulong, int> _held = new();   // ALIVE connection token -> its record
    private readonly List<ulong> _heldOrder = new();
    private readonly HashSet<ulong> _gone = new();            // peer closed, close not processed yet
    private uint _generation;

    public DecoderHarness(int seed, bool relaxed, bool debug)
    {
        _random = new Random(seed);
        _options = new EpmdOptions { Port = 4369, RelaxedCommandCheck = relaxed, DebugLevel = debug ? 1 : 0 };
        _registry = new NodeRegistry(16, debug ? NodeRegistry.DebugRememberLimit : NodeRegistry.DefaultRememberLimit);
        _service = new EpmdService(_options, _registry, Log.Silent, static () => FixedUnixSeconds);
    }

    public long Connections { get; private set; }
    public long Requests { get; private set; }
    public long Invalid { get; private set; }
    public long Partial { get; private set; }
    public long Silent { get; private set; }
    public long Registrations { get; private set; }
    public long Refusals { get; private set; }
    public long Takeovers { get; private set; }
    public long Stops { get; private set; }
    public long Kills { get; private set; }
    public int Registered => _registry.RegisteredCount;

    /// <summary>AFL/libFuzzer entry: one input is a run of connections, each 2+Length bytes long.</summary>
    public static void RunOne(ReadOnlySpan<byte> data)
    {
        var harness = new DecoderHarness(seed: data.Length, relaxed: true, debug: data.Length % 2 == 0);
        int at = 0;
        while (at < data.Length)
        {
            int take = data.Length - at;
            if (take >= 2) take = Math.Min(take, 2 + BinaryPrimitives.ReadUInt16BigEndian(data.Slice(at)));
            harness.Connection(data.Slice(at, take), maxChunk: 0);
            at += take;
        }
        harness.CloseAll();
        harness.CheckInvariants();
    }

    /// <summary>
    /// One connection sending these bytes, in arrivals of at most maxChunk bytes (0: one arrival),
    /// then closing its write side. Invariants are checked afterwards.
    /// </summary>
    public void Connection(ReadOnlySpan<byte> bytes, int maxChunk)
    {
        Connections++;
        PlayPeers();
        ulong token = NewToken();
        bool isLocal = _random.Next(8) != 0;
        int buffered = 0;
        int pos = 0;
        while (pos < bytes.Length)
        {
            int arrivalEnd = maxChunk <= 0 ? bytes.Length : pos + 1 + _random.Next(Math.Min(maxChunk, bytes.Length - pos));
            while (pos < arrivalEnd)
            {
                // The reactor's read discipline: greedy until the header is known, then exactly the rest.
                int want = Frame.NextReadSize(_input.AsSpan(0, buffered));
                if (want <= 0 || buffered + want > _input.Length)
                    throw new HarnessViolation($"read size {want} with {buffered} bytes buffered");
                int n = Math.Min(want, arrivalEnd - pos);
                bytes.Slice(pos, n).CopyTo(_input.AsSpan(buffered));
                buffered += n;
                pos += n;
                switch (Frame.TryRead(_input.AsSpan(0, buffered), out var request))
                {
                    case FrameStatus.Complete:
                        if (request.Length != buffered - Frame.HeaderLength) throw new HarnessViolation("frame length");
                        bool keptWithLateBytes = Handle(request, isLocal, token) && pos < bytes.Length;
                        // Any byte on an ALIVE connection ends it (OTP): the late bytes close it now.
                        if (keptWithLateBytes) Close(token);
                        CheckInvariants();
                        return;
                    case FrameStatus.Invalid:
                        Invalid++;
                        CheckInvariants();
                        return;
                }
            }
        }
        Partial++;   // half-closed before the frame was complete: closed silently
        CheckInvariants();
    }

    /// <summary>The peers of held ALIVE connections: some close (processed now or later), most stay.</summary>
    private void PlayPeers()
    {
        if (_heldOrder.Count == 0) return;
        int roll = _random.Next(100);
        ulong victim = _heldOrder[_random.Next(_heldOrder.Count)];
        if (roll < 8) _gone.Add(victim);                      // FIN/RST sent, not yet seen by the loop
        else if (roll < 16 || _heldOrder.Count > MaxHeld) Close(victim);
    }

    private ulong NewToken()
    {
        if (++_generation == 0) _generation = 1;
        return ((ulong)_generation << 32) | (_generation % 997);
    }

    /// <summary>Handles one complete request and checks its reply; true when the connection is kept as a registration.</summary>
    private bool Handle(ReadOnlySpan<byte> request, bool isLocal, ulong token)
    {
        Requests++;
        int registeredBefore = _registry.RegisteredCount;
        var d = _service.Handle(request, isLocal, token, (int)(token & 0xffff), _reply);
        if (d.ProbeOwner != 0)
        {
            // The reactor's part of the restart race: look at the owner, close it if it is gone, ask again.
            ulong owner = d.ProbeOwner;
            Expect(request[0] == Tags.AliveRequest && d.IsSilent, "a probe is all a decision says");
            Expect(_held.ContainsKey(owner), "probe of an unknown owner");
            bool gone = _gone.Contains(owner);
            if (gone)
            {
                Takeovers++;
                Close(owner);
            }
            d = _service.Handle(request, isLocal, token, (int)(token & 0xffff), _reply, liveOwner: gone ? 0 : owner, retry: true);
            Expect(d.ProbeOwner == 0, "asked to probe twice");
        }
        if (d.ReplyLength < 0 || d.ReplyLength > _reply.Length) throw new HarnessViolation($"reply length {d.ReplyLength}");
        var reply = _reply.AsSpan(0, d.ReplyLength);
        byte tag = request[0];
        bool remoteRefused = !isLocal && tag is Tags.AliveRequest or Tags.DumpRequest or Tags.KillRequest or Tags.StopRequest;
        if (d.Snapshot != 0 && (tag is not (Tags.NamesRequest or Tags.DumpRequest) || d.ReplyLength != 0))
            throw new HarnessViolation("snapshot for tag " + tag);
        if (remoteRefused) Expect(d.IsSilent && d.After == AfterReply.Close, "remote peer must be refused silently");
        if (d.IsSilent)
        {
            Silent++;
            Expect(d.After == AfterReply.Close, "a silent close keeps nothing");
        }

        switch (tag)
        {
            case Tags.AliveRequest when d.ReplyLength > 0:
                CheckAliveReply(request, reply, d, token);
                break;
            case Tags.AliveRequest:
                break;
            case Tags.PortPleaseRequest:
                Expect(d.After == AfterReply.Close, "PORT2 closes");
                CheckPortReply(request, reply);
                break;
            case Tags.NamesRequest:
            case Tags.DumpRequest when isLocal:
                Expect(d.Snapshot != 0 && d.After == AfterReply.Close, "NAMES/DUMP share a snapshot");
                CheckNamesReply(_service.Snapshots.Bytes(d.Snapshot), isDump: tag == Tags.DumpRequest);
                break;
            case Tags.KillRequest when isLocal:
                bool allowed = _options.RelaxedCommandCheck || registeredBefore == 0;
                Expect(reply.SequenceEqual(allowed ? "OK"u8 : "NO"u8), "KILL reply");
                Expect(d.After == (allowed ? AfterReply.StopDaemon : AfterReply.Close), "KILL after-reply");
                if (allowed)
                {
                    Kills++;
                    CloseAll();   // the daemon exits: every node sees EOF
                }
                break;
            case Tags.StopRequest when isLocal && d.ReplyLength > 0:
                Expect(_options.RelaxedCommandCheck && request.Length > 1, "STOP answered only when relaxed");
                if (reply.SequenceEqual("STOPPED"u8))
                {
                    Stops++;
                    Expect(d.CloseOwner != 0 && _held.ContainsKey(d.CloseOwner), "STOP closes a held owner");
                    Expect(registeredBefore == _registry.RegisteredCount + 1, "STOP unregisters one node");
                    Close(d.CloseOwner);
                }
                else
                {
                    Expect(reply.SequenceEqual("NOEXISTSTOPPED"u8) && d.CloseOwner == 0, "STOP of an unknown name");
                }
                break;
            case Tags.StopRequest:
            case Tags.KillRequest:
            case Tags.DumpRequest:
                break;
            default:
                Expect(d.IsSilent, "unknown tags close silently");
                break;
        }
        if (d.CloseOwner != 0 && tag != Tags.StopRequest) throw new HarnessViolation("CloseOwner outside STOP");
        return d.After == AfterReply.KeepRegistration;
    }

    private void CheckAliveReply(ReadOnlySpan<byte> request, ReadOnlySpan<byte> reply, in Decision d, ulong token)
    {
        ushort hi = BinaryPrimitives.ReadUInt16BigEndian(request.Slice(5));
        bool extended = hi >= 6;
        Expect(reply.Length == (extended ? 6 : 4) && reply[0] == (extended ? (byte)'v' : (byte)'y'), "ALIVE2 reply form follows HighestVersion");
        uint creation = extended ? BinaryPrimitives.ReadUInt32BigEndian(reply.Slice(2)) : BinaryPrimitives.ReadUInt16BigEndian(reply.Slice(2));
        if (reply[1] == 1)
        {
            Refusals++;
            Expect(creation == 99 && d.After == AfterReply.KeepRefusedAlive, "refused ALIVE2: creation 99, kept open");
            return;
        }
        Expect(reply[1] == 0 && d.After == AfterReply.KeepRegistration, "ALIVE2 result");
        Expect(extended ? creation >= 4 : creation is >= 1 and <= 3, "creation range");
        ref readonly var r = ref _registry[d.Record];
        Expect(r.State == NodeState.Registered && r.Owner == token, "the new record belongs to this connection");
        int nameLength = BinaryPrimitives.ReadUInt16BigEndian(request.Slice(9));
        Expect(_registry.Name(d.Record).SequenceEqual(request.Slice(11, nameLength)), "registered name");
        if (extended) Expect(r.Creation == creation, "creation on the wire");
        Registrations++;
        _held.Add(token, d.Record);
        _heldOrder.Add(token);
    }

    private void CheckPortReply(ReadOnlySpan<byte> request, ReadOnlySpan<byte> reply)
    {
        if (reply.Length == 0) return;
        var name = request.Slice(1);
        if (name.Length > 0 && name[^1] == 0) name = name[..^1];
        int record = _registry.FindRegistered(name);
        if (record < 0)
        {
            Expect(reply.SequenceEqual(stackalloc byte[] { 0x77, 0x01 }), "PORT2 not found");
            return;
        }
        ref readonly var r = ref _registry[record];
        Expect(reply.Length == 14 + r.NameLength + r.ExtraLength && reply[0] == 0x77 && reply[1] == 0, "PORT2 found: size");
        Expect(BinaryPrimitives.ReadUInt16BigEndian(reply.Slice(2)) == r.Port && reply[4] == r.NodeType && reply[5] == r.Protocol, "PORT2 fields");
        Expect(reply.Slice(12, name.Length).SequenceEqual(name), "PORT2 echoes the name");
    }

    private void CheckNamesReply(ReadOnlySpan<byte> bytes, bool isDump)
    {
        Expect(bytes.Length >= 4 && BinaryPrimitives.ReadInt32BigEndian(bytes) == _options.Port, "NAMES header: " + Convert.ToHexString(bytes));
        int at = 4;
        for (int r = _registry.FirstRegistered; r >= 0; r = _registry.NextInList(r))
        {
            int length = isDump
                ? NamesReply.WriteActiveDumpLine(_expectedLine, _registry.Name(r), _registry[r].Port, _registry[r].Fd)
                : NamesReply.WriteNameLine(_expectedLine, _registry.Name(r), _registry[r].Port);
            Expect(bytes.Length - at >= length && bytes.Slice(at, length).SequenceEqual(_expectedLine.AsSpan(0, length)), "NAMES line");
            at += length;
        }
        if (!isDump) Expect(at == bytes.Length, "NAMES has one line per node");
    }

    private readonly byte[] _expectedLine = new byte[NamesReply.MaxLineLength];

    /// <summary>The reactor's CloseConnection: the service drops the record only while this connection owns it.</summary>
    private void Close(ulong token)
    {
        _gone.Remove(token);
        if (!_held.Remove(token, out int record)) return;
        _heldOrder.Remove(token);
        _service.ConnectionClosed(record, token);
    }

    public void CloseAll()
    {
        foreach (var token in _heldOrder.ToArray()) Close(token);
    }

    /// <summary>Registry and model agree: one live owner per registered name, lists and counts consistent.</summary>
    public void CheckInvariants()
    {
        int count = 0;
        var names = new HashSet<string>();
        for (int r = _registry.FirstRegistered; r >= 0; r = _registry.NextInList(r))
        {
            if (++count > _registry.RegisteredCount) throw new HarnessViolation("registered list longer than its count (cycle?)");
            ref readonly var node = ref _registry[r];
            var name = _registry.Name(r);
            Expect(node.State == NodeState.Registered, "registered list holds a non-registered record");
            Expect(_registry.FindRegistered(name) == r, "index finds the record");
            Expect(names.Add(Convert.ToHexString(name)), "a name registered twice");
            Expect(name.Length <= Limits.MaxNameBytes && !name.Contains((byte)0), "name bytes");
            int codePoints = NodeName.CountCodePoints(name);
            Expect(codePoints is >= 0 and <= Limits.MaxNameCodePoints, "name code points");
            Expect(node.ExtraLength <= Limits.MaxExtraBytes && node.Creation >= 4, "extra size, creation");
            Expect(_held.TryGetValue(node.Owner, out int held) && held == r, "a registration outlived its connection");
        }
        Expect(count == _registry.RegisteredCount, "registered count");
        foreach (var (token, record) in _held)
            Expect(_registry[record].State == NodeState.Registered && _registry[record].Owner == token, "a held connection lost its record");
        int remembered = 0;
        for (int r = _registry.FirstRemembered; r >= 0; r = _registry.NextInList(r))
        {
            if (++remembered > _registry.RememberedCount) throw new HarnessViolation("remembered list longer than its count");
            Expect(_registry[r].State == NodeState.Remembered, "remembered list state");
        }
        Expect(remembered == _registry.RememberedCount, "remembered count");
    }

    private static void Expect(bool condition, string rule)
    {
        if (!condition) throw new HarnessViolation(rule);
    }
}
