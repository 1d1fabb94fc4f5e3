// stderr through write(2): System.Console would pull its encoders and terminal code into the
// daemon's working set for the few lines it ever prints.
using System.Text;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Diagnostics;

internal static unsafe class StandardError
{
    public static void Write(string text) => Write(Encoding.UTF8.GetBytes(text));

    public static void Write(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            int done = 0;
            while (done < bytes.Length)
            {
                long n = write(2, p + done, (size_t)(bytes.Length - done));
                if (n <= 0) return;   // stderr closed or broken: logging must never stop the daemon
                done += (int)n;
            }
        }
    }
}
