// Flag and environment errors that OTP finds only when the daemon starts (bad -address list,
// port in use): same exit code, and the same stderr once OTP's ctime stamp is masked.
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace FastEpmd.SystemTests.Cli;

[Category("Cli")]
public class StartupErrorTests
{
    public static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData(new[] { "-address", "garbage" }, null, null).SetName("Address_Unparsable");
        yield return new TestCaseData(Array.Empty<string>(), "ERL_EPMD_ADDRESS", "garbage").SetName("ErlEpmdAddress_Unparsable");
        yield return new TestCaseData(new[] { "-address", "127.0.0.1,garbage" }, null, null).SetName("Address_SecondTokenUnparsable");
        yield return new TestCaseData(new[] { "-address", "10.255.255.1" }, null, null).SetName("Address_NotOnThisHost");
        var fourteen = string.Join(',', Enumerable.Range(2, 14).Select(i => "127.0.0." + i));
        yield return new TestCaseData(new[] { "-address", fourteen }, null, null).SetName("Address_MoreThan16Sockets");
    }

    [TestCaseSource(nameof(Cases))]
    public void ExitCode_AsOtp(string[] args, string? variable, string? value)
    {
        var (otp, fast) = Both(args, variable, value);
        Assert.That(fast.ExitCode, Is.EqualTo(otp.ExitCode), $"otp: {otp}; fastepmd: {fast}");
    }

    [TestCaseSource(nameof(Cases))]
    public void Stderr_AsOtp_ClockMasked(string[] args, string? variable, string? value)
    {
        var (otp, fast) = Both(args, variable, value);
        Assert.That(Mask(fast.StderrText), Is.EqualTo(Mask(otp.StderrText)));
        Assert.That(CliOutcome.Escape(fast.Stdout), Is.EqualTo(CliOutcome.Escape(otp.Stdout)));
    }

    [Test]
    public void PortInUse_Exit0_WithOneLineNamingThePort()
    {
        // OTP exits 0 silently; we exit 0 too, with one stderr line saying what is taken
        // (README: differences from OTP).
        int port = Ports.Free();
        using var holder = new TcpListener(IPAddress.Any, port);
        holder.Start();
        var args = new[] { "-port", port.ToString() };
        var otp = CliRun.Run(Binaries.Otp, args);
        var fast = CliRun.Run(Binaries.FastEpmd, args);
        CliAssert.Exactly(otp, "", "", 0, "otp");
        Assert.That(fast.ExitCode, Is.EqualTo(0));
        Assert.That(CliOutcome.Escape(fast.Stdout), Is.Empty);
        Assert.That(fast.StderrText, Is.EqualTo($"fastepmd: address 0.0.0.0:{port} is already in use (another epmd running?)\n"));
    }

    [Test]
    public void Daemon_PortInUse_Exit0_Silently()
    {
        // The first parent exits 0 before binding; the detached child then finds the port busy
        // and exits too, so nothing is left running.
        int port = Ports.Free();
        using var holder = new TcpListener(IPAddress.Any, port);
        holder.Start();
        var args = new[] { "-daemon", "-port", port.ToString() };
        try
        {
            var otp = CliRun.Run(Binaries.Otp, args);
            var fast = CliRun.Run(Binaries.FastEpmd, args);
            CliAssert.Same(otp, fast, "epmd -daemon -port (busy)");
            CliAssert.Exactly(fast, "", "", 0, "fastepmd");
            // Hold the port until both detached children have found it busy and exited.
            var sw = System.Diagnostics.Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(5) &&
                   (Operations.DaemonModeTests.FindDaemon(Binaries.Otp, port) is not null ||
                    Operations.DaemonModeTests.FindDaemon(Binaries.FastEpmd, port) is not null))
                Thread.Sleep(50);
            Assert.That(Operations.DaemonModeTests.FindDaemon(Binaries.Otp, port), Is.Null, "OTP's child exited");
            Assert.That(Operations.DaemonModeTests.FindDaemon(Binaries.FastEpmd, port), Is.Null, "FastEpmd's child exited");
        }
        finally
        {
            foreach (var binary in new[] { Binaries.Otp, Binaries.FastEpmd })
            {
                if (Operations.DaemonModeTests.FindDaemon(binary, port) is int pid) Native.Kill(pid, Native.SIGKILL);
            }
        }
    }

    private static (CliOutcome Otp, CliOutcome Fast) Both(string[] args, string? variable, string? value)
    {
        var full = new[] { "-port", Ports.Free().ToString() }.Concat(args).ToArray();
        var env = variable is null ? null : new Dictionary<string, string?> { [variable] = value };
        return (CliRun.Run(Binaries.Otp, full, env), CliRun.Run(Binaries.FastEpmd, full, env));
    }

    // OTP's level-0 lines are "epmd: <ctime without newline>: <message>\r\n".
    private static string Mask(string stderr) =>
        Regex.Replace(stderr, @"epmd: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}: ", "epmd: <time>: ");
}
