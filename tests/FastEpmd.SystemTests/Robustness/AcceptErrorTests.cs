// accept4 failing on a listener, injected by a seccomp filter (native/accept_fault.c) on fd 3 of
// two systemd listeners. A persistent error pauses that listener with backoff: no spin, one log
// line a second, and fd 4 keeps serving. "Not a listener" errors exit 1 with OTP's line.
using System.Diagnostics;
using System.Net.Sockets;

namespace FastEpmd.SystemTests.Robustness;

[NonParallelizable]
public class AcceptErrorTests
{
    // Linux x86-64 errno values, passed to the filter.
    private const int EBADF = 9, ENOMEM = 12, EACCES = 13, EINVAL = 22, EPROTO = 71, ENOTSOCK = 88, EOPNOTSUPP = 95, ENOBUFS = 105;
    private const double WindowSeconds = 3.0;

    private string _launcher = "";

    [OneTimeSetUp]
    public void CompileLauncher()
    {
        var source = Path.Combine(Binaries.RepoRoot, "tests", "FastEpmd.SystemTests", "Robustness", "native", "accept_fault.c");
        _launcher = Path.Combine(Path.GetTempPath(), $"fe-accept-fault-{Environment.ProcessId}");
        var cc = Process.Start(new ProcessStartInfo("cc", $"-O2 -Wall -Wextra -Werror -o {_launcher} {source}")
        {
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var errors = cc.StandardError.ReadToEnd();
        Assert.That(cc.WaitForExit(60_000) && cc.ExitCode == 0, Is.True, "cc accept_fault.c: " + errors);
    }

    [OneTimeTearDown]
    public void RemoveLauncher() => File.Delete(_launcher);

    /// <summary>fault: an errno, or "errno:seconds" for a fault that clears after that long.</summary>
    private DaemonProcess Start(string binary, object fault, out int faultyPort)
    {
        faultyPort = Ports.Free();
        int goodPort = Ports.Free();
        var args = new[] { fault.ToString()!, faultyPort.ToString(), goodPort.ToString(), binary, "-systemd" };
        var daemon = DaemonProcess.Start(_launcher, args, null, port: goodPort, waitForListen: false);
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(10) && !daemon.HasExited)
        {
            // Serving means answering: the listening socket exists before the daemon runs.
            try
            {
                if (daemon.Request("00 01 6e", TimeSpan.FromSeconds(2)).Data.Length == 4) return daemon;
            }
            catch (SocketException)
            {
            }
            Thread.Sleep(20);
        }
        var stderr = daemon.Stderr;
        daemon.Dispose();
        throw new InvalidOperationException($"{binary} did not serve under accept_fault: {stderr}");
    }

    private static int Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

    [TestCase(EPROTO)]
    [TestCase(EACCES)]
    [TestCase(EOPNOTSUPP)]
    [TestCase(ENOMEM)]
    [TestCase(ENOBUFS)]
    public void PersistentErrorPausesTheListenerWithoutSpinningOrFlooding(int errno)
    {
        using var daemon = Start(Binaries.FastEpmd, errno, out int faultyPort);
        // Queued connections keep the faulty listener readable: the error repeats on every accept4.
        var queued = new List<RawEpmdClient>();
        try
        {
            for (int i = 0; i < 4; i++) queued.Add(RawEpmdClient.Connect(faultyPort));
            Thread.Sleep(100);
            int linesBefore = Lines(daemon.Stderr);
            int answered = 0;
            double cpu = ProcessStats.CpuShareDuring(daemon.Pid, () =>
            {
                var sw = Stopwatch.StartNew();
                while (sw.Elapsed.TotalSeconds < WindowSeconds)
                {
                    if (daemon.Request("00 01 6e", TimeSpan.FromSeconds(2)).HexData == "00 00 11 11") answered++;
                    Thread.Sleep(250);
                }
            });
            int logged = Lines(daemon.Stderr) - linesBefore;
            TestContext.Out.WriteLine($"errno {errno}: CPU {cpu:P1} over {WindowSeconds} s, {logged} log lines, {answered} NAMES answered; stderr:\n{Head(daemon.Stderr)}");
            Assert.Multiple(() =>
            {
                Assert.That(daemon.HasExited, Is.False, "the daemon keeps running");
                Assert.That(cpu, Is.LessThan(0.05), "CPU share while accept4 keeps failing");
                Assert.That(logged, Is.InRange(1, (int)WindowSeconds + 1), "about one log line a second");
                Assert.That(daemon.Stderr, Does.Contain("error in accept"));
                Assert.That(answered, Is.GreaterThanOrEqualTo(10), "the other listener serves throughout");
            });
        }
        finally
        {
            foreach (var c in queued) c.Dispose();
        }
    }

    [Test]
    public void ListenerServesAgainOnceTheErrorClears()
    {
        const double clearsAfter = 2.0;
        using var daemon = Start(Binaries.FastEpmd, $"{EPROTO}:{clearsAfter}", out int faultyPort);
        var sw = Stopwatch.StartNew();
        long ticksBefore = ProcessStats.CpuTicks(daemon.Pid);
        using var early = RawEpmdClient.Connect(faultyPort);
        early.Send(Requests.Names);
        // Queued behind the failing accept4 until the fault clears, then served within the
        // backoff's longest pause (1 s) plus scheduling slack.
        var reply = early.ReadToEnd(TimeSpan.FromSeconds(clearsAfter + 3));
        double servedAt = sw.Elapsed.TotalSeconds;
        double cpu = (ProcessStats.CpuTicks(daemon.Pid) - ticksBefore) / ProcessStats.TicksPerSecond / servedAt;
        TestContext.Out.WriteLine($"queued NAMES answered after {servedAt:F2} s (fault cleared at {clearsAfter} s), CPU {cpu:P1}; stderr:\n{Head(daemon.Stderr)}");
        Assert.That(cpu, Is.LessThan(0.05), "CPU share while the fault lasted");
        Assert.That(reply.HexData, Is.EqualTo("00 00 11 11"));
        Assert.That(servedAt, Is.GreaterThanOrEqualTo(clearsAfter - 0.1), "not served while accept4 failed");
        Assert.That(servedAt, Is.LessThan(clearsAfter + 1.0 + 1.0));
        // A success resets the backoff: the next connection is served at once.
        var next = Stopwatch.StartNew();
        using var later = RawEpmdClient.Connect(faultyPort);
        later.Send(Requests.Names);
        Assert.That(later.ReadToEnd(TimeSpan.FromSeconds(2)).HexData, Is.EqualTo("00 00 11 11"));
        Assert.That(next.Elapsed.TotalSeconds, Is.LessThan(0.5));
        Assert.That(daemon.Stderr, Does.Contain("error in accept: Protocol error"));
    }

    [TestCase(EINVAL, "Invalid argument")]
    [TestCase(ENOTSOCK, "Socket operation on non-socket")]
    [TestCase(EBADF, "Bad file descriptor")]
    public void NotAListenerExitsOneWithOtpsLine(int errno, string strerror)
    {
        foreach (var binary in new[] { Binaries.Otp, Binaries.FastEpmd })
        {
            using var daemon = Start(binary, errno, out int faultyPort);
            using (RawEpmdClient.Connect(faultyPort))
            {
                Assert.That(daemon.WaitExit(TimeSpan.FromSeconds(5)), Is.EqualTo(1), $"{binary}: {Head(daemon.Stderr)}");
            }
            var lines = daemon.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.That(lines, Has.Length.LessThanOrEqualTo(2), binary);
            Assert.That(lines[^1], Does.Match(@"^epmd: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}: error in accept: " + strerror + "\r?$"), binary);
        }
    }

    private static string Head(string s) => s.Length <= 600 ? s : s[..600] + "...";
}
