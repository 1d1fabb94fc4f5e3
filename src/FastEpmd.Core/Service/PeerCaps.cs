// -max_per_peer N: how many connections each non-local peer holds now. A peer is an IPv4 address
// (IPv4-mapped IPv6 included) or an IPv6 prefix of -peer_prefix6 bits (a /64 by default: one host
// or one LAN usually holds a whole /64, 2^64 addresses to connect from). A fixed open-addressing
// table (linear probing, backward-shift deletion, so no tombstones) with at least twice as many
// buckets as the connection table has slots: never more than half full, no allocation after start.
// Each connection slot remembers the peer it counted, so a close releases exactly that count.
using System.Numerics;
using System.Runtime.InteropServices;

namespace FastEpmd.Service;

internal sealed unsafe class PeerCaps : IDisposable
{
    private readonly Bucket* _buckets;
    private readonly SlotPeer* _slots;
    private readonly int _mask;
    private readonly int _slotCount;
    private readonly ulong _maskHigh, _maskLow;

    /// <param name="limit">Connections allowed per peer; 0 turns the cap off (nothing is counted).</param>
    /// <param name="slots">The connection table's capacity.</param>
    /// <param name="prefix6">Bits of an IPv6 address that name its peer (1-128).</param>
    public PeerCaps(int limit, int slots, int prefix6 = EpmdOptions.DefaultPeerPrefix6)
    {
        if (slots < 1) throw new ArgumentOutOfRangeException(nameof(slots));
        if (prefix6 is < 1 or > 128) throw new ArgumentOutOfRangeException(nameof(prefix6));
        Limit = limit;
        Prefix6 = prefix6;
        _maskHigh = prefix6 >= 64 ? ulong.MaxValue : ~(ulong.MaxValue >> prefix6);
        _maskLow = prefix6 <= 64 ? 0 : prefix6 == 128 ? ulong.MaxValue : ~(ulong.MaxValue >> (prefix6 - 64));
        _slotCount = slots;
        if (limit == 0) return;
        int buckets = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, Math.Min(slots, 1 << 29) * 2));
        _mask = buckets - 1;
        // calloc: untouched pages stay out of the resident set until remote peers use them.
        _buckets = (Bucket*)NativeMemory.AllocZeroed((nuint)buckets, (nuint)sizeof(Bucket));
        _slots = (SlotPeer*)NativeMemory.AllocZeroed((nuint)slots, (nuint)sizeof(SlotPeer));
    }

    public int Limit { get; }

    public int Prefix6 { get; }

    /// <summary>Distinct peers counted now.</summary>
    public int Addresses { get; private set; }

    /// <summary>What an address counts as: itself for IPv4 (and IPv4-mapped), its prefix for IPv6.</summary>
    public PeerIp PeerOf(in PeerIp address) =>
        address.IsIPv4 ? address : new PeerIp(address.High & _maskHigh, address.Low & _maskLow);

    /// <summary>Connections this address's peer holds now.</summary>
    public int CountOf(in PeerIp address)
    {
        if (Limit == 0) return 0;
        int i = Find(PeerOf(address));
        return i < 0 ? 0 : _buckets[i].Count;
    }

    public bool IsFull(in PeerIp peer) => Limit != 0 && CountOf(peer) >= Limit;

    /// <summary>Counts slot's connection against peer, until Release(slot).</summary>
    public void Hold(int slot, in PeerIp address)
    {
        if (Limit == 0) return;
        var peer = PeerOf(address);
        if ((uint)slot >= (uint)_slotCount) throw new ArgumentOutOfRangeException(nameof(slot));
        ref var s = ref _slots[slot];
        if (s.Held) Release(slot);
        int i = Bucket0(peer);
        while (_buckets[i].Count != 0 && !_buckets[i].Is(peer)) i = (i + 1) & _mask;
        ref var b = ref _buckets[i];
        if (b.Count == 0)
        {
            b.High = peer.High;
            b.Low = peer.Low;
            Addresses++;
        }
        b.Count++;
        s.High = peer.High;
        s.Low = peer.Low;
        s.Held = true;
    }

    /// <summary>Gives back what Hold counted for slot; nothing when it counted nothing.</summary>
    public void Release(int slot)
    {
        if (Limit == 0 || (uint)slot >= (uint)_slotCount) return;
        ref var s = ref _slots[slot];
        if (!s.Held) return;
        s.Held = false;
        int i = Find(new PeerIp(s.High, s.Low));
        if (i < 0 || --_buckets[i].Count > 0) return;
        Addresses--;
        RemoveAt(i);
    }

    private int Find(in PeerIp peer)
    {
        for (int i = Bucket0(peer); _buckets[i].Count != 0; i = (i + 1) & _mask)
        {
            if (_buckets[i].Is(peer)) return i;
        }
        return -1;
    }

    /// <summary>Backward-shift deletion: pull later entries of the probe run into the hole.</summary>
    private void RemoveAt(int hole)
    {
        _buckets[hole] = default;
        for (int i = (hole + 1) & _mask; _buckets[i].Count != 0; i = (i + 1) & _mask)
        {
            int home = Bucket0(new PeerIp(_buckets[i].High, _buckets[i].Low));
            // The entry at i may move into the hole only if its home is not in (hole, i].
            bool homeBetween = hole <= i ? home > hole && home <= i : home > hole || home <= i;
            if (homeBetween) continue;
            _buckets[hole] = _buckets[i];
            _buckets[i] = default;
            hole = i;
        }
    }

    private int Bucket0(in PeerIp peer) => peer.GetHashCode() & _mask;

    public void Dispose()
    {
        if (_buckets != null) NativeMemory.Free(_buckets);
        if (_slots != null) NativeMemory.Free(_slots);
    }

    private struct Bucket
    {
        public ulong High;
        public ulong Low;
        public int Count;   // 0: empty

        public readonly bool Is(in PeerIp peer) => High == peer.High && Low == peer.Low;
    }

    private struct SlotPeer
    {
        public ulong High;
        public ulong Low;
        public bool Held;
    }
}
