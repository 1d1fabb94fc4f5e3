// What an epoll/kqueue event belongs to. The kind sits in the token's top byte, so a listener, the
// waker and a connection can never be mistaken for one another, whatever the index or generation.
namespace FastEpmd.Reactor;

/// <summary>The owner kinds of poller tokens. New listener kinds get a value here and a case in Dispatch.</summary>
internal enum TokenKind : byte
{
    Connection = 0,

    /// <summary>An epmd listening socket; the index is its place in the listener list.</summary>
    Listener = 1,

    /// <summary>The eventfd that RequestStop writes.</summary>
    Waker = 2,

    /// <summary>A connection on the metrics listener (MetricsConnectionTable).</summary>
    Metrics = 3,

    /// <summary>The -upgrade control listener (index 0) or the one connection asking (index 1).</summary>
    Control = 4,
}

internal static class PollToken
{
    private const int KindShift = 56;
    private const int GenerationShift = 32;

    /// <summary>Generations use 24 bits; the byte above them is the kind.</summary>
    public const uint GenerationMask = 0x00FF_FFFF;

    public static ulong Make(TokenKind kind, int index, uint generation = 0) =>
        ((ulong)kind << KindShift) | ((ulong)(generation & GenerationMask) << GenerationShift) | (uint)index;

    public static TokenKind KindOf(ulong token) => (TokenKind)(token >> KindShift);

    public static int IndexOf(ulong token) => (int)(uint)token;

    public static uint GenerationOf(ulong token) => (uint)(token >> GenerationShift) & GenerationMask;
}
