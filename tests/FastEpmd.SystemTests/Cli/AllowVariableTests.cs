// ERL_EPMD_ALLOW: a malformed list stops the daemon with OTP's usage text and exit 1 (OTP has no
// such variable and ignores it); -allow replaces it, and client commands do not read it.
using System.Security.Cryptography;

namespace FastEpmd.SystemTests.Cli;

[Category("Cli")]
public class AllowVariableTests
{
    [TestCase("10.0.0.0/33")]
    [TestCase("10.0.0.1/8")]
    [TestCase("10.0.0.1,,bogus")]
    public void A_malformed_variable_prints_the_usage_and_exits_1(string value)
    {
        var env = new Dictionary<string, string?> { ["ERL_EPMD_ALLOW"] = value };
        var fast = CliRun.Run(Binaries.FastEpmd, new[] { "-port", Ports.Free().ToString() }, env);
        Assert.That(fast.ExitCode, Is.EqualTo(1), fast.ToString());
        Assert.That(fast.Stdout, Is.Empty);
        // OTP's usage text, byte for byte (UsageTests).
        Assert.That(Convert.ToHexStringLower(MD5.HashData(fast.Stderr)), Is.EqualTo("1666fa98c53465d18229852699ed8538"), fast.ToString());
    }

    [Test]
    public void The_flag_replaces_a_malformed_variable()
    {
        var env = new Dictionary<string, string?> { ["ERL_EPMD_ALLOW"] = "bogus" };
        using var daemon = DaemonProcess.Start(Binaries.FastEpmd, new[] { "-allow", "192.0.2.7" }, env);
        Assert.That(daemon.Request(Requests.PortPlease("x")).HexData, Is.EqualTo("77 01"), "a local peer is served");
    }

    [Test]
    public void A_client_command_ignores_the_variable()
    {
        var env = new Dictionary<string, string?> { ["ERL_EPMD_ALLOW"] = "bogus" };
        var fast = CliRun.Run(Binaries.FastEpmd, new[] { "-port", Ports.Free().ToString(), "-names" }, env);
        CliAssert.Exactly(fast, "", "epmd: Cannot connect to local epmd\n", 1, "fastepmd -names");
    }
}
