// The replies epmd sends, written out literally (never produced by FastEpmd's encoder), for
// comparing against what a daemon returned.
using System.Text;

namespace FastEpmd.Testing;

public static class Replies
{
    public static readonly byte[] Port2NotFound = { 0x77, 0x01 };

    /// <summary>PORT2_RESP for a node registered by Requests.Alive defaults (type M, proto 0, hi 6, lo 5, no extra).</summary>
    public static byte[] Port2Found(string name, int nodePort)
    {
        var n = Hex.Utf8(name);
        return Hex.Cat(new byte[] { 0x77, 0x00 }, Hex.U16(nodePort), Hex.Parse("4d 00 0006 0005"), Hex.U16(n.Length), n, Hex.Parse("00 00"));
    }

    /// <summary>NAMES_RESP: the 4-byte port, then "name N at port P\n" lines, newest first.</summary>
    public static byte[] NamesReply(int daemonPort, IEnumerable<(string Name, int Port)> newestFirst) =>
        Hex.Cat(new[] { (byte)(daemonPort >> 24), (byte)(daemonPort >> 16), (byte)(daemonPort >> 8), (byte)daemonPort },
            Hex.Utf8(string.Concat(newestFirst.Select(n => $"name {n.Name} at port {n.Port}\n"))));

    /// <summary>The node lines of a NAMES reply, after checking its 4-byte header.</summary>
    public static string[] NamesLines(byte[] reply, int daemonPort)
    {
        if (reply.Length < 4) throw new InvalidOperationException($"NAMES reply of {reply.Length} bytes");
        int header = reply[0] << 24 | reply[1] << 16 | reply[2] << 8 | reply[3];
        if (header != daemonPort) throw new InvalidOperationException($"NAMES header {Hex.Format(reply.AsSpan(0, 4))}, expected port {daemonPort}");
        var text = Encoding.UTF8.GetString(reply, 4, reply.Length - 4);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
