// The metrics responder on a real reactor: scrapes over real loopback sockets, stepped on the
// test thread. A scrape allocates nothing once warm; /healthz turns 503 once the epmd listeners
// are closed during shutdown; a flood on the metrics port never takes an epmd slot.
using FastEpmd.Endpoints.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Endpoints.Epmd;
using FastEpmd.CommandLine;
using FastEpmd.Tests.Pollers;

namespace FastEpmd.Tests.Loop;

[NonParallelizable]
[TestFixture(PollerBackend.Epoll)]
[TestFixture(PollerBackend.Kqueue)]
public class MetricsLoopTests(PollerBackend backend)
{
    private const string AliveAlpha = "00 12 78 9d6d 4d 00 0006 0005 0005 616c706861 0000";

    private readonly byte[] _buffer = new byte[65536];

    private static IPEndPoint AddMetrics(LoopHarness h, int capacity = MetricsEndpoint.DefaultCapacity)
    {
        int fd = Listener.Open(SocketPairs.Loopback4, 0);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        h.AddMetricsListener(fd, "1.2.3", 1_700_000_000_500, capacity);
        return new IPEndPoint(IPAddress.Loopback, Listener.LocalPort(fd));
    }

    private static Socket Open(IPEndPoint endpoint)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        s.Connect(endpoint);
        return s;
    }

    /// <summary>Sends request, steps the loop until the server closes; the bytes and what RunOnce allocated.</summary>
    private (string Response, long Allocated) Exchange(LoopHarness h, IPEndPoint endpoint, string request)
    {
        using var s = Open(endpoint);
        s.Send(Encoding.ASCII.GetBytes(request));
        int got = 0;
        long allocated = 0;
        for (int step = 0; step < 200; step++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            h.Loop.RunOnce(step == 0 ? 0 : 10);
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            while (s.Poll(0, SelectMode.SelectRead))
            {
                int n;
                try
                {
                    n = s.Receive(_buffer, got, _buffer.Length - got, SocketFlags.None);
                }
                catch (SocketException)
                {
                    n = 0;   // closed with our request unread: a reset, also a close
                }
                if (n == 0) return (Encoding.ASCII.GetString(_buffer, 0, got), allocated);
                got += n;
            }
        }
        Assert.Fail("the metrics responder did not close after 200 steps");
        return default;
    }

    private static long Sample(string response, string series)
    {
        foreach (var line in response.Split('\n'))
        {
            if (line.StartsWith(series + " ")) return long.Parse(line[(series.Length + 1)..]);
        }
        Assert.Fail($"no sample {series} in:\n{response}");
        return 0;
    }

    [Test]
    public void Scrape_ReportsRegistrationsDuplicatesAndQueries()
    {
        using var h = new LoopHarness(backend);
        var metrics = AddMetrics(h);
        h.Register(AliveAlpha, "76 00 65 53 f1 01");
        var dup = h.Send(h.Connect(), AliveAlpha);
        var refused = h.Run(dup, 6);
        Assert.That(refused.Hex, Does.StartWith("76 01"), "the duplicate is refused");
        h.Request("00 06 7a 616c706861");   // PORT_PLEASE2 alpha
        h.Request("00 01 6e");               // NAMES

        var (response, _) = Exchange(h, metrics, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.That(response, Does.StartWith("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
        int body = response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        Assert.That(response, Does.Contain($"Content-Length: {response.Length - body}\r\n"));
        Assert.That(Sample(response, "fastepmd_registrations"), Is.EqualTo(1));
        Assert.That(Sample(response, "fastepmd_registrations_total"), Is.EqualTo(1));
        Assert.That(Sample(response, "fastepmd_duplicate_refusals_total"), Is.EqualTo(1));
        Assert.That(Sample(response, "fastepmd_requests_total{type=\"alive2\",outcome=\"ok\"}"), Is.EqualTo(1));
        Assert.That(Sample(response, "fastepmd_requests_total{type=\"alive2\",outcome=\"refused\"}"), Is.EqualTo(1));
        Assert.That(Sample(response, "fastepmd_requests_total{type=\"port_please2\",outcome=\"ok\"}"), Is.EqualTo(1));
        Assert.That(Sample(response, "fastepmd_requests_total{type=\"names\",outcome=\"ok\"}"), Is.EqualTo(1));
        Assert.That(Sample(response, "fastepmd_connections"), Is.EqualTo(2), "the registration and the refused ALIVE");
        Assert.That(Sample(response, "fastepmd_connection_table_slots"), Is.EqualTo(64));
        Assert.That(Sample(response, "fastepmd_received_bytes_total"), Is.EqualTo(20 + 20 + 8 + 3));
        Assert.That(Sample(response, "fastepmd_build_info{version=\"1.2.3\"}"), Is.EqualTo(1));
        Assert.That(response, Does.Contain("\nprocess_start_time_seconds 1700000000.500\n"));
    }

    [TestCase("GET /healthz HTTP/1.1\r\n\r\n", "HTTP/1.1 200 OK\r\n", "ok\n")]
    [TestCase("GET /nothing HTTP/1.1\r\n\r\n", "HTTP/1.1 404 Not Found\r\n", "not found\n")]
    [TestCase("\x16\x03\x01\x02\x00\x01", "HTTP/1.1 400 Bad Request\r\n", "bad request\n")]
    public void OtherTargets_AndBadInput_GetTheirStatus(string request, string statusLine, string body)
    {
        using var h = new LoopHarness(backend);
        var metrics = AddMetrics(h);
        var (response, _) = Exchange(h, metrics, request);
        Assert.That(response, Does.StartWith(statusLine));
        Assert.That(response, Does.EndWith("\r\n\r\n" + body));
    }

    [Test]
    public void HeadersOver8KiB_AreClosedWithoutAReply()
    {
        using var h = new LoopHarness(backend);
        var metrics = AddMetrics(h);
        var (response, _) = Exchange(h, metrics, "GET /metrics HTTP/1.1\r\nX: " + new string('a', 9000) + "\r\n\r\n");
        Assert.That(response, Is.Empty);
        Assert.That(h.Metrics!.Counters.TooLarge, Is.EqualTo(1));
    }

    [Test]
    public void ASilentMetricsClient_IsClosedAtItsDeadline()
    {
        using var h = new LoopHarness(backend);
        var metrics = AddMetrics(h);
        using var s = Open(metrics);
        s.Send("GET /metr"u8.ToArray());
        h.Step();
        Assert.That(h.Metrics!.Count, Is.EqualTo(1));
        h.NowMs += MetricsEndpoint.DeadlineMs - 1;
        h.Step();
        Assert.That(h.Metrics!.Count, Is.EqualTo(1));
        h.NowMs += 1;
        h.Step();
        Assert.That(h.Metrics!.Count, Is.Zero);
        Assert.That(LoopHarness.ClosedSilently(s), Is.True);
        Assert.That(h.Metrics!.Counters.Deadlines, Is.EqualTo(1));
    }

    [Test]
    public void AFloodOfMetricsConnections_ClosesTheOldest_AndNeverTakesAnEpmdSlot()
    {
        using var h = new LoopHarness(backend, capacity: 4);
        var metrics = AddMetrics(h, capacity: 4);
        var node = h.Register(AliveAlpha, "76 00 65 53 f1 01");
        var flood = new List<Socket>();
        try
        {
            for (int i = 0; i < 12; i++)
            {
                flood.Add(Open(metrics));
                h.NowMs += 1;
                h.Step();
            }
            Assert.That(h.Metrics!.Count, Is.EqualTo(4));
            Assert.That(h.Metrics!.Counters.DroppedForFullTable, Is.EqualTo(8));
            Assert.That(h.Epmd.Count, Is.EqualTo(1), "only the registration holds an epmd slot");
            Assert.That(LoopHarness.ClosedSilently(flood[0]), Is.True, "the oldest went first");
            var port = h.Request("00 06 7a 616c706861");
            Assert.That(port.Hex, Does.StartWith("77 00"), "epmd clients are still served");
            Assert.That(h.Registry.RegisteredCount, Is.EqualTo(1));
            Assert.That(LoopHarness.Quiet(node), Is.True);
        }
        finally
        {
            foreach (var s in flood) s.Dispose();
        }
    }

    [Test]
    public void Healthz_Is503_OnceTheEpmdListenersAreClosedDuringShutdown()
    {
        using var h = new LoopHarness(backend);
        var metrics = AddMetrics(h);
        Assert.That(Exchange(h, metrics, "GET /healthz HTTP/1.1\r\n\r\n").Response, Does.StartWith("HTTP/1.1 200 OK"));

        using var probe = Open(metrics);
        h.Step();   // accepted, waiting for its request
        h.Loop.RequestStop();
        h.Step();
        Assert.That(h.Loop.StopRequested, Is.True);
        probe.Send("GET /healthz HTTP/1.1\r\n\r\n"u8.ToArray());
        h.Loop.Shutdown(budgetMs: 90);
        Assert.That(probe.Poll(1_000_000, SelectMode.SelectRead), Is.True);
        int n = probe.Receive(_buffer);
        var response = Encoding.ASCII.GetString(_buffer, 0, n);
        Assert.That(response, Does.StartWith("HTTP/1.1 503 Service Unavailable\r\n"));
        Assert.That(response, Does.EndWith("shutting down\n"));
    }

    [Test]
    public void AScrape_AllocatesNothingOnceWarm()
    {
        using var h = new LoopHarness(backend);
        var metrics = AddMetrics(h);
        h.Register(AliveAlpha, "76 00 65 53 f1 01");
        const string scrape = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Prometheus/2.42.0\r\n\r\n";
        for (int i = 0; i < 200; i++) Exchange(h, metrics, scrape);
        long total = AllocationTests.MeasureSteadyState("500 scrapes", () =>
        {
            long sum = 0;
            for (int i = 0; i < 500; i++)
            {
                var (response, allocated) = Exchange(h, metrics, scrape);
                Assert.That(response, Does.StartWith("HTTP/1.1 200 OK"));
                sum += allocated;
            }
            return sum;
        });
        Assert.That(total, Is.Zero, "bytes allocated by 500 scrapes");
    }
}
