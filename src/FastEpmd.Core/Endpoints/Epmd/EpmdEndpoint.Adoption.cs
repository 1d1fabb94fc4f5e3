// The epmd endpoint's side of the restart seam: each registration's socket is kept in a descriptor
// store while it lives, taken back in the next process as its restored registration's connection,
// exported to a successor (-upgrade), and let go of there without a deregistration.
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Poller;
using FastEpmd.Service;

namespace FastEpmd.Endpoints.Epmd;

internal sealed unsafe partial class EpmdEndpoint
{
    public const string EndpointName = "epmd";

    private readonly IDescriptorStore? _store;

    public string Name => EndpointName;

    /// <summary>
    /// A stop by signal leaves the registrations alone: set when they outlive the process (a store,
    /// a handoff). STOP_REQ clears it: the daemon was told to end, and OTP's nodes see it end.
    /// </summary>
    public bool KeepRegistrationsAtStop { get; private set; }

    /// <summary>A successor serves the registrations (LetGo): only the one-shot connections already accepted are answered.</summary>
    public bool HandedOver { get; private set; }

    public void Export(List<HeldDescriptor> into)
    {
        foreach (int index in _listeners)
        {
            if (_loop.ListenerOpen(index)) into.Add(new HeldDescriptor(EndpointName, HeldRole.Listener, 0, _loop.ListenerFd(index)));
        }
        foreach (int slot in _loop.Table.SlotsOf(_id))
        {
            ref var c = ref _connections[slot];
            if (c.State == ConnectionState.Registered && c.StoreKey != 0)
                into.Add(new HeldDescriptor(EndpointName, HeldRole.Connection, c.StoreKey, _loop.FdOf(slot)));
        }
    }

    public bool Adopt(in HeldDescriptor descriptor)
    {
        if (descriptor.Role == HeldRole.Listener)
        {
            if (AddListener(descriptor.Fd)) return true;
            SocketIo.Close(descriptor.Fd);
            return false;
        }
        return AdoptRegistration(descriptor.Fd, descriptor.Key);
    }

    /// <summary>
    /// Takes an inherited ALIVE socket as the connection of the restored registration its key names.
    /// A key no restored registration has, a descriptor that is not a connected TCP socket, or one
    /// whose peer closed, reset or sent a byte while no daemon read it (any byte ends a registration,
    /// as in OTP) is closed, and its registration dropped as a deregistration. True when adopted.
    /// </summary>
    private bool AdoptRegistration(int fd, ulong key)
    {
        int record = _service.TakeRestored(key);
        if (record < 0)
        {
            if (_log.On(0)) _log.Write(0, $"stored descriptor {fd} (alive-{key}) closed: no registration in the state image has it");
            SocketIo.Close(fd);
            _store?.Remove(key);
            return false;
        }
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
            slot = _loop.Open(fd, _id);
            if (slot < 0) why = "the connection table is full";
            else Claim(slot, PeerIp.FromBytes(peer.AddressBytes), peer.IsLocal);   // never refused: it is registered
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

        ref var c = ref _connections[slot];
        SocketIo.MakeNonBlocking(fd);
        c.State = ConnectionState.Registered;
        c.After = AfterReply.KeepRegistration;
        c.Record = record;
        c.StoreKey = key;
        _service.AdoptRestored(record, _loop.TokenOf(slot), fd);
        Watch(slot, PollInterest.Read);
        return _loop.Resolve(_loop.TokenOf(slot)) == slot;
    }

    /// <summary>
    /// A successor has the listeners and every registration's socket; ours are copies of the same
    /// open files. Each leaves the poller and is closed, no registration ends (the node's socket
    /// stays open in the new process), and the service refuses registry changes from now on.
    /// </summary>
    public void LetGo()
    {
        _service.HandOver();
        HandedOver = true;
        KeepRegistrationsAtStop = true;
        foreach (int index in _listeners) _loop.CloseListener(index);
        foreach (int slot in _loop.Table.SlotsOf(_id))
        {
            if (_connections[slot].State == ConnectionState.Registered) Release(slot);
        }
    }

    /// <summary>Closes a connection without telling the service or the store: its registration lives on elsewhere.</summary>
    private void Release(int slot)
    {
        Forget(slot);
        _loop.Close(slot);
    }

    // ---- stopping ----

    public void OnStopping()
    {
        foreach (int index in _listeners) _loop.CloseListener(index);
        if (HandedOver) return;   // one-shot connections already accepted are still answered
        foreach (int slot in _loop.Table.SlotsOf(_id))
        {
            if (_connections[slot].State == ConnectionState.Reading) CloseConnection(slot);
        }
    }

    /// <summary>Replies being written get the drain's budget; after a handoff, every one-shot connection does.</summary>
    public bool Busy
    {
        get
        {
            if (HandedOver) return Count > 0;
            foreach (int slot in _loop.Table.SlotsOf(_id))
            {
                if (_connections[slot].State == ConnectionState.Writing) return true;
            }
            return false;
        }
    }

    /// <summary>
    /// Every connection left is closed; registrations (the nodes see EOF, as after OTP's KILL) end
    /// with a deregistration unless they outlive the process (KeepRegistrationsAtStop).
    /// </summary>
    public void OnStopped()
    {
        foreach (int slot in _loop.Table.SlotsOf(_id))
        {
            if (KeepRegistrationsAtStop && _connections[slot].State == ConnectionState.Registered) Release(slot);
            else CloseConnection(slot);
        }
    }

    /// <summary>
    /// Gives back every descriptor and buffer. Never a deregistration and never a change to the
    /// store: only the stop decision (OnStopped) ends registrations, so an exception on the way out
    /// leaves every registration where a restart finds it.
    /// </summary>
    public void Dispose()
    {
        foreach (int slot in _loop.Table.SlotsOf(_id)) Release(slot);
        foreach (int index in _listeners) _loop.CloseListener(index);
        System.Runtime.InteropServices.NativeMemory.Free(_connections);
        Inputs.Dispose();
        Spills.Dispose();
        _admission.Dispose();
    }
}
