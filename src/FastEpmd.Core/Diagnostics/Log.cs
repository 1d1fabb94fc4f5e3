// OTP-style debug log: "epmd: <ctime>: <msg>\r\n" on stderr (CRLF, as OTP), or syslog in daemon
// mode. Level 0 is always on (errors and refusals), -d raises the level. Callers test On(level)
// before building a message, so a quiet daemon formats nothing.
using System.Text;

namespace FastEpmd.Diagnostics;

internal sealed class Log
{
    private readonly Action<string>? _sink;

    public Log(int level, Action<string>? sink = null)
    {
        Level = level;
        _sink = sink;
    }

    /// <summary>A log that writes nothing (tests, benchmarks).</summary>
    public static Log Silent { get; } = new(-1, static _ => { });

    public int Level { get; }

    /// <summary>Daemon mode: messages go to syslog instead of stderr.</summary>
    public Action<string>? Syslog { get; set; }

    public bool On(int level) => level <= Level;

    public void Write(int level, string message)
    {
        if (!On(level)) return;
        if (Syslog != null)
        {
            Syslog("epmd: " + message);
            return;
        }
        string line = "epmd: " + CTimeNow() + ": " + message + "\r\n";
        if (_sink != null) _sink(line);
        else StandardError.Write(line);
    }

    /// <summary>C's ctime() of now without the newline, local time: "Tue Nov  4 20:41:25 2026".</summary>
    public static unsafe string CTimeNow()
    {
        byte* text = stackalloc byte[64];
        int n = Interop.Shim.CTimeNow(text, 64);
        return n < 0 ? "?" : Encoding.ASCII.GetString(text, n);
    }

    /// <summary>Names as OTP prints them: the raw bytes (UTF-8).</summary>
    public static string Text(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
