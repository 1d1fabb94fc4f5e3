// OTP epmd's size limits (spec sections 0 and 2.1).
namespace FastEpmd.Wire;

internal static class Limits
{
    /// <summary>OTP's input buffer: 3 x 1020 bytes.</summary>
    public const int InputBufferSize = 3060;

    /// <summary>Largest accepted Length; 3058 and up close at once (room for header and a NUL).</summary>
    public const int MaxRequestLength = InputBufferSize - 3;

    /// <summary>Until the header is known OTP reads at most this many bytes at once.</summary>
    public const int MaxFirstRead = InputBufferSize - 1;

    public const int MaxNameBytes = 1020;
    public const int MaxNameCodePoints = 255;
    public const int MaxExtraBytes = 1020;

    /// <summary>PORT2_RESP with the largest name and extra: 2 + 12 + 1020 + 2 + 1020.</summary>
    public const int MaxSmallReply = 2056;
}
