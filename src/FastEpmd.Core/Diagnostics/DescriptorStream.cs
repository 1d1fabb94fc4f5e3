// A write-only Stream over an inherited descriptor (stdout, stderr) through write(2): the client
// commands print raw bytes, and System.Console would bring its terminal and encoding code into
// the binary, which is all resident.
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Diagnostics;

internal sealed unsafe class DescriptorStream(int fd) : Stream
{
    public static DescriptorStream StandardOutput() => new(1);
    public static DescriptorStream StandardError() => new(2);

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <summary>Writes everything; a closed reader is an IOException.</summary>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        int errno = WriteAll(fd, buffer);
        if (errno != 0) throw new IOException("write to fd " + fd + ": " + Interop.Errno.Describe(errno));
    }

    /// <summary>write(2) until all of bytes is out, retrying partial writes and EINTR: 0, or the errno.</summary>
    public static int WriteAll(int fd, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            int done = 0;
            while (done < bytes.Length)
            {
                long n = write(fd, p + done, (size_t)(bytes.Length - done));
                if (n > 0)
                {
                    done += (int)n;
                    continue;
                }
                if (n == 0) return Interop.Errno.EIO;   // no progress: never spin on it
                int errno = Interop.Errno.Last;
                if (errno != Interop.Errno.EINTR) return errno;
            }
        }
        return 0;
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
