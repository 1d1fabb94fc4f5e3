// Every struct the C# side shares with libc or the shim, on arm64: the arm64 shim's own layout
// table (fe_struct_layout, compiled by aarch64-linux-gnu-gcc, run under qemu) against the host's,
// and the arm64 NativeAOT binary, which compares that table with its C# layouts (Tmds.LibC's arm64
// assembly) at start and refuses to run on a difference, serving many connections at once through
// epoll, whose event struct is the one that differs (packed on x86-64).
using System.Text.RegularExpressions;

namespace FastEpmd.Arm64Tests;

[TestFixture]
public class Arm64AbiTests
{
    private static string Shim => Path.Combine(Binaries.RepoRoot, "native-shim");

    private static Dictionary<string, int> Table(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => int.Parse(p[1]));

    // Builds Arm64LayoutProbe.c against the shim archive of ARCH (the host's, or arm64 cross-compiled)
    // and prints its rows in order.
    private static string[] ProbeRows(bool arm64)
    {
        var make = CliRun.Run("make", arm64 ? new[] { "-s", "-C", Shim, "ARCH=arm64" } : new[] { "-s", "-C", Shim }, timeout: TimeSpan.FromSeconds(120));
        Assert.That(make.ExitCode, Is.EqualTo(0), make.ToString());
        string exe = Path.Combine(Path.GetTempPath(), $"fe-arm-layout-probe-{Environment.ProcessId}-{(arm64 ? "arm64" : "host")}");
        var cc = CliRun.Run(arm64 ? "aarch64-linux-gnu-gcc" : "cc",
            new[] { "-std=c11", "-Wall", "-Werror", "-I", Path.Combine(Shim, "include"),
                Path.Combine(Binaries.RepoRoot, "tests", "FastEpmd.Arm64Tests", "Arm64LayoutProbe.c"),
                Path.Combine(Shim, "out", arm64 ? "arm64/libfastepmd_shim.a" : "libfastepmd_shim.a"), "-o", exe },
            timeout: TimeSpan.FromSeconds(60));
        Assert.That(cc.ExitCode, Is.EqualTo(0), cc.ToString());
        try
        {
            Assert.That(Arm64Emulation.ElfMachine(exe), Is.EqualTo(arm64 ? Arm64Emulation.EmAarch64 : Arm64Emulation.EmX86_64));
            var run = arm64
                ? CliRun.Run(Arm64Emulation.Qemu, new[] { "-L", Arm64Emulation.Sysroot, exe }, timeout: TimeSpan.FromSeconds(30))
                : CliRun.Run(exe, Array.Empty<string>());
            Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
            return run.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
        finally
        {
            File.Delete(exe);
        }
    }

    [Test]
    public void The_arm64_shim_lays_out_epoll_event_and_stat_as_arm64_does_and_the_rest_as_x86_64()
    {
        var host = ProbeRows(arm64: false);
        var arm = ProbeRows(arm64: true);
        TestContext.Out.WriteLine(string.Join('\n', arm));
        var hostTable = Table(string.Join('\n', host));
        var armTable = Table(string.Join('\n', arm));
        Assert.That(arm.Select(r => r.Split(' ')[0]), Is.EqualTo(host.Select(r => r.Split(' ')[0])), "the same rows in the same order");
        Assert.That(arm, Has.Length.EqualTo(32));
        Assert.That((armTable["epoll_event"], armTable["epoll_event.events"], armTable["epoll_event.data"]), Is.EqualTo((16, 0, 8)), "not packed on arm64");
        Assert.That((hostTable["epoll_event"], hostTable["epoll_event.events"], hostTable["epoll_event.data"]), Is.EqualTo((12, 0, 4)), "packed on x86-64");
        Assert.That((armTable["stat"], armTable["stat.st_mode"], armTable["stat.st_size"]), Is.EqualTo((128, 16, 48)));
        Assert.That((hostTable["stat"], hostTable["stat.st_mode"], hostTable["stat.st_size"]), Is.EqualTo((144, 24, 48)));
        var differing = armTable.Keys.Where(k => armTable[k] != hostTable[k]).Order().ToArray();
        Assert.That(differing, Is.EqualTo(new[] { "epoll_event", "epoll_event.data", "stat", "stat.st_mode" }));
    }

    [Test]
    public void The_arm64_binary_passes_its_layout_check_and_serves_through_epoll()
    {
        Arm64Emulation.RequireBuild();
        Assert.That(Arm64Emulation.ElfMachine(Arm64Emulation.Binary), Is.EqualTo(Arm64Emulation.EmAarch64));
        // DaemonProcess waits until the port accepts: a layout difference ends the daemon first
        // ("native shim: struct layouts differ from C's on this platform: ..." and exit 1).
        using var daemon = DaemonProcess.Start(Arm64Emulation.Wrapper, Array.Empty<string>(), null);
        Assert.That(daemon.Stderr, Does.Not.Contain("native shim"));
        const int nodes = 24;
        var alive = new List<RawEpmdClient>();
        try
        {
            // Many registrations open at once: each event must come back with its own token.
            for (int i = 0; i < nodes; i++)
            {
                var c = daemon.Connect().Send(Requests.Alive($"arm{i}", port: 20000 + i));
                var reply = c.ReadExactly(6);
                Assert.That(reply[..2], Is.EqualTo(new byte[] { 0x76, 0 }), $"ALIVE2_X_RESP for arm{i}");
                alive.Add(c);
            }
            for (int i = 0; i < nodes; i += 5)
            {
                var port = daemon.Request(Requests.PortPlease($"arm{i}")).Data;
                Assert.That(port[..4], Is.EqualTo(new byte[] { 0x77, 0, (byte)((20000 + i) >> 8), (byte)(20000 + i) }), $"PORT2 arm{i}");
            }
            // Every other connection closes: each close is a hangup event that deregisters that node alone.
            for (int i = 0; i < nodes; i += 2) alive[i].Dispose();
            string names = "";
            for (int attempt = 0; attempt < 50; attempt++)
            {
                names = System.Text.Encoding.ASCII.GetString(daemon.Request(Requests.Names).Data.AsSpan(4));
                if (Regex.Matches(names, "^name ", RegexOptions.Multiline).Count == nodes / 2) break;
                Thread.Sleep(100);
            }
            var listed = Regex.Matches(names, @"^name (arm\d+) at port (\d+)$", RegexOptions.Multiline)
                .Select(m => m.Groups[1].Value).Order().ToArray();
            Assert.That(listed, Is.EqualTo(Enumerable.Range(0, nodes).Where(i => i % 2 == 1).Select(i => $"arm{i}").Order().ToArray()));
        }
        finally
        {
            foreach (var c in alive) c.Dispose();
        }
    }
}
