// Request frames and the exact replies expected, written from the protocol (framing and requests) and
// independent of FastEpmd.Core, so the byte check does not trust the code under test.
using System.Buffers.Binary;
using System.Text;

namespace FastEpmd.Load.Harness;

internal static class Requests
{
    public const byte NodeTypeNormal = 77;   // 'M'
    public const ushort HighestVersion = 6;
    public const ushort LowestVersion = 5;

    public static readonly byte[] Names = { 0, 1, (byte)'n' };

    /// <summary>PORT2_RESP for a name that is not registered.</summary>
    public static readonly byte[] PortNotFound = { (byte)'w', 1 };

    public static byte[] PortPlease(string name)
    {
        var n = Encoding.UTF8.GetBytes(name);
        var frame = new byte[3 + n.Length];
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)(1 + n.Length));
        frame[2] = (byte)'z';
        n.CopyTo(frame, 3);
        return frame;
    }

    /// <summary>ALIVE2_REQ as an OTP 25 node sends it: type M, protocol 0, versions 6/5, empty extra.</summary>
    public static int WriteAlive(Span<byte> destination, ReadOnlySpan<byte> name, ushort port)
    {
        int length = 13 + name.Length;
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)length);
        destination[2] = (byte)'x';
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], port);
        destination[5] = NodeTypeNormal;
        destination[6] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[7..], HighestVersion);
        BinaryPrimitives.WriteUInt16BigEndian(destination[9..], LowestVersion);
        BinaryPrimitives.WriteUInt16BigEndian(destination[11..], (ushort)name.Length);
        name.CopyTo(destination[13..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(13 + name.Length)..], 0);
        return 2 + length;
    }

    public static byte[] Alive(string name, ushort port)
    {
        var n = Encoding.UTF8.GetBytes(name);
        var frame = new byte[15 + n.Length];
        WriteAlive(frame, n, port);
        return frame;
    }

    /// <summary>PORT2_RESP found: the registration echoed.</summary>
    public static byte[] PortFound(string name, ushort port)
    {
        var n = Encoding.UTF8.GetBytes(name);
        var reply = new byte[14 + n.Length];
        reply[0] = (byte)'w';
        reply[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(2), port);
        reply[4] = NodeTypeNormal;
        reply[5] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(6), HighestVersion);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(8), LowestVersion);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(10), (ushort)n.Length);
        n.CopyTo(reply, 12);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(12 + n.Length), 0);
        return reply;
    }

    /// <summary>NAMES_RESP: the configured port, then one line per node, newest registration first.</summary>
    public static byte[] NamesReply(int configuredPort, IEnumerable<(string Name, ushort Port)> newestFirst)
    {
        var text = new StringBuilder();
        foreach (var (name, port) in newestFirst) text.Append("name ").Append(name).Append(" at port ").Append(port).Append('\n');
        var lines = Encoding.UTF8.GetBytes(text.ToString());
        var reply = new byte[4 + lines.Length];
        BinaryPrimitives.WriteInt32BigEndian(reply, configuredPort);
        lines.CopyTo(reply, 4);
        return reply;
    }

    /// <summary>ALIVE2_X_RESP success: 'v', 0, then a 32-bit creation that the check only bounds (>= 4).</summary>
    public static readonly byte[] AliveAcceptedPrefix = { (byte)'v', 0 };
}
