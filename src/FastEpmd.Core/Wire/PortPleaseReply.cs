// PORT2_RESP ('w'): the registration echoed exactly, or result 1.
//   +-----+---+------+------+-------+---------+--------+------+------+------+-------+
//   | 'w' | 0 | Port | Type | Proto | HighVsn | LowVsn | Nlen | Name | Elen | Extra |
//   +-----+---+------+------+-------+---------+--------+------+------+------+-------+
using System.Buffers.Binary;

namespace FastEpmd.Wire;

internal static class PortPleaseReply
{
    public static int WriteFound(Span<byte> destination, ushort port, byte nodeType, byte protocol,
        ushort highestVersion, ushort lowestVersion, ReadOnlySpan<byte> name, ReadOnlySpan<byte> extra)
    {
        destination[0] = Tags.PortPleaseReply;
        destination[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(2), port);
        destination[4] = nodeType;
        destination[5] = protocol;
        BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(6), highestVersion);
        BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(8), lowestVersion);
        BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(10), (ushort)name.Length);
        name.CopyTo(destination.Slice(12));
        int at = 12 + name.Length;
        BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(at), (ushort)extra.Length);
        extra.CopyTo(destination.Slice(at + 2));
        return at + 2 + extra.Length;
    }

    public static int WriteNotFound(Span<byte> destination)
    {
        destination[0] = Tags.PortPleaseReply;
        destination[1] = 1;
        return 2;
    }
}
