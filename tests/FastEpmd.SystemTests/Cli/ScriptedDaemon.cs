// A one-connection fake epmd on 127.0.0.1: records the request, then answers with scripted
// bytes (in chunks, with pauses) and closes with a FIN or an RST. It reaches client paths no real
// daemon takes: short answers, a split NAMES header, a NUL inside STOP's 7 bytes.
using System.Net;
using System.Net.Sockets;

namespace FastEpmd.SystemTests.Cli;

internal sealed class ScriptedDaemon : IDisposable
{
    private readonly TcpListener _listener;
    private readonly Task _serve;
    private readonly List<byte> _request = new();

    public int Port { get; }

    private ScriptedDaemon(byte[][] chunks, int requestLength, bool reset)
    {
        Port = Ports.Free();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Start();
        _serve = Task.Run(() => Serve(chunks, requestLength, reset));
    }

    /// <summary>Answers with the chunks (a short pause between them), then closes.</summary>
    public static ScriptedDaemon Answer(int requestLength, bool reset, params byte[][] chunks) =>
        new(chunks, requestLength, reset);

    /// <summary>The bytes the client sent, once the exchange is over.</summary>
    public byte[] Request
    {
        get
        {
            _serve.Wait(TimeSpan.FromSeconds(10));
            lock (_request) return _request.ToArray();
        }
    }

    private void Serve(byte[][] chunks, int requestLength, bool reset)
    {
        using var socket = AcceptOne();
        if (socket is null) return;
        socket.NoDelay = true;
        var buffer = new byte[4096];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (_request.Count < requestLength && DateTime.UtcNow < deadline)
        {
            if (!socket.Poll(100_000, SelectMode.SelectRead)) continue;
            int n = socket.Receive(buffer);
            if (n == 0) break;
            lock (_request) _request.AddRange(buffer.AsSpan(0, n).ToArray());
        }
        try
        {
            for (int i = 0; i < chunks.Length; i++)
            {
                if (i > 0) Thread.Sleep(100);
                socket.Send(chunks[i]);
            }
            Thread.Sleep(100);
            if (reset) socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // The client has read what it wanted and closed (STOP reads only 7 bytes).
        }
        socket.Close();
    }

    private Socket? AcceptOne()
    {
        var accept = _listener.AcceptSocketAsync();
        if (!accept.Wait(TimeSpan.FromSeconds(10))) return null;
        return accept.Result;
    }

    public void Dispose()
    {
        _listener.Stop();
        _serve.Wait(TimeSpan.FromSeconds(10));
    }
}
