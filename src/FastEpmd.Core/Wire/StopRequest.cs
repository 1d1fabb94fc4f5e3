// STOP_REQ ('s'): the name runs from after the tag to the first NUL or the frame end (OTP does not check it as UTF-8).
namespace FastEpmd.Wire;

internal static class StopRequest
{
    /// <summary>False when OTP closes silently (Length 1: nothing after the tag).</summary>
    public static bool TryParse(ReadOnlySpan<byte> request, out ReadOnlySpan<byte> name)
    {
        name = default;
        if (request.Length <= 1) return false;
        name = request.Slice(1);
        int nul = name.IndexOf((byte)0);
        if (nul >= 0) name = name[..nul];
        return true;
    }
}
