// A shared, writable mapping of a file descriptor (the state memfd) as Memory<byte>: the mirror
// writes into the page cache directly, so a kill loses nothing written and no syscall is made per
// change. memfd_create, ftruncate and mmap are Tmds.LibC's.
using System.Buffers;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Interop;

internal sealed unsafe class MappedFile : MemoryManager<byte>
{
    private byte* _address;
    private readonly int _length;

    private MappedFile(byte* address, int length)
    {
        _address = address;
        _length = length;
    }

    /// <summary>A new memfd (close-on-exec) of length bytes, zero-filled; the descriptor or -errno.</summary>
    public static int CreateMemfd(string name, long length)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(name + "\0");
        int fd;
        fixed (byte* p = bytes) fd = memfd_create(p, (uint)MFD_CLOEXEC);
        if (fd < 0) return -Errno.Last;
        if (ftruncate(fd, length) != 0)
        {
            int errno = Errno.Last;
            close(fd);
            return -errno;
        }
        return fd;
    }

    /// <summary>The size of a file descriptor's file (fstat), or -errno.</summary>
    public static long SizeOf(int fd)
    {
        stat st;
        if (fstat(fd, &st) != 0) return -Errno.Last;
        return st.st_size;
    }

    /// <summary>Maps length bytes of fd shared, read and write; null with the error when it cannot.</summary>
    public static MappedFile? Map(int fd, long length, out string? error)
    {
        error = null;
        if (length <= 0 || length > int.MaxValue)
        {
            error = $"cannot map {length} bytes";
            return null;
        }
        void* address = mmap(null, (size_t)(int)length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (address == MAP_FAILED)
        {
            error = "mmap: " + Errno.Describe(Errno.Last);
            return null;
        }
        return new MappedFile((byte*)address, (int)length);
    }

    public int Length => _length;

    public override Span<byte> GetSpan() => new(_address, _length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(_address + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (_address == null) return;
        munmap(_address, (size_t)_length);
        _address = null;
    }
}
