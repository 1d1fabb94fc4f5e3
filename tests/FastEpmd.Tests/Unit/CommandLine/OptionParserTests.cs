// OptionParser as a pure function of argv and the environment, against OTP epmd's main().
using FastEpmd.CommandLine;
using FastEpmd.Service;

namespace FastEpmd.Tests.Unit.CommandLine;

public class OptionParserTests
{
    private static ParseResult Parse(params string[] args) => OptionParser.Parse(args, _ => null);

    private static ParseResult ParseWithEnv(Dictionary<string, string> env, params string[] args) =>
        OptionParser.Parse(args, name => env.TryGetValue(name, out var v) ? v : null);

    private static EpmdOptions Ok(ParseResult result)
    {
        Assert.That(result.ExitCode, Is.Null, "expected options, got the usage text");
        Assert.That(result.Stderr, Is.Null);
        return result.Options;
    }

    private static void AssertUsage(ParseResult result)
    {
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Stderr, Is.EqualTo(UsageText.Text));
    }

    [Test]
    public void NoArguments_ServeWithOtpDefaults()
    {
        var o = Ok(Parse());
        Assert.That(o.Command, Is.EqualTo(EpmdCommand.Daemon));
        Assert.That(o.Port, Is.EqualTo(4369));
        Assert.That(o.Addresses, Is.Empty);
        Assert.That(o.RunAsDaemon, Is.False);
        Assert.That(o.RelaxedCommandCheck, Is.False);
        Assert.That(o.DebugLevel, Is.Zero);
        Assert.That(o.PacketTimeoutSeconds, Is.EqualTo(60));
        Assert.That(o.DelayAcceptSeconds, Is.Zero);
        Assert.That(o.DelayWriteSeconds, Is.Zero);
        Assert.That(o.Systemd, Is.False);
        Assert.That(o.MaxConnections, Is.Null);
        Assert.That(o.LoopbackOnly, Is.False);
        Assert.That(o.RequestDeadlineMs, Is.EqualTo(60_000));
        Assert.That(o.StopName, Is.Null);
    }

    [Test]
    public void EveryDaemonFlag_IsTaken()
    {
        var o = Ok(Parse("-d", "-debug", "-d", "-port", "14369", "-address", "10.0.0.1,::2 127.0.0.2",
            "-daemon", "-relaxed_command_check", "-systemd", "-packet_timeout", "2", "-delay_accept", "3",
            "-delay_write", "4", "-max_connections", "100", "-loopback_only", "-request_deadline_ms", "250",
            "-defer_accept", "2"));
        Assert.That(o.Command, Is.EqualTo(EpmdCommand.Daemon));
        Assert.That(o.DebugLevel, Is.EqualTo(3));
        Assert.That(o.Port, Is.EqualTo(14369));
        Assert.That(o.Addresses, Is.EqualTo(new[] { "10.0.0.1", "::2", "127.0.0.2" }));
        Assert.That(o.RunAsDaemon, Is.True);
        Assert.That(o.RelaxedCommandCheck, Is.True);
        Assert.That(o.Systemd, Is.True);
        Assert.That(o.PacketTimeoutSeconds, Is.EqualTo(2));
        Assert.That(o.DelayAcceptSeconds, Is.EqualTo(3));
        Assert.That(o.DelayWriteSeconds, Is.EqualTo(4));
        Assert.That(o.MaxConnections, Is.EqualTo(100));
        Assert.That(o.LoopbackOnly, Is.True);
        Assert.That(o.RequestDeadlineMs, Is.EqualTo(250));
        Assert.That(o.DeferAcceptSeconds, Is.EqualTo(2));
    }

    [TestCase("-port")]
    [TestCase("-port", "0")]
    [TestCase("-port", "abc")]
    [TestCase("-port", "")]
    [TestCase("-port", "4294967296")]
    [TestCase("-port", "-99999999999999999999")]
    [TestCase("-packet_timeout")]
    [TestCase("-packet_timeout", "0")]
    [TestCase("-packet_timeout", "x")]
    [TestCase("-delay_accept")]
    [TestCase("-delay_accept", "0")]
    [TestCase("-delay_write")]
    [TestCase("-delay_write", "0")]
    [TestCase("-address")]
    [TestCase("-bogus")]
    [TestCase("DbgExtra")]                 // the usage text's name for a group of flags, not a flag
    [TestCase("")]
    [TestCase("-Port", "1")]
    [TestCase("--port", "1")]
    [TestCase("-port=1")]
    [TestCase("-d", "-x")]
    [TestCase("-port", "0", "-names")]     // the error comes first, the client never runs
    [TestCase("-bogus", "-names")]
    public void BadArgument_GivesUsage(params string[] args) => AssertUsage(Parse(args));

    [TestCase("-port", "12abc", 12)]
    [TestCase("-port", " 7", 7)]
    [TestCase("-port", "-1", -1)]
    [TestCase("-port", "80000", 80000)]
    [TestCase("-port", "99999999999999999999", -1)]
    public void PortValue_IsReadWithAtoi(string flag, string value, int expected) =>
        Assert.That(Ok(Parse(flag, value)).Port, Is.EqualTo(expected));

    [Test]
    public void PortAbove16Bits_IsKeptWhole_AndBindsTruncated()
    {
        var o = Ok(Parse("-port", "80000"));
        Assert.That(o.Port, Is.EqualTo(80000));
        Assert.That(o.BindPort, Is.EqualTo(14464));
    }

    [TestCase("-packet_timeout", "-5")]
    [TestCase("-delay_accept", "-1")]
    [TestCase("-delay_write", "2x")]
    public void DelayAndTimeoutValues_AreReadWithAtoi(string flag, string value)
    {
        var o = Ok(Parse(flag, value));
        int expected = CAtoi.Parse(value);
        int actual = flag switch
        {
            "-packet_timeout" => o.PacketTimeoutSeconds,
            "-delay_accept" => o.DelayAcceptSeconds,
            _ => o.DelayWriteSeconds,
        };
        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public void LaterFlag_OverridesEarlier()
    {
        var o = Ok(Parse("-port", "1", "-port", "2", "-address", "10.0.0.1", "-address", "10.0.0.2"));
        Assert.That(o.Port, Is.EqualTo(2));
        Assert.That(o.Addresses, Is.EqualTo(new[] { "10.0.0.2" }));
    }

    [TestCase("-names", EpmdCommand.Names)]
    [TestCase("-started", EpmdCommand.Started)]
    [TestCase("-dump", EpmdCommand.Dump)]
    [TestCase("-kill", EpmdCommand.Kill)]
    public void ClientCommand_Last_IsRun(string flag, EpmdCommand command)
    {
        var o = Ok(Parse("-d", "-port", "14369", flag));
        Assert.That(o.Command, Is.EqualTo(command));
        Assert.That(o.Port, Is.EqualTo(14369));
    }

    [Test]
    public void Stop_TakesTheLastArgumentAsName()
    {
        var o = Ok(Parse("-port", "14369", "-stop", "fakenode"));
        Assert.That(o.Command, Is.EqualTo(EpmdCommand.Stop));
        Assert.That(o.StopName, Is.EqualTo("fakenode"));
    }

    [Test]
    public void Stop_NameMayBeEmptyOrLookLikeAFlag()
    {
        Assert.That(Ok(Parse("-stop", "")).StopName, Is.EqualTo(""));
        Assert.That(Ok(Parse("-stop", "-names")).StopName, Is.EqualTo("-names"));
    }

    [TestCase("-names", "extra")]
    [TestCase("-names", "-port", "1")]
    [TestCase("-started", "x")]
    [TestCase("-dump", "x")]
    [TestCase("-kill", "x")]
    [TestCase("-kill", "-names")]
    [TestCase("-stop")]
    [TestCase("-stop", "a", "b")]
    public void AnythingAfterAClientCommand_GivesUsage(params string[] args) => AssertUsage(Parse(args));

    [Test]
    public void ClientCommand_StopsTheScan_SoLaterGarbageIsNeverSeenAsAFlag()
    {
        // OTP checks only the argument count after a client command.
        AssertUsage(Parse("-names", "-port", "abc"));
        Assert.That(Ok(Parse("-stop", "-port")).StopName, Is.EqualTo("-port"));
    }

    [TestCase("abc", 0)]
    [TestCase("", 0)]
    [TestCase("12abc", 12)]
    [TestCase("0", 0)]
    [TestCase("80000", 80000)]
    [TestCase("-3", -3)]
    public void ErlEpmdPort_IsReadWithAtoi_AndNeverRejected(string value, int expected)
    {
        var result = ParseWithEnv(new() { ["ERL_EPMD_PORT"] = value });
        Assert.That(Ok(result).Port, Is.EqualTo(expected));
    }

    [Test]
    public void PortFlag_OverridesErlEpmdPort()
    {
        var env = new Dictionary<string, string> { ["ERL_EPMD_PORT"] = "5000" };
        Assert.That(Ok(ParseWithEnv(env, "-port", "6000", "-names")).Port, Is.EqualTo(6000));
        Assert.That(Ok(ParseWithEnv(env, "-names")).Port, Is.EqualTo(5000));
    }

    [TestCase("")]
    [TestCase("0")]
    [TestCase("false")]
    [TestCase("1")]
    public void ErlEpmdRelaxedCommandCheck_PresentWithAnyValue_IsRelaxed(string value)
    {
        var result = ParseWithEnv(new() { ["ERL_EPMD_RELAXED_COMMAND_CHECK"] = value });
        Assert.That(Ok(result).RelaxedCommandCheck, Is.True);
    }

    [Test]
    public void ErlEpmdAddress_IsSplitAtCommasAndSpaces()
    {
        var result = ParseWithEnv(new() { ["ERL_EPMD_ADDRESS"] = " 10.0.0.1,, ::1 ,127.0.0.2" });
        Assert.That(Ok(result).Addresses, Is.EqualTo(new[] { "10.0.0.1", "::1", "127.0.0.2" }));
    }

    [TestCase("")]
    [TestCase(" , ,")]
    public void ErlEpmdAddress_OfSeparatorsOnly_MeansAllInterfaces(string value)
    {
        var result = ParseWithEnv(new() { ["ERL_EPMD_ADDRESS"] = value });
        Assert.That(Ok(result).Addresses, Is.Empty);
    }

    [Test]
    public void AddressFlag_OverridesErlEpmdAddress_EvenWhenEmpty()
    {
        var env = new Dictionary<string, string> { ["ERL_EPMD_ADDRESS"] = "10.0.0.1" };
        Assert.That(Ok(ParseWithEnv(env, "-address", "10.0.0.2")).Addresses, Is.EqualTo(new[] { "10.0.0.2" }));
        Assert.That(Ok(ParseWithEnv(env, "-address", "")).Addresses, Is.Empty);
    }

    [Test]
    public void AddressList_IsNotCheckedByTheParser()
    {
        // OTP reports "cannot parse IP address" when it binds, not as a usage error.
        Assert.That(Ok(Parse("-address", "not-an-address")).Addresses, Is.EqualTo(new[] { "not-an-address" }));
    }

    [Test]
    public void TabsAreNotAddressSeparators()
    {
        Assert.That(Ok(Parse("-address", "10.0.0.1\t10.0.0.2")).Addresses, Is.EqualTo(new[] { "10.0.0.1\t10.0.0.2" }));
    }

    [TestCase("-max_connections")]
    [TestCase("-max_connections", "0")]
    [TestCase("-max_connections", "-5")]
    [TestCase("-max_connections", "12abc")]
    [TestCase("-max_connections", " 12")]
    [TestCase("-max_connections", "+12")]
    [TestCase("-max_connections", "")]
    [TestCase("-max_connections", "4194305")]
    [TestCase("-max_connections", "99999999999")]
    [TestCase("-request_deadline_ms")]
    [TestCase("-request_deadline_ms", "0")]
    [TestCase("-request_deadline_ms", "-1")]
    [TestCase("-request_deadline_ms", "1.5")]
    [TestCase("-request_deadline_ms", "2147483648")]
    [TestCase("-defer_accept")]
    [TestCase("-defer_accept", "3601")]
    [TestCase("-loopback_only", "1")]
    public void FastEpmdFlag_WithBadValue_GivesUsage(params string[] args) => AssertUsage(Parse(args));

    [Test]
    public void FastEpmdFlags_AcceptTheirLimits()
    {
        Assert.That(Ok(Parse("-max_connections", "1")).MaxConnections, Is.EqualTo(1));
        Assert.That(Ok(Parse("-max_connections", "4194304")).MaxConnections, Is.EqualTo(OptionParser.MaxConnectionsLimit));
        Assert.That(Ok(Parse("-request_deadline_ms", "2147483647")).RequestDeadlineMs, Is.EqualTo(int.MaxValue));
        Assert.That(Ok(Parse()).DeferAcceptSeconds, Is.EqualTo(1), "on by default");
        Assert.That(Ok(Parse("-defer_accept", "0")).DeferAcceptSeconds, Is.EqualTo(0), "0 turns it off");
        Assert.That(Ok(Parse("-defer_accept", "3600")).DeferAcceptSeconds, Is.EqualTo(3600));
        Assert.That(Ok(Parse("-request_deadline_ms", "0100")).RequestDeadlineMs, Is.EqualTo(100));
    }

    [Test]
    public void UsageResult_StillCarriesOptionsSoFar()
    {
        var result = Parse("-port", "5000", "-bogus");
        AssertUsage(result);
        Assert.That(result.Options.Port, Is.EqualTo(5000));
    }
}
