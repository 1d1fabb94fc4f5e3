// What a poller event belongs to. The kind sits in the token's top byte, so a listener, the waker
// and a connection can never be mistaken for one another, whatever the index or generation; a
// connection's token also carries its slot's generation, so an event for a closed slot is dropped.
namespace FastEpmd.Loop;

internal enum TokenKind : byte
{
    /// <summary>A slot of the connection table; the index is the slot.</summary>
    Connection = 0,

    /// <summary>A listening socket; the index is its place in the loop's listener list.</summary>
    Listener = 1,

    /// <summary>The eventfd that RequestStop writes.</summary>
    Waker = 2,
}

internal static class LoopToken
{
    private const int KindShift = 56;
    private const int GenerationShift = 32;

    /// <summary>Generations use 24 bits; the byte above them is the kind.</summary>
    public const uint GenerationMask = 0x00FF_FFFF;

    public static ulong ForConnection(int slot, uint generation) => Make(TokenKind.Connection, slot, generation);

    public static ulong ForListener(int index) => Make(TokenKind.Listener, index, 0);

    public static ulong Waker => Make(TokenKind.Waker, 0, 0);

    public static TokenKind KindOf(ulong token) => (TokenKind)(token >> KindShift);

    public static int IndexOf(ulong token) => (int)(uint)token;

    public static uint GenerationOf(ulong token) => (uint)(token >> GenerationShift) & GenerationMask;

    private static ulong Make(TokenKind kind, int index, uint generation) =>
        ((ulong)kind << KindShift) | ((ulong)(generation & GenerationMask) << GenerationShift) | (uint)index;
}
