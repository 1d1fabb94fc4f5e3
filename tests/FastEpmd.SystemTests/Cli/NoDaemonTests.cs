// Client commands with nothing listening on the port (spec section 6, first rows of the table).
namespace FastEpmd.SystemTests.Cli;

[Category("Cli")]
public class NoDaemonTests
{
    private const string CannotConnect = "epmd: Cannot connect to local epmd\n";

    private static (CliOutcome Otp, CliOutcome Fast) Both(string[] args, IDictionary<string, string?>? env = null)
    {
        var otp = CliRun.Run(Binaries.Otp, args, env);
        var fast = CliRun.Run(Binaries.FastEpmd, args, env);
        CliAssert.Same(otp, fast, "epmd " + string.Join(' ', args));
        return (otp, fast);
    }

    [TestCase("-names")]
    [TestCase("-dump")]
    [TestCase("-kill")]
    [TestCase("-stop", "fakenode")]
    [TestCase("-stop", "")]
    public void ClientCommand_NoDaemon_CannotConnect(params string[] command)
    {
        var args = new[] { "-port", Ports.Free().ToString() }.Concat(command).ToArray();
        var (_, fast) = Both(args);
        CliAssert.Exactly(fast, "", CannotConnect, 1, "fastepmd");
    }

    [Test]
    public void Started_NoDaemon_SilentExit1()
    {
        var (_, fast) = Both(new[] { "-port", Ports.Free().ToString(), "-started" });
        CliAssert.Exactly(fast, "", "", 1, "fastepmd");
    }

    [Test]
    public void Stop_NameOver1000Bytes_TooLongBeforeConnecting()
    {
        var (_, fast) = Both(new[] { "-port", Ports.Free().ToString(), "-stop", new string('a', 1001) });
        CliAssert.Exactly(fast, "epmd: Name too long!", "", 1, "fastepmd");
    }

    [Test]
    public void Stop_Name1000Bytes_IsNotTooLong()
    {
        var (_, fast) = Both(new[] { "-port", Ports.Free().ToString(), "-stop", new string('a', 1000) });
        CliAssert.Exactly(fast, "", CannotConnect, 1, "fastepmd");
    }

    [Test]
    public void Stop_LengthIsCountedInUtf8Bytes()
    {
        // 501 x U+00E9 is 501 characters but 1002 bytes: OTP's strlen says too long.
        var (_, fast) = Both(new[] { "-port", Ports.Free().ToString(), "-stop", new string('\u00e9', 501) });
        CliAssert.Exactly(fast, "epmd: Name too long!", "", 1, "fastepmd");
    }

    [Test]
    public void ClientFlagsBeforeTheCommand_DoNotChangeTheClient()
    {
        var (_, fast) = Both(new[] { "-d", "-d", "-daemon", "-relaxed_command_check", "-systemd",
            "-packet_timeout", "5", "-address", "10.0.0.1", "-port", Ports.Free().ToString(), "-names" });
        CliAssert.Exactly(fast, "", CannotConnect, 1, "fastepmd");
    }

    [Test]
    public void ErlEpmdPort_PointsTheClientAtAnEmptyPort()
    {
        var env = new Dictionary<string, string?> { ["ERL_EPMD_PORT"] = Ports.Free().ToString() };
        var (_, fast) = Both(new[] { "-kill" }, env);
        CliAssert.Exactly(fast, "", CannotConnect, 1, "fastepmd");
    }
}
