// -metrics against the shipped binary (FASTEPMD_BIN): a real Prometheus scrapes it every second and
// its HTTP API must show what the test did; promtool accepts a scrape; /healthz turns 503 during
// shutdown; -log_format json lines parse.
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace FastEpmd.SystemTests.Metrics;

[Category("Metrics")]
[NonParallelizable]
public class MetricsTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(20);

    internal static string Get(int port, string target, out int status)
    {
        using var c = RawEpmdClient.Connect(port);
        c.Send(Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"));
        var r = c.ReadToEnd();
        Assert.That(r.Closed, Is.True, "the responder closes after one response");
        var text = Encoding.UTF8.GetString(r.Data);
        status = int.Parse(text.Split(' ')[1]);
        return text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
    }

    [Test]
    public void ARealPrometheus_SeesRegistrationsDuplicatesQueriesAndATimeout()
    {
        int metricsPort = Ports.Free();
        using var daemon = DaemonProcess.StartFastEpmd("-metrics", metricsPort.ToString(), "-packet_timeout", "1", "-defer_accept", "0");
        using var prometheus = PrometheusServer.Start(metricsPort);
        var nodes = new List<RawEpmdClient>();
        try
        {
            foreach (var name in new[] { "alpha", "beta", "gamma" })
            {
                var node = daemon.Connect().Send(Requests.Alive(name));
                Assert.That(Hex.Format(node.ReadExactly(6)), Does.StartWith("76 00"), name + " registered");
                nodes.Add(node);
            }
            for (int i = 0; i < 2; i++)
            {
                // A duplicate of a live name: refused, then we close it ourselves (no timeout).
                using var dup = daemon.Connect().Send(Requests.Alive("beta"));
                Assert.That(Hex.Format(dup.ReadExactly(6)), Does.StartWith("76 01"));
            }
            for (int i = 0; i < 5; i++)
                Assert.That(daemon.Request(Requests.PortPlease("alpha")).HexData, Does.StartWith("77 00"));
            Assert.That(daemon.Request(Requests.PortPlease("nobody")).HexData, Is.EqualTo("77 01"));
            Assert.That(daemon.Request(Requests.Names).Data.Length, Is.GreaterThan(4));
            // Half a request, then silence: closed by the packet timeout (1 s + 1).
            using (var silent = daemon.Connect().Send("00"))
                Assert.That(silent.ReadToEnd(TimeSpan.FromSeconds(6)).Closed, Is.True);
            // One node leaves.
            nodes[2].Dispose();
            nodes.RemoveAt(2);

            Assert.That(prometheus.WaitFor("up{job=\"fastepmd\"}", 1, Settle), Is.EqualTo(1), "Prometheus scrapes FastEpmd");
            Assert.That(prometheus.WaitFor("fastepmd_registrations", 2, Settle), Is.EqualTo(2), "nodes held");
            Assert.That(prometheus.WaitFor("fastepmd_registrations_total", 3, Settle), Is.EqualTo(3));
            Assert.That(prometheus.WaitFor("fastepmd_duplicate_refusals_total", 2, Settle), Is.EqualTo(2), "duplicates sent");
            Assert.That(prometheus.WaitFor("fastepmd_requests_total{type=\"alive2\",outcome=\"refused\"}", 2, Settle), Is.EqualTo(2));
            Assert.That(prometheus.WaitFor("fastepmd_requests_total{type=\"port_please2\",outcome=\"ok\"}", 6, Settle), Is.EqualTo(6),
                "found and not found are both answers");
            Assert.That(prometheus.WaitFor("fastepmd_requests_total{type=\"names\",outcome=\"ok\"}", 1, Settle), Is.EqualTo(1));
            Assert.That(prometheus.WaitFor("fastepmd_timeouts_total{kind=\"idle\"}", 1, Settle), Is.EqualTo(1), "the silent client");
            Assert.That(prometheus.WaitFor("fastepmd_connections", 2, Settle), Is.EqualTo(2), "the two registrations");
            Assert.That(prometheus.WaitFor("count(fastepmd_build_info == 1)", 1, Settle), Is.EqualTo(1));
            double start = prometheus.Value("process_start_time_seconds") ?? 0;
            double now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
            Assert.That(start, Is.InRange(now - 120, now));
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
        }
    }

    [Test]
    public void PromtoolCheckMetrics_AcceptsAScrape()
    {
        int metricsPort = Ports.Free();
        using var daemon = DaemonProcess.StartFastEpmd("-metrics", "127.0.0.1:" + metricsPort);
        using var node = daemon.Connect().Send(Requests.Alive("alpha"));
        node.ReadExactly(6);
        daemon.Request(Requests.PortPlease("alpha"));
        string body = Get(metricsPort, "/metrics", out int status);
        Assert.That(status, Is.EqualTo(200));
        var psi = new ProcessStartInfo("promtool", "check metrics")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var promtool = Process.Start(psi)!;
        promtool.StandardInput.Write(body);
        promtool.StandardInput.Close();
        string output = promtool.StandardOutput.ReadToEnd() + promtool.StandardError.ReadToEnd();
        Assert.That(promtool.WaitForExit(30_000), Is.True);
        // promtool exits 0 on a clean exposition and prints nothing; lint findings exit 3.
        Assert.That(promtool.ExitCode, Is.Zero, output);
        Assert.That(output.Trim(), Is.Empty);
    }

    [Test]
    public void Healthz_Is200WhileServing_And503OnceTheEpmdListenersCloseAtShutdown()
    {
        int metricsPort = Ports.Free();
        using var daemon = DaemonProcess.StartFastEpmd("-metrics", metricsPort.ToString());
        Assert.That(Get(metricsPort, "/healthz", out int status), Is.EqualTo("ok\n"));
        Assert.That(status, Is.EqualTo(200));
        Get(metricsPort, "/nothing", out status);
        Assert.That(status, Is.EqualTo(404));

        using var probe = RawEpmdClient.Connect(metricsPort);
        probe.Send(Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\n"));
        Thread.Sleep(200);   // accepted and waiting for the rest
        daemon.Signal(Native.SIGTERM);
        // The epmd listeners close first; the metrics listener answers through the drain.
        var watch = Stopwatch.StartNew();
        bool refused = false;
        while (!refused && watch.ElapsedMilliseconds < 80)
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                s.Connect("127.0.0.1", daemon.Port);
            }
            catch (SocketException)
            {
                refused = true;
            }
        }
        Assert.That(refused, Is.True, "the epmd listener closed within 80 ms of SIGTERM");
        probe.Send(Encoding.ASCII.GetBytes("\r\n"));
        var text = Encoding.ASCII.GetString(probe.ReadToEnd().Data);
        Assert.That(text, Does.StartWith("HTTP/1.1 503 Service Unavailable\r\n"));
        Assert.That(daemon.WaitExit(TimeSpan.FromSeconds(5)), Is.Zero);
    }

    [Test]
    public void LogFormatJson_EveryStderrLineParses()
    {
        int metricsPort = Ports.Free();
        using var daemon = DaemonProcess.StartFastEpmd("-d", "-d", "-log_format", "json", "-metrics", metricsPort.ToString());
        using (var node = daemon.Connect().Send(Requests.Alive("alpha")))
        {
            node.ReadExactly(6);
            using var dup = daemon.Connect().Send(Requests.Alive("alpha"));
            dup.ReadExactly(6);
            daemon.Request(Requests.PortPlease("alpha"));
            daemon.Request(Requests.Names);
            Get(metricsPort, "/metrics", out _);
        }
        Thread.Sleep(200);
        daemon.Signal(Native.SIGTERM);
        Assert.That(daemon.WaitExit(TimeSpan.FromSeconds(5)), Is.Zero);
        var lines = daemon.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines.Length, Is.GreaterThan(8));
        var events = new List<string>();
        foreach (var line in lines)
        {
            JsonElement root;
            try
            {
                root = JsonDocument.Parse(line).RootElement;
            }
            catch (JsonException e)
            {
                Assert.Fail($"not JSON: {line} ({e.Message})");
                return;
            }
            Assert.That(root.GetProperty("time").GetString(), Does.EndWith("Z"));
            Assert.That(root.GetProperty("level").GetString(), Is.AnyOf("error", "info", "debug"));
            events.Add(root.GetProperty("event").GetString()!);
            if (root.TryGetProperty("name", out var name)) Assert.That(name.GetString(), Is.EqualTo("alpha"));
        }
        Assert.That(events, Does.Contain("node name already occupied"));
        Assert.That(events, Has.Some.StartsWith("fastepmd: serving"));
    }

    // systemd's exec step with two sockets: fd 3 epmd, fd 4 named "metrics" in LISTEN_FDNAMES.
    private const string TwoSocketLauncher = """
import fcntl, os, socket, sys
# Both sockets first, each moved above 10, so neither dup2 onto 3 or 4 closes the other.
high = []
for port in sys.argv[1:3]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(port)))
    s.listen(128)
    high.append(fcntl.fcntl(s.detach(), fcntl.F_DUPFD, 10))
for i, fd in enumerate(high):
    os.dup2(fd, 3 + i)
    os.set_inheritable(3 + i, True)
os.environ["LISTEN_FDS"] = "2"
os.environ["LISTEN_FDNAMES"] = "epmd:metrics"
os.environ["LISTEN_PID"] = str(os.getpid())
os.execv(sys.argv[3], sys.argv[3:])
""";

    [Test]
    public void UnderSystemd_TheFdNamedMetrics_IsTheMetricsListener_AndNotAnEpmdOne()
    {
        int epmdPort = Ports.Free(), metricsPort = Ports.Free();
        var psi = new ProcessStartInfo("python3") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-c", TwoSocketLauncher, epmdPort.ToString(), metricsPort.ToString(), Binaries.FastEpmd, "-systemd" })
            psi.ArgumentList.Add(a);
        EpmdEnvironment.Apply(psi, null);
        using var process = Process.Start(psi)!;
        process.BeginErrorReadLine();
        try
        {
            using (var node = RawEpmdClient.Connect(epmdPort))
            {
                node.Send(Requests.Alive("sysd"));
                Assert.That(Hex.Format(node.ReadExactly(6)), Does.StartWith("76 00"));
                string body = Get(metricsPort, "/metrics", out int status);
                Assert.That(status, Is.EqualTo(200));
                Assert.That(body, Does.Contain("\nfastepmd_registrations 1\n"));
            }
            // The metrics socket does not speak epmd: a NAMES request there is a bad HTTP request.
            using var wrong = RawEpmdClient.Connect(metricsPort).Send(Requests.Names);
            Assert.That(Encoding.ASCII.GetString(wrong.ReadToEnd().Data), Does.StartWith("HTTP/1.1 400 "));
        }
        finally
        {
            if (!process.HasExited) process.Kill();
            process.WaitForExit(5000);
        }
    }
}
