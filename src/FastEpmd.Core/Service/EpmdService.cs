// Every decision and every registry change: a complete request (or the close of a connection) and
// what the reactor knows about it go in; reply bytes, what to do with this connection and any effect
// on another connection come out. No syscalls and no calls back: the reactor owns all I/O.
using FastEpmd.Diagnostics;
using FastEpmd.Registry;
using FastEpmd.Wire;

namespace FastEpmd.Service;

internal sealed class EpmdService
{
    private readonly EpmdOptions _options;
    private readonly NodeRegistry _registry;
    private readonly Log _log;
    private readonly Func<long> _unixSeconds;
    private readonly ReplySnapshotCache _names = new();
    private readonly ReplySnapshotCache _dump = new();

    public EpmdService(EpmdOptions options, NodeRegistry registry, Log log, Func<long>? unixSeconds = null)
    {
        _options = options;
        _registry = registry;
        _log = log;
        _unixSeconds = unixSeconds ?? (static () => DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    }

    public NodeRegistry Registry => _registry;

    /// <summary>What has been decided so far (requests by type and outcome, registrations, duplicates).</summary>
    public ServiceCounters Counters { get; } = new();

    /// <summary>Refusals by the access rules beyond OTP (-allow, -max_per_peer, -names local).</summary>
    public AccessRefusals Refusals { get; } = new();

    /// <summary>The accept-time rules for a connection table of the given size.</summary>
    public PeerAdmission CreateAdmission(int slots) => new(_options, slots, Refusals);

    /// <param name="request">The payload after the 2-byte length: tag first.</param>
    /// <param name="token">The requesting connection, recorded as a registration's owner.</param>
    /// <param name="reply">At least Limits.MaxSmallReply bytes.</param>
    /// <param name="liveOwner">
    /// An owner the reactor has just probed (after a Decision.ProbeOwner) and found alive: a duplicate
    /// of its name is refused without asking again. 0: none.
    /// </param>
    public Decision Handle(ReadOnlySpan<byte> request, bool isLocal, ulong token, int fd, Span<byte> reply,
        ulong liveOwner = 0)
    {
        var decision = Decide(request, isLocal, token, fd, reply, liveOwner);
        // A probe is not an answer yet: the reactor asks again and that one is counted.
        if (decision.ProbeOwner == 0) Counters.Count(TypeOf(request[0]), OutcomeOf(in decision));
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
        decision.ReplyLength == 0 && decision.Snapshot is null ? RequestOutcome.Closed
        : decision.After == AfterReply.KeepRefusedAlive ? RequestOutcome.Refused
        : RequestOutcome.Ok;

    private Decision Decide(ReadOnlySpan<byte> request, bool isLocal, ulong token, int fd, Span<byte> reply,
        ulong liveOwner)
    {
        switch (request[0])
        {
            case Tags.AliveRequest:
                if (!isLocal) return Refuse("ALIVE2_REQ from non local address");
                return Alive(request, token, fd, reply, liveOwner);
            case Tags.PortPleaseRequest:
                return PortPlease(request, reply);
            case Tags.NamesRequest:
                if (!isLocal && _options.NamesLocalOnly)
                {
                    Refusals.NamesNotLocal++;
                    return Refuse("NAMES_REQ from non local address (-names local)");
                }
                if (_log.On(1)) _log.Write(1, "** got NAMES_REQ");
                return Shared(_names, isDump: false);
            case Tags.DumpRequest:
                if (!isLocal) return Refuse("DUMP_REQ from non local address");
                if (_log.On(1)) _log.Write(1, "** got DUMP_REQ");
                return Shared(_dump, isDump: true);
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
    public void ConnectionClosed(int record, ulong token)
    {
        if (record < 0) return;
        ref readonly var node = ref _registry[record];
        if (node.State != NodeState.Registered || node.Owner != token) return;
        if (_log.On(1)) _log.Write(1, "unregistering '" + Log.Text(_registry.Name(record)) + "'");
        _registry.Unregister(record);
    }

    private Decision Alive(ReadOnlySpan<byte> request, ulong token, int fd, Span<byte> reply, ulong liveOwner)
    {
        if (_log.On(1)) _log.Write(1, "** got ALIVE2_REQ");
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
        if (result == RegisterStatus.Duplicate)
        {
            Counters.DuplicateRefusals++;
            if (_log.On(0)) _log.Write(0, "node name already occupied ", alive.Name);
            return RefusedAlive(alive.HighestVersion, reply);
        }

        Counters.Registrations++;
        uint creation = _registry[record].Creation;
        if (_log.On(1))
        {
            _log.Write(1, $"registering '{Log.Text(alive.Name)}:{creation}', port {alive.Port}");
            _log.Write(1, $"type {alive.NodeType} proto {alive.Protocol} highvsn {alive.HighestVersion} lowvsn {alive.LowestVersion}");
        }
        return new Decision
        {
            After = AfterReply.KeepRegistration,
            ReplyLength = AliveReply.WriteSuccess(reply, alive.HighestVersion, creation),
            Record = record,
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
            return new Decision { After = AfterReply.Close, ReplyLength = PortPleaseReply.WriteNotFound(reply) };
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
            return new Decision { After = AfterReply.Close, ReplyLength = Copy(ShortReplies.NotFoundThenStopped, reply) };
        ulong owner = _registry[record].Owner;
        ConnectionClosed(record, owner);
        return new Decision
        {
            After = AfterReply.Close,
            ReplyLength = Copy(ShortReplies.Stopped, reply),
            CloseOwner = owner,
        };
    }

    private Decision Shared(ReplySnapshotCache cache, bool isDump)
    {
        var snapshot = cache.TryGet(_registry.Version) ?? Build(cache, isDump);
        snapshot.Pins++;
        return new Decision { After = AfterReply.Close, Snapshot = snapshot };
    }

    private ReplySnapshot Build(ReplySnapshotCache cache, bool isDump)
    {
        var s = cache.StartRebuild();
        s.EnsureCapacity(NamesReply.HeaderLength + NamesReply.MaxLineLength);
        s.Length = NamesReply.WriteHeader(s.Buffer, _options.Port);
        for (int r = _registry.FirstRegistered; r >= 0; r = _registry.NextInList(r))
        {
            s.EnsureCapacity(s.Length + NamesReply.MaxLineLength);
            ref readonly var node = ref _registry[r];
            s.Length += isDump
                ? NamesReply.WriteActiveDumpLine(s.Buffer.AsSpan(s.Length), _registry.Name(r), node.Port, node.Fd)
                : NamesReply.WriteNameLine(s.Buffer.AsSpan(s.Length), _registry.Name(r), node.Port);
        }
        if (isDump)
        {
            for (int r = _registry.FirstRemembered; r >= 0; r = _registry.NextInList(r))
            {
                s.EnsureCapacity(s.Length + NamesReply.MaxLineLength);
                ref readonly var node = ref _registry[r];
                s.Length += NamesReply.WriteUnusedDumpLine(s.Buffer.AsSpan(s.Length), _registry.Name(r), node.Port, node.Fd);
            }
        }
        s.Version = _registry.Version;
        return s;
    }

    private static int Copy(ReadOnlySpan<byte> text, Span<byte> reply)
    {
        text.CopyTo(reply);
        return text.Length;
    }
}
