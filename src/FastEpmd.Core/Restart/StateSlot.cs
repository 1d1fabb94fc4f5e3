// One registry record in the state image, at a fixed place (header + index * Stride), so a change
// is one slot rewritten with its own checksum. A kill in the middle of a write spoils that slot only.
//   0      1      2       3    4      6         8        10     12     14   16         20   24    32         40   44      48
//   +------+------+-------+----+------+---------+--------+------+------+----+----------+----+-----+----------+----+-------+------+-------+
//   |State | Type | Proto | 0  | Port | HighVsn | LowVsn | Nlen | Elen | 0  | Creation | Fd | Key | Sequence | 0  | CRC32C| Name | Extra |
//   +------+------+-------+----+------+---------+--------+------+------+----+----------+----+-----+----------+----+-------+------+-------+
// CRC32C, seeded with the slot index, covers bytes 0..43 and the Nlen + Elen bytes from 48 on; it is
// written last. An all-zero slot is empty.
using System.Buffers.Binary;
using FastEpmd.Registry;
using FastEpmd.Wire;

namespace FastEpmd.Restart;

internal enum SlotStatus
{
    Empty,
    Ok,

    /// <summary>The checksum does not match: a write cut short. The slot is dropped, the rest kept.</summary>
    Torn,

    /// <summary>The checksum matches but a field does not fit the wire limits: the image is not ours.</summary>
    Invalid,
}

internal static class StateSlot
{
    public const int FixedLength = 48;
    public const int Stride = 2112;   // 48 + 1020 + 1020, rounded up to whole cache lines

    private const int TypeOffset = 1;
    private const int ProtocolOffset = 2;
    private const int PortOffset = 4;
    private const int HighestVersionOffset = 6;
    private const int LowestVersionOffset = 8;
    private const int NameLengthOffset = 10;
    private const int ExtraLengthOffset = 12;
    private const int CreationOffset = 16;
    private const int FdOffset = 20;
    private const int KeyOffset = 24;
    private const int SequenceOffset = 32;
    private const int ChecksumOffset = 44;

    public static int OffsetOf(int slot) => StateImage.HeaderLength + slot * Stride;

    /// <summary>The slot of one slot index in a whole image.</summary>
    public static Span<byte> In(Span<byte> image, int slot) => image.Slice(OffsetOf(slot), Stride);

    /// <summary>Rewrites record's slot (Stride bytes); a free record leaves an empty slot.</summary>
    public static void Write(Span<byte> s, NodeRegistry registry, int record)
    {
        ref readonly var r = ref registry[record];
        if (r.State == NodeState.Free)
        {
            s.Slice(0, FixedLength).Clear();
            return;
        }
        var name = registry.Name(record);
        var extra = registry.Extra(record);
        // The checksum goes to 0 first and is written last: a write cut anywhere fails it.
        BinaryPrimitives.WriteUInt32LittleEndian(s.Slice(ChecksumOffset), 0);
        s[0] = (byte)r.State;
        s[TypeOffset] = r.NodeType;
        s[ProtocolOffset] = r.Protocol;
        s[3] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(s.Slice(PortOffset), r.Port);
        BinaryPrimitives.WriteUInt16LittleEndian(s.Slice(HighestVersionOffset), r.HighestVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(s.Slice(LowestVersionOffset), r.LowestVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(s.Slice(NameLengthOffset), (ushort)name.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(s.Slice(ExtraLengthOffset), (ushort)extra.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(s.Slice(14), 0);
        BinaryPrimitives.WriteUInt32LittleEndian(s.Slice(CreationOffset), r.Creation);
        BinaryPrimitives.WriteInt32LittleEndian(s.Slice(FdOffset), r.Fd);
        BinaryPrimitives.WriteUInt64LittleEndian(s.Slice(KeyOffset), r.Key);
        BinaryPrimitives.WriteUInt64LittleEndian(s.Slice(SequenceOffset), r.Sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(s.Slice(40), 0);
        name.CopyTo(s.Slice(FixedLength));
        extra.CopyTo(s.Slice(FixedLength + name.Length));
        uint crc = Checksum(s, record, name.Length + extra.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(s.Slice(ChecksumOffset), crc);
    }

    private static uint Checksum(ReadOnlySpan<byte> s, int slot, int variableLength)
    {
        uint crc = StateChecksum.Compute(s.Slice(0, ChecksumOffset), (uint)slot);
        return StateChecksum.Continue(crc, s.Slice(FixedLength, variableLength));
    }

    /// <param name="s">The slot's Stride bytes.</param>
    public static SlotStatus TryRead(ReadOnlySpan<byte> s, int slot, out RestoredRecord record, out string? why)
    {
        record = null!;
        why = null;
        if (s.Slice(0, FixedLength).IndexOfAnyExcept((byte)0) < 0) return SlotStatus.Empty;

        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(NameLengthOffset));
        int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(ExtraLengthOffset));
        int variable = nameLength + extraLength <= Stride - FixedLength ? nameLength + extraLength : 0;
        if (BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(ChecksumOffset)) != Checksum(s, slot, variable))
        {
            why = "checksum mismatch (a write cut short?)";
            return SlotStatus.Torn;
        }

        var state = (NodeState)s[0];
        var name = s.Slice(FixedLength, Math.Min(nameLength, Stride - FixedLength));
        if (state != NodeState.Registered && state != NodeState.Remembered) why = $"state {s[0]} is neither registered nor remembered";
        else if (s[3] != 0 || BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(14)) != 0 || BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(40)) != 0)
            why = "reserved bytes are not zero";
        else if (nameLength == 0 || nameLength > Limits.MaxNameBytes) why = $"name of {nameLength} bytes";
        else if (extraLength > Limits.MaxExtraBytes) why = $"extra of {extraLength} bytes";
        else if (name.Contains((byte)0)) why = "NUL in the name";
        else if (NodeName.CountCodePoints(name) is < 0 or > Limits.MaxNameCodePoints) why = "name is not valid UTF-8 of at most 255 code points";
        if (why != null) return SlotStatus.Invalid;

        record = new RestoredRecord
        {
            Slot = slot,
            State = state,
            NodeType = s[TypeOffset],
            Protocol = s[ProtocolOffset],
            Port = BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(PortOffset)),
            HighestVersion = BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(HighestVersionOffset)),
            LowestVersion = BinaryPrimitives.ReadUInt16LittleEndian(s.Slice(LowestVersionOffset)),
            Creation = BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(CreationOffset)),
            Fd = BinaryPrimitives.ReadInt32LittleEndian(s.Slice(FdOffset)),
            Key = BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(KeyOffset)),
            Sequence = BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(SequenceOffset)),
            Name = name.ToArray(),
            Extra = s.Slice(FixedLength + nameLength, extraLength).ToArray(),
        };
        if (record.Key == 0 || record.Sequence == 0)
        {
            why = "key or sequence 0";
            return SlotStatus.Invalid;
        }
        return SlotStatus.Ok;
    }
}
