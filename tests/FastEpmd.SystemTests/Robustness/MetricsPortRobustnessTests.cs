// The metrics port under attack: malformed requests, a slow-loris, and a flood. None of it may cost
// an epmd client its service or a node its registration; afterwards a scrape still works.
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using FastEpmd.SystemTests.Metrics;

namespace FastEpmd.SystemTests.Robustness;

[NonParallelizable]
public class MetricsPortRobustnessTests : RobustnessFixture
{
    private const int Seed = 9100;
    private const int Nodes = 20;

    private (DaemonProcess Daemon, int MetricsPort, List<Socket> Nodes) StartWithNodes()
    {
        int metricsPort = Ports.Free();
        var daemon = StartFastEpmd("-metrics", metricsPort.ToString());
        var nodes = Track(new List<Socket>());
        for (int i = 0; i < Nodes; i++) nodes.Add(RawEpmdClient.RegisterOk(daemon.Port, "node" + i, 5000 + i, out _));
        return (daemon, metricsPort, nodes);
    }

    private static void AssertEpmdServedAndNodesIntact(DaemonProcess daemon, List<Socket> nodes)
    {
        var watch = Stopwatch.StartNew();
        var lookup = RawEpmdClient.Query(daemon.Port, Requests.PortPlease("node7"));
        Assert.That(lookup.Data, Is.EqualTo(Replies.Port2Found("node7", 5007)));
        Assert.That(watch.ElapsedMilliseconds, Is.LessThan(1000), "PORT_PLEASE2 answered promptly");
        var names = Replies.NamesLines(RawEpmdClient.Query(daemon.Port, Requests.Names).Data, daemon.Port);
        Assert.That(names, Has.Length.EqualTo(Nodes), "every registration intact");
        foreach (var node in nodes) Assert.That(RawEpmdClient.ClosedByPeer(node), Is.False, "a node's connection was closed");
        Assert.That(daemon.HasExited, Is.False);
    }

    private static void AssertScrapeWorks(int metricsPort)
    {
        string body = MetricsTests.Get(metricsPort, "/metrics", out int status);
        Assert.That(status, Is.EqualTo(200));
        Assert.That(body, Does.Contain($"\nfastepmd_registrations {Nodes}\n"));
    }

    [Test]
    public void MalformedRequests_GetACloseOrA400_AndEpmdKeepsServing()
    {
        var (daemon, metricsPort, nodes) = StartWithNodes();
        var random = new Random(Seed);
        var valid = Encoding.ASCII.GetBytes("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        int answered = 0, closed = 0;
        for (int i = 0; i < 300; i++)
        {
            byte[] request;
            switch (i % 3)
            {
                case 0:
                    request = new byte[random.Next(1, 2048)];
                    random.NextBytes(request);
                    break;
                case 1:
                    request = (byte[])valid.Clone();
                    for (int m = 0; m < 1 + random.Next(4); m++) request[random.Next(request.Length)] = (byte)random.Next(256);
                    break;
                default:
                    request = valid[..random.Next(1, valid.Length)].Concat(new byte[] { 0, (byte)random.Next(256) }).ToArray();
                    break;
            }
            using var s = RawEpmdClient.OpenSocket(metricsPort);
            try
            {
                s.Send(request);
                s.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                closed++;
                continue;
            }
            var r = RawEpmdClient.ReadToEnd(s, 6000);
            Assert.That(r.Closed || r.Reset, Is.True, $"request {i} left open: {Hex.Format(request)}");
            var text = Encoding.ASCII.GetString(r.Data);
            if (r.Data.Length == 0) closed++;
            else
            {
                Assert.That(text, Does.Match(@"^HTTP/1\.1 (200|400|404) "), $"request {i}");
                answered++;
            }
        }
        TestContext.Out.WriteLine($"malformed: {answered} answered, {closed} closed without a reply");
        Assert.That(answered, Is.GreaterThan(0));
        AssertEpmdServedAndNodesIntact(daemon, nodes);
        AssertScrapeWorks(metricsPort);
    }

    [Test]
    public void ASlowLoris_IsClosedAtTheDeadline_AndEpmdKeepsServing()
    {
        var (daemon, metricsPort, nodes) = StartWithNodes();
        var loris = Track(new List<Socket>());
        for (int i = 0; i < 8; i++)
        {
            var s = RawEpmdClient.OpenSocket(metricsPort);
            s.Send("GET /metrics HTTP/1.1\r\n"u8.ToArray());
            loris.Add(s);
        }
        // One header byte every 250 ms: each byte is progress, but the whole exchange has 5 s.
        var watch = Stopwatch.StartNew();
        var open = new HashSet<Socket>(loris);
        while (open.Count > 0 && watch.Elapsed < TimeSpan.FromSeconds(9))
        {
            foreach (var s in open.ToList())
            {
                try
                {
                    s.Send("X"u8.ToArray());
                }
                catch (SocketException)
                {
                    open.Remove(s);
                    continue;
                }
                if (RawEpmdClient.ClosedByPeer(s)) open.Remove(s);
            }
            AssertEpmdServedAndNodesIntact(daemon, nodes);
            Thread.Sleep(250);
        }
        Assert.That(open, Is.Empty, "every slow-loris closed");
        Assert.That(watch.Elapsed, Is.InRange(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8)), "closed at the 5 s deadline");
        AssertScrapeWorks(metricsPort);
        string body = MetricsTests.Get(metricsPort, "/metrics", out _);
        Assert.That(body, Does.Contain("fastepmd_metrics_connections_closed_total{reason=\"deadline\"} 8\n"));
    }

    [Test]
    public void AFlood_OnlyCostsTheMetricsPort_AndEpmdKeepsServing()
    {
        var (daemon, metricsPort, nodes) = StartWithNodes();
        // Connections that send nothing, from several loopback sources, held open.
        var flood = Track(new List<Socket>());
        for (int i = 0; i < 2000; i++)
        {
            try
            {
                flood.Add(RawEpmdClient.OpenSocket(metricsPort, source: RawEpmdClient.FloodSource(i)));
            }
            catch (SocketException)
            {
                break;
            }
        }
        Assert.That(flood, Has.Count.EqualTo(2000));
        AssertEpmdServedAndNodesIntact(daemon, nodes);
        AssertScrapeWorks(metricsPort);
        string body = MetricsTests.Get(metricsPort, "/metrics", out _);
        // The flood took no epmd slot: the nodes and this scrape's own query are all there is.
        Assert.That(body, Does.Contain($"\nfastepmd_connections {Nodes}\n"));
        Assert.That(body, Does.Match(@"fastepmd_metrics_connections_closed_total\{reason=""table_full""\} [1-9]"));
    }
}
