// Start-up under systemd's descriptor store, in two steps around the construction of the service and
// the epmd endpoint. Open: take what the store kept (the state memfd and the ALIVE sockets) and get
// the state image's memory ready, so the service is built with its mirror and the endpoint with its
// store. Adopt: restore and adopt them (InheritedRegistrations), then store the image if it is new.
using FastEpmd.Diagnostics;
using FastEpmd.Endpoints.Epmd;
using FastEpmd.Interop;
using FastEpmd.Restart;
using FastEpmd.Service;

namespace FastEpmd.Daemon;

internal sealed class StoredRegistrations : IDisposable
{
    private readonly SystemdStore? _store;
    private readonly StateFile? _state;
    private readonly InheritedRegistrations? _adopted;
    private int _stateFd;

    private StoredRegistrations(SystemdStore? store, StateFile? state, InheritedRegistrations? adopted, int stateFd)
    {
        _store = store;
        _state = state;
        _adopted = adopted;
        _stateFd = stateFd;
    }

    /// <summary>The mirror the service keeps current (null: no store in use).</summary>
    public IRegistryMirror? Mirror => _state?.Mirror;

    /// <summary>The store the epmd endpoint keeps each registration's socket in (null: none in use).</summary>
    public IDescriptorStore? Store => _state == null ? null : _store;

    /// <summary>The line for the start-up banner, e.g. "12 registrations adopted, 1 dropped"; null when nothing was passed.</summary>
    public string? Summary => _adopted == null ? null : $"{_adopted.Adopted} registrations adopted, {_adopted.Dropped} dropped";

    /// <param name="stored">What the store passed back (LISTEN_FDNAMES "state", "alive-*", "stored"), or null.</param>
    public static StoredRegistrations Open(EpmdOptions options, Log log, int capacity, int rememberLimit,
        List<(string Name, int Fd)>? stored)
    {
        var store = SystemdStore.Open(options, log);
        stored ??= new List<(string, int)>();
        int stateFd = -1;
        var others = new List<(string Name, int Fd)>();
        foreach (var (name, fd) in stored)
        {
            if (name == StoreNames.State && stateFd < 0) stateFd = fd;
            else others.Add((name, fd));
        }

        InheritedRegistrations? adopted = null;
        if (stateFd >= 0)
        {
            using var passed = StateFile.ReadPassed(stateFd, out string? reason);
            adopted = InheritedRegistrations.From(passed == null ? default : passed.GetSpan(), others, reason);
        }
        else if (others.Count > 0)
        {
            adopted = InheritedRegistrations.From(default, others, "no state memfd was passed");
        }

        StateFile? state = null;
        if (store != null)
        {
            int slots = Math.Max(StateMirror.SlotsFor(capacity, rememberLimit), adopted?.Image?.SlotCount ?? 0);
            if (adopted?.Image is { } image && image.SlotCount >= slots) state = StateFile.Reuse(stateFd, image.SlotCount, log);
            state ??= StateFile.Create(slots, log);
        }
        return new StoredRegistrations(store, state, adopted, stateFd);
    }

    /// <summary>Restores and adopts what was passed, then keeps the store current from here on.</summary>
    public void Adopt(EpmdService service, EpmdEndpoint epmd, Log log)
    {
        var store = _store;
        _adopted?.Apply(service, epmd, Store, log, store == null ? null : name => store.RemoveName(name));
        if (_adopted != null) store?.CountAdopted(_adopted.Adopted);

        if (_state is { Fresh: true })
        {
            _state.Mirror.WriteAll(service.Registry);
            if (_stateFd >= 0) store!.RemoveState();
            if (!store!.StoreState(_state.Fd) && log.On(0)) log.Write(0, "descriptor store: FDSTORE of the state memfd failed; a restart will start empty");
        }
        if (_state is { Fresh: false }) _stateFd = -1;   // the reused memfd: closed below as ours
        _state?.CloseDescriptor();
        if (_stateFd >= 0) SocketIo.Close(_stateFd);
        _stateFd = -1;
    }

    public void Dispose()
    {
        _state?.Dispose();
        _store?.Dispose();
    }
}
