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

    /// <summary>Writes everything, retrying partial writes and EINTR; a closed reader is an IOException.</summary>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            int done = 0;
            while (done < buffer.Length)
            {
                long n = write(fd, p + done, (size_t)(buffer.Length - done));
                if (n >= 0)
                {
                    done += (int)n;
                    continue;
                }
                int errno = Interop.Errno.Last;
                if (errno == Interop.Errno.EINTR) continue;
                throw new IOException("write to fd " + fd + ": " + Interop.Errno.Describe(errno));
            }
        }
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
