// The daemon's address space: an idle VmSize of at most 128 MiB (the .NET GC alone used to reserve
// twice the machine's RAM), serving under `ulimit -v 131072`, one line and exit 1 when memory is
// too short to start, and a million-slot table in at most 256 MiB of VmData.
using System.Globalization;

namespace FastEpmd.SystemTests.Robustness;

[NonParallelizable]
public class AddressSpaceTests
{
    private const long MiB = 1024 * 1024;

    private static long StatusBytes(int pid, string field)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (!line.StartsWith(field + ":", StringComparison.Ordinal)) continue;
            var kb = line[(field.Length + 1)..].Trim().Split(' ')[0];
            return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException($"no {field} for pid {pid}");
    }

    /// <summary>The daemon under bash's `ulimit` settings, exec'd so the PID is the daemon's.</summary>
    private static DaemonProcess StartUnder(string limits, bool waitForListen, string args)
    {
        int port = Ports.Free();
        var command = $"{limits} && exec '{Binaries.FastEpmd}' -port {port} {args}";
        return DaemonProcess.Start("/bin/bash", new[] { "-c", command }, null, port: port, waitForListen: waitForListen);
    }

    private static void AssertServes(DaemonProcess daemon)
    {
        using var node = daemon.Connect();
        node.Send(Requests.Alive("vmtest", port: 4242, hi: 6, lo: 5));
        Assert.That(Hex.Format(node.ReadExactly(2)), Is.EqualTo("76 00"), "ALIVE2_X_RESP, result 0");
        var names = daemon.Request(Requests.Names);
        Assert.That(names.Data.Skip(4).ToArray(), Is.EqualTo(Hex.Ascii("name vmtest at port 4242\n")));
    }

    [Test]
    public void IdleVmSizeIsAtMost128MiB()
    {
        using var daemon = DaemonProcess.StartFastEpmd();
        AssertServes(daemon);
        long vmSize = StatusBytes(daemon.Pid, "VmSize");
        TestContext.Out.WriteLine($"idle VmSize {ProcessStats.MB(vmSize)}, VmData {ProcessStats.MB(StatusBytes(daemon.Pid, "VmData"))}; {daemon.Stderr.Trim()}");
        Assert.That(vmSize, Is.LessThanOrEqualTo(128 * MiB));
    }

    // The default table, and a small one: both must fit, with room to serve.
    [TestCase("")]
    [TestCase("-max_connections 1024")]
    public void StartsAndServesUnderUlimitV131072(string args)
    {
        using var daemon = StartUnder("ulimit -v 131072", waitForListen: true, args);
        AssertServes(daemon);
        AssertServes(daemon);
        daemon.Signal(Native.SIGTERM);
        Assert.That(daemon.WaitExit(TimeSpan.FromSeconds(5)), Is.EqualTo(0), daemon.Stderr);
    }

    // 20 MB: the runtime itself cannot start. 131072 with a 4,000,000-slot table: the runtime
    // starts, the table does not fit.
    [TestCase("ulimit -v 20000", "", "not enough memory for the runtime")]
    [TestCase("ulimit -v 131072", "-max_connections 4000000", "not enough memory for a table of 4000000 connections")]
    public void TooLittleMemoryToStartPrintsOneLineAndExitsOne(string limits, string args, string reason)
    {
        using var daemon = StartUnder(limits, waitForListen: false, args);
        int? code = daemon.WaitExit(TimeSpan.FromSeconds(10));
        var lines = daemon.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(1), "exit code (134 = SIGABRT, 139 = SIGSEGV, 255 = silent runtime failure): " + daemon.Stderr);
            Assert.That(lines, Has.Length.EqualTo(1), daemon.Stderr);
            Assert.That(daemon.Stderr, Does.Contain("cannot start: " + reason));
        });
    }

    [Test]
    public void MillionSlotTableTakesAtMost256MiBOfVmData()
    {
        // `ulimit -n 1048576` where the host's hard limit allows it (the table then follows the
        // limit only up to 65,536), and -max_connections 1048576 in both cases.
        string limits = "ulimit -n 1048576 2>/dev/null || true";
        using var daemon = StartUnder(limits, waitForListen: true, "-max_connections 1048576");
        AssertServes(daemon);
        long vmData = StatusBytes(daemon.Pid, "VmData");
        TestContext.Out.WriteLine($"1,048,576 slots: VmData {ProcessStats.MB(vmData)}, VmSize {ProcessStats.MB(StatusBytes(daemon.Pid, "VmSize"))}; {daemon.Stderr.Trim()}");
        Assert.That(daemon.Stderr, Does.Contain("(table 1048576 connections)"));
        Assert.That(vmData, Is.LessThanOrEqualTo(256 * MiB));
    }
}
