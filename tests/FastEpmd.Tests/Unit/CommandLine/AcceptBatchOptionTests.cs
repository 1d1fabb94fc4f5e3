// -accept_batch K, a FastEpmd flag: strict decimal 1..1024 like the other own flags.
using FastEpmd.CommandLine;
using FastEpmd.Service;

namespace FastEpmd.Tests.Unit.CommandLine;

public class AcceptBatchOptionTests
{
    private static ParseResult Parse(params string[] args) => OptionParser.Parse(args, _ => null);

    [Test]
    public void Default_and_limits_are_taken()
    {
        Assert.That(Parse().Options.AcceptBatch, Is.EqualTo(EpmdOptions.DefaultAcceptBatch));
        Assert.That(Parse("-accept_batch", "1").Options.AcceptBatch, Is.EqualTo(1));
        Assert.That(Parse("-accept_batch", "16").Options.AcceptBatch, Is.EqualTo(16));
        Assert.That(Parse("-accept_batch", "1024").Options.AcceptBatch, Is.EqualTo(EpmdOptions.MaxAcceptBatch));
        Assert.That(Parse("-accept_batch", "16").ExitCode, Is.Null);
    }

    [TestCase("-accept_batch")]
    [TestCase("-accept_batch", "0")]
    [TestCase("-accept_batch", "-4")]
    [TestCase("-accept_batch", "+4")]
    [TestCase("-accept_batch", "4k")]
    [TestCase("-accept_batch", "")]
    [TestCase("-accept_batch", "1025")]
    [TestCase("-accept_batch", "99999999999")]
    public void Bad_value_gives_the_usage_text(params string[] args)
    {
        var result = Parse(args);
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Stderr, Is.EqualTo(UsageText.Text));
    }
}
