// -allow LIST: the non-local peers that may connect. Entries are addresses or CIDR prefixes,
// parsed once at start; the check at accept is a scan of at most MaxEntries masked compares.
using System.Buffers.Binary;
using System.Text;
using FastEpmd.Interop;

namespace FastEpmd.Service;

internal sealed class PeerAllowList
{
    public const int MaxEntries = 256;

    private static readonly char[] s_separators = { ',', ' ' };

    private readonly Prefix[] _prefixes;

    private PeerAllowList(Prefix[] prefixes) => _prefixes = prefixes;

    public int Count => _prefixes.Length;

    /// <summary>
    /// Entries separated by commas or spaces (empty entries skipped, as -address). An entry is an
    /// IPv4 or IPv6 address as inet_pton reads it, optionally followed by /N with N a decimal
    /// 0..32 (IPv4) or 0..128 (IPv6) and every bit past N zero. Anything else, no entry at all, or
    /// more than MaxEntries entries, is malformed.
    /// </summary>
    public static bool TryParse(string text, out PeerAllowList? list)
    {
        list = null;
        var tokens = text.Split(s_separators, StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length == 0 || tokens.Length > MaxEntries) return false;
        var prefixes = new Prefix[tokens.Length];
        for (int i = 0; i < tokens.Length; i++)
        {
            if (!TryParseEntry(tokens[i], out prefixes[i])) return false;
        }
        list = new PeerAllowList(prefixes);
        return true;
    }

    /// <summary>Allocation-free: at most Count masked compares.</summary>
    public bool Allows(in PeerIp peer)
    {
        bool ipv4 = peer.IsIPv4;
        foreach (ref readonly var p in _prefixes.AsSpan())
        {
            if (p.IsIPv4 == ipv4 && ((peer.High ^ p.High) & p.MaskHigh) == 0 && ((peer.Low ^ p.Low) & p.MaskLow) == 0)
                return true;
        }
        return false;
    }

    private static unsafe bool TryParseEntry(string entry, out Prefix prefix)
    {
        prefix = default;
        int slash = entry.IndexOf('/');
        string address = slash < 0 ? entry : entry[..slash];
        byte* bytes = stackalloc byte[16];
        int family;
        fixed (byte* text = Encoding.UTF8.GetBytes(address + "\0")) family = Shim.InetPton(text, bytes);
        if (family < 0) return false;
        var peer = PeerIp.FromBytes(new ReadOnlySpan<byte>(bytes, family == 6 ? 16 : 4));
        // An IPv4 entry is a prefix of ::ffff:0:0/96; ::ffff:a.b.c.d written as IPv6 is the same entry.
        int bits = family == 6 ? 128 : 32;
        int length = bits;
        if (slash >= 0 && !TryPrefixLength(entry.AsSpan(slash + 1), bits, out length)) return false;
        int mappedLength = family == 6 ? length : 96 + length;
        if (family == 6 && peer.IsIPv4 && length < 96) return false;   // would span IPv4 and IPv6
        ulong maskHigh = Mask(mappedLength);
        ulong maskLow = Mask(mappedLength - 64);
        if ((peer.High & ~maskHigh) != 0 || (peer.Low & ~maskLow) != 0) return false;   // host bits set
        prefix = new Prefix(peer.High, peer.Low, maskHigh, maskLow, peer.IsIPv4);
        return true;
    }

    /// <summary>Decimal digits only, no sign, no leading zero: "0", "8", "24".</summary>
    private static bool TryPrefixLength(ReadOnlySpan<char> text, int max, out int length)
    {
        length = 0;
        if (text.Length == 0 || text.Length > 3 || (text.Length > 1 && text[0] == '0')) return false;
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c)) return false;
            length = length * 10 + (c - '0');
        }
        return length <= max;
    }

    /// <summary>The top n bits of a 64-bit half set (n clamped to 0..64).</summary>
    private static ulong Mask(int n) => n <= 0 ? 0 : n >= 64 ? ulong.MaxValue : ulong.MaxValue << (64 - n);

    private readonly record struct Prefix(ulong High, ulong Low, ulong MaskHigh, ulong MaskLow, bool IsIPv4);
}
