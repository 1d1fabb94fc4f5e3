// A private copy of a sparse file (the passed state memfd) in untouched anonymous memory: only the
// file's data extents (SEEK_DATA/SEEK_HOLE) are read in, and the holes stay the zero page. Reading
// a memfd through a shared mapping instead would make tmpfs allocate a page for every hole read,
// and a 36 MiB image with a few registrations would become 36 MiB resident.
using System.Buffers;
using System.Runtime.InteropServices;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Interop;

internal sealed unsafe class SparseCopy : MemoryManager<byte>
{
    // Linux's lseek whence values (Tmds.LibC does not name them).
    private const int SeekData = 3;
    private const int SeekHole = 4;

    private byte* _memory;
    private readonly int _length;

    private SparseCopy(byte* memory, int length)
    {
        _memory = memory;
        _length = length;
    }

    /// <summary>The whole of fd (its fstat size, at most 2 GiB); null with why when it cannot be read.</summary>
    public static SparseCopy? Read(int fd, long size, out string? error)
    {
        error = null;
        if (size < 0 || size > int.MaxValue)
        {
            error = $"cannot copy {size} bytes";
            return null;
        }
        var copy = new SparseCopy((byte*)NativeMemory.AllocZeroed((nuint)Math.Max(1, size)), (int)size);
        long offset = 0;
        while (offset < size)
        {
            long data = lseek(fd, offset, SeekData);
            if (data < 0)
            {
                int errno = Errno.Last;
                if (errno == LibC.ENXIO) break;   // only a hole is left
                error = "lseek: " + Errno.Describe(errno);
                ((IDisposable)copy).Dispose();
                return null;
            }
            long hole = lseek(fd, data, SeekHole);
            if (hole < 0 || hole > size) hole = size;
            for (long at = data; at < hole;)
            {
                long n = pread(fd, copy._memory + at, (size_t)(int)Math.Min(hole - at, 1 << 20), at);
                if (n <= 0)
                {
                    if (n < 0 && Errno.Last == Errno.EINTR) continue;
                    error = n == 0 ? "the file shrank while being read" : "pread: " + Errno.Describe(Errno.Last);
                    ((IDisposable)copy).Dispose();
                    return null;
                }
                at += n;
            }
            offset = hole;
        }
        return copy;
    }

    public override Span<byte> GetSpan() => new(_memory, _length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(_memory + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (_memory == null) return;
        NativeMemory.Free(_memory);
        _memory = null;
    }
}
