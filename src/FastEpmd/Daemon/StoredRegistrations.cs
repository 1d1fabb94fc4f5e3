// Start-up under systemd's descriptor store: take back what the store kept (the state memfd and the
// ALIVE sockets), restore and adopt them (InheritedRegistrations), then keep the store current from here on:
// the mirror writes the memfd, the reactor stores and removes each registration's socket.
using FastEpmd.Adoption;
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Reactor;
using FastEpmd.Service;
using FastEpmd.State;

namespace FastEpmd.Daemon;

internal sealed class StoredRegistrations : IDisposable
{
    private readonly SystemdStore? _store;
    private readonly StateFile? _state;

    private StoredRegistrations(SystemdStore? store, StateFile? state)
    {
        _store = store;
        _state = state;
    }

    /// <summary>The line for the start-up banner, e.g. "12 registrations adopted, 1 dropped"; null when nothing was passed.</summary>
    public string? Summary { get; private init; }

    /// <param name="stored">What the store passed back (LISTEN_FDNAMES "state", "alive-*", "stored"), or null.</param>
    public static StoredRegistrations Start(EpmdOptions options, Log log, EpmdService service, EpmdReactor reactor,
        int capacity, List<(string Name, int Fd)>? stored)
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
            int slots = Math.Max(StateMirror.SlotsFor(capacity, service.Registry.RememberLimit), adopted?.Image?.SlotCount ?? 0);
            if (adopted?.Image is { } image && image.SlotCount >= slots) state = StateFile.Reuse(stateFd, image.SlotCount, log);
            state ??= StateFile.Create(slots, log);
            if (state != null)
            {
                service.Mirror = state.Mirror;
                reactor.DescriptorStore = store;
                reactor.KeepRegistrationsAtStop = true;
            }
        }

        adopted?.Apply(service, reactor, log, store == null ? null : name => store.RemoveName(name));

        if (state is { Fresh: true })
        {
            state.Mirror.WriteAll(service.Registry);
            if (stateFd >= 0) store!.RemoveState();
            if (!store!.StoreState(state.Fd) && log.On(0)) log.Write(0, "descriptor store: FDSTORE of the state memfd failed; a restart will start empty");
        }
        if (state is { Fresh: false }) stateFd = -1;   // the reused memfd: closed below as ours
        state?.CloseDescriptor();
        if (stateFd >= 0) SocketIo.Close(stateFd);
        return new StoredRegistrations(store, state)
        {
            Summary = adopted == null ? null : $"{adopted.Adopted} registrations adopted, {adopted.Dropped} dropped",
        };
    }

    public void Dispose()
    {
        _state?.Dispose();
        _store?.Dispose();
    }
}
