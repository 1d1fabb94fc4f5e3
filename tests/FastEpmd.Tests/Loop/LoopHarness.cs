// A real loop with its epmd and control endpoints (and a metrics endpoint on demand) on a loopback
// listener, stepped by RunOnce on the test thread, with clocks the test sets. Built as DaemonHost
// builds it, over the poller backend the fixture runs (PollerBackends); the listener takes an
// ephemeral port.
using System.Net;
using System.Net.Sockets;
using FastEpmd.Diagnostics;
using FastEpmd.Endpoints.Control;
using FastEpmd.Endpoints.Epmd;
using FastEpmd.Endpoints.Metrics;
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Poller;
using FastEpmd.CommandLine;
using FastEpmd.Registry;
using FastEpmd.Service;
using FastEpmd.Tests.Pollers;
using Tmds.Linux;

namespace FastEpmd.Tests.Loop;

internal sealed class LoopHarness : IDisposable
{
    public const long StartMs = 5_000_000;
    public const long StartSeconds = 1_700_000_000;   // creations are StartSeconds + 1 = 0x6553f101

    private readonly List<Socket> _clients = new();
    private readonly byte[] _readBuffer = new byte[1 << 20];

    public LoopHarness(PollerBackend backend, EpmdOptions? options = null, int capacity = 64, int rememberLimit = NodeRegistry.DefaultRememberLimit,
        Log? log = null, int? serverSendBuffer = null, IDescriptorStore? store = null, bool keepRegistrationsAtStop = false,
        IRegistryMirror? mirror = null, IPoller? poller = null, AcceptFunction? accept = null)
    {
        Options = options ?? new EpmdOptions();
        Log = log ?? Log.Silent;
        Registry = new NodeRegistry(64, rememberLimit);
        Service = new EpmdService(Options, Registry, Log, () => NowSeconds, mirror: mirror);
        Table = new ConnectionTable(capacity + MetricsEndpoint.DefaultCapacity + 1);
        Poller = poller ?? PollerBackends.Create(backend);
        Loop = new EventLoop(Poller, Table, Log, () => NowMs) { Accept = accept ?? Listener.Accept };
        Epmd = new EpmdEndpoint(Loop, Service, Options, Log, quota: capacity, store: store, keepRegistrationsAtStop: keepRegistrationsAtStop);
        Control = new ControlEndpoint(Loop, Log, Epmd);
        int fd = Listener.Open(SocketPairs.Loopback4, 0);
        if (fd < 0) throw new InvalidOperationException("cannot listen on 127.0.0.1: errno " + -fd);
        Port = Listener.LocalPort(fd);
        if (serverSendBuffer is { } size)
        {
            // Accepted sockets inherit it, and a set SO_SNDBUF is not autotuned: a small one
            // makes the loop meet EAGAIN on a large reply.
            unsafe
            {
                if (LibC.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_SNDBUF, &size, sizeof(int)) != 0)
                    throw new InvalidOperationException("SO_SNDBUF: errno " + LibC.errno);
            }
        }
        Epmd.AddListener(fd);
        Endpoint = new IPEndPoint(IPAddress.Loopback, Port);
    }

    /// <summary>Serves the metrics endpoint on listenFd from this loop.</summary>
    public MetricsEndpoint AddMetricsListener(int listenFd, string version, long startUnixMs, int capacity = MetricsEndpoint.DefaultCapacity)
    {
        Metrics ??= new MetricsEndpoint(Loop, Epmd, Log, version, startUnixMs, capacity, Options.AcceptBatch);
        Metrics.AddListener(listenFd);
        return Metrics;
    }

    /// <summary>Every registration's (key, fd), as a handoff exports them; the descriptors stay the loop's.</summary>
    public List<(ulong Key, int Fd)> RegistrationDescriptors()
    {
        var held = new List<HeldDescriptor>();
        Epmd.Export(held);
        return held.Where(d => d.Role == HeldRole.Connection).Select(d => (d.Key, d.Fd)).ToList();
    }

    public EpmdOptions Options { get; }
    public NodeRegistry Registry { get; }
    public EpmdService Service { get; }
    public Log Log { get; }
    public ConnectionTable Table { get; }
    public IPoller Poller { get; }
    public EventLoop Loop { get; }
    public EpmdEndpoint Epmd { get; }
    public ControlEndpoint Control { get; }
    public MetricsEndpoint? Metrics { get; private set; }
    public int Port { get; }
    public IPEndPoint Endpoint { get; }

    /// <summary>The loop's monotonic clock (ms); only the test moves it.</summary>
    public long NowMs { get; set; } = StartMs;

    /// <summary>The wall clock (s) that seeds creations.</summary>
    public long NowSeconds { get; set; } = StartSeconds;

    /// <summary>A connected client. The server has not accepted it yet: that happens in a step.</summary>
    public Socket Connect(int? receiveBuffer = null)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBuffer is { } size) s.ReceiveBufferSize = size;
        s.Connect(Endpoint);
        _clients.Add(s);
        return s;
    }

    public Socket Send(Socket client, string hex)
    {
        client.Send(Hex.Parse(hex));
        return client;
    }

    public int Step(int timeoutMs = 0) => Loop.RunOnce(timeoutMs);

    /// <summary>
    /// Steps the loop and reads what the client receives, until the server closes the
    /// connection, expected bytes have arrived (kept connections), or maxSteps steps passed.
    /// </summary>
    public Exchange Run(Socket client, int expectBytes = -1, int maxSteps = 100)
    {
        var data = new List<byte>();
        for (int step = 1; step <= maxSteps; step++)
        {
            Loop.RunOnce(step == 1 ? 0 : 10);
            while (client.Poll(0, SelectMode.SelectRead))
            {
                int n;
                try
                {
                    n = client.Receive(_readBuffer);
                }
                catch (SocketException)
                {
                    return new Exchange(data.ToArray(), Closed: true, Reset: true, step);
                }
                if (n == 0) return new Exchange(data.ToArray(), Closed: true, Reset: false, step);
                data.AddRange(_readBuffer.AsSpan(0, n).ToArray());
            }
            if (expectBytes >= 0 && data.Count >= expectBytes) return new Exchange(data.ToArray(), Closed: false, Reset: false, step);
        }
        return new Exchange(data.ToArray(), Closed: false, Reset: false, maxSteps);
    }

    /// <summary>Connects, sends one request, runs until the server closes.</summary>
    public Exchange Request(string hex) => Run(Send(Connect(), hex));

    /// <summary>Registers a node; the returned client is its registration.</summary>
    public Socket Register(string aliveHex, string expectedReply)
    {
        var client = Send(Connect(), aliveHex);
        var e = Run(client, Hex.Parse(expectedReply).Length);
        Assert.That(e.Hex, Is.EqualTo(Hex.Format(Hex.Parse(expectedReply))), "ALIVE2 reply");
        Assert.That(e.Closed, Is.False, "an ALIVE2 connection is kept");
        return client;
    }

    /// <summary>
    /// True when nothing has arrived and the server has not closed. The server runs on this
    /// thread, so whatever it sent is already on its way; 10 ms covers a deferred softirq.
    /// </summary>
    public static bool Quiet(Socket client) => !client.Poll(10_000, SelectMode.SelectRead);

    /// <summary>True when the server closed: EOF (or a reset) with no bytes first, read within a deadline.</summary>
    public static bool ClosedSilently(Socket client)
    {
        if (!client.Poll(1_000_000, SelectMode.SelectRead)) return false;
        try
        {
            return client.Receive(new byte[16]) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var c in _clients) c.Dispose();
        Metrics?.Dispose();
        Control.Dispose();
        Epmd.Dispose();
        Loop.Dispose();
        Poller.Dispose();
        Table.Dispose();
        Service.Snapshots.Dispose();
    }
}

internal readonly record struct Exchange(byte[] Data, bool Closed, bool Reset, int Steps)
{
    public string Hex => FastEpmd.Testing.Hex.Format(Data);
}
