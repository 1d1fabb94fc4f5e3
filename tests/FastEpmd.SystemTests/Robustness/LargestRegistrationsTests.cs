// 19,000 registrations of the largest legal size (a 255-code-point name of 1,020 bytes and a
// 1,020-byte extra), each on its own connection, held at once by the NativeAOT binary under
// `ulimit -n 20000` (a 19,936-slot table). The nodes are a python helper under prlimit (the test
// process has too few descriptors). NAMES and DUMP list every one in OTP's line formats, the
// daemon lives, and the managed heap does not grow with the registrations (they live in native
// memory). Before the registry moved out of the GC heap, registration 14,560 killed the daemon
// with SIGSEGV (the GC committing a region past its hard limit).
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace FastEpmd.SystemTests.Robustness;

[NonParallelizable]
public class LargestRegistrationsTests
{
    private const int Nodes = 19_000;
    private const long MiB = 1024 * 1024;

    private static string Helper => Path.Combine(Binaries.RepoRoot, "tests", "FastEpmd.SystemTests", "Robustness", "nodes", "hold_largest.py");

    /// <summary>The name hold_largest.py gives node i (three base-1024 digits, then 252 x U+1F600).</summary>
    private static string NameOf(int i)
    {
        var b = new StringBuilder();
        foreach (int digit in new[] { (i >> 20) % 1024, (i >> 10) % 1024, i % 1024 }) b.Append(char.ConvertFromUtf32(0x10000 + digit));
        for (int k = 0; k < 252; k++) b.Append(char.ConvertFromUtf32(0x1F600));
        return b.ToString();
    }

    [Test]
    public void Nineteen_thousand_largest_registrations_are_held_listed_and_dumped_without_growing_the_managed_heap()
    {
        var total = Stopwatch.StartNew();
        int port = Ports.Free(), metricsPort = Ports.Free();
        var command = $"ulimit -n 20000 && exec '{Binaries.FastEpmd}' -port {port} -metrics 127.0.0.1:{metricsPort}";
        using var daemon = DaemonProcess.Start("/bin/bash", new[] { "-c", command }, null, port: port);
        Metrics.WaitForMetrics(metricsPort, daemon);
        long idleRss = ProcessStats.RssBytes(daemon.Pid), idleVm = Status(daemon.Pid, "VmSize");
        long idleHeap = Metrics.Gauge(metricsPort, "fastepmd_managed_heap_bytes");

        var psi = new ProcessStartInfo("prlimit", new[] { "--nofile=20000:20000", "python3", Helper, port.ToString(CultureInfo.InvariantCulture), Nodes.ToString(CultureInfo.InvariantCulture) })
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var helper = Process.Start(psi)!;
        try
        {
            string? result = null;
            var lines = new List<string>();
            var read = Task.Run(() =>
            {
                for (string? line; (line = helper.StandardOutput.ReadLine()) != null;)
                {
                    lines.Add(line);
                    if (line.StartsWith("registered ", StringComparison.Ordinal)) return line;
                }
                return null;
            });
            if (read.Wait(TimeSpan.FromSeconds(45))) result = read.Result;
            Assert.That(result, Is.EqualTo($"registered {Nodes} refused 0 closed 0"),
                $"helper: {string.Join(" | ", lines.TakeLast(3))} {(helper.HasExited ? helper.StandardError.ReadToEnd() : "")}; daemon exited={daemon.HasExited} {daemon.Stderr}");
            TestContext.Out.WriteLine($"{Nodes} registrations in {total.Elapsed.TotalSeconds:F1} s");

            long heldRss = ProcessStats.RssBytes(daemon.Pid), heldVm = Status(daemon.Pid, "VmSize");
            long heldHeap = Metrics.Gauge(metricsPort, "fastepmd_managed_heap_bytes");

            var expected = Enumerable.Range(0, Nodes).Select(NameOf).ToHashSet();
            var names = daemon.Request(Requests.Names, TimeSpan.FromSeconds(20));
            Assert.That(names.Closed, Is.True, "NAMES complete: the daemon closed after the reply");
            Assert.That(names.Data.Take(4), Is.EqualTo(new byte[] { 0, 0, (byte)(port >> 8), (byte)port }));
            var namesLines = Lines(names.Data, "\n");
            var namesRe = new Regex(@"^name (.+) at port (\d+)$");
            Assert.That(namesLines, Has.Count.EqualTo(Nodes));
            Assert.That(namesLines.Select(l => namesRe.Match(l)).Where(m => m.Success && expected.Contains(m.Groups[1].Value)).Select(m => m.Groups[1].Value).Distinct().Count(),
                Is.EqualTo(Nodes), "every node listed once, as OTP's `name NAME at port P`");

            var dump = daemon.Request(Requests.Dump, TimeSpan.FromSeconds(20));
            Assert.That(dump.Closed, Is.True, "DUMP complete");
            var dumpLines = Lines(dump.Data, "\n\0");
            var dumpRe = new Regex(@"^active name     <(.+)> at port (\d+), fd = (\d+)$");
            Assert.That(dumpLines, Has.Count.EqualTo(Nodes));
            Assert.That(dumpLines.Select(l => dumpRe.Match(l)).Where(m => m.Success && expected.Contains(m.Groups[1].Value)).Select(m => m.Groups[1].Value).Distinct().Count(),
                Is.EqualTo(Nodes), "every node dumped once, as OTP's `active name     <NAME> at port P, fd = F\\n\\0`");

            Assert.That(daemon.HasExited, Is.False, daemon.Stderr);
            string figures = $"idle: RSS {ProcessStats.MB(idleRss)}, VmSize {ProcessStats.MB(idleVm)}, managed heap {ProcessStats.MB(idleHeap)}; " +
                $"{Nodes} largest nodes: RSS {ProcessStats.MB(heldRss)}, VmSize {ProcessStats.MB(heldVm)}, managed heap {ProcessStats.MB(heldHeap)}; " +
                $"NAMES {names.Data.Length} B, DUMP {dump.Data.Length} B; {total.Elapsed.TotalSeconds:F1} s";
            TestContext.Out.WriteLine(figures);
            Assert.That(idleHeap, Is.GreaterThan(0), "fastepmd_managed_heap_bytes in /metrics");
            // The names and extras alone are 19,000 x 2 KiB = 37 MiB: a heap that held them would show it.
            Assert.That(heldHeap - idleHeap, Is.LessThan(2 * MiB), "the managed heap grew with the registrations: " + figures);
            Assert.That(heldVm, Is.LessThan(idleVm + 64 * MiB), "address space: " + figures);
        }
        finally
        {
            try { helper.StandardInput.Close(); } catch (IOException) { }
            if (!helper.WaitForExit(20_000)) helper.Kill(entireProcessTree: true);
        }
    }

    private static List<string> Lines(byte[] reply, string terminator)
    {
        string text = Encoding.UTF8.GetString(reply, 4, reply.Length - 4);
        Assert.That(text, Does.EndWith(terminator), "the reply ends with a whole line");
        return text[..^terminator.Length].Split(terminator).ToList();
    }

    private static long Status(int pid, string field)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException($"no {field} for pid {pid}");
    }

    /// <summary>One gauge from the daemon's own /metrics.</summary>
    private static class Metrics
    {
        public static void WaitForMetrics(int port, DaemonProcess daemon)
        {
            var sw = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    Scrape(port);
                    return;
                }
                catch (SocketException) when (sw.Elapsed < TimeSpan.FromSeconds(10) && !daemon.HasExited)
                {
                    Thread.Sleep(20);
                }
            }
        }

        /// <summary>The gauge's value, or -1 when /metrics lacks it (asserted last, so an older binary fails on what it does).</summary>
        public static long Gauge(int port, string name)
        {
            var m = Regex.Match(Scrape(port), "^" + name + @" (\d+)$", RegexOptions.Multiline);
            return m.Success ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : -1;
        }

        private static string Scrape(int port)
        {
            using var s = new Socket(SocketType.Stream, ProtocolType.Tcp);
            s.Connect("127.0.0.1", port);
            s.Send(Encoding.ASCII.GetBytes("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
            s.ReceiveTimeout = 5000;
            var all = new MemoryStream();
            var buffer = new byte[65536];
            for (int n; (n = s.Receive(buffer)) > 0;) all.Write(buffer, 0, n);
            return Encoding.ASCII.GetString(all.ToArray());
        }
    }
}
