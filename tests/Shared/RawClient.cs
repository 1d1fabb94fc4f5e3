// A test's raw TCP client: literal bytes out, every read bounded by a deadline.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FastEpmd.Testing;

internal sealed class RawClient : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    public Socket Socket { get; }

    private RawClient(Socket socket) => Socket = socket;

    public static RawClient Connect(int port, string host = "127.0.0.1")
    {
        var address = IPAddress.Parse(host);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            // A socket whose connect failed is not reliably reusable on Linux: take a new one.
            var s = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                s.Connect(new IPEndPoint(address, port));
                return new RawClient(s);
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(2))
            {
                s.Dispose();
                Thread.Sleep(20);
            }
            catch
            {
                s.Dispose();
                throw;
            }
        }
    }

    public RawClient Send(byte[] bytes)
    {
        int sent = 0;
        while (sent < bytes.Length) sent += Socket.Send(bytes, sent, bytes.Length - sent, SocketFlags.None);
        return this;
    }

    public RawClient Send(string hex) => Send(Hex.Parse(hex));

    /// <summary>Reads until the peer closes or the deadline passes.</summary>
    public ReadResult ReadToEnd(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        var data = new List<byte>();
        var buffer = new byte[65536];
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return new ReadResult(data.ToArray(), Closed: false, Reset: false);
            if (!Socket.Poll((int)Math.Max(1, left.TotalMicroseconds), SelectMode.SelectRead)) continue;
            int n;
            try
            {
                n = Socket.Receive(buffer);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                return new ReadResult(data.ToArray(), Closed: true, Reset: true);
            }
            if (n == 0) return new ReadResult(data.ToArray(), Closed: true, Reset: false);
            data.AddRange(buffer.AsSpan(0, n).ToArray());
        }
    }

    /// <summary>Reads exactly count bytes, or fewer if the peer closes or the deadline passes.</summary>
    public byte[] ReadExactly(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        var data = new byte[count];
        int got = 0;
        while (got < count)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) break;
            if (!Socket.Poll((int)Math.Max(1, left.TotalMicroseconds), SelectMode.SelectRead)) continue;
            int n;
            try { n = Socket.Receive(data, got, count - got, SocketFlags.None); }
            catch (SocketException) { break; }
            if (n == 0) break;
            got += n;
        }
        return data.AsSpan(0, got).ToArray();
    }

    /// <summary>True when nothing arrives and the connection stays open for the whole period.</summary>
    public bool StaysOpenFor(TimeSpan period)
    {
        // Readable within the period means data, EOF or an error: in every case not "quiet and open".
        return !Socket.Poll((int)period.TotalMicroseconds, SelectMode.SelectRead);
    }

    /// <summary>Closes with an RST instead of a FIN (SO_LINGER 0).</summary>
    public void Reset()
    {
        Socket.LingerState = new LingerOption(true, 0);
        Socket.Close();
    }

    public void Dispose() => Socket.Dispose();
}

internal readonly record struct ReadResult(byte[] Data, bool Closed, bool Reset)
{
    public string HexData => Hex.Format(Data);
}
