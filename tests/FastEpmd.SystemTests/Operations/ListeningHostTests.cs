// Which addresses are served: -loopback_only, and hosts without IPv6 (an IPv4-only network
// namespace the test creates), where OTP 27/29 regressed with ERL_EPMD_ADDRESS=127.0.0.1 (#11402).
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FastEpmd.SystemTests.Operations;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class ListeningHostTests
{
    private static bool Connects(string address, int port)
    {
        using var s = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            s.Connect(new IPEndPoint(IPAddress.Parse(address), port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [Test]
    public void LoopbackOnlyServesOnly127001AndIpv6LoopbackAndSaysSo()
    {
        using var all = DaemonProcess.StartFastEpmd();
        Assert.That(Connects("127.0.0.2", all.Port), Is.True, "default: every interface, 127.0.0.2 included");

        using var d = DaemonProcess.StartFastEpmd("-loopback_only");
        // The line is written right after listen(); stderr is captured asynchronously.
        var sw = Stopwatch.StartNew();
        while (!d.Stderr.Contains('\n') && sw.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(10);
        Assert.That(d.Stderr, Does.StartWith($"fastepmd: serving 127.0.0.1:{d.Port}, [::1]:{d.Port} (table "));
        Assert.That(Connects("127.0.0.1", d.Port), Is.True);
        Assert.That(Connects("::1", d.Port), Is.True);
        Assert.That(Connects("127.0.0.2", d.Port), Is.False, "127.0.0.2 is not 127.0.0.1");
    }

    private static bool IsRoot() => File.ReadAllText("/proc/self/status").Contains("Uid:\t0\t");

    private static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(15000)) { p.Kill(); Assert.Fail($"{file} {string.Join(' ', args)} hung"); }
        Assert.That(p.ExitCode, Is.EqualTo(0), $"{file} {string.Join(' ', args)}: {stderr.Result}");
        return stdout.Result;
    }

    // NAMES over 127.0.0.1 from inside the namespace; prints the reply's hex.
    private const string NamesClient = """
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"\x00\x01n")
data = b""
while True:
    d = s.recv(4096)
    if not d: break
    data += d
print(data.hex())
""";

    [TestCase(new string[0], null)]
    [TestCase(new[] { "-address", "127.0.0.1" }, null)]
    [TestCase(new string[0], "127.0.0.1")]
    public void HostWithoutIpv6IsServed(string[] args, string? erlEpmdAddress)
    {
        if (!IsRoot()) Assert.Ignore("needs root to create a network namespace");
        string ns = $"fe-v4only-{Environment.ProcessId}-{Guid.NewGuid():N}"[..24];
        Run("ip", "netns", "add", ns);
        Process? daemon = null;
        try
        {
            Run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
            Run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1");
            Run("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
            int port = 4369;   // a fresh namespace: the real default port is free there
            var psi = new ProcessStartInfo("ip") { RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "netns", "exec", ns, Binaries.FastEpmd }.Concat(args)) psi.ArgumentList.Add(a);
            EpmdEnvironment.Apply(psi, erlEpmdAddress is null ? null : new Dictionary<string, string?> { ["ERL_EPMD_ADDRESS"] = erlEpmdAddress });
            daemon = Process.Start(psi)!;
            var stderr = daemon.StandardError.ReadToEndAsync();
            string reply = "";
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(10) && !daemon.HasExited)
            {
                var psiClient = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var a in new[] { "netns", "exec", ns, "python3", "-c", NamesClient, port.ToString() }) psiClient.ArgumentList.Add(a);
                using var client = Process.Start(psiClient)!;
                reply = client.StandardOutput.ReadToEnd().Trim();
                client.WaitForExit(5000);
                if (client.ExitCode == 0) break;
                Thread.Sleep(100);
            }
            Assert.That(daemon.HasExited, Is.False, "the daemon must not die on an IPv4-only host: " + (daemon.HasExited ? stderr.Result : ""));
            Assert.That(reply, Is.EqualTo("00001111"), "NAMES answered on 127.0.0.1 with the configured port 4369");
        }
        finally
        {
            if (daemon is { HasExited: false }) daemon.Kill();
            daemon?.WaitForExit(5000);
            daemon?.Dispose();
            Run("ip", "netns", "delete", ns);
        }
    }
}
