// Node names are UTF-8; OTP checks them with its own validator (ALIVE2 and PORT_PLEASE2).
using System.Text.Unicode;

namespace FastEpmd.Wire;

internal static class NodeName
{
    /// <summary>
    /// Code points in a valid UTF-8 name, or -1 when it is not valid UTF-8. Overlong forms,
    /// surrogates, values above U+10FFFF and truncated sequences are invalid, as in OTP.
    /// </summary>
    public static int CountCodePoints(ReadOnlySpan<byte> name)
    {
        if (!Utf8.IsValid(name)) return -1;
        int count = 0;
        foreach (byte b in name)
        {
            if ((b & 0xC0) != 0x80) count++;
        }
        return count;
    }
}
