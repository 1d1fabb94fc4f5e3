// Request bytes written out literally ("00 01 6e"), so an encoder bug cannot hide a daemon bug.
using System.Text;

namespace FastEpmd.Testing;

public static class Hex
{
    public static byte[] Parse(string hex)
    {
        var clean = new StringBuilder(hex.Length);
        foreach (char c in hex)
        {
            if (Uri.IsHexDigit(c)) clean.Append(c);
            else if (!char.IsWhiteSpace(c)) throw new ArgumentException($"not hex: '{c}' in \"{hex}\"");
        }
        return Convert.FromHexString(clean.ToString());
    }

    public static string Format(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length * 3);
        for (int i = 0; i < bytes.Length; i++)
        {
            if (i > 0) sb.Append(' ');
            sb.Append(bytes[i].ToString("x2"));
        }
        return sb.ToString();
    }

    /// <summary>Concatenates byte fragments: Hex.Cat(Hex.Parse("00 05"), "alpha"u8.ToArray()).</summary>
    public static byte[] Cat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>A 2-byte big-endian length prefix followed by the payload.</summary>
    public static byte[] Frame(byte[] payload) =>
        Cat(new[] { (byte)(payload.Length >> 8), (byte)payload.Length }, payload);

    public static byte[] U16(int v) => new[] { (byte)(v >> 8), (byte)v };

    public static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
