// OTP-style debug log: "epmd: <ctime>: <msg>\r\n" on stderr (CRLF, as OTP), or syslog in daemon
// mode. Level 0 is always on (errors and refusals), -d raises the level. Callers test On(level)
// before building a message, so a quiet daemon formats nothing. Lines are composed in one buffer
// owned by the log, so a flood of refusals logged at level 0 allocates nothing. -log_format json
// composes the same events as one JSON object per line instead (JsonLine).
using System.Text;
using FastEpmd.Interop;

namespace FastEpmd.Diagnostics;

internal sealed unsafe class Log
{
    // "epmd: " + ctime + ": " + the longest message (text plus a 255-code-point name) + CRLF.
    private const int LineCapacity = 4096;

    private readonly Action<string>? _sink;
    private readonly byte[] _line = new byte[LineCapacity];

    public Log(int level, Action<string>? sink = null)
    {
        Level = level;
        _sink = sink;
    }

    /// <summary>A log that writes nothing (tests, benchmarks).</summary>
    public static Log Silent { get; } = new(-1, static _ => { });

    public int Level { get; }

    /// <summary>Daemon mode: lines go to syslog (opened by the host), without time and CRLF.</summary>
    public bool ToSyslog { get; set; }

    /// <summary>-log_format json: one JSON object per line on stderr (syslog keeps the text form).</summary>
    public bool Json { get; set; }

    public bool On(int level) => level <= Level;

    public void Write(int level, string message) => Write(level, message, default);

    /// <summary>An event about one descriptor; JSON lines carry fd and errno (0: none) as fields.</summary>
    public void Write(int level, string message, int fd, int errno = 0) => Write(level, message, default, fd, errno);

    /// <summary>The message followed by raw bytes: a node name as the node sent it, as OTP prints it.</summary>
    public void Write(int level, string message, ReadOnlySpan<byte> raw) => Write(level, message, raw, -1, 0);

    private void Write(int level, string message, ReadOnlySpan<byte> raw, int fd, int errno)
    {
        if (!On(level)) return;
        fixed (byte* line = _line)
        {
            int n = Json && !ToSyslog
                ? JsonLine.Compose(new Span<byte>(line, LineCapacity), level, message, raw, fd, errno)
                : Compose(line, message, raw);
            if (_sink != null)
            {
                _sink(Encoding.UTF8.GetString(line, n));
            }
            else if (ToSyslog)
            {
                line[n] = 0;
                Shim.SyslogError(line);
            }
            else
            {
                StandardError.Write(new ReadOnlySpan<byte>(line, n));
            }
        }
    }

    private int Compose(byte* line, string message, ReadOnlySpan<byte> raw)
    {
        var buffer = new Span<byte>(line, LineCapacity - 1);   // room for syslog's NUL
        int n = Append(buffer, 0, "epmd: "u8);
        if (!ToSyslog)
        {
            // C's ctime() of now without the newline, local time: "Tue Nov  4 20:41:25 2026".
            int time = Shim.CTimeNow(line + n, buffer.Length - n);
            n += Math.Max(0, time);
            n = Append(buffer, n, ": "u8);
        }
        // A long message or name is cut to the line, always between two characters.
        int room = buffer.Length - n - 2;
        n += Encoding.UTF8.GetBytes(CharacterPrefix(message, room / 3), buffer[n..]);
        n = Append(buffer, n, raw[..Utf8Cut.Boundary(raw, buffer.Length - n - 2)]);
        if (!ToSyslog) n = Append(buffer, n, "\r\n"u8);
        return n;
    }

    /// <summary>At most max UTF-16 units of text, never ending between the two halves of a surrogate pair.</summary>
    public static ReadOnlySpan<char> CharacterPrefix(string text, int max)
    {
        if (text.Length <= max) return text;
        if (max > 0 && char.IsHighSurrogate(text[max - 1])) max--;
        return text.AsSpan(0, Math.Max(0, max));
    }

    private static int Append(Span<byte> buffer, int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(buffer[at..]);
        return at + bytes.Length;
    }

    /// <summary>Names as OTP prints them: the raw bytes (UTF-8).</summary>
    public static string Text(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
