// PORT_PLEASE2_REQ ('z'): look up one node by name.
//   +-----+------------------+
//   | 'z' | Name [NUL]       |
//   +-----+------------------+
namespace FastEpmd.Wire;

internal static class PortPleaseRequest
{
    /// <summary>
    /// The name to look up, or false when OTP closes silently. OTP validates the name together
    /// with its terminating NUL, which counts as a character: a 255-code-point name, which
    /// ALIVE2 accepts, can never be looked up. We copy that quirk (spec section 10).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> request, out ReadOnlySpan<byte> name)
    {
        name = request.Slice(1);
        if (!name.IsEmpty && name[^1] == 0) name = name[..^1];
        if (name.IsEmpty || name.Contains((byte)0)) return false;
        int codePoints = NodeName.CountCodePoints(name);
        return codePoints >= 0 && codePoints + 1 <= Limits.MaxNameCodePoints;
    }
}
