// STOP_REQ name extraction: to the first NUL or the frame end.
using FastEpmd.Wire;

namespace FastEpmd.Tests.Unit.Wire;

public class StopRequestTests
{
    private static string? Parse(string hex) =>
        StopRequest.TryParse(Hex.Parse(hex), out var name) ? Hex.Format(name) : null;

    [Test]
    public void Tag_alone_is_silent()
    {
        Assert.That(Parse("73"), Is.Null);
    }

    [Test]
    public void Name_runs_to_the_frame_end()
    {
        Assert.That(Parse("73 66 6f 6f"), Is.EqualTo("66 6f 6f"));
    }

    [Test]
    public void Name_stops_at_the_first_nul_and_the_rest_is_ignored()
    {
        Assert.That(Parse("73 66 6f 6f 00 62 61 72 00"), Is.EqualTo("66 6f 6f"));
    }

    [Test]
    public void Tag_and_nul_is_an_empty_name()
    {
        Assert.That(Parse("73 00"), Is.EqualTo(""));
    }

    [Test]
    public void Name_is_not_utf8_checked()
    {
        Assert.That(Parse("73 ff c0 80"), Is.EqualTo("ff c0 80"));
    }
}
