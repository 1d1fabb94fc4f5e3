// Held still for a handoff (Loop/IFreezable): the session freezes the daemon before it takes the
// state, so the registry must not change from then on. The loop stops watching the listeners; here,
// a registration whose socket stirs (its node ending it, or bytes) is taken out of the poller, as it
// is level-triggered and would fire again at once, and watched again on Thaw; its close, if any,
// is then seen by this daemon or, after a handover, by the new one. One-shot connections already
// accepted finish (Drained) or are closed (CloseUndrained).
using FastEpmd.Loop;
using FastEpmd.Poller;

namespace FastEpmd.Endpoints.Epmd;

internal sealed unsafe partial class EpmdEndpoint : IFreezable
{
    private bool _frozen;
    private readonly List<(int Slot, ulong Token)> _deferred = new();

    public void Freeze() => _frozen = true;

    public void Thaw()
    {
        _frozen = false;
        foreach (var (slot, token) in _deferred)
        {
            if (_loop.Resolve(token) == slot && _connections[slot].State is ConnectionState.Registered or ConnectionState.RefusedAlive)
                Watch(slot, PollInterest.Read);
        }
        _deferred.Clear();
    }

    public bool Drained
    {
        get
        {
            foreach (int slot in _loop.Table.SlotsOf(_id))
            {
                if (_connections[slot].State is ConnectionState.Reading or ConnectionState.Writing) return false;
            }
            return true;
        }
    }

    public void CloseUndrained()
    {
        foreach (int slot in _loop.Table.SlotsOf(_id))
        {
            if (_connections[slot].State is not (ConnectionState.Reading or ConnectionState.Writing)) continue;
            if (_log.On(1)) _log.Write(1, "closing an unfinished request for the handoff, fd " + _loop.FdOf(slot));
            CloseConnection(slot);
        }
    }

    private void Defer(int slot)
    {
        _loop.Unwatch(slot);
        _deferred.Add((slot, _loop.TokenOf(slot)));
    }
}
