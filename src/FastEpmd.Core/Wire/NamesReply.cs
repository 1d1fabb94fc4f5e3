// NAMES_RESP and DUMP_RESP text: a 4-byte big-endian configured port, then lines.
//   NAMES: "name <NAME> at port <PORT>\n"
//   DUMP:  "active name     <NAME> at port <PORT>, fd = <FD>\n\0"
//          "old/unused name <NAME>, port = <PORT>, fd = <FD> \n\0"
using System.Buffers.Binary;
using System.Buffers.Text;

namespace FastEpmd.Wire;

internal static class NamesReply
{
    public const int HeaderLength = 4;

    /// <summary>Longest line: the fixed text, a 1020-byte name and two 10-digit numbers.</summary>
    public const int MaxLineLength = 64 + Limits.MaxNameBytes;

    /// <summary>Longest NAMES line: "name ", a 1020-byte name, " at port ", 10 digits, "\n".</summary>
    public const int MaxNamesLineLength = 5 + Limits.MaxNameBytes + 9 + 10 + 1;

    public static int WriteHeader(Span<byte> destination, int configuredPort)
    {
        BinaryPrimitives.WriteInt32BigEndian(destination, configuredPort);
        return HeaderLength;
    }

    // Line lengths without writing the line: a snapshot is sized before it is mapped, and formatting
    // every line twice doubled the cost of a rebuild.
    public static int NameLineLength(int nameLength, int port) => 15 + nameLength + Digits(port);

    public static int ActiveDumpLineLength(int nameLength, int port, int fd) => 36 + nameLength + Digits(port) + Digits(fd);

    public static int UnusedDumpLineLength(int nameLength, int port, int fd) => 37 + nameLength + Digits(port) + Digits(fd);

    /// <summary>The characters Utf8Formatter writes for an int.</summary>
    public static int Digits(int value)
    {
        if (value < 0) return 1 + Digits((uint)-(long)value);
        return Digits((uint)value);
    }

    private static int Digits(uint value)
    {
        int digits = 1;
        while (value >= 10)
        {
            value /= 10;
            digits++;
        }
        return digits;
    }

    public static int WriteNameLine(Span<byte> destination, ReadOnlySpan<byte> name, int port)
    {
        var w = new TextWriter(destination);
        w.Append("name "u8);
        w.Append(name);
        w.Append(" at port "u8);
        w.Append(port);
        w.Append("\n"u8);
        return w.Length;
    }

    public static int WriteActiveDumpLine(Span<byte> destination, ReadOnlySpan<byte> name, int port, int fd)
    {
        var w = new TextWriter(destination);
        w.Append("active name     <"u8);
        w.Append(name);
        w.Append("> at port "u8);
        w.Append(port);
        w.Append(", fd = "u8);
        w.Append(fd);
        w.Append("\n\0"u8);
        return w.Length;
    }

    public static int WriteUnusedDumpLine(Span<byte> destination, ReadOnlySpan<byte> name, int port, int fd)
    {
        var w = new TextWriter(destination);
        w.Append("old/unused name <"u8);
        w.Append(name);
        w.Append(">, port = "u8);
        w.Append(port);
        w.Append(", fd = "u8);
        w.Append(fd);
        w.Append(" \n\0"u8);
        return w.Length;
    }

    private ref struct TextWriter(Span<byte> destination)
    {
        private readonly Span<byte> _destination = destination;

        public int Length { get; private set; }

        public void Append(ReadOnlySpan<byte> text)
        {
            text.CopyTo(_destination.Slice(Length));
            Length += text.Length;
        }

        public void Append(int value)
        {
            Utf8Formatter.TryFormat(value, _destination.Slice(Length), out int written);
            Length += written;
        }
    }
}
