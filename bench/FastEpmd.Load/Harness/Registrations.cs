// Nodes held registered on persistent ALIVE2 connections, one blocking connection per node, in
// order (so NAMES order is known). Closing the sockets is the deregistration.
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FastEpmd.Load.Harness;

internal sealed class Registrations : IDisposable
{
    private readonly List<Socket> _sockets = new();

    public int Registered => _sockets.Count;
    public int Failed { get; private set; }

    /// <summary>Registers nodes in order; stops after maxConsecutiveFailures refusals or closes in a row.</summary>
    /// <param name="source">
    /// Source address (127.x.y.z: still a local peer). Thousands of connections from 127.0.0.1 to one
    /// port fill the even half of the ephemeral range that connect() searches first, and every later
    /// connect() from 127.0.0.1 (the queries) then scans it: held sockets get their own address.
    /// </param>
    public static Registrations Register(int daemonPort, IEnumerable<(string Name, ushort Port)> nodes,
        int maxConsecutiveFailures = 20, TimeSpan? budget = null, IPAddress? source = null)
    {
        var r = new Registrations();
        var endpoint = new IPEndPoint(IPAddress.Loopback, daemonPort);
        var frame = new byte[2 + 13 + 1024];
        var reply = new byte[16];
        int consecutive = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var limit = budget ?? TimeSpan.FromSeconds(30);
        foreach (var (name, port) in nodes)
        {
            if (clock.Elapsed > limit || consecutive >= maxConsecutiveFailures) break;
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            bool ok = false;
            try
            {
                s.ReceiveTimeout = 2000;
                if (source != null)
                {
                    // IP_BIND_ADDRESS_NO_PORT: connect() picks the port knowing the whole 4-tuple.
                    s.SetRawSocketOption(0 /* SOL_IP */, 24, BitConverter.GetBytes(1));
                    s.Bind(new IPEndPoint(source, 0));
                }
                s.Connect(endpoint);
                int length = Requests.WriteAlive(frame, Encoding.UTF8.GetBytes(name), port);
                s.Send(frame, 0, length, SocketFlags.None);
                int got = 0;
                while (got < 6)
                {
                    int n = s.Receive(reply, got, 6 - got, SocketFlags.None);
                    if (n <= 0) break;
                    got += n;
                }
                ok = got == 6 && reply[0] == (byte)'v' && reply[1] == 0;
            }
            catch (SocketException)
            {
            }
            if (ok)
            {
                r._sockets.Add(s);
                consecutive = 0;
            }
            else
            {
                s.Dispose();
                r.Failed++;
                consecutive++;
            }
        }
        return r;
    }

    public void Dispose()
    {
        foreach (var s in _sockets) s.Dispose();
        _sockets.Clear();
    }
}
