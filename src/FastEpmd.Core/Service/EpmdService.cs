// Every decision and every registry change: a complete request (or the close of a connection, a
// restored registration, a handoff) and what the endpoint knows about it go in; reply bytes, what to
// do with this connection and any effect on another connection come out. No I/O and no calls back:
// the epmd endpoint owns the sockets. The one syscall below it is ReplySnapshots' page mapping,
// through Interop.NativePages.
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Registry;
using FastEpmd.Wire;

namespace FastEpmd.Service;

internal sealed class EpmdService
{
    private readonly EpmdOptions _options;
    private readonly NodeRegistry _registry;
    private readonly Log _log;
    private readonly Func<long> _unixSeconds;
    private readonly IRegistryMirror? _mirror;
    private Dictionary<ulong, int>? _restoredByKey;

    /// <param name="maxRegistrations">The connection table's size: the reply budget holds two NAMES of that many.</param>
    /// <param name="mirror">Keeps a copy of every registry change (the state image of systemd's store), or null.</param>
    public EpmdService(EpmdOptions options, NodeRegistry registry, Log log, Func<long>? unixSeconds = null,
        int maxRegistrations = 0, IRegistryMirror? mirror = null)
    {
        _options = options;
        _registry = registry;
        _log = log;
        _mirror = mirror;
        _unixSeconds = unixSeconds ?? (static () => DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Snapshots = new ReplySnapshots(ReplySnapshots.BudgetFor(options.ReplyMemoryMb, maxRegistrations));
    }

    public NodeRegistry Registry => _registry;

    /// <summary>The copy every registry change goes to, or null.</summary>
    public IRegistryMirror? Mirror => _mirror;

    /// <summary>The NAMES/DUMP replies a Decision.Snapshot names.</summary>
    public ReplySnapshots Snapshots { get; }

    /// <summary>What has been decided so far (requests by type and outcome, registrations, duplicates).</summary>
    public ServiceCounters Counters { get; } = new();

    /// <summary>Refusals by the access rules beyond OTP (-allow, -max_per_peer, -names local).</summary>
    public AccessRefusals Refusals { get; } = new();

    /// <summary>
    /// The registry was handed to a new daemon (-upgrade): this one only answers what it still has
    /// in flight, and a change here (ALIVE2, KILL, STOP) would be lost, so it is closed unanswered.
    /// </summary>
    public bool HandedOver { get; private set; }

    /// <summary>The registry now lives in a new daemon: from here on nothing changes it.</summary>
    public void HandOver() => HandedOver = true;

    /// <summary>The accept-time rules for a connection table of the given size.</summary>
    public PeerAdmission CreateAdmission(int slots) => new(_options, slots, Refusals);

    /// <param name="request">The payload after the 2-byte length: tag first.</param>
    /// <param name="token">The requesting connection, recorded as a registration's owner.</param>
    /// <param name="reply">At least Limits.MaxSmallReply bytes.</param>
    /// <param name="liveOwner">
    /// An owner the reactor has just probed (after a Decision.ProbeOwner) and found alive: a duplicate
    /// of its name is refused without asking again. 0: none.
    /// </param>
    /// <param name="retry">Asked again after carrying out a ProbeOwner or ShedSnapshot: already logged as got.</param>
    public Decision Handle(ReadOnlySpan<byte> request, bool isLocal, ulong token, int fd, Span<byte> reply,
        ulong liveOwner = 0, bool retry = false)
    {
        var decision = Decide(request, isLocal, token, fd, reply, liveOwner, retry);
        // A probe or a shed is not an answer yet: the reactor asks again and that one is counted.
        if (decision.ProbeOwner == 0 && decision.ShedSnapshot == 0) Counters.Count(TypeOf(request[0]), OutcomeOf(in decision));
        return decision;
    }

    private static RequestType TypeOf(byte tag) => tag switch
    {
        Tags.AliveRequest => RequestType.Alive,
        Tags.PortPleaseRequest => RequestType.PortPlease,
        Tags.NamesRequest => RequestType.Names,
        Tags.DumpRequest => RequestType.Dump,
        Tags.KillRequest => RequestType.Kill,
        Tags.StopRequest => RequestType.Stop,
        _ => RequestType.Unknown,
    };

    private static RequestOutcome OutcomeOf(in Decision decision) =>
        decision.IsSilent ? RequestOutcome.Closed
        : decision.After == AfterReply.KeepRefusedAlive ? RequestOutcome.Refused
        : RequestOutcome.Ok;

    private Decision Decide(ReadOnlySpan<byte> request, bool isLocal, ulong token, int fd, Span<byte> reply,
        ulong liveOwner, bool retry)
    {
        if (HandedOver && request[0] is Tags.AliveRequest or Tags.KillRequest or Tags.StopRequest)
        {
            if (_log.On(1)) _log.Write(1, "registry handed over to the new daemon: request closed unanswered");
            return Decision.Silent;
        }
        switch (request[0])
        {
            case Tags.AliveRequest:
                if (!isLocal) return Refuse("ALIVE2_REQ from non local address");
                return Alive(request, token, fd, reply, liveOwner, retry);
            case Tags.PortPleaseRequest:
                return PortPlease(request, reply);
            case Tags.NamesRequest:
                if (!isLocal && _options.NamesLocalOnly)
                {
                    Refusals.NamesNotLocal++;
                    return Refuse("NAMES_REQ from non local address (-names local)");
                }
                if (!retry && _log.On(1)) _log.Write(1, "** got NAMES_REQ");
                return Shared(ReplyKind.Names);
            case Tags.DumpRequest:
                if (!isLocal) return Refuse("DUMP_REQ from non local address");
                if (!retry && _log.On(1)) _log.Write(1, "** got DUMP_REQ");
                return Shared(ReplyKind.Dump);
            case Tags.KillRequest:
                if (!isLocal) return Refuse("KILL_REQ from non local address");
                return Kill(reply);
            case Tags.StopRequest:
                if (!isLocal) return Refuse("STOP_REQ from non local address");
                return Stop(request, reply);
            default:
                if (_log.On(1)) _log.Write(1, "got garbage ");
                return Decision.Silent;
        }
    }

    private Decision Refuse(string why)
    {
        if (_log.On(0)) _log.Write(0, why);
        return Decision.Silent;
    }

    /// <summary>
    /// A connection has closed (peer FIN or reset, a byte on an ALIVE socket, a timeout, eviction, or
    /// a Decision's CloseOwner): if it still owns its registration, this is the deregistration.
    /// </summary>
    /// <param name="refusedAlive">The connection is a refused ALIVE2, which OTP also tries to unregister.</param>
    public void ConnectionClosed(int record, ulong token, int fd = -1, bool refusedAlive = false)
    {
        if (record < 0)
        {
            if (refusedAlive && _log.On(1)) _log.Write(1, "trying to unregister node with unknown file descriptor " + fd);
            return;
        }
        ref readonly var node = ref _registry[record];
        if (node.State != NodeState.Registered || node.Owner != token) return;
        if (_log.On(1))
        {
            uint creation = AliveReply.WireCreation(node.HighestVersion, node.Creation);
            _log.Write(1, $"unregistering '{Log.Text(_registry.Name(record))}:{creation}', port {node.Port}");
        }
        _registry.Unregister(record);
        Changed(record);
    }

    /// <summary>
    /// Fills the empty registry with what a previous process left (a decoded state image): every
    /// record at its own index, owned by no connection until AdoptRestored. Each slot the image lost
    /// (a torn write) is one line and, in the mirror, an empty slot.
    /// </summary>
    public void Restore(int slotCount, IReadOnlyList<RestoredRecord> records, IReadOnlyList<(int Slot, string Why)> dropped)
    {
        _registry.Restore(slotCount, records);
        _restoredByKey = new Dictionary<ulong, int>();
        foreach (var restored in records)
        {
            if (restored.State == NodeState.Registered) _restoredByKey[restored.Key] = restored.Slot;
        }
        foreach (var (slot, why) in dropped)
        {
            if (_log.On(0)) _log.Write(0, $"state image slot {slot} dropped: {why}");
            Changed(slot);
        }
    }

    /// <summary>New keys start above this one (a passed descriptor may name a key no slot holds any more).</summary>
    public void ReserveKeysThrough(ulong key) => _registry.ReserveKeysThrough(key);

    /// <summary>A restored registration, not yet adopted, has this key.</summary>
    public bool HasRestored(ulong key) => _restoredByKey is { } byKey && byKey.ContainsKey(key);

    /// <summary>The restored registration whose socket is named by key, taken (once) for adoption; -1 when none has it.</summary>
    public int TakeRestored(ulong key)
    {
        _registry.ReserveKeysThrough(key);
        return _restoredByKey is { } byKey && byKey.Remove(key, out int record) ? record : -1;
    }

    /// <summary>Every restored registration no socket was passed for is dropped; how many.</summary>
    public int DropUnadopted()
    {
        if (_restoredByKey is not { } byKey) return 0;
        int dropped = 0;
        foreach (int record in byKey.Values)
        {
            DropRestored(record, "no descriptor was passed for it");
            dropped++;
        }
        _restoredByKey = null;
        return dropped;
    }

    /// <summary>A restored registration (Restore) is alive on the endpoint's connection token, fd.</summary>
    public void AdoptRestored(int record, ulong token, int fd)
    {
        _registry.Adopt(record, token, fd);
        Changed(record);
        if (_log.On(1)) _log.Write(1, $"adopted '{Log.Text(_registry.Name(record))}', port {_registry[record].Port}, fd {fd}");
    }

    /// <summary>
    /// A restored registration whose socket is gone, dirty or missing: a deregistration, as if its
    /// close had been seen while the daemon ran. One line at level 0 says which and why.
    /// </summary>
    public void DropRestored(int record, string why)
    {
        ref readonly var node = ref _registry[record];
        if (node.State != NodeState.Registered || node.Owner != 0) return;
        if (_log.On(0)) _log.Write(0, $"restored registration '{Log.Text(_registry.Name(record))}' (port {node.Port}) dropped: {why}");
        _registry.Unregister(record);
        Changed(record);
    }

    private void Changed(int record)
    {
        if (_mirror is { } mirror && !mirror.Write(_registry, record))
            Invariant.Broken("a registry record beyond the state image");
    }

    private Decision Alive(ReadOnlySpan<byte> request, ulong token, int fd, Span<byte> reply, ulong liveOwner, bool retry)
    {
        if (!retry && _log.On(1)) _log.Write(1, "** got ALIVE2_REQ");
        var status = AliveRequest.TryParse(request, out var alive);
        if (status == AliveParseStatus.Silent)
        {
            if (_log.On(1)) _log.Write(1, "ALIVE2_REQ with bad sizes or a NUL in the name");
            return Decision.Silent;
        }
        if (status == AliveParseStatus.Refused)
        {
            if (_log.On(1)) _log.Write(1, "ALIVE2_REQ: name or extra too long, or name not valid UTF-8");
            return RefusedAlive(alive.HighestVersion, reply);
        }

        var result = Register(in alive, token, fd, out int record);
        if (result == RegisterStatus.Duplicate && _registry[record].Owner != liveOwner)
        {
            // OTP issue 11083: a node restarting faster than we process its old socket's FIN. Only
            // an owner whose socket is already dead gives the name up: the reactor looks, closes it
            // if it is gone (ConnectionClosed frees the name) and asks again.
            return new Decision { After = AfterReply.Close, ProbeOwner = _registry[record].Owner };
        }
        if (result == RegisterStatus.NoMemory)
        {
            // The registry's native memory ran out (address-space limit, refused mmap): this node
            // gets OTP's refusal, as for a taken name, and every registration already held stays.
            Counters.MemoryRefusals++;
            if (_log.On(0)) _log.Write(0, $"cannot store registration ({Errno.Describe(_registry.Memory.LastErrno)}), refusing ", alive.Name);
            return RefusedAlive(alive.HighestVersion, reply);
        }
        if (result == RegisterStatus.Duplicate)
        {
            Counters.DuplicateRefusals++;
            if (_log.On(0)) _log.Write(0, "node name already occupied ", alive.Name);
            if (_log.On(1)) _log.Write(1, $"** sent ALIVE2_RESP for \"{Log.Text(alive.Name)}\"");
            return RefusedAlive(alive.HighestVersion, reply);
        }

        Counters.Registrations++;
        Changed(record);
        uint creation = _registry[record].Creation;
        if (_log.On(1))
        {
            // OTP logs the creation as the node is told it: 1..3 for a version 5 node.
            _log.Write(1, $"registering '{Log.Text(alive.Name)}:{AliveReply.WireCreation(alive.HighestVersion, creation)}', port {alive.Port}");
            _log.Write(1, $"type {alive.NodeType} proto {alive.Protocol} highvsn {alive.HighestVersion} lowvsn {alive.LowestVersion}");
            _log.Write(1, $"** sent ALIVE2_RESP for \"{Log.Text(alive.Name)}\"");
        }
        return new Decision
        {
            After = AfterReply.KeepRegistration,
            ReplyLength = AliveReply.WriteSuccess(reply, alive.HighestVersion, creation),
            Record = record,
            StoreKey = _registry[record].Key,
        };
    }

    private RegisterStatus Register(in AliveRequest alive, ulong token, int fd, out int record) =>
        _registry.Register(alive.Name, alive.Extra, alive.Port, alive.NodeType, alive.Protocol,
            alive.HighestVersion, alive.LowestVersion, token, fd, _unixSeconds(), out record);

    private static Decision RefusedAlive(ushort highestVersion, Span<byte> reply) => new()
    {
        After = AfterReply.KeepRefusedAlive,
        ReplyLength = AliveReply.WriteRefused(reply, highestVersion),
    };

    private Decision PortPlease(ReadOnlySpan<byte> request, Span<byte> reply)
    {
        if (_log.On(1)) _log.Write(1, "** got PORT2_REQ");
        if (!PortPleaseRequest.TryParse(request, out var name))
        {
            if (_log.On(1)) _log.Write(1, "PORT2_REQ with a NUL, an empty or an invalid name");
            return Decision.Silent;
        }
        int record = _registry.FindRegistered(name);
        if (record < 0)
        {
            if (_log.On(1)) _log.Write(1, $"** sent PORT2_RESP (error) for \"{Log.Text(name)}\"");
            return new Decision { After = AfterReply.Close, ReplyLength = PortPleaseReply.WriteNotFound(reply) };
        }
        if (_log.On(1)) _log.Write(1, $"** sent PORT2_RESP (ok) for \"{Log.Text(name)}\"");
        ref readonly var r = ref _registry[record];
        return new Decision
        {
            After = AfterReply.Close,
            ReplyLength = PortPleaseReply.WriteFound(reply, r.Port, r.NodeType, r.Protocol, r.HighestVersion,
                r.LowestVersion, _registry.Name(record), _registry.Extra(record)),
        };
    }

    private Decision Kill(Span<byte> reply)
    {
        if (_log.On(1)) _log.Write(1, "** got KILL_REQ");
        if (!_options.RelaxedCommandCheck && _registry.RegisteredCount > 0)
        {
            if (_log.On(0)) _log.Write(0, "Disallowed KILL_REQ, live nodes");
            return new Decision { After = AfterReply.Close, ReplyLength = Copy(ShortReplies.KillRefused, reply) };
        }
        if (_log.On(1)) _log.Write(1, "epmd killed");
        if (_log.On(0)) _log.Write(0, "got KILL_REQ - terminates normal");
        return new Decision { After = AfterReply.StopDaemon, ReplyLength = Copy(ShortReplies.KillAccepted, reply) };
    }

    private Decision Stop(ReadOnlySpan<byte> request, Span<byte> reply)
    {
        if (!_options.RelaxedCommandCheck)
        {
            if (_log.On(0)) _log.Write(0, "Disallowed STOP_REQ, no relaxed_command_check");
            return Decision.Silent;
        }
        if (_log.On(1)) _log.Write(1, "** got STOP_REQ");
        if (!StopRequest.TryParse(request, out var name)) return Decision.Silent;
        int record = _registry.FindRegistered(name);
        if (record < 0)
        {
            if (_log.On(1))
            {
                // OTP writes NOEXIST and STOPPED separately and logs both.
                _log.Write(1, "trying to unregister node with unknown name " + Log.Text(name));
                _log.Write(1, "** sent STOP_RESP NOEXIST");
                _log.Write(1, "** sent STOP_RESP STOPPED");
            }
            return new Decision { After = AfterReply.Close, ReplyLength = Copy(ShortReplies.NotFoundThenStopped, reply) };
        }
        ulong owner = _registry[record].Owner;
        ConnectionClosed(record, owner);
        if (_log.On(1))
        {
            _log.Write(1, "epmd connection stopped");
            _log.Write(1, "** sent STOP_RESP STOPPED");
        }
        return new Decision
        {
            After = AfterReply.Close,
            ReplyLength = Copy(ShortReplies.Stopped, reply),
            CloseOwner = owner,
        };
    }

    private Decision Shared(ReplyKind kind)
    {
        int id = Snapshots.Current(kind, _registry.Version);
        if (id == 0)
        {
            long size = Measure(kind);
            int room = Snapshots.MakeRoom(kind, size);
            if (room > 0) return new Decision { After = AfterReply.Close, ShedSnapshot = room };
            Span<byte> buffer = default;
            if (room == 0) id = Snapshots.StartBuild(kind, size, out buffer);
            if (id == 0)
            {
                if (_log.On(0)) _log.Write(0, "no memory for a " + kind + " reply of " + size + " bytes; closing the connection");
                return Decision.Silent;
            }
            Snapshots.FinishBuild(id, (int)Build(kind, buffer), _registry.Version);
        }
        if (_log.On(1)) _log.Write(1, kind == ReplyKind.Names ? "** sent NAMES_RESP" : "** sent DUMP_RESP");
        return new Decision { After = AfterReply.Close, Snapshot = id };
    }

    /// <summary>The reply's length, as Build will write it.</summary>
    private long Measure(ReplyKind kind)
    {
        long length = NamesReply.HeaderLength;
        for (int r = _registry.FirstRegistered; r >= 0; r = _registry.NextInList(r))
        {
            ref readonly var node = ref _registry[r];
            length += kind == ReplyKind.Dump
                ? NamesReply.ActiveDumpLineLength(node.NameLength, node.Port, node.Fd)
                : NamesReply.NameLineLength(node.NameLength, node.Port);
        }
        if (kind == ReplyKind.Dump)
        {
            for (int r = _registry.FirstRemembered; r >= 0; r = _registry.NextInList(r))
            {
                ref readonly var node = ref _registry[r];
                length += NamesReply.UnusedDumpLineLength(node.NameLength, node.Port, node.Fd);
            }
        }
        return length;
    }

    private long Build(ReplyKind kind, Span<byte> buffer)
    {
        long length = NamesReply.WriteHeader(buffer, _options.Port);
        for (int r = _registry.FirstRegistered; r >= 0; r = _registry.NextInList(r))
        {
            var line = buffer.Slice((int)length);
            ref readonly var node = ref _registry[r];
            length += kind == ReplyKind.Dump
                ? NamesReply.WriteActiveDumpLine(line, _registry.Name(r), node.Port, node.Fd)
                : NamesReply.WriteNameLine(line, _registry.Name(r), node.Port);
        }
        if (kind == ReplyKind.Dump)
        {
            for (int r = _registry.FirstRemembered; r >= 0; r = _registry.NextInList(r))
            {
                var line = buffer.Slice((int)length);
                ref readonly var node = ref _registry[r];
                length += NamesReply.WriteUnusedDumpLine(line, _registry.Name(r), node.Port, node.Fd);
            }
        }
        return length;
    }

    private static int Copy(ReadOnlySpan<byte> text, Span<byte> reply)
    {
        text.CopyTo(reply);
        return text.Length;
    }
}
