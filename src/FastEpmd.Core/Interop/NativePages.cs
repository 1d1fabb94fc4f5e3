// Whole pages straight from the kernel for large, short-lived buffers (NAMES/DUMP replies). malloc's
// dynamic mmap threshold would move freed multi-megabyte blocks onto its heap and keep them
// resident; munmap gives the memory back at once.
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Interop;

internal static unsafe class NativePages
{
    public const int PageSize = 4096;

    public static long RoundUp(long bytes) => (bytes + PageSize - 1) & ~(long)(PageSize - 1);

    /// <summary>Zeroed, not yet resident memory of RoundUp(bytes), or null when the kernel refuses.</summary>
    public static byte* Map(long bytes)
    {
        void* p = mmap(null, (size_t)(ulong)RoundUp(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == (void*)-1 ? null : (byte*)p;
    }

    public static void Unmap(byte* p, long bytes)
    {
        if (p != null) munmap(p, (size_t)(ulong)RoundUp(bytes));
    }
}
