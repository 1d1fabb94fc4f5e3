// Whole pages straight from the kernel, outside the GC heap: NAMES/DUMP replies (malloc's dynamic
// mmap threshold would move freed multi-megabyte blocks onto its heap and keep them resident;
// munmap gives the memory back at once) and the registry's records, names and index (so the GC heap
// does not grow with registrations). Fresh anonymous pages are zero and cost no RSS until touched.
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Interop;

internal static unsafe class NativePages
{
    public const int PageSize = 4096;

    public static long RoundUp(long bytes) => (bytes + PageSize - 1) & ~(long)(PageSize - 1);

    /// <summary>Zeroed, not yet resident memory of RoundUp(bytes), or null when the kernel refuses.</summary>
    public static byte* Map(long bytes) => TryMap(bytes, out _);

    /// <summary>As Map, with mmap's errno (ENOMEM under an address-space limit) when it returns null.</summary>
    public static byte* TryMap(long bytes, out int errno)
    {
        void* p = mmap(null, (size_t)(ulong)RoundUp(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        errno = p == (void*)-1 ? Errno.Last : 0;
        return p == (void*)-1 ? null : (byte*)p;
    }

    public static void Unmap(byte* p, long bytes) => TryUnmap(p, bytes);

    /// <summary>munmap's errno, 0 when it succeeded (a failure leaves the pages mapped: leaked, never reused).</summary>
    public static int TryUnmap(byte* p, long bytes)
    {
        if (p == null) return 0;
        return munmap(p, (size_t)(ulong)RoundUp(bytes)) == 0 ? 0 : Errno.Last;
    }
}
