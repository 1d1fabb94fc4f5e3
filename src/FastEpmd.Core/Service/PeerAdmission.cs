// Who may hold a connection, decided at accept before any byte is read: local peers always;
// non-local ones only inside -allow (when set) and below -max_per_peer connections per peer (an
// IPv4 address, or an IPv6 -peer_prefix6 prefix).
namespace FastEpmd.Service;

internal enum PeerVerdict
{
    Admitted,
    NotAllowed,
    OverPeerCap,
}

internal sealed class PeerAdmission : IDisposable
{
    private readonly PeerAllowList? _allow;
    private readonly PeerCaps _caps;
    private readonly AccessRefusals _refusals;

    public PeerAdmission(EpmdOptions options, int slots, AccessRefusals refusals)
    {
        _allow = options.Allow;
        _caps = new PeerCaps(options.MaxPerPeer, slots, options.PeerPrefix6);
        _refusals = refusals;
    }

    public PeerCaps Caps => _caps;

    /// <summary>Counts a refusal; an admitted non-local peer is not yet held (see Hold).</summary>
    public PeerVerdict Admit(in PeerIp peer, bool isLocal)
    {
        if (isLocal) return PeerVerdict.Admitted;
        if (_allow is not null && !_allow.Allows(peer))
        {
            _refusals.NotAllowed++;
            return PeerVerdict.NotAllowed;
        }
        if (_caps.IsFull(peer))
        {
            _refusals.OverPeerCap++;
            return PeerVerdict.OverPeerCap;
        }
        return PeerVerdict.Admitted;
    }

    /// <summary>The connection got a slot: a non-local one counts against its address until Release.</summary>
    public void Hold(int slot, in PeerIp peer, bool isLocal)
    {
        if (!isLocal) _caps.Hold(slot, peer);
    }

    public void Release(int slot) => _caps.Release(slot);

    public void Dispose() => _caps.Dispose();
}
