// A test's raw epmd client: literal bytes out over a real TCP socket, every read bounded by a
// deadline. The instance form wraps one connection (retrying connect while a daemon starts); the
// static helpers work on plain sockets for the many-connection tests: one-shot queries,
// registrations held open, idle floods spread over loopback sources.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FastEpmd.Testing;

public sealed class RawEpmdClient : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    public Socket Socket { get; }

    private RawEpmdClient(Socket socket) => Socket = socket;

    /// <summary>Connects to host:port, retrying for 2 s while nothing listens yet.</summary>
    public static RawEpmdClient Connect(int port, string host = "127.0.0.1")
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
                return new RawEpmdClient(s);
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

    public RawEpmdClient Send(byte[] bytes)
    {
        int sent = 0;
        while (sent < bytes.Length) sent += Socket.Send(bytes, sent, bytes.Length - sent, SocketFlags.None);
        return this;
    }

    public RawEpmdClient Send(string hex) => Send(Hex.Parse(hex));

    /// <summary>Reads until the peer closes or the deadline passes.</summary>
    public ReadResult ReadToEnd(TimeSpan? timeout = null) => ReadToEnd(Socket, timeout ?? DefaultTimeout);

    /// <summary>Reads exactly count bytes, or fewer if the peer closes or the deadline passes.</summary>
    public byte[] ReadExactly(int count, TimeSpan? timeout = null) => ReadExactly(Socket, count, timeout ?? DefaultTimeout);

    /// <summary>True when nothing arrives and the connection stays open for the whole period.</summary>
    public bool StaysOpenFor(TimeSpan period)
    {
        // Readable within the period means data, EOF or an error: in every case not "quiet and open".
        return !Socket.Poll((int)period.TotalMicroseconds, SelectMode.SelectRead);
    }

    /// <summary>Closes with an RST instead of a FIN (SO_LINGER 0).</summary>
    public void Reset() => Reset(Socket);

    public void Dispose() => Socket.Dispose();

    /// <summary>
    /// Loopback source addresses for floods (127.0.0.2-17, see Connect): connections spread over
    /// them, so no single source's port search in connect() grows long.
    /// </summary>
    public static IPAddress FloodSource(int i) => new(new byte[] { 127, 0, 0, (byte)(2 + i % 16) });

    /// <summary>
    /// A connected socket. With a source address the port is picked at connect time
    /// (IP_BIND_ADDRESS_NO_PORT), so the source's 4-tuples do not crowd the ephemeral ports that
    /// connects from 127.0.0.1 search: 15,000 connections from 127.0.0.1 to one daemon port make
    /// every further connect() from 127.0.0.1 to it scan used ports in the kernel (~6 ms each here).
    /// </summary>
    public static Socket OpenSocket(int port, int receiveBuffer = 0, IPAddress? source = null)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBuffer > 0) s.ReceiveBufferSize = receiveBuffer;
        try
        {
            if (source != null)
            {
                const int SolIp = 0, IpBindAddressNoPort = 24;
                s.SetRawSocketOption(SolIp, IpBindAddressNoPort, BitConverter.GetBytes(1));
                s.Bind(new IPEndPoint(source, 0));
            }
            s.Connect(new IPEndPoint(IPAddress.Loopback, port));
        }
        catch
        {
            s.Dispose();
            throw;
        }
        return s;
    }

    /// <summary>Connect, send, read until the daemon closes (or the deadline passes).</summary>
    public static ReadResult Query(int port, byte[] request, int timeoutMs = 5000)
    {
        using var s = OpenSocket(port);
        s.Send(request);
        return ReadToEnd(s, timeoutMs);
    }

    public static ReadResult ReadToEnd(Socket s, int timeoutMs = 5000) => ReadToEnd(s, TimeSpan.FromMilliseconds(timeoutMs));

    /// <summary>Reads until the peer closes (Closed, and Reset for an RST) or the deadline passes.</summary>
    public static ReadResult ReadToEnd(Socket s, TimeSpan timeout)
    {
        var data = new MemoryStream();
        var buffer = new byte[65536];
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (left <= TimeSpan.Zero) return new ReadResult(data.ToArray(), Closed: false, Reset: false);
            if (!s.Poll(left, SelectMode.SelectRead)) continue;
            int n;
            try
            {
                n = s.Receive(buffer);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                return new ReadResult(data.ToArray(), Closed: true, Reset: true);
            }
            if (n == 0) return new ReadResult(data.ToArray(), Closed: true, Reset: false);
            data.Write(buffer, 0, n);
        }
    }

    /// <summary>Registers name (ALIVE2, HighestVersion 6) and returns the open registration socket and the reply.</summary>
    public static Socket Register(int port, string name, int nodePort, out byte[] reply, int timeoutMs = 5000)
    {
        var s = OpenSocket(port);
        s.Send(Requests.Alive(name, port: nodePort));
        reply = ReadExactly(s, 6, timeoutMs);
        return s;
    }

    /// <summary>Registers and asserts success; returns the socket and the creation.</summary>
    public static Socket RegisterOk(int port, string name, int nodePort, out uint creation)
    {
        var s = Register(port, name, nodePort, out var reply);
        if (reply.Length != 6 || reply[0] != 0x76 || reply[1] != 0)
        {
            s.Dispose();
            throw new InvalidOperationException($"registering {name}: reply {Hex.Format(reply)}");
        }
        creation = (uint)(reply[2] << 24 | reply[3] << 16 | reply[4] << 8 | reply[5]);
        return s;
    }

    public static byte[] ReadExactly(Socket s, int count, int timeoutMs = 5000) => ReadExactly(s, count, TimeSpan.FromMilliseconds(timeoutMs));

    /// <summary>Reads exactly count bytes, or fewer if the peer closes, fails or the deadline passes.</summary>
    public static byte[] ReadExactly(Socket s, int count, TimeSpan timeout)
    {
        var data = new byte[count];
        int got = 0;
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (got < count)
        {
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (left <= TimeSpan.Zero || !s.Poll(left, SelectMode.SelectRead)) break;
            int n;
            try { n = s.Receive(data, got, count - got, SocketFlags.None); }
            catch (SocketException) { break; }
            if (n == 0) break;
            got += n;
        }
        return data.AsSpan(0, got).ToArray();
    }

    /// <summary>
    /// A connection that begins a request (one byte of its length header) and goes quiet: what a
    /// slot holder looks like to the daemon. It sends that byte because the daemon listens with
    /// TCP_DEFER_ACCEPT, so a connection that sends nothing reaches it only after about a second.
    /// </summary>
    public static Socket ConnectIdle(int port, IPAddress? source = null)
    {
        var s = OpenSocket(port, source: source);
        s.Send(new byte[] { 0 });
        return s;
    }

    /// <summary>Opens count idle connections (ConnectIdle); stops at the first failure and returns what it has.</summary>
    public static List<Socket> OpenIdle(int port, int count, Action<Exception>? onError = null, bool fromFloodSources = false)
    {
        var sockets = new List<Socket>(count);
        for (int i = 0; i < count; i++)
        {
            try
            {
                sockets.Add(ConnectIdle(port, source: fromFloodSources ? FloodSource(i) : null));
            }
            catch (Exception e) when (e is SocketException)
            {
                onError?.Invoke(e);
                if (onError == null) break;
            }
        }
        return sockets;
    }

    /// <summary>True when the peer has closed or reset the socket (readable with nothing to read).</summary>
    public static bool ClosedByPeer(Socket s, int waitMs = 0)
    {
        try
        {
            if (!s.Poll(TimeSpan.FromMilliseconds(waitMs), SelectMode.SelectRead)) return false;
            var probe = new byte[1];
            return s.Receive(probe, SocketFlags.Peek) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }

    /// <summary>Closes with an RST (SO_LINGER 0) instead of a FIN.</summary>
    public static void Reset(Socket s)
    {
        try
        {
            s.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }
        s.Dispose();
    }

    public static void DisposeAll(IEnumerable<Socket> sockets)
    {
        foreach (var s in sockets) s.Dispose();
    }

    /// <summary>The median of samples in microseconds.</summary>
    public static double Median(List<double> samples)
    {
        var sorted = samples.OrderBy(x => x).ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    /// <summary>Median latency (µs) of count PORT_PLEASE2 queries, each on a new connection, each reply byte-checked.</summary>
    public static double PortPleaseP50(int port, string name, byte[] expected, int count = 200)
    {
        var request = Requests.PortPlease(name);
        var samples = new List<double>(count);
        for (int i = 0; i < count; i++)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            var r = Query(port, request);
            samples.Add(System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMicroseconds);
            if (!r.Data.AsSpan().SequenceEqual(expected))
                throw new InvalidOperationException($"PORT_PLEASE2 {name}: got {Hex.Format(r.Data)}, expected {Hex.Format(expected)}");
        }
        return Median(samples);
    }
}

public readonly record struct ReadResult(byte[] Data, bool Closed, bool Reset)
{
    public string HexData => Hex.Format(Data);
}
