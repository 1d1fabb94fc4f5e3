// PORT_PLEASE2_REQ parsing: the trailing NUL, the silent cases and the 254/255 quirk.
using FastEpmd.Wire;

namespace FastEpmd.Tests.Unit.Wire;

public class PortPleaseRequestTests
{
    private static string? Parse(byte[] payload) =>
        PortPleaseRequest.TryParse(payload, out var name) ? Hex.Format(name) : null;

    private static string? Parse(string hex) => Parse(Hex.Parse(hex));

    [Test]
    public void Name_follows_the_tag()
    {
        Assert.That(Parse("7a 6e 36"), Is.EqualTo("6e 36"));
    }

    [Test]
    public void One_trailing_nul_is_stripped()
    {
        Assert.That(Parse("7a 6e 36 00"), Is.EqualTo("6e 36"));
    }

    [TestCase("7a", TestName = "Tag alone is silent")]
    [TestCase("7a 00", TestName = "Tag and NUL is silent")]
    [TestCase("7a 6e 00 36", TestName = "NUL inside the name is silent")]
    [TestCase("7a 6e 36 00 00", TestName = "Double trailing NUL is silent")]
    [TestCase("7a 00 6e 36", TestName = "Leading NUL is silent")]
    [TestCase("7a c0 80", TestName = "Overlong form is silent")]
    [TestCase("7a ed a0 80", TestName = "Surrogate is silent")]
    [TestCase("7a f4 90 80 80", TestName = "Code point over U+10FFFF is silent")]
    [TestCase("7a 61 e2 82", TestName = "Truncated sequence is silent")]
    [TestCase("7a 61 e2 82 00", TestName = "Truncated sequence before the NUL is silent")]
    public void Silent(string hex)
    {
        Assert.That(Parse(hex), Is.Null);
    }

    [Test]
    public void Unicode_name_is_looked_up()
    {
        Assert.That(Parse("7a f0 9f 98 88"), Is.EqualTo("f0 9f 98 88"));
    }

    // OTP validates the name plus its terminating NUL as at most 255 characters: 254 is the
    // longest name a lookup can reach, although ALIVE2 registers 255 (OTP counts the terminating NUL).
    [TestCase("61")]
    [TestCase("f0 9f 98 88")]
    public void Name_of_254_code_points_is_looked_up(string unit)
    {
        var name = TestBytes.Repeat(unit, 254);
        Assert.That(Parse(Hex.Cat(Hex.Parse("7a"), name)), Is.EqualTo(Hex.Format(name)));
        Assert.That(Parse(Hex.Cat(Hex.Parse("7a"), name, Hex.Parse("00"))), Is.EqualTo(Hex.Format(name)));
    }

    [TestCase("61")]
    [TestCase("f0 9f 98 88")]
    public void Name_of_255_code_points_is_silent(string unit)
    {
        var name = TestBytes.Repeat(unit, 255);
        Assert.That(Parse(Hex.Cat(Hex.Parse("7a"), name)), Is.Null);
        Assert.That(Parse(Hex.Cat(Hex.Parse("7a"), name, Hex.Parse("00"))), Is.Null);
    }
}
