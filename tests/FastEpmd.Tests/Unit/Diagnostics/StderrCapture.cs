// Runs a logging loop with fd 2 on a pipe: what it wrote, and what the measured part allocated.
using static Tmds.Linux.LibC;

namespace FastEpmd.Tests.Unit.Diagnostics;

internal static unsafe class StderrCapture
{
    /// <summary>warmUp once, then measured count times; the pipe holds the output (keep it under 64 KiB).</summary>
    public static (string Output, long Allocated) Run(Action warmUp, Action measured, int count)
    {
        int* fds = stackalloc int[2];
        Assert.That(pipe(fds), Is.EqualTo(0));
        int saved = dup(2);
        long allocated;
        try
        {
            dup2(fds[1], 2);
            warmUp();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < count; i++) measured();
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        finally
        {
            dup2(saved, 2);
            close(saved);
            close(fds[1]);
        }
        var output = new List<byte>();
        var buffer = new byte[4096];
        fixed (byte* b = buffer)
        {
            long n;
            while ((n = read(fds[0], b, (Tmds.Linux.size_t)buffer.Length)) > 0) output.AddRange(buffer.AsSpan(0, (int)n).ToArray());
        }
        close(fds[0]);
        return (System.Text.Encoding.UTF8.GetString(output.ToArray()), allocated);
    }
}
