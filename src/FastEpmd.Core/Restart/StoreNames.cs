// The names descriptors carry in systemd's store (FDNAME=) and in a handoff: "state" for the image,
// "alive-{key}" for each registration's ALIVE socket. FDNAME allows up to 255 printable ASCII bytes
// without ':'; these are at most 26.
using System.Buffers.Text;

namespace FastEpmd.Restart;

internal static class StoreNames
{
    public const string State = "state";
    public const string AlivePrefix = "alive-";
    public const int MaxAliveNameLength = 6 + 20;

    public static string Alive(ulong key) => AlivePrefix + key.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Writes "alive-{key}" without allocating; the byte count.</summary>
    public static int WriteAlive(Span<byte> destination, ulong key)
    {
        "alive-"u8.CopyTo(destination);
        Utf8Formatter.TryFormat(key, destination.Slice(6), out int written);
        return 6 + written;
    }

    /// <summary>True when name is "alive-{key}" with a decimal key above 0 and no leading zero.</summary>
    public static bool TryParseAlive(string name, out ulong key)
    {
        key = 0;
        if (!name.StartsWith(AlivePrefix, StringComparison.Ordinal)) return false;
        var digits = name.AsSpan(AlivePrefix.Length);
        if (digits.Length == 0 || digits.Length > 20 || digits[0] == '0') return false;
        foreach (char c in digits)
        {
            if (c is < '0' or > '9') return false;
        }
        return ulong.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out key);
    }
}
