// The registry state image: a header, then one fixed-size slot per registry record, so one change
// rewrites one slot (StateSlot) and a memfd copy stays current at O(1) per registration.
//   0       4         6          8        12          16             24         28
//   +-------+---------+----------+--------+-----------+--------------+----------+----------+
//   | "FEST"| Version | HdrLen   | Stride | SlotCount | TotalLength  | HdrCRC32C| reserved |
//   +-------+---------+----------+--------+-----------+--------------+----------+----------+
// Little-endian (the image never leaves the host). The header's CRC32C covers bytes 0..23; each
// slot carries its own (StateSlot). NAMES and remembered order are not links but each record's
// Sequence (the registry's change counter at its last change): a torn write can spoil one slot,
// never the order of the others.
using System.Buffers.Binary;

namespace FastEpmd.Restart;

internal static class StateImage
{
    public const uint Magic = 0x54534546;   // "FEST" as little-endian bytes
    public const ushort CurrentVersion = 1;
    public const int HeaderLength = 32;

    private const int VersionOffset = 4;
    private const int HeaderLengthOffset = 6;
    private const int StrideOffset = 8;
    private const int SlotCountOffset = 12;
    private const int TotalLengthOffset = 16;
    private const int ChecksumOffset = 24;

    /// <summary>The most slots an image may claim: it must fit one span (2 GiB).</summary>
    public const int MaxSlots = 1_000_000;

    public static long LengthFor(int slotCount) => HeaderLength + (long)slotCount * StateSlot.Stride;

    /// <summary>Writes the header for an image of slotCount slots (the slots are written apart).</summary>
    public static void WriteHeader(Span<byte> destination, int slotCount)
    {
        var h = destination.Slice(0, HeaderLength);
        h.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(h, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(h.Slice(VersionOffset), CurrentVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(h.Slice(HeaderLengthOffset), HeaderLength);
        BinaryPrimitives.WriteInt32LittleEndian(h.Slice(StrideOffset), StateSlot.Stride);
        BinaryPrimitives.WriteInt32LittleEndian(h.Slice(SlotCountOffset), slotCount);
        BinaryPrimitives.WriteInt64LittleEndian(h.Slice(TotalLengthOffset), LengthFor(slotCount));
        BinaryPrimitives.WriteUInt32LittleEndian(h.Slice(ChecksumOffset), StateChecksum.Compute(h.Slice(0, ChecksumOffset)));
    }

    /// <summary>
    /// Checks the header; the slot count on success, else -1 with the reason. A reader of version N
    /// reads every version up to N: version 1 is the only one so far.
    /// </summary>
    public static int ReadHeader(ReadOnlySpan<byte> image, out string? reason)
    {
        reason = null;
        if (image.Length < HeaderLength)
            return Fail(out reason, $"state image of {image.Length} bytes is shorter than its {HeaderLength}-byte header");
        if (BinaryPrimitives.ReadUInt32LittleEndian(image) != Magic)
            return Fail(out reason, "state image has no FEST magic");
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(image.Slice(VersionOffset));
        if (version == 0 || version > CurrentVersion)
            return Fail(out reason, $"state image format version {version} is unknown (this build reads 1..{CurrentVersion})");
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(image.Slice(ChecksumOffset));
        if (stored != StateChecksum.Compute(image.Slice(0, ChecksumOffset)))
            return Fail(out reason, "state image header checksum mismatch");
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(image.Slice(HeaderLengthOffset));
        int stride = BinaryPrimitives.ReadInt32LittleEndian(image.Slice(StrideOffset));
        int slots = BinaryPrimitives.ReadInt32LittleEndian(image.Slice(SlotCountOffset));
        long total = BinaryPrimitives.ReadInt64LittleEndian(image.Slice(TotalLengthOffset));
        if (headerLength != HeaderLength || stride != StateSlot.Stride)
            return Fail(out reason, $"state image header length {headerLength} or slot size {stride} is not version 1's");
        if (slots < 0 || slots > MaxSlots || total != LengthFor(slots))
            return Fail(out reason, $"state image claims {slots} slots in {total} bytes");
        if (image.Length < total)
            return Fail(out reason, $"state image truncated: {image.Length} of {total} bytes");
        return slots;
    }

    /// <summary>Bytes Encode needs for this registry.</summary>
    public static long Measure(Registry.NodeRegistry registry) => LengthFor(registry.RecordSlots);

    /// <summary>
    /// Writes the whole image of a registry into destination (at least Measure bytes) and returns
    /// its length. Allocates nothing.
    /// </summary>
    public static int Encode(Registry.NodeRegistry registry, Span<byte> destination)
    {
        Write(registry, destination, registry.RecordSlots);
        return checked((int)LengthFor(registry.RecordSlots));
    }

    /// <summary>
    /// The header for slotCount slots and every record that fits them (the memfd mirror's image has
    /// room for more records than the registry has yet). Slots beyond the records are not touched.
    /// </summary>
    public static void Write(Registry.NodeRegistry registry, Span<byte> destination, int slotCount)
    {
        WriteHeader(destination, slotCount);
        int records = Math.Min(registry.RecordSlots, slotCount);
        for (int record = 0; record < records; record++) StateSlot.Write(StateSlot.In(destination, record), registry, record);
    }

    /// <summary>
    /// Decodes and validates a whole image. Null with the reason when the image cannot be trusted
    /// (header, a field out of the wire limits, a duplicate name, key or sequence); a slot whose
    /// own checksum fails (a write torn by a kill) is only dropped, and listed in Dropped.
    /// </summary>
    public static DecodedState? Decode(ReadOnlySpan<byte> image, out string? reason)
    {
        int slots = ReadHeader(image, out reason);
        if (slots < 0) return null;
        var state = new DecodedState(slots);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var keys = new HashSet<ulong>();
        var sequences = new HashSet<ulong>();
        for (int slot = 0; slot < slots; slot++)
        {
            var status = StateSlot.TryRead(image.Slice(StateSlot.OffsetOf(slot), StateSlot.Stride), slot, out var record, out string? why);
            if (status == SlotStatus.Empty) continue;
            if (status == SlotStatus.Torn)
            {
                state.Dropped.Add((slot, why!));
                continue;
            }
            if (status == SlotStatus.Invalid)
            {
                reason = $"state image slot {slot}: {why}";
                return null;
            }
            // Latin-1 keeps every byte distinct, so equal strings mean equal names.
            if (!names.Add(System.Text.Encoding.Latin1.GetString(record.Name)))
                return Invalid(out reason, $"state image slot {slot}: name registered twice");
            if (!keys.Add(record.Key)) return Invalid(out reason, $"state image slot {slot}: key {record.Key} used twice");
            if (!sequences.Add(record.Sequence)) return Invalid(out reason, $"state image slot {slot}: sequence {record.Sequence} used twice");
            state.Records.Add(record);
        }
        return state;
    }

    private static int Fail(out string reason, string why)
    {
        reason = why;
        return -1;
    }

    private static DecodedState? Invalid(out string reason, string why)
    {
        reason = why;
        return null;
    }
}
