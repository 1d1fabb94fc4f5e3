// Request frames as they arrive on the wire (2-byte big-endian length, then the payload), written
// out byte by byte so the benchmarks do not depend on an encoder. Node "bench", port 4711 (0x1267).
namespace FastEpmd.Benchmarks;

internal static class Frames
{
    /// <summary>ALIVE2_REQ as OTP 25 sends it: port 4711, type M, proto 0, versions 6/5, "bench", no extra.</summary>
    public static readonly byte[] Alive2 =
    {
        0x00, 0x12, (byte)'x', 0x12, 0x67, 0x4D, 0x00, 0x00, 0x06, 0x00, 0x05, 0x00, 0x05,
        (byte)'b', (byte)'e', (byte)'n', (byte)'c', (byte)'h', 0x00, 0x00,
    };

    /// <summary>ALIVE2_REQ with HighestVersion 5 (reply: ALIVE2_RESP 'y', 16-bit creation).</summary>
    public static readonly byte[] Alive2Version5 =
    {
        0x00, 0x12, (byte)'x', 0x12, 0x67, 0x4D, 0x00, 0x00, 0x05, 0x00, 0x05, 0x00, 0x05,
        (byte)'b', (byte)'e', (byte)'n', (byte)'c', (byte)'h', 0x00, 0x00,
    };

    /// <summary>PORT_PLEASE2_REQ "bench".</summary>
    public static readonly byte[] PortPlease2 = { 0x00, 0x06, (byte)'z', (byte)'b', (byte)'e', (byte)'n', (byte)'c', (byte)'h' };

    /// <summary>PORT_PLEASE2_REQ "nosuch" (not registered).</summary>
    public static readonly byte[] PortPlease2Miss = { 0x00, 0x07, (byte)'z', (byte)'n', (byte)'o', (byte)'s', (byte)'u', (byte)'c', (byte)'h' };

    public static readonly byte[] Names = { 0x00, 0x01, (byte)'n' };
    public static readonly byte[] Dump = { 0x00, 0x01, (byte)'d' };
    public static readonly byte[] Kill = { 0x00, 0x01, (byte)'k' };

    /// <summary>STOP_REQ "bench".</summary>
    public static readonly byte[] Stop = { 0x00, 0x06, (byte)'s', (byte)'b', (byte)'e', (byte)'n', (byte)'c', (byte)'h' };

    /// <summary>Unknown tag: closed without a reply.</summary>
    public static readonly byte[] Garbage = { 0x00, 0x01, (byte)'a' };

    /// <summary>The payload after the 2-byte length.</summary>
    public static ReadOnlySpan<byte> Payload(byte[] frame) => frame.AsSpan(2);

    public static readonly byte[] NodeName = "bench"u8.ToArray();
    public const ushort NodePort = 4711;
}
