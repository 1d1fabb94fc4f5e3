// Spec section 1.2: PORT_PLEASE2_REQ -> PORT2_RESP, found and not-found bytes, NUL and UTF-8 rules,
// and the 254/255 code point quirk.
using static FastEpmd.SystemTests.EndToEnd.E2e;

namespace FastEpmd.SystemTests.EndToEnd;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class PortPleaseTests
{
    // ALIVE2_REQ "foo" at 1042, type M, proto 0, hi 5, lo 5, empty extra (epmd_SUITE's port_request).
    private const string FooAt1042V5 = "00 10 78 04 12 4d 00 00 05 00 05 00 03 66 6f 6f 00 00";
    private const string FooAt1042Reply = "77 00 04 12 4d 00 00 05 00 05 00 03 66 6f 6f 00 00";

    [Test]
    public void GetPortNr()
    {
        using var d = Start();
        using var node = RegisterV5(d, Hex.Parse(FooAt1042V5), out _);
        AssertHex(Query(d, "00 04 7a 66 6f 6f"), FooAt1042Reply);
    }

    [Test]
    public void SlowGetPortNr()
    {
        // The 2026 suite runs this with -packet_timeout 10: the timeout may count from the request's start.
        using var d = Start("-packet_timeout", "10");
        using var node = RegisterV5(d, Hex.Parse(FooAt1042V5), out _);
        using var c = d.Connect();
        c.Send("00 04 7a");
        foreach (var b in Hex.Parse("66 6f 6f"))
        {
            Thread.Sleep(500);
            c.Send(new[] { b });
        }
        var r = c.ReadToEnd(Quick);
        Assert.That(r.Closed, Is.True);
        AssertHex(r.Data, FooAt1042Reply);
    }

    [Test]
    public void UnicodeName()
    {
        using var d = Start();
        // U+1F608 at port 4711 (12 67), type 72 (hidden), proto 0, hi 5, lo 5.
        using var node = RegisterV5(d, Hex.Parse("00 11 78 12 67 48 00 00 05 00 05 00 04 f0 9f 98 88 00 00"), out _);
        AssertHex(Query(d, "00 05 7a f0 9f 98 88"), "77 00 12 67 48 00 00 05 00 05 00 04 f0 9f 98 88 00 00");
    }

    [Test]
    public void LongUnicodeName()
    {
        using var d = Start();
        // U+1F600 .. U+1F6C8: 201 code points, 804 bytes.
        var name = Hex.Cat(Enumerable.Range(0x1F600, 201).Select(cp => Hex.Utf8(char.ConvertFromUtf32(cp))).ToArray());
        Assert.That(name, Has.Length.EqualTo(804));
        using var node = RegisterV5(d, Requests.AliveRaw(name, 4711, 5, 5, 72, 0, Array.Empty<byte>()), out _);
        AssertHex(PortPlease(d, name), "77 00 12 67 48 00 00 05 00 05 03 24 " + Hex.Format(name) + " 00 00");
    }

    [Test]
    public void ReturnsValidEmptyExtra()
    {
        using var d = Start();
        using var node = RegisterV5(d, Hex.Parse("00 10 78 12 67 48 00 00 05 00 05 00 03 66 6f 6f 00 00"), out _);
        var reply = Query(d, "00 04 7a 66 6f 6f");
        AssertHex(reply, "77 00 12 67 48 00 00 05 00 05 00 03 66 6f 6f 00 00");
    }

    [Test]
    public void ReturnsValidPopulatedExtraWithNulls()
    {
        using var d = Start();
        using var node = RegisterV5(d, Hex.Parse("00 15 78 12 67 48 00 00 05 00 05 00 03 66 6f 6f 00 05 41 42 43 00 00"), out _);
        AssertHex(Query(d, "00 04 7a 66 6f 6f"), "77 00 12 67 48 00 00 05 00 05 00 03 66 6f 6f 00 05 41 42 43 00 00");
    }

    [Test]
    public void FoundReplyEchoesRegistrationExactly()
    {
        using var d = Start();
        // The spec's example: "n6" at 0x0457, hi 6, lo 5.
        using var node = Register(d, Hex.Parse("00 0f 78 04 57 4d 00 00 06 00 05 00 02 6e 36 00 00"), out _);
        AssertHex(Query(d, "00 03 7a 6e 36"), "77 00 04 57 4d 00 00 06 00 05 00 02 6e 36 00 00");
    }

    [TestCase("ff ff", "00 05", TestName = "VersionsEchoedUnchecked(hi 65535)")]
    [TestCase("00 03", "00 09", TestName = "VersionsEchoedUnchecked(lo above hi)")]
    [TestCase("00 00", "ff ff", TestName = "VersionsEchoedUnchecked(hi 0, lo 65535)")]
    public void VersionsEchoedUnchecked(string hi, string lo)
    {
        using var d = Start();
        int hiValue = ReadU16(Hex.Parse(hi), 0);
        var frame = Hex.Parse($"00 10 78 ff ff 48 01 {hi} {lo} 00 03 66 6f 6f 00 00");
        using var node = SendAlive(d, frame, hiValue >= 6 ? 6 : 4, out var reply);
        Assert.That(reply[1], Is.EqualTo(0), $"registration failed: [{Hex.Format(reply)}]");
        AssertHex(Query(d, "00 04 7a 66 6f 6f"), $"77 00 ff ff 48 01 {hi} {lo} 00 03 66 6f 6f 00 00");
    }

    [Test]
    public void NotFound()
    {
        using var d = Start();
        using var node = Register(d, "foo");
        AssertHex(Query(d, "00 04 7a 62 61 72"), "77 01");
        AssertHex(Query(d, "00 03 7a 66 6f"), "77 01", "a prefix is not a match");
        AssertHex(Query(d, "00 05 7a 66 6f 6f 6f"), "77 01", "a longer name is not a match");
        AssertHex(Query(d, "00 04 7a 46 4f 4f"), "77 01", "the match is case-sensitive");
    }

    [Test]
    public void NotFoundAfterUnregistration()
    {
        using var d = Start();
        var node = RegisterV5(d, Hex.Parse(FooAt1042V5), out _);
        AssertHex(Query(d, "00 04 7a 66 6f 6f"), FooAt1042Reply);
        node.Dispose();
        Eventually(() => Hex.Format(Query(d, "00 04 7a 66 6f 6f")) == "77 01", "foo unregistered: 77 01");
    }

    [Test]
    public void TrailingNulIsStripped()
    {
        using var d = Start();
        using var node = RegisterV5(d, Hex.Parse(FooAt1042V5), out _);
        AssertHex(Query(d, "00 05 7a 66 6f 6f 00"), FooAt1042Reply);
        AssertHex(Query(d, "00 05 7a 62 61 72 00"), "77 01");
    }

    [TestCase("00 01 7a", TestName = "EmptyOrNulNameClosesSilently(z alone)")]
    [TestCase("00 02 7a 00", TestName = "EmptyOrNulNameClosesSilently(z NUL)")]
    [TestCase("00 04 7a 6e 00 36", TestName = "EmptyOrNulNameClosesSilently(NUL inside)")]
    [TestCase("00 06 7a 66 6f 6f 00 00", TestName = "EmptyOrNulNameClosesSilently(two trailing NULs)")]
    [TestCase("00 05 7a 00 66 6f 6f", TestName = "EmptyOrNulNameClosesSilently(leading NUL)")]
    public void EmptyOrNulNameClosesSilently(string request)
    {
        using var d = Start();
        using var node = Register(d, "foo");
        AssertSilentClose(d, request);
    }

    [TestCase("61 c0 80", TestName = "InvalidUtf8LookupClosesSilently(overlong NUL)")]
    [TestCase("61 ed a0 80", TestName = "InvalidUtf8LookupClosesSilently(surrogate)")]
    [TestCase("61 f4 90 80 80", TestName = "InvalidUtf8LookupClosesSilently(above 10FFFF)")]
    [TestCase("61 e2 82", TestName = "InvalidUtf8LookupClosesSilently(truncated)")]
    [TestCase("61 80", TestName = "InvalidUtf8LookupClosesSilently(lone continuation)")]
    [TestCase("61 ff", TestName = "InvalidUtf8LookupClosesSilently(byte ff)")]
    public void InvalidUtf8LookupClosesSilently(string name)
    {
        using var d = Start();
        AssertSilentClose(d, Hex.Frame(Hex.Cat(Hex.Parse("7a"), Hex.Parse(name))));
    }

    [TestCase(0x61, TestName = "LookupWorksUpTo254CodePoints(ASCII)")]
    [TestCase(0x1F600, TestName = "LookupWorksUpTo254CodePoints(4-byte)")]
    public void LookupWorksUpTo254CodePoints(int codePoint)
    {
        using var d = Start();
        var name254 = Chars(codePoint, 254);
        var name255 = Chars(codePoint, 255);
        using var a = Register(d, Requests.AliveRaw(name254, 1000, 6, 5, 77, 0, Array.Empty<byte>()), out _);
        using var b = Register(d, Requests.AliveRaw(name255, 2000, 6, 5, 77, 0, Array.Empty<byte>()), out _);
        AssertHex(PortPlease(d, name254),
            "77 00 03 e8 4d 00 00 06 00 05 " + Hex.Format(Hex.U16(name254.Length)) + " " + Hex.Format(name254) + " 00 00");
        // The off-by-one quirk: a 255-code-point name registers (NAMES shows it) but cannot be looked up.
        AssertSilentClose(d, Hex.Frame(Hex.Cat(Hex.Parse("7a"), name255)));
        AssertSilentClose(d, Hex.Frame(Hex.Cat(Hex.Parse("7a"), name255, Hex.Parse("00"))));
        Assert.That(Names(d), Does.StartWith("name " + System.Text.Encoding.UTF8.GetString(name255) + " at port 2000\n"));
    }

    [Test]
    public void LookupOf255CodePointsClosesSilentlyEvenWhenNotRegistered()
    {
        using var d = Start();
        AssertSilentClose(d, Hex.Frame(Hex.Cat(Hex.Parse("7a"), Repeat(Hex.Ascii("q"), 255))));
        AssertHex(PortPlease(d, Repeat(Hex.Ascii("q"), 254)), "77 01");
    }

    [Test]
    public void LargestLookupReply()
    {
        using var d = Start();
        // 254 four-byte code points (1016 bytes) and a 1020-byte extra: a 2050-byte reply (12 + 1016 + 2 + 1020).
        var name = Chars(0x10FFFF, 254);
        var extra = Hex.Cat(Enumerable.Range(0, 1020).Select(i => new[] { (byte)i }).ToArray());
        using var node = Register(d, Requests.AliveRaw(name, 65535, 6, 5, 77, 0, extra), out _);
        var reply = PortPlease(d, name);
        Assert.That(reply, Has.Length.EqualTo(2050));
        AssertHex(reply, "77 00 ff ff 4d 00 00 06 00 05 03 f8 " + Hex.Format(name) + " 03 fc " + Hex.Format(extra));
    }

    [Test]
    public void EmptyNameCannotBeLookedUp()
    {
        using var d = Start();
        using var node = Register(d, Hex.Parse("00 0e 78 03 e8 4d 00 00 06 00 05 00 00 00 01 41"), out _);
        AssertSilentClose(d, "00 01 7a");
    }

    [Test]
    public void PortPleaseOverIpv6()
    {
        Assume.That(HasIpv6Loopback(), Is.True, "::1 is absent on this host");
        using var d = Start();
        using var node = RegisterV5(d, Hex.Parse(FooAt1042V5), out _);
        AssertHex(Query(d, Hex.Parse("00 04 7a 66 6f 6f"), host: "::1"), FooAt1042Reply);
    }
}
