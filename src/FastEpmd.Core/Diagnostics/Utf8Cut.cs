// Where a UTF-8 text may be cut to fit a log line: before a byte that starts a character, never
// between a lead byte and its continuation bytes (10xxxxxx), so a cut line stays valid UTF-8.
namespace FastEpmd.Diagnostics;

internal static class Utf8Cut
{
    /// <summary>The longest prefix of text of at most max bytes that ends on a character boundary.</summary>
    public static int Boundary(ReadOnlySpan<byte> text, int max)
    {
        if (max >= text.Length) return text.Length;
        if (max <= 0) return 0;
        int cut = max;
        // Back over at most three continuation bytes to the lead byte of the character that is cut.
        for (int back = 0; back < 3 && cut > 0 && IsContinuation(text[cut]); back++) cut--;
        return IsContinuation(text[cut]) ? max : cut;
    }

    /// <summary>Bytes of the UTF-8 sequence a lead byte starts (1 for ASCII and for a stray byte).</summary>
    public static int SequenceLength(byte lead) => lead switch
    {
        >= 0xF8 => 1,
        >= 0xF0 => 4,
        >= 0xE0 => 3,
        >= 0xC0 => 2,
        _ => 1,
    };

    private static bool IsContinuation(byte b) => (b & 0xC0) == 0x80;
}
