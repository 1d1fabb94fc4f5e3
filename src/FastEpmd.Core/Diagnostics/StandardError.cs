// stderr through write(2): System.Console would pull its encoders and terminal code into the
// daemon's working set for the few lines it ever prints.
using System.Text;

namespace FastEpmd.Diagnostics;

internal static class StandardError
{
    public static void Write(string text) => Write(Encoding.UTF8.GetBytes(text));

    /// <summary>Errors are dropped: stderr closed or broken must never stop the daemon.</summary>
    public static void Write(ReadOnlySpan<byte> bytes) => DescriptorStream.WriteAll(2, bytes);
}
