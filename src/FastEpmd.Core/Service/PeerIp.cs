// A peer's IP address as two big-endian 64-bit halves of its IPv6 form; IPv4 is kept as the
// IPv4-mapped ::ffff:a.b.c.d, so an IPv4 peer and the same peer seen on a dual-stack socket are
// one address to the allow-list and to the per-address cap.
using System.Buffers.Binary;
using FastEpmd.Interop;

namespace FastEpmd.Service;

internal readonly struct PeerIp : IEquatable<PeerIp>
{
    private const ulong MappedPrefix = 0x0000_FFFFUL << 32;   // low half of ::ffff:0:0

    public PeerIp(ulong high, ulong low)
    {
        High = high;
        Low = low;
    }

    public ulong High { get; }
    public ulong Low { get; }

    /// <summary>An IPv4 address, or an IPv4-mapped IPv6 one.</summary>
    public bool IsIPv4 => High == 0 && (Low & 0xFFFF_FFFF_0000_0000UL) == MappedPrefix;

    /// <summary>From 4 (IPv4) or 16 (IPv6) address bytes in network order.</summary>
    public static PeerIp FromBytes(ReadOnlySpan<byte> address) => address.Length == 4
        ? new PeerIp(0, MappedPrefix | BinaryPrimitives.ReadUInt32BigEndian(address))
        : new PeerIp(BinaryPrimitives.ReadUInt64BigEndian(address), BinaryPrimitives.ReadUInt64BigEndian(address[8..]));

    public bool Equals(PeerIp other) => High == other.High && Low == other.Low;
    public override bool Equals(object? obj) => obj is PeerIp other && Equals(other);

    /// <summary>HashCode's per-process random seed: a remote host cannot pick addresses that collide.</summary>
    public override int GetHashCode() => HashCode.Combine(High, Low);

    /// <summary>Text for log lines (allocates; only when the line is written).</summary>
    public override unsafe string ToString()
    {
        byte* bytes = stackalloc byte[16];
        byte* text = stackalloc byte[64];
        BinaryPrimitives.WriteUInt64BigEndian(new Span<byte>(bytes, 8), High);
        BinaryPrimitives.WriteUInt64BigEndian(new Span<byte>(bytes + 8, 8), Low);
        int n = IsIPv4 ? Shim.InetNtop(0, bytes + 12, text, 64) : Shim.InetNtop(1, bytes, text, 64);
        return n < 0 ? "?" : System.Text.Encoding.ASCII.GetString(text, n);
    }
}
