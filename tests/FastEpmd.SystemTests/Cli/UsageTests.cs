// Command-line errors: fastepmd prints OTP's usage text on stderr and exits 1 exactly when
// /usr/bin/epmd does. No daemon is involved: every case fails before anything connects or binds.
using System.Security.Cryptography;

namespace FastEpmd.SystemTests.Cli;

[Category("Cli")]
public class UsageTests
{
    private const string UsageMd5 = "1666fa98c53465d18229852699ed8538";

    [TestCase("-bogus")]
    [TestCase("")]
    [TestCase("DbgExtra")]
    [TestCase("-Port", "4369")]
    [TestCase("--port", "4369")]
    [TestCase("-port")]
    [TestCase("-port", "0")]
    [TestCase("-port", "abc")]
    [TestCase("-port", "")]
    [TestCase("-port", "4294967296")]
    [TestCase("-port", "-99999999999999999999")]
    [TestCase("-packet_timeout")]
    [TestCase("-packet_timeout", "0")]
    [TestCase("-packet_timeout", "abc")]
    [TestCase("-delay_accept")]
    [TestCase("-delay_accept", "0")]
    [TestCase("-delay_write")]
    [TestCase("-delay_write", "x")]
    [TestCase("-address")]
    [TestCase("-d", "-debug", "-x")]
    [TestCase("-names", "extra")]
    [TestCase("-names", "-port", "4369")]
    [TestCase("-started", "x")]
    [TestCase("-dump", "x")]
    [TestCase("-kill", "x")]
    [TestCase("-kill", "-names")]
    [TestCase("-stop")]
    [TestCase("-stop", "a", "b")]
    [TestCase("-bogus", "-names")]
    [TestCase("-port", "0", "-names")]
    [TestCase("-d", "-port", "abc", "-kill")]
    [TestCase("-relaxed_command_check", "-daemon", "-systemd", "-bogus")]
    // FastEpmd's own flags with bad values: OTP rejects the flag, fastepmd the value, same text.
    [TestCase("-max_connections")]
    [TestCase("-max_connections", "0")]
    [TestCase("-request_deadline_ms")]
    [TestCase("-request_deadline_ms", "0")]
    [TestCase("-loopback_only", "extra")]
    [TestCase("-allow")]
    [TestCase("-allow", "")]
    [TestCase("-allow", "10.0.0.0/33")]
    [TestCase("-allow", "10.0.0.1/8")]
    [TestCase("-allow", "10.0.0.1,bogus")]
    [TestCase("-allow", "fe80::1%eth0")]
    [TestCase("-max_per_peer")]
    [TestCase("-max_per_peer", "-1")]
    [TestCase("-names", "local", "extra")]
    public void FlagError_IsUsageOnStderr_Exit1(params string[] args)
    {
        var otp = CliRun.Run(Binaries.Otp, args);
        var fast = CliRun.Run(Binaries.FastEpmd, args);
        CliAssert.Same(otp, fast, "epmd " + string.Join(' ', args));
        Assert.That(Md5(fast.Stderr), Is.EqualTo(UsageMd5));
        Assert.That(fast.Stdout, Is.Empty);
        Assert.That(fast.ExitCode, Is.EqualTo(1));
    }

    [TestCase("abc")]
    [TestCase("0")]
    [TestCase("")]
    public void ErlEpmdPort_IsNeverAUsageError(string value)
    {
        // atoi gives 0, and the client then cannot connect to port 0.
        var env = new Dictionary<string, string?> { ["ERL_EPMD_PORT"] = value };
        var otp = CliRun.Run(Binaries.Otp, new[] { "-names" }, env);
        var fast = CliRun.Run(Binaries.FastEpmd, new[] { "-names" }, env);
        CliAssert.Same(otp, fast, $"ERL_EPMD_PORT={value} epmd -names");
        CliAssert.Exactly(fast, "", "epmd: Cannot connect to local epmd\n", 1, "fastepmd");
    }

    [Test]
    public void FastEpmdFlags_AreAcceptedBeforeAClientCommand()
    {
        // OTP has no such flags (usage); fastepmd takes them and runs the client.
        int port = Ports.Free();
        var fast = CliRun.Run(Binaries.FastEpmd, new[] { "-max_connections", "10", "-loopback_only",
            "-request_deadline_ms", "500", "-port", port.ToString(), "-names" });
        CliAssert.Exactly(fast, "", "epmd: Cannot connect to local epmd\n", 1, "fastepmd");
    }

    private static string Md5(byte[] bytes) => Convert.ToHexStringLower(MD5.HashData(bytes));
}
