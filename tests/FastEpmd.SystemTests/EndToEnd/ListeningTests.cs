// Spec sections 5.2, 5.5 and 6: what the daemon listens on, its exit codes, and epmd_SUITE's
// names_stdout (the `-names` client talking to the daemon).
using System.Diagnostics;
using System.Globalization;
using static FastEpmd.SystemTests.EndToEnd.E2e;

namespace FastEpmd.SystemTests.EndToEnd;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class ListeningTests
{
    /// <summary>Runs the binary as a client command; killed by PID if it has not exited in time.</summary>
    private static (int? Exit, string Stdout, string Stderr) RunClient(params string[] args)
    {
        var psi = new ProcessStartInfo(Binaries.FastEpmd)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        EpmdEnvironment.Apply(psi);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(5000))
        {
            p.Kill();
            p.WaitForExit(2000);
            return (null, "", "");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Test]
    public void NamesStdout()
    {
        using var d = Start();
        using var node = RegisterV5(d, Hex.Parse("00 13 78 03 e8 4d 00 00 05 00 05 00 06 66 6f 6f 62 61 72 00 00"), out _);
        var (exit, stdout, _) = RunClient("-port", d.Port.ToString(CultureInfo.InvariantCulture), "-names");
        Assert.That(exit, Is.EqualTo(0));
        Assert.That(stdout, Is.EqualTo($"epmd: up and running on port {d.Port} with data:\nname foobar at port 1000\n"));
    }

    [Test]
    public void AddressListAlwaysAddsBothLoopbacks()
    {
        Assume.That(HasIpv6Loopback(), Is.True, "::1 is absent on this host");
        using var d = Start("-address", "127.0.0.1");
        using var node = Register(d, "foo", 1042);
        Assert.That(Names(d), Is.EqualTo("name foo at port 1042\n"));
        Assert.That(Names(d, host: "::1"), Is.EqualTo("name foo at port 1042\n"));
    }

    [Test]
    public void PortInUseExitsZeroWithOneLine()
    {
        using var first = Start();
        using var second = DaemonProcess.Start(Binaries.FastEpmd,
            new[] { "-port", first.Port.ToString(CultureInfo.InvariantCulture) }, null, port: first.Port, waitForListen: false);
        Assert.That(second.WaitExit(TimeSpan.FromSeconds(5)), Is.EqualTo(0), "EADDRINUSE: exit status 0");
        // OTP is silent here; FastEpmd adds one line naming what is taken (README: differences).
        var output = second.Stdout + second.Stderr;
        if (E2e.TargetIsOtp) Assert.That(output, Is.Empty, "OTP: no output without -d");
        else Assert.That(output, Is.EqualTo($"fastepmd: address 0.0.0.0:{first.Port} is already in use (another epmd running?)\n"));
        Assert.That(first.HasExited, Is.False);
        Assert.That(Names(first), Is.Empty, "the first daemon still serves");
    }

    [Test]
    public void UnknownArgumentPrintsUsageAndExitsOne()
    {
        using var d = DaemonProcess.Start(Binaries.FastEpmd, new[] { "-bogus" }, null, waitForListen: false);
        Assert.That(d.WaitExit(TimeSpan.FromSeconds(5)), Is.EqualTo(1));
        Assert.That(d.Stderr, Does.StartWith("usage: epmd [-d|-debug] [DbgExtra...] [-address List]"));
    }
}
