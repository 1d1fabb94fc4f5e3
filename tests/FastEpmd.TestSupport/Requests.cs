// Literal epmd request frames used across tests. Built by hand from the protocol, never by FastEpmd's encoder.
namespace FastEpmd.Testing;

public static class Requests
{
    /// <summary>ALIVE2_REQ: 'x', port, type, proto, hi, lo, nlen, name, elen, extra.</summary>
    public static byte[] Alive(string name, int port = 12345, int hi = 6, int lo = 5, byte type = 77, byte proto = 0, byte[]? extra = null) =>
        AliveRaw(Hex.Utf8(name), port, hi, lo, type, proto, extra ?? Array.Empty<byte>());

    public static byte[] AliveRaw(byte[] name, int port, int hi, int lo, byte type, byte proto, byte[] extra) =>
        Hex.Frame(Hex.Cat(new byte[] { 0x78 }, Hex.U16(port), new[] { type, proto }, Hex.U16(hi), Hex.U16(lo),
            Hex.U16(name.Length), name, Hex.U16(extra.Length), extra));

    public static byte[] PortPlease(string name) => Hex.Frame(Hex.Cat(new byte[] { 0x7a }, Hex.Utf8(name)));

    public static byte[] Names => Hex.Parse("00 01 6e");
    public static byte[] Dump => Hex.Parse("00 01 64");
    public static byte[] Kill => Hex.Parse("00 01 6b");
    public static byte[] Stop(string name) => Hex.Frame(Hex.Cat(new byte[] { 0x73 }, Hex.Utf8(name)));
}
