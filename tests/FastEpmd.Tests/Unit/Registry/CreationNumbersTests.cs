// Creation numbers: clock + 1, bump by one, never 0..3 (spec 2.4).
using FastEpmd.Registry;

namespace FastEpmd.Tests.Unit.Registry;

public class CreationNumbersTests
{
    [TestCase(0u, 4u)]
    [TestCase(1u, 4u)]
    [TestCase(2u, 4u)]
    [TestCase(3u, 4u)]
    [TestCase(4u, 5u)]
    [TestCase(0x6a1b2c3du, 0x6a1b2c3eu)]
    [TestCase(0xfffffffeu, 0xffffffffu)]
    [TestCase(0xffffffffu, 4u)]   // wraps to 0, then the floor
    public void Bump_adds_one_with_a_floor_of_4(uint creation, uint expected)
    {
        Assert.That(CreationNumbers.Bump(creation), Is.EqualTo(expected));
    }

    [TestCase(1_700_000_000L, 1_700_000_001u)]
    [TestCase(0L, 4u)]
    [TestCase(3L, 4u)]
    [TestCase(4L, 5u)]
    [TestCase(0xffffffffL, 4u)]
    [TestCase(0x1_0000_0005L, 6u)]   // time(NULL) truncated to 32 bits, as OTP's unsigned int
    public void Fresh_is_the_clock_bumped(long unixSeconds, uint expected)
    {
        Assert.That(CreationNumbers.Fresh(unixSeconds), Is.EqualTo(expected));
    }
}
