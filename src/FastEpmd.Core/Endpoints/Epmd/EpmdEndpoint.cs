// The epmd endpoint: bytes in, Frame, the service's Decision carried out, bytes out, on the loop's
// connections; a registration's connection is kept until it ends, which the service turns into the
// deregistration. Split by idea: this file (accept gate, readiness, timers, eviction, close),
// .Reads, .Decisions, .Writes, .Adoption (the restart seam and the descriptor store) and .Freeze
// (held still for a handoff).
using System.Runtime.InteropServices;
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Poller;
using FastEpmd.Service;
using FastEpmd.Wire;

namespace FastEpmd.Endpoints.Epmd;

internal sealed unsafe partial class EpmdEndpoint : IEndpoint, IRestartable, IDisposable
{
    public const int InputSize = Limits.InputBufferSize;
    public const int OutputSize = Limits.MaxSmallReply;

    /// <summary>Blocks kept in each pool once returned; more are freed.</summary>
    private const int PoolKeep = 64;

    private readonly EventLoop _loop;
    private readonly int _id;
    private readonly EpmdOptions _options;
    private readonly EpmdService _service;
    private readonly Log _log;
    private readonly EpmdConnection* _connections;
    private readonly int _slots;
    private readonly byte[] _readScratch = new byte[Limits.MaxFirstRead];
    private readonly byte[] _replyScratch = new byte[Limits.MaxSmallReply];
    private readonly List<int> _listeners = new();

    /// <summary>The packet (idle) timer: reset by every byte read; also a refused ALIVE's timer.</summary>
    private readonly TimerList _idle;

    /// <summary>The whole-request deadline, counted from accept.</summary>
    private readonly TimerList _request;

    /// <summary>-allow and -max_per_peer, decided by the service's rules before a slot is taken.</summary>
    private readonly PeerAdmission _admission;

    /// <summary>What the endpoint has done, as plain fields: read them, never write them from outside.</summary>
    public EpmdCounters Counters;

    /// <param name="quota">The most connections it holds at once; 0: the whole table.</param>
    /// <param name="store">Where each registration's socket is kept across restarts (systemd's store), or null.</param>
    /// <param name="keepRegistrationsAtStop">A stop by signal leaves the registrations alone: they outlive the process.</param>
    public EpmdEndpoint(EventLoop loop, EpmdService service, EpmdOptions options, Log log, int quota = 0,
        IDescriptorStore? store = null, bool keepRegistrationsAtStop = false)
    {
        _loop = loop;
        _service = service;
        _options = options;
        _log = log;
        _id = loop.Attach(this, quota);
        Quota = quota > 0 ? quota : loop.Table.Capacity;
        _slots = loop.Table.Capacity;
        // calloc-backed, as the table: not resident until a slot is used.
        _connections = (EpmdConnection*)NativeMemory.AllocZeroed((nuint)_slots, (nuint)sizeof(EpmdConnection));
        Inputs = new BlockPool(InputSize, PoolKeep);
        Spills = new BlockPool(OutputSize, PoolKeep);
        long idleMs = IdleTimeoutMs(options.PacketTimeoutSeconds);
        _idle = loop.CreateTimer(_id, lane: 0, idleMs);
        _request = loop.CreateTimer(_id, lane: 1, Math.Max(idleMs, options.RequestDeadlineMs));
        _admission = service.CreateAdmission(_slots);
        _store = store;
        KeepRegistrationsAtStop = keepRegistrationsAtStop;
    }

    /// <summary>The most connections it holds at once (the -max_connections table size).</summary>
    public int Quota { get; }

    public BlockPool Inputs { get; }
    public BlockPool Spills { get; }
    public PeerAdmission Admission => _admission;
    public EpmdService Service => _service;

    /// <summary>Connections this endpoint holds.</summary>
    public int Count => _loop.Table.CountOf(_id);

    public ref EpmdConnection this[int slot] => ref _connections[slot];

    /// <summary>
    /// OTP closes when last_read + N &lt; now in whole seconds, so a connection quiet for N s plus a
    /// little survives (epmd_SUITE slow_get_port_nr sends with 1 s gaps under -packet_timeout 1) and
    /// one quiet for N + 1 s does not (measured: N = 2 closes after 3.0 s). We close at exactly N + 1 s.
    /// </summary>
    public static long IdleTimeoutMs(int packetTimeoutSeconds) => (Math.Max(1, packetTimeoutSeconds) + 1) * 1000L;

    /// <summary>Serves the epmd protocol on a listening socket; false (logged) when the poller refused it.</summary>
    public bool AddListener(int fd)
    {
        int index = _loop.AddListener(fd, _id, _options.AcceptBatch);
        if (index < 0) return false;
        _listeners.Add(index);
        return true;
    }

    /// <summary>An epmd listener is open (the loop is not stopping or handed over).</summary>
    public bool Listening
    {
        get
        {
            foreach (int index in _listeners)
            {
                if (_loop.ListenerOpen(index)) return true;
            }
            return false;
        }
    }

    // ---- the accept gate: every check on a newcomer, before a slot is taken ----

    public void OnAccepted(int listener, int fd, in PeerAddress peer)
    {
        if (Admit(fd, in peer) is int slot and >= 0) Start(slot);
    }

    /// <summary>The slot the newcomer gets, or -1 when it is refused (its descriptor is closed here).</summary>
    private int Admit(int fd, in PeerAddress peer)
    {
        // First, so that a refused peer evicts no one and none of its bytes is read.
        var address = peer;   // a local: its fixed address bytes stay put while read
        var ip = PeerIp.FromBytes(address.AddressBytes);
        var verdict = _admission.Admit(in ip, peer.IsLocal);
        if (verdict != PeerVerdict.Admitted)
        {
            if (_log.On(1))
                _log.Write(1, (verdict == PeerVerdict.NotAllowed ? "peer not in -allow, closing fd " : "peer over -max_per_peer, closing fd ")
                    + fd + " from " + ip);
            SocketIo.Close(fd);
            return -1;
        }
        int slot = _loop.Open(fd, _id);
        if (slot < 0 && EvictOldest()) slot = _loop.Open(fd, _id);
        if (slot < 0)
        {
            // Every slot holds a registration: the newcomer is the one refused, never a node.
            Counters.DroppedForFullTable++;
            if (_log.On(1)) _log.Write(1, "connection table full of registrations, closing new fd " + fd);
            SocketIo.Close(fd);
            return -1;
        }
        Claim(slot, in ip, peer.IsLocal);
        Counters.Accepted++;
        if (_log.On(2)) _log.Write(2, (peer.IsLocal ? "Local" : "Non-local") + " peer connected, fd = " + fd);
        return slot;
    }

    /// <summary>The slot's epmd state starts: it counts against its peer's -max_per_peer and keeps OTP's local rule.</summary>
    private void Claim(int slot, in PeerIp ip, bool isLocal)
    {
        ref var c = ref _connections[slot];
        c = default;
        c.State = ConnectionState.Reading;
        c.Record = -1;
        c.IsLocal = isLocal;
        _admission.Hold(slot, in ip, isLocal);
    }

    private void Start(int slot)
    {
        _loop.Arm(slot, _request);
        _loop.Arm(slot, _idle);
        // With TCP_DEFER_ACCEPT (the default) the request is already in: read now, no poller round trip.
        OnReadable(slot);
    }

    // ---- readiness and timers ----

    public void OnReady(int slot, PollFlags flags)
    {
        switch (_connections[slot].State)
        {
            case ConnectionState.Reading:
                OnReadable(slot);
                break;
            case ConnectionState.Writing:
                Write(slot);
                break;
            case ConnectionState.Registered:
            case ConnectionState.RefusedAlive:
                if (_frozen) Defer(slot);
                else OnAliveEvent(slot);
                break;
        }
    }

    public void OnTimer(int slot, TimerList list)
    {
        if (list == _idle)
        {
            Counters.Timeouts++;
            if (_log.On(1)) _log.Write(1, "closing because timed out on receive, fd " + _loop.FdOf(slot));
        }
        else
        {
            Counters.RequestDeadlines++;
            if (_connections[slot].State == ConnectionState.Writing) Counters.SlowReadersClosed++;
            if (_log.On(1)) _log.Write(1, "closing because the request deadline passed, fd " + _loop.FdOf(slot));
        }
        CloseConnection(slot);
    }

    /// <summary>A full table: closes the connection quiet longest that is not a registration; false when every slot is one.</summary>
    private bool EvictOldest()
    {
        // The idle list's head was last active longest ago among readers and refused ALIVEs; the
        // request list's head was accepted first (it may be writing). The earlier of the two goes.
        int idle = _idle.Head;
        int request = _request.Head;
        int victim;
        if (idle < 0) victim = request;
        else if (request < 0) victim = idle;
        else
            victim = _loop.DeadlineOf(idle, _idle) - _idle.TimeoutMs <= _loop.DeadlineOf(request, _request) - _request.TimeoutMs
                ? idle
                : request;
        if (victim < 0) return false;
        Counters.DroppedForFullTable++;
        if (_log.On(1)) _log.Write(1, "connection table full, closing oldest idle fd " + _loop.FdOf(victim));
        CloseConnection(victim);
        return true;
    }

    // ---- poller interest and close ----

    private void Watch(int slot, PollInterest interest)
    {
        if (!_loop.Watch(slot, interest)) CloseConnection(slot);
    }

    /// <summary>
    /// Closes a connection and tells the service (a registration's close is its deregistration).
    /// <paramref name="replied"/>: a whole reply was written with MSG_MORE and goes out with the FIN.
    /// </summary>
    private void CloseConnection(int slot, bool replied = false)
    {
        ref var c = ref _connections[slot];
        _service.ConnectionClosed(c.Record, _loop.TokenOf(slot), _loop.FdOf(slot), c.State == ConnectionState.RefusedAlive);
        // Whoever ended the registration (its node, STOP), the store's copy would keep the node's
        // socket open: it goes too.
        if (c.State == ConnectionState.Registered && c.StoreKey != 0) _store?.Remove(c.StoreKey);
        Forget(slot);
        _loop.Close(slot, replied);
    }

    /// <summary>Gives back what the slot's epmd state holds (reply memory, input block, peer count); no protocol effect.</summary>
    private void Forget(int slot)
    {
        ref var c = ref _connections[slot];
        c.Reply.Release(_service.Snapshots, Spills);
        ReturnInput(slot);
        _admission.Release(slot);
        c.State = ConnectionState.Free;
    }

    /// <summary>The slot's input block (empty when it has none).</summary>
    private Span<byte> Input(int slot) =>
        _connections[slot].Input == null ? default : new(_connections[slot].Input, InputSize);

    /// <summary>Gives the slot an input block for a split request; false when there is no memory.</summary>
    private bool TakeInput(int slot)
    {
        ref var c = ref _connections[slot];
        if (c.Input == null) c.Input = Inputs.Take();
        return c.Input != null;
    }

    private void ReturnInput(int slot)
    {
        ref var c = ref _connections[slot];
        Inputs.Return(c.Input);
        c.Input = null;
        c.InCount = 0;
    }
}
