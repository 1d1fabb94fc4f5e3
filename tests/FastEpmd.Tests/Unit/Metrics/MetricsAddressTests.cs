// -metrics ADDRESS:PORT parsing, strict like the other FastEpmd-only options.
using FastEpmd.CommandLine;

namespace FastEpmd.Tests.Unit.Metrics;

public class MetricsAddressTests
{
    [TestCase("9100", false, "127.0.0.1", 9100)]
    [TestCase("127.0.0.1:9100", false, "127.0.0.1", 9100)]
    [TestCase("0.0.0.0:1", false, "0.0.0.0", 1)]
    [TestCase("[::1]:65535", true, "::1", 65535)]
    [TestCase("[::]:9100", true, "::", 9100)]
    public void Accepted(string text, bool ipv6, string address, int port)
    {
        Assert.That(MetricsAddress.TryParse(text, out var a, out ushort p), Is.True);
        Assert.That(a.IsIPv6, Is.EqualTo(ipv6));
        Assert.That(a.ToString(), Is.EqualTo(address));
        Assert.That(p, Is.EqualTo(port));
    }

    [TestCase("")]
    [TestCase("0")]
    [TestCase("65536")]
    [TestCase("-1")]
    [TestCase("9100x")]
    [TestCase(" 9100")]
    [TestCase("127.0.0.1:")]
    [TestCase(":9100")]
    [TestCase("::1:9100")]
    [TestCase("[127.0.0.1]:9100")]
    [TestCase("[::1]9100")]
    [TestCase("localhost:9100")]
    [TestCase("300.0.0.1:9100")]
    public void Refused(string text)
    {
        Assert.That(MetricsAddress.TryParse(text, out _, out _), Is.False);
    }

    [Test]
    public void OptionParser_TakesMetricsAndLogFormat_AndRefusesBadValues()
    {
        var ok = OptionParser.Parse(new[] { "-metrics", "9100", "-log_format", "json" }, _ => null);
        Assert.That(ok.ExitCode, Is.Null);
        Assert.That(ok.Options.Metrics, Is.EqualTo("9100"));
        Assert.That(ok.Options.JsonLog, Is.True);
        Assert.That(OptionParser.Parse(new[] { "-log_format", "text" }, _ => null).Options.JsonLog, Is.False);
        Assert.That(OptionParser.Parse(new[] { "-metrics", "x" }, _ => null).ExitCode, Is.EqualTo(1));
        Assert.That(OptionParser.Parse(new[] { "-metrics" }, _ => null).ExitCode, Is.EqualTo(1));
        Assert.That(OptionParser.Parse(new[] { "-log_format", "JSON" }, _ => null).ExitCode, Is.EqualTo(1));
        Assert.That(OptionParser.Parse(new[] { "-log_format" }, _ => null).ExitCode, Is.EqualTo(1));
    }
}
