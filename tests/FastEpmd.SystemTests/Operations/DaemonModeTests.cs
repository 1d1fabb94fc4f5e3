// -daemon: detaches, returns once listening, exits 0 as OTP (even when the port is taken).
namespace FastEpmd.SystemTests.Operations;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class DaemonModeTests
{
    /// <summary>The detached daemon serving this port: the process running binary with ERL_EPMD_PORT or -port = port.</summary>
    internal static int? FindDaemon(string binary, int port)
    {
        // /proc/PID/exe is the real file: resolve symlinks (/usr/bin/epmd -> erts-*/bin/epmd).
        var target = new FileInfo(binary).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(binary);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                var exe = new FileInfo(Path.Combine(dir, "exe")).LinkTarget;
                if (exe is null || Path.GetFullPath(exe) != target) continue;
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                var environ = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                bool portMatches = environ.Contains($"ERL_EPMD_PORT={port}") ||
                    cmdline.Zip(cmdline.Skip(1)).Any(p => p.First == "-port" && p.Second == port.ToString());
                if (portMatches && cmdline.Contains("-daemon")) return pid;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return null;
    }

    internal static void KillDaemon(int port)
    {
        using var c = RawEpmdClient.Connect(port);
        c.Send(Requests.Kill);
        Assert.That(c.ReadToEnd().Data, Is.EqualTo("OK"u8.ToArray()));
    }

    [Test]
    public void DetachesAndIsListeningWhenTheParentReturns()
    {
        int port = Ports.Free();
        var run = CliRun.Run(Binaries.FastEpmd, new[] { "-port", port.ToString(), "-daemon" });
        int? pid = FindDaemon(Binaries.FastEpmd, port);
        try
        {
            Assert.That(run.ExitCode, Is.EqualTo(0));
            Assert.That(run.StdoutText + run.StderrText, Is.Empty, "a daemon prints nothing on the terminal");
            Assert.That(pid, Is.Not.Null, "the detached daemon is running");
            // Already listening: no retry loop here.
            using (var c = RawEpmdClient.Connect(port))
            {
                c.Send(Requests.Names);
                Assert.That(c.ReadToEnd().Data, Is.EqualTo(Hex.Parse($"00 00 {port >> 8:x2} {port & 0xff:x2}")));
            }
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            int ppid = int.Parse(fields[1]), session = int.Parse(fields[3]);
            Assert.That(session, Is.EqualTo(pid), "session leader (setsid)");
            Assert.That(ppid, Is.Not.EqualTo(Environment.ProcessId));
            Assert.That(new FileInfo($"/proc/{pid}/cwd").LinkTarget, Is.EqualTo("/"));
            Assert.That(new FileInfo($"/proc/{pid}/fd/0").LinkTarget, Is.EqualTo("/dev/null"));
            Assert.That(new FileInfo($"/proc/{pid}/fd/2").LinkTarget, Is.EqualTo("/dev/null"));
        }
        finally
        {
            if (pid is { } p)
            {
                try { KillDaemon(port); }
                catch (Exception) { Native.Kill(p, Native.SIGKILL); }
            }
        }
    }

    [TestCase("otp")]
    [TestCase("fastepmd")]
    public void PortInUseStillExitsZero(string which)
    {
        using var holder = DaemonProcess.StartOtp();
        var binary = which == "otp" ? Binaries.Otp : Binaries.FastEpmd;
        try
        {
            var daemon = CliRun.Run(binary, new[] { "-port", holder.Port.ToString(), "-daemon" });
            Assert.That(daemon.ExitCode, Is.EqualTo(0));
            var foreground = CliRun.Run(binary, new[] { "-port", holder.Port.ToString() });
            Assert.That(foreground.ExitCode, Is.EqualTo(0));
            // OTP's parent returns before its detached child binds: while the port stays held,
            // that child must find it busy and exit too.
            var sw = System.Diagnostics.Stopwatch.StartNew();
            while (FindDaemon(binary, holder.Port) is not null && sw.Elapsed < TimeSpan.FromSeconds(5)) Thread.Sleep(50);
            Assert.That(FindDaemon(binary, holder.Port), Is.Null, "no detached daemon left running");
            if (which == "fastepmd")
                Assert.That(foreground.StderrText, Does.Contain($":{holder.Port} is already in use"), "one clear line saying which address and port");
        }
        finally
        {
            // Never leave a detached daemon behind, whatever failed above.
            if (FindDaemon(binary, holder.Port) is int pid) Native.Kill(pid, Native.SIGKILL);
        }
    }
}
