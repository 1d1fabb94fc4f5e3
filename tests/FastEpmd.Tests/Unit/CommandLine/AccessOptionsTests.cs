// -allow / ERL_EPMD_ALLOW, -names local and -max_per_peer: FastEpmd's access flags on the command line.
using System.Net;
using FastEpmd.CommandLine;
using FastEpmd.Service;

namespace FastEpmd.Tests.Unit.CommandLine;

public class AccessOptionsTests
{
    private static ParseResult Parse(Dictionary<string, string>? env, params string[] args) =>
        OptionParser.Parse(args, name => env != null && env.TryGetValue(name, out var v) ? v : null);

    private static EpmdOptions Ok(ParseResult result)
    {
        Assert.That(result.ExitCode, Is.Null, "expected options, got the usage text");
        return result.Options;
    }

    private static void AssertUsage(ParseResult result)
    {
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Stderr, Is.EqualTo(UsageText.Text));
    }

    private static bool Allows(EpmdOptions o, string peer) =>
        o.Allow!.Allows(PeerIp.FromBytes(IPAddress.Parse(peer).GetAddressBytes()));

    [Test]
    public void Defaults_are_OTPs()
    {
        var o = Ok(Parse(null));
        Assert.That(o.Allow, Is.Null);
        Assert.That(o.NamesLocalOnly, Is.False);
        Assert.That(o.MaxPerPeer, Is.EqualTo(256));
    }

    [Test]
    public void Allow_flag_is_parsed()
    {
        var o = Ok(Parse(null, "-allow", "10.0.0.0/8,fd00::/8", "-port", "14369"));
        Assert.That(o.Port, Is.EqualTo(14369));
        Assert.That(Allows(o, "10.1.1.1"), Is.True);
        Assert.That(Allows(o, "fd12::1"), Is.True);
        Assert.That(Allows(o, "192.0.2.1"), Is.False);
    }

    [Test]
    public void Allow_variable_is_used_and_the_flag_replaces_it()
    {
        var env = new Dictionary<string, string> { [OptionParser.AllowVariable] = "192.0.2.7" };
        Assert.That(Allows(Ok(Parse(env)), "192.0.2.7"), Is.True);
        var o = Ok(Parse(env, "-allow", "10.0.0.1"));
        Assert.That(Allows(o, "192.0.2.7"), Is.False);
        Assert.That(Allows(o, "10.0.0.1"), Is.True);
        // A malformed variable does not matter once the flag replaces it.
        env[OptionParser.AllowVariable] = "not-an-address";
        Assert.That(Allows(Ok(Parse(env, "-allow", "10.0.0.1")), "10.0.0.1"), Is.True);
    }

    [Test]
    public void Empty_variable_is_unset() =>
        Assert.That(Ok(Parse(new Dictionary<string, string> { [OptionParser.AllowVariable] = "" })).Allow, Is.Null);

    [TestCase("10.0.0.0/33")]
    [TestCase("10.0.0.1/8")]
    [TestCase("")]
    [TestCase("10.0.0.1,bogus")]
    public void Malformed_allow_flag_prints_the_usage(string list) => AssertUsage(Parse(null, "-allow", list));

    [Test]
    public void Allow_without_a_value_prints_the_usage() => AssertUsage(Parse(null, "-allow"));

    [Test]
    public void Malformed_allow_variable_prints_the_usage() =>
        AssertUsage(Parse(new Dictionary<string, string> { [OptionParser.AllowVariable] = "10.0.0.0/99" }));

    [Test]
    public void Malformed_allow_variable_does_not_stop_a_client_command() =>
        Assert.That(Ok(Parse(new Dictionary<string, string> { [OptionParser.AllowVariable] = "bogus" }, "-names")).Command,
            Is.EqualTo(EpmdCommand.Names));

    [Test]
    public void Names_local_is_a_daemon_option()
    {
        var o = Ok(Parse(null, "-names", "local", "-port", "14369"));
        Assert.That(o.Command, Is.EqualTo(EpmdCommand.Daemon));
        Assert.That(o.NamesLocalOnly, Is.True);
        Assert.That(Ok(Parse(null, "-port", "14369", "-names", "local")).NamesLocalOnly, Is.True);
    }

    [Test]
    public void Names_alone_is_still_the_client_command()
    {
        Assert.That(Ok(Parse(null, "-names")).Command, Is.EqualTo(EpmdCommand.Names));
        AssertUsage(Parse(null, "-names", "remote"));
    }

    [TestCase("0", 0)]
    [TestCase("1", 1)]
    [TestCase("4096", 4096)]
    public void Max_per_peer(string text, int expected) =>
        Assert.That(Ok(Parse(null, "-max_per_peer", text)).MaxPerPeer, Is.EqualTo(expected));

    [TestCase("-1")]
    [TestCase("12abc")]
    [TestCase("")]
    [TestCase("99999999999")]
    public void Bad_max_per_peer_prints_the_usage(string text) => AssertUsage(Parse(null, "-max_per_peer", text));

    [Test]
    public void Peer_prefix6_is_64_unless_given() =>
        Assert.That(Ok(Parse(null)).PeerPrefix6, Is.EqualTo(64));

    [TestCase("1", 1)]
    [TestCase("48", 48)]
    [TestCase("128", 128)]
    public void Peer_prefix6(string text, int expected) =>
        Assert.That(Ok(Parse(null, "-peer_prefix6", text)).PeerPrefix6, Is.EqualTo(expected));

    [TestCase("0")]
    [TestCase("129")]
    [TestCase("-1")]
    [TestCase("")]
    public void Bad_peer_prefix6_prints_the_usage(string text) => AssertUsage(Parse(null, "-peer_prefix6", text));
}
