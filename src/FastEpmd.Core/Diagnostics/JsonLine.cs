// One log event as a JSON object on one line, for log collectors:
// {"time":"2026-12-01T23:30:00.1234567Z","level":"info","event":"...","name":"...","fd":7,
//  "peer":"127.0.0.1:51234","errno":104}
// name, fd, peer and errno appear only when the event has them. Composed in the caller's buffer:
// an event or name too long for the line is cut between two characters and the object says so
// with "cut":true, so a line is always one valid JSON object in valid UTF-8.
using System.Buffers.Text;
using System.Text;
using System.Text.Unicode;
using FastEpmd.Interop;

namespace FastEpmd.Diagnostics;

internal static unsafe class JsonLine
{
    private static ReadOnlySpan<byte> HexDigits => "0123456789abcdef"u8;

    /// <summary>Level 0 is errors and refusals, 1 what -d shows, 2 and up more detail.</summary>
    public static ReadOnlySpan<byte> LevelName(int level) => level switch
    {
        <= 0 => "error"u8,
        1 => "info"u8,
        _ => "debug"u8,
    };

    /// <param name="fd">The event's descriptor, or -1; a connected socket's peer address is added with it.</param>
    public static int Compose(Span<byte> line, int level, string message, ReadOnlySpan<byte> name, int fd, int errno)
    {
        // Room for the closing fields however long the message is: it is cut to fit.
        // ",\"name\":\"" + one escape + closing quotes, fd, peer (at most 64), errno and "cut": under 192 bytes.
        const int tail = 192;
        bool cut = false;
        var body = line[..^tail];
        int n = Append(line, 0, "{\"time\":\""u8);
        fixed (byte* time = line[n..]) n += Math.Max(0, Shim.UtcNowIso(time, 40));
        n = Append(line, n, "\",\"level\":\""u8);
        n = Append(line, n, LevelName(level));
        n = Append(line, n, "\",\"event\":\""u8);
        // Messages are ASCII or UTF-8 text from the code; a trailing space before a name is dropped.
        Span<byte> utf8 = stackalloc byte[256];
        var text = message.AsSpan().TrimEnd();
        while (text.Length > 0 && !cut)
        {
            int take = Math.Min(text.Length, 64);
            if (take < text.Length && char.IsHighSurrogate(text[take - 1])) take--;
            int bytes = Encoding.UTF8.GetBytes(text[..take], utf8);
            n = Escape(body, n, utf8[..bytes], valid: true, ref cut);
            text = text[take..];
        }
        n = Append(line, n, "\""u8);
        if (name.Length > 0)
        {
            n = Append(line, n, ",\"name\":\""u8);
            n = Escape(body, n, name, Utf8.IsValid(name), ref cut);
            n = Append(line, n, "\""u8);
        }
        if (fd >= 0)
        {
            n = Append(line, n, ",\"fd\":"u8);
            Utf8Formatter.TryFormat(fd, line[n..], out int written);
            n += written;
            // getpeername now: the event is logged before its socket is closed.
            Span<byte> peer = stackalloc byte[64];
            int length;
            fixed (byte* p = peer) length = Shim.PeerText(fd, p, peer.Length);
            if (length > 0)
            {
                n = Append(line, n, ",\"peer\":\""u8);
                n = Append(line, n, peer[..length]);
                n = Append(line, n, "\""u8);
            }
        }
        if (errno != 0)
        {
            n = Append(line, n, ",\"errno\":"u8);
            Utf8Formatter.TryFormat(errno, line[n..], out int written);
            n += written;
        }
        if (cut) n = Append(line, n, ",\"cut\":true"u8);
        return Append(line, n, "}\n"u8);
    }

    /// <summary>
    /// JSON string escaping; bytes of invalid UTF-8 become \u00XX (read as Latin-1). What does not
    /// fit is dropped from a character boundary on (a character is written whole or not at all), and
    /// cut is set.
    /// </summary>
    private static int Escape(Span<byte> line, int n, ReadOnlySpan<byte> text, bool valid, ref bool cut)
    {
        foreach (byte b in text)
        {
            // A lead byte needs room for its whole character; its continuation bytes then fit.
            bool continuation = valid && (b & 0xC0) == 0x80;
            int need = valid && b >= 0xC0 ? Utf8Cut.SequenceLength(b) - 1 : 0;
            if (cut || (!continuation && n + need > line.Length - 6))
            {
                cut = true;
                break;
            }
            if (b == (byte)'"' || b == (byte)'\\')
            {
                line[n++] = (byte)'\\';
                line[n++] = b;
            }
            else if (b < 0x20 || (!valid && b >= 0x80))
            {
                n = Append(line, n, "\\u00"u8);
                line[n++] = HexDigits[b >> 4];
                line[n++] = HexDigits[b & 15];
            }
            else
            {
                line[n++] = b;
            }
        }
        return n;
    }

    private static int Append(Span<byte> line, int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(line[at..]);
        return at + bytes.Length;
    }
}
