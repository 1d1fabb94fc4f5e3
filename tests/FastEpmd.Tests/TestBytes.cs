// Small byte builders for names too long to spell out in hex; fixed fields stay literal.
namespace FastEpmd.Tests;

internal static class TestBytes
{
    /// <summary>count copies of one byte sequence: Repeat("f0 9f 98 88", 255) is 255 x U+1F608.</summary>
    public static byte[] Repeat(string hex, int count)
    {
        var unit = Hex.Parse(hex);
        var result = new byte[unit.Length * count];
        for (int i = 0; i < count; i++) unit.CopyTo(result, i * unit.Length);
        return result;
    }
}
