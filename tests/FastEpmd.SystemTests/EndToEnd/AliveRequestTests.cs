// Spec section 1.1: ALIVE2_REQ checks in server order, the v5/v6 reply forms, error replies, limits.
using static FastEpmd.SystemTests.EndToEnd.E2e;

namespace FastEpmd.SystemTests.EndToEnd;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class AliveRequestTests
{
    // ALIVE2_REQ "foobar" at port 1000, type M, proto 0, hi 5, lo 5, empty extra (as epmd_SUITE's register_node).
    private const string FoobarV5 = "00 13 78 03 e8 4d 00 00 05 00 05 00 06 66 6f 6f 62 61 72 00 00";
    private const string FoozapV5 = "00 13 78 03 e8 4d 00 00 05 00 05 00 06 66 6f 6f 7a 61 70 00 00";
    private const string FoobarV6 = "00 13 78 03 e8 4d 00 00 06 00 05 00 06 66 6f 6f 62 61 72 00 00";

    private const string ErrorV5 = "79 01 00 63";
    private const string ErrorV6 = "76 01 00 00 00 63";

    private static void AssertRegisteredV5(byte[] reply)
    {
        Assert.That(reply, Has.Length.EqualTo(4), $"[{Hex.Format(reply)}]");
        Assert.That(Hex.Format(reply.AsSpan(0, 2)), Is.EqualTo("79 00"));
        Assert.That(ReadU16(reply, 2), Is.InRange(1, 3), "a v5 creation is cr % 3 + 1");
    }

    [Test]
    public void RegisterName()
    {
        using var d = Start();
        using (var c = SendAlive(d, Hex.Parse(FoobarV5), 4, out var reply))
        {
            AssertRegisteredV5(reply);
            Assert.That(c.StaysOpenFor(TimeSpan.FromMilliseconds(300)), Is.True, "the ALIVE socket is kept open");
            AssertHex(PortPlease(d, Hex.Ascii("foobar")), "77 00 03 e8 4d 00 00 05 00 05 00 06 66 6f 6f 62 61 72 00 00");
        }
        WaitUnregistered(d, "foobar");
    }

    [Test]
    public void RegisterNameIpv6()
    {
        Assume.That(HasIpv6Loopback(), Is.True, "::1 is absent on this host");
        using var d = Start();
        using (var c = SendAlive(d, Hex.Parse(FoobarV5), 4, out var reply, host: "::1"))
        {
            AssertRegisteredV5(reply);
            Assert.That(c.StaysOpenFor(TimeSpan.FromMilliseconds(300)), Is.True);
            Assert.That(Names(d, host: "::1"), Is.EqualTo("name foobar at port 1000\n"));
        }
        WaitUnregistered(d, "foobar");
    }

    [Test]
    public void RegisterNames1()
    {
        using var d = Start();
        var c1 = SendAlive(d, Hex.Parse(FoobarV5), 4, out var r1);
        var c2 = SendAlive(d, Hex.Parse(FoozapV5), 4, out var r2);
        AssertRegisteredV5(r1);
        AssertRegisteredV5(r2);
        Assert.That(Names(d), Is.EqualTo("name foozap at port 1000\nname foobar at port 1000\n"));
        c1.Dispose();
        WaitUnregistered(d, "foobar");
        Assert.That(IsRegistered(d, "foozap"), Is.True);
        c2.Dispose();
        WaitUnregistered(d, "foozap");
        Assert.That(Names(d), Is.Empty);
    }

    [Test]
    public void RegisterNames2()
    {
        using var d = Start();
        var c1 = SendAlive(d, Hex.Parse(FoobarV5), 4, out var r1);
        var c2 = SendAlive(d, Hex.Parse(FoozapV5), 4, out var r2);
        AssertRegisteredV5(r1);
        AssertRegisteredV5(r2);
        c2.Dispose();
        WaitUnregistered(d, "foozap");
        Assert.That(IsRegistered(d, "foobar"), Is.True);
        c1.Dispose();
        WaitUnregistered(d, "foobar");
        Assert.That(Names(d), Is.Empty);
    }

    [Test]
    public void RegisterDuplicateName()
    {
        using var d = Start();
        using var owner = SendAlive(d, Hex.Parse(FoobarV5), 4, out var first);
        AssertRegisteredV5(first);
        // Same name, other port: refused, and the owner keeps its registration.
        using var dup = SendAlive(d, Hex.Parse("00 13 78 07 d0 4d 00 00 05 00 05 00 06 66 6f 6f 62 61 72 00 00"), 4, out var second);
        AssertHex(second, ErrorV5);
        Assert.That(dup.StaysOpenFor(TimeSpan.FromMilliseconds(300)), Is.True, "kept open after an error reply too");
        AssertHex(PortPlease(d, Hex.Ascii("foobar")), "77 00 03 e8 4d 00 00 05 00 05 00 06 66 6f 6f 62 61 72 00 00");
        Assert.That(owner.StaysOpenFor(TimeSpan.FromMilliseconds(100)), Is.True, "the owner is never evicted");
    }

    [Test]
    public void RegisterDuplicateNameV6ErrorReply()
    {
        using var d = Start();
        using var owner = Register(d, Hex.Parse(FoobarV6), out _);
        using var dup = SendAlive(d, Hex.Parse(FoobarV6), 6, out var reply);
        AssertHex(reply, ErrorV6);
        Assert.That(dup.StaysOpenFor(TimeSpan.FromMilliseconds(300)), Is.True);
    }

    [Test]
    public void DuplicateCheckIsCaseSensitive()
    {
        using var d = Start();
        using var a = Register(d, "foobar");
        using var b = Register(d, "FOOBAR");
        Assert.That(Names(d), Is.EqualTo("name FOOBAR at port 1000\nname foobar at port 1000\n"));
    }

    [Test]
    public void NameWithNullInside()
    {
        using var d = Start();
        AssertSilentClose(d, "00 14 78 03 e8 4d 00 00 05 00 05 00 07 66 6f 6f 00 62 61 72 00 00");
        Assert.That(Names(d), Is.Empty);
    }

    [Test]
    public void NameNullTerminated()
    {
        using var d = Start();
        AssertSilentClose(d, "00 14 78 03 e8 4d 00 00 05 00 05 00 07 66 6f 6f 62 61 72 00 00 00");
        Assert.That(Names(d), Is.Empty);
    }

    [Test]
    public void AliveReqTooSmall1()
    {
        using var d = Start();
        // Nlen = 0 and no Elen: Length 11.
        AssertSilentClose(d, "00 0b 78 03 e8 4d 00 00 05 00 05 00 00");
    }

    [Test]
    public void AliveReqTooSmall2()
    {
        using var d = Start();
        // No Nlen field: Length 9.
        AssertSilentClose(d, "00 09 78 03 e8 4d 00 00 05 00 05");
    }

    [Test]
    public void AliveReqOfExactly13BytesClosesSilently()
    {
        using var d = Start();
        // Nlen = 0, Elen = 0: Length 13, one byte short of the minimum.
        AssertSilentClose(d, "00 0d 78 03 e8 4d 00 00 06 00 05 00 00 00 00");
        Assert.That(Names(d), Is.Empty);
    }

    [Test]
    public void AliveReqNameLongerThanFrameClosesSilently()
    {
        using var d = Start();
        // Nlen = 10 but only 5 name bytes and no Elen.
        AssertSilentClose(d, "00 10 78 03 e8 4d 00 00 06 00 05 00 0a 61 62 63 64 65");
    }

    [Test]
    public void AliveReqElenFieldMissingClosesSilently()
    {
        using var d = Start();
        // Nlen = 3, name "abc", then the frame ends: Nlen + 13 > Length.
        AssertSilentClose(d, "00 0e 78 03 e8 4d 00 00 06 00 05 00 03 61 62 63");
    }

    [Test]
    public void AliveReqTooLarge()
    {
        using var d = Start();
        var frame = Hex.Frame(Hex.Cat(Hex.Parse("78 03 e8 4d 00 00 05 00 05 02 58"), Repeat(Hex.Ascii("a"), 600), Hex.Parse("00 00")));
        using var c = SendAlive(d, frame, 4, out var reply);
        AssertHex(reply, ErrorV5);
        Assert.That(c.StaysOpenFor(TimeSpan.FromMilliseconds(300)), Is.True);
        Assert.That(Names(d), Is.Empty);
    }

    // epmd_SUITE's hostile(N): "gurka" with Elen = N and no extra bytes, for N = 1..10000. Sampled.
    [Test]
    public void BufferOverrun1()
    {
        using var d = Start();
        int[] samples = { 1, 2, 3, 4, 5, 16, 100, 255, 256, 1000, 1019, 1020, 1021, 1022, 2000, 3039, 3040, 5000, 9999, 10000, 65535 };
        foreach (var n in samples)
        {
            var frame = Hex.Cat(Hex.Parse("00 12 78 12 8b 4d 00 00 05 00 05 00 05 67 75 72 6b 61"), Hex.U16(n));
            using var c = d.Connect();
            c.Send(frame);
            var r = c.ReadToEnd(Quick);
            Assert.That(r.Data, Is.Empty, $"Elen={n}: no reply expected, got [{r.HexData}]");
            Assert.That(r.Closed, Is.True, $"Elen={n}: expected a close");
        }
        Assert.That(Names(d), Is.Empty);
    }

    // epmd_SUITE's hostile2(N): Elen = N with N bytes of 0xff, N = 1020..10000. Sampled.
    [Test]
    public void BufferOverrun2()
    {
        using var d = Start();
        using (var ok = SendAlive(d, Overrun2Frame(1020), 4, out var first))
            AssertRegisteredV5(first);
        WaitUnregistered(d, "gurka");
        foreach (var n in new[] { 1021, 1022, 1100, 2048, 3000, 3039 })
        {
            // Length = 18 + N <= 3057: a reply, error 1.
            using var c = SendAlive(d, Overrun2Frame(n), 4, out var reply);
            Assert.That(Hex.Format(reply), Is.EqualTo(Norm(ErrorV5)), $"Elen={n}");
        }
        foreach (var n in new[] { 3040, 4000, 10000 })
        {
            // Length = 18 + N > 3057: closed after the header.
            using var c = d.Connect();
            try
            {
                c.Send(Overrun2Frame(n));
            }
            catch (System.Net.Sockets.SocketException)
            {
            }
            var r = c.ReadToEnd(Quick);
            Assert.That(r.Data, Is.Empty, $"Elen={n}: got [{r.HexData}]");
            Assert.That(r.Closed, Is.True, $"Elen={n}");
        }
        Assert.That(Names(d), Is.Empty);
    }

    private static byte[] Overrun2Frame(int n) =>
        Hex.Frame(Hex.Cat(Hex.Parse("78 12 8b 4d 00 00 05 00 05 00 05 67 75 72 6b 61"), Hex.U16(n), Repeat(Hex.Parse("ff"), n)));

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(4)]
    [TestCase(5)]
    public void HighestVersionBelow6GetsAlive2Resp(int hi)
    {
        using var d = Start();
        var frame = Hex.Cat(Hex.Parse("00 13 78 03 e8 4d 00"), Hex.U16(hi), Hex.Parse("00 05 00 06 66 6f 6f 62 61 72 00 00"));
        using var c = SendAlive(d, frame, 4, out var reply);
        AssertRegisteredV5(reply);
        Assert.That(c.StaysOpenFor(TimeSpan.FromMilliseconds(300)), Is.True, "no byte after the 4-byte reply, socket kept");
    }

    [TestCase(6)]
    [TestCase(7)]
    [TestCase(65535)]
    public void HighestVersion6OrMoreGetsAlive2XResp(int hi)
    {
        using var d = Start();
        var frame = Hex.Cat(Hex.Parse("00 13 78 03 e8 4d 00"), Hex.U16(hi), Hex.Parse("00 05 00 06 66 6f 6f 62 61 72 00 00"));
        long before = NowSeconds();
        using var c = SendAlive(d, frame, 6, out var reply);
        long after = NowSeconds();
        Assert.That(Hex.Format(reply.AsSpan(0, Math.Min(2, reply.Length))), Is.EqualTo("76 00"));
        Assert.That(reply, Has.Length.EqualTo(6));
        Assert.That((long)ReadU32(reply, 2), Is.InRange(before, after + 2), "creation is the registration second + 1");
        Assert.That(c.StaysOpenFor(TimeSpan.FromMilliseconds(300)), Is.True, "no byte after the 6-byte reply, socket kept");
    }

    [TestCase(0, ErrorV5)]
    [TestCase(5, ErrorV5)]
    [TestCase(6, ErrorV6)]
    [TestCase(65535, ErrorV6)]
    public void ErrorReplyFormFollowsHighestVersion(int hi, string expected)
    {
        using var d = Start();
        using var owner = Register(d, "foobar");
        var frame = Hex.Cat(Hex.Parse("00 13 78 03 e8 4d 00"), Hex.U16(hi), Hex.Parse("00 05 00 06 66 6f 6f 62 61 72 00 00"));
        using var c = SendAlive(d, frame, expected.Length / 3 + 1, out var reply);
        AssertHex(reply, expected);
        Assert.That(c.StaysOpenFor(TimeSpan.FromSeconds(1)), Is.True, "kept open after an error reply");
    }

    [Test]
    public void AliveSocketKeptOpenAfterSuccess()
    {
        using var d = Start("-packet_timeout", "1");
        using var c = Register(d, Hex.Parse(FoobarV6), out _);
        Assert.That(c.StaysOpenFor(TimeSpan.FromSeconds(3)), Is.True, "ALIVE sockets never time out");
        Assert.That(IsRegistered(d, "foobar"), Is.True);
    }

    [Test]
    public void AliveSocketKeptOpenAfterError()
    {
        using var d = Start();
        using var c = SendAlive(d, Hex.Parse("00 12 78 03 e8 4d 00 00 06 00 05 00 05 61 ed a0 80 62 00 00"), 6, out var reply);
        AssertHex(reply, ErrorV6);
        Assert.That(c.StaysOpenFor(TimeSpan.FromSeconds(1)), Is.True, "the connection is kept after an error reply");
    }

    [TestCase(255, true)]
    [TestCase(256, false)]
    [TestCase(1020, false)]
    [TestCase(1021, false)]
    public void AsciiNameLengthLimit(int length, bool accepted)
    {
        using var d = Start();
        var name = Repeat(Hex.Ascii("a"), length);
        using var c = SendAlive(d, Requests.AliveRaw(name, 1000, 6, 5, 77, 0, Array.Empty<byte>()), 6, out var reply);
        if (accepted)
        {
            Assert.That(Hex.Format(reply.AsSpan(0, 2)), Is.EqualTo("76 00"));
            Assert.That(Names(d), Is.EqualTo($"name {new string('a', length)} at port 1000\n"));
        }
        else
        {
            AssertHex(reply, ErrorV6);
            Assert.That(Names(d), Is.Empty);
        }
    }

    [TestCase(255, true, TestName = "FourByteNameLimit(255 chars, 1020 bytes)")]
    [TestCase(256, false, TestName = "FourByteNameLimit(256 chars, 1024 bytes)")]
    public void FourByteNameLimit(int chars, bool accepted)
    {
        using var d = Start();
        var name = Chars(0x1F600, chars);
        using var c = SendAlive(d, Requests.AliveRaw(name, 1000, 6, 5, 77, 0, Array.Empty<byte>()), 6, out var reply);
        if (accepted) Assert.That(Hex.Format(reply.AsSpan(0, 2)), Is.EqualTo("76 00"));
        else AssertHex(reply, ErrorV6);
    }

    [Test]
    public void MixedWidthNameOf255CodePointsAccepted()
    {
        using var d = Start();
        // 100 x 'a' + 100 x U+00E9 (2 bytes) + 55 x U+20AC (3 bytes): 255 code points, 465 bytes.
        var name = Hex.Cat(Repeat(Hex.Ascii("a"), 100), Chars(0xE9, 100), Chars(0x20AC, 55));
        using var c = SendAlive(d, Requests.AliveRaw(name, 1000, 6, 5, 77, 0, Array.Empty<byte>()), 6, out var reply);
        Assert.That(Hex.Format(reply.AsSpan(0, 2)), Is.EqualTo("76 00"));
        using var c2 = SendAlive(d, Requests.AliveRaw(Hex.Cat(name, Hex.Ascii("b")), 1000, 6, 5, 77, 0, Array.Empty<byte>()), 6, out var reply2);
        AssertHex(reply2, ErrorV6);
    }

    [TestCase(1020, true)]
    [TestCase(1021, false)]
    public void ExtraLengthLimit(int elen, bool accepted)
    {
        using var d = Start();
        var extra = Repeat(Hex.Parse("00"), elen);
        using var c = SendAlive(d, Requests.AliveRaw(Hex.Ascii("foo"), 1000, 6, 5, 77, 0, extra), 6, out var reply);
        if (accepted) Assert.That(Hex.Format(reply.AsSpan(0, 2)), Is.EqualTo("76 00"));
        else AssertHex(reply, ErrorV6);
    }

    [TestCase("c0 80", TestName = "InvalidUtf8NameGetsErrorReply(overlong NUL)")]
    [TestCase("c1 bf", TestName = "InvalidUtf8NameGetsErrorReply(overlong 2-byte)")]
    [TestCase("e0 80 af", TestName = "InvalidUtf8NameGetsErrorReply(overlong 3-byte)")]
    [TestCase("f0 80 80 af", TestName = "InvalidUtf8NameGetsErrorReply(overlong 4-byte)")]
    [TestCase("ed a0 80", TestName = "InvalidUtf8NameGetsErrorReply(surrogate D800)")]
    [TestCase("ed bf bf", TestName = "InvalidUtf8NameGetsErrorReply(surrogate DFFF)")]
    [TestCase("f4 90 80 80", TestName = "InvalidUtf8NameGetsErrorReply(above 10FFFF)")]
    [TestCase("e2 82", TestName = "InvalidUtf8NameGetsErrorReply(truncated at end)")]
    [TestCase("e2 82 62", TestName = "InvalidUtf8NameGetsErrorReply(truncated mid-name)")]
    [TestCase("80", TestName = "InvalidUtf8NameGetsErrorReply(lone continuation)")]
    [TestCase("ff", TestName = "InvalidUtf8NameGetsErrorReply(byte ff)")]
    [TestCase("f8 88 80 80 80", TestName = "InvalidUtf8NameGetsErrorReply(5-byte form)")]
    public void InvalidUtf8NameGetsErrorReply(string bad)
    {
        using var d = Start();
        var name = Hex.Cat(Hex.Ascii("a"), Hex.Parse(bad));
        using var c = SendAlive(d, Requests.AliveRaw(name, 1000, 6, 5, 77, 0, Array.Empty<byte>()), 6, out var reply);
        AssertHex(reply, ErrorV6);
        Assert.That(c.StaysOpenFor(TimeSpan.FromMilliseconds(300)), Is.True);
        Assert.That(Names(d), Is.Empty);
    }

    [Test]
    public void ValidUtf8EdgesAccepted()
    {
        using var d = Start();
        // U+007F, U+0080, U+07FF, U+0800, U+FFFF, U+10000, U+10FFFF.
        var name = Hex.Parse("7f c2 80 df bf e0 a0 80 ef bf bf f0 90 80 80 f4 8f bf bf");
        using var c = SendAlive(d, Requests.AliveRaw(name, 1000, 6, 5, 77, 0, Array.Empty<byte>()), 6, out var reply);
        Assert.That(Hex.Format(reply.AsSpan(0, 2)), Is.EqualTo("76 00"));
        AssertHex(PortPlease(d, name), "77 00 03 e8 4d 00 00 06 00 05 00 13 " + Hex.Format(name) + " 00 00");
    }

    [Test]
    public void BytesAfterExtraInsideFrameAreIgnored()
    {
        using var d = Start();
        using var c = Register(d, Hex.Parse("00 13 78 04 12 4d 00 00 06 00 05 00 03 66 6f 6f 00 01 41 de ad"), out _);
        AssertHex(PortPlease(d, Hex.Ascii("foo")), "77 00 04 12 4d 00 00 06 00 05 00 03 66 6f 6f 00 01 41");
    }

    [Test]
    public void EmptyNameAccepted()
    {
        using var d = Start();
        // Nlen = 0, Elen = 1, extra "A": Length 14.
        using var c = Register(d, Hex.Parse("00 0e 78 03 e8 4d 00 00 06 00 05 00 00 00 01 41"), out _);
        Assert.That(Names(d), Is.EqualTo("name  at port 1000\n"), "two spaces: the empty name");
    }

    [Test]
    public void NameWithSpacesAndNewlineAccepted()
    {
        using var d = Start();
        var name = Hex.Ascii("x at port 1\nname y");
        using var c = Register(d, Requests.AliveRaw(name, 1000, 6, 5, 77, 0, Array.Empty<byte>()), out _);
        Assert.That(Names(d), Is.EqualTo("name x at port 1\nname y at port 1000\n"));
    }

    [Test]
    public void NodeTypeProtocolAndVersionsNotChecked()
    {
        using var d = Start();
        // type 0x00, protocol 0x07, hi 3 < lo 9: registered and echoed as sent (hi < 6: v5 reply).
        using var c = RegisterV5(d, Hex.Parse("00 10 78 00 2a 00 07 00 03 00 09 00 03 66 6f 6f 00 00"), out _);
        AssertHex(PortPlease(d, Hex.Ascii("foo")), "77 00 00 2a 00 07 00 03 00 09 00 03 66 6f 6f 00 00");
    }
}
