// Where the registry's records, names and index live: anonymous pages outside the GC heap, mapped
// in chunks as the table fills (nothing at start, so an idle daemon's RSS and VmSize do not grow)
// and touched only when used. A mapping the kernel refuses (ENOMEM under `ulimit -v`, a full
// address space) or one past the byte limit is refused here, before anything is changed: the
// registration that needed it is refused and every other one is untouched.
using FastEpmd.Interop;

namespace FastEpmd.Registry;

internal sealed unsafe class RegistryMemory
{
    private readonly long _limitBytes;

    /// <param name="limitBytes">Mappings past this many bytes are refused as ENOMEM (tests make allocations fail with it).</param>
    public RegistryMemory(long limitBytes = long.MaxValue) => _limitBytes = limitBytes;

    /// <summary>Bytes mapped now (address space; resident only where touched).</summary>
    public long MappedBytes { get; private set; }

    /// <summary>errno of the last mapping that failed (0 if none has): what the refusal's log line names.</summary>
    public int LastErrno { get; private set; }

    /// <summary>Mappings refused by the kernel or the limit.</summary>
    public long Failures { get; private set; }

    /// <summary>Zeroed pages for bytes, or null (LastErrno says why).</summary>
    public byte* Map(long bytes)
    {
        bytes = NativePages.RoundUp(bytes);
        byte* p = null;
        int errno = Errno.ENOMEM;
        if (MappedBytes + bytes <= _limitBytes) p = NativePages.TryMap(bytes, out errno);
        if (p == null)
        {
            LastErrno = errno;
            Failures++;
            return null;
        }
        MappedBytes += bytes;
        return p;
    }

    /// <summary>Gives pages back; if munmap fails they stay mapped (leaked, never reused) and are still counted.</summary>
    public void Unmap(byte* p, long bytes)
    {
        if (p == null) return;
        bytes = NativePages.RoundUp(bytes);
        int errno = NativePages.TryUnmap(p, bytes);
        if (errno == 0) MappedBytes -= bytes;
        else
        {
            LastErrno = errno;
            Failures++;
        }
    }
}
