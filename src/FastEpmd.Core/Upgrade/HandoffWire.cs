// The -upgrade handoff's messages, one SOCK_SEQPACKET record each, integers big-endian. Every
// record starts with the magic and a type byte; the protocol version is in Hello and Offer.
//
//   new -> old  Hello     "FEUP" 'H' | protocol u16 | descriptor room u32 | n u8 | formats u16 * n
//   old -> new  Offer     "FEUP" 'O' | protocol u16 | format u16 | image length u32 | descriptors u32 | pid i32
//   new -> old  Go        "FEUP" 'G'                                  (or Refuse)
//   old -> new  Offer     again, frozen now, with the exact sizes of what follows (the first was as of the Hello)
//   old -> new  Image     "FEUP" 'I' | up to MaxChunk image bytes     (until image length is sent)
//   old -> new  Batch     "FEUP" 'D' | n u16 | (role u8, key u64) * n  + n descriptors (SCM_RIGHTS)
//   old -> new  End       "FEUP" 'E'
//   new -> old  Accept    "FEUP" 'K'                                  (or Refuse)
//   old -> new  Commit    "FEUP" 'C'   the old daemon has stopped for good: serve (or Refuse: it serves on)
//   new -> old  Serving   "FEUP" 'S'   sent before the new process serves; the old one exits on it
//   either      Refuse    "FEUP" 'R' | reason, UTF-8 (at most MaxReason bytes)
// Who serves at each step is in the README ("Upgrades without systemd"): the old daemon until it
// sends Commit, and again only if the new process goes away before Serving; the new one after
// Commit (or once the old process is dead), never before.
using System.Buffers.Binary;
using System.Text;

namespace FastEpmd.Upgrade;

internal enum HandoffType : byte
{
    Hello = (byte)'H',
    Offer = (byte)'O',
    Go = (byte)'G',
    Image = (byte)'I',
    Batch = (byte)'D',
    End = (byte)'E',
    Accept = (byte)'K',
    Commit = (byte)'C',
    Serving = (byte)'S',
    Refuse = (byte)'R',
}

/// <summary>What a handed-over descriptor is to the daemon.</summary>
internal enum DescriptorRole : byte
{
    EpmdListener = 0,
    MetricsListener = 1,

    /// <summary>The control listener itself, so the next -upgrade finds the new daemon at once.</summary>
    ControlListener = 2,

    /// <summary>A registration's ALIVE connection; the key names it in the state image.</summary>
    Alive = 3,
}

internal readonly record struct HandoffHello(ushort Protocol, uint DescriptorRoom, ushort[] Formats);

internal readonly record struct HandoffOffer(ushort Protocol, ushort Format, uint ImageLength, uint Descriptors, int Pid);

internal static class HandoffWire
{
    /// <summary>2: Commit and Serving fence the handover (1 had neither; a daemon of 1 is refused).</summary>
    public const ushort Protocol = 2;
    public const int HeaderLength = 5;
    public const int MaxChunk = 60 * 1024;

    /// <summary>Descriptors per Batch: SCM_MAX_FD, with room to spare.</summary>
    public const int MaxBatch = 250;

    public const int MaxReason = 200;
    public const int MaxFormats = 16;
    public const int EntryLength = 9;

    /// <summary>The largest record either side reads.</summary>
    public const int MaxMessage = HeaderLength + 2 + MaxBatch * EntryLength;

    public const int MaxHelloLength = HeaderLength + 7 + MaxFormats * 2;

    private static ReadOnlySpan<byte> Magic => "FEUP"u8;

    /// <summary>The record's type, or null when it is not a handoff record at all.</summary>
    public static HandoffType? TypeOf(ReadOnlySpan<byte> record) =>
        record.Length >= HeaderLength && record[..4].SequenceEqual(Magic) ? (HandoffType)record[4] : null;

    public static ReadOnlySpan<byte> Body(ReadOnlySpan<byte> record) => record[HeaderLength..];

    public static int WriteHeader(Span<byte> destination, HandoffType type)
    {
        Magic.CopyTo(destination);
        destination[4] = (byte)type;
        return HeaderLength;
    }

    public static int WriteHello(Span<byte> destination, uint descriptorRoom, ReadOnlySpan<ushort> formats)
    {
        int n = WriteHeader(destination, HandoffType.Hello);
        BinaryPrimitives.WriteUInt16BigEndian(destination[n..], Protocol);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(n + 2)..], descriptorRoom);
        int count = Math.Min(formats.Length, MaxFormats);
        destination[n + 6] = (byte)count;
        n += 7;
        for (int i = 0; i < count; i++, n += 2) BinaryPrimitives.WriteUInt16BigEndian(destination[n..], formats[i]);
        return n;
    }

    public static bool TryReadHello(ReadOnlySpan<byte> record, out HandoffHello hello)
    {
        hello = default;
        if (TypeOf(record) != HandoffType.Hello) return false;
        var body = Body(record);
        if (body.Length < 7) return false;
        int count = body[6];
        if (count > MaxFormats || body.Length != 7 + count * 2) return false;
        var formats = new ushort[count];
        for (int i = 0; i < count; i++) formats[i] = BinaryPrimitives.ReadUInt16BigEndian(body[(7 + i * 2)..]);
        hello = new HandoffHello(BinaryPrimitives.ReadUInt16BigEndian(body), BinaryPrimitives.ReadUInt32BigEndian(body[2..]), formats);
        return true;
    }

    public static int WriteOffer(Span<byte> destination, in HandoffOffer offer)
    {
        int n = WriteHeader(destination, HandoffType.Offer);
        BinaryPrimitives.WriteUInt16BigEndian(destination[n..], offer.Protocol);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(n + 2)..], offer.Format);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(n + 4)..], offer.ImageLength);
        BinaryPrimitives.WriteUInt32BigEndian(destination[(n + 8)..], offer.Descriptors);
        BinaryPrimitives.WriteInt32BigEndian(destination[(n + 12)..], offer.Pid);
        return n + 16;
    }

    public static bool TryReadOffer(ReadOnlySpan<byte> record, out HandoffOffer offer)
    {
        offer = default;
        if (TypeOf(record) != HandoffType.Offer || Body(record).Length != 16) return false;
        var body = Body(record);
        offer = new HandoffOffer(BinaryPrimitives.ReadUInt16BigEndian(body), BinaryPrimitives.ReadUInt16BigEndian(body[2..]),
            BinaryPrimitives.ReadUInt32BigEndian(body[4..]), BinaryPrimitives.ReadUInt32BigEndian(body[8..]),
            BinaryPrimitives.ReadInt32BigEndian(body[12..]));
        return true;
    }

    public static int WriteBatchHeader(Span<byte> destination, int count)
    {
        int n = WriteHeader(destination, HandoffType.Batch);
        BinaryPrimitives.WriteUInt16BigEndian(destination[n..], (ushort)count);
        return n + 2;
    }

    public static int WriteEntry(Span<byte> destination, DescriptorRole role, ulong key)
    {
        destination[0] = (byte)role;
        BinaryPrimitives.WriteUInt64BigEndian(destination[1..], key);
        return EntryLength;
    }

    /// <summary>A Batch's entry count, when its length matches it and the descriptors that came.</summary>
    public static bool TryReadBatch(ReadOnlySpan<byte> record, int descriptorsReceived, out int count)
    {
        count = 0;
        if (TypeOf(record) != HandoffType.Batch || Body(record).Length < 2) return false;
        count = BinaryPrimitives.ReadUInt16BigEndian(Body(record));
        return count <= MaxBatch && count == descriptorsReceived && Body(record).Length == 2 + count * EntryLength;
    }

    public static (DescriptorRole Role, ulong Key) Entry(ReadOnlySpan<byte> record, int index)
    {
        var entry = Body(record)[(2 + index * EntryLength)..];
        return ((DescriptorRole)entry[0], BinaryPrimitives.ReadUInt64BigEndian(entry[1..]));
    }

    public static int WriteRefuse(Span<byte> destination, string reason)
    {
        int n = WriteHeader(destination, HandoffType.Refuse);
        var bytes = Encoding.UTF8.GetBytes(reason);
        int length = Math.Min(bytes.Length, MaxReason);
        bytes.AsSpan(0, length).CopyTo(destination[n..]);
        return n + length;
    }

    /// <summary>A Refuse record's reason, printable and bounded (it goes into one log line).</summary>
    public static string Reason(ReadOnlySpan<byte> record)
    {
        var body = Body(record);
        var text = Encoding.UTF8.GetString(body[..Math.Min(body.Length, MaxReason)]);
        var clean = new StringBuilder(text.Length);
        foreach (char c in text) clean.Append(char.IsControl(c) ? '?' : c);
        return clean.ToString();
    }
}
