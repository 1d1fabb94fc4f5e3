// ALIVE2_REQ ('x'): a node registers its distribution port.
//   0     1      3      4       5         7        9      11        11+N   13+N
//   +-----+------+------+-------+---------+--------+------+---------+------+-------+
//   | 'x' | Port | Type | Proto | HighVsn | LowVsn | Nlen | Name    | Elen | Extra |
//   +-----+------+------+-------+---------+--------+------+---------+------+-------+
using System.Buffers.Binary;

namespace FastEpmd.Wire;

internal enum AliveParseStatus
{
    /// <summary>OTP closes without a reply (sizes that do not fit the frame, NUL in the name).</summary>
    Silent,

    /// <summary>OTP replies with result 1 and creation 99 (name or extra over the limits).</summary>
    Refused,

    Ok,
}

internal readonly ref struct AliveRequest
{
    private const int PortOffset = 1;
    private const int TypeOffset = 3;
    private const int ProtocolOffset = 4;
    private const int HighestVersionOffset = 5;
    private const int LowestVersionOffset = 7;
    private const int NameLengthOffset = 9;
    private const int NameOffset = 11;
    private const int FixedLength = 13;

    public ushort Port { get; init; }
    public byte NodeType { get; init; }
    public byte Protocol { get; init; }
    public ushort HighestVersion { get; init; }
    public ushort LowestVersion { get; init; }
    public ReadOnlySpan<byte> Name { get; init; }
    public ReadOnlySpan<byte> Extra { get; init; }

    /// <summary>Parses a whole request (payload after the length). The checks run in OTP's order.</summary>
    public static AliveParseStatus TryParse(ReadOnlySpan<byte> request, out AliveRequest alive)
    {
        alive = default;
        if (request.Length <= FixedLength) return AliveParseStatus.Silent;
        int nameLength = BinaryPrimitives.ReadUInt16BigEndian(request.Slice(NameLengthOffset));
        if (nameLength + FixedLength > request.Length) return AliveParseStatus.Silent;
        int extraLength = BinaryPrimitives.ReadUInt16BigEndian(request.Slice(NameOffset + nameLength));
        if (extraLength + nameLength + FixedLength > request.Length) return AliveParseStatus.Silent;
        var name = request.Slice(NameOffset, nameLength);
        if (name.Contains((byte)0)) return AliveParseStatus.Silent;

        // From here on OTP always replies; the version decides the reply's form.
        alive = new AliveRequest
        {
            Port = BinaryPrimitives.ReadUInt16BigEndian(request.Slice(PortOffset)),
            NodeType = request[TypeOffset],
            Protocol = request[ProtocolOffset],
            HighestVersion = BinaryPrimitives.ReadUInt16BigEndian(request.Slice(HighestVersionOffset)),
            LowestVersion = BinaryPrimitives.ReadUInt16BigEndian(request.Slice(LowestVersionOffset)),
            Name = name,
            Extra = request.Slice(NameOffset + nameLength + 2, extraLength),
        };
        if (nameLength > Limits.MaxNameBytes) return AliveParseStatus.Refused;
        int codePoints = NodeName.CountCodePoints(name);
        if (codePoints < 0 || codePoints > Limits.MaxNameCodePoints) return AliveParseStatus.Refused;
        if (extraLength > Limits.MaxExtraBytes) return AliveParseStatus.Refused;
        return AliveParseStatus.Ok;
    }
}
