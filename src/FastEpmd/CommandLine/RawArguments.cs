// argv as the kernel passed it. .NET decodes argv as UTF-8 and replaces invalid bytes with
// U+FFFD; OTP's "epmd -stop NAME" sends NAME's raw bytes, so the client takes them from here.
using System.Text;

namespace FastEpmd.CommandLine;

internal static class RawArguments
{
    /// <summary>
    /// The raw bytes of args[index], from /proc/self/cmdline, when that file's last args.Length
    /// entries decode to exactly args (whatever ran us: the AOT binary, the apphost, or
    /// "dotnet fastepmd.dll"); otherwise the UTF-8 encoding of args[index].
    /// </summary>
    public static byte[] Get(string[] args, int index)
    {
        var fallback = Encoding.UTF8.GetBytes(args[index]);
        byte[] cmdline;
        try
        {
            cmdline = File.ReadAllBytes("/proc/self/cmdline");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return fallback;
        }
        var entries = Split(cmdline);
        if (entries.Count < args.Length) return fallback;
        int offset = entries.Count - args.Length;
        for (int i = 0; i < args.Length; i++)
        {
            if (Encoding.UTF8.GetString(entries[offset + i]) != args[i]) return fallback;
        }
        return entries[offset + index];
    }

    // Each argument ends with a NUL, the last one included.
    private static List<byte[]> Split(byte[] cmdline)
    {
        var entries = new List<byte[]>();
        int start = 0;
        for (int i = 0; i < cmdline.Length; i++)
        {
            if (cmdline[i] != 0) continue;
            entries.Add(cmdline[start..i]);
            start = i + 1;
        }
        return entries;
    }
}
