// UTF-8 validation and code-point counting of node names.
using FastEpmd.Wire;

namespace FastEpmd.Tests.Unit.Wire;

public class NodeNameTests
{
    [TestCase("", 0)]
    [TestCase("61 62 63", 3)]
    [TestCase("c3 a9", 1)]                   // U+00E9
    [TestCase("c2 80", 1)]                   // U+0080, smallest two-byte
    [TestCase("e0 a0 80", 1)]                // U+0800, smallest three-byte
    [TestCase("e2 82 ac", 1)]                // U+20AC
    [TestCase("ed 9f bf", 1)]                // U+D7FF, just below the surrogates
    [TestCase("ee 80 80", 1)]                // U+E000, just above them
    [TestCase("ef bf bf", 1)]                // U+FFFF (a noncharacter, still valid)
    [TestCase("f0 90 80 80", 1)]             // U+10000, smallest four-byte
    [TestCase("f0 9f 98 88", 1)]             // U+1F608
    [TestCase("f4 8f bf bf", 1)]             // U+10FFFF, the largest
    [TestCase("61 c3 a9 e2 82 ac f0 9f 98 88 7a", 5)]
    public void Valid_names_count_code_points(string hex, int expected)
    {
        Assert.That(NodeName.CountCodePoints(Hex.Parse(hex)), Is.EqualTo(expected));
    }

    [TestCase("c0 80")]              // overlong
    [TestCase("c1 bf")]              // overlong
    [TestCase("e0 80 af")]           // overlong
    [TestCase("e0 9f bf")]           // overlong (U+07FF in three bytes)
    [TestCase("f0 80 80 af")]        // overlong
    [TestCase("f0 8f bf bf")]        // overlong (U+FFFF in four bytes)
    [TestCase("ed a0 80")]           // U+D800
    [TestCase("ed bf bf")]           // U+DFFF
    [TestCase("f4 90 80 80")]        // U+110000
    [TestCase("f5 80 80 80")]
    [TestCase("f8 88 80 80 80")]     // five-byte form
    [TestCase("fe")]
    [TestCase("ff")]
    [TestCase("c3")]                 // truncated
    [TestCase("e2 82")]              // truncated
    [TestCase("f0 9f 98")]           // truncated
    [TestCase("80")]                 // lone continuation
    [TestCase("61 bf 62")]
    [TestCase("e2 28 a1")]           // bad continuation
    [TestCase("c3 28")]
    public void Invalid_utf8_gives_minus_one(string hex)
    {
        Assert.That(NodeName.CountCodePoints(Hex.Parse(hex)), Is.EqualTo(-1));
    }
}
