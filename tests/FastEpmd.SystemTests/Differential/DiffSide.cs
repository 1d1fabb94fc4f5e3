// One daemon and its numbered client connections, driven step by step. Every operation returns the
// transcript text of its outcome; every read and connect has a deadline.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FastEpmd.SystemTests.Differential;

internal sealed class DiffSide : IDisposable
{
    private readonly Dictionary<int, DiffConn> _conns = new();
    private readonly DiffCreations _creations = new();

    public DiffSide(DaemonProcess daemon) => Daemon = daemon;

    public DaemonProcess Daemon { get; }

    /// <summary>Things that may differ by timing alone (a send into a socket the daemon already closed).</summary>
    public List<string> Notes { get; } = new();

    public string Open(int k, string host)
    {
        if (_conns.Remove(k, out var old)) old.Dispose();
        var address = IPAddress.Parse(host);
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            socket.ConnectAsync(new IPEndPoint(address, Daemon.Port), cts.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (SocketException e)
        {
            socket.Dispose();
            return $"connect failed: {e.SocketErrorCode}";
        }
        catch (OperationCanceledException)
        {
            socket.Dispose();
            return "connect failed: timeout";
        }
        _conns[k] = new DiffConn(socket);
        return "open";
    }

    public string Send(int k, byte[] bytes, int delayMs)
    {
        if (!_conns.TryGetValue(k, out var c)) return $"no connection c{k}";
        c.Sent.AddRange(bytes);
        try
        {
            if (delayMs <= 0)
            {
                int sent = 0;
                while (sent < bytes.Length) sent += c.Socket.Send(bytes, sent, bytes.Length - sent, SocketFlags.None);
            }
            else
            {
                for (int i = 0; i < bytes.Length; i++)
                {
                    c.Socket.Send(bytes, i, 1, SocketFlags.None);
                    if (i + 1 < bytes.Length) Thread.Sleep(delayMs);
                }
            }
        }
        catch (SocketException e)
        {
            // Whether a send into a socket the daemon has already closed fails depends on timing,
            // so it is noted but not compared.
            Notes.Add($"c{k} send failed: {e.SocketErrorCode}");
        }
        return $"sent {bytes.Length}";
    }

    /// <summary>
    /// Reads until max bytes, the daemon closes, or the deadline. With max = int.MaxValue the
    /// outcome always ends in "| closed" or "| open"; with a finite max it does only when short.
    /// </summary>
    public string Read(int k, int max, int timeoutMs)
    {
        if (!_conns.TryGetValue(k, out var c)) return $"no connection c{k}";
        int offset = c.Received;
        var (data, closed) = ReadRaw(c, max, timeoutMs);
        string bytes = DiffRender.Reply(data, c.Sent, offset, Daemon.Port, _creations);
        if (max != int.MaxValue && data.Length == max) return bytes;
        return bytes + (closed ? " | closed" : " | open");
    }

    public string HalfClose(int k)
    {
        if (!_conns.TryGetValue(k, out var c)) return $"no connection c{k}";
        try { c.Socket.Shutdown(SocketShutdown.Send); }
        catch (SocketException e) { Notes.Add($"c{k} shutdown failed: {e.SocketErrorCode}"); }
        return "half-closed";
    }

    public string Close(int k, bool reset)
    {
        if (!_conns.Remove(k, out var c)) return $"no connection c{k}";
        if (reset)
        {
            try { c.Socket.LingerState = new LingerOption(true, 0); }
            catch (SocketException e) { Notes.Add($"c{k} linger failed: {e.SocketErrorCode}"); }
        }
        c.Dispose();
        return reset ? "reset" : "closed";
    }

    public string OneShot(int k, byte[] bytes, int timeoutMs)
    {
        string opened = Open(k, "127.0.0.1");
        if (opened != "open") return opened;
        Send(k, bytes, 0);
        string result = Read(k, int.MaxValue, timeoutMs);
        Close(k, reset: false);
        return result;
    }

    public string AwaitGone(string name, int timeoutMs)
    {
        var needle = Encoding.UTF8.GetBytes($"name {name} at port ");
        var sw = Stopwatch.StartNew();
        while (true)
        {
            using (var c = Connect())
            {
                if (c is null) return $"cannot connect while waiting for {name}";
                c.Socket.Send(Requests.Names);
                var (data, closed) = ReadRaw(c, int.MaxValue, 2000);
                if (closed && data.Length >= 4 && data.AsSpan().IndexOf(needle) < 0) return $"gone {name}";
            }
            if (sw.ElapsedMilliseconds > timeoutMs) return $"still registered {name}";
            Thread.Sleep(50);
        }
    }

    public string WaitExit(int timeoutMs)
    {
        int? code = Daemon.WaitExit(TimeSpan.FromMilliseconds(timeoutMs));
        return code is null ? "running" : $"exited {code}";
    }

    private DiffConn? Connect()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Daemon.Port), cts.Token).AsTask().GetAwaiter().GetResult();
            return new DiffConn(socket);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            return null;
        }
    }

    private static (byte[] Data, bool Closed) ReadRaw(DiffConn c, int max, int timeoutMs)
    {
        var data = new List<byte>();
        var buffer = new byte[65536];
        var sw = Stopwatch.StartNew();
        while (data.Count < max)
        {
            if (c.PeerClosed) return (data.ToArray(), true);
            long left = timeoutMs - sw.ElapsedMilliseconds;
            if (left <= 0) break;
            bool readable;
            try { readable = c.Socket.Poll(TimeSpan.FromMilliseconds(left), SelectMode.SelectRead); }
            catch (SocketException) { c.PeerClosed = true; continue; }
            if (!readable) continue;
            int n;
            try
            {
                n = c.Socket.Receive(buffer, 0, Math.Min(buffer.Length, max - data.Count), SocketFlags.None);
            }
            catch (SocketException)
            {
                // An RST from the daemon (it closed with unread input) counts as closed: whether
                // a close is a FIN or an RST depends on what was still unread, which is timing.
                c.PeerClosed = true;
                continue;
            }
            if (n == 0)
            {
                c.PeerClosed = true;
                continue;
            }
            data.AddRange(buffer.AsSpan(0, n).ToArray());
            c.Received += n;
        }
        return (data.ToArray(), c.PeerClosed);
    }

    public void Dispose()
    {
        foreach (var c in _conns.Values) c.Dispose();
        _conns.Clear();
    }
}

internal sealed class DiffConn : IDisposable
{
    public DiffConn(Socket socket) => Socket = socket;

    public Socket Socket { get; }

    /// <summary>Every byte sent on this connection: byte 2 is the request tag, the rest is the request.</summary>
    public List<byte> Sent { get; } = new();

    public int Received { get; set; }

    public bool PeerClosed { get; set; }

    public void Dispose() => Socket.Dispose();
}
