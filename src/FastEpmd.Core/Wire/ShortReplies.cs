// The fixed text replies of KILL_REQ and STOP_REQ.
namespace FastEpmd.Wire;

internal static class ShortReplies
{
    public static ReadOnlySpan<byte> KillAccepted => "OK"u8;
    public static ReadOnlySpan<byte> KillRefused => "NO"u8;
    public static ReadOnlySpan<byte> Stopped => "STOPPED"u8;

    /// <summary>OTP writes NOEXIST and then STOPPED as well; its client reads only 7 bytes.</summary>
    public static ReadOnlySpan<byte> NotFoundThenStopped => "NOEXISTSTOPPED"u8;
}
