// Every request is a 2-byte big-endian length, then that many bytes (spec section 0).
//   +--------+-----+-----------+
//   | Length | Tag | body ...  |
//   +--------+-----+-----------+
// Replies carry no length: they end when the server closes.
using System.Buffers.Binary;

namespace FastEpmd.Wire;

internal static class Frame
{
    public const int HeaderLength = 2;

    /// <summary>
    /// Classifies the bytes buffered so far. OTP reads greedily until the header is known and then
    /// exactly the missing bytes, so bytes beyond the frame can only arrive together with the
    /// header; OTP closes silently then, and so do we.
    /// </summary>
    public static FrameStatus TryRead(ReadOnlySpan<byte> buffered, out ReadOnlySpan<byte> request)
    {
        request = default;
        if (buffered.Length < HeaderLength) return FrameStatus.NeedMore;
        int length = BinaryPrimitives.ReadUInt16BigEndian(buffered);
        if (length == 0 || length > Limits.MaxRequestLength) return FrameStatus.Invalid;
        int total = HeaderLength + length;
        if (buffered.Length < total) return FrameStatus.NeedMore;
        if (buffered.Length > total) return FrameStatus.Invalid;
        request = buffered.Slice(HeaderLength, length);
        return FrameStatus.Complete;
    }

    /// <summary>How many bytes the next read may take, given what is buffered (OTP's read sizes).</summary>
    public static int NextReadSize(ReadOnlySpan<byte> buffered)
    {
        if (buffered.Length < HeaderLength) return Limits.MaxFirstRead - buffered.Length;
        int length = BinaryPrimitives.ReadUInt16BigEndian(buffered);
        return Math.Max(0, HeaderLength + length - buffered.Length);
    }
}
