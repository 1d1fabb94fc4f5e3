// ERL_EPMD_PORT, ERL_EPMD_ADDRESS and ERL_EPMD_RELAXED_COMMAND_CHECK, on the client side and on
// the daemon side, seen through the client's output (OTP's client and fastepmd's must agree).
namespace FastEpmd.SystemTests.Cli;

[TestFixture("otp")]
[TestFixture("fastepmd")]
[Category("Cli")]
public class EnvironmentTests(string daemonKind)
{
    private readonly List<IDisposable> _cleanup = new();

    [TearDown]
    public void TearDown()
    {
        for (int i = _cleanup.Count - 1; i >= 0; i--) _cleanup[i].Dispose();
        _cleanup.Clear();
    }

    private string DaemonBinary => daemonKind == "otp" ? Binaries.Otp : Binaries.FastEpmd;

    private DaemonProcess StartDaemon(IDictionary<string, string?>? env, string[] args, int? port = null)
    {
        var daemon = DaemonProcess.Start(DaemonBinary, args, env, port);
        _cleanup.Add(daemon);
        return daemon;
    }

    private void Register(DaemonProcess daemon, string name) => _cleanup.Add(RegisteredNode.Register(daemon, name, 45678));

    private static CliOutcome Both(string[] args, IDictionary<string, string?>? env = null)
    {
        var otp = CliRun.Run(Binaries.Otp, args, env);
        var fast = CliRun.Run(Binaries.FastEpmd, args, env);
        CliAssert.Same(otp, fast, "epmd " + string.Join(' ', args));
        return fast;
    }

    private static Dictionary<string, string?> Env(string name, string value) => new() { [name] = value };

    [Test]
    public void ClientErlEpmdPort_ChoosesThePort()
    {
        var daemon = StartDaemon(null, Array.Empty<string>());
        var fast = Both(new[] { "-names" }, Env("ERL_EPMD_PORT", daemon.Port.ToString()));
        CliAssert.Exactly(fast, $"epmd: up and running on port {daemon.Port} with data:\n", "", 0, "fastepmd");
    }

    [Test]
    public void ClientErlEpmdPort_ReadWithAtoi()
    {
        var daemon = StartDaemon(null, Array.Empty<string>());
        var fast = Both(new[] { "-names" }, Env("ERL_EPMD_PORT", $" {daemon.Port}xyz"));
        CliAssert.Exactly(fast, $"epmd: up and running on port {daemon.Port} with data:\n", "", 0, "fastepmd");
    }

    [Test]
    public void ClientErlEpmdPort_Above16Bits_IsTruncated()
    {
        var daemon = StartDaemon(null, Array.Empty<string>());
        var fast = Both(new[] { "-names" }, Env("ERL_EPMD_PORT", (daemon.Port + 65536).ToString()));
        CliAssert.Exactly(fast, $"epmd: up and running on port {daemon.Port} with data:\n", "", 0, "fastepmd");
    }

    [Test]
    public void ClientPortFlag_OverridesErlEpmdPort()
    {
        var daemon = StartDaemon(null, Array.Empty<string>());
        var fast = Both(new[] { "-port", daemon.Port.ToString(), "-names" }, Env("ERL_EPMD_PORT", Ports.Free().ToString()));
        CliAssert.Exactly(fast, $"epmd: up and running on port {daemon.Port} with data:\n", "", 0, "fastepmd");
    }

    [Test]
    public void ClientPortFlag_Above16Bits_IsTruncated()
    {
        var daemon = StartDaemon(null, Array.Empty<string>());
        var fast = Both(new[] { "-port", (daemon.Port + 65536).ToString(), "-names" });
        CliAssert.Exactly(fast, $"epmd: up and running on port {daemon.Port} with data:\n", "", 0, "fastepmd");
    }

    [Test]
    public void DaemonErlEpmdPort_IsItsPort()
    {
        int port = Ports.Free();
        StartDaemon(Env("ERL_EPMD_PORT", port.ToString()), Array.Empty<string>(), port);
        var fast = Both(new[] { "-port", port.ToString(), "-names" });
        CliAssert.Exactly(fast, $"epmd: up and running on port {port} with data:\n", "", 0, "fastepmd");
    }

    [Test]
    public void DaemonPortAbove16Bits_BindsTruncated_ReportsWhole()
    {
        int port = Ports.Free();
        StartDaemon(null, new[] { "-port", (port + 65536).ToString() }, port);
        var fast = Both(new[] { "-port", (port + 65536).ToString(), "-names" });
        CliAssert.Exactly(fast, $"epmd: up and running on port {port + 65536} with data:\n", "", 0, "fastepmd");
    }

    [Test]
    public void DaemonErlEpmdPortAbove16Bits_BindsTruncated_ReportsWhole()
    {
        int port = Ports.Free();
        StartDaemon(Env("ERL_EPMD_PORT", (port + 65536).ToString()), Array.Empty<string>(), port);
        var fast = Both(new[] { "-port", port.ToString(), "-names" });
        CliAssert.Exactly(fast, $"epmd: up and running on port {port + 65536} with data:\n", "", 0, "fastepmd");
    }

    [TestCase("")]
    [TestCase("0")]
    [TestCase("no")]
    public void DaemonErlEpmdRelaxedCommandCheck_AnyValue_AllowsKill(string value)
    {
        var outcomes = new List<CliOutcome>();
        foreach (var client in new[] { Binaries.Otp, Binaries.FastEpmd })
        {
            var daemon = StartDaemon(Env("ERL_EPMD_RELAXED_COMMAND_CHECK", value), Array.Empty<string>());
            Register(daemon, "fakenode");
            outcomes.Add(CliRun.Run(client, new[] { "-port", daemon.Port.ToString(), "-kill" }));
        }
        CliAssert.Same(outcomes[0], outcomes[1], "epmd -kill");
        CliAssert.Exactly(outcomes[1], "Killed\n", "", 0, "fastepmd");
    }

    [Test]
    public void DaemonErlEpmdRelaxedCommandCheck_AllowsStop()
    {
        var outcomes = new List<CliOutcome>();
        foreach (var client in new[] { Binaries.Otp, Binaries.FastEpmd })
        {
            var daemon = StartDaemon(Env("ERL_EPMD_RELAXED_COMMAND_CHECK", ""), Array.Empty<string>());
            Register(daemon, "fakenode");
            outcomes.Add(CliRun.Run(client, new[] { "-port", daemon.Port.ToString(), "-stop", "fakenode" }));
        }
        CliAssert.Same(outcomes[0], outcomes[1], "epmd -stop fakenode");
        CliAssert.Exactly(outcomes[1], "STOPPED\n", "", 0, "fastepmd");
    }

    [Test]
    public void ClientErlEpmdRelaxedCommandCheck_DoesNotRelaxTheDaemon()
    {
        var daemon = StartDaemon(null, Array.Empty<string>());
        Register(daemon, "fakenode");
        var fast = Both(new[] { "-port", daemon.Port.ToString(), "-kill" }, Env("ERL_EPMD_RELAXED_COMMAND_CHECK", "1"));
        CliAssert.Exactly(fast, "Killing not allowed - living nodes in database.\n", "", 1, "fastepmd");
    }

    [TestCase("127.0.0.1")]
    [TestCase("::1")]
    [TestCase("")]
    [TestCase(" , ")]
    public void DaemonErlEpmdAddress_LoopbackStillServesTheClient(string value)
    {
        var daemon = StartDaemon(Env("ERL_EPMD_ADDRESS", value), Array.Empty<string>());
        Register(daemon, "fakenode");
        var fast = Both(new[] { "-port", daemon.Port.ToString(), "-names" });
        CliAssert.Exactly(fast, $"epmd: up and running on port {daemon.Port} with data:\nname fakenode at port 45678\n", "", 0, "fastepmd");
    }

    [Test]
    public void DaemonAddressFlag_OverridesErlEpmdAddress()
    {
        // The environment alone would fail ("cannot parse IP address"); the flag replaces it.
        var daemon = StartDaemon(Env("ERL_EPMD_ADDRESS", "not-an-address"), new[] { "-address", "127.0.0.1" });
        var fast = Both(new[] { "-port", daemon.Port.ToString(), "-names" });
        CliAssert.Exactly(fast, $"epmd: up and running on port {daemon.Port} with data:\n", "", 0, "fastepmd");
    }
}
