// Turns reply bytes into transcript text. Hex, with exactly three normalisations:
//   - the creation in an ALIVE2 success reply ('v' 4 bytes, 'y' 2 bytes), which depends on the
//     clock. It becomes <cr32>/<cr16> only when it is in range (v6 >= 4, v5 1..3), and for a name
//     registered again in the same sequence it carries the step from the previous creation
//     (<cr32 +1>), which does not depend on the clock;
//   - "fd = N" in DUMP lines, N being the daemon's descriptor number, which becomes <fd>;
//   - the 4-byte NAMES/DUMP header, which becomes <port> only when it equals the daemon's own
//     -port value (two daemons on one host cannot share a port, so this is the exact check).
// Anything else, including a creation out of range, stays raw hex and so fails the comparison.
using System.Buffers.Binary;
using System.Text;

namespace FastEpmd.SystemTests.Differential;

internal static class DiffRender
{
    private static readonly byte[] s_fdMarker = Encoding.ASCII.GetBytes("fd = ");

    /// <summary>Collapses whitespace so expectations can be written with any spacing.</summary>
    public static string Canon(string s) => string.Join(' ', s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    public static string Abbrev(byte[] bytes) =>
        bytes.Length <= 24
            ? $"[{Hex.Format(bytes)}]"
            : $"[{Hex.Format(bytes.AsSpan(0, 24))} ...] ({bytes.Length} bytes)";

    /// <param name="data">bytes received by this read</param>
    /// <param name="sent">everything sent on the connection (its request)</param>
    /// <param name="offset">bytes received on the connection before this read</param>
    public static string Reply(byte[] data, List<byte> sent, int offset, int daemonPort, DiffCreations creations)
    {
        if (data.Length == 0) return X.None;
        var tokens = data.Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var replace = new List<(int Start, int Length, string Token)>();
        int tag = sent.Count >= 3 ? sent[2] : -1;

        if (offset == 0 && tag == 'x' && data.Length >= 2 && data[1] == 0)
        {
            byte[]? name = AliveName(sent);
            if (data[0] == 0x76 && data.Length >= 6)
            {
                uint cr = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(2));
                if (cr >= 4) replace.Add((2, 4, creations.Token(name, v6: true, cr)));
            }
            else if (data[0] == 0x79 && data.Length >= 4)
            {
                uint cr = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(2));
                if (cr is >= 1 and <= 3) replace.Add((2, 2, creations.Token(name, v6: false, cr)));
            }
        }

        if (offset == 0 && (tag == 'n' || tag == 'd') && data.Length >= 4
            && BinaryPrimitives.ReadUInt32BigEndian(data) == (uint)daemonPort)
        {
            replace.Add((0, 4, X.Port));
        }

        if (tag == 'd')
        {
            for (int i = 0; i + s_fdMarker.Length < data.Length; i++)
            {
                if (!data.AsSpan(i).StartsWith(s_fdMarker)) continue;
                int start = i + s_fdMarker.Length, end = start;
                while (end < data.Length && data[end] >= (byte)'0' && data[end] <= (byte)'9') end++;
                if (end > start) replace.Add((start, end - start, X.Fd));
                i = end - 1;
            }
        }

        var sb = new StringBuilder(data.Length * 3);
        int at = 0;
        foreach (var (start, length, token) in replace.OrderBy(r => r.Start))
        {
            for (; at < start; at++) Append(sb, tokens[at]);
            Append(sb, token);
            at = start + length;
        }
        for (; at < tokens.Length; at++) Append(sb, tokens[at]);
        return sb.ToString();
    }

    private static void Append(StringBuilder sb, string token)
    {
        if (sb.Length > 0) sb.Append(' ');
        sb.Append(token);
    }

    /// <summary>The NodeName of the ALIVE2 request at the start of sent, or null if it does not parse.</summary>
    private static byte[]? AliveName(List<byte> sent)
    {
        const int nlenAt = 2 + 9;
        if (sent.Count < nlenAt + 2) return null;
        int nlen = sent[nlenAt] << 8 | sent[nlenAt + 1];
        if (sent.Count < nlenAt + 2 + nlen) return null;
        return sent.GetRange(nlenAt + 2, nlen).ToArray();
    }
}

/// <summary>Creations seen per node name within one run, to render the step between registrations.</summary>
internal sealed class DiffCreations
{
    private readonly Dictionary<string, (bool V6, uint Cr)> _last = new();

    public string Token(byte[]? name, bool v6, uint cr)
    {
        string kind = v6 ? "cr32" : "cr16";
        if (name is null) return $"<{kind}>";
        string key = Convert.ToHexString(name);
        string token = $"<{kind}>";
        if (_last.TryGetValue(key, out var prev) && prev.V6 == v6)
        {
            long step = v6 ? unchecked((int)(cr - prev.Cr)) : ((cr - (long)prev.Cr) % 3 + 3) % 3;
            token = $"<{kind} {(step >= 0 ? "+" : "")}{step}>";
        }
        _last[key] = (v6, cr);
        return token;
    }
}
