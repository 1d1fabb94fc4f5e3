// Registrations that outlive a process: the descriptor store that keeps each ALIVE socket, taking an
// inherited ALIVE socket back as its registration's connection, and letting go of one without a
// deregistration (a restart or a handoff that keeps it).
using FastEpmd.Interop;
using FastEpmd.Poller;
using FastEpmd.Service;

namespace FastEpmd.Reactor;

internal sealed partial class EpmdReactor
{
    private IDescriptorStore? _store;

    /// <summary>
    /// A stop by signal leaves the registrations alone (Shutdown's keepRegistrations): set when
    /// they outlive the process (a store, a handoff). KILL_REQ clears it: OTP's KILL ends them all.
    /// </summary>
    public bool KeepRegistrationsAtStop { get; set; }

    /// <summary>Keeps every registration's socket in this store from now on; null: no store (the default).</summary>
    public IDescriptorStore? DescriptorStore
    {
        get => _store;
        set => _store = value;
    }

    /// <summary>
    /// Takes an inherited ALIVE socket as the connection of restored registry record `record`. A
    /// descriptor that is not a connected TCP socket, or whose peer closed, reset or sent a byte
    /// while no daemon read it (any byte ends a registration, as in OTP), is closed and its
    /// registration dropped, as a deregistration. True when adopted.
    /// </summary>
    public bool AdoptRegistration(int fd, int record, ulong key)
    {
        string? why = InheritedSocket.ConnectionProblem(fd);
        if (why == null)
        {
            why = SocketIo.Peek(fd) switch
            {
                IoStatus.WouldBlock => null,
                IoStatus.Done => "its node sent data while no daemon ran",
                IoStatus.PeerClosed => "its node closed the connection while no daemon ran",
                _ => "its connection was reset while no daemon ran",
            };
        }
        int slot = -1;
        if (why == null && Listener.PeerOf(fd, out var peer))
        {
            slot = _table.Allocate(fd);
            if (slot < 0) why = "the connection table is full";
            else HoldSlot(slot, peer.ToPeerIp(), peer.IsLocal);   // never refused: it is registered
        }
        else
        {
            why ??= $"fd {fd} is a TCP socket that is not connected";
        }
        if (why != null)
        {
            SocketIo.Close(fd);
            _store?.Remove(key);
            _service.DropRestored(record, why);
            return false;
        }

        ref var c = ref _table[slot];
        SocketIo.MakeNonBlocking(fd);
        c.State = ConnectionState.Registered;
        c.After = AfterReply.KeepRegistration;
        c.Record = record;
        c.StoreKey = key;
        _service.AdoptRestored(record, _table.TokenOf(slot), fd);
        Watch(slot, PollInterest.Read);
        return _table.Resolve(_table.TokenOf(slot)) == slot;
    }

    /// <summary>Every registration's (key, fd), for a handoff: the descriptors stay open and owned by this loop.</summary>
    public List<(ulong Key, int Fd)> RegistrationDescriptors()
    {
        var result = new List<(ulong, int)>();
        foreach (int slot in _table.UsedSlots())
        {
            ref var c = ref _table[slot];
            if (c.State == ConnectionState.Registered && c.StoreKey != 0) result.Add((c.StoreKey, c.Fd));
        }
        return result;
    }

    /// <summary>Every open listener's descriptor and kind, for a handoff.</summary>
    public List<(int Fd, ListenerKind Kind)> ListenerDescriptors()
    {
        var result = new List<(int, ListenerKind)>();
        foreach (var (fd, kind) in _listeners)
        {
            if (fd >= 0) result.Add((fd, kind));
        }
        return result;
    }

    /// <summary>Closes a registration's socket without telling the service: the registration lives on elsewhere.</summary>
    private void ReleaseRegistration(int slot)
    {
        ref var c = ref _table[slot];
        c.Reply.Release(_service.Snapshots, _table.Spills);
        _admission.Release(slot);
        SocketIo.Close(c.Fd);
        _table.Free(slot);
    }
}
